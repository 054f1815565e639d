"""Fraud decisions at conversion time, the review queue, and the rewards that follow them.

When a signup or purchase is credited to a referrer, :func:`assess` gathers what the store
knows about both sides and asks the domain checks (:mod:`grapevine.referrals`):

* :func:`~grapevine.referrals.self_referral`: the same normalised e-mail, the same device
  (the participants' device hashes, the attribution cookies of their own conversions), the
  same payout account, the same network (IP hash) with the same user-agent class within a
  window, a disposable e-mail domain of the friend;
* :func:`~grapevine.referrals.velocity_bursts` over the referrer's credited conversions;
* :func:`~grapevine.referrals.find_rings` over the accounts linked to both sides by shared
  device hashes, payout accounts or cookies (networks are left out: a shared /24 links
  strangers).

The decision is stored (:class:`~grapevine.store.risk_models.RiskDecisionRow`). Undecided
decisions at or above the campaign's ``review_threshold`` hold the event's rewards in the
ledger's ``review`` status (:func:`update_rewards`); a reviewer approves (the rewards follow
the normal hold) or rejects (they turn void, with the reviewer and note in the reason).

The thresholds are the campaign's own (:class:`RiskRules` from ``Campaign.rules``), edited
with :func:`grapevine.referrals.update_campaign` under the same checks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from grapevine._validation import MONEY, TIME, check_choice
from grapevine.errors import BadInput, Conflict, InvalidParameter, NotFound
from grapevine.referrals import _fraud as rf
from grapevine.referrals._announce import announce_rewards
from grapevine.referrals._campaign_spec import RiskRules
from grapevine.referrals._earned import EventReward, event_rewards
from grapevine.referrals._enrolment import keyed_hash
from grapevine.referrals._lookup import load_campaign
from grapevine.referrals._rewards import LedgerEvent, Offer, compute_rewards
from grapevine.store import events_repo, persons_repo, rewards_repo, risk_repo
from grapevine.store.codes_repo import find_participant
from grapevine.store.models import Campaign, ReferralEvent
from grapevine.store.risk_models import REVIEW_OUTCOMES, RiskDecisionRow

__all__ = [
    "MAX_RING_ACCOUNTS",
    "ReviewDecision",
    "ReviewEntry",
    "RiskRules",
    "assess",
    "decide",
    "mask_email",
    "review_entries",
    "risk_rules",
    "ua_class",
    "update_rewards",
]

MAX_RING_ACCOUNTS = 200
"""Accounts gathered, at most, when looking for a ring around one referral (the search
walks shared values outward from the referrer and the friend, three steps deep)."""

_RING_STEPS = 3
_PAST = {"approve": "approved", "reject": "rejected"}


def risk_rules(campaign: Campaign) -> RiskRules:
    """The campaign's :class:`RiskRules`; a bad value is a :class:`BadInput` naming it."""
    rules = campaign.rules or {}
    given = {k: rules[k] for k in RiskRules.__dataclass_fields__ if k in rules}
    try:
        return RiskRules(**given)
    except InvalidParameter as exc:
        raise BadInput(str(exc), field=f"rules.{exc.name}") from None


_OS = (
    ("android", "android"),
    ("iphone", "ios"),
    ("ipad", "ios"),
    ("cros", "chromeos"),
    ("windows", "windows"),
    ("mac os x", "macos"),
    ("macintosh", "macos"),
    ("linux", "linux"),
)
_BROWSERS = (
    ("edg", "edge"),
    ("opr/", "opera"),
    ("firefox", "firefox"),
    ("fxios", "firefox"),
    ("crios", "chrome"),
    ("chrome", "chrome"),
    ("safari", "safari"),
)


