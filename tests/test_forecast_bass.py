"""The Bass diffusion model: exact recovery, the fallback to the priors, takeoff and peak,
intervals, and out-of-sample errors on two classic diffusion-of-innovations datasets.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from grapevine.errors import BadInput, InvalidParameter
from grapevine.forecast import bass
from grapevine.forecast.bass import Bass, bass_cumulative, fit_bass


def reference_cumulative(t: float, p: float, q: float, m: float) -> float:
    """Bass (1969), as printed."""
    e = math.exp(-(p + q) * t)
    return m * (1 - e) / (1 + q / p * e)


def adoption_counts(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-period adopters of a netdiffuseR node table (largest toa = never adopted)."""
    toa = pd.read_csv(path)["toa"].to_numpy(dtype=float)
    never = toa.max()
    adopted = toa[toa < never].astype(int)
    periods = np.arange(1, adopted.max() + 1)
    return periods, np.bincount(adopted, minlength=len(periods) + 1)[1:].astype(float)


# --------------------------------------------------------------------------------- the curve
def test_curve_equals_the_formula() -> None:
    t = np.array([0.0, 0.5, 3.0, 17.0, 200.0])
    got = bass_cumulative(t, 0.03, 0.38, 500.0)
    np.testing.assert_allclose(got, [reference_cumulative(x, 0.03, 0.38, 500.0) for x in t])


