"""Forecasts of final reach: SEISMIC, a marked power-law Hawkes process and the Bass model.

Every model returns a :class:`Forecast`: a point, an interval at a stated level, and a status
that says "cannot forecast yet" (supercritical, too young, not converged) instead of a silent
infinity.
"""

from grapevine.forecast._result import Forecast
from grapevine.forecast.bass import Bass, bass_cumulative, fit_bass
from grapevine.forecast.hawkes import HawkesPowerLaw, hawkes_forecast
from grapevine.forecast.seismic import (
    Seismic,
    SeismicForecast,
    get_infectiousness,
    pred_cascade,
    seismic_forecast,
)

__all__ = [
    "Bass",
    "Forecast",
    "HawkesPowerLaw",
    "Seismic",
    "SeismicForecast",
    "bass_cumulative",
    "fit_bass",
    "get_infectiousness",
    "hawkes_forecast",
    "pred_cascade",
    "seismic_forecast",
]
