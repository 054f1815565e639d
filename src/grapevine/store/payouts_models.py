"""Payouts: where each reward stands after the ledger, the batches it went out in, and the
audit of every move.

The ledger (``rewards.status``: pending, granted, review, void, clawed_back) is recomputed
from the events and says what a reward is worth; the payout of a reward is its own row here,
so a replay of the ledger never undoes an approval or a payment.

``reward_payouts (reward)``: one per reward that was approved, with its state ``approved``
(to be paid), ``exported`` (in a batch file), ``paid`` or ``failed``. ``payout_batches``: an
exported file (generic, paypal, wise) or a store-credit run. ``payout_transitions``: who
moved which reward from what to what, when, in which batch; a partial unique index allows
one ``paid`` transition per reward, so a reward cannot be paid twice even by two racing
imports.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["BATCH_FORMATS", "PAYOUT_STATES", "PayoutBatch", "PayoutTransition", "RewardPayout"]

PAYOUT_STATES = ("approved", "exported", "paid", "failed")
"""A reward's payout state once approved (before that, the ledger's status says it all)."""

BATCH_FORMATS = ("generic", "paypal", "wise", "credit")
"""What a batch went out as: a payout file of one of three formats, or store-credit coupons."""


class PayoutBatch(Base):
    """One payout file exported (or one store-credit run) of a campaign."""

    __tablename__ = "payout_batches"
    __table_args__ = (Index("ix_payout_batches_campaign", "campaign_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str | None] = mapped_column(String(3))
    count: Mapped[int] = mapped_column(default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(255))


class RewardPayout(Base):
    """The payout of one reward: approved, exported in a batch, paid or failed."""

    __tablename__ = "reward_payouts"
    __table_args__ = (Index("ix_reward_payouts_campaign_state", "campaign_id", "state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reward_id: Mapped[int] = mapped_column(
        ForeignKey("rewards.id", ondelete="CASCADE"), unique=True
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("payout_batches.id", ondelete="SET NULL")
    )
    approved_at: Mapped[float] = mapped_column(Float)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[str | None] = mapped_column(String(255))  # the payer's transaction id
    message: Mapped[str | None] = mapped_column(Text)  # why it failed


class PayoutTransition(Base):
    """One move of a reward's payout state: the audit (who, when, from, to, batch)."""

    __tablename__ = "payout_transitions"
    __table_args__ = (
        Index("ix_payout_transitions_reward", "reward_id"),
        Index(
            "ux_payout_transitions_one_paid",
            "reward_id",
            unique=True,
            sqlite_where=sql_text("to_state = 'paid'"),
            postgresql_where=sql_text("to_state = 'paid'"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    by: Mapped[str | None] = mapped_column(String(255))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("payout_batches.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
