"""Growth per generation of a cascade tree, and the viral loop of a referral programme.

:func:`generation_sizes` and :func:`r_by_generation`: R per generation of a tree;
:func:`k_factor`, :func:`viral_cycle_time`, :func:`projected_growth`: invitations per
adopter times conversion, the time one viral loop takes, and the geometric projection
they imply. See docs/growth-and-tipping.md.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from grapevine._validation import check_number
from grapevine._vocabulary import REFERRAL_KINDS
from grapevine.cascades._rt import _seconds
from grapevine.errors import BadInput, InvalidParameter

__all__ = [
    "CycleTime",
    "generation_sizes",
    "k_factor",
    "projected_growth",
    "r_by_generation",
    "viral_cycle_time",
]

_REFERRAL_COLUMNS = ("referrer", "person", "kind", "time")


# ----------------------------------------------------------------------------- generations
def _depth_array(depths: ArrayLike) -> np.ndarray:
    arr = np.asarray(depths).reshape(-1)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "biuf":
        raise BadInput("depths must be integers >= 0", field="depths")
    if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        raise BadInput("depths must be integers >= 0", field="depths")
    out = arr.astype(np.int64)
    if (out < 0).any():
        raise BadInput("depths must be integers >= 0", field="depths")
    return out


def generation_sizes(depths: ArrayLike) -> np.ndarray:
    """Count the nodes of each generation (depth) of a cascade forest.

    Parameters
    ----------
    depths : array_like of int
        The depth of each node (0 for a root, as ``Forest.depth`` gives).

    Returns
    -------
    ndarray of int64
        ``sizes[g]`` is the number of nodes at depth ``g``, for g = 0 .. max depth.

    Raises
    ------
    BadInput
        When a depth is negative or not an integer.

    Examples
    --------
    >>> generation_sizes([0, 1, 1, 2, 2, 2]).tolist()
    [1, 2, 3]
    """
    return np.bincount(_depth_array(depths)).astype(np.int64)


def r_by_generation(depths: ArrayLike) -> pd.DataFrame:
    """The reproduction number of each generation of a cascade: R_g = N_{g+1} / N_g.

    Parameters
    ----------
    depths : array_like of int
        The depth of each node (0 for a root).

    Returns
    -------
    DataFrame
        One row per generation g from 0 to the deepest: ``generation``, ``size`` (N_g),
        ``offspring`` (N_{g+1}, 0 for the deepest) and ``r`` (their ratio; NaN where
        ``size`` is 0, which only a gap in the depths can give).

    Raises
    ------
    BadInput
        When a depth is negative or not an integer.

    Notes
    -----
    O(n). The deepest generation's R is 0: the cascade ended there, or had not grown further
    when observed (right censoring; the last generations of a young cascade read low).
    Over a forest of several roots, R_0 is the mean number of children per root.

    Examples
    --------
    >>> r_by_generation([0, 1, 1, 2, 2, 2])
       generation  size  offspring    r
    0           0     1          2  2.0
    1           1     2          3  1.5
    2           2     3          0  0.0
    """
    sizes = generation_sizes(depths)
    offspring = np.append(sizes[1:], 0) if sizes.size else sizes.copy()
    r = np.full(sizes.size, np.nan)
    np.divide(offspring, sizes, out=r, where=sizes > 0)
    return pd.DataFrame(
        {"generation": np.arange(sizes.size), "size": sizes, "offspring": offspring, "r": r}
    )


# ----------------------------------------------------------------------------- referrals
def _check_events(events: pd.DataFrame, owner: str) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise InvalidParameter("events", owner, "a DataFrame", type(events).__name__)
    for col in _REFERRAL_COLUMNS:
        if col not in events.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    frame = events[list(_REFERRAL_COLUMNS)].copy()
    unknown = ~frame["kind"].isin(REFERRAL_KINDS)
    if unknown.any():
        first = frame.loc[unknown, "kind"].iloc[0]
        raise BadInput(
            f"unknown referral kind {first!r} (expected one of {', '.join(REFERRAL_KINDS)})",
            field="kind",
        )
    frame["time"] = _seconds(frame["time"], "time")
    return frame


def _adopters(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per adopter: ``person``, ``signup`` time, ``referred_by``, ``generation``.

    Adopters are the people with a signup (their first counts) and the referrers with none
    (members from before the log: signup time unknown, generation 0). A signup whose referrer
    is missing or the person themself is organic (generation 0).
    """
    signups = frame[frame["kind"] == "signup"].sort_values("time", kind="stable")
    signups = signups[signups["person"].notna()].drop_duplicates("person", keep="first")
    referred_by = signups["referrer"].where(signups["referrer"] != signups["person"])
    adopters = pd.DataFrame(
        {
            "person": signups["person"].to_numpy(),
            "signup": signups["time"].to_numpy(dtype=np.float64),
            "referred_by": referred_by.to_numpy(),
        }
    )
    referrers = pd.unique(frame["referrer"].dropna())
    extra = referrers[~pd.Index(referrers).isin(adopters["person"])]
    if len(extra):
        adopters = pd.concat(
            [
                adopters,
                pd.DataFrame({"person": extra, "signup": np.nan, "referred_by": None}),
            ],
            ignore_index=True,
        )
    n = len(adopters)
    own = np.arange(n)
    parent = pd.Index(adopters["person"]).get_indexer(adopters["referred_by"])
    parent = np.where(parent < 0, own, parent)
    root = parent == own
    # Pointer jumping (list ranking): O(n log depth), no loop over people. Without a cycle
    # every pointer ends on a root within log2(n) + 1 rounds.
    depth = (~root).astype(np.int64)
    for _ in range(math.ceil(math.log2(max(n, 2))) + 2):
        grand = parent[parent]
        if (grand == parent).all():
            break
        depth = depth + depth[parent]
        parent = grand
    if n and not root[parent].all():
        raise BadInput("the referral links contain a cycle", field="referrer")
    adopters["generation"] = depth
    return adopters


