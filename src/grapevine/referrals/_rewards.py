"""Offers and rewards: a double-sided offer, milestones, caps, a hold period and clawbacks.

:class:`RewardLedger` replays an ordered list of purchase and refund events into rewards. It
is pure (no clock, no database): the caller passes ``now`` to read statuses, and an
idempotency key on every event, so delivering an event twice never pays twice.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grapevine._validation import MONEY, check_choice, check_number
from grapevine.errors import BadInput, InvalidParameter

__all__ = [
    "Incentive",
    "LedgerEvent",
    "Offer",
    "Reward",
    "RewardLedger",
    "Tier",
    "compute_rewards",
]

_INCENTIVE_KINDS = ("percent", "fixed")
_EVENT_KINDS = ("purchase", "refund")
_DAY = 86400.0
_MAX_HOLD = 3650 * _DAY  # ten years


def _cents(x: float) -> float:
    return round(x + 0.0, 2)


@dataclass(frozen=True)
class Incentive:
    """One side of an offer: a percentage of the order or a fixed amount.

    Attributes
    ----------
    kind : {"percent", "fixed"}
    amount : float
        The percentage (0-100) or the fixed amount in the campaign's currency.
    max_amount : float, optional
        Upper bound of a percentage reward.

    Examples
    --------
    >>> Incentive("percent", 10, max_amount=15).value(80.0), Incentive("fixed", 5).value(80.0)
    (8.0, 5.0)
    """

    kind: str
    amount: float
    max_amount: float | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", "Incentive", _INCENTIVE_KINDS)
        if self.kind == "percent":
            check_number(self.amount, "amount", "Incentive", low=0, high=100.0)
        else:
            MONEY.check(self.amount, "amount", "Incentive")
        if self.max_amount is not None:
            MONEY.check(self.max_amount, "max_amount", "Incentive")

    def value(self, order_value: float) -> float:
        """The reward earned by an order of ``order_value``, rounded to cents."""
        v = float(self.amount) if self.kind == "fixed" else order_value * (self.amount / 100.0)
        if self.max_amount is not None:
            v = min(v, float(self.max_amount))
        return _cents(max(v, 0.0))


@dataclass(frozen=True)
class Tier:
    """A milestone: a one-off ``bonus`` when a referrer reaches ``referrals`` qualified ones."""

    referrals: int
    bonus: float

    def __post_init__(self) -> None:
        check_number(self.referrals, "referrals", "Tier", kind=numbers.Integral, low=1)
        MONEY.check(self.bonus, "bonus", "Tier")


@dataclass(frozen=True)
class Offer:
    """A double-sided referral offer and its limits.

    Attributes
    ----------
    referrer, friend : Incentive
        What the referrer and the referred friend earn per qualifying purchase.
    tiers : tuple of Tier
        Milestone bonuses for the referrer.
    hold_seconds : float
        Time from the purchase until its rewards are granted (default 14 days: past the
        usual refund window). A refund during the hold voids them; after it, claws them back.
    max_referrals_per_referrer : int, optional
        Rewarded referrals per referrer (a refunded one frees its slot).
    max_amount_per_person : float, optional
        Total a person may earn from the campaign, over all roles.
    budget : float, optional
        Total the campaign may commit, over everyone.
    min_order_value : float
        Purchases below it do not qualify.
    """

    referrer: Incentive
    friend: Incentive
    tiers: tuple[Tier, ...] = ()
    hold_seconds: float = 14 * _DAY
    max_referrals_per_referrer: int | None = None
    max_amount_per_person: float | None = None
    budget: float | None = None
    min_order_value: float = 0.0

    def __post_init__(self) -> None:
        owner = "Offer"
        for name in ("referrer", "friend"):
            if not isinstance(getattr(self, name), Incentive):
                raise InvalidParameter(name, owner, "an Incentive", getattr(self, name))
        object.__setattr__(self, "tiers", tuple(sorted(self.tiers, key=lambda t: t.referrals)))
        check_number(self.hold_seconds, "hold_seconds", owner, low=0, high=_MAX_HOLD)
        MONEY.check(self.min_order_value, "min_order_value", owner)
        if self.max_referrals_per_referrer is not None:
            check_number(
                self.max_referrals_per_referrer,
                "max_referrals_per_referrer",
                owner,
                kind=numbers.Integral,
                low=0,
            )
        for name in ("max_amount_per_person", "budget"):
            if getattr(self, name) is not None:
                MONEY.check(getattr(self, name), name, owner)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Offer:
        """Build an offer from JSON (``Campaign.offer``), e.g.

        >>> Offer.from_dict({"referrer": {"kind": "fixed", "amount": 10},
        ...                  "friend": {"kind": "percent", "amount": 20},
        ...                  "tiers": [{"referrals": 5, "bonus": 50}], "budget": 1000}).budget
        1000
        """
        try:
            kw = dict(data)
            kw["referrer"] = Incentive(**kw["referrer"])
            kw["friend"] = Incentive(**kw["friend"])
            kw["tiers"] = tuple(Tier(**t) for t in kw.get("tiers", ()))
            return cls(**kw)
        except (KeyError, TypeError) as exc:
            raise BadInput(f"not an offer: {exc}", field="offer") from None


@dataclass(frozen=True)
class LedgerEvent:
    """A purchase or a refund, as the ledger needs it.

    Attributes
    ----------
    key : str
        Idempotency key: the same key twice is one event.
    kind : {"purchase", "refund"}
    time : float
        Unix seconds.
    person : str
        Who bought (the friend) or was refunded.
    order_id : str
        The order; a refund names the order it refunds (in full).
    referrer : str, optional
        Whose code or link the purchase is attributed to (None: organic).
    value : float
        Order value (purchases).
    """

    key: str
    kind: str
    time: float
    person: str
    order_id: str
    referrer: str | None = None
    value: float = 0.0

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", "LedgerEvent", _EVENT_KINDS)
        if not isinstance(self.key, str) or not self.key:
            raise BadInput("an event needs a non-empty idempotency key", field="key")
        for name in ("time", "value"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
                raise BadInput(f"{name} must be a finite number, not {v!r}", field=name)
        problem = MONEY.problem(self.value)
        if problem is not None:
            raise BadInput(problem, field="value")


@dataclass(frozen=True)
class Reward:
    """One reward and where it stands.

    ``status`` is ``pending`` (in its hold), ``granted`` (hold over), ``review`` (held for a
    person to look at: never granted by itself), ``void`` (refunded during the hold, or a
    rejected review) or ``clawed_back`` (refunded after it was granted: ``amount`` is to be
    recovered).
    """

    key: str
    event_key: str
    person: str
    role: str
    amount: float
    order_id: str
    earned_at: float
    available_at: float
    status: str
    reason: str


@dataclass
class _Entry:
    key: str
    event_key: str
    person: str
    role: str
    amount: float
    order_id: str
    earned_at: float
    available_at: float
    state: str  # active, review, void, clawed_back
    reason: str
    tier: int | None = None


@dataclass
class RewardLedger:
    """Replay purchase and refund events, in time order, into rewards.

    Parameters
    ----------
    offer : Offer
    review : mapping event key -> reason, optional
        Events whose rewards go to the review queue instead of being granted (from
        :func:`review_queue` or a person).

    Notes
    -----
    The rules, per purchase with a referrer: only a friend's first purchase qualifies; the
    referrer may not be the friend; the order must reach ``min_order_value``. The friend
    earns ``offer.friend``; the referrer earns ``offer.referrer`` unless they have
    ``max_referrals_per_referrer`` active referrals, then each milestone newly reached.
    Every amount is cut to what the person's cap and then the campaign budget leave (a
    reward cut to 0 is skipped, with the reason). Pending, granted and review rewards count
    against the caps; void and clawed-back ones do not.

    A refund undoes its order: pending rewards turn void, granted ones clawed back, the
    referral leaves the referrer's count and milestones above the new count are undone the
    same way (and can be earned again). A friend whose first purchase was refunded does not
    qualify again. Each event is O(tiers).

    Examples
    --------
    >>> offer = Offer(Incentive("fixed", 10), Incentive("percent", 20), hold_seconds=100)
    >>> ledger = RewardLedger(offer)
    >>> ledger.add(LedgerEvent("e1", "purchase", 0.0, "bob", "o1", referrer="ann", value=50))
    True
    >>> ledger.add(LedgerEvent("e1", "purchase", 0.0, "bob", "o1", referrer="ann", value=50))
    False
    >>> [(r.person, r.amount, r.status) for r in ledger.rewards(now=150.0)]
    [('bob', 10.0, 'granted'), ('ann', 10.0, 'granted')]
    >>> ledger.add(LedgerEvent("e2", "refund", 200.0, "bob", "o1"))
    True
    >>> [r.status for r in ledger.rewards(now=250.0)]
    ['clawed_back', 'clawed_back']
    """

    offer: Offer
    review: Mapping[str, str] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set, init=False, repr=False)
    _entries: list[_Entry] = field(default_factory=list, init=False, repr=False)
    _skipped: list[tuple[str, str]] = field(default_factory=list, init=False, repr=False)
    _bought: set[str] = field(default_factory=set, init=False, repr=False)
    _orders: dict[str, tuple[str, list[_Entry]]] = field(
        default_factory=dict, init=False, repr=False
    )
    _active: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)
    _milestones: dict[tuple[str, int], _Entry] = field(default_factory=dict, init=False, repr=False)
    _last: float = field(default=-math.inf, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.offer, Offer):
            raise InvalidParameter("offer", "RewardLedger", "an Offer", self.offer)

    # ------------------------------------------------------------------ reading
    def rewards(self, now: float) -> tuple[Reward, ...]:
        """Every reward in the order created, with its status at time ``now``."""
        out = []
        for e in self._entries:
            status = e.state
            if status == "active":
                status = "granted" if now >= e.available_at else "pending"
            out.append(
                Reward(
                    e.key,
                    e.event_key,
                    e.person,
                    e.role,
                    e.amount,
                    e.order_id,
                    e.earned_at,
                    e.available_at,
                    status,
                    e.reason,
                )
            )
        return tuple(out)

    def review_queue(self, now: float) -> tuple[Reward, ...]:
        """The rewards waiting for a person's decision."""
        return tuple(r for r in self.rewards(now) if r.status == "review")

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """(event key, reason) of every event or reward that gave nothing, and why."""
        return tuple(self._skipped)

    def committed(self, person: str | None = None) -> float:
        """Amount pending, granted or in review (for ``person``, or the whole campaign)."""
        return _cents(
            sum(
                e.amount
                for e in self._entries
                if e.state in ("active", "review") and (person is None or e.person == person)
            )
        )

    def balance(self, person: str, now: float) -> float:
        """What ``person`` has been granted by ``now`` and keeps (clawed-back rewards excluded)."""
        return _cents(
            sum(r.amount for r in self.rewards(now) if r.person == person and r.status == "granted")
        )

    # ------------------------------------------------------------------ writing
    def add(self, event: LedgerEvent) -> bool:
        """Apply one event; False (and nothing changes) when its key was seen before.

        Raises
        ------
        BadInput
            When the event is older than the last one applied (replay in time order).
        """
        if not isinstance(event, LedgerEvent):
            raise InvalidParameter("event", "RewardLedger.add", "a LedgerEvent", event)
        if event.key in self._seen:
            return False
        if event.time < self._last:
            raise BadInput(
                f"event {event.key!r} at {event.time} is older than the last one ({self._last})",
                field="time",
            )
        self._seen.add(event.key)
        self._last = float(event.time)
        if event.kind == "purchase":
            self._purchase(event)
        else:
            self._refund(event)
        return True

    def extend(self, events: Iterable[LedgerEvent]) -> RewardLedger:
        """Apply events in order; returns the ledger."""
        for ev in events:
            self.add(ev)
        return self

    def _purchase(self, ev: LedgerEvent) -> None:
        offer = self.offer
        if ev.referrer is None:
            self._skipped.append((ev.key, "no referrer (organic purchase)"))
            return
        if ev.referrer == ev.person:
            self._skipped.append((ev.key, "self-referral: referrer is the buyer"))
            return
        if ev.person in self._bought:
            self._skipped.append((ev.key, "not the friend's first purchase"))
            return
        self._bought.add(ev.person)
        if ev.value < offer.min_order_value:
            self._skipped.append((ev.key, f"order below the minimum {offer.min_order_value:g}"))
            return
        entries: list[_Entry] = []
        self._orders[ev.order_id] = (ev.referrer, entries)
        self._grant(ev, ev.person, "friend", offer.friend.value(ev.value), entries)
        active = self._active.setdefault(ev.referrer, set())
        cap = offer.max_referrals_per_referrer
        if cap is not None and len(active) >= cap:
            self._skipped.append((f"{ev.key}:referrer", f"referrer cap of {cap} reached"))
            return
        active.add(ev.order_id)
        self._grant(ev, ev.referrer, "referrer", offer.referrer.value(ev.value), entries)
        for i, tier in enumerate(offer.tiers):
            if len(active) >= tier.referrals and (ev.referrer, i) not in self._milestones:
                entry = self._grant(ev, ev.referrer, "milestone", tier.bonus, entries, tier=i)
                if entry is not None:
                    self._milestones[(ev.referrer, i)] = entry

    def _grant(
        self,
        ev: LedgerEvent,
        person: str,
        role: str,
        amount: float,
        entries: list[_Entry],
        tier: int | None = None,
    ) -> _Entry | None:
        key = f"{ev.key}:{role}" if tier is None else f"{ev.key}:milestone:{tier}"
        offer = self.offer
        reasons = []
        if offer.max_amount_per_person is not None:
            room = _cents(offer.max_amount_per_person - self.committed(person))
            if amount > room:
                amount = max(room, 0.0)
                reasons.append("cut to the per-person cap")
        if offer.budget is not None:
            room = _cents(offer.budget - self.committed())
            if amount > room:
                amount = max(room, 0.0)
                reasons.append("cut to the campaign budget")
        amount = _cents(amount)
        if amount <= 0:
            self._skipped.append((key, "; ".join(reasons) or "zero reward"))
            return None
        what = role if tier is None else f"milestone of {offer.tiers[tier].referrals} referrals"
        state = "active"
        reason = what
        if ev.key in self.review:
            state = "review"
            reason = f"{what}; held for review: {self.review[ev.key]}"
        if reasons:
            reason = f"{reason}; {'; '.join(reasons)}"
        entry = _Entry(
            key,
            ev.key,
            person,
            role,
            amount,
            ev.order_id,
            float(ev.time),
            float(ev.time) + float(offer.hold_seconds),
            state,
            reason,
            tier,
        )
        self._entries.append(entry)
        entries.append(entry)
        return entry

    def _undo(self, entry: _Entry, when: float, why: str) -> None:
        if entry.state == "active" and when >= entry.available_at:
            entry.state = "clawed_back"
            entry.reason = f"{entry.reason}; clawed back: {why}"
        elif entry.state in ("active", "review"):
            entry.state = "void"
            entry.reason = f"{entry.reason}; void: {why}"

    def _refund(self, ev: LedgerEvent) -> None:
        found = self._orders.get(ev.order_id)
        if found is None:
            self._skipped.append((ev.key, f"refund of an order without rewards {ev.order_id!r}"))
            return
        referrer, entries = found
        why = f"order {ev.order_id} refunded at {ev.time:g}"
        for entry in entries:
            if entry.tier is None:
                self._undo(entry, ev.time, why)
        active = self._active.get(referrer, set())
        active.discard(ev.order_id)
        for i, tier in enumerate(self.offer.tiers):
            milestone = self._milestones.get((referrer, i))
            if milestone is not None and len(active) < tier.referrals:
                self._undo(milestone, ev.time, why)
                del self._milestones[(referrer, i)]


def compute_rewards(
    events: Iterable[LedgerEvent],
    offer: Offer,
    *,
    now: float,
    review: Mapping[str, str] | None = None,
) -> tuple[Reward, ...]:
    """The rewards a list of events earns, with their status at ``now``: :class:`RewardLedger`'s
    function twin. Events are sorted by time (stably) first.

    >>> offer = Offer(Incentive("fixed", 10), Incentive("fixed", 5), hold_seconds=0,
    ...               tiers=(Tier(2, 25.0),))
    >>> events = [LedgerEvent(f"e{i}", "purchase", float(i), f"f{i}", f"o{i}", referrer="ann",
    ...                       value=30.0) for i in range(2)]
    >>> [(r.person, r.role, r.amount) for r in compute_rewards(events, offer, now=9.0)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('f0', 'friend', 5.0), ('ann', 'referrer', 10.0), ('f1', 'friend', 5.0),
     ('ann', 'referrer', 10.0), ('ann', 'milestone', 25.0)]
    """
    ordered = sorted(events, key=lambda e: e.time)
    ledger = RewardLedger(offer, dict(review or {}))
    ledger.extend(ordered)
    return ledger.rewards(now)
