"""The figures of a referral campaign, read from its rollups: stats, leaderboard, a
participant's own figures.

Every figure here reads the rollups that :mod:`grapevine.store.rollups_repo` keeps current
in the transaction of each write, never the raw events: the cost of ``/stats`` depends on
the campaign's days, channels and referrers, not on how many clicks it has had.
:func:`rebuild_rollups` recomputes them from the events (``grapevine campaign stats
--rebuild``).

K-factor
--------
The viral coefficient of :func:`grapevine.cascades.k_factor`, with the conversion event of
the campaign (``rules.conversion_event``: ``signup``, the default, or ``purchase`` for a
shop whose conversions are purchases): adopters are the persons with that conversion and
the referrers; each adopter's invitations are their shares (their human clicks when the
campaign has no share at all); K is the referred converters per adopter. A person is
credited to one referrer, the one of their first conversion (the acquisition tree of
:mod:`grapevine.store.rollups_repo`), and generations follow that tree. The viral cycle
time is the median delay from a referrer's own first conversion to that of the persons they
referred (negative delays, a referee converting first, left out).

Every figure that has no value comes with its reason in ``reasons``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, InvalidParameter
from grapevine.store.models import Campaign, Participant
from grapevine.store.rollups_models import (
    EXCLUDED_DAY,
    NO_GENERATION,
    NO_REFERRER,
    ReferralRollup,
    ReferrerRollup,
    RewardRollup,
)
from grapevine.store.rollups_rebuild import rebuild_rollups
from grapevine.store.rollups_repo import day_sql, referrer_figures

__all__ = [
    "CONVERSION_EVENTS",
    "LEADERBOARD_METRICS",
    "CampaignStats",
    "CohortK",
    "LeaderboardEntry",
    "ParticipantStats",
    "campaign_stats",
    "conversion_event",
    "leaderboard",
    "participant_stats",
    "rebuild_rollups",
]

CONVERSION_EVENTS = ("signup", "purchase")
"""What may count as a conversion in a campaign's K-factor (``rules.conversion_event``)."""

LEADERBOARD_METRICS = {
    "signups": "signups",
    "purchases": "purchases",
    "customers": "referred_purchase_people",
    "revenue": "revenue",
    "clicks": "clicks_human",
    "shares": "shares",
    "rewards": "rewards_amount",
}
"""What a leaderboard may rank referrers by, and the rollup column of each."""

_TIME_REASON = "time outside years 1900-2099, UTC"


def conversion_event(rules: Mapping[str, Any] | None) -> str:
    """The campaign's conversion event: ``rules.conversion_event``, ``signup`` by default.

    >>> conversion_event({"conversion_event": "purchase"}), conversion_event({})
    ('purchase', 'signup')

    Raises
    ------
    BadInput
        When the rule is neither ``signup`` nor ``purchase`` (naming
        ``rules.conversion_event``).
    """
    value = (rules or {}).get("conversion_event") or "signup"
    if value not in CONVERSION_EVENTS:
        raise BadInput(
            f"must be 'signup' or 'purchase'. Got {value!r} instead.",
            field="rules.conversion_event",
        )
    return str(value)


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True)
class CohortK:
    """K of one cohort of adopters (a generation or a signup week)."""

    cohort: str
    adopters: int
    invitations: int
    signups: int
    """Persons referred by the cohort's adopters who signed up."""
    purchases: int
    """Persons referred by the cohort's adopters who bought (customers)."""
    conversions: int
    """The referred persons with the campaign's conversion event (``signups`` or
    ``purchases``)."""
    k: float | None


@dataclass(frozen=True)
class CampaignStats:
    """The figures of ``GET /api/campaigns/{id}/stats`` (:func:`campaign_stats`)."""

    campaign_id: int
    conversion_event: str
    clicks: dict[str, int]
    visitors: int
    shares: int
    signups: int
    referred_signups: int
    purchases: int
    referred_purchases: int
    refunds: int
    revenue: float
    refunded: float
    k_factor: float | None
    invitation_kind: str
    cycle_time_median_s: float | None
    cycle_time_days: float | None
    participants: int
    channels: dict[str, dict[str, int]]
    k_by_generation: list[CohortK]
    k_by_week: list[CohortK]
    tree_depth: int
    projected_customers: list[dict[str, float | None]]
    rewards: dict[str, dict[str, float]]
    excluded_events: dict[str, int]
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each figure that has no value (None, or an empty list) has none."""

    def as_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready)."""
        return asdict(self)