def ua_class(user_agent: str | None) -> str | None:
    """A coarse class of a user agent, ``browser/os`` (versions dropped), or None.

    Two devices on one network with the same class look like one device; the class, not
    the exact string, is compared, so that a browser update between two visits does not
    hide it.

    >>> ua_class("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
    'firefox/linux'
    >>> ua_class("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Safari")
    'safari/ios'
    >>> ua_class(None) is None
    True
    """
    ua = (user_agent or "").lower()
    if not ua.strip():
        return None
    os_name = next((name for token, name in _OS if token in ua), "other")
    browser = next((name for token, name in _BROWSERS if token in ua), "other")
    if browser == "other" and os_name == "other":
        return re.sub(r"[/\s].*", "", ua)[:32] or None
    return f"{browser}/{os_name}"


def mask_email(email: str | None) -> str | None:
    """An e-mail with the local part hidden but its first letter: ``b***@x.org``.

    >>> mask_email("bob.smith@x.org")
    'b***@x.org'
    """
    if not email or "@" not in email:
        return None if not email else "***"
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


# ---------------------------------------------------------------------------- assessment
def _cookie(visitor: str, salt: str | None) -> str:
    # A cookie compared with a participant's device hash must be hashed the same way.
    return (keyed_hash(visitor, salt) or visitor) if salt else f"visitor:{visitor}"


def _shared(a: Iterable[str], b: Iterable[str]) -> tuple[str | None, str | None]:
    sa, sb = set(a), set(b)
    common = sorted(sa & sb)
    if common:
        return common[0], common[0]
    return (min(sa) if sa else None), (min(sb) if sb else None)


Sighting = tuple[str, str | None, float]  # ip hash, user-agent class, time


def _closest(
    mine: list[Sighting], theirs: list[Sighting]
) -> tuple[Sighting | None, Sighting | None]:
    """The pair of sightings on one network closest in time, preferring one class."""
    best: tuple[tuple[int, float], Sighting, Sighting] | None = None
    for a in mine:
        for b in theirs:
            if a[0] != b[0]:
                continue
            rank = (0 if a[1] is not None and a[1] == b[1] else 1, abs(a[2] - b[2]))
            if best is None or rank < best[0]:
                best = (rank, a, b)
    if best is None:
        return (mine[0] if mine else None), (theirs[0] if theirs else None)
    return best[1], best[2]


def _sightings(session: Session, campaign_id: int, visitors: Iterable[str]) -> list[Sighting]:
    return [
        (ip, ua_class(ua), t)
        for _, ip, ua, t in risk_repo.visitor_sightings(
            session, campaign_id=campaign_id, visitor_ids=visitors
        )
    ]


def _ring_decision(
    session: Session, campaign_id: int, referrer: int, friend: int, salt: str | None
) -> rf.RiskDecision:
    """The ring (accounts connected by shared devices, payout accounts or cookies) holding
    both the referrer and the friend, if any."""
    seen: set[int] = set()
    frontier = {referrer, friend}
    rows: list[tuple[str, str, str]] = []
    for _ in range(_RING_STEPS):
        frontier -= seen
        if not frontier or len(seen) >= MAX_RING_ACCOUNTS:
            break
        seen |= frontier
        found = risk_repo.account_attributes(session, campaign_id=campaign_id, person_ids=frontier)
        by_kind: dict[str, set[str]] = {"device": set(), "payout": set(), "visitor": set()}
        for pid, kind, value in found:
            by_kind[kind].add(value)
            # A cookie is a device id (hashed like the participants' device ids).
            value = _cookie(value, salt) if kind == "visitor" else value
            rows.append((str(pid), "device" if kind == "visitor" else kind, value))
        frontier = risk_repo.accounts_sharing(
            session,
            campaign_id=campaign_id,
            devices=by_kind["device"],
            payouts=by_kind["payout"],
            visitors=by_kind["visitor"],
        )
        room = MAX_RING_ACCOUNTS - len(seen)
        frontier = set(sorted(frontier - seen)[: max(room, 0)])
    pair = {str(referrer), str(friend)}
    rings = [
        r
        for r in rf.find_rings(rows, referrals=[(str(referrer), str(friend))])
        if pair <= set(r.accounts)
    ]
    return rf.combine(
        *(
            rf.RiskDecision(
                r.decision.risk, tuple(f"ring of linked accounts: {x}" for x in r.decision.reasons)
            )
            for r in rings
        )
    )


