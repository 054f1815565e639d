"""The log-linear early-count regression and the forecasts that fall back on it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.cli._forecast import summary
from grapevine.errors import BadInput, InvalidParameter
from grapevine.forecast import LogLinear, forecast_with_fallback, loglinear_forecast
from grapevine.forecast.loglinear import min_calibration
from test_cli import run


# ------------------------------------------------------------------ naive reference
def naive_loglinear(
    observed: np.ndarray, reference: np.ndarray, n_cal: int, level: float, fit_slope: bool
) -> tuple[float, float, float, float]:
    """Intercept, slope, residual variance and conformal half-width, the obvious way."""
    n_fit = len(observed) - n_cal
    lx, ly = np.log(observed), np.log(reference)
    if fit_slope:
        design = np.column_stack([np.ones(n_fit), lx[:n_fit]])
        (intercept, slope), *_ = np.linalg.lstsq(design, ly[:n_fit], rcond=None)
    else:
        design = np.ones((n_fit, 1))
        (intercept,), *_ = np.linalg.lstsq(design, ly[:n_fit] - lx[:n_fit], rcond=None)
        slope = 1.0
    resid = ly[:n_fit] - intercept - slope * lx[:n_fit]
    sigma2 = float(np.sum(resid**2) / (n_fit - design.shape[1]))
    scores = sorted(abs(ly[n_fit:] - intercept - slope * lx[n_fit:]))
    rank = math.ceil((n_cal + 1) * level)
    quantile = scores[rank - 1] if rank <= n_cal else math.inf
    return float(intercept), float(slope), sigma2, float(quantile)


def synthetic(n: int, seed: int, *, beta: float = 0.6, slope: float = 1.0, sigma: float = 0.4):
    """Exchangeable cascades: early counts log-normal, later ones their growth times noise."""
    rng = np.random.default_rng(seed)
    x = np.floor(np.exp(rng.normal(2.5, 1.0, n))) + 1
    y = np.maximum(x, np.round(np.exp(beta + slope * np.log(x) + rng.normal(0, sigma, n))))
    return x, y


@pytest.mark.parametrize("fit_slope", [False, True])
@pytest.mark.parametrize(("n", "calibration", "level"), [(40, 0.5, 0.9), (25, 0.3, 0.8)])
def test_fit_matches_lstsq_on_logs(n: int, calibration: float, level: float, fit_slope: bool):
    x, y = synthetic(n, seed=n, slope=0.85)
    model = LogLinear(level=level, calibration=calibration, fit_slope=fit_slope).fit(x, y)
    n_cal = max(math.floor(calibration * n), min_calibration(level))
    assert (model.n_fit_, model.n_calibration_) == (n - n_cal, n_cal)
    intercept, slope, sigma2, quantile = naive_loglinear(x, y, n_cal, level, fit_slope)
    npt.assert_allclose(
        [model.intercept_, model.slope_, model.sigma2_, model.quantile_],
        [intercept, slope, sigma2, quantile],
        rtol=1e-10,
    )
    assert model.slope_fitted_ is fit_slope
    new = np.array([1.0, 7.0, 300.0])
    centre = intercept + slope * np.log(new)
    npt.assert_allclose(model.predict(new), np.maximum(new, np.exp(centre)), rtol=1e-12)
    lo, hi = model.predict_interval(new)
    npt.assert_allclose(lo, np.maximum(new, np.exp(centre - quantile)), rtol=1e-8)
    npt.assert_allclose(hi, np.exp(centre + quantile), rtol=1e-8)


def test_too_few_calibration_cascades_leave_the_upper_end_unbounded():
    f = loglinear_forecast([5, 8, 12, 20], [10, 20, 25, 50], 10, level=0.9)
    assert f.model == "loglinear"
    assert f.ok
    assert math.isfinite(f.final_size)
    assert f.interval[0] >= 10
    assert f.interval[1] == math.inf
    assert (
        f.message == "upper end unbounded: 3 calibration cascades, a 0.9 interval needs at least 9"
    )
    assert f.params["n_fit"] == 1


def test_min_calibration_is_the_first_bounded_size():
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        m = min_calibration(level)
        assert math.ceil((m + 1) * level - 1e-9) <= m
        assert math.ceil(m * level - 1e-9) > m - 1


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    level=st.sampled_from([0.8, 0.9]),
    beta=st.floats(0.0, 2.0),
    sigma=st.floats(0.05, 1.5),
    fit_slope=st.booleans(),
)
def test_conformal_interval_covers_exchangeable_cascades(
    seed: int, level: float, beta: float, sigma: float, fit_slope: bool
):
    # 400 older cascades (200 calibrate), 2,000 new ones from the same distribution: the
    # coverage of one calibration draw is Beta-distributed around level with sd <= 0.03.
    x, y = synthetic(2400, seed, beta=beta, sigma=sigma)
    model = LogLinear(level=level, fit_slope=fit_slope).fit(x[:400], y[:400])
    lo, hi = model.predict_interval(x[400:])
    covered = np.mean((lo <= y[400:]) & (y[400:] <= hi))
    assert covered >= level - 0.1
    assert np.all(np.isfinite(hi))
    assert np.all(lo <= model.predict(x[400:]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 1.0}, "The 'level' parameter of LogLinear must be a float in the range (0, 1)"),
        ({"calibration": -0.1}, "The 'calibration' parameter of LogLinear must be a float"),
        ({"fit_slope": 1}, "The 'fit_slope' parameter of LogLinear must be a bool. Got 1"),
    ],
)
def test_parameters_are_checked(kwargs: dict, message: str):
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace(")", r"\)")):
        LogLinear(**kwargs).fit([1, 2], [2, 3])


def test_bad_counts_name_the_row():
    with pytest.raises(BadInput, match="row 1 has 2 < 5") as err:
        LogLinear().fit([1, 5, 3], [4, 2, 9])
    assert err.value.field == "reference"
    with pytest.raises(BadInput, match="at least 1"):
        LogLinear().fit([0, 2], [1, 3])
    with pytest.raises(BadInput, match="no training cascades"):
        LogLinear().fit([], [])
    with pytest.raises(BadInput, match="not fitted"):
        LogLinear().predict([3])


# ------------------------------------------------------------------ the fallback
def cascade_set(n: int, seed: int, *, spacing: float = 3600.0):
    """n small cascades (too young for Hawkes), one started every ``spacing`` seconds."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        early = rng.integers(1, 6)
        late = rng.integers(0, 3 * early + 1)
        times = np.concatenate(
            [[0.0], np.sort(rng.uniform(1, 1800, early)), 7200 + np.arange(late)]
        )
        out.append((f"c{i:02d}", 1_000_000.0 + spacing * i, times))
    return out


