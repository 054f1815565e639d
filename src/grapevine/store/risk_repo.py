"""What the fraud checks read (devices, payout accounts, cookies, networks) and their decisions.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store._sql import chunks as _chunks
from grapevine.store.models import (
    Participant,
    ReferralEvent,
)
from grapevine.store.risk_models import RiskDecisionRow

__all__ = [
    "account_attributes",
    "accounts_sharing",
    "conversions_of_referrer",
    "find_risk_decision",
    "person_visitors",
    "risk_decisions",
    "save_risk_decision",
    "visitor_sightings",
]


_CONVERSIONS = ("signup", "purchase")


def person_visitors(session: Session, *, campaign_id: int, person_id: int) -> list[str]:
    """The visitor ids (attribution cookies) of the person's own signups and purchases."""
    return [
        str(v)
        for v in session.scalars(
            select(ReferralEvent.visitor_id)
            .where(
                ReferralEvent.campaign_id == campaign_id,
                ReferralEvent.person_id == person_id,
                ReferralEvent.kind.in_(_CONVERSIONS),
                ReferralEvent.visitor_id.is_not(None),
            )
            .distinct()
        )
    ]


def visitor_sightings(
    session: Session, *, campaign_id: int, visitor_ids: Iterable[str]
) -> list[tuple[str, str, str | None, float]]:
    """The human clicks of these visitors that kept an address, as
    ``(visitor_id, ip_hash, user_agent, time)``, oldest first."""
    out: list[tuple[str, str, str | None, float]] = []
    for chunk in _chunks(visitor_ids):
        rows = session.execute(
            select(
                ReferralEvent.visitor_id,
                ReferralEvent.ip_hash,
                ReferralEvent.user_agent,
                ReferralEvent.time,
            ).where(
                ReferralEvent.campaign_id == campaign_id,
                ReferralEvent.kind == "click",
                ReferralEvent.traffic == "browser",
                ReferralEvent.visitor_id.in_(chunk),
                ReferralEvent.ip_hash.is_not(None),
            )
        )
        out.extend((str(v), str(ip), ua, float(t)) for v, ip, ua, t in rows)
    out.sort(key=lambda row: row[3])
    return out


def conversions_of_referrer(
    session: Session, *, campaign_id: int, referrer_id: int
) -> list[tuple[int | None, float]]:
    """The signups and purchases credited to the referrer as ``(person_id, time)``."""
    rows = session.execute(
        select(ReferralEvent.person_id, ReferralEvent.time)
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.referrer_id == referrer_id,
            ReferralEvent.kind.in_(_CONVERSIONS),
        )
        .order_by(ReferralEvent.time, ReferralEvent.id)
    ).all()
    return [(None if p is None else int(p), float(t)) for p, t in rows]


def account_attributes(
    session: Session, *, campaign_id: int, person_ids: Iterable[int]
) -> list[tuple[int, str, str]]:
    """What links accounts in the campaign, as ``(person_id, kind, value)``.

    Kinds: ``device`` and ``payout`` (the participant's keyed hashes) and ``visitor`` (the
    attribution cookie of the person's signups and purchases). Networks are left out: a
    shared /24 (a carrier's NAT, an office) links strangers.
    """
    out: list[tuple[int, str, str]] = []
    for chunk in _chunks(person_ids):
        for pid, device, payout in session.execute(
            select(Participant.person_id, Participant.device_hash, Participant.payout_hash).where(
                Participant.campaign_id == campaign_id, Participant.person_id.in_(chunk)
            )
        ):
            if device:
                out.append((int(pid), "device", str(device)))
            if payout:
                out.append((int(pid), "payout", str(payout)))
        for owner, visitor in session.execute(
            select(ReferralEvent.person_id, ReferralEvent.visitor_id)
            .where(
                ReferralEvent.campaign_id == campaign_id,
                ReferralEvent.person_id.in_(chunk),
                ReferralEvent.kind.in_(_CONVERSIONS),
                ReferralEvent.visitor_id.is_not(None),
            )
            .distinct()
        ):
            if owner is not None:
                out.append((int(owner), "visitor", str(visitor)))
    return out


def accounts_sharing(
    session: Session,
    *,
    campaign_id: int,
    devices: Iterable[str] = (),
    payouts: Iterable[str] = (),
    visitors: Iterable[str] = (),
) -> set[int]:
    """The persons of the campaign holding any of these device or payout hashes (as
    participants) or visitor ids (on their signups and purchases)."""
    found: set[int] = set()
    for column, values in ((Participant.device_hash, devices), (Participant.payout_hash, payouts)):
        for chunk in _chunks(values):
            found.update(
                int(p)
                for p in session.scalars(
                    select(Participant.person_id).where(
                        Participant.campaign_id == campaign_id, column.in_(chunk)
                    )
                )
            )
    for chunk in _chunks(visitors):
        found.update(
            int(p)
            for p in session.scalars(
                select(ReferralEvent.person_id)
                .where(
                    ReferralEvent.campaign_id == campaign_id,
                    ReferralEvent.kind.in_(_CONVERSIONS),
                    ReferralEvent.visitor_id.in_(chunk),
                    ReferralEvent.person_id.is_not(None),
                )
                .distinct()
            )
            if p is not None
        )
    return found


def save_risk_decision(
    session: Session,
    *,
    campaign_id: int,
    event_key: str,
    kind: str,
    level: str,
    reasons: Sequence[str],
    now: float,
) -> RiskDecisionRow:
    """Record the decision about one event (flushed); an event decided before keeps its
    first decision, which is returned."""
    found = find_risk_decision(session, campaign_id=campaign_id, event_key=event_key)
    if found is not None:
        return found
    row = RiskDecisionRow(
        campaign_id=campaign_id,
        event_key=event_key,
        kind=kind,
        level=level,
        reasons=list(reasons),
        decided_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_risk_decision(
    session: Session, *, campaign_id: int, event_key: str
) -> RiskDecisionRow | None:
    """The decision about one event, or None (not assessed: no referrer)."""
    return session.scalars(
        select(RiskDecisionRow).where(
            RiskDecisionRow.campaign_id == campaign_id, RiskDecisionRow.event_key == event_key
        )
    ).first()


def risk_decisions(
    session: Session, *, campaign_id: int, levels: Iterable[str] | None = None
) -> Sequence[RiskDecisionRow]:
    """The campaign's decisions (at these ``levels`` when given), oldest first."""
    query = select(RiskDecisionRow).where(RiskDecisionRow.campaign_id == campaign_id)
    if levels is not None:
        query = query.where(RiskDecisionRow.level.in_(list(levels)))
    return session.scalars(query.order_by(RiskDecisionRow.decided_at, RiskDecisionRow.id)).all()
