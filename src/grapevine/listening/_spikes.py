"""Streaming spike (negative-buzz) detection on a volume series: robust z-score and EWMA.

Every score at a time ``t`` uses only the values at or before ``t``, so an alert could have been
raised when its bin closed: no look-ahead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from grapevine._validation import check_choice, check_number
from grapevine.errors import BadInput

__all__ = ["Spike", "SpikeDetector", "detect_spikes"]

_OWNER = "SpikeDetector"
_MAD_TO_SD = 1.4826
_DAY_S = 86_400


@dataclass(frozen=True)
class Spike:
    """One alert.

    Attributes
    ----------
    time : numpy.datetime64
        When it was raised: the timestamp of the bin whose value triggered it.
    index : int
        The position of that bin in the input of :meth:`SpikeDetector.detect`.
    value : float
        The count in that bin.
    expected : float
        The expected count (the level the score compares against).
    score : float
        The z-score on log counts.
    why : str
        One sentence a person can read.
    """

    time: np.datetime64
    index: int
    value: float
    expected: float
    score: float
    why: str


def _grid(
    times: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64], int]:
    """Validate and place the series on a regular grid: (seconds, values, grid idx, step)."""
    try:
        t = np.asarray(times).astype("datetime64[s]").astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"cannot read the timestamps as datetimes ({exc})", field="times") from exc
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"the values must be numbers ({exc})", field="values") from exc
    if t.ndim != 1 or v.ndim != 1 or len(t) != len(v):
        raise BadInput("times and values must be 1-d and of the same length", field="values")
    if len(t) < 2:
        raise BadInput("at least two observations are needed", field="values")
    if np.any(np.diff(t) <= 0):
        raise BadInput("timestamps must be strictly increasing", field="times")
    if np.any(v < 0):
        raise BadInput("counts must be non-negative", field="values")
    step = int(np.median(np.diff(t)))
    idx = np.rint((t - t[0]) / step).astype(np.int64)
    if np.any(np.diff(idx) <= 0):
        raise BadInput("the series is too irregular for one sampling step", field="times")
    return t, v, idx, step


class SpikeDetector:
    """Raise an alert when a volume series jumps far above its expected level.

    Parameters
    ----------
    method : {"robust", "ewma"}
        ``"robust"``: the log count against the median and MAD of past log counts, taken at
        the same time of day (``seasonal=True``: the bins within ``tolerance`` steps of this
        one on each of the previous ``history_days`` days) or over the previous day
        (``seasonal=False``). ``"ewma"``: the log count against an exponentially weighted
        mean and standard deviation (the baseline).
    threshold : float
        Alert when the score reaches this many (robust) standard deviations.
    seasonal : bool
        Robust method only: compare against the same time of day.
    history_days : int
        Robust seasonal method: days of history.
    tolerance : int
        Robust seasonal method: bins either side of the same time of day.
    alpha : float
        EWMA method: the weight of the newest bin, in (0, 1).
    smooth : int
        Average the log counts over this many bins (the current one included) first.
    cooldown_hours : float
        After an alert, no new alert for this long (one story, one alert).
    min_scale : float
        A floor on the spread of log counts, so a flat series does not alert on noise.

    Attributes
    ----------
    step_s_ : int
        The sampling step in seconds, inferred by :meth:`fit`.
    scores_ : ndarray
        The score of every fitted bin (NaN during the warm-up).
    expected_ : ndarray
        The expected count of every fitted bin (NaN during the warm-up).
    spikes_ : list of Spike
        The alerts on the fitted series.

    Notes
    -----
    O(n L) time for ``n`` bins and ``L`` history bins per score (``L = history_days *
    (2 tolerance + 1)`` seasonal, one day of bins otherwise); O(n) for EWMA.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange("2015-03-01", "2015-03-11", 60, dtype="datetime64[m]")  # hourly, 10 days
    >>> counts = 50 + 20 * np.sin(2 * np.pi * np.arange(len(t)) / 24)
    >>> counts[200] = 400
    >>> [(str(s.time), int(s.value)) for s in SpikeDetector().fit(t, counts).spikes_]
    [('2015-03-09T08:00:00', 400)]
    """

    def __init__(
        self,
        method: str = "robust",
        *,
        threshold: float = 5.0,
        seasonal: bool = True,
        history_days: int = 7,
        tolerance: int = 2,
        alpha: float = 0.02,
        smooth: int = 3,
        cooldown_hours: float = 24.0,
        min_scale: float = 0.1,
    ) -> None:
        self.method = method
        self.threshold = threshold
        self.seasonal = seasonal
        self.history_days = history_days
        self.tolerance = tolerance
        self.alpha = alpha
        self.smooth = smooth
        self.cooldown_hours = cooldown_hours
        self.min_scale = min_scale

    def _validate(self) -> None:
        check_choice(self.method, "method", _OWNER, ("robust", "ewma"))
        check_number(self.threshold, "threshold", _OWNER, low=0, low_closed=False)
        check_number(self.history_days, "history_days", _OWNER, kind=numbers.Integral, low=1)
        check_number(self.tolerance, "tolerance", _OWNER, kind=numbers.Integral, low=0)
        check_number(self.alpha, "alpha", _OWNER, low=0, high=1, low_closed=False,
                     high_closed=False)  # fmt: skip
        check_number(self.smooth, "smooth", _OWNER, kind=numbers.Integral, low=1)
        check_number(self.cooldown_hours, "cooldown_hours", _OWNER, low=0)
        check_number(self.min_scale, "min_scale", _OWNER, low=0, low_closed=False)
        if not isinstance(self.seasonal, bool):
            from grapevine.errors import InvalidParameter

            raise InvalidParameter("seasonal", _OWNER, "a bool", self.seasonal)

    # ------------------------------------------------------------------ public
    def fit(self, times: npt.ArrayLike, values: npt.ArrayLike) -> SpikeDetector:
        """Score the series causally and keep it as the history for :meth:`detect`."""
        self._validate()
        t, v, idx, step = _grid(times, values)
        self.step_s_ = step
        self._t, self._v = t, v
        score, expected, alerts = self._run(t, v, idx, step)
        self.scores_ = score
        self.expected_ = expected
        self.spikes_ = [self._spike(i, i, t, v, expected, score) for i in alerts]
        return self

    def detect(self, times: npt.ArrayLike, values: npt.ArrayLike) -> list[Spike]:
        """The alerts on new bins that follow the fitted series (scored with it as history).

        Unfitted, it scores ``times`` and ``values`` on their own (``fit(...).spikes_``).
        """
        if not hasattr(self, "_t"):
            return self.fit(times, values).spikes_
        self._validate()
        t_new = np.asarray(times).astype("datetime64[s]").astype(np.int64)
        if len(t_new) == 0:
            return []
        if t_new[0] <= self._t[-1]:
            raise BadInput("new bins must come after the fitted series", field="times")
        t_all = np.concatenate([self._t.astype("datetime64[s]"), t_new.astype("datetime64[s]")])
        v_all = np.concatenate([self._v, np.asarray(values, dtype=np.float64)])
        t, v, idx, step = _grid(t_all, v_all)
        score, expected, alerts = self._run(t, v, idx, step)
        n0 = len(self._t)
        return [self._spike(i, i - n0, t, v, expected, score) for i in alerts if i >= n0]

    # ------------------------------------------------------------------ internals
    def _run(
        self,
        t: npt.NDArray[np.int64],
        v: npt.NDArray[np.float64],
        idx: npt.NDArray[np.int64],
        step: int,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[int]]:
        g = np.full(int(idx[-1]) + 1, np.nan)
        g[idx] = np.log1p(v)
        g = _causal_mean(g, int(self.smooth))
        per_day = max(1, round(_DAY_S / step))
        if self.method == "ewma":
            level, scale = _ewma(g, float(self.alpha), warmup=per_day)
        else:
            if self.seasonal:
                tol = int(self.tolerance)
                lags = np.array(
                    [
                        k * per_day + j
                        for k in range(1, int(self.history_days) + 1)
                        for j in range(-tol, tol + 1)
                    ]
                )
            else:
                lags = np.arange(1, per_day + 1)
            level, scale = _robust(g, lags)
        scale = np.maximum(scale, float(self.min_scale))
        z = (g - level) / scale
        z_pts = z[idx]
        lvl_pts = level[idx]
        cooldown = float(self.cooldown_hours) * 3600 / step
        alerts = _alerts(z_pts, idx, float(self.threshold), cooldown)
        return z_pts, np.expm1(lvl_pts), alerts

    def _spike(
        self,
        i: int,
        pos: int,
        t: npt.NDArray[np.int64],
        v: npt.NDArray[np.float64],
        expected: npt.NDArray[np.float64],
        score: npt.NDArray[np.float64],
    ) -> Spike:
        if self.method == "ewma":
            basis = f"its exponentially weighted average (alpha {self.alpha:g})"
        elif self.seasonal:
            basis = f"the median at this time of day over the previous {self.history_days} days"
        else:
            basis = "the median over the previous 24 hours"
        bins = "" if self.smooth == 1 else f" (log counts averaged over {self.smooth} bins)"
        stats = (
            f"expected {expected[i]:.3g} ({basis}), z = {score[i]:.1f} on log counts{bins}, "
            f"threshold {self.threshold:g}"
        )
        why = f"{_headline(int(t[i]), float(v[i]), float(expected[i]), self)}. Statistics: {stats}."
        return Spike(
            time=np.datetime64(int(t[i]), "s"),
            index=int(pos),
            value=float(v[i]),
            expected=float(expected[i]),
            score=float(score[i]),
            why=why,
        )


def _headline(t: int, value: float, expected: float, det: SpikeDetector) -> str:
    """The alert in a marketer's words: how many times the usual volume, and for when.

    >>> det = SpikeDetector()
    >>> _headline(1704808800, 51.0, 16.0, det)  # a Tuesday, 14:00 UTC
    '3.2× the usual volume for a Tuesday 14:00 UTC: 51 mentions where about 16 is usual'
    >>> _headline(1704808800, 12.0, 0.2, det)
    '12 mentions for a Tuesday 14:00 UTC, where there are usually almost none'
    """
    stamp = np.datetime64(t, "s").astype(datetime)
    if det.method == "robust" and det.seasonal:
        moment = f"for a {stamp:%A %H:%M} UTC"
    elif det.method == "robust":
        moment = f"on {stamp:%A %H:%M} UTC, against the 24 hours before"
    else:
        moment = f"on {stamp:%A %H:%M} UTC, against the recent average"
    if expected < 0.5:
        return f"{value:g} mentions {moment}, where there are usually almost none"
    ratio = value / expected
    times = f"{ratio:.1f}×" if ratio < 10 else f"{ratio:,.0f}×"
    usual = f"{expected:,.0f}" if expected >= 10 else f"{expected:.1f}"
    return f"{times} the usual volume {moment}: {value:g} mentions where about {usual} is usual"


def _alerts(
    z: npt.NDArray[np.float64], idx: npt.NDArray[np.int64], threshold: float, cooldown: float
) -> list[int]:
    """Rows whose score reaches ``threshold``, at least ``cooldown`` grid steps apart."""
    alerts: list[int] = []
    last = -math.inf
    for i in np.flatnonzero(z >= threshold).tolist():
        if idx[i] - last > cooldown:
            alerts.append(i)
            last = float(idx[i])
    return alerts


def _causal_mean(g: npt.NDArray[np.float64], m: int) -> npt.NDArray[np.float64]:
    """The NaN-aware mean of the last ``m`` grid values (the current one included)."""
    if m == 1:
        return g
    ok = ~np.isnan(g)
    cs = np.concatenate([[0.0], np.cumsum(np.where(ok, g, 0.0))])
    cn = np.concatenate([[0], np.cumsum(ok)])
    hi = np.arange(1, len(g) + 1)
    lo = np.maximum(hi - m, 0)
    cnt = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: npt.NDArray[np.float64] = (cs[hi] - cs[lo]) / cnt
    out[~ok] = np.nan  # a missing bin stays missing
    return out


def _robust(
    g: npt.NDArray[np.float64], lags: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Median and MAD-based sd of ``g[i - lag]`` over ``lags`` (>= 1), NaN when < half there."""
    n = len(g)
    rows = np.arange(n)[:, None] - lags[None, :]
    hist = np.where(rows >= 0, g[np.clip(rows, 0, None)], np.nan)
    enough = np.sum(~np.isnan(hist), axis=1) >= max(1, len(lags) // 2)
    level = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    if enough.any():
        h = hist[enough]
        med = np.nanmedian(h, axis=1)
        level[enough] = med
        scale[enough] = _MAD_TO_SD * np.nanmedian(np.abs(h - med[:, None]), axis=1)
    return level, scale


def _ewma(
    g: npt.NDArray[np.float64], alpha: float, *, warmup: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """EWMA mean and sd *before* each bin (NaN during the first ``warmup`` bins)."""
    n = len(g)
    level = np.full(n, np.nan)
    scale = np.full(n, np.nan)
    m = math.nan
    var = 0.0
    seen = 0
    for i in range(n):
        x = g[i]
        if seen >= warmup:
            level[i] = m
            scale[i] = math.sqrt(var)
        if math.isnan(x):
            continue
        if seen == 0:
            m = x
        else:
            d = x - m
            m += alpha * d
            var = (1 - alpha) * (var + alpha * d * d)
        seen += 1
    return level, scale


def detect_spikes(
    times: Sequence[object] | npt.ArrayLike,
    values: Sequence[float] | npt.ArrayLike,
    method: str = "robust",
    **params: object,
) -> list[Spike]:
    """The function twin of :class:`SpikeDetector`: ``SpikeDetector(...).fit(...).spikes_``.

    >>> import numpy as np
    >>> t = np.arange("2015-03-01", "2015-03-11", 60, dtype="datetime64[m]")
    >>> counts = np.full(len(t), 30.0)
    >>> counts[-1] = 300
    >>> [round(s.expected) for s in detect_spikes(t, counts, threshold=5)]
    [30]
    """
    det = SpikeDetector(method, **params)  # type: ignore[arg-type]
    return det.fit(np.asarray(times), np.asarray(values)).spikes_