def campaign_stats(session: Session, *, campaign_id: int) -> CampaignStats:
    """The campaign's figures, from its rollups.

    Clicks by traffic class (only human clicks are invitations), distinct visitors (exact:
    visitor ids of human clicks), conversions and refunds, revenue, the K-factor with the
    campaign's conversion event, K by generation and by weekly cohort, the viral cycle time
    and the growth they project, participants, the referral funnel per share channel
    (``direct`` for links shared without one, ``coupon`` for coupon codes) and reward totals
    by status. The figures depend on who referred whom, never on who someone is: an erasure
    leaves them unchanged, except that the erased person's visitor ids leave the visitor
    count.

    Raises
    ------
    BadInput
        When the campaign's ``rules.conversion_event`` is invalid.
    """
    rules = session.scalar(select(Campaign.rules).where(Campaign.id == campaign_id))
    event = conversion_event(rules)
    reasons: dict[str, str] = {}
    b = ReferralRollup
    sums = [
        func.coalesce(func.sum(c), 0)
        for c in (
            b.clicks_human,
            b.clicks_bot,
            b.clicks_preview,
            b.visitors,
            b.shares,
            b.signups,
            b.purchases,
            b.refunds,
            b.revenue,
            b.refunded,
        )
    ]
    totals: dict[str, float] = dict.fromkeys(
        (
            "human bot preview visitors shares signups purchases refunds revenue refunded "
            "referred_signups referred_purchases"
        ).split(),
        0,
    )
    channels: dict[str, dict[str, int]] = {}
    excluded = 0
    excluded_day = b.day == literal_column(str(EXCLUDED_DAY))
    for channel, generation, excl, *values in session.execute(
        select(b.channel, b.generation, excluded_day, *sums)
        .where(b.campaign_id == campaign_id)
        .group_by(b.channel, b.generation, excluded_day)
    ):
        human, bot, preview, _, shares, signups, purchases, refunds, _, _ = values
        if excl:
            excluded += int(human + bot + preview + shares + signups + purchases + refunds)
            continue
        for name, value in zip(
            "human bot preview visitors shares signups purchases refunds revenue refunded".split(),
            values,
            strict=True,
        ):
            totals[name] += value
        if generation == NO_REFERRER:
            continue
        totals["referred_signups"] += signups
        totals["referred_purchases"] += purchases
        steps = channels.setdefault(
            channel, {"shares": 0, "clicks": 0, "signups": 0, "purchases": 0}
        )
        steps["shares"] += int(shares)
        steps["clicks"] += int(human)
        steps["signups"] += int(signups)
        steps["purchases"] += int(purchases)
    channels = {ch: steps for ch, steps in sorted(channels.items()) if any(steps.values())}
    invitation_kind = "share" if totals["shares"] else "click" if totals["human"] else "none"
    by_generation, on_cycles = _k_by_generation(session, campaign_id, event, invitation_kind)
    adopters = sum(c.adopters for c in by_generation) + on_cycles
    referred = sum(c.conversions for c in by_generation)
    k: float | None = referred / adopters if adopters else None
    if k is None:
        reasons["k_factor"] = f"no adopters yet: nobody has had a {event} or referred anyone"
    if on_cycles:
        reasons["k_by_generation"] = (
            f"{on_cycles} adopter(s) on a referral cycle have no generation and are left out"
        )
    by_week = _k_by_week(session, campaign_id, event, invitation_kind)
    cycle, why = _cycle_time(session, campaign_id, event)
    if why:
        reasons["cycle_time_median_s"] = reasons["cycle_time_days"] = why
    projected: list[dict[str, float | None]] = []
    if k is not None and cycle is not None and cycle > 0:
        from grapevine.cascades import projected_growth

        growth = projected_growth(k, cycle, sum(c.adopters for c in by_generation), 4)
        projected = [
            {"t_s": float(t), "cycles": float(n), "customers": _number(float(c))}
            for t, n, c in growth.itertuples(index=False)
        ]
    elif k is None:
        reasons["projected_customers"] = f"needs the K-factor: {reasons['k_factor']}"
    elif cycle is None:
        reasons["projected_customers"] = f"needs the cycle time: {why}"
    else:
        reasons["projected_customers"] = "the median cycle time is zero"
    r = RewardRollup
    rewards = {
        str(status): {"count": int(n), "amount": round(float(amount), 2)}
        for status, n, amount in session.execute(
            select(r.status, r.count, r.amount)
            .where(r.campaign_id == campaign_id, r.count > 0)
            .order_by(r.status)
        )
    }
    participants = int(
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.campaign_id == campaign_id)
        )
        or 0
    )
    return CampaignStats(
        campaign_id=campaign_id,
        conversion_event=event,
        clicks={
            "human": int(totals["human"]),
            "bot": int(totals["bot"]),
            "preview": int(totals["preview"]),
        },
        visitors=int(totals["visitors"]),
        shares=int(totals["shares"]),
        signups=int(totals["signups"]),
        referred_signups=int(totals["referred_signups"]),
        purchases=int(totals["purchases"]),
        referred_purchases=int(totals["referred_purchases"]),
        refunds=int(totals["refunds"]),
        revenue=round(float(totals["revenue"]), 2),
        refunded=round(float(totals["refunded"]), 2),
        k_factor=k,
        invitation_kind=invitation_kind,
        cycle_time_median_s=cycle,
        cycle_time_days=None if cycle is None else cycle / 86400.0,
        participants=participants,
        channels=channels,
        k_by_generation=by_generation,
        k_by_week=by_week,
        tree_depth=max((int(c.cohort) for c in by_generation if c.adopters), default=0),
        projected_customers=projected,
        rewards=rewards,
        excluded_events={_TIME_REASON: excluded} if excluded else {},
        reasons=reasons,
    )