def _cohort_labels(adopters: pd.DataFrame, cohort: Any) -> pd.Series:
    owner = "k_factor"
    if cohort is None:
        return pd.Series("all", index=adopters.index)
    if isinstance(cohort, str) and cohort == "generation":
        return adopters["generation"]
    if isinstance(cohort, pd.Series):
        return adopters["person"].map(cohort)
    if isinstance(cohort, Mapping):
        return adopters["person"].map(dict(cohort))
    try:
        return pd.to_datetime(adopters["signup"], unit="s").dt.to_period(cohort)
    except (TypeError, ValueError):
        raise InvalidParameter(
            "cohort",
            owner,
            "None, 'generation', a period frequency such as 'W', or a mapping person -> label",
            cohort,
        ) from None


def k_factor(events: pd.DataFrame, *, cohort: Any = None) -> pd.DataFrame:
    """The viral coefficient K of a referral programme: invitations per adopter x conversion.

    Parameters
    ----------
    events : DataFrame
        Referral events with columns ``referrer`` (whose link or code), ``person`` (who acted;
        for a signup, the new member), ``kind`` (one of share, click, signup, purchase,
        refund) and ``time`` (Unix seconds or datetimes).
    cohort : None, "generation", str or mapping
        How to split the adopters: None (one row, ``"all"``); ``"generation"`` (0 for
        adopters referred by nobody, g + 1 for those referred by a generation-g adopter); a
        period frequency such as ``"W"`` (Monday-Sunday weeks), ``"D"`` or ``"M"`` (the
        period of the adopter's own signup, UTC); or a mapping / Series from person to a
        label of your own.

    Returns
    -------
    DataFrame
        One row per cohort (sorted; adopters with no known cohort last, label NaN):
        ``cohort``, ``adopters``, ``invitations`` (sent by the cohort's adopters),
        ``signups`` (referred by them), ``i`` (invitations per adopter; NaN when the log
        holds no invitation event at all), ``c`` (conversion: signups per invitation, NaN
        without invitations), ``k`` (signups per adopter, which
        is ``i * c`` whenever there are invitations) and ``invitation_kind``.

    Raises
    ------
    BadInput
        When a column is missing, a kind is unknown, a time unreadable, or the referral links
        form a cycle.
    InvalidParameter
        When ``cohort`` is none of the above.

    Notes
    -----
    An invitation is a ``share`` event; when the log holds no share at all (the programme
    tracks link clicks only), ``click`` events count as invitations instead, and
    ``invitation_kind`` says which (``"none"`` when there are neither). Each invitation and
    referred signup is credited to its ``referrer``. Adopters are the people with a signup
    (the first one counts) and the referrers without one (members from before the log:
    generation 0, no signup time). A signup that names no referrer, or its own person, is
    organic. Purchases and refunds do not enter K. K > 1 means each cohort of adopters
    recruits a larger one: viral growth.

    O(n log n) for n events (sorting, grouping; generations by pointer jumping).

    References
    ----------
    .. [1] D. Skok. Lessons Learned: Viral Marketing. For Entrepreneurs (2009), the viral
       coefficient K = i x c and the viral cycle time.

    Examples
    --------
    >>> ev = pd.DataFrame({
    ...     "referrer": [None, "ann", "ann", "ann", "ann", "bob", "bob"],
    ...     "person":   ["ann", None, None, "bob", "cat", None, "dan"],
    ...     "kind":     ["signup", "share", "share", "signup", "signup", "share", "signup"],
    ...     "time":     [0, 10, 20, 30, 40, 50, 60]})
    >>> k_factor(ev)[["adopters", "invitations", "signups", "i", "c", "k"]]
       adopters  invitations  signups     i    c     k
    0         4            3        3  0.75  1.0  0.75
    >>> k_factor(ev, cohort="generation")[["cohort", "adopters", "signups", "k"]]
       cohort  adopters  signups    k
    0       0         1        2  2.0
    1       1         2        1  0.5
    2       2         1        0  0.0
    """
    frame = _check_events(events, "k_factor")
    adopters = _adopters(frame)
    kinds = frame["kind"]
    has = {kind: bool((kinds == kind).any()) for kind in ("share", "click")}
    invitation_kind = "share" if has["share"] else "click" if has["click"] else "none"
    invited = frame.loc[(kinds == invitation_kind) & frame["referrer"].notna(), "referrer"]
    invitations = invited.value_counts()
    referred = adopters["referred_by"].dropna().value_counts()
    per = pd.DataFrame(
        {
            "cohort": _cohort_labels(adopters, cohort).to_numpy(),
            "adopters": 1,
            "invitations": adopters["person"].map(invitations).fillna(0).astype(np.int64),
            "signups": adopters["person"].map(referred).fillna(0).astype(np.int64),
        }
    )
    out = per.groupby("cohort", dropna=False, sort=True)[
        ["adopters", "invitations", "signups"]
    ].sum()
    out = out.reset_index()
    if out.empty:
        out = pd.DataFrame(
            {
                "cohort": ["all"] if cohort is None else [],
                "adopters": 0,
                "invitations": 0,
                "signups": 0,
            }
        )
    a = out["adopters"].to_numpy(dtype=np.float64)
    inv = out["invitations"].to_numpy(dtype=np.float64)
    s = out["signups"].to_numpy(dtype=np.float64)
    out["i"] = _ratio(inv, a) if invitation_kind != "none" else np.nan
    out["c"] = _ratio(s, inv)
    out["k"] = _ratio(s, a)
    out["invitation_kind"] = invitation_kind
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True)
class CycleTime:
    """The viral cycle time: delays from a referrer's signup to their referees' signups.

    Attributes
    ----------
    n : int
        Referred signups whose referrer's own signup time is known (and not later).
    mean, q25, median, q75 : float
        Of those delays, in seconds (NaN when ``n`` is 0).
    negative : int
        Referred signups dropped because they precede their referrer's signup (clock skew or
        a log that misses the referrer's first signup).
    """

    n: int
    mean: float
    q25: float
    median: float
    q75: float
    negative: int


