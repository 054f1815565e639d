"""Monte-Carlo IC / LT simulation: kernels against the naive references and exact spreads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_diffusion as naive
from grapevine._kernels.diffusion import ic_spread, lt_spread
from grapevine.diffusion import MonteCarlo, SpreadResult, edge_probabilities, lt_weights, simulate
from grapevine.errors import InvalidParameter, UnknownPerson
from grapevine.graph import Graph

# A tiny directed graph (sorted arcs, so CSR order = list order) with 10 arcs.
N = 6
ARCS = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 1), (4, 5), (5, 0)]
P = np.array([0.5, 0.3, 0.6, 0.4, 0.2, 0.7, 0.5, 0.3, 0.6, 0.1])
W = np.array([0.4, 0.3, 0.3, 0.5, 0.4, 0.9, 0.5, 0.5, 0.1, 0.2])  # in-sums <= 1


def tiny() -> Graph:
    src, dst = zip(*ARCS, strict=True)
    return Graph.from_arrays(np.array(src), np.array(dst), nodes=range(N))


def random_graph(n: int, m: int, seed: int) -> tuple[list[tuple[int, int]], Graph]:
    rng = np.random.default_rng(seed)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (m, 2)) if a != b}
    arcs = sorted(pairs)
    src, dst = zip(*arcs, strict=True)
    return arcs, Graph.from_arrays(np.array(src), np.array(dst), nodes=range(n))


# ---------------------------------------------------------------------------- same RNG stream
@pytest.mark.parametrize("max_steps", [-1, 0, 1, 2])
def test_ic_kernel_matches_naive_run_for_run(max_steps: int) -> None:
    g = tiny()
    seeds = np.array([0, 4, 0], dtype=np.int64)
    n_record = 3
    spreads, new = ic_spread(
        g.indptr, g.indices, P, seeds, 200, np.uint64(7), max_steps, n_record, 5
    )
    for r in range(200):
        ref, rec = naive.ic_run(N, ARCS, P, [0, 4, 0], 7, r, max_steps, n_record)
        assert spreads[r] == ref
        assert new[r].tolist() == rec


@pytest.mark.parametrize("max_steps", [-1, 1])
def test_lt_kernel_matches_naive_run_for_run(max_steps: int) -> None:
    g = tiny()
    seeds = np.array([2], dtype=np.int64)
    spreads, new = lt_spread(g.indptr, g.indices, W, seeds, 200, np.uint64(3), max_steps, 4, 3)
    for r in range(200):
        ref, rec = naive.lt_run(N, ARCS, W, [2], 3, r, max_steps, 4)
        assert spreads[r] == ref
        assert new[r].tolist() == rec


def test_kernels_match_naive_on_a_random_graph() -> None:
    arcs, g = random_graph(40, 150, 1)
    p = np.random.default_rng(2).uniform(0, 0.5, len(arcs))
    seeds = np.array([0, 1, 2], dtype=np.int64)
    spreads, _ = ic_spread(g.indptr, g.indices, p, seeds, 50, np.uint64(11), -1, 0, 4)
    assert spreads.tolist() == [naive.ic_run(40, arcs, p, [0, 1, 2], 11, r)[0] for r in range(50)]
    w = lt_weights(g, p)
    spreads, _ = lt_spread(g.indptr, g.indices, w, seeds, 50, np.uint64(11), -1, 0, 4)
    assert spreads.tolist() == [naive.lt_run(40, arcs, w, [0, 1, 2], 11, r)[0] for r in range(50)]


def test_chunking_does_not_change_the_result() -> None:
    g = tiny()
    seeds = np.array([0], dtype=np.int64)
    a, _ = ic_spread(g.indptr, g.indices, P, seeds, 1000, np.uint64(5), -1, 0, 1)
    b, _ = ic_spread(g.indptr, g.indices, P, seeds, 1000, np.uint64(5), -1, 0, 37)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- exact spreads
@pytest.mark.parametrize("seeds", [[0], [3], [0, 4], [1, 2, 5]])
def test_ic_monte_carlo_mean_matches_exact_enumeration(seeds: list[int]) -> None:
    exact = naive.exact_ic(N, ARCS, P, seeds)
    res = simulate(tiny(), seeds, probabilities=P, runs=40_000, random_state=1)
    assert abs(res.mean - exact) < 4 * res.std_error + 1e-9


@pytest.mark.parametrize("seeds", [[0], [2], [1, 5]])
def test_lt_monte_carlo_mean_matches_exact_enumeration(seeds: list[int]) -> None:
    exact = naive.exact_lt(N, ARCS, W, seeds)
    res = simulate(tiny(), seeds, model="lt", probabilities=W, runs=40_000, random_state=2)
    assert abs(res.mean - exact) < 4 * res.std_error + 1e-9


def test_certain_arcs_give_reachability_and_steps() -> None:
    g = Graph.from_edges([(0, 1), (1, 2), (2, 3), (0, 4)])
    res = simulate(g, [0], probabilities=1.0, runs=3, steps=2, random_state=0)
    assert res.spreads.tolist() == [4, 4, 4]  # rounds 0..2 reach 0, {1, 4}, 2
    assert res.new_by_step.tolist() == [[2, 1]] * 3
    assert res.reach_by_step().tolist() == [1.0, 3.0, 4.0]
    assert simulate(g, [0], probabilities=1.0, runs=2).mean == 5.0
    assert simulate(g, [0], model="lt", probabilities=1.0, runs=2).mean == 5.0


# ---------------------------------------------------------------------------- API
def test_result_statistics() -> None:
    res = SpreadResult(np.arange(1, 101, dtype=np.int64), None, 1)
    assert res.mean == 50.5
    assert res.std_error == pytest.approx(np.std(np.arange(1, 101), ddof=1) / 10)
    assert res.p5 == pytest.approx(5.95)
    assert res.p95 == pytest.approx(95.05)
    assert res.runs == 100
    assert "100 runs" in repr(res)


def test_reproducible_with_random_state_and_threads() -> None:
    import numba

    _, g = random_graph(300, 1500, 3)
    a = simulate(g, [0, 1], runs=2000, random_state=42)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b = simulate(g, [0, 1], runs=2000, random_state=42)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(a.spreads, b.spreads)
    c = simulate(g, [0, 1], runs=2000, random_state=43)
    assert not np.array_equal(a.spreads, c.spreads)
    gen = simulate(g, [0, 1], runs=10, random_state=np.random.default_rng(0))
    assert gen.runs == 10


def test_empty_graph_and_empty_seeds() -> None:
    g = Graph.from_arrays(np.array([], dtype=np.int64), np.array([], dtype=np.int64), nodes=[1, 2])
    assert simulate(g, [1], runs=5).mean == 1.0
    assert simulate(g, [1], model="lt", runs=5, steps=3).reach_by_step().tolist() == [1.0] * 4
    assert simulate(tiny(), [], runs=5).mean == 0.0


def test_montecarlo_class() -> None:
    mc = MonteCarlo(probabilities=P, runs=500, random_state=3).fit(tiny(), [0])
    assert mc.spread_ == mc.result_.mean
    assert mc.std_error_ > 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"model": "sir"}, "model"),
        ({"probabilities": "magic"}, "probabilities"),
        ({"probabilities": 1.5}, "probabilities"),
        ({"probabilities": np.array([0.1, -0.1] * 5)}, "probabilities"),
        ({"probabilities": np.array([0.1, np.nan] * 5)}, "probabilities"),
        ({"probabilities": np.ones(3)}, "probabilities"),
        ({"runs": 0}, "runs"),
        ({"runs": 2.5}, "runs"),
        ({"steps": -1}, "steps"),
        ({"random_state": "x"}, "random_state"),
    ],
)
def test_invalid_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        simulate(tiny(), [0], **kwargs)
    assert err.value.name == name


def test_unknown_seed() -> None:
    with pytest.raises(UnknownPerson):
        simulate(tiny(), [99])


def test_weight_probabilities_outside_unit_interval() -> None:
    g = Graph.from_edges([(0, 1, 3.0)])
    with pytest.raises(InvalidParameter):
        edge_probabilities(g, "weight")


def test_lt_weights_are_normalised() -> None:
    g = Graph.from_edges([(0, 2), (1, 2), (0, 1)])
    w = lt_weights(g, np.array([0.2, 0.9, 0.6]))  # arcs (0,1), (0,2), (1,2)
    assert w.tolist() == pytest.approx([0.2, 0.6, 0.4])


# ---------------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=len(ARCS), max_size=len(ARCS)),
    st.sets(st.integers(0, N - 1), max_size=3),
    st.sets(st.integers(0, N - 1), max_size=3),
    st.integers(0, N - 1),
)
def test_exact_ic_spread_is_monotone_and_submodular(
    p: list[float], a: set[int], b: set[int], x: int
) -> None:
    small, big = a, a | b
    f = lambda s: naive.exact_ic(N, ARCS, p, sorted(s))  # noqa: E731
    assert f(small) <= f(big) + 1e-9
    if x not in big:
        assert f(small | {x}) - f(small) >= f(big | {x}) - f(big) - 1e-9
