"""Continuous influence maximisation: discounts on a grid, against brute force and full ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_diffusion as naive
from grapevine._kernels.continuous import coordinate_descent, unified_discount
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import (
    BudgetedIMM,
    ContinuousIM,
    continuous_discounts,
    seed_probability_table,
    simulate_random_seeds,
)
from grapevine.influence._imm import _Pool

N = 6
ARCS = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 1), (4, 5), (5, 0)]
P = np.array([0.5, 0.3, 0.6, 0.4, 0.2, 0.7, 0.5, 0.3, 0.6, 0.1])
CURVE = {"linear": lambda c: c, "concave": lambda c: 2 * c - c * c, "sqrt": np.sqrt}


def tiny() -> Graph:
    src, dst = zip(*ARCS, strict=True)
    return Graph.from_arrays(np.array(src), np.array(dst), nodes=range(N))


def edge_p(g: Graph) -> np.ndarray:
    """P aligned with the graph's arcs."""
    lookup = dict(zip(ARCS, P, strict=True))
    return np.array([lookup[(int(u), int(v))] for u, v in zip(g.sources(), g.indices, strict=True)])


def reach_tensor() -> tuple[np.ndarray, np.ndarray]:
    """Every live-edge world: its probability and who reaches whom (W, n, n)."""
    probs, reach = [], []
    for world in itertools.product((False, True), repeat=len(ARCS)):
        probs.append(np.prod(np.where(world, P, 1 - P)))
        r = np.eye(N, dtype=bool)
        live = [a for a, keep in zip(ARCS, world, strict=True) if keep]
        for _ in range(N):
            for u, v in live:
                r[:, v] |= r[:, u]
        reach.append(r)
    return np.array(probs), np.array(reach)


WORLDS = reach_tensor()


def exact_spread(q: np.ndarray) -> float:
    """Expected spread when person u is a seed with probability q[u], by enumeration."""
    prob, reach = WORLDS
    miss = np.where(reach, (1 - q)[None, :, None], 1.0).prod(axis=1)  # (W, n): v not reached
    return float(prob @ (1 - miss).sum(axis=1))


def brute_force(curve: str, levels: list[float], budget: float) -> float:
    grid = [0.0, *levels]
    best = 0.0
    for combo in itertools.product(range(len(grid)), repeat=N):
        if sum(grid[i] for i in combo) <= budget + 1e-9:
            q = CURVE[curve](np.array([grid[i] for i in combo]))
            best = max(best, exact_spread(q))
    return best


# ---------------------------------------------------------------------- the algorithm
@pytest.mark.parametrize("curve", ["linear", "concave", "sqrt"])
def test_close_to_brute_force_on_a_tiny_graph(curve: str) -> None:
    levels, budget = [0.25, 0.5, 0.75, 1.0], 1.5
    best = brute_force(curve, levels, budget)
    g = tiny()
    est = ContinuousIM(
        budget, levels=levels, curve=curve, probabilities=edge_p(g), n_rr_sets=200_000,
        random_state=3,
    ).fit(g)  # fmt: skip
    got = exact_spread(est.seed_probabilities_)
    assert est.spent_ <= budget + 1e-9
    assert got >= 0.98 * best
    assert est.spread_ == pytest.approx(got, rel=0.03)
    assert est.validation_spread_ == pytest.approx(got, rel=0.03)  # fresh sets: unbiased
    assert est.validation_rr_sets_ == 100_000


def test_linear_curve_gives_full_discounts() -> None:
    """Multilinear objective: moving budget between two people is convex, so all-or-nothing."""
    g = tiny()
    est = ContinuousIM(
        2, curve="linear", probabilities=edge_p(g), n_rr_sets=50_000, random_state=1
    ).fit(g)
    assert est.seed_discounts_.tolist() == [1.0, 1.0]
    assert est.spread_ == pytest.approx(est.full_discount_spread_)


def test_concave_curve_beats_full_discounts_to_the_budgeted_imm_seeds() -> None:
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 300, 900), rng.integers(0, 300, 900)
    keep = src != dst
    g = Graph.from_arrays(src[keep], dst[keep], nodes=range(300))
    cim = ContinuousIM(5, curve="concave", n_rr_sets=50_000, random_state=1).fit(g)
    imm = BudgetedIMM(5, probabilities="wc", random_state=1).fit(g)
    assert cim.spread_ > 1.1 * cim.full_discount_spread_
    assert cim.spread_ >= cim.unified_spread_
    partial = simulate_random_seeds(g, cim.seed_probabilities_, runs=4000, random_state=2)
    full = simulate_random_seeds(
        g, np.isin(np.arange(300), imm.seed_index_).astype(float), runs=4000, random_state=2
    )
    assert partial.mean > full.mean + 5 * (partial.std_error + full.std_error)
    assert partial.mean == pytest.approx(cim.spread_, rel=0.05)


def test_isolated_people_and_a_small_budget() -> None:
    g = Graph.from_arrays([], [], nodes=range(10))
    est = ContinuousIM(0.05, n_rr_sets=1000, random_state=0).fit(g)
    assert est.seeds_.size == 0
    assert est.spread_ == 0.0
    assert est.unified_discount_ == 0.0
    assert est.full_discount_spread_ == 0.0


def test_per_person_curves() -> None:
    """Person 0 never takes a discount: nobody offers one to them."""
    g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (4, 5)])
    table = np.tile([0.5, 1.0], (6, 1))
    table[0] = 0.0
    est = ContinuousIM(
        1, levels=[0.5, 1.0], curve=table, probabilities=1.0, n_rr_sets=20_000, random_state=0
    ).fit(g)
    assert 0 not in est.seed_index_.tolist()
    assert est.seed_index_.tolist() == [4]