def _velocity(
    session: Session, campaign_id: int, referrer: int, when: float, rules: RiskRules
) -> rf.RiskDecision:
    first: dict[int | None, float] = {}
    for person, t in risk_repo.conversions_of_referrer(
        session, campaign_id=campaign_id, referrer_id=referrer
    ):
        first.setdefault(person, t)  # one friend counts once (signup, then purchase)
    bursts = rf.velocity_bursts(
        [(referrer, t) for t in first.values()],
        window_seconds=rules.velocity_window_seconds,
        limit=rules.velocity_limit,
    )
    hits = [b for b in bursts if b.start <= when <= b.end]
    return rf.combine(
        *(
            rf.RiskDecision(
                b.decision.risk, tuple(f"referrer's conversions: {r}" for r in b.decision.reasons)
            )
            for b in hits
        )
    )


def _scrub(reason: str) -> str:
    # The decision is stored and shown: keep the signal, not the address.
    return re.sub(r"^same normalised e-mail \S+", "same normalised e-mail", reason)


def assess(
    session: Session,
    *,
    campaign: Campaign,
    event: ReferralEvent,
    salt: str | None,
    now: float | None = None,
) -> RiskDecisionRow | None:
    """Assess one referred signup or purchase and store the decision (flushed).

    Returns None (nothing stored) for an event without a referrer or a person. ``salt`` is
    the service secret the participants' device hashes were made with
    (``GRAPEVINE_IP_SALT``); without it cookies are still compared with each other, not
    with device hashes.
    """
    if event.referrer_id is None or event.person_id is None:
        return None
    rules = risk_rules(campaign)
    cid, referrer, friend = campaign.id, int(event.referrer_id), int(event.person_id)
    handles = persons_repo.person_handles(session, person_ids=(referrer, friend))
    ref_part = find_participant(session, campaign_id=cid, person_id=referrer)
    friend_part = find_participant(session, campaign_id=cid, person_id=friend)
    ref_visitors = set(risk_repo.person_visitors(session, campaign_id=cid, person_id=referrer))
    friend_visitors = set(risk_repo.person_visitors(session, campaign_id=cid, person_id=friend))
    if event.visitor_id:
        friend_visitors.add(event.visitor_id)
    ref_devices = {_cookie(v, salt) for v in ref_visitors}
    friend_devices = {_cookie(v, salt) for v in friend_visitors}
    if ref_part is not None and ref_part.device_hash:
        ref_devices.add(ref_part.device_hash)
    if friend_part is not None and friend_part.device_hash:
        friend_devices.add(friend_part.device_hash)
    ref_device, friend_device = _shared(ref_devices, friend_devices)
    ref_seen, friend_seen = _closest(
        _sightings(session, cid, ref_visitors - friend_visitors),
        _sightings(session, cid, friend_visitors - ref_visitors),
    )
    ref_email = ref_part.email if ref_part is not None else handles.get(referrer)
    identities = [
        rf.Identity(
            person=str(person),
            email=email if email and "@" in email else None,
            device_id=device,
            payout=None if part is None else part.payout_hash,
            ip_hash=None if seen is None else seen[0],
            user_agent=None if seen is None else seen[1],
            time=None if seen is None else seen[2],
        )
        for person, email, device, part, seen in (
            (referrer, ref_email, ref_device, ref_part, ref_seen),
            (friend, handles.get(friend), friend_device, friend_part, friend_seen),
        )
    ]
    decision = rf.combine(
        rf.self_referral(*identities, window_seconds=rules.ip_window_seconds),
        _velocity(session, cid, referrer, float(event.time), rules),
        _ring_decision(session, cid, referrer, friend, salt),
    )
    return risk_repo.save_risk_decision(
        session,
        campaign_id=cid,
        event_key=event.idempotency_key,
        kind=event.kind,
        level=decision.risk,
        reasons=[_scrub(r) for r in decision.reasons],
        now=time.time() if now is None else now,
    )


