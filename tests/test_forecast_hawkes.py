"""The marked power-law Hawkes forecast: likelihood against a double loop, the compensator
against numerical integration, parameter recovery, the forecast branches, and the SEISMIC tweet.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from grapevine.errors import BadInput, InvalidParameter, NotConverged
from grapevine.forecast import hawkes
from grapevine.forecast._result import Forecast
from grapevine.forecast.hawkes import HawkesPowerLaw, hawkes_forecast

TRUE = {"kappa": 0.2, "beta": 0.5, "c": 1.0, "theta": 0.5}  # n* = 0.79 under alpha = 2.016


# ---------------------------------------------------------------------------- references
def naive_log_likelihood(
    times: list[float],
    marks: list[float],
    kappa: float,
    beta: float,
    c: float,
    theta: float,
    at: float,
) -> float:
    """The log-likelihood by its definition: a double loop (event j excited by each i < j)."""
    m = [max(x, 1.0) for x in marks]
    total = 0.0
    for j in range(1, len(times)):
        lam = 0.0
        for i in range(j):
            lam += kappa * m[i] ** beta * (times[j] - times[i] + c) ** -(1.0 + theta)
        total += math.log(lam)
    compensator = 0.0
    for i in range(len(times)):
        compensator += kappa * m[i] ** beta / theta * (c**-theta - (at - times[i] + c) ** -theta)
    return total - compensator


def naive_intensity(s: float, times: list[float], marks: list[float], **p: float) -> float:
    return sum(
        p["kappa"] * max(m, 1.0) ** p["beta"] * (s - t + p["c"]) ** -(1.0 + p["theta"])
        for t, m in zip(times, marks, strict=True)
        if t < s
    )


def simulate(
    rng: np.random.Generator,
    horizon: float,
    *,
    root_mark: float,
    kappa: float,
    beta: float,
    c: float,
    theta: float,
    alpha: float = 2.016,
    cap: int = 20_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Event by event: each has Poisson(kappa m^beta / (theta c^theta)) children, lags by the
    inverse CDF of the normalised kernel, marks Pareto(alpha) on [1, inf)."""
    events = [(0.0, root_mark)]
    todo = [(0.0, root_mark)]
    while todo and len(events) < cap:
        t, m = todo.pop()
        for _ in range(rng.poisson(kappa * m**beta / (theta * c**theta))):
            lag = c * ((1.0 - rng.random()) ** (-1.0 / theta) - 1.0)
            if t + lag <= horizon:
                child = (t + lag, (1.0 - rng.random()) ** (-1.0 / (alpha - 1.0)))
                events.append(child)
                todo.append(child)
    events.sort(key=lambda e: e[0])
    return np.array([e[0] for e in events]), np.array([e[1] for e in events])


def small_cascade() -> tuple[np.ndarray, np.ndarray]:
    """Sixty events with ties and zero marks (read as 1)."""
    rng = np.random.default_rng(7)
    times = np.sort(np.round(rng.exponential(20.0, size=60).cumsum() ** 0.8, 1))
    times[0] = 0.0
    times[10:13] = times[10]  # a three-way tie
    marks = np.floor(rng.pareto(1.0, size=60) * 30)
    marks[[3, 17]] = 0.0
    return times, marks


# ------------------------------------------------------------------------- the likelihood
@pytest.mark.parametrize(
    ("kappa", "beta", "c", "theta"),
    [(0.2, 0.5, 1.0, 0.5), (0.01, 0.0, 0.1, 0.05), (3.0, 0.9, 30.0, 2.5), (0.5, 1.0, 1e-3, 1.0)],
)
@pytest.mark.parametrize("rows", [256, 7])  # one block, and many blocks of the pair loop
def test_log_likelihood_equals_the_double_loop(
    monkeypatch: pytest.MonkeyPatch, rows: int, kappa: float, beta: float, c: float, theta: float
) -> None:
    monkeypatch.setattr(hawkes, "_ROWS", rows)
    t, m = small_cascade()
    at = float(t[-1]) + 5.0
    ll, _ = hawkes._log_likelihood(kappa, beta, c, theta, t, np.log(np.maximum(m, 1.0)), at)
    ref = naive_log_likelihood(t.tolist(), m.tolist(), kappa, beta, c, theta, at)
    assert ll == pytest.approx(ref, rel=1e-11, abs=1e-9)


