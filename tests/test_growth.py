"""Growth figures and the tipping rule: R(t) against a naive loop and EpiEstim's Flu2009
example, a simulated branching process of known R, generation R, K-factor, viral cycle time,
the viral-loop projection, the tipping rule and the Bass take-off; the Higgs retweets."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from grapevine.cascades import (
    CycleTime,
    bass_takeoff,
    discrete_generation_interval,
    generation_sizes,
    k_factor,
    projected_growth,
    r_by_generation,
    reproduction_number,
    tipping_point,
    viral_cycle_time,
)
from grapevine.cascades._rt import REASON_EARLY, REASON_INCOMPLETE, REASON_NO_LAMBDA, RT_COLUMNS
from grapevine.errors import BadInput, InvalidParameter

HOUR = 3600.0
DAY = 86400.0


# ============================================================================= R(t)
def naive_rt(
    times: list[float],
    *,
    step: float,
    tau: int,
    w: list[float],
    origin: float,
    n_bins: int,
    a: float = 1.0,
    b: float = 5.0,
    level: float = 0.95,
) -> list[dict[str, object]]:
    """Cori et al. written out with loops, one bin and one lag at a time."""
    total = sum(w)
    w = [x / total for x in w]
    incidence = [0] * n_bins
    for t in times:
        incidence[int((t - origin) // step)] += 1
    lam = []
    for t in range(n_bins):
        s = 0.0
        for lag in range(1, len(w)):
            if t - lag >= 0:
                s += w[lag] * incidence[t - lag]
        lam.append(s)
    mean_gi = sum(k * x for k, x in enumerate(w))
    rows = []
    for t in range(n_bins):
        first = t - tau + 1
        n_window = sum(incidence[max(first, 0) : t + 1])
        lam_window = sum(lam[max(first, 0) : t + 1])
        row: dict[str, object] = {
            "incidence": incidence[t],
            "infectiousness": lam[t],
            "n_window": n_window,
        }
        if first < 1:
            row["reason"] = REASON_INCOMPLETE
        elif t + 1 <= mean_gi:
            row["reason"] = REASON_EARLY
        elif lam_window == 0:
            row["reason"] = REASON_NO_LAMBDA
        else:
            shape = a + n_window
            scale = 1.0 / (1.0 / b + lam_window)
            g = stats.gamma(shape, scale=scale)
            row.update(
                reason="",
                r_mean=shape * scale,
                r_median=g.ppf(0.5),
                r_lower=g.ppf((1 - level) / 2),
                r_upper=g.ppf(1 - (1 - level) / 2),
            )
        rows.append(row)
    return rows


@st.composite
def rt_cases(draw: st.DrawFn) -> tuple[list[float], int, list[float]]:
    n_bins = draw(st.integers(1, 40))
    times = draw(st.lists(st.integers(0, n_bins * 3600 - 1), min_size=1, max_size=120))
    tau = draw(st.integers(1, 6))
    lags = draw(st.lists(st.integers(0, 10), min_size=1, max_size=6))
    w = [0.0] + [float(x) for x in lags]
    if sum(w) == 0:
        w[-1] = 1.0
    return [float(t) for t in times], tau, w


@settings(max_examples=120, deadline=None)
@given(rt_cases())
def test_reproduction_number_agrees_with_naive_loop(case: tuple[list[float], int, list[float]]):
    times, tau, w = case
    got = reproduction_number(times, window=(HOUR, tau), generation_interval=w, start=0.0)
    n_bins = int(max(times) // HOUR) + 1
    want = naive_rt(times, step=HOUR, tau=tau, w=w, origin=0.0, n_bins=n_bins)
    assert list(got.columns) == list(RT_COLUMNS)
    assert len(got) == n_bins
    np.testing.assert_array_equal(got["time"], HOUR * np.arange(n_bins))
    for i, row in enumerate(want):
        assert got["reason"].iloc[i] == row["reason"], i
        for key in ("incidence", "n_window"):
            assert got[key].iloc[i] == row[key]
        assert got["infectiousness"].iloc[i] == pytest.approx(row["infectiousness"], abs=1e-12)
        for key in ("r_mean", "r_median", "r_lower", "r_upper"):
            if row["reason"]:
                assert math.isnan(got[key].iloc[i])
            else:
                assert got[key].iloc[i] == pytest.approx(row[key], rel=1e-9)


# EpiEstim's documented example 1: estimate_R(Flu2009$incidence, method = "non_parametric_si",
# config = list(t_start = 2:26, t_end = 8:32, si_distr = Flu2009$si_distr)); the numbers are
# its saved test output, mrc-ide/EpiEstim tests/testthat/_snaps/estimate_R.md ("Example 1").
FLU2009_INCIDENCE = [
    1,
    1,
    0,
    2,
    5,
    3,
    3,
    3,
    6,
    2,
    5,
    9,
    13,
    12,
    13,
    11,
    12,
    6,
    6,
    6,
    3,
    1,
    0,
    2,
    0,
    0,
    0,
    0,
    2,
    0,
    2,
    0,
]
FLU2009_SI = [0.000, 0.233, 0.359, 0.198, 0.103, 0.053, 0.027, 0.014, 0.007, 0.003, 0.002, 0.001]
# t_end, Mean(R), Std(R), Quantile.0.025(R), Quantile.0.05(R), Median(R), Quantile.0.95(R),
# Quantile.0.975(R)
FLU2009_R = [
    (8, 1.7356089, 0.40908694, 1.02863184, 1.1218113, 1.7035760, 2.4587051, 2.6244959),
    (9, 1.7490494, 0.36470202, 1.10874730, 1.1953991, 1.7237672, 2.3889590, 2.5329479),
    (10, 1.5370427, 0.30740855, 0.99469301, 1.0686828, 1.5165981, 2.0751554, 2.1955178),
    (11, 1.4316392, 0.27055438, 0.95131387, 1.0175191, 1.4146324, 1.9037817, 2.0085685),
    (12, 1.4223487, 0.25143809, 0.97288543, 1.0355344, 1.4075603, 1.8596155, 1.9558194),
    (13, 1.6349410, 0.25227688, 1.17832168, 1.2432610, 1.6219838, 2.0708249, 2.1651730),
    (14, 1.6636221, 0.23295369, 1.23867595, 1.2998676, 1.6527615, 2.0644270, 2.1502729),
    (15, 1.6156800, 0.20686663, 1.23586721, 1.2911239, 1.6068598, 1.9703253, 2.0456070),
    (16, 1.4340033, 0.17651360, 1.10905802, 1.1565305, 1.4267674, 1.7361602, 1.8000616),
    (17, 1.4083724, 0.16155139, 1.10963727, 1.1535884, 1.4022002, 1.6842118, 1.7421780),
    (18, 1.2477516, 0.14219449, 0.98470606, 1.0234305, 1.2423543, 1.4904848, 1.5414648),
    (19, 1.0819346, 0.12577234, 0.84955138, 0.8836967, 1.0770650, 1.2967845, 1.3419870),
    (20, 0.9369319, 0.11446445, 0.72610935, 0.7569332, 0.9322747, 1.1328180, 1.1742159),
    (21, 0.8194289, 0.10759629, 0.62222675, 0.6508368, 0.8147244, 1.0040700, 1.0433607),
    (22, 0.6908048, 0.10185361, 0.50575593, 0.5322318, 0.6858055, 0.8664328, 0.9042566),
    (23, 0.5894141, 0.09962917, 0.41054853, 0.4356552, 0.5838103, 0.7622912, 0.8001144),
    (24, 0.4989223, 0.09978447, 0.32287622, 0.3468932, 0.4922860, 0.6735931, 0.7126626),
    (25, 0.4726133, 0.10842493, 0.28454408, 0.3094859, 0.4643482, 0.6639414, 0.7076205),
    (26, 0.4173489, 0.11575175, 0.22222070, 0.2468644, 0.4066978, 0.6241796, 0.6729457),
    (27, 0.2976950, 0.11251813, 0.11968883, 0.1397174, 0.2836454, 0.5036317, 0.5553914),
    (28, 0.2400240, 0.12001200, 0.06539846, 0.0819873, 0.2203457, 0.4652659, 0.5260890),
    (29, 0.4577916, 0.20473063, 0.14864369, 0.1803836, 0.4276606, 0.8380808, 0.9377027),
    (30, 0.6754931, 0.30208970, 0.21933077, 0.2661645, 0.6310334, 1.2366278, 1.3836245),
    (31, 0.8634087, 0.38612813, 0.28034647, 0.3402089, 0.8065807, 1.5806457, 1.7685354),
    (32, 1.0040161, 0.44900963, 0.32600128, 0.3956124, 0.9379335, 1.8380560, 2.0565439),
]


FLU2009_DAY1 = pd.Timestamp("2009-04-27").value / 1e9  # UTC


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_reproduction_number_matches_epiestim_flu2009(level: float) -> None:
    # one event per case at noon of its day; the last day has none, so `end` says where it ends
    times = np.repeat(FLU2009_DAY1 + DAY * np.arange(32) + DAY / 2, FLU2009_INCIDENCE)
    rt = reproduction_number(
        times,
        window="7D",
        generation_interval=FLU2009_SI,
        level=level,
        end=FLU2009_DAY1 + 32 * DAY,
    )
    assert len(rt) == 32
    assert (rt["reason"].iloc[:7] == REASON_INCOMPLETE).all()
    est = rt.iloc[7:]
    assert (est["reason"] == "").all()
    assert pd.to_datetime(est["time"].iloc[0], unit="s") == pd.Timestamp("2009-05-04")
    ref = np.array(FLU2009_R)
    np.testing.assert_array_equal(est.index + 1, ref[:, 0])  # EpiEstim's 1-based t_end
    lower, upper = (ref[:, 3], ref[:, 7]) if level == 0.95 else (ref[:, 4], ref[:, 6])
    for column, expected in (
        ("r_mean", ref[:, 1]),
        ("r_std", ref[:, 2]),
        ("r_median", ref[:, 5]),
        ("r_lower", lower),
        ("r_upper", upper),
    ):
        # agreement to every printed digit (7 decimals at least: half a unit is 5e-8)
        np.testing.assert_allclose(est[column], expected, rtol=0, atol=5.01e-8, err_msg=column)


def _branching(r: float, *, seeds: int, horizon: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A Galton-Watson cascade in continuous time: each event has Poisson(r) children, each
    after a Gamma(4, 0.5) delay (mean 2, sd 1); times and parent delays, both in hours."""
    rng = np.random.default_rng(seed)
    current = rng.uniform(0.0, 1.0, seeds)
    times, delays = [current], []
    while current.size:  # one vectorised step per generation
        parents = np.repeat(current, rng.poisson(r, current.size))
        d = rng.gamma(4.0, 0.5, parents.size)
        keep = parents + d < horizon
        current = (parents + d)[keep]
        times.append(current)
        delays.append(d[keep])
    return np.concatenate(times), np.concatenate(delays)