def test_jacobian_equals_central_differences() -> None:
    t = np.linspace(0.0, 20.0, 9)
    x = np.array([0.02, 0.45, 800.0])
    _, jac = bass._cumulative_and_jacobian(t, *x)
    for k in range(3):
        h = np.zeros(3)
        h[k] = 1e-6 * x[k]
        up = bass._cumulative_and_jacobian(t, *(x + h))[0]
        down = bass._cumulative_and_jacobian(t, *(x - h))[0]
        np.testing.assert_allclose(jac[:, k], (up - down) / (2 * h[k]), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------------- the fit
@pytest.mark.parametrize(
    ("p", "q", "m"), [(0.03, 0.38, 1000.0), (0.01, 0.9, 250.0), (0.2, 0.1, 5e4), (0.005, 0.3, 77)]
)
@pytest.mark.parametrize("cumulative", [False, True])
def test_recovers_an_exact_curve(p: float, q: float, m: float, cumulative: bool) -> None:
    t = np.arange(1.0, 16.0)
    curve = bass_cumulative(np.arange(0.0, 16.0), p, q, m)
    y = curve[1:] if cumulative else np.diff(curve)
    model = Bass().fit(t, y, cumulative=cumulative)
    assert not model.fallback_
    assert model.fallback_reason_ == ""
    assert model.p_ == pytest.approx(p, rel=1e-6)
    assert model.q_ == pytest.approx(q, rel=1e-6)
    assert model.m_ == pytest.approx(m, rel=1e-6)
    assert model.cost_ < 1e-12 * m**2
    np.testing.assert_allclose(model.cumulative(np.arange(0.0, 16.0)), curve, rtol=1e-6, atol=1e-9)


def test_recovers_a_curve_on_uneven_periods() -> None:
    t = np.array([0.5, 1.0, 2.5, 4.0, 4.5, 7.0, 9.0, 14.0])
    curve = bass_cumulative(np.concatenate([[0.0], t]), 0.04, 0.5, 300.0)
    model = Bass().fit(t, np.diff(curve))
    assert (model.p_, model.q_, model.m_) == pytest.approx((0.04, 0.5, 300.0), rel=1e-6)


def test_takeoff_and_peak() -> None:
    p, q, m = 0.02, 0.5, 1000.0
    model = Bass().fit(np.arange(1, 13), np.diff(bass_cumulative(np.arange(0, 13), p, q, m)))
    assert model.takeoff_ == pytest.approx(math.log(q / p) / (p + q), rel=1e-6)
    assert model.peak_rate_ == pytest.approx(m * (p + q) ** 2 / (4 * q), rel=1e-6)
    # the peak of the adoption rate, found numerically
    grid = np.linspace(0.0, 20.0, 200_001)
    rate = model.rate(grid)
    assert grid[np.argmax(rate)] == pytest.approx(model.takeoff_, abs=2e-4)
    assert rate.max() == pytest.approx(model.peak_rate_, rel=1e-9)
    # the rate is the derivative of the cumulative curve
    h = 1e-5
    np.testing.assert_allclose(
        rate[::20_000],
        (model.cumulative(grid[::20_000] + h) - model.cumulative(grid[::20_000] - h)) / (2 * h),
        rtol=1e-6,
        atol=1e-6,
    )


def test_no_takeoff_when_imitation_is_weaker_than_innovation() -> None:
    p, q, m = 0.3, 0.1, 200.0
    model = Bass().fit(np.arange(1, 11), np.diff(bass_cumulative(np.arange(0, 11), p, q, m)))
    assert model.takeoff_ == 0.0
    assert model.peak_rate_ == pytest.approx(m * p, rel=1e-6)


# ------------------------------------------------------------------------------ fallback
def test_short_history_falls_back_to_the_priors() -> None:
    t, y = np.array([1.0, 2.0, 3.0]), np.array([30.0, 40.0, 50.0])
    model = fit_bass(t, y)
    assert model.fallback_
    assert (model.p_, model.q_) == (0.03, 0.38)
    assert "only 3 periods observed, need 6" in model.fallback_reason_
    # m is the least-squares m with p and q fixed
    shape = np.diff(bass_cumulative(np.array([0.0, 1.0, 2.0, 3.0]), 0.03, 0.38, 1.0))
    best = optimize.minimize_scalar(
        lambda m: np.sum((m * shape - y) ** 2),
        bounds=(120, 1e5),
        method="bounded",
        options={"xatol": 1e-8},
    )
    assert model.m_ == pytest.approx(best.x, rel=1e-8)
    assert model.covariance_[0, 0] == model.covariance_[1, 1] == 0.0
    assert model.takeoff_ == pytest.approx(math.log(0.38 / 0.03) / 0.41)
    f = model.predict()
    assert f.status == "ok"
    assert "priors" in f.message
    assert f.observed == 120
    assert f.interval[0] >= 120


def test_fallback_m_is_at_least_the_observed_adopters() -> None:
    # a late surge: the least-squares m under declining priors is below what was observed
    model = Bass(prior_p=0.5, prior_q=0.5).fit([1, 2], [1, 100])
    assert model.fallback_
    assert model.m_ == 101.0


def test_fit_on_a_bound_falls_back() -> None:
    # geometric decline is the Bass curve with q = 0, which is outside q > 0
    t = np.arange(1.0, 11.0)
    model = Bass().fit(t, 100.0 * 0.8 ** (t - 1))
    assert model.fallback_
    assert "on a bound" in model.fallback_reason_
    assert (model.p_, model.q_) == (0.03, 0.38)


def test_priors_can_be_changed() -> None:
    model = Bass(min_periods=10, prior_p=0.01, prior_q=0.2).fit([1, 2, 3, 4], [1, 2, 3, 4])
    assert (model.p_, model.q_) == (0.01, 0.2)


def test_no_adoptions_is_too_young() -> None:
    model = Bass().fit([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 0])
    f = model.predict()
    assert f.status == "too young"
    assert f.message == "cannot forecast yet: no adoptions observed"
    assert math.isnan(f.final_size)


# ----------------------------------------------------------------------------- intervals
def test_delta_method_intervals_on_noisy_counts() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(1.0, 21.0)
    counts = rng.poisson(np.diff(bass_cumulative(np.arange(0.0, 21.0), 0.03, 0.4, 2000.0)))
    model = Bass(level=0.9).fit(t, counts)
    assert not model.fallback_
    f = model.predict()
    lo, hi = f.interval
    assert counts.sum() <= lo < f.final_size < hi
    # the m interval is m +- z sd(m)
    sd = math.sqrt(model.covariance_[2, 2])
    assert hi - f.final_size == pytest.approx(1.6448536 * sd, rel=1e-6)
    future = np.array([25.0, 40.0])
    low, high = model.cumulative_interval(future)
    mid = model.cumulative(future)
    assert np.all(low < mid)
    assert np.all(mid < high)
    # far in the future the curve is m: the two intervals agree
    _far_lo, far_hi = model.cumulative_interval([1e4])
    assert far_hi[0] == pytest.approx(hi, rel=1e-9)
    # a wider level gives a wider interval
    wide = Bass(level=0.99).fit(t, counts).predict().interval
    assert wide[1] > hi


def test_no_interval_without_degrees_of_freedom() -> None:
    # one period and one free parameter (m): no residual variance to go on
    f = fit_bass([1.0], [10.0]).predict()
    assert f.ok
    assert f.final_size >= 10
    assert all(math.isnan(x) for x in f.interval)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("t", "y", "cumulative", "match"),
    [
        ([], [], False, "no periods"),
        ([1, 2], [1], False, "one length"),
        ([0, 1], [1, 1], False, "positive"),
        ([1, 1], [1, 1], False, "increasing"),
        ([1, 2], [1, -1], False, "non-negative"),
        ([1, 2], [1, np.nan], False, "finite"),
        ([1, 2], [5, 4], True, "cannot decrease"),
        ([[1, 2]], [[1, 2]], False, "1-d"),
        (["x"], [1], False, "numbers"),
    ],
)
def test_bad_input(t: list, y: list, cumulative: bool, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        Bass().fit(t, y, cumulative=cumulative)


@pytest.mark.parametrize(
    ("param", "value"),
    [("min_periods", 3), ("prior_p", 0.0), ("prior_q", -1.0), ("level", 0.0), ("level", "0.9")],
)
def test_invalid_parameters(param: str, value: object) -> None:
    with pytest.raises(InvalidParameter, match=f"'{param}' parameter of Bass"):
        Bass(**{param: value}).fit([1, 2, 3], [1, 2, 3])


def test_not_fitted() -> None:
    with pytest.raises(BadInput, match="not fitted"):
        Bass().predict()


# ------------------------------------------------------------------------------ real data
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "periods", "adopters"),
    [("medInnovations", 17, 109), ("kfamily", 10, 673)],
)
def test_out_of_sample_error_on_real_diffusions(
    data_dir: Path, name: str, periods: int, adopters: int
) -> None:
    """Fit on the first half of the periods, forecast the second (figures in the docs)."""
    t, counts = adoption_counts(data_dir / "innovations" / f"{name}_nodes_toa.csv")
    assert (len(t), int(counts.sum())) == (periods, adopters)
    half = len(t) // 2
    actual = np.cumsum(counts)[half:]
    for model in (Bass(), Bass(min_periods=4)):
        model.fit(t[:half], counts[:half])
        predicted = model.cumulative(t[half:])
        mape = float(np.mean(np.abs(predicted - actual) / actual))
        assert math.isfinite(mape)
        assert np.all(predicted >= np.cumsum(counts)[half - 1] - 1e-9)
        f = model.predict()
        assert f.ok
        assert f.final_size >= f.observed == int(counts[:half].sum())
