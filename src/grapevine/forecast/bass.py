"""The Bass (1969) diffusion model: how many will adopt, and when adoption takes off.

A population of ``m`` eventual adopters adopts at the hazard ``p + q F(t)``: ``p`` from outside
(advertising, the "innovators"), ``q`` from those who already adopted (word of mouth, the
"imitators"). The cumulative number of adopters is

.. math::

    N(t) = m \\, F(t), \\qquad
    F(t) = \\frac{1 - e^{-(p+q)t}}{1 + (q/p)\\, e^{-(p+q)t}}.

References
----------
.. [1] Bass. "A new product growth for model consumer durables." Management Science 15(5),
   1969. https://doi.org/10.1287/mnsc.15.5.215
.. [2] Srinivasan, Mason. "Nonlinear least squares estimation of new product diffusion
   models." Marketing Science 5(2), 1986.
.. [3] Sultan, Farley, Lehmann. "A meta-analysis of applications of diffusion models."
   Journal of Marketing Research 27(1), 1990.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from grapevine._validation import check_number
from grapevine.errors import BadInput
from grapevine.forecast._checks import float_pair
from grapevine.forecast._result import Forecast

__all__ = ["SULTAN_FARLEY_LEHMANN", "Bass", "bass_cumulative", "fit_bass"]

FloatArray = NDArray[np.float64]
MODEL = "bass"
#: Mean coefficients of 213 published Bass fits (Sultan, Farley and Lehmann 1990), per year.
SULTAN_FARLEY_LEHMANN = {"p": 0.03, "q": 0.38}


class Bass:
    """Fit the Bass diffusion model to adoption counts by nonlinear least squares.

    Parameters
    ----------
    min_periods : int, default 6
        With fewer observed periods than this, ``p`` and ``q`` are not fitted but set to the
        priors below, and only ``m`` is fitted. Three free parameters need more points than
        three to be estimable at all, and fits made before the peak of adoption are
        notoriously unstable.
    prior_p, prior_q : float, default 0.03, 0.38
        The fallback coefficients: the means of Sultan, Farley and Lehmann's meta-analysis [3]_
        (in units of 1/year; pass others when a period is not a year).
    level : float, default 0.9
        Coverage of the intervals of :meth:`predict` and :meth:`cumulative_interval`.
    max_nfev : int, default 2000
        Most model evaluations of each least-squares start; a start that has not converged
        by then is dropped (when none converges, ``p`` and ``q`` fall back to the priors).

    Attributes
    ----------
    p_, q_, m_ : float
        Coefficients of innovation and imitation, and the number of eventual adopters.
    takeoff_ : float
        The time of peak adoption :math:`t^* = \\ln(q/p) / (p + q)` (0 when :math:`q \\le p`:
        adoption is highest at launch and only declines).
    peak_rate_ : float
        Adoptions per unit time at :math:`t^*`: :math:`m (p+q)^2 / (4q)` (or :math:`m p` when
        :math:`q \\le p`).
    fallback_ : bool
        True when ``p`` and ``q`` are the priors and only ``m`` was fitted.
    fallback_reason_ : str
        Why (too few periods, or what went wrong with the full fit); empty when not.
    covariance_ : ndarray of shape (3, 3)
        Covariance of ``(p, q, m)`` from the least-squares fit; rows and columns of fixed
        parameters are 0. NaN where it cannot be estimated (as many points as parameters).
    observed_ : float
        Adopters observed up to the last period.
    cumulative_ : bool
        Whether the fit was to a cumulative series (else to per-period counts).
    n_periods_ : int
        Number of periods fitted.
    cost_ : float
        Half the sum of squared residuals at the solution.

    Raises
    ------
    InvalidParameter
        From :meth:`fit`, when a parameter above is out of its domain.

    Notes
    -----
    **Fit.** Per-period counts :math:`x_k` (adoptions in :math:`(t_{k-1}, t_k]`, with
    :math:`t_0 = 0` the launch) are fitted as :math:`m [F(t_k) - F(t_{k-1})]`, the
    nonlinear least squares of Srinivasan and Mason [2]_; a cumulative series :math:`N_k` is
    fitted as :math:`m F(t_k)` (its residuals are autocorrelated, so prefer counts when there
    is a choice). ``scipy.optimize.least_squares`` (trust-region reflective, analytic
    Jacobian) runs from the ordinary-least-squares estimate of Bass's discrete model
    :math:`x_k = a + b N_{k-1} + c N_{k-1}^2` when it is valid, and from the priors with a
    few sizes of ``m``; the lowest cost wins. Bounds: :math:`p, q \\ge 10^{-8}`, :math:`m \\ge`
    the observed adopters. The full fit falls back to the priors when it does not converge,
    gives non-finite values, or ends with ``p`` or ``q`` on a bound. With ``p`` and ``q``
    fixed, :math:`m` has a closed form (linear least squares, then the bound). Each fit is
    :math:`O(K)` per iteration for :math:`K` periods.

    **Intervals** come from the delta method: the covariance of the estimates is
    :math:`s^2 (J^\\top J)^{-1}` with :math:`s^2` the residual variance and :math:`J` the
    Jacobian at the solution (only the ``m`` column in the fallback), and a forecast
    :math:`g(p, q, m)` gets :math:`g \\pm z \\sqrt{\\nabla g^\\top C \\nabla g}`, its lower end
    raised to the observed count. They reflect the uncertainty of the estimated curve, not the
    noise of future counts, and assume the model is right: treat them as optimistic, and as
    meaningless in the fallback, where ``p`` and ``q`` are taken as known.

    References
    ----------
    .. [1] Bass. "A new product growth for model consumer durables." Management Science, 1969.
    .. [2] Srinivasan, Mason. "Nonlinear least squares estimation of new product diffusion
       models." Marketing Science, 1986.
    .. [3] Sultan, Farley, Lehmann. "A meta-analysis of applications of diffusion models."
       Journal of Marketing Research, 1990.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1, 13)
    >>> counts = np.diff(bass_cumulative(np.arange(0, 13), 0.02, 0.5, 1000.0))
    >>> model = Bass().fit(t, counts)
    >>> round(model.p_, 6), round(model.q_, 6), round(model.m_, 3)
    (0.02, 0.5, 1000.0)
    >>> round(model.takeoff_, 3)
    6.19
    >>> model.predict().status
    'ok'
    """

    def __init__(
        self,
        *,
        min_periods: int = 6,
        prior_p: float = SULTAN_FARLEY_LEHMANN["p"],
        prior_q: float = SULTAN_FARLEY_LEHMANN["q"],
        level: float = 0.9,
        max_nfev: int = 2000,
    ) -> None:
        self.min_periods = min_periods
        self.prior_p = prior_p
        self.prior_q = prior_q
        self.level = level
        self.max_nfev = max_nfev

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_number(self.min_periods, "min_periods", owner, kind=numbers.Integral, low=4)
        check_number(self.max_nfev, "max_nfev", owner, kind=numbers.Integral, low=1)
        check_number(self.prior_p, "prior_p", owner, low=0.0, low_closed=False)
        check_number(self.prior_q, "prior_q", owner, low=0.0, low_closed=False)
        check_number(
            self.level, "level", owner, low=0.0, high=1.0, low_closed=False, high_closed=False
        )

    def fit(self, t: ArrayLike, adopters: ArrayLike, *, cumulative: bool = False) -> Bass:
        """Fit ``p``, ``q`` and ``m`` to adoptions observed at the period ends ``t``.

        Parameters
        ----------
        t : array_like of float
            Ends of the observed periods, increasing, in time since launch (> 0), e.g.
            ``1, 2, ..., K``.
        adopters : array_like of float
            New adopters in each period (``cumulative=False``), or the cumulative number of
            adopters at each ``t`` (``cumulative=True``); non-negative.
        cumulative : bool, default False
            Which of the two ``adopters`` is.

        Returns
        -------
        self

        Raises
        ------
        BadInput
            When ``t`` and ``adopters`` are empty, of different lengths, not finite, ``t`` not
            positive and increasing, counts negative or a cumulative series decreasing.
        InvalidParameter
            When a constructor parameter is out of its domain.
        """
        self._check_params()
        t_arr, counts = _check_series(t, adopters, cumulative)
        self.cumulative_ = cumulative
        self._t = t_arr
        self._y = np.cumsum(counts) if cumulative else counts  # what the residuals compare to
        self.n_periods_ = len(t_arr)
        self.observed_ = float(counts.sum())
        self.fallback_reason_ = ""
        self.cost_ = math.nan
        full: Any = None
        if self.observed_ <= 0:
            self.fallback_reason_ = "no adoptions observed"
        elif self.n_periods_ < self.min_periods:
            self.fallback_reason_ = (
                f"only {self.n_periods_} periods observed, need {self.min_periods} to fit p and q"
            )
        else:
            full = self._fit_full(t_arr, counts)
        if full is None:
            self._fit_m_only(t_arr, counts)
        self.fallback_ = full is None
        p, q, m = self.p_, self.q_, self.m_
        if q > p:
            self.takeoff_ = math.log(q / p) / (p + q)
            self.peak_rate_ = m * (p + q) ** 2 / (4.0 * q)
        else:
            self.takeoff_, self.peak_rate_ = 0.0, m * p
        return self

    # ------------------------------------------------------------------------ fitting
    def _model(self, t: FloatArray, p: float, q: float, m: float) -> tuple[FloatArray, FloatArray]:
        """Fitted values and their Jacobian in (p, q, m), as the data were given."""
        if self.cumulative_:
            return _cumulative_and_jacobian(t, p, q, m)
        edges = np.concatenate([[0.0], t])
        value, jac = _cumulative_and_jacobian(edges, p, q, m)
        return np.diff(value), np.diff(jac, axis=0)

    def _fit_full(self, t: FloatArray, counts: FloatArray) -> Any:
        y = self._y
        unit = float(np.median(np.diff(np.concatenate([[0.0], t]))))
        lo = np.array([1e-8 / unit, 1e-8 / unit, self.observed_])
        hi = np.array([100.0 / unit, 100.0 / unit, np.inf])

        def residuals(x: FloatArray) -> FloatArray:
            return self._model(t, *x)[0] - y

        def jacobian(x: FloatArray) -> FloatArray:
            return self._model(t, *x)[1]

        best: Any = None
        for x0 in self._starts(t, counts, unit):
            x0[:2] = np.clip(x0[:2], lo[:2] * 10, hi[:2] / 10)
            x0[2] = max(x0[2], self.observed_ * (1 + 1e-9))
            try:
                res = optimize.least_squares(
                    residuals,
                    x0,
                    jac=jacobian,
                    bounds=(lo, hi),
                    method="trf",
                    x_scale="jac",
                    ftol=1e-15,
                    xtol=1e-15,
                    gtol=1e-15,
                    max_nfev=self.max_nfev,
                )
            except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
                self.fallback_reason_ = f"the least-squares fit failed ({exc})"
                continue
            usable = res.status > 0 and np.all(np.isfinite(res.x))
            if usable and (best is None or res.cost < best.cost):
                best = res
        if best is None:
            self.fallback_reason_ = (
                self.fallback_reason_ or "the least-squares fit did not converge"
            )
            return None
        p, q, m = (float(v) for v in best.x)
        at_bound = [
            name
            for name, v, a, b in (("p", p, lo[0], hi[0]), ("q", q, lo[1], hi[1]))
            if v <= a * (1 + 1e-6) or v >= b * (1 - 1e-6)
        ]
        if at_bound:
            self.fallback_reason_ = f"the least-squares fit put {' and '.join(at_bound)} on a bound"
            return None
        self.p_, self.q_, self.m_ = p, q, m
        self.cost_ = float(best.cost)
        self.covariance_ = _covariance(best.jac, 2.0 * best.cost, len(y))
        return best

    def _starts(self, t: FloatArray, counts: FloatArray, unit: float) -> list[FloatArray]:
        starts = []
        ols = _bass_ols(counts)
        if ols is not None:
            p, q, m = ols
            starts.append(np.array([p / unit, q / unit, m]))
        for scale in (1.5, 3.0, 10.0):
            starts.append(np.array([self.prior_p, self.prior_q, scale * self.observed_]))
        starts.append(np.array([0.1 / unit, 0.1 / unit, 2.0 * self.observed_]))
        return starts

    def _fit_m_only(self, t: FloatArray, counts: FloatArray) -> None:
        p, q = float(self.prior_p), float(self.prior_q)
        self.p_, self.q_ = p, q
        shape, _ = self._model(t, p, q, 1.0)  # the fitted values per unit of m
        y = self._y
        denom = float(shape @ shape)
        m = float(shape @ y) / denom if denom > 0 else math.nan
        m = max(m, self.observed_) if math.isfinite(m) else self.observed_
        self.m_ = m
        rss = float(np.sum((m * shape - y) ** 2))
        self.cost_ = rss / 2.0
        cov = np.zeros((3, 3))
        dof = len(y) - 1
        cov[2, 2] = rss / dof / denom if dof > 0 and denom > 0 else math.nan
        self.covariance_ = cov

    # ------------------------------------------------------------------------ forecasts
    def cumulative(self, t: ArrayLike) -> FloatArray:
        """Expected cumulative adopters :math:`m F(t)` at the times ``t`` (since launch)."""
        _check_fitted(self)
        s = np.asarray(t, dtype=np.float64)
        return _cumulative_and_jacobian(np.atleast_1d(s), self.p_, self.q_, self.m_)[0].reshape(
            s.shape
        )

    def rate(self, t: ArrayLike) -> FloatArray:
        """Expected adoptions per unit time :math:`m f(t)` at the times ``t``."""
        _check_fitted(self)
        s = np.asarray(t, dtype=np.float64)
        p, q, m = self.p_, self.q_, self.m_
        e = np.exp(-(p + q) * s)
        return np.asarray(m * (p + q) ** 2 / p * e / (1.0 + q / p * e) ** 2)

    def cumulative_interval(self, t: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Delta-method interval at ``level`` of the expected cumulative adopters at ``t``.

        An interval for the fitted curve, not for future counts, and not clipped: the fitted
        curve may run below what was already observed. NaN ends where the covariance could
        not be estimated.
        """
        _check_fitted(self)
        s = np.atleast_1d(np.asarray(t, dtype=np.float64))
        value, jac = _cumulative_and_jacobian(s, self.p_, self.q_, self.m_)
        var = np.einsum("ij,jk,ik->i", jac, self.covariance_, jac)
        half = self._z() * np.sqrt(np.maximum(var, 0.0))
        return value - half, value + half

    def _z(self) -> float:
        return float(stats.norm.ppf(0.5 + self.level / 2.0))

    def predict(self) -> Forecast:
        """Forecast the eventual number of adopters ``m``.

        Returns
        -------
        Forecast
            Status "ok" with ``final_size = m_`` and its delta-method interval (NaN ends when
            the covariance cannot be estimated), with a note in ``message`` when the priors
            were used; "too young" when no adoption was observed yet.
        """
        _check_fitted(self)
        observed = round(self.observed_)
        params = {
            "p": self.p_,
            "q": self.q_,
            "m": self.m_,
            "takeoff": self.takeoff_,
            "peak_rate": self.peak_rate_,
        }
        if self.observed_ <= 0:
            return Forecast.cannot(
                MODEL,
                "too young",
                "no adoptions observed",
                observed=observed,
                level=self.level,
                params=params,
            )
        sd = math.sqrt(self.covariance_[2, 2]) if self.covariance_[2, 2] >= 0 else math.nan
        half = self._z() * sd
        interval = (max(self.m_ - half, self.observed_), self.m_ + half)
        if math.isnan(half):
            interval = (math.nan, math.nan)
        note = ""
        if self.fallback_:
            note = (
                f"p and q are the priors p={self.p_:g}, q={self.q_:g} (Sultan, Farley and "
                f"Lehmann 1990); only m was fitted: {self.fallback_reason_}"
            )
        return Forecast(MODEL, "ok", self.m_, interval, self.level, observed, note, params)


