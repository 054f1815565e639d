"""Final-size forecasts of a reshare cascade with a marked power-law Hawkes process.

Each reshare (and the original post) excites further reshares at the rate

.. math::

    \\lambda(t) = \\sum_{t_i < t} \\kappa \\, m_i^{\\beta} \\, (t - t_i + c)^{-(1 + \\theta)}

where :math:`m_i` is the mark of event :math:`i` (the follower count of the resharing user).
The model has no background rate: the first event is the original post and every later event
is the offspring of an earlier one. This is the model of Mishra, Rizoiu and Xie (2016) fitted by
maximum likelihood, and its final size follows from the theory of branching processes.

References
----------
.. [1] Mishra, Rizoiu, Xie. "Feature driven and point process approaches for popularity
   prediction." CIKM 2016. https://doi.org/10.1145/2983323.2983812
.. [2] Rizoiu, Lee, Mishra, Xie. "A tutorial on Hawkes processes for events in social media."
   In Frontiers of Multimedia Research, ACM 2017. https://arxiv.org/abs/1708.06401
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from grapevine._validation import check_choice, check_number
from grapevine.errors import BadInput, NotConverged
from grapevine.forecast._checks import float_pair
from grapevine.forecast._result import Forecast, Status

__all__ = ["HawkesPowerLaw", "hawkes_forecast"]

FloatArray = NDArray[np.float64]
RandomState = int | np.random.Generator | None

MODEL = "hawkes-powerlaw"
#: The exponent of the follower-count power law of the paper (Mishra et al. 2016, Sec. 4.2).
PAPER_ALPHA = 2.016
#: Bounds of the fit. Those of c are multiples of the observation window (the time from the
#: first event to ``at``), so that the fit does not depend on the unit of time. kappa is not
#: among them: it is profiled out (its MLE given the others is closed-form).
BOUNDS = {"beta": (0.0, 1.0), "c": (1e-6, 10.0), "theta": (1e-3, 20.0)}
#: Elements of one block of the pairwise (event x earlier event) computation: ~8 MiB per array.
_BLOCK = 1 << 20
#: At most this many events per block (the wasted upper half of a block's diagonal square).
_ROWS = 256
#: Marks (rates) drawn at a time by the branching simulation.
_DRAWS = 1 << 20


class HawkesPowerLaw:
    """Forecast the final size of a cascade with a marked power-law Hawkes process.

    Parameters
    ----------
    min_events : int, default 50
        Fewer observed events than this (the original post included) give a ``"too young"``
        forecast and no fit: four parameters need a few dozen events to be estimable. So do
        events that all share one time.
    n_starts : int, default 4
        Starting points of the maximum-likelihood search; the first is fixed (beta 0.5,
        theta 0.5, c a hundredth of the observation window), the others are drawn from
        ``random_state``. The best converged one is kept.
    mark_moment : {"empirical", "power-law"}, default "empirical"
        How :math:`E[m^\\beta]` (the expected excitation of a future event) is computed:
        the mean of :math:`m_i^\\beta` over the marks of the observed reshares (the original
        post is left out: every future event is a reshare, and the original's author is
        often far better followed than any resharer), or
        :math:`(\\alpha - 1)/(\\alpha - 1 - \\beta)`, the moment of a power law
        :math:`P(m) \\propto m^{-\\alpha}` on :math:`m \\ge 1` as in the paper. The branching
        simulation draws future marks the same way (resampling the observed reshares' marks, or
        from the power law).
    alpha : float, default 2.016
        The power-law exponent for ``mark_moment="power-law"`` (the paper's value); must exceed
        2 so that the moment is finite for every beta up to 1.
    level : float, default 0.9
        Coverage of the forecast interval (0.9: from the 5th to the 95th percentile).
    n_simulations : int, default 500
        Branching simulations behind the interval; 0 gives no interval (NaN ends).
    max_size : int, default 1_000_000
        Cap on the final size (observed events included) of one simulated cascade; a
        simulation that reaches it stops there, so an upper end equal to ``max_size`` reads
        "at least".
    max_iter : int, default 500
        Iterations of L-BFGS-B per starting point.
    resolution : float or None, default None
        The resolution the times were recorded at. The ``k`` events that share a time stamp
        ``s`` are spread evenly over ``[s, s + resolution)`` (the first stays at ``s``), in
        their given order. None: the smallest positive gap between two event times (1 for
        times in whole seconds); 0: keep the ties (Notes).
    random_state : int, numpy Generator or None, default None
        Seeds the extra starting points and the simulations.

    Attributes
    ----------
    kappa_, beta_, c_, theta_ : float
        The fitted parameters (NaN when the cascade was too young to fit).
    branching_factor_ : float
        :math:`n^* = \\kappa E[m^\\beta] / (\\theta c^\\theta)`, the expected number of direct
        offspring of a future event.
    log_likelihood_ : float
        The log-likelihood at the fitted parameters.
    n_observed_ : int
        Events observed up to ``observed_until_`` (the original post included).
    observed_until_ : float
        The end of the observation window.
    converged_ : bool
        Whether the kept L-BFGS-B run met its tolerance.
    status_ : str
        The status the forecast will carry: "ok", "supercritical", "too young", "not converged".

    Raises
    ------
    InvalidParameter
        From :meth:`fit`, when a parameter above is out of its domain.

    Notes
    -----
    **Likelihood.** With events :math:`t_1 \\le \\dots \\le t_n \\le T` (the first, the original
    post, is given, not generated),

    .. math::

        \\log L = \\sum_{j=2}^{n} \\log \\lambda(t_j) - \\Lambda(T), \\qquad
        \\Lambda(T) = \\frac{\\kappa}{\\theta} \\sum_{i} m_i^\\beta
        \\left[c^{-\\theta} - (T - t_i + c)^{-\\theta}\\right].

    The sum of log-intensities has no recursion for a power-law kernel: it is computed exactly
    over all pairs in :math:`O(n^2)` time, vectorised in blocks of :math:`2^{20}` pairs
    (:math:`O(n)` memory beyond the block), together with its analytic gradient; the
    compensator is :math:`O(n)`. Ties matter: with exact ties the likelihood grows without
    bound as :math:`c` and :math:`\\theta` go to 0 (the lag-0 pairs get an intensity near
    :math:`\\kappa c^{-(1+\\theta)}` while the compensator stays finite), and on the SEISMIC
    example tweet (2,276 tied pairs in 15,563 events, times in whole seconds) the fit runs to
    both lower bounds. So tied events are first spread over the resolution of the clock
    (``resolution``); with ``resolution=0`` they are kept, ordered as given (stable sort), an
    earlier one exciting a later one at lag 0. Spread events may pass ``at`` by less than one
    resolution; the window then ends at the last of them.
    Marks below 1 are read as 1 (a user with no followers still reshares visibly), which
    also keeps :math:`\\log m` finite.

    **Fit.** :math:`\\kappa` is profiled out (:math:`\\hat\\kappa = (n-1)/\\Lambda_1(T)`, where
    :math:`\\Lambda_1` is the compensator at :math:`\\kappa = 1`), and the profile likelihood is
    maximised over :math:`(\\beta, \\log c, \\log \\theta)` by L-BFGS-B with the analytic
    gradient, within ``BOUNDS``: :math:`0 \\le \\beta \\le 1` (the paper needs
    :math:`\\beta < \\alpha - 1 = 1.016` for a finite mark moment),
    :math:`10^{-3} \\le \\theta \\le 20`, and :math:`10^{-6} W \\le c \\le 10 W` for an
    observation window of length :math:`W`, so that the unit of time does not matter. One
    fit costs
    ``n_starts`` x (iterations) x :math:`O(n^2)`; on the 907 events of the first hour of the
    SEISMIC example tweet it takes well under a second.

    **Forecast.** The observed events will still have, in expectation,
    :math:`A_1 = \\sum_i \\kappa m_i^\\beta (T - t_i + c)^{-\\theta} / \\theta` direct
    offspring after :math:`T`; each event has :math:`n^*` children on average, so when
    :math:`n^* < 1` the final size is :math:`N(T) + A_1 / (1 - n^*)` ([1]_, eq. 9). When
    :math:`n^* \\ge 1` the expected size is infinite: the status is "supercritical".

    **Interval.** The final size does not depend on when the future events happen, only on
    how many each one begets, so it is simulated exactly as a Galton-Watson process: a
    Poisson(:math:`A_1`) first generation, then each event draws a mark (as set by
    ``mark_moment``) and Poisson(:math:`\\kappa m^\\beta / (\\theta c^\\theta)`) children,
    generation by generation, all simulations at once, in :math:`O(\\text{simulated events})`.
    The interval is the central ``level`` range of :math:`N(T) +` the simulated sizes. It
    reflects the randomness of the process only, not the uncertainty of the fitted
    parameters, so it is too narrow when the fit is poor.

    References
    ----------
    .. [1] Mishra, Rizoiu, Xie. "Feature driven and point process approaches for popularity
       prediction." CIKM 2016.
    .. [2] Rizoiu, Lee, Mishra, Xie. "A tutorial on Hawkes processes for events in social
       media." 2017. https://arxiv.org/abs/1708.06401

    Examples
    --------
    A cascade simulated from known parameters (n* = 0.79, marks from the paper's power law),
    observed for 100 time units:

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> times, marks = _simulate_events(0.2, 0.5, 1.0, 0.5, 100.0, rng, root_mark=1e4)
    >>> model = HawkesPowerLaw(random_state=0).fit(times, marks, at=100.0)
    >>> model.status_, model.n_observed_
    ('ok', 99)
    >>> round(model.beta_, 2), round(model.theta_, 2)
    (0.57, 0.62)
    >>> f = model.predict()
    >>> f.status, f.final_size >= f.observed, f.interval[0] <= f.final_size <= f.interval[1]
    ('ok', True, True)
    """

    def __init__(
        self,
        *,
        min_events: int = 50,
        n_starts: int = 4,
        mark_moment: str = "empirical",
        alpha: float = PAPER_ALPHA,
        level: float = 0.9,
        n_simulations: int = 500,
        max_size: int = 1_000_000,
        max_iter: int = 500,
        resolution: float | None = None,
        random_state: RandomState = None,
    ) -> None:
        self.min_events = min_events
        self.n_starts = n_starts
        self.mark_moment = mark_moment
        self.alpha = alpha
        self.level = level
        self.n_simulations = n_simulations
        self.max_size = max_size
        self.max_iter = max_iter
        self.resolution = resolution
        self.random_state = random_state

    # ------------------------------------------------------------------------------ fit
    def _check_params(self) -> None:
        owner = type(self).__name__
        check_number(self.min_events, "min_events", owner, kind=numbers.Integral, low=3)
        check_number(self.n_starts, "n_starts", owner, kind=numbers.Integral, low=1)
        check_choice(self.mark_moment, "mark_moment", owner, ("empirical", "power-law"))
        check_number(self.alpha, "alpha", owner, low=2.0, low_closed=False)
        check_number(
            self.level, "level", owner, low=0.0, high=1.0, low_closed=False, high_closed=False
        )
        check_number(self.n_simulations, "n_simulations", owner, kind=numbers.Integral, low=0)
        check_number(self.max_size, "max_size", owner, kind=numbers.Integral, low=1)
        check_number(self.max_iter, "max_iter", owner, kind=numbers.Integral, low=1)
        if self.resolution is not None:
            check_number(self.resolution, "resolution", owner, low=0.0)

    def fit(self, times: ArrayLike, marks: ArrayLike, *, at: float | None = None) -> HawkesPowerLaw:
        """Fit the process to the events observed up to ``at``.

        Parameters
        ----------
        times : array_like of float
            Event times (the original post and its reshares), in any order; sorted stably.
        marks : array_like of float
            The mark of each event (follower counts), non-negative, aligned with ``times``.
        at : float, optional
            End of the observation window; events after it are ignored. Default: the last
            event time.

        Returns
        -------
        self

        Raises
        ------
        BadInput
            When times or marks are empty, of different lengths, not finite, marks negative,
            or ``at`` is before the first event.
        InvalidParameter
            When a constructor parameter is out of its domain.
        NotConverged
            When no starting point gives a finite likelihood.
        """
        self._check_params()
        t, m, horizon = _check_events(times, marks, at)
        t = _spread_ties(t, self.resolution)
        horizon = max(horizon, float(t[-1]))
        self.observed_until_ = horizon
        self.n_observed_ = len(t)
        self._times, self._log_marks = t, np.log(m)
        nan = math.nan
        self.kappa_ = self.beta_ = self.c_ = self.theta_ = nan
        self.branching_factor_ = self.log_likelihood_ = nan
        self.converged_ = False
        self.n_iter_ = 0
        window = horizon - float(t[0])
        self._why = ""
        if len(t) < self.min_events:
            self._why = f"only {len(t)} events observed, need at least {self.min_events}"
        elif window <= 0:
            self._why = "all the events observed are at one instant"
        if self._why:
            self.status_: Status = "too young"
            return self
        rng = np.random.default_rng(self.random_state)
        best: Any = None
        bounds = _z_bounds(window)
        for z0 in _starting_points(self.n_starts, window, rng):
            res = optimize.minimize(
                _neg_profile,
                z0,
                args=(t, self._log_marks, horizon),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": 1e-12, "gtol": 1e-7},
            )
            if not np.isfinite(res.fun):
                continue
            ok = bool(res.success) or _stationary(res, bounds)
            if best is None or (ok, -res.fun) > (best[0], -best[1].fun):
                best = (ok, res)
        if best is None:
            raise NotConverged("HawkesPowerLaw maximum likelihood (L-BFGS-B)", 0, math.inf)
        ok, res = best
        beta, c, theta = float(res.x[0]), math.exp(res.x[1]), math.exp(res.x[2])
        kappa = (len(t) - 1) / _compensator(1.0, beta, c, theta, t, self._log_marks, horizon)
        self.kappa_, self.beta_, self.c_, self.theta_ = kappa, beta, c, theta
        self.log_likelihood_ = float(-res.fun * (len(t) - 1))
        self.converged_ = ok
        self.n_iter_ = int(res.nit)
        self.branching_factor_ = kappa * self._mark_moment(beta) / (theta * c**theta)
        lo_b, hi_b = np.array(bounds, dtype=np.float64).T
        pinned = [
            name
            for i, name in ((1, "c"), (2, "theta"))
            if np.isclose(res.x[i], lo_b[i]) or np.isclose(res.x[i], hi_b[i])
        ]
        if not ok:
            self.status_ = "not converged"
            self._why = f"maximum likelihood fit did not converge ({res.message})"
        elif pinned:
            # the kernel's time scale is not identified (typically a burst already over)
            self.status_ = "not converged"
            self._why = (
                f"the fit ended on a bound of {' and '.join(pinned)}: the observed window "
                "does not pin down how fast interest decays"
            )
        elif self.branching_factor_ >= 1.0:
            self.status_ = "supercritical"
        else:
            self.status_ = "ok"
        return self

    def _mark_moment(self, beta: float) -> float:
        if self.mark_moment == "power-law":
            return (self.alpha - 1.0) / (self.alpha - 1.0 - beta)
        return float(np.mean(np.exp(beta * self._log_marks[1:])))

    @property
    def params_(self) -> dict[str, float]:
        """The fitted parameters and derived quantities, as a dict."""
        return {
            "kappa": self.kappa_,
            "beta": self.beta_,
            "c": self.c_,
            "theta": self.theta_,
            "n_star": self.branching_factor_,
            "log_likelihood": self.log_likelihood_,
            "observed_until": self.observed_until_,
        }

    # -------------------------------------------------------------------------- predict
    def remaining_offspring(self) -> float:
        """Expected number of direct offspring of the observed events after the window."""
        _check_fitted(self)
        t, lm, T = self._times, self._log_marks, self.observed_until_
        w = np.exp(self.beta_ * lm)
        return float(self.kappa_ / self.theta_ * np.sum(w * (T - t + self.c_) ** -self.theta_))

    def predict(self) -> Forecast:
        """Forecast the final size of the cascade.

        Returns
        -------
        Forecast
            Status "ok" with the point :math:`N(T) + A_1/(1 - n^*)` and the simulated interval;
            otherwise "too young", "supercritical" or "not converged" with NaN point and a
            ``"cannot forecast yet: ..."`` message.
        """
        _check_fitted(self)
        n = self.n_observed_
        status = self.status_
        if status == "too young":
            return Forecast.cannot(MODEL, status, self._why, observed=n, level=self.level)
        params = self.params_
        if status == "supercritical":
            reason = f"branching factor n* >= 1 (n* = {self.branching_factor_:.3g})"
            return Forecast.cannot(
                MODEL, status, reason, observed=n, level=self.level, params=params
            )
        if status == "not converged":
            return Forecast.cannot(
                MODEL, status, self._why, observed=n, level=self.level, params=params
            )
        a1 = self.remaining_offspring()
        point = n + a1 / (1.0 - self.branching_factor_)
        lo = hi = math.nan
        if self.n_simulations > 0:
            sizes = self.simulate_final_sizes(self.n_simulations)
            tail = (1.0 - self.level) / 2.0
            lo, hi = (float(q) for q in np.quantile(sizes, [tail, 1.0 - tail]))
        params["remaining_offspring"] = a1
        return Forecast(MODEL, "ok", point, (lo, hi), self.level, n, "", params)

    def simulate_final_sizes(self, n_simulations: int) -> NDArray[np.int64]:
        """Final sizes (observed events included) of simulated continuations of the cascade.

        A Galton-Watson simulation with the fitted parameters (class Notes), each size capped
        at ``max_size``. Draws from a generator made from ``random_state`` at each call, so
        with an int seed the same model gives the same sizes (a Generator passed as
        ``random_state`` is used as it is, and advances).
        """
        _check_fitted(self)
        if not math.isfinite(self.kappa_):
            raise BadInput("cannot simulate: the cascade was too young to fit")
        rng = np.random.default_rng(self.random_state)
        beta = self.beta_
        child = self.kappa_ / (self.theta_ * self.c_**self.theta_)
        if self.mark_moment == "power-law":
            shape = self.alpha - 1.0

            def rates(k: int) -> FloatArray:
                # m = U^(-1/(alpha-1)) is Pareto(alpha) on [1, inf); m^beta = U^(-beta/shape)
                drawn: FloatArray = child * np.exp(-beta / shape * np.log1p(-rng.random(k)))
                return drawn

        else:
            observed = child * np.exp(beta * self._log_marks[1:])

            def rates(k: int) -> FloatArray:
                drawn: FloatArray = observed[rng.integers(0, len(observed), size=k)]
                return drawn

        room = max(self.max_size - self.n_observed_, 0)
        future = _galton_watson(self.remaining_offspring(), rates, n_simulations, room, rng)
        return self.n_observed_ + future


def hawkes_forecast(
    times: ArrayLike,
    marks: ArrayLike,
    at: float | None = None,
    *,
    random_state: RandomState = None,
    **params: Any,
) -> Forecast:
    """Forecast the final size of a cascade observed up to ``at``: the twin of HawkesPowerLaw.

    Parameters
    ----------
    times, marks : array_like of float
        Event times and marks (follower counts), the original post included.
    at : float, optional
        End of the observation window (default: the last event).
    random_state : int, numpy Generator or None
        Seeds the starting points and the simulations.
    **params
        Other parameters of :class:`HawkesPowerLaw` (``min_events``, ``level``, ...).

    Returns
    -------
    Forecast
        See :meth:`HawkesPowerLaw.predict`.

    Raises
    ------
    BadInput, InvalidParameter, NotConverged
        As :meth:`HawkesPowerLaw.fit`.

    Examples
    --------
    >>> hawkes_forecast([0.0, 1.0, 2.5], [100, 10, 20], at=3.0).message
    'cannot forecast yet: only 3 events observed, need at least 50'
    """
    model = HawkesPowerLaw(random_state=random_state, **params)
    return model.fit(times, marks, at=at).predict()


# ------------------------------------------------------------------------------ checks
def _check_events(
    times: ArrayLike, marks: ArrayLike, at: float | None
) -> tuple[FloatArray, FloatArray, float]:
    t, m = float_pair(times, marks, ("times", "marks"))
    if len(t) == 0:
        raise BadInput("no events: a cascade has at least its original post", field="times")
    if not np.all(np.isfinite(t)):
        raise BadInput("times must be finite", field="times")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise BadInput("marks must be finite and non-negative", field="marks")
    order = np.argsort(t, kind="stable")
    t, m = t[order], m[order]
    horizon = float(t[-1]) if at is None else float(at)
    if not math.isfinite(horizon) or horizon < t[0]:
        raise BadInput(f"'at' must be finite and not before the first event; got {at!r}")
    keep = t <= horizon
    return t[keep], np.maximum(m[keep], 1.0), horizon


def _check_fitted(model: HawkesPowerLaw) -> None:
    if not hasattr(model, "status_"):
        raise BadInput("this HawkesPowerLaw is not fitted yet: call fit(times, marks) first")


def _spread_ties(t: FloatArray, resolution: float | None) -> FloatArray:
    """Spread the ``k`` events of each time stamp ``s`` over ``s + r * resolution / k``."""
    if len(t) < 2:
        return t
    gaps = np.diff(t)
    if resolution is None:
        positive = gaps[gaps > 0]
        resolution = float(positive.min()) if len(positive) else 0.0
    if resolution == 0.0 or np.all(gaps > 0):
        return t
    stamps, first, counts = np.unique(t, return_index=True, return_counts=True)
    group = np.repeat(np.arange(len(stamps)), counts)
    rank = np.arange(len(t)) - first[group]
    return t + rank * (resolution / counts[group])


# ------------------------------------------------------------------ likelihood kernels
def _compensator(
    kappa: float, beta: float, c: float, theta: float, t: FloatArray, log_m: FloatArray, at: float
) -> float:
    """:math:`\\Lambda(at) = \\int \\lambda`, over the events ``t <= at``, in O(n)."""
    keep = t <= at
    w = np.exp(beta * log_m[keep])
    # c^-theta - u^-theta = -c^-theta * expm1(-theta log(u/c)), exact also for tiny theta
    g = -(c**-theta) * np.expm1(-theta * np.log1p((at - t[keep]) / c))
    return float(kappa / theta * np.sum(w * g))


def _intensity(
    s: ArrayLike,
    kappa: float,
    beta: float,
    c: float,
    theta: float,
    t: FloatArray,
    log_m: FloatArray,
) -> FloatArray:
    """The intensity at each time in ``s`` (events strictly before it count); O(len(s) n)."""
    s = np.atleast_1d(np.asarray(s, dtype=np.float64))
    w = np.exp(beta * log_m)
    out = np.empty(len(s))
    step = max(1, _BLOCK // max(len(t), 1))
    for a in range(0, len(s), step):
        lag = s[a : a + step, None] - t[None, :]
        before = lag > 0
        kern = np.where(before, np.maximum(lag, 0.0) + c, 1.0) ** -(1.0 + theta)
        out[a : a + step] = kappa * (np.where(before, kern, 0.0) @ w)
    return out


def _log_likelihood(
    kappa: float, beta: float, c: float, theta: float, t: FloatArray, log_m: FloatArray, at: float
) -> tuple[float, FloatArray]:
    """Log-likelihood and its gradient in (kappa, beta, c, theta), O(n^2) time in blocks.

    ``t`` is sorted and ``t <= at``; the first event is given (its intensity is not counted).
    Event j is excited by the events before it in the order of ``t`` (ties at lag 0).
    """
    n = len(t)
    w = np.exp(beta * log_m)
    wl = w * log_m
    s0 = np.zeros(n)  # sum_i w_i k_ji                      (lambda_j / kappa)
    sb = np.zeros(n)  # sum_i w_i log m_i k_ji              (d/d beta)
    sc = np.zeros(n)  # sum_i w_i k_ji / (t_j - t_i + c)    (d/d c, times -(1 + theta))
    st = np.zeros(n)  # sum_i w_i k_ji log(t_j - t_i + c)   (d/d theta, times -1)
    step = max(1, min(_BLOCK // n, _ROWS))
    # the diagonal square of each block: event a + r is excited by a + q only when q < r
    tri = np.tri(step, step, -1, dtype=bool)
    for a in range(1, n, step):
        b = min(a + step, n)
        u = np.subtract.outer(t[a:b], t[:b])  # t sorted: lags >= 0 where the pair counts
        np.maximum(u, 0.0, out=u)
        u += c
        log_u = np.log(u)
        k = np.exp(log_u * -(1.0 + theta))
        k[:, a:b] *= tri[: b - a, : b - a]
        s0[a:b] = k @ w[:b]
        sb[a:b] = k @ wl[:b]
        log_u *= k
        st[a:b] = log_u @ w[:b]
        k /= u
        sc[a:b] = k @ w[:b]
    s0, sb, sc, st = s0[1:], sb[1:], sc[1:], st[1:]
    lam = kappa * s0
    # the compensator and its gradient, O(n)
    keep = t <= at
    wk, lk = w[keep], log_m[keep]
    u = at - t[keep] + c
    log_ratio = np.log1p((at - t[keep]) / c)
    g = -(c**-theta) * np.expm1(-theta * log_ratio)  # c^-theta - u^-theta
    comp = kappa / theta * np.sum(wk * g)
    d_beta = kappa / theta * np.sum(wk * lk * g)
    d_c = kappa * np.sum(wk * (u ** -(theta + 1.0) - c ** -(theta + 1.0)))
    d_theta = -comp / theta + kappa / theta * np.sum(
        wk * (np.log(u) * u**-theta - math.log(c) * c**-theta)
    )
    ll = float(np.sum(np.log(lam)) - comp)
    grad = np.array(
        [
            (n - 1) / kappa - comp / kappa,
            float(np.sum(sb / s0)) - d_beta,
            -(1.0 + theta) * float(np.sum(sc / s0)) - d_c,
            -float(np.sum(st / s0)) - d_theta,
        ]
    )
    return ll, grad


def _neg_profile(
    z: FloatArray, t: FloatArray, log_m: FloatArray, at: float
) -> tuple[float, FloatArray]:
    """Minus the profile log-likelihood per event over z = (beta, log c, log theta)."""
    beta, c, theta = float(z[0]), math.exp(z[1]), math.exp(z[2])
    n1 = len(t) - 1
    kappa = n1 / _compensator(1.0, beta, c, theta, t, log_m, at)
    ll, grad = _log_likelihood(kappa, beta, c, theta, t, log_m, at)
    # envelope theorem: d(profile)/d(phi) = dLL/d(phi) at kappa-hat
    gz = np.array([grad[1], grad[2] * c, grad[3] * theta])
    return -ll / n1, -gz / n1


def _z_bounds(window: float) -> list[tuple[float, float]]:
    """Bounds of (beta, log c, log theta) for an observation window of length ``window``."""
    (b0, b1), (c0, c1), (h0, h1) = BOUNDS["beta"], BOUNDS["c"], BOUNDS["theta"]
    log_w = math.log(window)
    return [(b0, b1), (math.log(c0) + log_w, math.log(c1) + log_w), (math.log(h0), math.log(h1))]


def _starting_points(k: int, window: float, rng: np.random.Generator) -> list[FloatArray]:
    """(beta, log c, log theta): a fixed one, then uniform and log-uniform draws.

    c starts at a hundredth of the window, or between 1e-5 and 0.3 windows.
    """
    log_w = math.log(window)
    points = [np.array([0.5, math.log(0.01) + log_w, math.log(0.5)])]
    for _ in range(k - 1):
        beta = rng.uniform(0.05, 0.95)
        log_c = rng.uniform(math.log(1e-5), math.log(0.3)) + log_w
        log_theta = rng.uniform(math.log(0.05), math.log(3.0))
        points.append(np.array([beta, log_c, log_theta]))
    return points


def _stationary(res: Any, bounds: list[tuple[float, float]]) -> bool:
    """L-BFGS-B often stops on a failed line search at the optimum: accept a tiny gradient."""
    if not np.all(np.isfinite(res.x)) or not np.isfinite(res.fun):
        return False
    lo, hi = np.array(bounds).T
    g = np.asarray(res.jac, dtype=np.float64)
    # projected gradient: components pushing against an active bound do not count
    g = np.where((res.x <= lo) & (g > 0), 0.0, g)
    g = np.where((res.x >= hi) & (g < 0), 0.0, g)
    return bool(np.max(np.abs(g)) < 1e-4)


# ------------------------------------------------------------------ branching simulation
def _galton_watson(
    first: float,
    rates: Callable[[int], FloatArray],
    n_sims: int,
    room: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Total progeny of ``n_sims`` branching processes, each capped at ``room``.

    Generation 0 is Poisson(``first``); each member draws its own offspring mean from
    ``rates`` and has Poisson(mean) children. Exact; O(total progeny) draws.
    """
    counts = np.minimum(rng.poisson(first, size=n_sims), room).astype(np.int64)
    total = counts.copy()
    while counts.any():
        means = _sum_of_rates(counts, rates)
        counts = np.minimum(rng.poisson(means), room - total).astype(np.int64)
        total += counts
    return total


def _sum_of_rates(counts: NDArray[np.int64], rates: Callable[[int], FloatArray]) -> FloatArray:
    """For each simulation s, the sum of ``counts[s]`` draws of ``rates``, in bounded memory."""
    out = np.zeros(len(counts))
    ends = np.cumsum(counts)
    start = 0
    while start < len(counts):
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + _DRAWS, side="right")), start + 1)
        group = counts[start:stop]
        size = int(group.sum())
        if size <= _DRAWS:
            owner = np.repeat(np.arange(stop - start), group)
            out[start:stop] = np.bincount(owner, weights=rates(size), minlength=stop - start)
        else:  # one simulation with more members than a block: add it up block by block
            acc = 0.0
            for a in range(0, size, _DRAWS):
                acc += float(rates(min(_DRAWS, size - a)).sum())
            out[start] = acc
        start = stop
    return out