# ---------------------------------------------------------------------------- rewards
def _held(row: RiskDecisionRow, rules: RiskRules) -> bool:
    return rf.RiskDecision(row.level).at_least(rules.review_threshold) and row.level != "none"


def update_rewards(session: Session, *, campaign: Campaign, now: float) -> None:
    """Replay the campaign's purchases and refunds into its rewards, with the reviews.

    Undecided decisions at or above the threshold hold their event's rewards (``review``);
    an approved event is granted as any other; a rejected one is replayed as if refunded at
    once (so it frees the caps and budget and never counts towards a milestone), and its
    rewards are stored ``void`` with the reviewer and note in the reason. A purchase with a
    ``reward_note`` (recorded while the campaign was paused, or after it ended) earns
    nothing and is left out; refunds always count, so rewards earned before keep their
    lifecycle.
    """
    if not campaign.offer:
        return
    offer = Offer.from_dict(campaign.offer)
    rules = risk_rules(campaign)
    review: dict[str, str] = {}
    rejected: dict[str, RiskDecisionRow] = {}
    for row in risk_repo.risk_decisions(session, campaign_id=campaign.id):
        if row.outcome == "reject":
            rejected[row.event_key] = row
        elif row.outcome is None and _held(row, rules):
            review[row.event_key] = f"{row.level} risk: {'; '.join(row.reasons) or 'no signal'}"
    ledger: list[LedgerEvent] = []
    for e in events_repo.ledger_events(session, campaign_id=campaign.id):
        if not (TIME.contains(e.time) and (e.value is None or MONEY.contains(e.value))):
            continue  # stored before the API checked its domains: it earns nothing
        if e.kind == "purchase" and e.reward_note:
            continue  # a conversion of a paused or ended campaign: it earns nothing
        item = LedgerEvent(
            key=e.idempotency_key,
            kind=e.kind,
            time=e.time,
            person=str(e.person_id),
            order_id=e.order_id or e.idempotency_key,
            referrer=None if e.referrer_id is None else str(e.referrer_id),
            value=e.value or 0.0,
        )
        ledger.append(item)
        if e.kind == "purchase" and e.idempotency_key in rejected:
            ledger.append(
                LedgerEvent(f"{item.key}:rejected", "refund", item.time, item.person, item.order_id)
            )
    for key in rejected:
        review.setdefault(key, "rejected")  # never active, even for a moment
    rewards = compute_rewards(ledger, offer, now=now, review=review)
    stored = []
    for r in rewards:
        status, reason = r.status, r.reason
        decided = rejected.get(r.event_key)
        if decided is not None:
            status = "void"
            what = reason.split(";", 1)[0]
            reason = f"{what}; rejected in review by {decided.reviewer}" + (
                f": {decided.note}" if decided.note else ""
            )
        stored.append(
            {
                "reward_key": r.key,
                "event_key": r.event_key,
                "person_id": int(r.person) if r.person.isdigit() else None,
                "role": r.role,
                "amount": r.amount,
                "order_id": r.order_id,
                "earned_at": r.earned_at,
                "available_at": r.available_at,
                "status": status,
                "reason": reason,
            }
        )
    rewards_repo.save_rewards(session, campaign_id=campaign.id, rewards=stored)


