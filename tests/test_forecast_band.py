"""The adoption curve with the Bass forecast and its band."""

from __future__ import annotations

import numpy as np
import pytest

from grapevine.errors import BadInput, InvalidParameter
from grapevine.forecast import Bass, adoption_band, bass_cumulative
from grapevine.forecast._band import BAND_MAX_NFEV


def test_band_recovers_a_bass_curve() -> None:
    # Adoption times drawn from a Bass curve with m = 2000: the forecast covers it.
    grid = np.linspace(0.0, 40.0, 4001)
    cum = bass_cumulative(grid, 0.01, 0.3, 2000.0)
    times = np.interp(np.arange(1, 1501), cum, grid)  # the first 1,500 adoptions
    band = adoption_band(times, bins=20, horizon=3.0)
    assert band.forecast.ok
    lo, hi = band.forecast.interval
    assert lo <= 2000 * 1.1
    assert hi >= 2000 * 0.9
    assert len(band.age) == 60
    assert np.isnan(band.observed[20:]).all()
    assert band.observed[19] == 1500
    data = band.to_dict()
    assert len(data["rows"]) == 60
    assert data["rows"][-1]["observed"] is None
    assert all(r["lower"] <= r["fitted"] <= r["upper"] for r in data["rows"] if r["lower"])


def test_band_uses_only_what_was_seen_by_at() -> None:
    times = np.arange(100, dtype=float)
    band = adoption_band(times, at=50.0, bins=10)
    assert band.forecast.observed == 51
    assert np.nanmax(band.observed) == 51


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"bins": 1}, InvalidParameter), ({"horizon": 0.5}, InvalidParameter),
     ({"level": 1.0}, InvalidParameter)],
)  # fmt: skip
def test_band_checks_its_parameters(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        adoption_band([0.0, 1.0, 2.0], **kwargs)


def test_band_needs_a_time() -> None:
    with pytest.raises(BadInput, match="no finite adoption time"):
        adoption_band([float("nan")])


def test_the_bounded_fit_is_the_full_fit_when_it_converges() -> None:
    # The band's evaluation bound only drops starts that never converge: on a curve that
    # does, the fit is the unbounded Bass fit of the same binned counts.
    grid = np.linspace(0.0, 40.0, 4001)
    times = np.interp(np.arange(1, 1201), bass_cumulative(grid, 0.02, 0.4, 1800.0), grid)
    band = adoption_band(times, bins=24)
    counts = np.diff(np.r_[0.0, band.observed[:24]])
    full = Bass(level=0.9).fit(np.arange(1, 25, dtype=float), counts)
    assert not full.fallback_
    assert band.forecast.final_size == pytest.approx(full.predict().final_size, rel=1e-6)
    assert band.fitted[:24] == pytest.approx(full.cumulative(np.arange(1, 25)), rel=1e-6)


def test_a_cascade_still_exploding_gets_a_forecast_of_at_least_what_was_seen() -> None:
    # Adoptions doubling every period up to the end: the fit has little to hold m.
    times = np.concatenate([np.full(2**k, float(k)) + np.linspace(0, 0.9, 2**k)
                            for k in range(12)])  # fmt: skip
    band = adoption_band(times, bins=24)
    assert band.forecast.ok
    assert band.forecast.final_size >= band.forecast.observed == times.size
    assert np.isfinite(band.fitted).all()


def test_bass_checks_its_evaluation_bound() -> None:
    with pytest.raises(InvalidParameter, match="max_nfev"):
        Bass(max_nfev=0).fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert Bass().max_nfev > BAND_MAX_NFEV