@pytest.mark.parametrize(("r", "seeds"), [(1.3, 30), (0.8, 3000)])
@pytest.mark.parametrize("seed", [1, 2])
def test_reproduction_number_recovers_known_r(r: float, seeds: int, seed: int) -> None:
    times, delays = _branching(r, seeds=seeds, horizon=30.0, seed=seed)
    rt = reproduction_number(times * HOUR, window="6h", parent_delays=delays * HOUR)
    est = rt[(rt["reason"] == "") & (rt["n_window"] >= 100)]
    assert len(est) >= 10
    covered = (est["r_lower"] <= r) & (r <= est["r_upper"])
    assert covered.mean() >= 0.8
    assert abs(est["r_mean"].median() - r) / r < 0.06
    tp = tipping_point(rt)
    assert tp.tipped == (r > 1)


@settings(max_examples=60, deadline=None)
@given(rt_cases(), st.integers(-10_000, 10_000), st.integers(-(10**6), 10**6))
def test_reproduction_number_invariant_to_time_shift(
    case: tuple[list[float], int, list[float]], whole_bins: int, offset: int
) -> None:
    times, tau, w = case
    t = np.array(times) + 1_341_100_800.0
    base = reproduction_number(t, window=(HOUR, tau), generation_interval=w)
    # default bins are aligned to the epoch: shifting by whole bins changes only `time`
    moved = reproduction_number(t + whole_bins * HOUR, window=(HOUR, tau), generation_interval=w)
    pd.testing.assert_frame_equal(
        base.drop(columns=["time", "window_start"]),
        moved.drop(columns=["time", "window_start"]),
    )
    np.testing.assert_array_equal(moved["time"] - base["time"], whole_bins * HOUR)
    # with an explicit start, any shift
    start = float(t.min())
    a = reproduction_number(t, window=(HOUR, tau), generation_interval=w, start=start)
    b = reproduction_number(
        t + offset, window=(HOUR, tau), generation_interval=w, start=start + offset
    )
    pd.testing.assert_frame_equal(
        a.drop(columns=["time", "window_start"]), b.drop(columns=["time", "window_start"])
    )