def viral_cycle_time(events: pd.DataFrame) -> CycleTime:
    """The viral cycle time of a referral programme: referrer's signup to referee's signup.

    Parameters
    ----------
    events : DataFrame
        Referral events as for :func:`k_factor` (``referrer``, ``person``, ``kind``,
        ``time``).

    Returns
    -------
    CycleTime
        The median delay and its quartiles (seconds), the mean, the count.

    Raises
    ------
    BadInput
        When a column is missing, a kind is unknown or a time unreadable.

    Notes
    -----
    Each referred signup (a person's first) gives one delay: its time minus the time of its
    referrer's own first signup. Referrers with no signup in the log give none. The median is
    the figure to use in :func:`projected_growth`: the mean is pulled by a few late referees.
    O(n log n).

    References
    ----------
    .. [1] D. Skok. Lessons Learned: Viral Marketing. For Entrepreneurs (2009).

    Examples
    --------
    >>> ev = pd.DataFrame({"referrer": [None, "ann", "ann", "bob"],
    ...                    "person": ["ann", "bob", "cat", "dan"],
    ...                    "kind": ["signup"] * 4, "time": [0.0, 3600.0, 7200.0, 5400.0]})
    >>> viral_cycle_time(ev)
    CycleTime(n=3, mean=4200.0, q25=2700.0, median=3600.0, q75=5400.0, negative=0)
    """
    adopters = _adopters(_check_events(events, "viral_cycle_time"))
    own = pd.Series(adopters["signup"].to_numpy(), index=adopters["person"].to_numpy())
    child = adopters[adopters["referred_by"].notna()]
    delay = child["signup"].to_numpy() - child["referred_by"].map(own).to_numpy(np.float64)
    delay = delay[np.isfinite(delay)]
    negative = int((delay < 0).sum())
    delay = delay[delay >= 0]
    if delay.size == 0:
        return CycleTime(0, math.nan, math.nan, math.nan, math.nan, negative)
    q25, med, q75 = (float(v) for v in np.quantile(delay, [0.25, 0.5, 0.75]))
    return CycleTime(int(delay.size), float(delay.mean()), q25, med, q75, negative)