def test_gradient_equals_central_differences() -> None:
    t, m = small_cascade()
    lm = np.log(np.maximum(m, 1.0))
    x = np.array([0.3, 0.4, 2.0, 0.7])
    _, grad = hawkes._log_likelihood(*x, t, lm, 400.0)
    for k in range(4):
        h = 1e-6 * x[k]
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        numeric = (
            hawkes._log_likelihood(*up, t, lm, 400.0)[0]
            - hawkes._log_likelihood(*down, t, lm, 400.0)[0]
        ) / (2 * h)
        assert grad[k] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("at", [0.0, 37.3, 250.0, 1000.0])
def test_compensator_equals_the_integral_of_the_intensity(at: float) -> None:
    t, m = small_cascade()
    t, m = t[:25], m[:25]
    p = {"kappa": 0.3, "beta": 0.6, "c": 2.0, "theta": 0.8}
    # the intensity is smooth between events: integrate piece by piece
    cuts = [float(x) for x in np.unique(np.concatenate([t[t <= at], [at]]))]
    times, marks = t.tolist(), m.tolist()

    def lam(s: float) -> float:
        return naive_intensity(s, times, marks, **p)

    numeric = sum(
        integrate.quad(lam, a, b, epsabs=1e-12, epsrel=1e-12)[0]
        for a, b in itertools.pairwise(cuts)
    )
    lm = np.log(np.maximum(m, 1.0))
    assert hawkes._compensator(*p.values(), t, lm, at) == pytest.approx(numeric, rel=1e-9)


def test_intensity_equals_the_reference() -> None:
    t, m = small_cascade()
    p = {"kappa": 0.3, "beta": 0.6, "c": 2.0, "theta": 0.8}
    s = np.array([0.0, 0.5, float(t[10]), float(t[10]) + 1e-9, 300.0])
    got = hawkes._intensity(s, *p.values(), t, np.log(np.maximum(m, 1.0)))
    ref = [naive_intensity(float(x), t.tolist(), m.tolist(), **p) for x in s]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_ties_are_spread_over_the_resolution() -> None:
    t = np.array([0.0, 0.0, 3.0, 3.0, 3.0, 5.0])
    np.testing.assert_allclose(hawkes._spread_ties(t, 1.0), [0, 0.5, 3, 3 + 1 / 3, 3 + 2 / 3, 5])
    np.testing.assert_allclose(hawkes._spread_ties(t, None), hawkes._spread_ties(t, 2.0))
    np.testing.assert_array_equal(hawkes._spread_ties(t, 0.0), t)


# --------------------------------------------------------------------------------- the fit
def test_fit_recovers_known_parameters_within_four_standard_errors() -> None:
    """The tolerance is the model's own: 4 standard errors from the observed information.

    Over 15 simulated cascades like this one (277 to 946 events) the z-scores of the four
    estimates had standard deviations 0.8 to 1.2, so the asymptotic errors are honest here and
    a correct fit fails this check with probability well under 1e-3.
    """
    t, m = simulate(np.random.default_rng(0), 1000.0, root_mark=1e5, **TRUE)
    model = HawkesPowerLaw(n_starts=2, random_state=0).fit(t, m, at=1000.0)
    assert model.converged_
    assert model.n_observed_ == len(t) == 432
    est = np.array([model.kappa_, model.beta_, model.c_, model.theta_])
    lm = np.log(np.maximum(m, 1.0))
    hess = np.empty((4, 4))
    for k in range(4):
        h = np.zeros(4)
        h[k] = 1e-5 * est[k]
        up = hawkes._log_likelihood(*(est + h), t, lm, 1000.0)[1]
        down = hawkes._log_likelihood(*(est - h), t, lm, 1000.0)[1]
        hess[k] = (up - down) / (2 * h[k])
    se = np.sqrt(np.diag(np.linalg.inv(-(hess + hess.T) / 2)))
    z = (est - np.array(list(TRUE.values()))) / se
    assert np.all(np.abs(z) < 4), (est, se, z)
    # and it is a maximum: no worse than the truth
    assert model.log_likelihood_ >= hawkes._log_likelihood(*TRUE.values(), t, lm, 1000.0)[0]
    assert model.log_likelihood_ == pytest.approx(
        naive_log_likelihood(t.tolist(), m.tolist(), *est, 1000.0), rel=1e-10
    )


