"""What one conversion event earned: its rewards as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from grapevine.store import rewards_repo

__all__ = ["EventReward", "event_rewards"]


@dataclass(frozen=True)
class EventReward:
    """One reward of an event: who earns how much, in which role, and its status."""

    key: str
    person_id: int | None
    role: str
    amount: float
    status: str
    available_at: float


def event_rewards(session: Session, *, campaign_id: int, event_key: str) -> tuple[EventReward, ...]:
    """The rewards the event (its idempotency key) earned, in the order created."""
    return tuple(
        EventReward(
            key=r.reward_key,
            person_id=r.person_id,
            role=r.role,
            amount=r.amount,
            status=r.status,
            available_at=r.available_at,
        )
        for r in rewards_repo.rewards_for_event(
            session, campaign_id=campaign_id, event_key=event_key
        )
    )
