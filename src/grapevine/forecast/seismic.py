"""SEISMIC: final-size forecasts of a reshare cascade from its reshare times and degrees.

A faithful port of the R package ``seismic`` 1.1 (Hera He, Murat Erdogdu, Qingyuan Zhao; CRAN,
GitHub mirror ``cran/seismic`` at commit b1bc6c9f978369f0b11f91c89c2c5b62a87b038e, file
``R/tweetfunctions.R``), the reference implementation of Zhao et al. (KDD 2015) [1]_.

The model (a self-exciting point process): reshare :math:`i`, made at :math:`t_i` by a user with
:math:`n_i` followers, exposes them to the post; each exposed follower reshares after a reaction
time drawn from the memory kernel :math:`\\phi` with probability :math:`p_t`, the infectiousness
of the post at time :math:`t`. So the reshare rate is

.. math::

    \\lambda(t) = p_t \\sum_{t_i \\le t} n_i \\, \\phi(t - t_i), \\qquad
    \\phi(s) = \\begin{cases} c & 0 \\le s < s_0 \\\\ c \\, (s / s_0)^{-(1 + \\theta)} & s \\ge s_0
    \\end{cases}

with the package's constants :data:`THETA`, :data:`CUTOFF` (:math:`s_0`, 5 minutes) and
:data:`C`, measured on Twitter. Three public functions mirror the R ones:

- :func:`memory_pdf`, :func:`memory_ccdf`: R ``memory.pdf`` and ``memory.ccdf``;
- :func:`get_infectiousness`: R ``get.infectiousness``, the kernel-weighted local estimate of
  :math:`p_t` and its approximate confidence bounds;
- :func:`pred_cascade`: R ``pred.cascade``, the predicted final number of reshares.

:class:`Seismic` (and its twin :func:`seismic_forecast`) wraps them in Grapevine's estimator
contract and returns a :class:`~grapevine.forecast._result.Forecast` that never carries an
infinite point silently: a post whose infectiousness is above the threshold gets the status
``"supercritical"`` (R returns ``Inf``), a post with too few reshares ``"too young"``.

Variable names in the code follow the R source (``slopes``, ``windows``, ``lcv``,
``rt.count.weighted``, ``rt0``, ``rt1``, ...) and comments quote the R lines they port.

References
----------
.. [1] Zhao, Erdogdu, He, Rajaraman, Leskovec. "SEISMIC: A Self-Exciting Point Process Model
   for Predicting Tweet Popularity." KDD 2015, pp. 1513-1522. arXiv:1506.02594.
   Package and data: http://snap.stanford.edu/seismic/
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaincinv

from grapevine._validation import check_number
from grapevine.errors import BadInput, InvalidParameter
from grapevine.forecast._checks import as_floats
from grapevine.forecast._result import Forecast

__all__ = [
    "CUTOFF",
    "FEATURE_NAMES",
    "LEVEL",
    "MAX_WINDOW",
    "MIN_COUNT",
    "MIN_WINDOW",
    "N_STAR",
    "THETA",
    "C",
    "CascadePrediction",
    "Infectiousness",
    "Seismic",
    "SeismicForecast",
    "get_infectiousness",
    "memory_ccdf",
    "memory_pdf",
    "pred_cascade",
    "seismic_forecast",
]

FloatArray = NDArray[np.float64]

MODEL = "seismic"

# ------------------------------------------------------------------ the package's constants
#: Exponent of the power-law tail of the memory kernel (R: ``theta = 0.2314843``).
THETA = 0.2314843
#: Reaction time, in seconds, where the kernel turns from constant to power law (R: ``cutoff =
#: 300``; :math:`s_0` = 5 minutes in the paper).
CUTOFF = 300.0
#: Constant density of the kernel below the cutoff (R: ``c = 0.0006265725``). With these three
#: values the kernel integrates to 1 - 1.8e-7 (the constants are rounded).
C = 0.0006265725
#: Largest span of the estimation window, seconds (R: ``max.window = 2 * 60 * 60``).
MAX_WINDOW = 2.0 * 60.0 * 60.0
#: Smallest span of the estimation window, seconds (R: ``min.window = 300``).
MIN_WINDOW = 300.0
#: Fewest resharings in the window before it is widened (R: ``min.count = 5``).
MIN_COUNT = 5
#: Average degree (followers) of a future resharer (R: ``n.star = 100``).
N_STAR = 100.0
#: Columns of the feature matrix of :func:`pred_cascade` (R: ``colnames(features)``).
FEATURE_NAMES = ("current.rt", "numerator", "infectiousness")
#: Quantiles of the chi-square bounds of the infectiousness (R: ``qchisq(0.05, ...)`` and
#: ``qchisq(0.95, ...)``), hence the level of the forecast interval.
_Q_LOW, _Q_UP = 0.05, 0.95
#: Level of the forecast interval: from the 5th to the 95th percentile of p_t.
LEVEL = 0.9
#: Grid of the finite-horizon forecast: steps of this many seconds over the first
#: ``_HEAD_SPAN`` seconds, then this many points per decade (geometric).
_HEAD_STEP, _HEAD_SPAN, _PER_DECADE = 5.0, 900.0, 64


# ------------------------------------------------------------------------------ results
class Infectiousness(NamedTuple):
    """What :func:`get_infectiousness` returns (R: ``list(infectiousness, p.up, p.low)``)."""

    infectiousness: FloatArray
    p_up: FloatArray
    p_low: FloatArray


class CascadePrediction(NamedTuple):
    """What :func:`pred_cascade` returns with ``features_return=True``.

    ``features`` has one row per prediction time and the columns :data:`FEATURE_NAMES`:
    the reshares so far, the numerator ``rt1`` and the infectiousness.
    """

    prediction: FloatArray
    features: FloatArray


@dataclass(frozen=True)
class SeismicForecast(Forecast):
    """A :class:`~grapevine.forecast._result.Forecast` with SEISMIC's own quantities.

    Counts (``final_size``, ``interval``, ``observed``) include the original post, like every
    Forecast; R's ``pred.cascade`` counts reshares only (``params["pred_cascade"]`` holds
    that number, ``final_size - 1`` when the horizon is infinite).

    Attributes
    ----------
    infectiousness : float
        :math:`p_t` at ``at`` (R: ``infectiousness``), computed whatever the status.
    infectiousness_interval : tuple of float
        ``(p_low, p_up)`` (R: ``p.low``, ``p.up``).
    at : float
        When the forecast was made, seconds after the original post.
    horizon : float
        How far ahead of ``at`` the size is forecast; ``inf`` for the final size.
    """

    infectiousness: float = math.nan
    infectiousness_interval: tuple[float, float] = (math.nan, math.nan)
    at: float = math.nan
    horizon: float = math.inf


# ------------------------------------------------------------------------ memory kernel
def memory_pdf(
    t: ArrayLike, *, theta: float = THETA, cutoff: float = CUTOFF, c: float = C
) -> FloatArray:
    """Density of the reaction time (the memory kernel :math:`\\phi`), R ``memory.pdf``.

    Parameters
    ----------
    t : array_like of float
        Reaction times, seconds (non-negative).
    theta, cutoff, c : float
        Power-law exponent, cutoff and constant density (the package's defaults).

    Returns
    -------
    ndarray
        ``c`` where ``t < cutoff``, else ``c * (t / cutoff) ** -(1 + theta)``.

    Notes
    -----
    R's ``memory.pdf`` takes a scalar (``if (t < cutoff)``); this one is vectorised, with the
    same expression ``c * exp((log(t) - log(cutoff)) * -(1 + theta))``.

    Examples
    --------
    >>> memory_pdf([0.0, 299.0, 300.0, 3000.0]).round(10).tolist()
    [0.0006265725, 0.0006265725, 0.0006265725, 3.67694e-05]
    """
    t = np.asarray(t, dtype=np.float64)
    out = np.full(t.shape, c, dtype=np.float64)
    tail = t >= cutoff
    # R: c*exp((log(t) - log(cutoff))*(-(1+theta)))
    out[tail] = c * np.exp((np.log(t[tail]) - math.log(cutoff)) * (-(1 + theta)))
    return out


def memory_ccdf(
    t: ArrayLike, *, theta: float = THETA, cutoff: float = CUTOFF, c: float = C
) -> FloatArray:
    """Probability that the reaction time exceeds ``t``, R ``memory.ccdf``.

    Parameters
    ----------
    t : array_like of float
        Times, seconds; negative ones count as 0.
    theta, cutoff, c : float
        Power-law exponent, cutoff and constant density (the package's defaults).

    Returns
    -------
    ndarray
        ``1 - c * t`` up to the cutoff, ``c * cutoff ** (1 + theta) / theta * t ** -theta``
        beyond it.

    Examples
    --------
    >>> memory_ccdf([-5.0, 0.0, 300.0, 86400.0]).round(8).tolist()
    [1.0, 1.0, 0.81202825, 0.21890733]
    """
    t = np.maximum(np.asarray(t, dtype=np.float64), 0.0)  # R: t[t<0] <- 0
    ccdf = np.zeros(t.shape, dtype=np.float64)
    index1 = t <= cutoff
    index2 = t > cutoff
    ccdf[index1] = 1 - c * t[index1]
    ccdf[index2] = c * cutoff ** (1 + theta) / theta * (t[index2] ** (-theta))
    return ccdf


# ------------------------------------------------------- integrals of kernel x memory
def _linear_kernel(t1: ArrayLike, t2: ArrayLike, ptime: float, slope: float) -> FloatArray:
    """R ``linear.kernel``: integral from t1 to t2 of ``c * (slope * (t - ptime) + 1)``."""
    t1 = np.asarray(t1, dtype=np.float64)
    t2 = np.asarray(t2, dtype=np.float64)
    # R: c*(t2-ptime*slope*t2+slope*t2^2/2) - c*(t1-ptime*slope*t1+slope*t1^2/2)
    return C * (t2 - ptime * slope * t2 + slope * t2**2 / 2) - C * (
        t1 - ptime * slope * t1 + slope * t1**2 / 2
    )


def _power_kernel(
    t1: ArrayLike, t2: ArrayLike, ptime: float, share_time: FloatArray, slope: float
) -> FloatArray:
    """R ``power.kernel``: integral from t1 to t2 of
    ``c * ((t - share_time) / cutoff) ** -(1 + theta) * (slope * (t - ptime) + 1)``."""
    t1 = np.asarray(t1, dtype=np.float64)
    t2 = np.asarray(t2, dtype=np.float64)
    theta, cutoff, c, s = THETA, CUTOFF, C, share_time
    # R: c*cutoff^(1+theta)*(t2-share.time)^(-theta)*(share.time*slope-theta+(theta-1)*ptime*
    #    slope-theta*slope*t2+1)/((theta-1)*theta) - (the same at t1)
    upper = (
        c
        * cutoff ** (1 + theta)
        * (t2 - s) ** (-theta)
        * (s * slope - theta + (theta - 1) * ptime * slope - theta * slope * t2 + 1)
        / ((theta - 1) * theta)
    )
    lower = (
        c
        * cutoff ** (1 + theta)
        * (t1 - s) ** (-theta)
        * (s * slope - theta + (theta - 1) * ptime * slope - theta * slope * t1 + 1)
        / ((theta - 1) * theta)
    )
    integral: FloatArray = upper - lower
    return integral


def _integral_memory_kernel(
    p_time: float, share_time: FloatArray, slope: float, window: float
) -> FloatArray:
    """R ``integral.memory.kernel``: for each share, the integral over the window of the
    triangular kernel ``slope * (t - p_time) + 1`` times the memory kernel ``phi(t - share)``.

    The five cases of R (window before the share, inside the constant part, ...) are assigned
    in R's order, so that where two overlap (possible only when ``window < cutoff``) the later
    one wins, as in R.
    """
    s, p, w, cutoff = share_time, p_time, window, CUTOFF
    index1 = p <= s
    index2 = (p > s) & (p <= s + cutoff)
    index3 = (p > s + cutoff) & (p <= s + w)
    index4 = (p > s + w) & (p <= s + w + cutoff)
    index5 = p > s + w + cutoff
    integral = np.full(s.shape, np.nan)  # R: rep(NA, length(share.time))
    integral[index1] = 0.0
    integral[index2] = _linear_kernel(s[index2], p, p, slope)
    s3 = s[index3]
    integral[index3] = _linear_kernel(s3, s3 + cutoff, p, slope) + _power_kernel(
        s3 + cutoff, p, p, s3, slope
    )
    s4 = s[index4]
    integral[index4] = _linear_kernel(p - w, s4 + cutoff, p, slope) + _power_kernel(
        s4 + cutoff, p, p, s4, slope
    )
    integral[index5] = _power_kernel(p - w, p, p, s[index5], slope)
    return integral


# ------------------------------------------------------------------ get.infectiousness
def get_infectiousness(
    share_time: ArrayLike,
    degree: ArrayLike,
    pred_time: ArrayLike,
    *,
    max_window: float = MAX_WINDOW,
    min_window: float = MIN_WINDOW,
    min_count: int = MIN_COUNT,
) -> Infectiousness:
    """Estimate the infectiousness of a cascade at each prediction time (R ``get.infectiousness``).

    At time :math:`t` the estimate is the kernel-weighted count of recent reshares over the
    kernel-weighted exposure they came from ([1]_):

    .. math::

        \\hat p_t = \\frac{\\sum_{i \\ge 2,\\; t - h_t \\le t_i < t} K_t(t_i)}
        {\\sum_{t_i < t} n_i \\int_{t - h_t}^{t} K_t(s)\\, \\phi(s - t_i)\\, ds},
        \\qquad K_t(s) = 1 - (t - s) / h_t,

    a triangular kernel over the left window :math:`[t - h_t, t]` with
    :math:`h_t = \\min(\\max(t/2, \\text{min\\_window}), \\text{max\\_window})`. When fewer than
    ``min_count`` events (the original post counted) fall in that window, it is widened back
    to the event ``min_count`` places before the last one before :math:`t` (R's
    ``ind2[max(lcv - min.count, 1)]``), or to the original post when there are fewer events,
    and the slope becomes 1 / (the new span).

    Parameters
    ----------
    share_time : array_like of float
        Times of the original post (first) and of its reshares, seconds since the post,
        sorted, non-negative (R: ``share.time``, ``share.time[1] = 0``).
    degree : array_like of float
        Followers of each poster, non-negative, aligned with ``share_time``.
    pred_time : array_like of float
        Times at which to estimate, seconds, non-negative, any order (R: ``p.time``).
    max_window, min_window : float
        Bounds of the window span :math:`h_t`, seconds (R: ``max.window``, ``min.window``).
    min_count : int
        Fewest events in the window before it is widened (R: ``min.count``).

    Returns
    -------
    Infectiousness
        Named tuple of arrays aligned with ``pred_time``: ``infectiousness`` (:math:`\\hat
        p_t`), ``p_up`` and ``p_low``, the estimate times ``qchisq(q, 2k) / (2k)`` for
        q = 0.95 and 0.05, where k is the number of reshares in the window. All three are 0
        where no reshare falls in the window (R's ``next``).

    Raises
    ------
    BadInput
        When the arrays are empty, of different lengths, not finite, negative or unsorted.
    InvalidParameter
        When a window or ``min_count`` is out of its domain.

    Notes
    -----
    The R documentation calls ``p.up``/``p.low`` a 95 percent interval; being the 5th and 95th
    percentiles, they bound a two-sided 90 percent interval (or are two one-sided 95 percent
    bounds). R sorts ``share.time`` but not ``degree`` (a mismatch for unsorted input); this
    port requires sorted input instead.

    Complexity: :math:`O(m\\,n)` for m prediction times and n events, vectorised over the
    events (one loop over the prediction times, each using only the events before it).

    Examples
    --------
    >>> share_time = [0, 10, 20, 35, 60, 90, 140, 200, 260, 330]
    >>> degree = [5000, 250, 400, 600, 150, 300, 200, 450, 100, 350]
    >>> p, p_up, p_low = get_infectiousness(share_time, degree, [0, 100, 400])
    >>> p.round(7).tolist()
    [0.0, 0.0127528, 0.0028605]
    >>> bool(p_low[2] < p[2] < p_up[2])
    True
    """
    owner = "get_infectiousness"
    s, n = _check_cascade(share_time, degree, owner)
    p = _check_times(pred_time, "pred_time")
    check_number(max_window, "max_window", owner, low=0, low_closed=False, high_closed=False)
    check_number(min_window, "min_window", owner, low=0, low_closed=False, high_closed=False)
    check_number(min_count, "min_count", owner, kind=numbers.Integral, low=0)
    max_window, min_window, min_count = float(max_window), float(min_window), int(min_count)

    with np.errstate(divide="ignore"):
        slopes = 1 / (p / 2)  # R: slopes <- 1/(p.time/2)
    slopes[slopes < 1 / max_window] = 1 / max_window
    slopes[slopes > 1 / min_window] = 1 / min_window
    windows = p / 2  # R: windows <- p.time/2
    windows[windows > max_window] = max_window
    windows[windows < min_window] = min_window

    # R: for each j, ind <- which(share.time >= p.time[j] - windows[j] & share.time < p.time[j])
    lcv = np.searchsorted(s, p, side="left")  # R: lcv <- length(which(share.time < p.time[j]))
    count = lcv - np.searchsorted(s, p - windows, side="left")  # R: length(ind)
    short = count < min_count  # R: if(length(ind) < min.count)
    grow = short & (lcv > 0)
    # R: ind <- ind2[max((lcv-min.count),1):lcv]; ind[1] is (1-based) max(lcv - min.count, 1)
    first = np.maximum(lcv[grow] - min_count, 1) - 1
    span = p[grow] - s[first]
    slopes[grow] = 1 / span  # R: slopes[j] <- 1/(p.time[j] - share.time[ind[1]])
    windows[grow] = span  # R: windows[j] <- p.time[j] - share.time[ind[1]]
    # With no event before p.time[j], R's ind[1] is NA and so are the slope and the window.
    slopes[short & (lcv == 0)] = np.nan
    windows[short & (lcv == 0)] = np.nan

    m = len(p)
    infectiousness = np.zeros(m)  # R: infectiousness.seq <- rep(0, length(p.time))
    rt_num = np.zeros(m, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(m):
            k = int(lcv[j])
            if k == 0:  # nothing before p.time[j]: every integral is 0, no reshare counted
                continue
            # R: M.I[,j] <- degree*integral.memory.kernel(...); I <- sum(M.I[,j]). Events at or
            # after p.time[j] have integral 0 (R's index1), so only the first k are summed.
            integral = _integral_memory_kernel(float(p[j]), s[:k], slopes[j], windows[j])
            total = np.sum(n[:k] * integral)
            # R: share.time <- share.time[-1]; share.time.tri <- share.time[which(share.time >=
            #    p.time[j] - windows[j] & share.time < p.time[j])]
            lo = max(int(np.searchsorted(s, p[j] - windows[j], side="left")), 1)
            share_time_tri = s[lo:k]
            # R: rt.count.weighted <- sum(slopes[j]*(share.time.tri - p.time[j]) + 1)
            rt_count_weighted = np.sum(slopes[j] * (share_time_tri - p[j]) + 1)
            if rt_count_weighted == 0:  # R: next
                continue
            infectiousness[j] = rt_count_weighted / total
            rt_num[j] = len(share_time_tri)
        done = rt_num > 0
        df = 2 * rt_num[done]
        # R: p.low.seq[j] <- infectiousness.seq[j] * qchisq(0.05, 2*rt.num) / (2*rt.num)
        p_low = np.zeros(m)
        p_up = np.zeros(m)
        p_low[done] = infectiousness[done] * _qchisq(_Q_LOW, df) / df
        p_up[done] = infectiousness[done] * _qchisq(_Q_UP, df) / df
    return Infectiousness(infectiousness, p_up, p_low)


def _qchisq(q: float, df: NDArray[np.int64]) -> FloatArray:
    """Quantile ``q`` of chi-square with ``df`` degrees of freedom (R ``qchisq(q, df)``)."""
    quantile: FloatArray = 2.0 * gammaincinv(df / 2.0, q)
    return quantile


# ------------------------------------------------------------------------ pred.cascade
@overload
def pred_cascade(
    pred_time: ArrayLike,
    infectiousness: ArrayLike,
    share_time: ArrayLike,
    degree: ArrayLike,
    *,
    n_star: float | ArrayLike = ...,
    features_return: Literal[False] = ...,
) -> FloatArray: ...
@overload
def pred_cascade(
    pred_time: ArrayLike,
    infectiousness: ArrayLike,
    share_time: ArrayLike,
    degree: ArrayLike,
    *,
    n_star: float | ArrayLike = ...,
    features_return: Literal[True],
) -> CascadePrediction: ...
def pred_cascade(
    pred_time: ArrayLike,
    infectiousness: ArrayLike,
    share_time: ArrayLike,
    degree: ArrayLike,
    *,
    n_star: float | ArrayLike = N_STAR,
    features_return: bool = False,
) -> FloatArray | CascadePrediction:
    """Predict the final number of reshares at each prediction time (R ``pred.cascade``).

    .. math::

        \\hat R_\\infty(t) = R_t + \\frac{p_t \\sum_{t_i \\le t} n_i \\,
        (1 - \\Phi(t - t_i))}{1 - p_t \\, n^*}

    where :math:`R_t` is the number of reshares up to :math:`t` (the original post not
    counted) and :math:`1 - \\Phi` is :func:`memory_ccdf`. Where :math:`p_t > 1 / n^*` the
    formula's denominator is negative and R sets the prediction to ``Inf``; so does this port.

    Parameters
    ----------
    pred_time : array_like of float
        Times of the predictions, seconds, non-negative (R: ``p.time``).
    infectiousness : array_like of float
        :math:`p_t` at each prediction time, e.g. from :func:`get_infectiousness`.
    share_time, degree : array_like of float
        The cascade, as for :func:`get_infectiousness`.
    n_star : float or array_like of float, default 100
        Average degree of a future resharer, one for all times or one per time (R:
        ``n.star``).
    features_return : bool, default False
        Also return the feature matrix (R: ``features.return``): per time, the reshares so
        far ``rt0``, the numerator ``rt1`` and :math:`p_t`, for calibrating ``n_star``.

    Returns
    -------
    ndarray or CascadePrediction
        The predictions (``inf`` where supercritical); with ``features_return`` a named tuple
        ``(prediction, features)``.

    Raises
    ------
    BadInput
        When an array is malformed or of the wrong length.

    Notes
    -----
    This is the package's predictor as it is: R 1.1 applies no calibration constants (only
    ``n.star``), and neither does this port. R's ``features.return`` "returns a matrix of
    features to be used to further calibrate the prediction", left to the caller.
    Complexity :math:`O(m\\,n)`.

    Examples
    --------
    >>> share_time = [0, 10, 20, 35, 60, 90, 140, 200, 260, 330]
    >>> degree = [5000, 250, 400, 600, 150, 300, 200, 450, 100, 350]
    >>> p = get_infectiousness(share_time, degree, [100, 400]).infectiousness
    >>> pred_cascade([100, 400], p, share_time, degree).round(4).tolist()
    [inf, 33.479]

    At 100 s the estimate (0.0128) is above 1/n_star = 0.01: R's ``Inf``.
    """
    s, n = _check_cascade(share_time, degree, "pred_cascade")
    p = _check_times(pred_time, "pred_time")
    inf = _check_aligned(infectiousness, "infectiousness", len(p))
    ns = np.asarray(n_star, dtype=np.float64)
    if ns.ndim == 0:  # R: if (length(n.star) == 1) n.star <- rep(n.star, length(p.time))
        ns = np.full(len(p), float(ns))
    ns = _check_aligned(ns, "n_star", len(p))

    # R: sum(share.time <= p.time[i]); share.time is sorted here
    k_now = np.searchsorted(s, p, side="right")
    prediction = np.zeros(len(p))
    features = np.zeros((len(p), 3))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(len(p)):
            k = int(k_now[i])
            rt0 = k - 1  # R: rt0 <- sum(share.time <= p.time[i]) - 1
            # R: rt1 <- sum(nf.now * infectiousness[i] * memory.ccdf(p.time[i] - share.time.now))
            rt1 = np.sum(n[:k] * inf[i] * memory_ccdf(p[i] - s[:k]))
            prediction[i] = rt0 + rt1 / (1 - inf[i] * ns[i])
            features[i] = (rt0, rt1, inf[i])
            if inf[i] > 1 / ns[i]:  # R: if (infectiousness[i] > 1/n.star[i]) Inf
                prediction[i] = np.inf
    if not features_return:
        return prediction
    return CascadePrediction(prediction, features)


# ------------------------------------------------------------------------- estimator
class Seismic:
    """Forecast the final size of a reshare cascade with SEISMIC.

    Parameters
    ----------
    n_star : float, default 100
        Average degree (followers) of a future resharer (R: ``n.star``); the cascade is
        supercritical when :math:`p_t > 1 / n^*`.
    max_window, min_window : float, default 7200 and 300
        Bounds of the estimation window, seconds (R: ``max.window``, ``min.window``).
    min_count : int, default 5
        Fewest events in the window before it is widened (R: ``min.count``).
    min_reshares : int, default 5
        Fewer reshares than this observed by ``at`` (the original post not counted) give a
        ``"too young"`` forecast. Not part of the R package: with fewer than ``min_count``
        reshares R's window spans the whole history and the estimate rests on a handful of
        events, so the default equals ``min_count``.

    Attributes
    ----------
    share_time_, degree_ : ndarray
        The observed cascade (sorted times, float degrees).
    n_events_ : int
        Events in it, the original post included.

    Notes
    -----
    **Point.** ``predict(at)`` runs :func:`get_infectiousness` and :func:`pred_cascade` at
    ``at`` on the events up to ``at`` (events after it are never looked at), and adds the
    original post: ``final_size = 1 + pred.cascade``, so that it counts events like every
    :class:`~grapevine.forecast._result.Forecast`.

    **Interval.** R gives bounds on :math:`p_t` only (``p.low``, ``p.up``: its 5th and 95th
    chi-square percentiles). The prediction is increasing in :math:`p_t` (its derivative is
    :math:`S / (1 - p n^*)^2 \\ge 0`), so the interval is the image of ``[p.low, p.up]``: the
    prediction at ``p.low`` and at ``p.up``, level 0.9. Its upper end is ``inf`` when
    ``p.up > 1/n_star`` (the data do not rule out a supercritical cascade). It reflects the
    uncertainty of :math:`p_t` only, not the randomness of the future reshares nor that of
    :math:`n^*`.

    **Finite horizon.** ``predict(at, horizon=h)`` forecasts the size at ``at + h``. The
    expected number :math:`M(h)` of reshares in :math:`(t, t + h]`, each future reshare having
    :math:`n^*` followers and the infectiousness staying at :math:`p_t`, solves the renewal
    equation

    .. math::

        M(h) = p_t \\sum_{t_i \\le t} n_i \\left[\\bar\\Phi(t - t_i) - \\bar\\Phi(t + h - t_i)
        \\right] + p_t n^* \\int_0^h \\Phi(h - u) \\, dM(u)

    (:math:`\\bar\\Phi` = :func:`memory_ccdf`, :math:`\\Phi = 1 - \\bar\\Phi`), solved on a
    grid (5 s steps over the first 15 minutes, then 64 points per decade) with
    :math:`dM` uniform within a cell and the exact cell averages of :math:`\\Phi`. As
    :math:`h \\to \\infty` it tends to R's formula. This is Grapevine's extension: R predicts
    the final size only. The status is ``"supercritical"`` whenever :math:`p_t > 1/n^*`, whatever
    the horizon.

    **Cost.** One prediction is :math:`O(n)` in the events up to ``at`` (about a millisecond on
    15,000 events); a finite horizon adds :math:`O(K n + K^2)` for a grid of K points (K is
    about 300 for a day, 0.1 s on the example).

    References
    ----------
    .. [1] Zhao et al. "SEISMIC: A Self-Exciting Point Process Model for Predicting Tweet
       Popularity." KDD 2015.

    Examples
    --------
    >>> share_time = [0, 10, 20, 35, 60, 90, 140, 200, 260, 330]
    >>> degree = [5000, 250, 400, 600, 150, 300, 200, 450, 100, 350]
    >>> model = Seismic().fit(share_time, degree)
    >>> f = model.predict(400)
    >>> f.status, round(f.final_size, 4), f.observed, round(f.infectiousness, 7)
    ('ok', 34.479, 10, 0.0028605)
    >>> [round(x, 2) for x in f.interval]
    [18.69, 71.39]
    >>> round(model.predict(400, horizon=3600).final_size, 2)
    18.7
    >>> model.predict(50).message
    'cannot forecast yet: 3 reshares observed by t=50 s, need at least 5'
    """

    def __init__(
        self,
        *,
        n_star: float = N_STAR,
        max_window: float = MAX_WINDOW,
        min_window: float = MIN_WINDOW,
        min_count: int = MIN_COUNT,
        min_reshares: int = MIN_COUNT,
    ) -> None:
        self.n_star = n_star
        self.max_window = max_window
        self.min_window = min_window
        self.min_count = min_count
        self.min_reshares = min_reshares

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_number(self.n_star, "n_star", owner, low=0, high_closed=False)
        check_number(
            self.max_window, "max_window", owner, low=0, low_closed=False, high_closed=False
        )
        check_number(
            self.min_window, "min_window", owner, low=0, low_closed=False, high_closed=False
        )
        check_number(self.min_count, "min_count", owner, kind=numbers.Integral, low=0)
        check_number(self.min_reshares, "min_reshares", owner, kind=numbers.Integral, low=1)

    def fit(self, share_time: ArrayLike, degree: ArrayLike) -> Seismic:
        """Store the observed cascade.

        Parameters
        ----------
        share_time : array_like of float
            Times of the original post (first) and its reshares, seconds since the post,
            sorted and non-negative.
        degree : array_like of float
            Followers of each poster, non-negative, aligned with ``share_time``.

        Returns
        -------
        self

        Raises
        ------
        BadInput
            When the arrays are empty, of different lengths, not finite, negative or unsorted.
        InvalidParameter
            When a constructor parameter is out of its domain.
        """
        self._check_params()
        s, n = _check_cascade(share_time, degree, "Seismic.fit")
        self.share_time_, self.degree_ = s.copy(), n.copy()
        self.n_events_ = len(s)
        return self

    def predict(self, at: float, *, horizon: float = math.inf) -> SeismicForecast:
        """Forecast the size of the cascade from what was observed up to ``at``.

        Parameters
        ----------
        at : float
            The present, seconds after the original post; later events are ignored.
        horizon : float, default inf
            Forecast the size at ``at + horizon``; ``inf`` for the final size (R's forecast).

        Returns
        -------
        SeismicForecast
            Status ``"ok"`` with the point and its interval (class Notes); ``"supercritical"``
            when :math:`p_t > 1/n^*` (R's ``Inf``), ``"too young"`` when fewer than
            ``min_reshares`` reshares were observed: then NaN point and interval and a
            ``"cannot forecast yet: ..."`` message.

        Raises
        ------
        BadInput
            When the model is not fitted.
        InvalidParameter
            When ``at`` or ``horizon`` is out of its domain.
        """
        if not hasattr(self, "share_time_"):
            raise BadInput("this Seismic is not fitted yet: call fit(share_time, degree) first")
        owner = "Seismic.predict"
        check_number(at, "at", owner, low=0, high_closed=False)
        given: object = horizon  # (float is no numbers.Real to mypy)
        if not (isinstance(given, numbers.Real) and float(given) > 0):  # NaN fails too
            raise InvalidParameter("horizon", owner, "a float in the range (0, inf]", horizon)
        at, horizon = float(at), float(horizon)
        s, n, n_star = self.share_time_, self.degree_, float(self.n_star)
        est = get_infectiousness(
            s,
            n,
            [at],
            max_window=self.max_window,
            min_window=self.min_window,
            min_count=self.min_count,
        )
        p, p_up, p_low = (float(a[0]) for a in est)
        k = int(np.searchsorted(s, at, side="right"))
        reshares = k - 1
        point = pred_cascade([at], [p], s, n, n_star=n_star, features_return=True)
        r_prediction, numerator = float(point.prediction[0]), float(point.features[0, 1])
        params = {
            "infectiousness": p,
            "p_low": p_low,
            "p_up": p_up,
            "n_star": n_star,
            "numerator": numerator,
            "pred_cascade": r_prediction,
        }
        extra = _Extra(p, (p_low, p_up), at, horizon)
        if reshares < self.min_reshares:
            reason = (
                f"{reshares} reshares observed by t={at:g} s, need at least {self.min_reshares}"
            )
            return self._cannot("too young", reason, k, params, extra)
        if not math.isfinite(r_prediction):
            reason = (
                f"infectiousness p_t = {p:.4g} exceeds 1/n_star = {1 / n_star:.4g}: the "
                "cascade is still growing explosively"
            )
            return self._cannot("supercritical", reason, k, params, extra)

        def size(q: float) -> float:
            """Forecast at infectiousness q, the original post included."""
            if math.isinf(horizon):
                value = float(pred_cascade([at], [q], s, n, n_star=n_star)[0])
            else:
                ages = at - s[:k]
                value = reshares + _expected_new(ages, n[:k], q, n_star, horizon)
            return 1.0 + value if math.isfinite(value) else math.inf

        final = size(p)
        interval = (size(p_low), size(p_up))
        note = ""
        if math.isinf(interval[1]):
            note = "upper end unbounded: p_up exceeds 1/n_star"
        if not math.isinf(horizon):
            params["expected_new"] = final - k
        return _with_extra(Forecast(MODEL, "ok", final, interval, LEVEL, k, note, params), extra)

    def _cannot(
        self,
        status: Literal["supercritical", "too young"],
        reason: str,
        observed: int,
        params: dict[str, float],
        extra: _Extra,
    ) -> SeismicForecast:
        base = Forecast.cannot(MODEL, status, reason, observed=observed, level=LEVEL, params=params)
        return _with_extra(base, extra)


def seismic_forecast(
    share_time: ArrayLike,
    degree: ArrayLike,
    at: float,
    *,
    horizon: float = math.inf,
    n_star: float = N_STAR,
    max_window: float = MAX_WINDOW,
    min_window: float = MIN_WINDOW,
    min_count: int = MIN_COUNT,
    min_reshares: int = MIN_COUNT,
) -> SeismicForecast:
    """Forecast the size of a cascade observed up to ``at``: the twin of :class:`Seismic`.

    Parameters
    ----------
    share_time, degree : array_like of float
        The cascade (see :meth:`Seismic.fit`).
    at : float
        The present, seconds after the original post.
    horizon : float, default inf
        Forecast the size at ``at + horizon`` (``inf``: the final size).
    n_star, max_window, min_window, min_count, min_reshares
        As for :class:`Seismic`.

    Returns
    -------
    SeismicForecast
        See :meth:`Seismic.predict`.

    Raises
    ------
    BadInput, InvalidParameter
        As :meth:`Seismic.fit` and :meth:`Seismic.predict`.

    Examples
    --------
    >>> f = seismic_forecast([0, 10, 20, 35, 60, 90, 140, 200, 260, 330],
    ...                      [5000, 250, 400, 600, 150, 300, 200, 450, 100, 350], at=400)
    >>> f.status, round(f.final_size, 2)
    ('ok', 34.48)
    """
    model = Seismic(
        n_star=n_star,
        max_window=max_window,
        min_window=min_window,
        min_count=min_count,
        min_reshares=min_reshares,
    )
    return model.fit(share_time, degree).predict(at, horizon=horizon)


# ----------------------------------------------------------------- finite horizon
def _expected_new(
    ages: FloatArray,
    degree: FloatArray,
    p: float,
    n_star: float,
    horizon: float,
    *,
    step: float = _HEAD_STEP,
    per_decade: int = _PER_DECADE,
) -> float:
    """Expected reshares in ``(t, t + horizon]`` (class Notes of :class:`Seismic`).

    ``ages`` are ``t - t_i`` of the events up to t. The renewal equation is discretised on a
    grid :math:`0 = h_0 < \\dots < h_K = horizon`, with the new reshares spread uniformly in
    each cell: :math:`M_k = A_k + q \\sum_{j \\le k} W_{kj} (M_j - M_{j-1})`, where
    :math:`q = p n^*` and :math:`W_{kj}` is the mean of :math:`\\Phi(h_k - u)` over cell j,
    solved forward for :math:`M_k`. :math:`O(K n + K^2)`.
    """
    grid = _horizon_grid(horizon, step=step, per_decade=per_decade)
    now = np.sum(degree * memory_ccdf(ages))
    direct = np.array([p * (now - np.sum(degree * memory_ccdf(ages + h))) for h in grid])
    q = p * n_star
    cells = np.diff(grid)
    big_m = np.zeros(len(grid))
    d_m = np.zeros(len(cells))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, len(grid)):
            w = 1.0 - _mean_ccdf(grid[k] - grid[1 : k + 1], cells[:k])
            rhs = direct[k] + q * (w[:-1] @ d_m[: k - 1]) - q * w[-1] * big_m[k - 1]
            big_m[k] = rhs / (1 - q * w[-1])
            d_m[k - 1] = big_m[k] - big_m[k - 1]
    return float(big_m[-1])


def _mean_ccdf(lo: FloatArray, width: FloatArray) -> FloatArray:
    """Mean of :func:`memory_ccdf` over ``[lo, lo + width]`` (``lo >= 0``).

    Exact (from the antiderivative) for cells that are wide next to ``lo``; the midpoint
    value for narrow cells far out, where the difference of antiderivatives would cancel
    (relative error below 1e-7 there).
    """
    theta, cutoff, c = THETA, CUTOFF, C
    scale = c * cutoff ** (1 + theta) / theta / (1 - theta)

    def antiderivative(x: FloatArray) -> FloatArray:  # integral of the ccdf from 0 to x
        head = np.minimum(x, cutoff)
        out = head - c * head**2 / 2
        tail = x > cutoff
        out[tail] += scale * (x[tail] ** (1 - theta) - cutoff ** (1 - theta))
        return out

    exact = (antiderivative(lo + width) - antiderivative(lo)) / width
    narrow = width < 1e-3 * lo
    exact[narrow] = memory_ccdf(lo[narrow] + width[narrow] / 2)
    return exact


def _horizon_grid(horizon: float, *, step: float, per_decade: int) -> FloatArray:
    head_end = min(horizon, _HEAD_SPAN)
    head = np.linspace(0.0, head_end, max(2, math.ceil(head_end / step) + 1))
    if horizon <= head_end:
        return head
    n = max(2, math.ceil(per_decade * math.log10(horizon / head_end)) + 1)
    return np.concatenate([head, np.geomspace(head_end, horizon, n)[1:]])


class _Extra(NamedTuple):
    infectiousness: float
    infectiousness_interval: tuple[float, float]
    at: float
    horizon: float


def _with_extra(base: Forecast, extra: _Extra) -> SeismicForecast:
    return SeismicForecast(
        model=base.model,
        status=base.status,
        final_size=base.final_size,
        interval=base.interval,
        level=base.level,
        observed=base.observed,
        message=base.message,
        params=base.params,
        infectiousness=extra.infectiousness,
        infectiousness_interval=extra.infectiousness_interval,
        at=extra.at,
        horizon=extra.horizon,
    )


# ---------------------------------------------------------------------------- checks
def _check_cascade(
    share_time: ArrayLike, degree: ArrayLike, owner: str
) -> tuple[FloatArray, FloatArray]:
    s = as_floats(share_time, "share_time")
    n = as_floats(degree, "degree")
    if len(s) != len(n):
        raise BadInput(
            f"share_time and degree must have one length, got {len(s)} and {len(n)} ({owner})"
        )
    if len(s) == 0:
        raise BadInput("no events: a cascade has at least its original post", field="share_time")
    if not np.all(np.isfinite(s)):
        raise BadInput("share_time must be finite", field="share_time")
    if np.any(s < 0):
        i = int(np.argmax(s < 0))
        raise BadInput(
            f"share_time must be non-negative; element {i} is {s[i]!r}", field="share_time"
        )
    drop = np.diff(s) < 0
    if np.any(drop):
        i = int(np.argmax(drop)) + 1
        raise BadInput(
            f"share_time must be sorted (non-decreasing); element {i} ({s[i]!r}) comes after "
            f"{s[i - 1]!r}",
            field="share_time",
        )
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        raise BadInput("degree must be finite and non-negative", field="degree")
    return s, n


def _check_times(values: ArrayLike, name: str) -> FloatArray:
    t = as_floats(values, name)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise BadInput(f"{name} must be finite and non-negative", field=name)
    return t


def _check_aligned(values: ArrayLike, name: str, length: int) -> FloatArray:
    arr = as_floats(values, name)
    if len(arr) != length:
        raise BadInput(
            f"{name} must have one value per prediction time ({length}), got {len(arr)}", field=name
        )
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise BadInput(f"{name} must be non-negative numbers", field=name)
    return arr
