"""Fraud signals: self-referrals, velocity bursts, rings of linked accounts, review routing.

Each check returns a :class:`RiskDecision` (a risk level and the reasons in words); nothing
here blocks anyone by itself: :func:`review_queue` turns decisions at or above a threshold
into the ``review`` mapping of :class:`~grapevine.referrals.RewardLedger`, where a person
decides.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from grapevine._validation import check_choice, check_number
from grapevine.errors import BadInput
from grapevine.referrals._email import is_disposable_email, normalize_email

__all__ = [
    "RISK_LEVELS",
    "Burst",
    "Identity",
    "Ring",
    "RiskDecision",
    "combine",
    "find_rings",
    "review_queue",
    "self_referral",
    "velocity_bursts",
]

RISK_LEVELS = ("none", "low", "medium", "high")
"""Risk levels, in increasing order."""

STRONG_LINKS = frozenset({"device", "payout", "email", "card"})
"""Attribute kinds that, shared, almost always mean one person (a shared IP often does not:
households, offices, mobile carriers' NAT)."""


def _rank(risk: str) -> int:
    return RISK_LEVELS.index(risk)


@dataclass(frozen=True)
class RiskDecision:
    """A risk level and the reasons for it.

    >>> RiskDecision("high", ("same device",)).reason
    'same device'
    >>> RiskDecision("none", ()).reason
    'no signal'
    """

    risk: str
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_choice(self.risk, "risk", "RiskDecision", RISK_LEVELS)

    @property
    def reason(self) -> str:
        """The reasons joined with ``; ``."""
        return "; ".join(self.reasons) if self.reasons else "no signal"

    def at_least(self, level: str) -> bool:
        """Whether the risk is ``level`` or higher."""
        check_choice(level, "level", "RiskDecision.at_least", RISK_LEVELS)
        return _rank(self.risk) >= _rank(level)


def combine(*decisions: RiskDecision) -> RiskDecision:
    """The highest risk of several decisions, with all their reasons.

    >>> combine(RiskDecision("low", ("a",)), RiskDecision("high", ("b",))).risk
    'high'
    """
    risk = max((d.risk for d in decisions), key=_rank, default="none")
    return RiskDecision(risk, tuple(r for d in decisions for r in d.reasons))


@dataclass(frozen=True)
class Identity:
    """What is known about one side of a referral when it happens.

    ``ip_hash`` is :func:`~grapevine.referrals.hash_ip`'s (never a raw IP); ``device_id`` a
    first-party cookie or app instance id; ``payout`` a hashed payout account; ``time`` Unix
    seconds.
    """

    person: str
    email: str | None = None
    device_id: str | None = None
    ip_hash: str | None = None
    user_agent: str | None = None
    payout: str | None = None
    time: float | None = None


def _email_or_none(email: str | None) -> str | None:
    if email is None:
        return None
    try:
        return normalize_email(email)
    except BadInput:
        return None


def self_referral(
    referrer: Identity, friend: Identity, *, window_seconds: float = 86400.0
) -> RiskDecision:
    """Whether a referral looks like someone referring themself.

    Rules (all that apply are reported; the risk is the highest):

    ========================================================  ======
    signal                                                    risk
    ========================================================  ======
    same person id                                            high
    same normalised e-mail (:func:`normalize_email`)          high
    same device id                                            high
    same payout account                                       high
    same hashed IP and user agent within ``window_seconds``   medium
    same hashed IP within ``window_seconds`` (UA differs)     low
    friend's e-mail at a disposable domain                    medium
    ========================================================  ======

    Without both times, IP signals count whatever the gap.

    Examples
    --------
    >>> a = Identity("ann", email="Ann.Lee@gmail.com", ip_hash="h1", user_agent="UA", time=0)
    >>> b = Identity("bob", email="annlee+2@googlemail.com", ip_hash="h1", user_agent="UA",
    ...              time=600)
    >>> d = self_referral(a, b)
    >>> d.risk, d.reason
    ('high', 'same normalised e-mail annlee@gmail.com; same network and user agent within 600 s')
    """
    check_number(window_seconds, "window_seconds", "self_referral", low=0)
    out: list[tuple[str, str]] = []
    if referrer.person == friend.person:
        out.append(("high", "same person"))
    e1, e2 = _email_or_none(referrer.email), _email_or_none(friend.email)
    if e1 is not None and e1 == e2:
        out.append(("high", f"same normalised e-mail {e1}"))
    if referrer.device_id is not None and referrer.device_id == friend.device_id:
        out.append(("high", "same device"))
    if referrer.payout is not None and referrer.payout == friend.payout:
        out.append(("high", "same payout account"))
    if referrer.ip_hash is not None and referrer.ip_hash == friend.ip_hash:
        gap = math.nan
        if referrer.time is not None and friend.time is not None:
            gap = abs(float(friend.time) - float(referrer.time))
        if not gap > float(window_seconds):
            when = f" within {gap:g} s" if math.isfinite(gap) else ""
            if referrer.user_agent is not None and referrer.user_agent == friend.user_agent:
                out.append(("medium", f"same network and user agent{when}"))
            else:
                out.append(("low", f"same network{when}"))
    if friend.email is not None and is_disposable_email(friend.email):
        out.append(("medium", "friend's e-mail is at a disposable domain"))
    risk = max((r for r, _ in out), key=_rank, default="none")
    return RiskDecision(risk, tuple(reason for _, reason in out))


@dataclass(frozen=True)
class Burst:
    """A run of events from one key (a code, an IP hash, a device) faster than allowed."""

    key: Hashable
    start: float
    end: float
    count: int
    decision: RiskDecision


def velocity_bursts(
    events: Iterable[tuple[Hashable, float]], *, window_seconds: float, limit: int
) -> list[Burst]:
    """Find where one key has at least ``limit`` events within ``window_seconds``.

    Parameters
    ----------
    events : iterable of (key, time)
        E.g. (code, click time) or (ip hash, signup time), in any order.
    window_seconds : float
        Width of the sliding window (> 0), closed at both ends.
    limit : int
        Events in one window that make a burst (>= 2).

    Returns
    -------
    list of Burst
        Per key, maximal bursts (overlapping flagged windows merged), ordered by key order
        of first appearance, then time. ``count`` is the events from the first flagged
        window's start to the last one's end. Risk ``high`` from ``2 * limit`` events on,
        else ``medium``.

    Notes
    -----
    O(n log n): a sort, then two pointers per key.

    Examples
    --------
    >>> ev = [("K7MP", t) for t in (0, 10, 20, 30, 1000)] + [("Q2ZX", 5)]
    >>> [(b.key, b.start, b.end, b.count) for b in velocity_bursts(ev, window_seconds=60,
    ...                                                            limit=3)]
    [('K7MP', 0.0, 30.0, 4)]
    """
    owner = "velocity_bursts"
    check_number(window_seconds, "window_seconds", owner, low=0, low_closed=False)
    check_number(limit, "limit", owner, kind=numbers.Integral, low=2)
    by_key: dict[Hashable, list[float]] = defaultdict(list)
    for key, t in events:
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or not math.isfinite(t):
            raise BadInput(f"event time must be a finite number, not {t!r}", field="time")
        by_key[key].append(float(t))
    width, n_min = float(window_seconds), int(limit)
    out: list[Burst] = []
    for key, times in by_key.items():
        times.sort()
        lo = 0
        run: list[int] | None = None  # [first index, last index]
        for hi, t in enumerate(times):
            while times[lo] < t - width:
                lo += 1
            if hi - lo + 1 < n_min:
                continue
            if run is not None and lo <= run[1]:
                run[1] = hi
            else:
                if run is not None:
                    out.append(_burst(key, times, run, n_min, width))
                run = [lo, hi]
        if run is not None:
            out.append(_burst(key, times, run, n_min, width))
    return out


def _burst(key: Hashable, times: list[float], run: list[int], limit: int, width: float) -> Burst:
    count = run[1] - run[0] + 1
    risk = "high" if count >= 2 * limit else "medium"
    reason = (
        f"{count} events in {times[run[1]] - times[run[0]]:g} s (limit {limit} per {width:g} s)"
    )
    return Burst(key, times[run[0]], times[run[1]], count, RiskDecision(risk, (reason,)))


@dataclass(frozen=True)
class Ring:
    """A cluster of accounts linked by shared attributes.

    Attributes
    ----------
    accounts : tuple of str
        Sorted.
    shared : tuple of (kind, value, n)
        Each attribute value held by n >= 2 accounts of the ring.
    referrals_inside : int
        Referrals from one member to another.
    decision : RiskDecision
    """

    accounts: tuple[str, ...]
    shared: tuple[tuple[str, str, int], ...]
    referrals_inside: int
    decision: RiskDecision


class _DisjointSet:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def add(self, x: str) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.size[x] = 1

    def find(self, x: str) -> str:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def find_rings(
    attributes: Iterable[tuple[str, str, str]],
    *,
    referrals: Iterable[tuple[str, str]] = (),
    min_size: int = 2,
) -> list[Ring]:
    """Clusters of accounts connected through shared devices, IPs, payout details...

    Parameters
    ----------
    attributes : iterable of (account, kind, value)
        E.g. ``("ann", "device", "d-91")``, ``("bob", "ip", "<ip hash>")``, ``("cat",
        "payout", "<hashed IBAN>")``. Two accounts with the same (kind, value) are linked; the
        rings are the connected components (union-find).
    referrals : iterable of (referrer, friend)
        The referral graph; referrals inside a ring raise its risk.
    min_size : int
        Smallest ring reported (>= 2).

    Returns
    -------
    list of Ring
        Largest first, then by first account.

    Notes
    -----
    Risk: ``high`` when a strong link (:data:`STRONG_LINKS`: device, payout, email, card) is
    shared inside the ring, or when members referred each other over IP links only in a ring
    of 3 or more; ``medium`` for IP-only rings with referrals inside or of 3 or more accounts;
    else ``low``. O((n + m) alpha(n)) for n attribute rows and m referrals.

    Examples
    --------
    >>> rows = [("ann", "device", "d1"), ("bob", "device", "d1"), ("bob", "payout", "p9"),
    ...         ("cat", "payout", "p9"), ("dan", "ip", "h7")]
    >>> [(r.accounts, r.decision.risk) for r in find_rings(rows, referrals=[("ann", "cat")])]
    [(('ann', 'bob', 'cat'), 'high')]
    """
    check_number(min_size, "min_size", "find_rings", kind=numbers.Integral, low=2)
    ds = _DisjointSet()
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for account, kind, value in attributes:
        ds.add(account)
        key = (str(kind), str(value))
        if not holders[key] or holders[key][-1] != account:
            holders[key].append(account)
    for members in holders.values():
        for other in members[1:]:
            ds.union(members[0], other)
    clusters: dict[str, set[str]] = defaultdict(set)
    for account in ds.parent:
        clusters[ds.find(account)].add(account)
    inside: dict[str, int] = defaultdict(int)
    for a, b in referrals:
        if a in ds.parent and b in ds.parent and a != b and ds.find(a) == ds.find(b):
            inside[ds.find(a)] += 1
    shared_by_root: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (kind, value), members in holders.items():
        distinct = set(members)
        if len(distinct) >= 2:
            shared_by_root[ds.find(members[0])].append((kind, value, len(distinct)))
    rings = []
    for root, cluster in clusters.items():
        if len(cluster) < max(int(min_size), 2):
            continue
        shared = tuple(sorted(shared_by_root[root]))
        kinds = sorted({k for k, _, _ in shared})
        strong = [k for k in kinds if k in STRONG_LINKS]
        n_ref = inside[root]
        reasons = [f"{len(cluster)} accounts share {', '.join(kinds)}"]
        if n_ref:
            reasons.append(f"{n_ref} referrals inside the ring")
        if strong or (n_ref and len(cluster) >= 3):
            risk = "high"
        elif n_ref or len(cluster) >= 3:
            risk = "medium"
        else:
            risk = "low"
        rings.append(
            Ring(tuple(sorted(cluster)), shared, n_ref, RiskDecision(risk, tuple(reasons)))
        )
    rings.sort(key=lambda r: (-len(r.accounts), r.accounts))
    return rings


def review_queue(
    decisions: Mapping[str, RiskDecision], *, threshold: str = "medium"
) -> dict[str, str]:
    """The events to hold for review: key -> reason, for decisions at ``threshold`` or above.

    Pass the result as ``review=`` to :class:`~grapevine.referrals.RewardLedger`: their rewards
    wait in its review queue instead of being granted.

    >>> review_queue({"e1": RiskDecision("high", ("same device",)), "e2": RiskDecision("low")})
    {'e1': 'high risk: same device'}
    """
    check_choice(threshold, "threshold", "review_queue", RISK_LEVELS)
    return {
        key: f"{d.risk} risk: {d.reason}"
        for key, d in decisions.items()
        if d.risk != "none" and d.at_least(threshold)
    }
