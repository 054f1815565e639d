"""Referral events: clicks, shares, signups, purchases and refunds.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store._sql import chunks as _chunks
from grapevine.store.models import (
    ReferralEvent,
)

__all__ = [
    "add_event",
    "campaign_events",
    "events_by_key",
    "find_event",
    "ledger_events",
    "purchase_for_order",
    "purchases_of_order",
    "refund_of_order",
    "signup_referrer",
    "visitor_clicks",
]


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
) -> list[tuple[str, float, str | None]]:
    """The visitor's human clicks in the campaign as ``(code, time, channel)``, oldest first."""
    rows = session.execute(
        select(ReferralEvent.code, ReferralEvent.time, ReferralEvent.channel)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.visitor_id == visitor_id,
            ReferralEvent.kind == "click",
            ReferralEvent.traffic == "browser",
            ReferralEvent.code.is_not(None),
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()
    return [(str(code), float(t), channel) for code, t, channel in rows]


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


def purchases_of_order(session: Session, *, order_id: str) -> Sequence[ReferralEvent]:
    """The purchases recorded for ``order_id`` in any campaign (a payment provider's webhook
    names the payment, not the campaign), oldest first."""
    return session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.order_id == order_id, ReferralEvent.kind == "purchase")
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()


def refund_of_order(session: Session, *, campaign_id: int, order_id: str) -> ReferralEvent | None:
    """The first refund recorded for the order, or None."""
    return session.scalars(
        select(ReferralEvent)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.order_id == order_id,
            ReferralEvent.kind == "refund",
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).first()


def signup_referrer(
    session: Session, *, campaign_id: int, person_id: int
) -> tuple[int, str | None, str | None] | None:
    """``(referrer_id, code, channel)`` of the person's first referred signup in the campaign,
    or None."""
    row = session.execute(
        select(ReferralEvent.referrer_id, ReferralEvent.code, ReferralEvent.channel)
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
    return int(row[0]), row[1], row[2]


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


def events_by_key(
    session: Session, *, campaign_id: int, keys: Iterable[str]
) -> dict[str, ReferralEvent]:
    """``idempotency key -> event`` for these keys."""
    out: dict[str, ReferralEvent] = {}
    for chunk in _chunks(keys):
        for event in session.scalars(
            select(ReferralEvent).where(
                ReferralEvent.campaign_id == campaign_id,
                ReferralEvent.idempotency_key.in_(chunk),
            )
        ):
            out[event.idempotency_key] = event
    return out