@settings(max_examples=60, deadline=None)
@given(rt_cases(), st.integers(2, 50))
def test_scaling_incidence_moves_mean_towards_the_ratio(
    case: tuple[list[float], int, list[float]], c: int
) -> None:
    times, tau, w = case
    one = reproduction_number(times, window=(HOUR, tau), generation_interval=w, start=0.0)
    many = reproduction_number(
        np.repeat(times, c), window=(HOUR, tau), generation_interval=w, start=0.0
    )
    np.testing.assert_array_equal(many["incidence"], c * one["incidence"])
    np.testing.assert_allclose(many["infectiousness"], c * one["infectiousness"], rtol=1e-12)
    ok = (one["reason"] == "").to_numpy()
    assert (many["reason"] == one["reason"]).all()
    if not ok.any():
        return
    # the posterior mean (a + c X) / (1/b + c Y) approaches the ratio X / Y as c grows, and the
    # interval narrows: the prior's pull vanishes for large counts
    lam_window = np.convolve(one["infectiousness"], np.ones(tau))[: len(one)][ok]
    ratio = one["n_window"].to_numpy()[ok] / lam_window
    gap_one = np.abs(one["r_mean"].to_numpy()[ok] - ratio)
    gap_many = np.abs(many["r_mean"].to_numpy()[ok] - ratio)
    assert (gap_many <= gap_one + 1e-9 * ratio).all()
    # sd = sqrt(a + cX) / (1/b + cY) decreases in c once Y >= 1 (below, the prior rules)
    big = lam_window >= 1
    sd_one, sd_many = one["r_std"].to_numpy()[ok][big], many["r_std"].to_numpy()[ok][big]
    assert (sd_many <= sd_one).all()