def test_subcritical_forecast_is_the_closed_form_and_the_simulated_mean() -> None:
    t, m = simulate(np.random.default_rng(4), 200.0, root_mark=1e5, **TRUE)
    model = HawkesPowerLaw(n_starts=2, n_simulations=4000, random_state=1).fit(t, m, at=200.0)
    f = model.predict()
    assert f.status == "ok"
    assert f.ok
    assert f.message == ""
    n_star = model.branching_factor_
    assert 0 < n_star < 1
    w = np.maximum(m, 1.0) ** model.beta_
    a1 = model.kappa_ / model.theta_ * np.sum(w * (200.0 - t + model.c_) ** -model.theta_)
    assert f.final_size == pytest.approx(len(t) + a1 / (1 - n_star), rel=1e-12)
    assert f.params["remaining_offspring"] == pytest.approx(a1, rel=1e-12)
    assert f.interval[0] <= f.final_size <= f.interval[1]
    assert f.observed == len(t) <= f.interval[0]
    # the Galton-Watson simulation has the closed-form mean
    sizes = model.simulate_final_sizes(4000)
    stderr = sizes.std() / math.sqrt(len(sizes))
    assert abs(sizes.mean() - f.final_size) < 4 * stderr
    # reproducible
    again = HawkesPowerLaw(n_starts=2, n_simulations=4000, random_state=1).fit(t, m, at=200.0)
    assert again.predict() == f


def test_galton_watson_mean_and_cap() -> None:
    rng = np.random.default_rng(3)
    mu, first = 0.6, 5.0

    def constant(k: int) -> np.ndarray:
        return np.full(k, mu)

    sizes = hawkes._galton_watson(first, constant, 20_000, 10**9, rng)
    # Poisson(first) roots, Poisson(mu) children: mean first / (1 - mu)
    assert abs(sizes.mean() - first / (1 - mu)) < 4 * sizes.std() / math.sqrt(len(sizes))
    capped = hawkes._galton_watson(50.0, lambda k: np.full(k, 1.5), 20, 1000, rng)
    assert capped.max() == 1000
    # blocks of draws: one simulation larger than a block is summed block by block
    counts = np.array([3, 0, 2_500_000, 1], dtype=np.int64)
    sums = hawkes._sum_of_rates(counts, lambda k: np.ones(k))
    np.testing.assert_array_equal(sums, counts.astype(float))


def test_supercritical_cascade_gives_no_forecast() -> None:
    # n* = 1.58 under the paper's power law: the cascade explodes
    params = {**TRUE, "kappa": 0.4}
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=100.0, **params)
    assert len(t) == 313
    f = hawkes_forecast(t, m, at=100.0, n_starts=2, random_state=0)
    assert f.status == "supercritical"
    assert f.message.startswith("cannot forecast yet: branching factor n* >= 1")
    assert math.isnan(f.final_size)
    assert all(math.isnan(x) for x in f.interval)
    assert f.params["n_star"] >= 1


def test_too_young() -> None:
    model = HawkesPowerLaw(min_events=10).fit([0, 1, 2, 3], [5, 5, 5, 5])
    assert model.status_ == "too young"
    assert math.isnan(model.kappa_)
    f = model.predict()
    assert f.status == "too young"
    assert not f.ok
    assert f.message == "cannot forecast yet: only 4 events observed, need at least 10"
    assert f.observed == 4


def test_a_fit_stopped_early_is_not_converged() -> None:
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=1e4, **TRUE)
    model = HawkesPowerLaw(max_iter=1, n_starts=1, random_state=0).fit(t, m, at=100.0)
    assert model.status_ == "not converged"
    assert not model.converged_
    f = model.predict()
    assert f.status == "not converged"
    assert f.message.startswith("cannot forecast yet: maximum likelihood fit did not converge")
    assert math.isfinite(f.params["kappa"])


def test_no_finite_likelihood_raises_not_converged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hawkes, "_neg_profile", lambda z, *args: (math.nan, np.zeros(3)))
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=1e4, **TRUE)
    with pytest.raises(NotConverged, match="HawkesPowerLaw maximum likelihood"):
        HawkesPowerLaw(n_starts=2).fit(t, m)


def test_events_at_one_instant_are_too_young() -> None:
    f = hawkes_forecast([5.0] * 60, [10.0] * 60, min_events=3)
    assert f.status == "too young"
    assert f.message == "cannot forecast yet: all the events observed are at one instant"


