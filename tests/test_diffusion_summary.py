"""Reach summaries: mean and percentiles of simulated reach per round."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grapevine.diffusion import SpreadResult, reach_by_round, reach_summary, simulate
from grapevine.graph import Graph


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 5)), elements=st.integers(0, 99))
)
def test_each_row_is_the_column_mean_and_percentiles(table: np.ndarray) -> None:
    rows = reach_summary(table)
    assert [r["step"] for r in rows] == list(range(table.shape[1]))
    for t, row in enumerate(rows):
        column = table[:, t]
        assert row["mean"] == pytest.approx(column.mean())
        assert row["p5"] == pytest.approx(np.percentile(column, 5))
        assert row["p95"] == pytest.approx(np.percentile(column, 95))
        assert column.min() <= row["p5"] <= row["p95"] <= column.max()


def test_an_empty_or_flat_table_is_refused() -> None:
    with pytest.raises(ValueError, match="runs x rounds"):
        reach_summary(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="runs x rounds"):
        reach_summary(np.zeros(3))


def test_rounds_start_at_the_seeds_and_end_at_the_final_spread() -> None:
    graph = Graph.from_edges([(0, 1), (1, 2), (2, 3), (0, 4)])
    res = simulate(graph, [0], probabilities=0.5, runs=400, steps=10, random_state=3)
    rows = reach_by_round(res)
    assert rows[0] == {"step": 0, "mean": 1.0, "p5": 1.0, "p95": 1.0}
    means = [r["mean"] for r in rows]
    assert means == sorted(means)  # reach never shrinks from one round to the next
    assert means[-1] == pytest.approx(res.mean)  # 10 rounds exhaust a depth-3 graph


def test_without_rounds_one_row_describes_the_end() -> None:
    res = SpreadResult(spreads=np.array([1, 2, 3, 4]), new_by_step=None, n_seeds=1)
    assert reach_by_round(res) == [{"step": -1, "mean": 2.5, "p5": res.p5, "p95": res.p95}]