def test_datetimes_and_seconds_give_the_same_table() -> None:
    seconds = np.array([0.0, 10.0, 4000.0, 7300.0, 7400.0, 11000.0]) + 1_341_100_800.0
    stamps = pd.Series(pd.to_datetime(seconds, unit="s"))
    a = reproduction_number(seconds, window="2h", generation_interval=[0, 1])
    b = reproduction_number(stamps, window="2h", generation_interval=[0, 1])
    c = reproduction_number(
        stamps.dt.tz_localize("UTC").dt.tz_convert("Europe/Zurich"),
        window="2h",
        generation_interval=[0, 1],
    )
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    d = reproduction_number(
        seconds,
        window="2h",
        generation_interval=[0, 1],
        start="2012-07-01 00:00",
        end=pd.Timestamp("2012-07-01 04:00"),
    )
    assert d["time"].iloc[0] == 1_341_100_800.0
    assert len(d) == 4


@pytest.mark.parametrize(
    ("window", "step", "tau"),
    [
        ("6h", HOUR, 6),
        ("7D", DAY, 7),
        ("D", DAY, 1),
        ("90min", 60.0, 90),
        (pd.Timedelta(hours=2), HOUR, 2),
        ((900.0, 4), 900.0, 4),
    ],
)
def test_window_is_step_times_bins(window: object, step: float, tau: int) -> None:
    rt = reproduction_number([0.0, 10 * DAY], window=window, generation_interval=[0, 1])
    assert rt["time"].iloc[1] - rt["time"].iloc[0] == step
    assert rt["time"].iloc[-1] - rt["window_start"].iloc[-1] == step * (tau - 1)


def test_empty_and_single_event() -> None:
    empty = reproduction_number([], window="6h", generation_interval=[0, 1])
    assert empty.empty
    assert list(empty.columns) == list(RT_COLUMNS)
    one = reproduction_number([1_341_100_972.0], window="6h", generation_interval=[0, 1])
    assert len(one) == 1
    assert one["incidence"].tolist() == [1]
    assert one["reason"].tolist() == [REASON_INCOMPLETE]
    assert one["r_mean"].isna().all()
    # no events in [start, end): bins of zero incidence, nothing to estimate from
    quiet = reproduction_number(
        [], window=(HOUR, 2), generation_interval=[0, 1], start=0.0, end=5 * HOUR
    )
    assert quiet["incidence"].tolist() == [0] * 5
    assert (quiet["reason"].iloc[2:] == REASON_NO_LAMBDA).all()


def test_lambda_zero_gives_nan_with_a_reason_never_inf() -> None:
    times = [0.0, 0.0, 10 * HOUR + 5]
    rt = reproduction_number(times, window=(HOUR, 2), generation_interval=[0, 1])
    assert len(rt) == 11
    values = rt[["r_mean", "r_std", "r_median", "r_lower", "r_upper"]].to_numpy()
    assert not np.isinf(values).any()
    # Lambda_t = I_{t-1}: only Lambda_1 = 2 is positive, so only the window of bins 1-2 has
    # infectiousness; bin 10's event has none before it
    assert rt["reason"].iloc[2] == ""
    assert (rt["reason"].iloc[3:] == REASON_NO_LAMBDA).all()
    assert rt["r_mean"].iloc[3:].isna().all()
    # zero incidence with infectiousness is an estimate (R near 0), not a gap
    assert rt["r_mean"].iloc[2] == pytest.approx(1 / (1 / 5 + 2))


