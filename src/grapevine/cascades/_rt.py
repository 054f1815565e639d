"""R(t) of an event stream and the rule that says a cascade has tipped.

:func:`reproduction_number`: the time-varying reproduction number by the renewal-equation
method of Cori et al. (2013), with a Bayesian credible interval; :func:`tipping_point`
applies the tipping rule (the lower end of R(t)'s credible interval above 1 for
``consecutive`` windows); :func:`bass_takeoff` gives the take-off time of a Bass diffusion.
See docs/growth-and-tipping.md. Times are Unix seconds, or anything pandas reads as a
timestamp (naive timestamps are taken as UTC).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pandas.tseries.frequencies import to_offset
from scipy import stats

from grapevine._validation import check_number
from grapevine.errors import BadInput, InvalidParameter

__all__ = [
    "Takeoff",
    "TippingPoint",
    "bass_takeoff",
    "discrete_generation_interval",
    "reproduction_number",
    "tipping_point",
]

#: Columns of the table :func:`reproduction_number` returns, in order.
RT_COLUMNS = (
    "time",
    "window_start",
    "incidence",
    "infectiousness",
    "n_window",
    "r_mean",
    "r_std",
    "r_median",
    "r_lower",
    "r_upper",
    "reason",
)

#: Why a row of R(t) has no estimate (the ``reason`` column; "" when it has one).
REASON_INCOMPLETE = "window incomplete"
REASON_EARLY = "window ends before the mean generation interval"
REASON_NO_LAMBDA = "no infectiousness in window (Lambda = 0)"


# ----------------------------------------------------------------------------- time helpers
def _seconds(values: Any, name: str) -> np.ndarray:
    """Event times as float64 Unix seconds; datetimes (naive = UTC) and ISO 8601 strings too."""
    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.DatetimeTZDtype):
        values = (
            values.dt.tz_convert(None) if isinstance(values, pd.Series) else values.tz_convert(None)
        )
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    if arr.dtype.kind == "M":
        ns = arr.astype("datetime64[ns]")
        out = ns.view(np.int64).astype(np.float64) / 1e9
        out[np.isnat(ns)] = np.nan
        return out
    try:  # objects: numbers (None for missing), else timestamps or their strings
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        pass
    try:
        parsed = pd.to_datetime(arr, utc=True, format="ISO8601")
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"{name} must be numbers (Unix seconds) or datetimes", field=name) from None
    return _seconds(np.asarray(parsed.tz_convert(None)), name)


def _scalar_seconds(value: Any, name: str, owner: str) -> float:
    """One time as Unix seconds: a number, or anything :class:`pandas.Timestamp` reads."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        out = float(value)
    else:
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise InvalidParameter(
                name, owner, "a time (Unix seconds or a timestamp)", value
            ) from None
        if ts is pd.NaT:
            raise InvalidParameter(name, owner, "a time (Unix seconds or a timestamp)", value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert(None)
        out = ts.as_unit("ns").value / 1e9
    if not math.isfinite(out):
        raise InvalidParameter(name, owner, "a finite time", value)
    return out


def _parse_window(window: Any) -> tuple[float, int]:
    """``(step seconds, tau bins)`` of a window given as ``"6h"`` or as ``(step, tau)``."""
    expected = (
        "a fixed-length frequency such as '6h' (bins of its base step, 1 hour, over 6 bins) "
        "or a (step seconds, number of bins) pair"
    )
    if isinstance(window, tuple | list):
        if len(window) != 2:
            raise InvalidParameter("window", "reproduction_number", expected, window)
        step, tau = window
        check_number(step, "window step", "reproduction_number", low=0, low_closed=False)
        if not math.isfinite(float(step)):
            raise InvalidParameter("window", "reproduction_number", expected, window)
        check_number(tau, "window bins", "reproduction_number", kind=numbers.Integral, low=1)
        return float(step), int(tau)
    try:
        offset = to_offset(window)
    except (TypeError, ValueError):
        raise InvalidParameter("window", "reproduction_number", expected, window) from None
    if not isinstance(offset, pd.offsets.Tick | pd.offsets.Day) or offset.n < 1:
        raise InvalidParameter("window", "reproduction_number", expected, window)
    return offset.base.nanos / 1e9, int(offset.n)


# ----------------------------------------------------------------------------- R(t)
def discrete_generation_interval(
    parent_delays: ArrayLike, *, step: float, quantile: float = 0.99
) -> np.ndarray:
    """Discretise observed parent-to-child delays into a generation-interval distribution.

    Parameters
    ----------
    parent_delays : array_like of float
        Delays (seconds) between an event and the events it caused, all >= 0.
    step : float
        The bin width (seconds) of the incidence series the distribution will serve.
    quantile : float
        Lags beyond this quantile of the delays are cut off (the tail of a few very late
        children would otherwise make the distribution, and the convolution, very long).

    Returns
    -------
    ndarray of float64
        ``w`` with ``w[k]`` the probability that a child comes ``k`` bins after its parent;
        ``w[0] == 0`` and ``w.sum() == 1``.

    Raises
    ------
    BadInput
        When there is no finite delay, or a delay is negative.
    InvalidParameter
        When ``step`` is not positive or ``quantile`` not in (0, 1].

    Notes
    -----
    Smoothing: a delay of ``x = d / step`` bins is split between the lags ``floor(x)`` and
    ``floor(x) + 1`` in proportion ``1 - frac(x)`` and ``frac(x)`` (linear interpolation; for
    a parent placed uniformly within its bin this is the exact law of the lag between the two
    bins, as in the discretisation of Cori et al., Web Appendix 11), so that before the
    fold below the mean lag equals the mean delay in bins. Truncation: delays above ``ceil``
    of the ``quantile`` of ``x`` are dropped (at least lag 1 is kept). The renewal equation
    needs ``w[0] = 0``, so the mass at lag 0 (a child in its parent's bin) is moved to lag 1,
    as EpiEstim shifts its serial interval by one step. The result is normalised to sum to 1.
    O(n) for n delays.

    References
    ----------
    .. [1] A. Cori, N. M. Ferguson, C. Fraser, S. Cauchemez. A new framework and software to
       estimate time-varying reproduction numbers during epidemics. Am. J. Epidemiol. 178(9),
       1505-1512 (2013), Web Appendix 11.

    Examples
    --------
    >>> discrete_generation_interval([1800.0, 3600.0, 5400.0], step=3600.0).tolist()
    [0.0, 0.8333333333333334, 0.16666666666666666]
    """
    check_number(step, "step", "discrete_generation_interval", low=0, low_closed=False)
    check_number(
        quantile, "quantile", "discrete_generation_interval", low=0, high=1, low_closed=False
    )
    d = _seconds(parent_delays, "parent_delays")
    d = d[np.isfinite(d)]
    if d.size == 0:
        raise BadInput(
            "no finite parent delay to estimate a generation interval from", field="parent_delays"
        )
    if (d < 0).any():
        raise BadInput("parent delays must be >= 0", field="parent_delays")
    x = d / float(step)
    lo = np.floor(x).astype(np.int64)
    frac = x - lo
    max_lag = max(1, math.ceil(float(np.quantile(x, quantile))))
    keep = lo <= max_lag
    w = np.bincount(lo[keep], weights=1.0 - frac[keep], minlength=max_lag + 2)
    w += np.bincount(lo[keep] + 1, weights=frac[keep], minlength=max_lag + 2)
    w = w[: max_lag + 1].copy()
    w[1] += w[0]
    w[0] = 0.0
    out: np.ndarray = w / w.sum()
    return out


def _check_distribution(w: ArrayLike) -> np.ndarray:
    arr = np.asarray(w, dtype=np.float64).reshape(-1)
    expected = "a vector of probabilities with w[0] = 0 and a positive sum"
    bad = arr.size < 2 or not np.isfinite(arr).all() or (arr < 0).any() or arr[0] != 0
    if bad or arr.sum() <= 0:
        raise InvalidParameter("generation_interval", "reproduction_number", expected, w)
    out: np.ndarray = arr / arr.sum()
    return out


def reproduction_number(
    times: ArrayLike,
    *,
    window: Any,
    generation_interval: ArrayLike | None = None,
    parent_delays: ArrayLike | None = None,
    prior_shape: float = 1.0,
    prior_scale: float = 5.0,
    level: float = 0.95,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Estimate the time-varying reproduction number R(t) of an event stream.

    Events are binned at ``step`` seconds; the incidence :math:`I_t` of each bin is
    explained by the total infectiousness of the earlier bins,
    :math:`\\Lambda_t = \\sum_{s \\ge 1} I_{t-s} w_s`, where :math:`w_s` is the discretised
    generation interval (the law of the lag, in bins, between an event and the events it
    causes). Assuming R constant over a sliding window of ``tau`` bins ending at bin t, and a
    Gamma(a, b) prior (shape ``prior_shape``, scale ``prior_scale``), the posterior of R is

    .. math:: R_t \\sim \\mathrm{Gamma}\\Big(a + \\sum_{s=t-\\tau+1}^{t} I_s,\\
              \\mathrm{scale} = 1 \\big/ \\big(1/b + \\sum_{s=t-\\tau+1}^{t} \\Lambda_s\\big)\\Big).

    Parameters
    ----------
    times : array_like
        Event times: Unix seconds, or datetimes (naive ones are taken as UTC).
    window : str, timedelta or (float, int)
        A fixed-length frequency such as ``"6h"``: events are binned at its base step
        (``step`` = 1 hour) and R is estimated over a sliding window of its multiple
        (``tau`` = 6 bins). ``"7D"`` gives EpiEstim's weekly windows on daily bins;
        ``"90min"`` is 90 one-minute bins (write ``(5400.0, 1)`` for one 90-minute bin).
        A pair ``(step seconds, tau)`` states both directly.
    generation_interval : array_like of float, optional
        The distribution ``w`` as probabilities per lag in bins: ``w[0]`` (lag 0) must be
        0; normalised to sum to 1.
    parent_delays : array_like of float, optional
        Observed parent-to-child delays (seconds), from which ``w`` is estimated by
        :func:`discrete_generation_interval` (99 % truncation). Give exactly one of
        ``generation_interval`` and ``parent_delays``.
    prior_shape, prior_scale : float
        The Gamma prior of R (EpiEstim's default: shape 1, scale 5, i.e. mean 5, sd 5).
    level : float
        Coverage of the equal-tailed credible interval ``[r_lower, r_upper]``.
    start, end : float or timestamp, optional
        Analyse only events in ``[start, end)``. The first bin starts at ``start`` (default:
        the first event's time floored to a multiple of ``step`` since the Unix epoch, so
        hourly bins start on the hour, UTC); the bins cover ``[start, end)``, the last one
        reaching past ``end`` when the span is not a whole number of steps (default: the
        last bin is the one holding the last event, so give ``end`` when the last bins are
        empty but observed).

    Returns
    -------
    DataFrame
        One row per bin: ``time`` (start of the bin, Unix seconds; the window ends with
        this bin), ``window_start`` (start of the window's first bin), ``incidence``
        (:math:`I_t`), ``infectiousness`` (:math:`\\Lambda_t`), ``n_window`` (events in the
        window), the posterior ``r_mean``, ``r_std``, ``r_median``, ``r_lower``, ``r_upper``,
        and ``reason``: ``""`` where R was estimated, else why not (the R columns are NaN,
        never inf): ``"window incomplete"`` while the window would reach back to the first
        bin (whose events have no observed cause: EpiEstim's "imported" cases), ``"window
        ends before the mean generation interval"`` (EpiEstim's rule), or ``"no
        infectiousness in window (Lambda = 0)"``.

    Raises
    ------
    BadInput
        When a time is not finite or not a time at all, or a parent delay is negative.
    InvalidParameter
        When ``window``, the prior, ``level``, ``start``/``end`` or the generation interval
        is outside its domain, or when both or neither of ``generation_interval`` and
        ``parent_delays`` are given.

    Notes
    -----
    O(n + T (L + tau)) for n events, T bins and a generation interval of L lags: binning is
    one ``bincount``, the infectiousness a direct convolution (exact zeros stay zero, so a
    window without infectiousness is detected exactly), the window sums sliding sums.
    With the first bin treated as imported and the rule ``t_end > mean(w)``, the estimates
    equal EpiEstim's ``estimate_R(method = "non_parametric_si")`` with ``t_start = 2:(T -
    tau + 1)``, ``t_end = (tau + 1):T`` (tested on its Flu2009 example).

    The model assumes every event is caused by earlier events of the same stream (or is
    imported in the first bin), a generation interval that does not change over time, and
    complete counts up to ``end`` (a stream whose latest events are still arriving reads low
    in its last bins). When most generation intervals are shorter than ``step``, ``w`` is
    nearly all at lag 1 and R(t) is close to the bin-on-bin growth factor I_t / I_{t-1}: its
    size then depends on ``step``, though whether it is above 1 hardly does.

    References
    ----------
    .. [1] A. Cori, N. M. Ferguson, C. Fraser, S. Cauchemez. A new framework and software to
       estimate time-varying reproduction numbers during epidemics. Am. J. Epidemiol. 178(9),
       1505-1512 (2013). doi:10.1093/aje/kwt133. Software: the R package EpiEstim.

    Examples
    --------
    Incidence doubling every hour, each event causing its children one hour later:

    >>> times = np.repeat(np.arange(6) * 3600.0, [1, 2, 4, 8, 16, 32])
    >>> rt = reproduction_number(times, window="2h", generation_interval=[0.0, 1.0])
    >>> rt[["incidence", "infectiousness", "r_mean", "reason"]].round(3)
       incidence  infectiousness  r_mean             reason
    0          1             0.0     NaN  window incomplete
    1          2             1.0     NaN  window incomplete
    2          4             2.0   2.188
    3          8             4.0   2.097
    4         16             8.0   2.049
    5         32            16.0   2.025
    """
    owner = "reproduction_number"
    step, tau = _parse_window(window)
    check_number(prior_shape, "prior_shape", owner, low=0, low_closed=False)
    check_number(prior_scale, "prior_scale", owner, low=0, low_closed=False)
    check_number(level, "level", owner, low=0, high=1, low_closed=False, high_closed=False)
    for name, value in (("prior_shape", prior_shape), ("prior_scale", prior_scale)):
        if not math.isfinite(float(value)):
            raise InvalidParameter(name, owner, "a finite float in the range (0, inf)", value)
    if (generation_interval is None) == (parent_delays is None):
        raise InvalidParameter(
            "generation_interval",
            owner,
            "given, or estimated from parent_delays (exactly one of the two)",
            generation_interval,
        )
    if generation_interval is not None:
        w = _check_distribution(generation_interval)
    else:
        w = discrete_generation_interval(parent_delays, step=step)  # type: ignore[arg-type]

    t = _seconds(times, "times")
    if not np.isfinite(t).all():
        raise BadInput("event times must be finite", field="times")
    lo = _scalar_seconds(start, "start", owner) if start is not None else None
    hi = _scalar_seconds(end, "end", owner) if end is not None else None
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidParameter("end", owner, f"a time after start ({lo})", end)
    if lo is not None:
        t = t[t >= lo]
    if hi is not None:
        t = t[t < hi]
    if lo is None:
        if t.size == 0:
            return _empty_rt()
        lo = math.floor(float(t.min()) / step) * step
    if hi is None:
        if t.size == 0:
            return _empty_rt()
        n_bins = int((float(t.max()) - lo) // step) + 1
    else:
        n_bins = max(1, math.ceil((hi - lo) / step))
    idx = np.minimum(((t - lo) // step).astype(np.int64), n_bins - 1)
    incidence = np.bincount(idx, minlength=n_bins).astype(np.int64)

    # Lambda_t = sum_{s >= 1} w_s I_{t-s}: a direct convolution (w[0] = 0), exact zeros kept.
    lam = np.convolve(incidence.astype(np.float64), w)[:n_bins]
    n_window = _window_sums(incidence, tau)
    lam_window = _window_sums(lam, tau)

    bins = np.arange(n_bins)
    mean_gi = float(np.dot(np.arange(w.size), w))
    reason = np.full(n_bins, "", dtype=object)
    reason[lam_window <= 0] = REASON_NO_LAMBDA
    reason[bins + 1 <= mean_gi] = REASON_EARLY
    reason[bins < tau] = REASON_INCOMPLETE
    ok = reason == ""

    shape = prior_shape + n_window[ok]
    scale = 1.0 / (1.0 / prior_scale + lam_window[ok])
    post = stats.gamma(shape, scale=scale)
    tail = (1.0 - level) / 2.0
    cols: dict[str, np.ndarray] = {}
    for name, values in (
        ("r_mean", shape * scale),
        ("r_std", np.sqrt(shape) * scale),
        ("r_median", post.ppf(0.5)),
        ("r_lower", post.ppf(tail)),
        ("r_upper", post.ppf(1.0 - tail)),
    ):
        col = np.full(n_bins, np.nan)
        col[ok] = values
        cols[name] = col
    time = lo + step * bins
    return pd.DataFrame(
        {
            "time": time,
            "window_start": time - step * (tau - 1),
            "incidence": incidence,
            "infectiousness": lam,
            "n_window": n_window,
            **cols,
            "reason": reason,
        },
        columns=list(RT_COLUMNS),
    )


def _window_sums(x: np.ndarray, tau: int) -> np.ndarray:
    """Sums over the trailing ``tau`` entries (fewer at the start), by direct convolution."""
    return np.convolve(x, np.ones(tau, dtype=x.dtype))[: x.size]


def _empty_rt() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in RT_COLUMNS})
    frame["incidence"] = frame["incidence"].astype(np.int64)
    frame["n_window"] = frame["n_window"].astype(np.int64)
    frame["reason"] = frame["reason"].astype(object)
    return frame


# ----------------------------------------------------------------------------- tipping
@dataclass(frozen=True)
class TippingPoint:
    """Where an R(t) table first satisfies the tipping rule (see :func:`tipping_point`).

    Attributes
    ----------
    time : float or None
        ``time`` of the first window of the first qualifying run: when the cascade tipped.
        None when it never did.
    confirmed : float or None
        ``time`` of the window that completes the run: the rule could be known to hold at
        the end of that bin (``confirmed + step``), not earlier.
    windows : DataFrame
        The rows of the run (empty when it never tipped).
    rule : str
        The rule, in words.
    """

    time: float | None
    confirmed: float | None
    windows: pd.DataFrame
    rule: str

    @property
    def tipped(self) -> bool:
        """Whether the rule was ever satisfied."""
        return self.time is not None


def tipping_point(
    rt_frame: pd.DataFrame, *, consecutive: int = 2, level_column: str = "r_lower"
) -> TippingPoint:
    """Find when a cascade tipped: R(t)'s lower credible bound above 1, ``consecutive`` times.

    The rule: the cascade has tipped at the first window whose ``level_column`` (by default
    the lower end of the credible interval of R(t)) is above 1, and stays above 1 for
    ``consecutive`` consecutive windows (rows) in all. A window without an estimate (NaN)
    breaks a run.

    Parameters
    ----------
    rt_frame : DataFrame
        A table like :func:`reproduction_number` returns: rows in time order, with a
        ``time`` column and ``level_column``.
    consecutive : int
        How many windows in a row must satisfy the bound (>= 1).
    level_column : str
        The column compared with 1 (``"r_mean"`` gives a looser, point-estimate rule).

    Returns
    -------
    TippingPoint
        ``time`` (None when it never tipped), ``confirmed``, the ``windows`` of the run.

    Raises
    ------
    BadInput
        When a column is missing.
    InvalidParameter
        When ``consecutive`` is not a positive int.

    Notes
    -----
    O(T) for T rows. A lower bound above 1 means the data rule out R <= 1 at the level of the
    interval; asking for two windows in a row guards against one noisy window. Sliding windows
    overlap in ``tau - 1`` bins, so consecutive windows share most of their data: for a stronger
    rule ask for ``consecutive >= tau``, which spans disjoint data.

    Examples
    --------
    >>> rt = pd.DataFrame({"time": [0.0, 1.0, 2.0, 3.0, 4.0],
    ...                    "r_lower": [float("nan"), 1.2, 0.9, 1.1, 1.3]})
    >>> tp = tipping_point(rt)
    >>> tp.time, tp.confirmed, tp.tipped
    (3.0, 4.0, True)
    >>> tipping_point(rt, consecutive=3).time is None
    True
    """
    check_number(consecutive, "consecutive", "tipping_point", kind=numbers.Integral, low=1)
    for col in ("time", level_column):
        if col not in rt_frame.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    rule = f"{level_column} > 1 for {consecutive} consecutive windows"
    values = pd.to_numeric(rt_frame[level_column], errors="coerce").to_numpy(dtype=np.float64)
    above = (values > 1.0).astype(np.int64)  # NaN compares False: no estimate breaks a run
    run = _window_sums(above, consecutive) if above.size else above
    hits = np.flatnonzero(run >= consecutive)
    if hits.size == 0:
        return TippingPoint(None, None, rt_frame.iloc[0:0], rule)
    last = int(hits[0])
    first = last - consecutive + 1
    times = rt_frame["time"].to_numpy()
    return TippingPoint(
        float(times[first]), float(times[last]), rt_frame.iloc[first : last + 1], rule
    )


@dataclass(frozen=True)
class Takeoff:
    """The take-off time of a Bass diffusion, or why there is none.

    Attributes
    ----------
    time : float or None
        :math:`t^* = \\ln(q/p) / (p + q)`, in the time unit of ``p`` and ``q``; None when
        undefined.
    reason : str
        ``""`` when ``time`` is set, else why not.
    """

    time: float | None
    reason: str


def bass_takeoff(p: float, q: float) -> Takeoff:
    """The take-off (peak-adoption) time of the Bass model, :math:`\\ln(q/p) / (p + q)`.

    In the Bass model, adoption driven by imitation (``q``) overtakes innovation (``p``) and
    the adoption rate peaks at :math:`t^* = \\ln(q/p)/(p+q)`: the point where the word-of-mouth
    loop takes over. It exists only when :math:`q > p > 0`; otherwise adoption is fastest at
    the start and there is no take-off.

    Parameters
    ----------
    p, q : float
        The coefficients of innovation and imitation (per unit time).

    Returns
    -------
    Takeoff
        ``time`` (None when undefined) and ``reason`` (``""``, or why not).

    Raises
    ------
    InvalidParameter
        When ``p`` or ``q`` is not a finite number.

    Notes
    -----
    O(1). :class:`grapevine.forecast.bass.Bass` fits ``p`` and ``q``; its ``takeoff_`` is 0
    where this function says None.

    References
    ----------
    .. [1] F. M. Bass. A new product growth for model consumer durables. Management Science
       15(5), 215-227 (1969).

    Examples
    --------
    >>> round(bass_takeoff(0.03, 0.38).time, 3)
    6.193
    >>> bass_takeoff(0.4, 0.3)
    Takeoff(time=None, reason='q <= p: imitation never overtakes innovation, no take-off')
    """
    for name, value in (("p", p), ("q", q)):
        check_number(value, name, "bass_takeoff")
        if not math.isfinite(float(value)):
            raise InvalidParameter(name, "bass_takeoff", "a finite float", value)
    p, q = float(p), float(q)
    if p <= 0 or q <= 0:
        return Takeoff(None, "p and q must both be > 0 for a take-off time")
    if q <= p:
        return Takeoff(None, "q <= p: imitation never overtakes innovation, no take-off")
    return Takeoff(math.log(q / p) / (p + q), "")
