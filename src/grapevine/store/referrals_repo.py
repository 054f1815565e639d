"""Every query of the referral service: campaigns, codes, participants, events and rewards.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction). The rules (attribution, rewards, fraud) live in
:mod:`grapevine.referrals`; this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store.models import (
    Campaign,
    Participant,
    Person,
    ReferralCode,
    ReferralEvent,
    Reward,
)

__all__ = [
    "EMAIL_PLATFORM",
    "add_code",
    "add_event",
    "campaign_events",
    "code_exists",
    "code_for",
    "create_campaign",
    "find_campaign",
    "find_campaign_by_name",
    "find_code",
    "find_event",
    "get_or_create_participant",
    "get_or_create_person",
    "ledger_events",
    "purchase_for_order",
    "rewards_for_event",
    "save_rewards",
    "signup_referrer",
    "visitor_clicks",
]

EMAIL_PLATFORM = "email"
"""The ``Person.platform`` of participants and customers known by a normalised e-mail."""


# ---------------------------------------------------------------------------- campaigns
def create_campaign(
    session: Session,
    *,
    name: str,
    goal: str | None,
    offer: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
    budget: float | None = None,
    currency: str | None = None,
) -> Campaign:
    """Add a campaign (flushed, so it has its id)."""
    campaign = Campaign(
        name=name,
        goal=goal,
        offer=dict(offer) if offer is not None else None,
        rules=dict(rules),
        budget=budget,
        currency=currency,
    )
    session.add(campaign)
    session.flush()
    return campaign


def find_campaign(session: Session, *, campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return session.get(Campaign, campaign_id)


def find_campaign_by_name(session: Session, *, name: str) -> Campaign | None:
    """The campaign with this name, or None."""
    return session.scalars(select(Campaign).where(Campaign.name == name)).first()


# ---------------------------------------------------------------------------- people
def get_or_create_person(session: Session, *, platform: str, handle: str) -> Person:
    """The person ``(platform, handle)``, added when new."""
    person = session.scalars(
        select(Person).where(Person.platform == platform, Person.handle == handle)
    ).first()
    if person is None:
        person = Person(platform=platform, handle=handle)
        session.add(person)
        session.flush()
    return person


def get_or_create_participant(
    session: Session,
    *,
    campaign_id: int,
    person_id: int,
    email: str,
    now: float,
    device_hash: str | None = None,
    payout_hash: str | None = None,
) -> tuple[Participant, bool]:
    """The person's participation in the campaign and whether it is new.

    Hashes given for an existing participant fill in the ones it lacks.
    """
    found = session.scalars(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.person_id == person_id
        )
    ).first()
    if found is not None:
        found.device_hash = found.device_hash or device_hash
        found.payout_hash = found.payout_hash or payout_hash
        return found, False
    participant = Participant(
        campaign_id=campaign_id,
        person_id=person_id,
        email=email,
        device_hash=device_hash,
        payout_hash=payout_hash,
        created_at=now,
    )
    session.add(participant)
    session.flush()
    return participant, True


# ---------------------------------------------------------------------------- codes
def code_for(session: Session, *, campaign_id: int, person_id: int) -> ReferralCode | None:
    """The person's active code in the campaign, or None."""
    return session.scalars(
        select(ReferralCode)
        .where(
            ReferralCode.campaign_id == campaign_id,
            ReferralCode.person_id == person_id,
            ReferralCode.disabled_at.is_(None),
        )
        .order_by(ReferralCode.id)
    ).first()


def code_exists(session: Session, *, code: str) -> bool:
    """Whether ``code`` (normalised) was ever issued, in any campaign."""
    return session.scalar(select(ReferralCode.id).where(ReferralCode.code == code)) is not None


def add_code(
    session: Session, *, code: str, campaign_id: int, person_id: int, now: float
) -> ReferralCode:
    """Issue ``code``; the unique index refuses a duplicate (IntegrityError at flush)."""
    row = ReferralCode(code=code, campaign_id=campaign_id, person_id=person_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def find_code(session: Session, *, code: str) -> ReferralCode | None:
    """The active code ``code`` (normalised), or None (unknown or disabled)."""
    return session.scalars(
        select(ReferralCode).where(ReferralCode.code == code, ReferralCode.disabled_at.is_(None))
    ).first()


# ---------------------------------------------------------------------------- events
def find_event(session: Session, *, campaign_id: int, idempotency_key: str) -> ReferralEvent | None:
    """The event recorded under this idempotency key, or None."""
    return session.scalars(
        select(ReferralEvent).where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.idempotency_key == idempotency_key,
        )
    ).first()


def add_event(
    session: Session, *, campaign_id: int, kind: str, time: float, **fields: Any
) -> ReferralEvent:
    """Record an event (flushed). ``fields`` are other :class:`ReferralEvent` columns;
    ``idempotency_key`` is required and unique within the campaign."""
    event = ReferralEvent(campaign_id=campaign_id, kind=kind, time=time, **fields)
    session.add(event)
    session.flush()
    return event


def visitor_clicks(
    session: Session, *, campaign_id: int, visitor_id: str
) -> list[tuple[str, float]]:
    """The visitor's human clicks in the campaign as ``(code, time)``, oldest first."""
    rows = session.execute(
        select(ReferralEvent.code, ReferralEvent.time)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.visitor_id == visitor_id,
            ReferralEvent.kind == "click",
            ReferralEvent.traffic == "browser",
            ReferralEvent.code.is_not(None),
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()
    return [(str(code), float(t)) for code, t in rows]


def purchase_for_order(
    session: Session, *, campaign_id: int, order_id: str
) -> ReferralEvent | None:
    """The purchase event of an order, or None."""
    return session.scalars(
        select(ReferralEvent)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.order_id == order_id,
            ReferralEvent.kind == "purchase",
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).first()


def signup_referrer(
    session: Session, *, campaign_id: int, person_id: int
) -> tuple[int, str | None] | None:
    """``(referrer_id, code)`` of the person's first referred signup in the campaign, or None."""
    row = session.execute(
        select(ReferralEvent.referrer_id, ReferralEvent.code)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.person_id == person_id,
            ReferralEvent.kind == "signup",
            ReferralEvent.referrer_id.is_not(None),
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), row[1]


def ledger_events(session: Session, *, campaign_id: int) -> Sequence[ReferralEvent]:
    """The campaign's purchases and refunds in time order (the reward ledger's input)."""
    return session.scalars(
        select(ReferralEvent)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.kind.in_(("purchase", "refund")),
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()


def campaign_events(
    session: Session, *, campaign_id: int
) -> list[tuple[str, str | None, int | None, int | None, float]]:
    """Every event of the campaign as ``(kind, traffic, referrer_id, person_id, time)``."""
    rows = session.execute(
        select(
            ReferralEvent.kind,
            ReferralEvent.traffic,
            ReferralEvent.referrer_id,
            ReferralEvent.person_id,
            ReferralEvent.time,
        )
        .where(ReferralEvent.campaign_id == campaign_id)
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()
    return [(k, tr, r, p, float(t)) for k, tr, r, p, t in rows]


# ---------------------------------------------------------------------------- rewards
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