def fit_bass(t: ArrayLike, adopters: ArrayLike, *, cumulative: bool = False, **params: Any) -> Bass:
    """Fit the Bass model: the function twin of :class:`Bass`.

    Parameters
    ----------
    t, adopters, cumulative
        As :meth:`Bass.fit`.
    **params
        Parameters of :class:`Bass` (``min_periods``, ``prior_p``, ``prior_q``, ``level``).

    Returns
    -------
    Bass
        The fitted model (``p_``, ``q_``, ``m_``, ``takeoff_``, ``predict()``, ...).

    Raises
    ------
    BadInput, InvalidParameter
        As :meth:`Bass.fit`.

    Examples
    --------
    Three periods are too few to fit ``p`` and ``q``: the priors are used, and ``m`` fitted.

    >>> model = fit_bass([1, 2, 3], [30, 40, 50])
    >>> model.fallback_, model.p_, model.q_
    (True, 0.03, 0.38)
    >>> round(model.m_)
    790
    """
    return Bass(**params).fit(t, adopters, cumulative=cumulative)


def bass_cumulative(t: ArrayLike, p: float, q: float, m: float) -> FloatArray:
    """The Bass curve :math:`N(t) = m F(t)` for given coefficients (see the module docstring).

    >>> bass_cumulative([0.0, 1e6], 0.03, 0.38, 100.0).round(6).tolist()
    [0.0, 100.0]
    """
    s = np.atleast_1d(np.asarray(t, dtype=np.float64))
    return _cumulative_and_jacobian(s, p, q, m)[0]


