"""Every query of the referral service: campaigns, codes, participants, events and rewards.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction). The rules (attribution, rewards, fraud) live in
:mod:`grapevine.referrals`; this module only reads and writes rows.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from grapevine._validation import MONEY, TIME
from grapevine.store.models import (
    Campaign,
    Erasure,
    Participant,
    Person,
    PersonLink,
    Post,
    ReferralCode,
    ReferralEvent,
    Reward,
    Tie,
)
from grapevine.store.risk_models import RiskDecisionRow

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EMAIL_PLATFORM",
    "ERASED_PLATFORM",
    "account_attributes",
    "accounts_sharing",
    "add_code",
    "add_event",
    "campaign_events",
    "campaign_record",
    "campaign_stats",
    "code_exists",
    "code_for",
    "conversions_of_referrer",
    "create_campaign",
    "erase_person",
    "events_by_key",
    "find_campaign",
    "find_campaign_by_name",
    "find_code",
    "find_event",
    "find_participant",
    "find_person_in_tenant",
    "find_risk_decision",
    "get_or_create_participant",
    "get_or_create_person",
    "held_amounts",
    "ledger_events",
    "list_campaigns",
    "participant_count",
    "person_handles",
    "person_visitors",
    "purchase_for_order",
    "purchases_of_order",
    "refund_of_order",
    "rewards_for_event",
    "risk_decisions",
    "save_rewards",
    "save_risk_decision",
    "signup_referrer",
    "tenant_counts",
    "visitor_clicks",
    "visitor_sightings",
]

EMAIL_PLATFORM = "email"
"""The ``Person.platform`` of participants and customers known by a normalised e-mail."""

ERASED_PLATFORM = "erased"
"""The ``Person.platform`` of the tombstones that stand in for erased persons."""


# ---------------------------------------------------------------------------- campaigns
def create_campaign(
    session: Session,
    *,
    tenant_id: int,
    name: str,
    goal: str | None,
    offer: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
    budget: float | None = None,
    currency: str | None = None,
) -> Campaign:
    """Add a campaign (flushed, so it has its id)."""
    campaign = Campaign(
        tenant_id=tenant_id,
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


def find_campaign(
    session: Session, *, campaign_id: int, tenant_id: int | None = None
) -> Campaign | None:
    """The campaign with this id (of ``tenant_id`` when given), or None.

    Pass the tenant whenever a caller speaks for one: another tenant's campaign is then
    the same as no campaign.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or (tenant_id is not None and campaign.tenant_id != tenant_id):
        return None
    return campaign


def find_campaign_by_name(session: Session, *, name: str, tenant_id: int) -> Campaign | None:
    """The tenant's campaign with this name, or None."""
    return session.scalars(
        select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.name == name)
    ).first()


def list_campaigns(session: Session, *, tenant_id: int) -> Sequence[Campaign]:
    """The tenant's campaigns, oldest first."""
    return session.scalars(
        select(Campaign).where(Campaign.tenant_id == tenant_id).order_by(Campaign.id)
    ).all()


def campaign_record(campaign: Campaign) -> dict[str, Any]:
    """The campaign as plain values: the fields of ``GET /api/campaigns/{id}``.

    ``destinations``, ``window_days`` and ``attribution`` come out of the stored rules
    (``attribution`` defaults to ``"last"``).
    """
    rules = campaign.rules or {}
    return {
        "id": campaign.id,
        "name": campaign.name,
        "goal": campaign.goal,
        "offer": campaign.offer,
        "destinations": list(rules.get("destinations", [])),
        "window_days": float(rules["window_days"]),
        "attribution": str(rules.get("attribution", "last")),
        "budget": campaign.budget,
        "currency": campaign.currency,
    }


