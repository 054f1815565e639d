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
    ("m", "level", "rank"),
    [
        # rank = ceil((m + 1) * level), written out by hand; the off-by-one candidates
        # ceil(m * level) and floor((m + 1) * level) give 8, 18 and 3 in rows 1, 2 and 4
        (10, 0.8, 9),  # ceil(8.8)
        (20, 0.9, 19),  # ceil(18.9)
        (9, 0.9, 9),  # ceil(9.0) = m: the smallest set that bounds a 90 % interval
        (6, 0.5, 4),  # ceil(3.5)
        (8, 0.9, None),  # ceil(8.1) = 9 > m: unbounded
    ],
)
def test_the_interval_is_the_exact_conformal_order_statistic(m: int, level: float, rank):
    # one fitting cascade with no growth (intercept 0), then m calibration cascades whose
    # absolute log-residuals are exactly the hand-picked scores, shuffled
    scores = np.array([0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.1, 1.25, 1.4] * 2)[:m]
    scores = scores + np.arange(m) * 1e-3  # all distinct
    rng = np.random.default_rng(m)
    shuffled = rng.permutation(scores)
    observed = np.ones(m + 1)
    reference = np.concatenate([[1.0], np.exp(shuffled)])
    model = LogLinear(level=level, calibration=0.99).fit(observed, reference)
    assert (model.n_fit_, model.n_calibration_, model.intercept_) == (1, m, 0.0)
    expected = math.inf if rank is None else float(np.sort(scores)[rank - 1])
    assert model.quantile_ == pytest.approx(expected, abs=1e-12)
    lo, hi = model.predict_interval([1.0])
    assert hi[0] == pytest.approx(math.exp(expected), rel=1e-8)
    assert lo[0] == 1.0


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
#: Reference age of the fallback tests: 3 h. With one cascade an hour, the forecast of cascade i
#: at start_i + 30 min may learn from cascades 0 .. i - 3 (their 3 h had passed by then).
REF = 3 * 3600.0


def usable(i: int) -> int:
    """How many older cascades of :func:`cascade_set` cascade i may learn from at 30 min."""
    return max(0, i - 2)


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
    answers = forecast_with_fallback(cascade_set(30, 1), at=1800, reference=REF)
    assert len(answers) == 30
    assert {a.model for a in answers} == {"loglinear"}
    for a in answers:
        assert math.isfinite(a.forecast.final_size)
        assert a.forecast.final_size >= a.forecast.observed
        assert a.primary is not None
        assert a.primary.status == "too young"
        assert a.why.startswith("cannot forecast yet: only")
    for a in answers[:3]:  # no older cascade had reached 3 h by their forecast: the floor
        assert a.forecast.final_size == a.forecast.observed
        assert a.forecast.interval == (a.forecast.observed, math.inf)
        assert a.forecast.params["n_fit"] == 0
        assert a.forecast.message.startswith("no older cascade had reached the reference age")
    later = answers[-1]
    assert later.forecast.params["n_fit"] + later.forecast.params["n_calibration"] == usable(29)
    assert math.isfinite(later.forecast.interval[1])


def test_never_learns_from_a_later_or_unfinished_cascade():
    cascades = cascade_set(20, 2)
    target = 12
    base = forecast_with_fallback(cascades, at=1800, reference=REF, only=[f"c{target:02d}"])[
        0
    ].forecast
    assert base.params["n_fit"] + base.params["n_calibration"] == usable(target)
    # later cascades growing a hundredfold change nothing for it
    changed = [
        (cid, start, np.concatenate([t, 10_000 + np.arange(100.0)]))
        if i > target
        else (cid, start, t)
        for i, (cid, start, t) in enumerate(cascades)
    ]
    again = forecast_with_fallback(changed, at=1800, reference=REF, only=[f"c{target:02d}"])[
        0
    ].forecast
    assert (again.final_size, again.interval) == (base.final_size, base.interval)
    # ... while an older one does (the test is not vacuous)
    older = [
        (cid, start, np.concatenate([t, 10_000 + np.arange(100.0)])) if i == 0 else (cid, start, t)
        for i, (cid, start, t) in enumerate(cascades)
    ]
    moved = forecast_with_fallback(older, at=1800, reference=2 * REF, only=[f"c{target:02d}"])[
        0
    ].forecast
    before = forecast_with_fallback(cascades, at=1800, reference=2 * REF, only=[f"c{target:02d}"])[
        0
    ].forecast
    assert moved.final_size != before.final_size
    # when the data ends 7 h before the target starts (known_until), the cascades whose 3 h
    # had not passed by then teach nothing either
    until = cascades[target][1] - 7 * 3600
    short = forecast_with_fallback(
        cascades, at=1800, reference=REF, known_until=until, only=[f"c{target:02d}"]
    )[0].forecast
    complete = sum(start + REF <= until for _, start, _ in cascades[:target])
    assert short.params["n_fit"] + short.params["n_calibration"] == complete == 3


