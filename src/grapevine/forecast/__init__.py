"""Forecasts of final reach: SEISMIC, a marked power-law Hawkes process, the Bass model, and the
log-linear early-count regression that answers where the others cannot (``fallback``).

Every model returns a :class:`Forecast`: a point, an interval at a stated level, and a status
that says "cannot forecast yet" (supercritical, too young, not converged) instead of a silent
infinity.
"""

from grapevine.forecast._band import AdoptionBand, adoption_band
from grapevine.forecast._result import Forecast
from grapevine.forecast.bass import Bass, bass_cumulative, fit_bass
from grapevine.forecast.fallback import Answer, forecast_with_fallback
from grapevine.forecast.hawkes import HawkesPowerLaw, hawkes_forecast
from grapevine.forecast.loglinear import LogLinear, loglinear_forecast
from grapevine.forecast.seismic import (
    Seismic,
    SeismicForecast,
    get_infectiousness,
    pred_cascade,
    seismic_forecast,
)

__all__ = [
    "AdoptionBand",
    "Answer",
    "Bass",
    "Forecast",
    "HawkesPowerLaw",
    "LogLinear",
    "Seismic",
    "SeismicForecast",
    "adoption_band",
    "bass_cumulative",
    "fit_bass",
    "forecast_with_fallback",
    "get_infectiousness",
    "hawkes_forecast",
    "loglinear_forecast",
    "pred_cascade",
    "seismic_forecast",
]
