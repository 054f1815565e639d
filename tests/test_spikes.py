"""Spike detector and NAB scoring: hand-made NAB cases, no look-ahead, errors, real data."""

from __future__ import annotations

import numpy as np
import pytest

from grapevine.errors import BadInput, InvalidParameter
from grapevine.listening._nab import (
    NAB_PROFILES,
    nab_normalized_score,
    nab_series_score,
    read_nab_csv,
    read_nab_windows,
    scaled_sigmoid,
)
from grapevine.listening._spikes import SpikeDetector, detect_spikes

T = np.arange("2015-01-01T00:00", 2000 * 5, 5, dtype="datetime64[m]")  # 2000 rows
WIN = [(T[1000], T[1099])]  # 100 rows; probation = 300 rows


# ------------------------------------------------------------------ NAB scoring
def test_detection_at_window_start_scores_a_tp() -> None:
    r = nab_series_score(T, [1000], WIN)
    assert r.raw == pytest.approx(1.0)
    assert (r.tp, r.fn, r.fp) == (1, 0, 0)
    assert r.delays_s == (0.0,)


def test_detection_at_window_end_scores_about_zero() -> None:
    r = nab_series_score(T, [1099], WIN)
    # y = -1/100: 2 sigma(0.05) - 1 normalised by sigma(-1)
    expected = (2 / (1 + np.exp(5 * -0.01)) - 1) / scaled_sigmoid(-1.0)
    assert r.raw == pytest.approx(expected)
    assert 0 < r.raw < 0.03


def test_middle_is_between_and_only_the_first_detection_counts() -> None:
    mid = nab_series_score(T, [1050], WIN).raw
    assert 0.0 < mid < 1.0
    assert nab_series_score(T, [1050, 1060, 1099], WIN).raw == pytest.approx(mid)
    assert nab_series_score(T, [1000, 1050], WIN).raw == pytest.approx(1.0)


def test_no_detection_costs_a_fn() -> None:
    r = nab_series_score(T, [], WIN)
    assert r.raw == -1.0
    assert (r.tp, r.fn) == (0, 1)


def test_false_positive_before_any_window_costs_full_a_fp() -> None:
    assert nab_series_score(T, [500], WIN).raw == pytest.approx(-1.0 - 0.11)


def test_false_positive_weighted_by_distance_after_window() -> None:
    near = nab_series_score(T, [1000, 1100], WIN).raw - 1.0  # 1 row after the end
    far = nab_series_score(T, [1000, 1999], WIN).raw - 1.0  # > 3 widths after
    assert -0.11 < near < 0
    assert near == pytest.approx(0.11 * scaled_sigmoid(1 / 99))
    assert far == pytest.approx(-0.11)


def test_probation_rows_are_not_scored() -> None:
    assert nab_series_score(T, [10, 299], WIN).fp == 0
    assert nab_series_score(T, [300], WIN).fp == 1


def test_normalised_score_null_and_perfect() -> None:
    perfect = nab_series_score(T, [1000], WIN)
    null = nab_series_score(T, [], WIN)
    assert nab_normalized_score([perfect, perfect]) == pytest.approx(100.0)
    assert nab_normalized_score([null, null]) == pytest.approx(0.0)
    assert nab_normalized_score([perfect, null]) == pytest.approx(50.0)


def test_profiles() -> None:
    low_fn = NAB_PROFILES["reward_low_FN_rate"]
    assert nab_series_score(T, [], WIN, profile=low_fn).raw == -2.0


@pytest.mark.parametrize(
    ("times", "dets", "wins"),
    [
        (T[::-1], [], WIN),
        (T, [5000], WIN),
        (T, [], [(T[10], T[5])]),
        (T, [], [(T[10], T[20]), (T[15], T[30])]),
    ],
)
def test_nab_bad_input(times, dets, wins) -> None:
    with pytest.raises(BadInput):
        nab_series_score(times, dets, wins)