def _adopter(event: str) -> Any:
    p = ReferrerRollup
    first = p.first_signup_at if event == "signup" else p.first_purchase_at
    return first.is_not(None) | (
        p.clicks_human + p.shares + p.signups + p.purchases + p.refunds > 0
    )


def _cohort_sums(event: str, invitation_kind: str) -> list[Any]:
    p = ReferrerRollup
    invitations: Any = p.shares if invitation_kind == "share" else p.clicks_human
    return [
        func.count(),
        func.coalesce(func.sum(invitations), 0),
        func.coalesce(func.sum(p.referred_signup_people), 0),
        func.coalesce(func.sum(p.referred_purchase_people), 0),
    ]


def _cohort(label: str, event: str, row: Any) -> CohortK:
    adopters, invitations, signups, purchases = (int(v) for v in row)
    conversions = signups if event == "signup" else purchases
    return CohortK(
        cohort=label,
        adopters=adopters,
        invitations=invitations,
        signups=signups,
        purchases=purchases,
        conversions=conversions,
        k=conversions / adopters if adopters else None,
    )


def _k_by_generation(
    session: Session, campaign_id: int, event: str, invitation_kind: str
) -> tuple[list[CohortK], int]:
    """K per generation, and how many adopters have none (on a referral cycle)."""
    p = ReferrerRollup
    out: list[CohortK] = []
    on_cycles = 0
    for generation, *row in session.execute(
        select(p.generation, *_cohort_sums(event, invitation_kind))
        .where(p.campaign_id == campaign_id, _adopter(event))
        .group_by(p.generation)
        .order_by(p.generation)
    ):
        if generation is None or generation == NO_GENERATION:
            on_cycles += int(row[0])
            continue
        out.append(_cohort(str(int(generation)), event, row))
    return out, on_cycles


def _k_by_week(
    session: Session, campaign_id: int, event: str, invitation_kind: str
) -> list[CohortK]:
    """K per weekly cohort (Monday-Sunday, UTC) of the adopters' own first conversion."""
    p = ReferrerRollup
    first = p.first_signup_at if event == "signup" else p.first_purchase_at
    day = day_sql(session.connection(), first)
    weeks: dict[int, list[int]] = {}
    for d, *row in session.execute(
        select(day, *_cohort_sums(event, invitation_kind))
        .where(p.campaign_id == campaign_id, first.is_not(None))
        .group_by(day)
    ):
        monday = int(d) - (int(d) + 3) % 7  # 1970-01-01 was a Thursday
        sums = weeks.setdefault(monday, [0, 0, 0, 0])
        for i, value in enumerate(row):
            sums[i] += int(value)
    epoch = dt.date(1970, 1, 1)
    out = []
    for monday in sorted(weeks):
        start = epoch + dt.timedelta(days=monday)
        label = f"{start.isoformat()}/{(start + dt.timedelta(days=6)).isoformat()}"
        out.append(_cohort(label, event, weeks[monday]))
    return out