def projected_growth(
    k: float, cycle_time: float, seeds: float, periods: int | ArrayLike
) -> pd.DataFrame:
    """Project a viral loop: customers(t) = seeds (1 - K^(n+1)) / (1 - K), n = t / cycle_time.

    Each cycle, every customer of the latest cycle brings K new ones, so after n cycles the
    total is the geometric series seeds (1 + K + ... + K^n).

    Parameters
    ----------
    k : float
        The viral coefficient K (>= 0), e.g. from :func:`k_factor`.
    cycle_time : float
        The time one loop takes (> 0), e.g. :func:`viral_cycle_time`'s median.
    seeds : float
        Customers at t = 0 (>= 0).
    periods : int or array_like of float
        An int m: project at t = 0, cycle_time, ..., m cycle_time; or the times t (>= 0,
        same unit as ``cycle_time``) to project at. Fractional cycles interpolate the
        series smoothly.

    Returns
    -------
    DataFrame
        ``t``, ``cycles`` (n) and ``customers`` (inf when it overflows a float).

    Raises
    ------
    InvalidParameter
        When a parameter is outside its domain.

    Notes
    -----
    O(m). K = 1 gives seeds (n + 1). For K < 1 the total converges to seeds / (1 - K); for
    K > 1 it grows like K^n. The model has no saturation (no finite market) and no churn.

    References
    ----------
    .. [1] D. Skok. Lessons Learned: Viral Marketing. For Entrepreneurs (2009).

    Examples
    --------
    >>> projected_growth(0.5, 2.0, 100, 3)
         t  cycles  customers
    0  0.0     0.0      100.0
    1  2.0     1.0      150.0
    2  4.0     2.0      175.0
    3  6.0     3.0      187.5
    >>> projected_growth(1.0, 7.0, 10, [14.0])["customers"].tolist()
    [30.0]
    """
    owner = "projected_growth"
    check_number(k, "k", owner, low=0)
    check_number(cycle_time, "cycle_time", owner, low=0, low_closed=False)
    check_number(seeds, "seeds", owner, low=0)
    for name, value in (("k", k), ("cycle_time", cycle_time), ("seeds", seeds)):
        if not math.isfinite(float(value)):
            raise InvalidParameter(name, owner, "a finite float", value)
    if isinstance(periods, numbers.Integral) and not isinstance(periods, bool):
        check_number(periods, "periods", owner, kind=numbers.Integral, low=0)
        t = np.arange(int(periods) + 1, dtype=np.float64) * float(cycle_time)
    else:
        try:
            t = np.asarray(periods, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidParameter(
                "periods", owner, "an int >= 0 or an array of times >= 0", periods
            ) from None
        if not (np.isfinite(t).all() and (t >= 0).all()):
            raise InvalidParameter(
                "periods", owner, "an int >= 0 or an array of times >= 0", periods
            )
    n = t / float(cycle_time)
    kk = float(k)
    if kk == 0.0:
        total = np.ones_like(n)
    elif abs(kk - 1.0) < 1e-12:
        total = n + 1.0
    else:
        with np.errstate(over="ignore"):
            total = np.expm1((n + 1.0) * math.log(kk)) / (kk - 1.0)
    return pd.DataFrame({"t": t, "cycles": n, "customers": float(seeds) * total})