def participant_count(session: Session, *, campaign_id: int) -> int:
    """How many participants the campaign has."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.campaign_id == campaign_id)
        )
        or 0
    )


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


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def campaign_stats(session: Session, *, campaign_id: int) -> dict[str, Any]:
    """The campaign's figures: clicks by traffic class, conversions, K-factor, cycle time,
    participants, the referral funnel per share channel (human clicks, referred signups and
    purchases; ``direct`` for links shared without a channel, ``coupon`` for coupon codes)
    and reward totals by status.

    Only human (browser) clicks count as invitations in the K-factor and the cycle time
    (:func:`grapevine.cascades.k_factor`, :func:`grapevine.cascades.viral_cycle_time`). The
    figures depend on who referred whom, never on who someone is: erasing a person
    (:func:`erase_person`) leaves them unchanged.
    """
    import pandas as pd

    from grapevine.cascades import k_factor, viral_cycle_time

    rows = []
    excluded: dict[str, int] = {}
    for row in campaign_events(session, campaign_id=campaign_id):
        if TIME.contains(row[4]):
            rows.append(row)
        else:  # stored before the API checked times: left out, and counted with the reason
            reason = f"time outside {TIME.expected}"
            excluded[reason] = excluded.get(reason, 0) + 1
    traffic = {"browser": 0, "bot": 0, "preview": 0}
    counts = {"signup": 0, "purchase": 0, "refund": 0}
    referred = 0
    growth: list[tuple[str | None, str | None, str, float]] = []
    for kind, tclass, referrer, person, t in rows:
        if kind == "click":
            traffic[tclass or "bot"] = traffic.get(tclass or "bot", 0) + 1
            if tclass != "browser":
                continue  # only people clicking are invitations
        else:
            counts[kind] = counts.get(kind, 0) + 1
            referred += kind == "signup" and referrer is not None
        growth.append(
            (
                None if referrer is None else str(referrer),
                None if person is None else str(person),
                kind,
                t,
            )
        )
    frame = pd.DataFrame(growth, columns=["referrer", "person", "kind", "time"])
    k = float(k_factor(frame)["k"].iloc[0]) if rows else math.nan
    cycle = float(viral_cycle_time(frame).median) if rows else math.nan
    loop = _viral_loop(frame, k=k, cycle=cycle)
    funnel: dict[str, dict[str, int]] = {}
    step = {"share": "shares", "click": "clicks", "signup": "signups", "purchase": "purchases"}
    for channel, kind, n in session.execute(
        select(ReferralEvent.channel, ReferralEvent.kind, func.count())
        .where(
            ReferralEvent.campaign_id == campaign_id,
            ReferralEvent.referrer_id.is_not(None),
            ReferralEvent.kind.in_(tuple(step)),
            (ReferralEvent.kind != "click") | (ReferralEvent.traffic == "browser"),
            ReferralEvent.time >= TIME.low,
            ReferralEvent.time < TIME.high,
        )
        .group_by(ReferralEvent.channel, ReferralEvent.kind)
    ).all():
        steps = funnel.setdefault(channel or "direct", dict.fromkeys(step.values(), 0))
        steps[step[kind]] += int(n)
    totals = session.execute(
        select(Reward.status, func.count(), func.sum(Reward.amount))
        .where(
            Reward.campaign_id == campaign_id,
            Reward.amount >= MONEY.low,
            Reward.amount <= MONEY.high,
        )
        .group_by(Reward.status)
        .order_by(Reward.status)
    ).all()
    return {
        "campaign_id": campaign_id,
        "clicks": {
            "human": traffic["browser"],
            "bot": traffic["bot"],
            "preview": traffic["preview"],
        },
        "signups": counts["signup"],
        "referred_signups": referred,
        "purchases": counts["purchase"],
        "refunds": counts["refund"],
        "k_factor": _number(k),
        "cycle_time_median_s": _number(cycle),
        "participants": participant_count(session, campaign_id=campaign_id),
        "channels": dict(sorted(funnel.items())),
        **loop,
        "excluded_events": excluded,
        "rewards": {
            str(status): {"count": int(n), "amount": round(float(total or 0.0), 2)}
            for status, n, total in totals
        },
    }


def _viral_loop(frame: pd.DataFrame, *, k: float, cycle: float) -> dict[str, Any]:
    """K per generation and per weekly cohort, the referral tree depth and the growth that K
    and the cycle time project (all from :mod:`grapevine.cascades`)."""
    from grapevine.cascades import k_factor, projected_growth

    empty: dict[str, Any] = {
        "k_by_generation": [],
        "k_by_week": [],
        "tree_depth": 0,
        "projected_customers": [],
    }
    if frame.empty:
        return empty
    out = dict(empty)
    columns = ["cohort", "adopters", "invitations", "signups", "k"]
    for key, cohort in (("k_by_generation", "generation"), ("k_by_week", "W")):
        table = k_factor(frame, cohort=cohort)[columns]
        out[key] = [
            {
                "cohort": str(row.cohort),
                "adopters": int(row.adopters),
                "invitations": int(row.invitations),
                "signups": int(row.signups),
                "k": _number(float(row.k)),
            }
            for row in table.itertuples(index=False)
            if not (isinstance(row.cohort, float) and math.isnan(row.cohort))
        ]
    generations = [int(g["cohort"]) for g in out["k_by_generation"] if g["adopters"] > 0]
    out["tree_depth"] = max(generations, default=0)
    if math.isfinite(k) and math.isfinite(cycle) and cycle > 0:
        adopters = sum(g["adopters"] for g in out["k_by_generation"])
        growth = projected_growth(k, cycle, adopters, 4)
        out["projected_customers"] = [
            {"t_s": float(t), "cycles": float(n), "customers": _number(float(c))}
            for t, n, c in growth.itertuples(index=False)
        ]
    return out


# ---------------------------------------------------------------------------- fraud signals
_CONVERSIONS = ("signup", "purchase")
_CHUNK = 500  # ids or hashes per IN (...) list


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def find_participant(session: Session, *, campaign_id: int, person_id: int) -> Participant | None:
    """The person's participation in the campaign, or None."""
    return session.scalars(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.person_id == person_id
        )
    ).first()