def _cycle_time(session: Session, campaign_id: int, event: str) -> tuple[float | None, str]:
    """The median viral cycle (seconds) of the conversion event, or None and why."""
    p = ReferrerRollup
    cycle = p.cycle_signup_s if event == "signup" else p.cycle_purchase_s
    first = p.first_signup_at if event == "signup" else p.first_purchase_at
    mine = (p.campaign_id == campaign_id) & (cycle >= 0)
    n = int(session.scalar(select(func.count()).where(mine)) or 0)
    if n == 0:
        referred = session.scalar(
            select(func.count()).where(
                p.campaign_id == campaign_id, p.referred_by.is_not(None), first.is_not(None)
            )
        )
        if not referred:
            return None, f"no referred {event} yet"
        if session.scalar(select(func.count()).where(p.campaign_id == campaign_id, cycle < 0)):
            return None, f"every referred {event} came before the referrer's own"
        return None, f"no referred {event} whose referrer's own {event} is known"
    middle = session.scalars(
        select(cycle).where(mine).order_by(cycle).offset((n - 1) // 2).limit(2 - n % 2)
    ).all()
    return float(sum(float(v or 0.0) for v in middle) / len(middle)), ""


# ---------------------------------------------------------------------------- referrers
@dataclass(frozen=True)
class LeaderboardEntry:
    """One referrer of a leaderboard."""

    rank: int
    person_id: int
    email: str | None
    """The participant's normalised e-mail (None: a referrer who is not a participant)."""
    clicks: int
    shares: int
    signups: int
    purchases: int
    customers: int
    """Persons they referred who bought."""
    revenue: float
    rewards: float
    """What they earned and keep (void and clawed-back rewards left out)."""
    generation: int | None


def leaderboard(
    session: Session, *, campaign_id: int, by: str = "signups", limit: int = 10
) -> list[LeaderboardEntry]:
    """The campaign's top referrers by ``by`` (see :data:`LEADERBOARD_METRICS`), from the
    per-referrer rollup; ties by person id. Referrers with nothing in ``by`` are left out.

    Raises
    ------
    InvalidParameter
        When ``by`` is not a metric or ``limit`` is outside [1, 1000].
    """
    if by not in LEADERBOARD_METRICS:
        raise InvalidParameter("by", "leaderboard", f"one of {', '.join(LEADERBOARD_METRICS)}", by)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameter("limit", "leaderboard", "an int in the range [1, 1000]", limit)
    p = ReferrerRollup
    metric = p.__table__.c[LEADERBOARD_METRICS[by]]
    rows = session.execute(
        select(
            p.person_id,
            p.clicks_human,
            p.shares,
            p.signups,
            p.purchases,
            p.referred_purchase_people,
            p.revenue,
            p.rewards_amount,
            p.generation,
            Participant.email,
        )
        .outerjoin(
            Participant,
            (Participant.campaign_id == p.campaign_id) & (Participant.person_id == p.person_id),
        )
        .where(p.campaign_id == campaign_id, metric > 0)
        .order_by(metric.desc(), p.person_id)
        .limit(limit)
    ).all()
    return [
        LeaderboardEntry(
            rank=i,
            person_id=int(row.person_id),
            email=row.email,
            clicks=int(row.clicks_human),
            shares=int(row.shares),
            signups=int(row.signups),
            purchases=int(row.purchases),
            customers=int(row.referred_purchase_people),
            revenue=round(float(row.revenue), 2),
            rewards=round(float(row.rewards_amount), 2),
            generation=row.generation,
        )
        for i, row in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class ParticipantStats:
    """A participant's own figures as a referrer (their page; :func:`grapevine.store.
    rollups_repo.referrer_figures`)."""

    participant_id: int
    campaign_id: int
    person_id: int
    clicks: int
    """Human clicks on their links (bots and link previews left out)."""
    clicks_by_channel: dict[str, int]
    shares: int
    signups: int
    purchases: int
    refunds: int
    customers: int
    revenue: float
    generation: int | None


def participant_stats(session: Session, *, participant_id: int) -> ParticipantStats | None:
    """The participant's figures from the per-referrer rollups, or None when there is no
    such participant (two primary-key reads, however busy the referrer)."""
    found = session.execute(
        select(Participant.campaign_id, Participant.person_id).where(
            Participant.id == participant_id
        )
    ).first()
    if found is None:
        return None
    campaign_id, person_id = int(found[0]), int(found[1])
    figures = referrer_figures(session, campaign_id=campaign_id, person_id=person_id)
    return ParticipantStats(
        participant_id=participant_id, campaign_id=campaign_id, person_id=person_id, **figures
    )
