"""A cascade's adoption curve with the Bass forecast and its band, ready to draw.

:func:`adoption_band` bins a cascade's adoption times, fits the Bass model
(:class:`~grapevine.forecast.Bass`) to what was seen up to ``at``, and returns the observed
cumulative count with the fitted curve and its delta-method band extended past the data, and
the forecast of the final count.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grapevine._validation import check_number
from grapevine.errors import BadInput
from grapevine.forecast._result import Forecast
from grapevine.forecast.bass import Bass

__all__ = ["BAND_MAX_NFEV", "AdoptionBand", "adoption_band"]

#: Most model evaluations of each least-squares start of the band's Bass fit. On 24 bins a
#: fit that converges does so in well under 200 (16 to 132 on the demo's cascades); a
#: cascade still exploding when the data ends has no finite ``m`` to converge to, and
#: would otherwise spend 2,000 evaluations per start before falling back to the priors.
BAND_MAX_NFEV = 200


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass
class AdoptionBand:
    """Observed and forecast cumulative adoptions of one cascade.

    Attributes
    ----------
    start : float
        Time of the first adoption.
    period : float
        Bin width in seconds.
    at : float
        Age (seconds after ``start``) up to which adoptions were used for the fit.
    age : ndarray
        End of each bin, in seconds after ``start``, past ``at`` up to the horizon.
    observed : ndarray
        Cumulative adoptions at each ``age`` (NaN past the last adoption seen).
    fitted, lower, upper : ndarray
        The Bass curve and its interval at ``level`` (NaN where the covariance is unknown).
    forecast : Forecast
        The forecast of the final count (:meth:`Bass.predict`).
    """

    start: float
    period: float
    at: float
    age: np.ndarray
    observed: np.ndarray
    fitted: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    forecast: Forecast

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: one row per bin (``age``, ``observed``, ``fitted``, ``lower``,
        ``upper``; None for NaN), and the forecast's point, interval, level and status."""
        rows = [
            {"age": float(a), "observed": _num(o), "fitted": _num(f), "lower": _num(lo),
             "upper": _num(hi)}
            for a, o, f, lo, hi in zip(
                self.age, self.observed, self.fitted, self.lower, self.upper, strict=True
            )
        ]  # fmt: skip
        fc = self.forecast
        return {
            "start": self.start,
            "period": self.period,
            "at": self.at,
            "rows": rows,
            "final_size": _num(fc.final_size),
            "interval": [_num(fc.interval[0]), _num(fc.interval[1])],
            "level": fc.level,
            "status": fc.status,
            "message": fc.message,
            "observed_count": fc.observed,
        }


def adoption_band(
    times: ArrayLike,
    *,
    at: float | None = None,
    bins: int = 24,
    horizon: float = 2.0,
    level: float = 0.9,
) -> AdoptionBand:
    """Fit the Bass model to a cascade's adoptions up to ``at`` and draw its band ahead.

    Parameters
    ----------
    times : array_like of float
        Adoption times in seconds (any clock; the first is the start).
    at : float, optional
        Use only adoptions up to ``at`` seconds after the first (default: all of them).
    bins : int
        Number of periods the observed span ``[0, at]`` is cut into (>= 2).
    horizon : float
        How far to draw the curve, as a multiple of ``at`` (>= 1).
    level : float
        Coverage of the band, in (0, 1).

    Returns
    -------
    AdoptionBand

    Raises
    ------
    BadInput
        When there is no finite time.
    InvalidParameter
        When ``bins``, ``horizon`` or ``level`` is out of its domain.

    Notes
    -----
    The band is the delta-method interval of the fitted mean curve (see
    :meth:`Bass.cumulative_interval`), not a prediction interval for future counts.

    The fit is on the ``bins`` binned counts (not per adoption), and each least-squares
    start stops after :data:`BAND_MAX_NFEV` evaluations: a start that has not converged
    by then is dropped, and when none converges ``p`` and ``q`` are the priors and only
    ``m`` is fitted (:class:`Bass`'s fallback, said in the forecast's message).

    Examples
    --------
    >>> times = [0, 1, 2, 3, 5, 6, 8, 9, 12, 15, 20, 30]
    >>> band = adoption_band(times, bins=6)
    >>> band.observed[:6].tolist()
    [5.0, 8.0, 10.0, 11.0, 11.0, 12.0]
    >>> band.forecast.ok
    True
    """
    check_number(bins, "bins", "adoption_band", kind=numbers.Integral, low=2)
    check_number(horizon, "horizon", "adoption_band", low=1.0)
    check_number(level, "level", "adoption_band", low=0.0, high=1.0, low_closed=False,
                 high_closed=False)  # fmt: skip
    t = np.asarray(times, dtype=np.float64)
    t = np.sort(t[np.isfinite(t)])
    if t.size == 0:
        raise BadInput("no finite adoption time", field="times")
    start = float(t[0])
    age = t - start
    seen_until = float(age[-1]) if at is None else float(at)
    if not seen_until > 0:
        seen_until = 1.0
    period = seen_until / bins
    n_total = math.ceil(bins * horizon)
    ends = period * np.arange(1, n_total + 1)
    observed_cum = np.searchsorted(age, ends, side="right").astype(np.float64)
    observed_cum[ends > seen_until + 1e-9 * period] = np.nan
    counts = np.diff(np.r_[0.0, observed_cum[:bins]])
    model = Bass(level=level, max_nfev=BAND_MAX_NFEV).fit(
        np.arange(1, bins + 1, dtype=np.float64), counts
    )
    periods = np.arange(1, n_total + 1, dtype=np.float64)
    fitted = model.cumulative(periods)
    lower, upper = model.cumulative_interval(periods)
    return AdoptionBand(
        start, period, seen_until, ends, observed_cum, fitted, lower, upper, model.predict()
    )
