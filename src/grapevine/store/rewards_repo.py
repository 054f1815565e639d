"""The reward ledger's rows: what each event earned, and its status.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grapevine.store.models import (
    Reward,
)

__all__ = [
    "held_amounts",
    "rewards_for_event",
    "save_rewards",
]


_REWARD_FIELDS = (
    "event_key",
    "person_id",
    "role",
    "amount",
    "order_id",
    "earned_at",
    "available_at",
    "status",
    "reason",
)


def save_rewards(
    session: Session, *, campaign_id: int, rewards: Iterable[Mapping[str, Any]]
) -> int:
    """Upsert the ledger's rewards by ``reward_key``; return how many were new.

    Each mapping holds ``reward_key`` and the :class:`Reward` columns. A reward already stored
    gets its status, amount and reason updated (a refund voids or claws back).
    """
    existing = {
        r.reward_key: r
        for r in session.scalars(select(Reward).where(Reward.campaign_id == campaign_id))
    }
    new = 0
    for item in rewards:
        row = existing.get(item["reward_key"])
        values = {name: item[name] for name in _REWARD_FIELDS}
        if row is None:
            session.add(Reward(campaign_id=campaign_id, reward_key=item["reward_key"], **values))
            new += 1
        else:
            for name, value in values.items():
                setattr(row, name, value)
    session.flush()
    return new


def rewards_for_event(session: Session, *, campaign_id: int, event_key: str) -> Sequence[Reward]:
    """The rewards earned by one event (its idempotency key), in the order created."""
    return session.scalars(
        select(Reward)
        .where(Reward.campaign_id == campaign_id, Reward.event_key == event_key)
        .order_by(Reward.id)
    ).all()


def held_amounts(session: Session, *, campaign_id: int) -> dict[str, float]:
    """``event key -> amount`` of the campaign's rewards held for review."""
    rows = session.execute(
        select(Reward.event_key, func.sum(Reward.amount))
        .where(Reward.campaign_id == campaign_id, Reward.status == "review")
        .group_by(Reward.event_key)
    ).all()
    return {str(k): round(float(a or 0.0), 2) for k, a in rows}