# ---------------------------------------------------------------------------- helpers
def _cumulative_and_jacobian(
    t: FloatArray, p: float, q: float, m: float
) -> tuple[FloatArray, FloatArray]:
    """N(t) = m F(t) and its derivatives in (p, q, m), shape (len(t), 3)."""
    e = np.exp(-(p + q) * t)
    r = q / p
    d = 1.0 + r * e
    f = (1.0 - e) / d
    # dF/dx = [-(de/dx) d - (1 - e) dd/dx] / d^2, with de/dp = de/dq = -t e
    de = -t * e
    dd_dp = -r / p * e + r * de
    dd_dq = e / p + r * de
    df_dp = (-de * d - (1.0 - e) * dd_dp) / d**2
    df_dq = (-de * d - (1.0 - e) * dd_dq) / d**2
    jac = np.column_stack([m * df_dp, m * df_dq, f])
    return m * f, jac


def _bass_ols(counts: FloatArray) -> tuple[float, float, float] | None:
    """Bass's own estimate: regress x_k on N_{k-1} and N_{k-1}^2 (per unit period)."""
    lag = np.concatenate([[0.0], np.cumsum(counts)[:-1]])
    design = np.column_stack([np.ones_like(lag), lag, lag**2])
    coef, *_ = np.linalg.lstsq(design, counts, rcond=None)
    a, b, c = (float(v) for v in coef)
    disc = b * b - 4.0 * a * c
    if not (c < 0 and a > 0 and disc > 0):
        return None
    m = (-b - math.sqrt(disc)) / (2.0 * c)
    if not (m > 0 and math.isfinite(m)):
        return None
    p, q = a / m, -c * m
    return (p, q, m) if p > 0 and q > 0 else None


