"""The fraud decisions of the referral service: one row per assessed conversion.

Natural key ``risk_decisions (campaign, event_key)``: assessing an event twice (a retried
delivery) keeps the first decision. The review outcome (approve or reject, by whom, when,
with a note) is written on the same row, so the row is also the audit of the review.
No person ids and no e-mail addresses are kept here: the event key leads to the event, and
the reasons name the signal, never the identifying value (an erasure has nothing to scrub).
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["REVIEW_OUTCOMES", "RiskDecisionRow"]

REVIEW_OUTCOMES = ("approve", "reject")
"""What a reviewer may decide about a held event."""


class RiskDecisionRow(Base):
    """The risk of one signup or purchase (``grapevine.referrals.RiskDecision``) and its review.

    ``level`` is one of ``grapevine.referrals.RISK_LEVELS``; ``reasons`` a JSON list of
    strings; ``outcome`` is None until a reviewer decides.
    """

    __tablename__ = "risk_decisions"
    __table_args__ = (UniqueConstraint("campaign_id", "event_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    decided_at: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reviewer: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[float | None] = mapped_column(Float)
