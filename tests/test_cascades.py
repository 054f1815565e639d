"""Retweet-cascade summaries against a naive per-author loop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.cascades import activity_curve, retweet_cascades


def _naive(ties: pd.DataFrame) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for root in set(ties["target"]):
        rows = ties[ties["target"] == root]
        times = sorted(rows["time"].tolist())
        n = len(times)
        half = times[math.ceil(n / 2) - 1]
        hours: dict[float, int] = {}
        for t in times:
            h = math.floor(t / 3600.0) * 3600.0
            hours[h] = hours.get(h, 0) + 1
        best = max(hours.values())
        out[root] = {
            "retweets": n,
            "retweeters": len(set(rows["source"])),
            "first": times[0],
            "last": times[-1],
            "hours_to_half": (half - times[0]) / 3600.0,
            "peak_hour": min(h for h, c in hours.items() if c == best),
            "peak_share": best / n,
        }
    return out


events = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.sampled_from(["r1", "r2", "r3"]),
        st.floats(min_value=0, max_value=50_000, allow_nan=False).map(round),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(events)
def test_retweet_cascades_agree_with_naive_loop(rows: list[tuple[str, str, float]]) -> None:
    ties = pd.DataFrame(rows, columns=["source", "target", "time"]).astype({"time": float})
    got = retweet_cascades(ties, top=None).set_index("root")
    want = _naive(ties)
    assert set(got.index) == set(want)
    for root, expected in want.items():
        for key, value in expected.items():
            assert got.loc[root, key] == value, (root, key)
    assert list(got["retweets"]) == sorted(got["retweets"], reverse=True)


def test_retweet_cascades_top_and_empty() -> None:
    empty = pd.DataFrame({"source": [], "target": [], "time": []})
    assert retweet_cascades(empty).empty
    ties = pd.DataFrame({"source": list("bcd"), "target": list("aab"), "time": [1.0, 2.0, 3.0]})
    assert retweet_cascades(ties, top=1)["root"].tolist() == ["a"]


def test_activity_curve_counts_every_bin() -> None:
    t = np.array([5.0, 3599.0, 3600.0, 4 * 3600.0 + 1])
    assert activity_curve(t).tolist() == [2, 1, 0, 0, 1]
    assert activity_curve(np.array([])).empty