def _covariance(jac: FloatArray, rss: float, n: int) -> FloatArray:
    k = jac.shape[1]
    if n <= k:
        return np.full((k, k), math.nan)
    info = jac.T @ jac
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full((k, k), math.nan)
    return np.asarray(inv * (rss / (n - k)))


def _check_series(
    t: ArrayLike, adopters: ArrayLike, cumulative: bool
) -> tuple[FloatArray, FloatArray]:
    """Validated period ends and per-period counts (differenced when cumulative)."""
    s, y = float_pair(t, adopters, ("t", "adopters"))
    if len(s) == 0:
        raise BadInput("no periods observed", field="t")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(y))):
        raise BadInput("t and adopters must be finite")
    if s[0] <= 0 or np.any(np.diff(s) <= 0):
        raise BadInput("t must be positive (time since launch) and strictly increasing", field="t")
    if np.any(y < 0):
        raise BadInput("adopters must be non-negative", field="adopters")
    if cumulative:
        if np.any(np.diff(y) < 0):
            raise BadInput("a cumulative series cannot decrease", field="adopters")
        y = np.diff(np.concatenate([[0.0], y]))
    return s, y


def _check_fitted(model: Bass) -> None:
    if not hasattr(model, "m_"):
        raise BadInput("this Bass model is not fitted yet: call fit(t, adopters) first")