def test_the_unit_of_time_does_not_matter() -> None:
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=1e4, **TRUE)
    base = HawkesPowerLaw(n_starts=2, n_simulations=0, random_state=0).fit(t, m, at=100.0)
    for scale in (1e-4, 3600.0):
        other = HawkesPowerLaw(n_starts=2, n_simulations=0, random_state=0)
        other.fit(t * scale, m, at=100.0 * scale)
        assert other.c_ == pytest.approx(base.c_ * scale, rel=1e-4)
        assert other.theta_ == pytest.approx(base.theta_, rel=1e-4)
        assert other.branching_factor_ == pytest.approx(base.branching_factor_, rel=1e-4)
        assert other.predict().final_size == pytest.approx(base.predict().final_size, rel=1e-4)


def test_function_twin_equals_the_class() -> None:
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=1e4, **TRUE)
    f = hawkes_forecast(t, m, 80.0, n_starts=2, n_simulations=50, random_state=5)
    g = HawkesPowerLaw(n_starts=2, n_simulations=50, random_state=5).fit(t, m, at=80.0).predict()
    assert f == g
    assert f.model == "hawkes-powerlaw"
    assert f.observed == int(np.sum(t <= 80.0))


def test_power_law_mark_moment() -> None:
    t, m = simulate(np.random.default_rng(2), 100.0, root_mark=1e4, **TRUE)
    model = HawkesPowerLaw(n_starts=2, mark_moment="power-law", alpha=3.0).fit(t, m)
    expected = model.kappa_ * 2.0 / (2.0 - model.beta_) / (model.theta_ * model.c_**model.theta_)
    assert model.branching_factor_ == pytest.approx(expected, rel=1e-12)


def test_forecast_result_contract() -> None:
    with pytest.raises(ValueError, match="status"):
        Forecast("x", "maybe", 1.0, (0.0, 2.0), 0.9, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="other than 'ok'"):
        Forecast.cannot("x", "ok", "why", observed=1)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("times", "marks", "at", "match"),
    [
        ([], [], None, "no events"),
        ([0, 1], [1], None, "one length"),
        ([0, np.nan], [1, 1], None, "times must be finite"),
        ([0, 1], [1, -1], None, "non-negative"),
        ([0, 1], [1, np.inf], None, "non-negative"),
        ([5, 6], [1, 1], 4.0, "'at'"),
        ([[0, 1]], [[1, 1]], None, "1-d"),
        (["a", "b"], [1, 1], None, "numbers"),
    ],
)
def test_bad_input(times: list, marks: list, at: float | None, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        HawkesPowerLaw().fit(times, marks, at=at)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("min_events", 2),
        ("n_starts", 0),
        ("mark_moment", "lognormal"),
        ("alpha", 2.0),
        ("level", 1.0),
        ("n_simulations", -1),
        ("max_size", 0),
        ("max_iter", 1.5),
        ("resolution", -1.0),
    ],
)
def test_invalid_parameters(param: str, value: object) -> None:
    with pytest.raises(InvalidParameter, match=f"'{param}' parameter of HawkesPowerLaw"):
        HawkesPowerLaw(**{param: value}).fit([0, 1, 2], [1, 1, 1])


def test_predict_before_fit() -> None:
    with pytest.raises(BadInput, match="not fitted"):
        HawkesPowerLaw().predict()


# ------------------------------------------------------------------------------ real data
@pytest.mark.shared_data
def test_seismic_tweet_observed_for_one_hour(data_dir: Path) -> None:
    """Smoke test on the SEISMIC example tweet (15,563 reshares in the end), seen for 1 h.

    The figures are reported in docs/forecast-hawkes-bass.md; only their shape is asserted.
    """
    table = pd.read_csv(data_dir / "cascades" / "seismic_tweet" / "tweet_cascade.csv")
    t = table["relative_time_second"].to_numpy(dtype=float)
    m = table["number_of_followers"].to_numpy(dtype=float)
    assert len(t) == 15_563
    model = HawkesPowerLaw(random_state=0, n_simulations=200).fit(t, m, at=3600.0)
    assert model.n_observed_ == 907
    assert model.converged_
    assert all(math.isfinite(v) for v in model.params_.values())
    assert model.status_ in ("ok", "supercritical")
    f = model.predict()
    assert f.status == model.status_
    if f.ok:
        assert 907 <= f.final_size < math.inf
    # with the paper's power-law moment E[m^beta] the same fit is subcritical
    paper = HawkesPowerLaw(random_state=0, n_simulations=200, mark_moment="power-law")
    g = paper.fit(t, m, at=3600.0).predict()
    assert g.status == "ok"
    assert 907 < g.final_size < 15_563 * 10
    assert 907 <= g.interval[0] <= g.interval[1]