def test_windows_ending_before_the_mean_generation_interval_are_skipped() -> None:
    # mean lag 4 bins: with tau = 1 the windows ending in bins 1..4 (1-based) are skipped
    rt = reproduction_number(
        np.arange(10) * HOUR, window=(HOUR, 1), generation_interval=[0, 0, 0, 0, 1]
    )
    assert rt["reason"].tolist()[:5] == [REASON_INCOMPLETE] + [REASON_EARLY] * 3 + [""]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"window": "W"}, InvalidParameter),
        ({"window": "1M"}, InvalidParameter),
        ({"window": "often"}, InvalidParameter),
        ({"window": (0.0, 3)}, InvalidParameter),
        ({"window": (HOUR, 0)}, InvalidParameter),
        ({"window": (HOUR, 2, 3)}, InvalidParameter),
        ({"generation_interval": None}, InvalidParameter),
        ({"parent_delays": [10.0]}, InvalidParameter),
        ({"generation_interval": [0.5, 0.5]}, InvalidParameter),
        ({"generation_interval": [0.0, -1.0, 2.0]}, InvalidParameter),
        ({"generation_interval": [0.0, 0.0]}, InvalidParameter),
        ({"generation_interval": [0.0, float("nan")]}, InvalidParameter),
        ({"level": 1.0}, InvalidParameter),
        ({"prior_shape": 0.0}, InvalidParameter),
        ({"prior_scale": float("inf")}, InvalidParameter),
        ({"start": 10.0, "end": 5.0}, InvalidParameter),
        ({"start": "not a time"}, InvalidParameter),
        ({"times": [0.0, float("nan")]}, BadInput),
        ({"times": ["a", "b"]}, BadInput),
        ({"generation_interval": None, "parent_delays": [-1.0, 5.0]}, BadInput),
        ({"generation_interval": None, "parent_delays": [float("nan")]}, BadInput),
    ],
)
def test_reproduction_number_rejects_bad_input(kwargs: dict, error: type) -> None:
    args: dict = {"times": [0.0, HOUR], "window": "2h", "generation_interval": [0, 1]}
    args.update(kwargs)
    times = args.pop("times")
    with pytest.raises(error):
        reproduction_number(times, **args)


# ============================================================================= generation interval
def test_discrete_generation_interval_split_and_fold() -> None:
    # 2 h -> lag 2; 2.25 h -> 3/4 lag 2, 1/4 lag 3; 10 min -> lag 0 folded into lag 1
    w = discrete_generation_interval([7200.0, 8100.0, 600.0], step=HOUR, quantile=1.0)
    np.testing.assert_allclose(w, np.array([0.0, 1.0, 1.75, 0.25]) / 3.0)
    # truncation: the 99th percentile of 99 short delays and one very long one
    w = discrete_generation_interval([HOUR] * 99 + [100 * HOUR], step=HOUR)
    assert w.size < 100
    assert w[1] == pytest.approx(1.0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(1.0, 50.0), min_size=1, max_size=60))
def test_discrete_generation_interval_keeps_the_mean_delay(delays_in_bins: list[float]) -> None:
    step = 900.0
    w = discrete_generation_interval(np.array(delays_in_bins) * step, step=step, quantile=1.0)
    assert w[0] == 0.0
    assert w.sum() == pytest.approx(1.0)
    # no delay under one bin, no truncation: the interpolation keeps the mean exactly
    assert np.dot(np.arange(w.size), w) == pytest.approx(np.mean(delays_in_bins), rel=1e-9)


# ============================================================================= generations
@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=200))
def test_generation_sizes_and_r_agree_with_counting(depths: list[int]) -> None:
    counts = Counter(depths)
    sizes = generation_sizes(depths)
    assert sizes.tolist() == [counts[g] for g in range(max(depths, default=-1) + 1)]
    table = r_by_generation(depths)
    assert len(table) == len(sizes)
    for g in range(len(sizes)):
        n, nxt = counts[g], counts[g + 1]
        assert table["offspring"].iloc[g] == nxt
        if n:
            assert table["r"].iloc[g] == nxt / n
        else:
            assert math.isnan(table["r"].iloc[g])


def test_generation_product_telescopes() -> None:
    depths = [0] * 3 + [1] * 6 + [2] * 9 + [3] * 5
    r = r_by_generation(depths)["r"].to_numpy()
    assert np.prod(r[:3]) == pytest.approx(5 / 3)
    assert r.tolist() == [2.0, 1.5, 5 / 9, 0.0]


@pytest.mark.parametrize("depths", [[0, -1], [0, 1.5], ["a"], [0, float("nan")]])
def test_generation_sizes_reject_bad_depths(depths: list) -> None:
    with pytest.raises(BadInput):
        generation_sizes(depths)


