"""Cascade figures: the summary table, the radial tree layout, R(t) of growth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.cascades import (
    adoption_growth,
    build_forest,
    cascade_summary,
    reach_split,
    tree_layout,
    tree_metrics,
)
from grapevine.errors import BadInput


def _random_tree(n: int, seed: int) -> tuple[list[str], list[str | None], list[float]]:
    rng = np.random.default_rng(seed)
    ids = [f"n{i}" for i in range(n)]
    parents: list[str | None] = [None] + [f"n{int(rng.integers(0, i))}" for i in range(1, n)]
    times = [0.0, *sorted(float(x) for x in rng.uniform(1, 1000, n - 1))]
    return ids, parents, times


def test_summary_joins_metrics_and_reach() -> None:
    f = build_forest(
        ["a", "b", "c", "d", "x", "y"],
        [None, "a", "b", "a", None, "x"],
        [0.0, 1.0, 2.0, 3.0, 0.0, 1.0],
        ["s1", "s1", "s1", "s1", "s2", "s2"],
    )
    table = cascade_summary(f)
    assert table["root"].tolist() == ["a", "x"]
    assert table[["organic", "viral"]].to_numpy().tolist() == [[2, 1], [1, 0]]
    assert table["size"].tolist() == tree_metrics(f)["size"].tolist()
    assert table["viral_share"].iloc[0] == pytest.approx(reach_split(f).loc["s1", "viral_share"])
    assert len(cascade_summary(f, top=1)) == 1


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 10_000), cap=st.integers(1, 80))
def test_layout_keeps_parents_and_marks_channels(n: int, seed: int, cap: int) -> None:
    ids, parents, times = _random_tree(n, seed)
    f = build_forest(ids, parents, times)
    layout = tree_layout(f, "n0", max_nodes=cap)
    assert layout.size == n
    assert layout.shown == min(n, cap)
    for i, node in enumerate(layout.nodes):
        if i == 0:
            assert node["parent"] == -1
            assert node["channel"] == "root"
            assert node["age"] == 0.0
            continue
        parent = layout.nodes[node["parent"]]  # every shown node's parent is shown
        assert node["parent"] < i
        assert parent["depth"] == node["depth"] - 1
        assert node["channel"] == ("organic" if node["depth"] == 1 else "viral")
        assert math.hypot(node["x"], node["y"]) == pytest.approx(node["depth"], abs=1e-3)


def test_layout_of_unknown_root() -> None:
    f = build_forest(["a", "b"], [None, "a"])
    with pytest.raises(BadInput, match="no cascade tree with root 'b'"):
        tree_layout(f, "b")


def test_growth_of_a_growing_cascade_tips() -> None:
    # Each adopter brings two more a minute later for 8 generations: R is about 2.
    ids, parents, times = ["g0"], [None], [0.0]
    frontier = ["g0"]
    for gen in range(1, 9):
        nxt = []
        for p in frontier:
            for j in range(2):
                name = f"{p}.{j}"
                ids.append(name)
                parents.append(p)
                times.append(gen * 60.0 + j)
                nxt.append(name)
        frontier = nxt
    growth = adoption_growth(build_forest(ids, parents, times))
    assert growth is not None
    assert growth.step == 60.0
    data = growth.to_dict()
    assert data["tipped_at"] is not None
    estimated = [r for r in data["series"] if r["r_mean"] is not None]
    assert estimated
    assert max(r["r_mean"] for r in estimated) > 1.5
    assert all(r["r_lower"] <= r["r_mean"] <= r["r_upper"] for r in estimated)


def test_growth_needs_enough_data() -> None:
    assert adoption_growth(build_forest(["a", "b"], [None, "a"], [0.0, 1.0])) is None