def test_never_learns_a_count_that_did_not_exist_at_the_forecast_time():
    # Cascade 12 is forecast at start_12 + 30 min. Every older cascade gains 100 events right
    # after that moment; for cascades 10 and 11 they fall before their own 3 h, so their
    # count at the reference age (known only after the forecast) changes. The forecast must not.
    cascades = cascade_set(20, 5)
    target = 12
    now = cascades[target][1] + 1800
    later = [
        (cid, start, np.concatenate([t, now - start + 1 + np.arange(100.0)]))
        if i < target
        else (cid, start, t)
        for i, (cid, start, t) in enumerate(cascades)
    ]
    grew = [
        i
        for i, ((_, start, t), (_, _, u)) in enumerate(zip(cascades, later, strict=True))
        if np.searchsorted(u, REF, side="right") > np.searchsorted(t, REF, side="right")
    ]
    assert grew == [10, 11]  # the test is not vacuous: their reference counts changed
    for reference in (REF, 3 * REF):
        base, again = (
            forecast_with_fallback(c, at=1800, reference=reference, only=["c12"])[0].forecast
            for c in (cascades, later)
        )
        assert (again.final_size, again.interval, again.params) == (
            base.final_size,
            base.interval,
            base.params,
        )
    # a final size is never known at a forecast's time: it is refused, not learned
    with pytest.raises(InvalidParameter, match=r"must be a float in the range \[1800, inf\)"):
        forecast_with_fallback(cascades, at=1800, reference=math.inf)


@settings(max_examples=40, deadline=None)
@given(
    starts=st.lists(st.floats(0, 50_000), min_size=2, max_size=12),
    sizes=st.lists(st.integers(0, 8), min_size=12, max_size=12),
    at=st.floats(60, 3600),
    extra=st.floats(0, 10_000),
    ahead=st.floats(0, 20_000),
    seed=st.integers(0, 1000),
)
def test_events_after_the_forecast_time_never_move_a_forecast(
    starts: list[float], sizes: list[int], at: float, extra: float, ahead: float, seed: int
):
    rng = np.random.default_rng(seed)
    cascades = [
        (f"c{i}", start, np.concatenate([[0.0], rng.uniform(0, 30_000, sizes[i])]))
        for i, start in enumerate(starts)
    ]
    reference = at + extra
    target = int(np.argmax(starts))  # the latest: every other cascade may be history
    now = starts[target] + at
    # every cascade gains events after the target's forecast time and before the end of the
    # data, given (by default it is the latest event, which the late events would move)
    until = now + ahead
    after = 1e-3 + np.linspace(0.0, ahead, 5)
    late = [(cid, start, np.concatenate([t, now - start + after])) for cid, start, t in cascades]
    base, again = (
        forecast_with_fallback(
            c, at=at, reference=reference, known_until=until, only=[f"c{target}"]
        )[0].forecast
        for c in (cascades, late)
    )
    assert again.final_size == base.final_size
    assert again.interval == base.interval
    assert again.params == base.params


def test_history_keeps_the_most_recent_older_cascades():
    cascades = cascade_set(20, 3)
    (full,) = forecast_with_fallback(cascades, at=1800, reference=REF, only=["c19"], history=None)
    (recent,) = forecast_with_fallback(cascades, at=1800, reference=REF, only=["c19"], history=12)
    assert full.forecast.params["n_fit"] + full.forecast.params["n_calibration"] == usable(19)
    assert recent.forecast.params["n_fit"] + recent.forecast.params["n_calibration"] == 12
    # the same as learning from only the 12 usable cascades before c19 (c05 .. c16)
    (alone,) = forecast_with_fallback(
        cascades[5:], at=1800, reference=REF, only=["c19"], history=None
    )
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
    with pytest.raises(InvalidParameter, match=r"'reference' .* range \[60, inf\). Got inf"):
        forecast_with_fallback([("a", 0.0, [0.0])], at=60, reference=math.inf)
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
        if row["model"] == "loglinear":  # 30 cascades within 9 h: none had reached 24 h
            assert (row["history"], row["final_size"]) == (0, row["observed"])
            assert row["interval"] == [row["observed"], None]
            assert row["message"].startswith("no older cascade had reached the reference age")


def test_cli_refuses_to_learn_final_sizes(data_dir: Path, tmp_path: Path):
    out = run("forecast", str(data_dir / WEIBO), "--reference", "final", cwd=tmp_path)
    assert out.returncode == 1
    assert "--reference must be a finite age such as 24h or 3d, got 'final'" in " ".join(
        out.stderr.split()
    )
    assert out.stdout == ""


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
        "1 of them had no older cascade past the reference age at their forecast time: their "
        "forecast is the observed count, a floor, not a forecast of growth.",
    ]