# ============================================================================= referrals
def naive_referrals(events: pd.DataFrame) -> dict[object, dict[str, object]]:
    """Per adopter: signup time, referrer, generation, invitations sent, referees."""
    people: dict[object, dict[str, object]] = {}
    for row in events.sort_values("time", kind="stable").itertuples():
        if row.kind == "signup" and row.person is not None and row.person not in people:
            ref = row.referrer if row.referrer is not None and row.referrer != row.person else None
            people[row.person] = {"signup": row.time, "by": ref}
    for ref in events["referrer"]:
        if ref is not None and ref not in people:
            people[ref] = {"signup": math.nan, "by": None}
    kind = "share" if (events["kind"] == "share").any() else "click"
    for p, info in people.items():
        g, cur, seen = 0, info["by"], {p}
        while cur is not None:
            assert cur not in seen
            seen.add(cur)
            g, cur = g + 1, people[cur]["by"]
        info["generation"] = g
        info["invitations"] = int(((events["kind"] == kind) & (events["referrer"] == p)).sum())
        info["referees"] = sum(1 for q in people.values() if q["by"] == p)
    return people


@st.composite
def referral_logs(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        t = float(draw(st.integers(0, 30 * 86400)))
        by = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        rows.append((None if by is None else f"p{by}", f"p{i}", "signup", t))
    n_other = draw(st.integers(0, 40))
    for _ in range(n_other):
        who = draw(st.integers(0, n))  # n: a referrer with no signup (an old member)
        kind = draw(st.sampled_from(["share", "click", "purchase", "refund"]))
        rows.append((f"p{who}", None, kind, float(draw(st.integers(0, 30 * 86400)))))
    frame = pd.DataFrame(rows, columns=["referrer", "person", "kind", "time"])
    return frame.astype(object).where(frame.notna(), None)


@settings(max_examples=80, deadline=None)
@given(referral_logs())
def test_k_factor_agrees_with_naive_loop(events: pd.DataFrame) -> None:
    people = naive_referrals(events)
    overall = k_factor(events)
    assert len(overall) == 1
    n = len(people)
    inv = sum(p["invitations"] for p in people.values())
    ref = sum(p["referees"] for p in people.values())
    assert overall["adopters"].iloc[0] == n
    assert overall["invitations"].iloc[0] == inv
    assert overall["signups"].iloc[0] == ref
    assert overall["k"].iloc[0] == pytest.approx(ref / n)
    if inv:
        assert overall["i"].iloc[0] * overall["c"].iloc[0] == pytest.approx(ref / n)
    else:
        assert math.isnan(overall["c"].iloc[0])
    by_gen = k_factor(events, cohort="generation").set_index("cohort")
    for g in {p["generation"] for p in people.values()}:
        members = [p for p in people.values() if p["generation"] == g]
        assert by_gen.loc[g, "adopters"] == len(members)
        assert by_gen.loc[g, "signups"] == sum(p["referees"] for p in members)
        assert by_gen.loc[g, "invitations"] == sum(p["invitations"] for p in members)
    # each generation's referred signups are the next generation's size
    for g in by_gen.index[:-1]:
        assert by_gen.loc[g, "signups"] == by_gen.loc[g + 1, "adopters"]
    cycle = viral_cycle_time(events)
    delays = [
        p["signup"] - people[p["by"]]["signup"]  # type: ignore[operator]
        for p in people.values()
        if p["by"] is not None and not math.isnan(people[p["by"]]["signup"])  # type: ignore[arg-type]
    ]
    kept = [d for d in delays if d >= 0]
    assert cycle.n == len(kept)
    assert cycle.negative == len(delays) - len(kept)
    if kept:
        assert cycle.median == pytest.approx(float(np.median(kept)))
    else:
        assert math.isnan(cycle.median)


def _log(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["referrer", "person", "kind", "time"])


def test_k_factor_by_week_and_click_fallback() -> None:
    week1, week2 = pd.Timestamp("2024-01-01").value / 1e9, pd.Timestamp("2024-01-08").value / 1e9
    events = _log(
        [
            (None, "ann", "signup", week1),
            ("ann", None, "click", week1 + 10),
            ("ann", None, "click", week1 + 20),
            ("ann", "bob", "signup", week2),
            ("ann", "cat", "purchase", week2 + 5),
            ("bob", None, "click", week2 + 30),
            ("bob", "dan", "signup", week2 + 40),
        ]
    )
    table = k_factor(events, cohort="W")
    assert (table["invitation_kind"] == "click").all()
    assert table["adopters"].tolist() == [1, 2]
    assert table["invitations"].tolist() == [2, 1]
    assert table["signups"].tolist() == [1, 1]
    assert table["k"].tolist() == [1.0, 0.5]
    assert str(table["cohort"].iloc[0]) == "2024-01-01/2024-01-07"
    labels = k_factor(events, cohort={"ann": "founders", "bob": "friends"})
    assert labels["cohort"].tolist()[:2] == ["founders", "friends"]
    assert labels["cohort"].isna().iloc[2]  # dan: no label


def test_referral_errors() -> None:
    cycle = _log([("bob", "ann", "signup", 0.0), ("ann", "bob", "signup", 1.0)])
    with pytest.raises(BadInput, match="cycle"):
        k_factor(cycle)
    with pytest.raises(BadInput, match="kind"):
        k_factor(_log([(None, "ann", "joined", 0.0)]))
    with pytest.raises(BadInput) as info:
        k_factor(pd.DataFrame({"referrer": [], "person": [], "kind": []}))
    assert info.value.field == "time"
    with pytest.raises(InvalidParameter):
        k_factor(_log([(None, "ann", "signup", 0.0)]), cohort="fortnightly-ish")
    empty = k_factor(_log([]))
    assert empty["adopters"].tolist() == [0]
    assert math.isnan(empty["k"].iloc[0])
    assert empty["invitation_kind"].tolist() == ["none"]


def test_generations_of_a_long_referral_chain() -> None:
    # pointer jumping: 3,000 generations in a dozen vectorised rounds
    n = 3000
    chain = _log([(None if i == 0 else f"p{i - 1}", f"p{i}", "signup", float(i)) for i in range(n)])
    by_gen = k_factor(chain, cohort="generation")
    assert by_gen["cohort"].tolist() == list(range(n))
    assert by_gen["k"].tolist() == [1.0] * (n - 1) + [0.0]
    assert math.isnan(by_gen["i"].iloc[0])  # no invitation logged at all: i unknown, not 0
    assert viral_cycle_time(chain).median == 1.0
    nothing = viral_cycle_time(_log([]))
    assert isinstance(nothing, CycleTime)
    assert nothing.n == 0
    assert math.isnan(nothing.median)


# ============================================================================= projection
@pytest.mark.parametrize("k", [0.0, 0.3, 1.0, 1.7])
def test_projected_growth_is_the_geometric_series(k: float) -> None:
    table = projected_growth(k, 3.0, 50, 6)
    for n in range(7):
        assert table["customers"].iloc[n] == pytest.approx(50 * sum(k**j for j in range(n + 1)))
    assert table["t"].tolist() == [3.0 * n for n in range(7)]


def test_projected_growth_is_continuous_at_k_one() -> None:
    t = np.array([0.0, 1.3, 10.0])
    at_one = projected_growth(1.0, 1.0, 1, t)["customers"].to_numpy()
    for k in (1 - 1e-9, 1 + 1e-9):
        np.testing.assert_allclose(projected_growth(k, 1.0, 1, t)["customers"], at_one, rtol=1e-6)
    huge = projected_growth(10.0, 1.0, 1, [1e6])["customers"].iloc[0]
    assert huge == math.inf


@pytest.mark.parametrize(
    "args",
    [
        (-0.1, 1.0, 1, 3),
        (0.5, 0.0, 1, 3),
        (0.5, 1.0, -1, 3),
        (0.5, 1.0, 1, -2),
        (0.5, 1.0, 1, [-1.0]),
        (float("nan"), 1.0, 1, 3),
        (0.5, 1.0, 1, ["x"]),
    ],
)
def test_projected_growth_rejects_bad_parameters(args: tuple) -> None:
    with pytest.raises(InvalidParameter):
        projected_growth(*args)


# ============================================================================= tipping
@pytest.mark.parametrize(
    ("lower", "consecutive", "expected"),
    [
        ([0.9, 1.1, 1.2, 1.3], 2, (1, 2)),
        ([1.1, 0.9, 1.1, 1.2], 2, (2, 3)),
        ([1.1, float("nan"), 1.1, 1.2], 2, (2, 3)),  # no estimate breaks a run
        ([1.1, 1.0, 1.1], 2, None),  # exactly 1 is not above 1
        ([1.1, 1.0, 1.1], 1, (0, 0)),
        ([1.1, 1.2, 1.3], 3, (0, 2)),
        ([1.1, 1.2], 3, None),
        ([], 2, None),
    ],
)
def test_tipping_rule(lower: list[float], consecutive: int, expected: tuple | None) -> None:
    frame = pd.DataFrame({"time": 100.0 * np.arange(len(lower)), "r_lower": lower})
    tp = tipping_point(frame, consecutive=consecutive)
    if expected is None:
        assert not tp.tipped
        assert tp.time is None
        assert tp.confirmed is None
        assert tp.windows.empty
    else:
        first, last = expected
        assert (tp.time, tp.confirmed) == (100.0 * first, 100.0 * last)
        assert len(tp.windows) == last - first + 1
        assert (tp.windows["r_lower"] > 1).all()


def test_tipping_rule_errors_and_other_columns() -> None:
    frame = pd.DataFrame({"time": [0.0, 1.0], "r_lower": [0.5, 0.5], "r_mean": [1.5, 1.6]})
    assert tipping_point(frame, level_column="r_mean").time == 0.0
    with pytest.raises(BadInput):
        tipping_point(frame, level_column="r_upper")
    with pytest.raises(InvalidParameter):
        tipping_point(frame, consecutive=0)


@pytest.mark.parametrize(
    ("p", "q", "tipped"),
    [
        (0.03, 0.38, True),
        (0.01, 0.5, True),
        (0.3, 0.3, False),
        (0.4, 0.3, False),
        (0.0, 0.3, False),
        (-0.1, 0.3, False),
        (0.1, 0.0, False),
    ],
)
def test_bass_takeoff(p: float, q: float, tipped: bool) -> None:
    result = bass_takeoff(p, q)
    if not tipped:
        assert result.time is None
        assert result.reason
        return
    assert result.reason == ""
    assert result.time == pytest.approx(math.log(q / p) / (p + q))
    # it is the peak of the Bass adoption rate f(t) = dF/dt
    t = np.linspace(0.0, 3 * result.time, 300_001)
    e = np.exp(-(p + q) * t)
    f = p * (p + q) ** 2 * e / (p + q * e) ** 2
    assert t[np.argmax(f)] == pytest.approx(result.time, abs=1e-4 * result.time)


@pytest.mark.parametrize(("p", "q"), [(float("nan"), 0.3), (0.1, float("inf")), ("a", 0.3)])
def test_bass_takeoff_rejects_non_numbers(p: object, q: object) -> None:
    with pytest.raises(InvalidParameter):
        bass_takeoff(p, q)  # type: ignore[arg-type]


# ============================================================================= Higgs (real data)
@pytest.mark.shared_data
def test_higgs_retweets_tip_before_the_announcement(data_dir: Path) -> None:
    """R(t) of the Higgs retweets, 1-7 July 2012: 1-hour bins, 6-hour windows; the generation
    interval from the delays between successive retweets of the same author (a proxy: who
    retweeted from whom is not in the file). See docs/growth-and-tipping.md."""
    # data_dir skips when ../shared/data is absent, and fails instead when CI=true
    path = data_dir / "higgs" / "higgs-activity_time.txt.gz"
    activity = pd.read_csv(path, sep=" ", header=None, names=["a", "b", "time", "kind"])
    rt = activity[activity["kind"] == "RT"].sort_values(["b", "time"], kind="stable")
    assert len(rt) == 354_930
    t = rt["time"].to_numpy(dtype=np.float64)
    same = rt["b"].to_numpy()[1:] == rt["b"].to_numpy()[:-1]
    delays = np.diff(t)[same]
    assert 60 < np.median(delays) < 70  # a minute: most retweets come in quick bursts

    table = reproduction_number(t, window="6h", parent_delays=delays)
    utc = pd.to_datetime(table["time"], unit="s")
    assert utc.iloc[0] == pd.Timestamp("2012-07-01 00:00")
    assert len(table) == 168  # hours in the week
    assert not np.isinf(table[["r_mean", "r_lower", "r_upper"]].to_numpy()).any()

    # over the whole week the rule fires first on the rumours of 1 July
    week = tipping_point(table)
    assert pd.Timestamp(week.time, unit="s") == pd.Timestamp("2012-07-01 14:00")

    # around the announcement: R(t) < 1 through the night (upper bound below 1), then tips
    night = table[(utc >= "2012-07-03 22:00") & (utc < "2012-07-04 03:00")]
    assert (night["r_upper"] < 1).all()
    day = tipping_point(table[utc >= "2012-07-04 00:00"])
    assert pd.Timestamp(day.time, unit="s") == pd.Timestamp("2012-07-04 03:00")
    assert pd.Timestamp(day.confirmed, unit="s") == pd.Timestamp("2012-07-04 04:00")
    peak = table.loc[table["r_mean"].idxmax()]
    assert pd.Timestamp(peak["time"], unit="s") == pd.Timestamp("2012-07-04 05:00")
    assert 3.4 < peak["r_lower"] < peak["r_mean"] < peak["r_upper"] < 3.6
    # and R(t) is back below 1 (upper bound) from noon for a whole day
    after = table[(utc >= "2012-07-04 12:00") & (utc < "2012-07-05 12:00")]
    assert (after["r_upper"] < 1).all()