# ---------------------------------------------------------------------------- review queue
@dataclass(frozen=True)
class ReviewEntry:
    """One held event of the review queue (e-mails masked)."""

    event_key: str
    kind: str
    time: float
    order_id: str | None
    value: float | None
    referrer_id: int | None
    referrer: str | None
    friend_id: int | None
    friend: str | None
    amount: float
    risk: str
    reasons: tuple[str, ...]
    decided_at: float

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready values."""
        return {**self.__dict__, "reasons": list(self.reasons)}


def review_entries(
    session: Session, *, campaign_id: int, tenant_id: int | None = None
) -> list[ReviewEntry]:
    """The campaign's events waiting for a reviewer, oldest decision first.

    Raises :class:`~grapevine.errors.CampaignNotFound` when the campaign is not there (for
    ``tenant_id``).
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    rules = risk_rules(campaign)
    rows = [
        r
        for r in risk_repo.risk_decisions(session, campaign_id=campaign.id)
        if r.outcome is None and _held(r, rules)
    ]
    events = events_repo.events_by_key(
        session, campaign_id=campaign.id, keys=[r.event_key for r in rows]
    )
    people = {p for e in events.values() for p in (e.referrer_id, e.person_id) if p is not None}
    handles = persons_repo.person_handles(session, person_ids=people)
    held = rewards_repo.held_amounts(session, campaign_id=campaign.id)
    out = []
    for row in rows:
        event = events.get(row.event_key)
        if event is None:  # pragma: no cover - decisions are written with their event
            continue
        out.append(
            ReviewEntry(
                event_key=row.event_key,
                kind=event.kind,
                time=float(event.time),
                order_id=event.order_id,
                value=event.value,
                referrer_id=event.referrer_id,
                referrer=mask_email(handles.get(event.referrer_id or -1)),
                friend_id=event.person_id,
                friend=mask_email(handles.get(event.person_id or -1)),
                amount=held.get(row.event_key, 0.0),
                risk=row.level,
                reasons=tuple(row.reasons),
                decided_at=float(row.decided_at),
            )
        )
    return out


@dataclass(frozen=True)
class ReviewDecision:
    """A reviewer's decision about a held event, and the event's rewards after it.

    ``changed`` is false when the same outcome had been given before (nothing changed).
    """

    event_key: str
    outcome: str
    reviewer: str
    note: str | None
    reviewed_at: float
    risk: str
    reasons: tuple[str, ...]
    changed: bool
    rewards: tuple[EventReward, ...]


def decide(
    session: Session,
    *,
    campaign_id: int,
    event_key: str,
    outcome: str,
    reviewer: str,
    note: str | None = None,
    tenant_id: int | None = None,
    now: float | None = None,
) -> ReviewDecision:
    """Approve or reject a held event and recompute the rewards (flushed, not committed).

    The same outcome again changes nothing (``changed`` false). An approval queues
    ``reward.earned`` for each reward it releases (through the outbox, in this transaction;
    once per reward, :func:`grapevine.referrals._announce.announce_rewards`).

    Raises
    ------
    CampaignNotFound
        No such campaign (for ``tenant_id``).
    NotFound
        The event has no risk decision (``what`` is ``"risk decision"``).
    Conflict
        The event is not held (below the threshold), or was decided the other way (a
        review is final).
    InvalidParameter
        ``outcome`` is not approve or reject.
    """
    check_choice(outcome, "outcome", "review", REVIEW_OUTCOMES)
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    row = risk_repo.find_risk_decision(session, campaign_id=campaign.id, event_key=event_key)
    if row is None:
        raise NotFound("risk decision", event_key, f"no risk decision for event {event_key!r}")
    changed = row.outcome != outcome
    if changed:
        if row.outcome is not None:
            raise Conflict(
                f"event {event_key!r} was already {_PAST[row.outcome]} by {row.reviewer}; "
                "a review is final",
                what="review",
                state=row.outcome,
            )
        if not _held(row, risk_rules(campaign)):
            raise Conflict(
                f"event {event_key!r} is not held for review (risk {row.level})",
                what="review",
                state=row.level,
            )
        when = time.time() if now is None else now
        row.outcome, row.reviewer, row.note, row.reviewed_at = outcome, reviewer, note, when
        session.flush()
        update_rewards(session, campaign=campaign, now=when)
        if outcome == "approve":  # the rewards it released are earned now
            announce_rewards(session, campaign=campaign, event_key=row.event_key, now=when)
    return ReviewDecision(
        event_key=row.event_key,
        outcome=str(row.outcome),
        reviewer=str(row.reviewer),
        note=row.note,
        reviewed_at=float(row.reviewed_at or 0.0),
        risk=row.level,
        reasons=tuple(row.reasons),
        changed=changed,
        rewards=event_rewards(session, campaign_id=campaign.id, event_key=event_key),
    )
