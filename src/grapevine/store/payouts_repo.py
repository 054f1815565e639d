"""Every query of the payouts: approvals, batches, state moves and their audit.

Keyword-only functions over a Session; they flush, they never commit. A state move is a
conditional update (``WHERE state = <from>``) plus its audit row, so two racing moves of one
reward cannot both happen, and the ``ux_payout_transitions_one_paid`` index refuses a second
``paid`` transition of a reward outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grapevine.store.models import Person, Reward
from grapevine.store.payouts_models import PayoutBatch, PayoutTransition, RewardPayout

__all__ = [
    "NOT_APPROVED",
    "add_batch",
    "add_payout",
    "batch_of",
    "move",
    "payouts",
    "rewards_with_payouts",
    "transitions",
]

NOT_APPROVED = "ledger"
"""The ``from_state`` of an approval: before it, the reward had only its ledger status."""


def rewards_with_payouts(
    session: Session, *, campaign_id: int, reward_ids: Iterable[int] | None = None
) -> list[tuple[Reward, RewardPayout | None, Person | None]]:
    """The campaign's rewards (those of ``reward_ids`` when given), each with its payout
    row and its person, oldest first."""
    query = (
        select(Reward, RewardPayout, Person)
        .outerjoin(RewardPayout, RewardPayout.reward_id == Reward.id)
        .outerjoin(Person, Person.id == Reward.person_id)
        .where(Reward.campaign_id == campaign_id)
        .order_by(Reward.id)
    )
    if reward_ids is not None:
        query = query.where(Reward.id.in_(list(reward_ids)))
    return [(r, p, person) for r, p, person in session.execute(query).all()]


def add_payout(
    session: Session, *, reward: Reward, currency: str | None, by: str | None, now: float
) -> RewardPayout:
    """Approve a reward that had no payout yet (and audit it)."""
    row = RewardPayout(
        reward_id=reward.id,
        campaign_id=reward.campaign_id,
        state="approved",
        amount=reward.amount,
        currency=currency,
        approved_at=now,
        approved_by=by,
    )
    session.add(row)
    session.add(
        PayoutTransition(
            reward_id=reward.id,
            campaign_id=reward.campaign_id,
            from_state=NOT_APPROVED,
            to_state="approved",
            at=now,
            by=by,
        )
    )
    session.flush()
    return row


def move(
    session: Session,
    *,
    payout: RewardPayout,
    to_state: str,
    by: str | None,
    now: float,
    batch_id: int | None = None,
    note: str | None = None,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move ``payout`` from the state it has to ``to_state`` (and audit it); False when
    another transaction moved it first. ``values`` sets more columns of the payout."""
    before = payout.state
    done = session.execute(
        update(RewardPayout)
        .where(RewardPayout.id == payout.id, RewardPayout.state == before)
        .values(state=to_state, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        session.refresh(payout)
        return False
    session.add(
        PayoutTransition(
            reward_id=payout.reward_id,
            campaign_id=payout.campaign_id,
            from_state=before,
            to_state=to_state,
            at=now,
            by=by,
            batch_id=batch_id,
            note=note,
        )
    )
    session.flush()
    session.refresh(payout)
    return True


def add_batch(
    session: Session,
    *,
    campaign_id: int,
    format: str,
    currency: str | None,
    by: str | None,
    now: float,
) -> PayoutBatch:
    """A new, empty payout batch."""
    row = PayoutBatch(
        campaign_id=campaign_id,
        format=format,
        currency=currency,
        count=0,
        total=0.0,
        created_at=now,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return row


def batch_of(session: Session, *, campaign_id: int, batch_id: int) -> PayoutBatch | None:
    """The campaign's batch, if it is one."""
    row = session.get(PayoutBatch, batch_id)
    return row if row is not None and row.campaign_id == campaign_id else None


def payouts(
    session: Session,
    *,
    campaign_id: int,
    states: Sequence[str] | None = None,
    batch_id: int | None = None,
) -> list[tuple[RewardPayout, Reward, Person | None]]:
    """The campaign's payouts (in ``states``, of ``batch_id``), with reward and person."""
    query = (
        select(RewardPayout, Reward, Person)
        .join(Reward, Reward.id == RewardPayout.reward_id)
        .outerjoin(Person, Person.id == Reward.person_id)
        .where(RewardPayout.campaign_id == campaign_id)
        .order_by(RewardPayout.reward_id)
    )
    if states is not None:
        query = query.where(RewardPayout.state.in_(list(states)))
    if batch_id is not None:
        query = query.where(RewardPayout.batch_id == batch_id)
    return [(p, r, person) for p, r, person in session.execute(query).all()]


def transitions(
    session: Session, *, campaign_id: int, reward_id: int | None = None
) -> Sequence[PayoutTransition]:
    """The audit of the campaign's payouts (of one reward), in order."""
    query = select(PayoutTransition).where(PayoutTransition.campaign_id == campaign_id)
    if reward_id is not None:
        query = query.where(PayoutTransition.reward_id == reward_id)
    return session.scalars(query.order_by(PayoutTransition.id)).all()