def person_handles(session: Session, *, person_ids: Iterable[int]) -> dict[int, str]:
    """``person id -> handle`` (the normalised e-mail of referral persons)."""
    out: dict[int, str] = {}
    for chunk in _chunks(person_ids):
        rows = session.execute(select(Person.id, Person.handle).where(Person.id.in_(chunk)))
        out.update({int(i): str(h) for i, h in rows})
    return out


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


# ---------------------------------------------------------------------------- risk decisions
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


def held_amounts(session: Session, *, campaign_id: int) -> dict[str, float]:
    """``event key -> amount`` of the campaign's rewards held for review."""
    rows = session.execute(
        select(Reward.event_key, func.sum(Reward.amount))
        .where(Reward.campaign_id == campaign_id, Reward.status == "review")
        .group_by(Reward.event_key)
    ).all()
    return {str(k): round(float(a or 0.0), 2) for k, a in rows}


# ---------------------------------------------------------------------------- erasure
def _tenant_campaigns(tenant_id: int) -> Select[Any]:
    return select(Campaign.id).where(Campaign.tenant_id == tenant_id)


def find_person_in_tenant(
    session: Session,
    *,
    tenant_id: int,
    handle: str | None = None,
    person_id: int | None = None,
) -> int | None:
    """The id of the person (by e-mail ``handle`` or id) if the tenant's referral data names
    them (participant, customer, referrer, code or reward), else None."""
    if handle is not None:
        person_id = session.scalar(
            select(Person.id).where(Person.platform == EMAIL_PLATFORM, Person.handle == handle)
        )
    if person_id is None:
        return None
    campaigns = _tenant_campaigns(tenant_id)
    named = or_(
        exists().where(Participant.person_id == person_id, Participant.campaign_id.in_(campaigns)),
        exists().where(
            or_(ReferralEvent.person_id == person_id, ReferralEvent.referrer_id == person_id),
            ReferralEvent.campaign_id.in_(campaigns),
        ),
        exists().where(
            ReferralCode.person_id == person_id, ReferralCode.campaign_id.in_(campaigns)
        ),
        exists().where(Reward.person_id == person_id, Reward.campaign_id.in_(campaigns)),
    )
    return person_id if session.scalar(select(named)) else None