# ------------------------------------------------------------------ detector
def _series(days: int = 14, spike_at: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange("2015-03-01", days * 288 * 5, 5, dtype="datetime64[m]")
    rng = np.random.default_rng(0)
    k = np.arange(len(t))
    lam = 40 + 25 * np.sin(2 * np.pi * k / 288)
    v = rng.poisson(lam).astype(float)
    if spike_at is not None:
        v[spike_at : spike_at + 6] *= 8
    return t, v


def test_finds_an_injected_spike_and_explains_it() -> None:
    t, v = _series(spike_at=3000)
    spikes = detect_spikes(t, v)
    assert [s.index for s in spikes] == [3000]
    s = spikes[0]
    assert s.time == t[3000].astype("datetime64[s]")
    assert s.value == v[3000]
    assert s.expected < s.value / 3
    assert s.score >= 5
    assert "expected" in s.why
    assert "time of day" in s.why


def test_quiet_series_raises_nothing() -> None:
    t, v = _series()
    assert detect_spikes(t, v) == []
    assert detect_spikes(t, v, method="ewma") == []


def test_no_look_ahead() -> None:
    # scores up to row i do not change when later rows change
    t, v = _series(spike_at=3000)
    full = SpikeDetector().fit(t, v).scores_
    cut = SpikeDetector().fit(t[:2500], v[:2500]).scores_
    np.testing.assert_array_equal(full[:2500], cut)
    v2 = v.copy()
    v2[2500:] = 0
    np.testing.assert_array_equal(SpikeDetector("ewma").fit(t, v2).scores_[:2500],
                                  SpikeDetector("ewma").fit(t, v).scores_[:2500])  # fmt: skip


def test_detect_continues_the_fitted_history() -> None:
    t, v = _series(spike_at=3000)
    det = SpikeDetector().fit(t[:2800], v[:2800])
    new = det.detect(t[2800:], v[2800:])
    assert [s.index for s in new] == [200]
    with pytest.raises(BadInput):
        det.detect(t[:10], v[:10])


def test_cooldown_suppresses_repeats() -> None:
    t, v = _series()
    v[3000] *= 10
    v[3100] *= 10
    assert len(detect_spikes(t, v, smooth=1)) == 1
    assert len(detect_spikes(t, v, smooth=1, cooldown_hours=1)) == 2


@pytest.mark.parametrize(
    ("param", "value"),
    [("method", "lstm"), ("threshold", 0), ("smooth", 0), ("alpha", 1.0), ("seasonal", 1)],
)
def test_invalid_parameters(param, value) -> None:
    t, v = _series(days=2)
    with pytest.raises(InvalidParameter, match=param):
        SpikeDetector(**{param: value}).fit(t, v)


@pytest.mark.parametrize(
    ("times", "values"),
    [
        (np.arange(3).astype("datetime64[m]"), [1.0, 2.0]),
        (np.arange(3).astype("datetime64[m]")[::-1], [1.0, 2.0, 3.0]),
        (np.arange(3).astype("datetime64[m]"), [1.0, -2.0, 3.0]),
        (np.arange(1).astype("datetime64[m]"), [1.0]),
    ],
)
def test_bad_series(times, values) -> None:
    with pytest.raises(BadInput):
        detect_spikes(times, values)


# ------------------------------------------------------------------ real data
@pytest.mark.shared_data
def test_realtweets_scores_well_above_null(data_dir) -> None:
    buzz = data_dir / "buzz"
    wins = read_nab_windows(buzz / "windows.json")
    results = []
    for name in ("AAPL", "FB"):
        t, v = read_nab_csv(buzz / f"Twitter_volume_{name}.csv")
        alerts = [s.index for s in detect_spikes(t, v)]
        results.append(nab_series_score(t, alerts, wins[f"realTweets/Twitter_volume_{name}.csv"]))
    assert sum(r.tp for r in results) >= 4
    assert nab_normalized_score(results) > 30


def test_the_alert_says_the_multiple_of_the_usual_volume_first() -> None:
    t, v = _series(spike_at=3000)
    (s,) = detect_spikes(t, v)
    weekday = t[3000].astype("datetime64[s]").item().strftime("%A")
    headline, stats = s.why.split(". Statistics: ")
    times = float(headline.split("×")[0])
    assert times == pytest.approx(s.value / s.expected, abs=0.05)
    assert f"the usual volume for a {weekday}" in headline
    assert "z = " in stats
    assert "z = " not in headline