def _simulate_events(
    kappa: float,
    beta: float,
    c: float,
    theta: float,
    horizon: float,
    rng: np.random.Generator,
    *,
    root_mark: float = 1000.0,
    alpha: float = PAPER_ALPHA,
    max_events: int = 100_000,
) -> tuple[FloatArray, FloatArray]:
    """Simulate a cascade on [0, horizon] by branching (for examples and tests).

    The root (time 0, mark ``root_mark``) and each event have Poisson(kappa m^beta / (theta
    c^theta)) children at lags drawn from the normalised kernel (inverse CDF
    c (U^(-1/theta) - 1)); marks are Pareto(alpha) on [1, inf). Children after ``horizon``
    are dropped. Returns sorted times and their marks.
    """
    times = [np.zeros(1)]
    marks = [np.array([float(root_mark)])]
    parents_t, parents_m = times[0], marks[0]
    total = 1
    while len(parents_t) and total < max_events:
        mean = kappa * parents_m**beta / (theta * c**theta)
        kids = rng.poisson(mean)
        born = np.repeat(parents_t, kids)
        lag = c * np.expm1(-np.log1p(-rng.random(len(born))) / theta)
        born = born + lag
        born = born[born <= horizon][: max_events - total]
        new_m = np.exp(-np.log1p(-rng.random(len(born))) / (alpha - 1.0))
        times.append(born)
        marks.append(new_m)
        total += len(born)
        parents_t, parents_m = born, new_m
    t = np.concatenate(times)
    m = np.concatenate(marks)
    order = np.argsort(t, kind="stable")
    return t[order], m[order]