def _still_named(session: Session, person_id: int) -> bool:
    """Whether anything at all (any tenant, the analytics tables) still names the person."""
    checks = (
        exists().where(Participant.person_id == person_id),
        exists().where(
            or_(ReferralEvent.person_id == person_id, ReferralEvent.referrer_id == person_id)
        ),
        exists().where(ReferralCode.person_id == person_id),
        exists().where(Reward.person_id == person_id),
        exists().where(or_(Tie.source_id == person_id, Tie.target_id == person_id)),
        exists().where(Post.author_id == person_id),
        exists().where(or_(PersonLink.person_id == person_id, PersonLink.same_as_id == person_id)),
    )
    return bool(session.scalar(select(or_(*checks))))


def erase_person(
    session: Session,
    *,
    tenant_id: int,
    person_id: int,
    ref_hash: str,
    by: str | None,
    now: float,
) -> dict[str, int]:
    """Erase one person from the tenant's referral data, keeping every aggregate figure.

    In the tenant's campaigns the person becomes a tombstone (a new ``Person`` on platform
    :data:`ERASED_PLATFORM` with a random handle): events, codes, participations and rewards
    point to it, so counts, the referral graph (K-factor, cycle time) and reward totals stay
    what they were. Identifying values go: the participant's e-mail (replaced by the
    tombstone's handle), device and payout hashes, and the IP hash, user agent and visitor
    id of the person's events and of every click made with their visitor ids. Their codes
    are disabled (their link stops working). The person row itself is deleted when nothing
    else (another tenant, the analytics tables) names it. An :class:`Erasure` row records
    ``ref_hash`` (a keyed hash of the reference, not the reference), when, by whom and the
    counts, which are returned.
    """
    campaigns = _tenant_campaigns(tenant_id)
    tomb = Person(platform=ERASED_PLATFORM, handle=f"erased-{uuid.uuid4().hex}")
    session.add(tomb)
    session.flush()
    visitors = select(ReferralEvent.visitor_id).where(
        ReferralEvent.campaign_id.in_(campaigns),
        ReferralEvent.person_id == person_id,
        ReferralEvent.visitor_id.is_not(None),
    )
    visitor_ids = [v for v in session.scalars(visitors.distinct()) if v]
    scrub = or_(ReferralEvent.person_id == person_id, ReferralEvent.visitor_id.in_(visitor_ids))
    counts: dict[str, int] = {}

    def run(name: str, statement: Any) -> None:
        result = session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)

    run(
        "events_scrubbed",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), scrub)
        .values(ip_hash=None, user_agent=None, visitor_id=None),
    )
    run(
        "events_as_person",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), ReferralEvent.person_id == person_id)
        .values(person_id=tomb.id),
    )
    run(
        "events_as_referrer",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), ReferralEvent.referrer_id == person_id)
        .values(referrer_id=tomb.id),
    )
    run(
        "participants",
        update(Participant)
        .where(Participant.campaign_id.in_(campaigns), Participant.person_id == person_id)
        .values(person_id=tomb.id, email=tomb.handle, device_hash=None, payout_hash=None),
    )
    run(
        "codes",
        update(ReferralCode)
        .where(ReferralCode.campaign_id.in_(campaigns), ReferralCode.person_id == person_id)
        .values(person_id=tomb.id, disabled_at=func.coalesce(ReferralCode.disabled_at, now)),
    )
    run(
        "rewards",
        update(Reward)
        .where(Reward.campaign_id.in_(campaigns), Reward.person_id == person_id)
        .values(person_id=tomb.id),
    )
    deleted = 0
    if not _still_named(session, person_id):
        run("person_deleted", delete(Person).where(Person.id == person_id))
        deleted = counts["person_deleted"]
    counts["person_deleted"] = deleted
    session.add(
        Erasure(tenant_id=tenant_id, person_ref_hash=ref_hash, at=now, by=by, counts=dict(counts))
    )
    session.flush()
    session.expire_all()
    return counts


def tenant_counts(session: Session, *, tenant_id: int) -> dict[str, int]:
    """How many campaigns and referral events the tenant has."""
    campaigns = _tenant_campaigns(tenant_id)
    return {
        "campaigns": int(
            session.scalar(select(func.count()).select_from(campaigns.subquery())) or 0
        ),
        "referral_events": int(
            session.scalar(
                select(func.count())
                .select_from(ReferralEvent)
                .where(ReferralEvent.campaign_id.in_(campaigns))
            )
            or 0
        ),
    }