def test_every_cascade_gets_a_number_and_the_primary_says_why_not():
    answers = forecast_with_fallback(cascade_set(30, 1), at=1800)
    assert len(answers) == 30
    assert {a.model for a in answers} == {"loglinear"}
    for a in answers:
        assert math.isfinite(a.forecast.final_size)
        assert a.forecast.final_size >= a.forecast.observed
        assert a.primary is not None
        assert a.primary.status == "too young"
        assert a.why.startswith("cannot forecast yet: only")
    first, later = answers[0], answers[-1]
    assert first.forecast.final_size == first.forecast.observed  # no history: the floor
    assert first.forecast.params["n_fit"] == 0
    assert later.forecast.params["n_fit"] + later.forecast.params["n_calibration"] == 29
    assert math.isfinite(later.forecast.interval[1])


def test_never_learns_from_a_later_or_unfinished_cascade():
    cascades = cascade_set(20, 2)
    target = 12
    base = forecast_with_fallback(cascades, at=1800, only=[f"c{target:02d}"])[0].forecast
    assert base.params["n_fit"] + base.params["n_calibration"] == target
    # later cascades growing a hundredfold change nothing for it
    changed = [
        (cid, start, np.concatenate([t, 10_000 + np.arange(100.0)]))
        if i > target
        else (cid, start, t)
        for i, (cid, start, t) in enumerate(cascades)
    ]
    again = forecast_with_fallback(changed, at=1800, only=[f"c{target:02d}"])[0].forecast
    assert (again.final_size, again.interval) == (base.final_size, base.interval)
    # ... while an older one does (the test is not vacuous)
    older = [
        (cid, start, np.concatenate([t, 10_000 + np.arange(100.0)])) if i == 0 else (cid, start, t)
        for i, (cid, start, t) in enumerate(cascades)
    ]
    moved = forecast_with_fallback(older, at=1800, only=[f"c{target:02d}"])[0].forecast
    assert moved.final_size != base.final_size
    # with a 10-hour reference, the cascades started in the 10 hours before the data ends
    # (known_until) are not complete yet and teach nothing
    until = cascades[target][1] + 3 * 3600
    short = forecast_with_fallback(
        cascades, at=1800, reference=36_000, known_until=until, only=[f"c{target:02d}"]
    )[0].forecast
    complete = sum(start + 36_000 <= until for _, start, _ in cascades[:target])
    assert short.params["n_fit"] + short.params["n_calibration"] == complete == 6