def test_function_twin_and_callable_curve() -> None:
    g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    out = continuous_discounts(g, 1, curve=lambda c: c**2, probabilities=1.0, random_state=0)
    assert out == {"a": 1.0}


# ------------------------------------------------------------------------- the kernels
def covered(offsets: np.ndarray, nodes: np.ndarray, q: np.ndarray) -> float:
    return sum(
        1 - np.prod(1 - q[nodes[offsets[j] : offsets[j + 1]]]) for j in range(len(offsets) - 1)
    )


@settings(max_examples=25, deadline=None)
@given(
    budget=st.floats(0, 3),
    seed=st.integers(0, 2**32),
    start_level=st.integers(0, 4),
)
def test_kernels_agree_with_a_plain_recount(budget: float, seed: int, start_level: int) -> None:
    g = tiny()
    in_ptr, in_src, eid = g.transpose()
    pool = _Pool(in_ptr, in_src, np.ascontiguousarray(edge_p(g)[eid]), False, seed)
    pool.grow(300)
    levels = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    table = seed_probability_table("sqrt", levels[1:], N)
    ud, ud_value, _ = unified_discount(pool.offsets, pool.nodes, N, table, levels, budget)
    assert levels[ud].sum() <= budget + 1e-9
    assert ud_value == pytest.approx(covered(pool.offsets, pool.nodes, table[np.arange(N), ud]))
    start = np.zeros(N, dtype=np.int64)
    if levels[start_level] <= budget:
        start[0] = start_level
    assign, value, _ = coordinate_descent(
        pool.offsets, pool.nodes, N, table, levels, budget, start, 3, 10, 1e-9
    )
    q = table[np.arange(N), assign]
    assert levels[assign].sum() <= budget + 1e-9
    assert value == pytest.approx(covered(pool.offsets, pool.nodes, q))
    assert value >= covered(pool.offsets, pool.nodes, table[np.arange(N), start]) - 1e-9


# ----------------------------------------------------------------- random-seed simulation
def exact_random_seeds(q: np.ndarray, model: str) -> float:
    """Expected spread over every seed realisation, each by live-edge enumeration."""
    insum = np.zeros(N)
    for (_, v), x in zip(ARCS, P, strict=True):
        insum[v] += x
    w = [x / max(1.0, insum[v]) for (_, v), x in zip(ARCS, P, strict=True)]
    total = 0.0
    for taken in itertools.product((False, True), repeat=N):
        prob = float(np.prod(np.where(taken, q, 1 - q)))
        if prob:
            seeds = [u for u in range(N) if taken[u]]
            exact = (
                naive.exact_lt(N, ARCS, w, seeds)
                if model == "lt"
                else naive.exact_ic(N, ARCS, list(P), seeds)
            )
            total += prob * exact
    return total


@pytest.mark.parametrize(("model", "runs"), [("ic", 20_000), ("lt", 1500)])
def test_simulate_random_seeds_matches_the_exact_spread(model: str, runs: int) -> None:
    g = tiny()
    q = np.array([0.5, 0.0, 0.2, 0.0, 1.0, 0.0])
    res = simulate_random_seeds(
        g, q, model=model, probabilities=edge_p(g), runs=400, steps=2, random_state=5
    )
    assert res.new_by_step is not None
    assert res.new_by_step.shape == (400, 3)
    assert res.n_seeds == 0
    assert (res.new_by_step[:, 0] >= 1).all()  # person 4 always takes the offer
    full = simulate_random_seeds(
        g, q, model=model, probabilities=edge_p(g), runs=runs, random_state=6
    )
    expected = exact_random_seeds(q, model)
    assert full.mean == pytest.approx(expected, abs=4 * full.std_error)
    if model == "ic":
        assert exact_spread(q) == pytest.approx(expected)


def test_simulate_random_seeds_with_sure_seeds() -> None:
    g = Graph.from_edges([("a", "b"), ("b", "c"), ("x", "y")])
    ids = g.ids.tolist()
    q = np.array([1.0 if s == "a" else 0.0 for s in ids])
    res = simulate_random_seeds(g, q, probabilities=1.0, runs=10, random_state=0)
    assert res.spreads.tolist() == [3] * 10


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"budget": -1}, "budget"),
        ({"budget": 1, "levels": [0.5, 0.5]}, "levels"),
        ({"budget": 1, "levels": [0, 0.5]}, "levels"),
        ({"budget": 1, "levels": [0.5, 1.5]}, "levels"),
        ({"budget": 1, "levels": []}, "levels"),
        ({"budget": 1, "curve": "cubic"}, "curve"),
        ({"budget": 1, "curve": [0.5]}, "curve"),
        ({"budget": 1, "curve": lambda c: 2 * c}, "curve"),
        ({"budget": 1, "n_rr_sets": 0}, "n_rr_sets"),
        ({"budget": 1, "model": "sir"}, "model"),
    ],
)
def test_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameter, match=f"'{name}' parameter of ContinuousIM"):
        ContinuousIM(**kwargs).fit(tiny())


def test_bad_seed_probabilities() -> None:
    with pytest.raises(InvalidParameter, match="seed_probabilities"):
        simulate_random_seeds(tiny(), np.full(N, 1.5))
    with pytest.raises(InvalidParameter, match="seed_probabilities"):
        simulate_random_seeds(tiny(), [0.5])
