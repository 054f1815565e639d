"""Log-linear early-count regression with split-conformal intervals (Szabo & Huberman 2010).

The popularity of an item at a later reference time is, on the log scale, its early popularity
plus a constant that depends on the two times only:

.. math::

    \\ln N(t_{ref}) = \\ln N(t_{obs}) + \\beta(t_{obs}, t_{ref}) + \\varepsilon,

with :math:`\\beta` and the variance of :math:`\\varepsilon` fitted on older items observed at
the same two ages [1]_. Learned from other cascades rather than from the one being forecast,
it gives a number for every cascade, however young or explosive, which is why Grapevine uses
it where SEISMIC and the Hawkes process cannot forecast yet
(:func:`grapevine.forecast.fallback.forecast_with_fallback`).

:class:`LogLinear` (twin :func:`loglinear_forecast`) adds an interval with a distribution-free
guarantee: split-conformal prediction [2]_. The older cascades are split in time order; the
earlier part fits :math:`\\beta`, the later part (the calibration set) gives the absolute
log-residuals whose :math:`\\lceil (m + 1) \\cdot \\text{level} \\rceil`-th smallest, q, is the
half-width of the interval on the log scale. When the cascades are exchangeable the interval
holds the truth with probability at least ``level``.

References
----------
.. [1] G. Szabo, B. A. Huberman. "Predicting the popularity of online content."
   Communications of the ACM 53(8), 2010, pp. 80-88. arXiv:0811.0405.
.. [2] J. Lei, M. G'Sell, A. Rinaldo, R. J. Tibshirani, L. Wasserman. "Distribution-free
   predictive inference for regression." JASA 113(523), 2018, pp. 1094-1111.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grapevine._validation import check_number
from grapevine.errors import BadInput, InvalidParameter
from grapevine.forecast._checks import as_floats
from grapevine.forecast._result import Forecast

__all__ = ["LEVEL", "LogLinear", "loglinear_forecast", "min_calibration"]

FloatArray = NDArray[np.float64]

MODEL = "loglinear"
#: Default coverage of the conformal interval.
LEVEL = 0.9
#: Fewest fitting cascades before a free slope is fitted (otherwise the slope stays 1).
_MIN_FOR_SLOPE = 3
#: Widening of the interval on the log scale, so that the rounding of exp(log(n)) never puts a
#: count that ties the conformal quantile (common: counts are integers) outside it.
_SLACK = 1e-9


class LogLinear:
    """Forecast a later count from an early one, learned on older cascades (Szabo-Huberman).

    Parameters
    ----------
    level : float, default 0.9
        Coverage of the split-conformal interval, in (0, 1).
    calibration : float, default 0.5
        Share of the training cascades (the most recent ones) kept aside to calibrate the
        interval, in [0, 1). When that share is too small to bound the interval at ``level``
        (9 cascades for 0.9), the calibration set grows to that minimum as far as the
        training set allows; at least one cascade always fits the regression. 0: no
        calibration, an unbounded upper end.
    fit_slope : bool, default False
        False: the paper's model, :math:`\\ln N_{ref} = \\ln N_{obs} + \\beta` (slope 1).
        True: a free slope, :math:`\\ln N_{ref} = \\beta + \\alpha \\ln N_{obs}`, by least
        squares; used only with at least 3 fitting cascades whose early counts differ,
        otherwise the slope stays 1 (``slope_fitted_`` says which).

    Attributes
    ----------
    intercept_ : float
        :math:`\\beta`, the fitted mean log-growth from ``t_obs`` to ``t_ref`` (slope 1), or
        the intercept of the free line.
    slope_ : float
        :math:`\\alpha`: 1.0 unless a free slope was fitted.
    slope_fitted_ : bool
        Whether ``slope_`` was fitted.
    sigma2_ : float
        Residual variance of the fit on the log scale (``n_fit_`` minus the number of fitted
        coefficients in the denominator); NaN when there are not enough cascades for one.
    quantile_ : float
        q, the half-width of the interval on the log scale; ``inf`` when the calibration set
        has fewer than ``ceil(level / (1 - level))`` cascades (9 for a 90 % interval).
    n_fit_, n_calibration_ : int
        How many cascades fitted the line and calibrated the interval.

    Notes
    -----
    The rows given to :meth:`fit` must be in time order, oldest first: the calibration set is
    the most recent ``calibration`` share, which is the split-conformal recipe with the split
    made in time (closest in time to the cascades being forecast, so closer in distribution
    when the platform drifts). The split depends on the number of cascades and the level
    only, never on their values, so the coverage guarantee of split conformal prediction
    holds. Counts include the original post, so they are at least 1 and their logarithms
    finite.

    The point forecast is :math:`\\exp(\\hat\\beta + \\hat\\alpha \\ln N_{obs})`, the median of
    the fitted log-normal (it minimises the squared log error; the mean would be larger by
    :math:`e^{\\sigma^2/2}`). Point and interval are floored at ``N_obs``: a count never
    shrinks. The interval is :math:`[\\max(N_{obs}, e^{\\hat y - q}), e^{\\hat y + q}]`.

    Cost: :math:`O(n \\log n)` for n training cascades (a sort of the calibration scores).

    References
    ----------
    .. [1] G. Szabo, B. A. Huberman. "Predicting the popularity of online content."
       Communications of the ACM 53(8), 2010, pp. 80-88.
    .. [2] J. Lei et al. "Distribution-free predictive inference for regression." JASA 2018.

    Examples
    --------
    Twenty older cascades that grew by 2x to 4x between the two ages; the last half calibrates:

    >>> observed = [10, 20, 15, 40, 8, 12, 30, 25, 18, 9] * 2
    >>> reference = [20, 60, 45, 100, 30, 30, 90, 60, 50, 20] * 2
    >>> model = LogLinear(level=0.8).fit(observed, reference)
    >>> round(model.intercept_, 4), model.n_fit_, model.n_calibration_
    (0.9839, 10, 10)
    >>> f = model.forecast(50)
    >>> f.model, round(f.final_size, 1), [round(x, 1) for x in f.interval]
    ('loglinear', 133.7, [100.0, 178.9])
    """

    def __init__(
        self, *, level: float = LEVEL, calibration: float = 0.5, fit_slope: bool = False
    ) -> None:
        self.level = level
        self.calibration = calibration
        self.fit_slope = fit_slope

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_number(self.level, "level", owner, low=0, high=1, low_closed=False, high_closed=False)
        check_number(self.calibration, "calibration", owner, low=0, high=1, high_closed=False)
        if not isinstance(self.fit_slope, bool):
            raise InvalidParameter("fit_slope", owner, "a bool", self.fit_slope)

    def fit(self, observed: ArrayLike, reference: ArrayLike) -> LogLinear:
        """Fit the line and calibrate the interval on older cascades.

        Parameters
        ----------
        observed : array_like of float
            Each older cascade's count at the observation age ``t_obs`` (at least 1: the
            original post), oldest cascade first.
        reference : array_like of float
            The same cascades' counts at the reference age ``t_ref`` (at least ``observed``).

        Returns
        -------
        self

        Raises
        ------
        BadInput
            When the arrays are empty, of different lengths, not finite, below 1, or a
            reference count is below its observed count (the message names the row).
        InvalidParameter
            When a constructor parameter is out of its domain.
        """
        self._check_params()
        x, y = _check_counts(observed, reference)
        n = len(x)
        n_cal = math.floor(self.calibration * n)
        if self.calibration > 0:  # enough to bound the interval, when there are enough
            n_cal = max(n_cal, min_calibration(float(self.level)))
        n_cal = min(n_cal, n - 1)
        n_fit = n - n_cal
        lx, ly = np.log(x), np.log(y)
        fx, fy = lx[:n_fit], ly[:n_fit]
        slope, fitted = 1.0, False
        if self.fit_slope and n_fit >= _MIN_FOR_SLOPE and np.ptp(fx) > 0:
            xc = fx - fx.mean()
            slope = float(xc @ (fy - fy.mean()) / (xc @ xc))
            fitted = True
        intercept = float(np.mean(fy - slope * fx))
        dof = n_fit - (2 if fitted else 1)
        resid = fy - intercept - slope * fx
        self.intercept_, self.slope_, self.slope_fitted_ = intercept, slope, fitted
        self.sigma2_ = float(resid @ resid / dof) if dof > 0 else math.nan
        scores = np.sort(np.abs(ly[n_fit:] - intercept - slope * lx[n_fit:]))
        self.quantile_ = _conformal_quantile(scores, float(self.level))
        self.n_fit_, self.n_calibration_ = n_fit, n_cal
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "intercept_"):
            raise BadInput("this LogLinear is not fitted yet: call fit(observed, reference) first")

    def predict(self, observed: ArrayLike) -> FloatArray:
        """Point forecasts of the reference count, floored at the observed count.

        Parameters
        ----------
        observed : array_like of float
            Counts at ``t_obs`` of the cascades to forecast (at least 1).

        Returns
        -------
        ndarray
            :math:`\\max(N_{obs}, \\exp(\\hat\\beta + \\hat\\alpha \\ln N_{obs}))`.

        Raises
        ------
        BadInput
            When the model is not fitted or a count is below 1 or not finite.
        """
        self._check_fitted()
        x = _check_new(observed)
        return np.maximum(x, np.exp(self.intercept_ + self.slope_ * np.log(x)))

    def predict_interval(self, observed: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """The split-conformal interval at ``level`` for each count (class Notes).

        Parameters
        ----------
        observed : array_like of float
            Counts at ``t_obs`` (at least 1).

        Returns
        -------
        (lo, hi) : tuple of ndarray
            Lower ends (at least ``observed``) and upper ends (``inf`` when the calibration
            set is too small for the level).

        Raises
        ------
        BadInput
            When the model is not fitted or a count is below 1 or not finite.
        """
        self._check_fitted()
        x = _check_new(observed)
        centre = self.intercept_ + self.slope_ * np.log(x)
        half = self.quantile_ + _SLACK
        with np.errstate(over="ignore"):
            lo = np.maximum(x, np.exp(centre - half))
            hi = np.maximum(x, np.exp(centre + half))
        return lo, hi

    def forecast(self, observed: float) -> Forecast:
        """One cascade's forecast as a :class:`~grapevine.forecast._result.Forecast`.

        Parameters
        ----------
        observed : float
            Its count at ``t_obs`` (at least 1).

        Returns
        -------
        Forecast
            Model ``"loglinear"``, status ``"ok"``; ``params`` holds ``intercept``, ``slope``,
            ``sigma2``, ``quantile``, ``n_fit`` and ``n_calibration``; ``message`` says why
            the upper end is unbounded when it is.

        Raises
        ------
        BadInput
            When the model is not fitted or the count is below 1 or not finite.
        """
        point = float(self.predict([observed])[0])
        lo, hi = (float(a[0]) for a in self.predict_interval([observed]))
        note = ""
        if math.isinf(self.quantile_):
            need = min_calibration(float(self.level))
            note = (
                f"upper end unbounded: {self.n_calibration_} calibration cascades, a "
                f"{self.level:g} interval needs at least {need}"
            )
        params = {
            "intercept": self.intercept_,
            "slope": self.slope_,
            "sigma2": self.sigma2_,
            "quantile": self.quantile_,
            "n_fit": float(self.n_fit_),
            "n_calibration": float(self.n_calibration_),
        }
        return Forecast(
            MODEL, "ok", point, (lo, hi), float(self.level), int(observed), note, params
        )


def loglinear_forecast(
    observed: ArrayLike,
    reference: ArrayLike,
    new_observed: float,
    *,
    level: float = LEVEL,
    calibration: float = 0.5,
    fit_slope: bool = False,
) -> Forecast:
    """Forecast one cascade's reference count from older cascades: the twin of :class:`LogLinear`.

    Parameters
    ----------
    observed, reference : array_like of float
        Older cascades' counts at ``t_obs`` and ``t_ref``, oldest first (see
        :meth:`LogLinear.fit`).
    new_observed : float
        The count at ``t_obs`` of the cascade to forecast.
    level, calibration, fit_slope
        As for :class:`LogLinear`.

    Returns
    -------
    Forecast
        See :meth:`LogLinear.forecast`.

    Raises
    ------
    BadInput, InvalidParameter
        As :meth:`LogLinear.fit` and :meth:`LogLinear.forecast`.

    Examples
    --------
    >>> f = loglinear_forecast([10, 20, 40], [30, 50, 130], 25, calibration=0)
    >>> round(f.final_size, 1), f.interval[1], f.message
    (72.5, inf, 'upper end unbounded: 0 calibration cascades, a 0.9 interval needs at least 9')
    """
    model = LogLinear(level=level, calibration=calibration, fit_slope=fit_slope)
    return model.fit(observed, reference).forecast(new_observed)


# ------------------------------------------------------------------------------ helpers
def min_calibration(level: float) -> int:
    """Fewest calibration cascades that bound a split-conformal interval at ``level``.

    The smallest m with :math:`\\lceil (m + 1) \\cdot \\text{level} \\rceil \\le m`; with
    fewer, the interval's upper end is infinite.

    >>> min_calibration(0.9), min_calibration(0.8), min_calibration(0.5)
    (9, 4, 1)
    """
    m = max(0, math.ceil(level / (1 - level) - 1e-9))
    while math.ceil((m + 1) * level - 1e-9) > m:
        m += 1
    return m


def _conformal_quantile(sorted_scores: FloatArray, level: float) -> float:
    """The ceil((m + 1) * level)-th smallest of m scores, or inf when that exceeds m."""
    m = len(sorted_scores)
    k = math.ceil((m + 1) * level - 1e-9)
    return float(sorted_scores[k - 1]) if k <= m else math.inf


def _check_counts(observed: ArrayLike, reference: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = _as_counts(observed, "observed")
    y = _as_counts(reference, "reference")
    if len(x) != len(y):
        raise BadInput(
            f"observed and reference must have one length, got {len(x)} and {len(y)}",
            field="reference",
        )
    if len(x) == 0:
        raise BadInput("no training cascades: LogLinear needs at least one", field="observed")
    below = y < x
    if np.any(below):
        i = int(np.argmax(below))
        raise BadInput(
            f"reference must be at least observed (counts never shrink); row {i} has "
            f"{y[i]:g} < {x[i]:g}",
            field="reference",
        )
    return x, y


def _check_new(observed: ArrayLike) -> FloatArray:
    return _as_counts(observed, "observed")


def _as_counts(values: ArrayLike, name: str) -> FloatArray:
    arr = as_floats(values, name)
    bad = ~np.isfinite(arr) | (arr < 1)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise BadInput(
            f"{name} must be finite counts of at least 1 (the original post); row {i} is "
            f"{arr[i]!r}",
            field=name,
        )
    return arr