def test_history_keeps_the_most_recent_older_cascades():
    cascades = cascade_set(20, 3)
    (full,) = forecast_with_fallback(cascades, at=1800, only=["c19"], history=None)
    (recent,) = forecast_with_fallback(cascades, at=1800, only=["c19"], history=12)
    assert full.forecast.params["n_fit"] + full.forecast.params["n_calibration"] == 19
    assert recent.forecast.params["n_fit"] + recent.forecast.params["n_calibration"] == 12
    # the same as learning from only the 12 cascades before c19
    (alone,) = forecast_with_fallback(cascades[7:], at=1800, only=["c19"], history=None)
    assert (alone.forecast.final_size, alone.forecast.interval) == (
        recent.forecast.final_size,
        recent.forecast.interval,
    )


def test_the_primary_answers_where_it_can():
    post = [0, 10, 20, 35, 60, 90, 140, 200, 260, 330]
    cascades = [("young", 0.0, [0.0, 5.0]), ("seen", 50.0, post)]
    answers = forecast_with_fallback(cascades, at=400, primary="seismic", degree=300)
    assert [a.model for a in answers] == ["loglinear", "seismic"]
    assert answers[1].forecast is answers[1].primary
    assert answers[1].why == ""
    assert answers[0].why.startswith("cannot forecast yet: ")
    everyone = forecast_with_fallback(cascades, at=400, primary="none")
    assert [a.model for a in everyone] == ["loglinear", "loglinear"]
    assert everyone[1].primary is None


def test_fallback_parameters_are_checked():
    with pytest.raises(InvalidParameter, match="'primary' parameter of forecast_with_fallback"):
        forecast_with_fallback([], at=60, primary="bass")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="'reference' parameter"):
        forecast_with_fallback([("a", 0.0, [0.0])], at=600, reference=60)
    with pytest.raises(InvalidParameter, match=r"'history' parameter .* an int in the range"):
        forecast_with_fallback([("a", 0.0, [0.0])], at=60, history=0)
    with pytest.raises(BadInput, match="cascade 'a' is given twice"):
        forecast_with_fallback([("a", 0.0, [0.0]), ("a", 1.0, [0.0])], at=60)


# ------------------------------------------------------------------ the command line
WEIBO = Path("cascades", "weibo_sample", "weibo_sample_casflow.txt")


def test_cli_answers_every_weibo_cascade_in_words_and_json(data_dir: Path, tmp_path: Path):
    path = str(data_dir / WEIBO)
    out = run("forecast", path, "--at", "1h", "--model", "seismic", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 30
    for row in rows:
        assert row["final_size"] is not None
        assert row["final_size"] >= row["observed"]
        assert row["model"] in ("seismic", "loglinear")
        assert (row["why"] != "") == (row["model"] == "loglinear")
        assert row["interval"][0] is not None


@pytest.mark.slow
def test_cli_readme_tour_line_answers_every_cascade(data_dir: Path, tmp_path: Path):
    path = str(data_dir / WEIBO)
    out = run("forecast", path, "--at", "1h", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 30
    assert all(row["final_size"] is not None for row in rows)
    assert {row["model"] for row in rows} <= {"hawkes", "loglinear"}
    assert sum(row["model"] == "loglinear" for row in rows) >= 20
    text = run("forecast", path, "--at", "1h", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    words = " ".join(text.stdout.split())
    assert "30 cascades forecast:" in words
    assert "hawkes could not forecast" in words
    assert "{" not in text.stdout


def test_summary_says_who_answered_and_why():
    cascades = [("young", 0.0, [0.0, 5.0]), ("seen", 50.0, [0, 10, 20, 35, 60, 90, 140, 200])]
    answers = forecast_with_fallback(cascades, at=400, primary="seismic", degree=300)
    assert summary(answers, primary="seismic") == [
        "2 cascades forecast: 1 by seismic, 1 by loglinear.",
        "seismic could not forecast 1 (too young 1); the log-linear regression on the older "
        "cascades answered instead.",
        "loglinear learned from 0 to 0 older cascades; its 90% interval is bounded for 0 of 1 "
        "(unbounded above while fewer than 9 older cascades can calibrate it).",
    ]
