"""Budgeted seed selection (best-of-two greedy over RR sets) and the tipping curve."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import naive_diffusion as naive
from grapevine._kernels.budget import budgeted_cover
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import (
    IMM,
    BudgetedIMM,
    ReachCurve,
    budgeted_seeds,
    plot_reach_curve,
    reach_curve,
    seed_costs,
    tipping_budget,
)

N = 6
ARCS = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 1), (4, 5), (5, 0)]
P = np.array([0.5, 0.3, 0.6, 0.4, 0.2, 0.7, 0.5, 0.3, 0.6, 0.1])


def tiny() -> Graph:
    src, dst = zip(*ARCS, strict=True)
    return Graph.from_arrays(np.array(src), np.array(dst), nodes=range(N))


def star_and_chaff(leaves: int = 100, loners: int = 30) -> Graph:
    """A hub reaching ``leaves`` people for sure, plus ``loners`` isolated people."""
    edges = [("hub", f"l{i}") for i in range(leaves)]
    src = np.array([u for u, _ in edges] + [f"x{i}" for i in range(loners)], dtype=object)
    dst = np.array([v for _, v in edges] + [f"x{i}" for i in range(loners)], dtype=object)
    return Graph.from_arrays(
        src[: len(edges)], dst[: len(edges)], nodes=list(np.unique(np.r_[src, dst]))
    )


def star_costs(g: Graph, hub_cost: float = 10.0) -> dict:
    return {label: (hub_cost if label == "hub" else 1.0) for label in g.ids.tolist()}


# ---------------------------------------------------------------------------- kernel
def naive_best_of_two(sets: list[set[int]], n: int, costs: np.ndarray, budget: float) -> int:
    covered: set[int] = set()
    spent, total = 0.0, 0
    chosen: set[int] = set()
    while True:
        best, key = -1, (-1.0, 0)
        for v in range(n):
            gain = sum(1 for j, s in enumerate(sets) if v in s and j not in covered)
            if v in chosen or gain == 0 or spent + costs[v] > budget:
                continue
            k = (math.inf if costs[v] == 0 else gain / costs[v], gain)
            if k > key:
                best, key = v, k
        if best < 0:
            break
        chosen.add(best)
        spent += costs[best]
        total += key[1]
        covered |= {j for j, s in enumerate(sets) if best in s}
    single = max((sum(v in s for s in sets) for v in range(n) if costs[v] <= budget), default=0)
    return max(total, single)


@pytest.mark.parametrize("seed", range(5))
def test_budgeted_cover_matches_naive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 9
    sets = [set(rng.choice(n, size=rng.integers(1, 4), replace=False).tolist()) for _ in range(40)]
    offsets = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    nodes = np.array([v for s in sets for v in sorted(s)], dtype=np.int32)
    costs = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0], size=n)
    for budget in (0.4, 1.0, 2.5, 4.0):
        seeds, marg, _ = budgeted_cover(offsets, nodes, n, costs, budget)
        assert costs[seeds].sum() <= budget + 1e-9
        assert int(marg.sum()) == naive_best_of_two(sets, n, costs, budget)
        hit = sum(1 for s in sets if s & set(seeds.tolist()))
        assert hit == int(marg.sum())


# ---------------------------------------------------------------------------- BudgetedIMM
def test_unit_costs_match_imm() -> None:
    g = tiny()
    b = BudgetedIMM(2, None, probabilities=P, random_state=3).fit(g)
    i = IMM(2, probabilities=P, random_state=3).fit(g)
    assert len(b.seeds_) == 2
    assert b.cost_ == 2.0
    assert b.spread_ == pytest.approx(i.spread_, rel=0.03)


def test_near_the_best_affordable_set_on_a_tiny_graph() -> None:
    g = tiny()
    costs = np.array([3.0, 1.0, 2.0, 1.0, 2.0, 1.0])
    budget = 3.0
    est = BudgetedIMM(budget, costs, probabilities=P, random_state=1).fit(g)
    best = max(
        naive.exact_ic(N, ARCS, P, list(s))
        for r in range(1, N + 1)
        for s in itertools.combinations(range(N), r)
        if costs[list(s)].sum() <= budget
    )
    got = naive.exact_ic(N, ARCS, P, est.seed_index_.tolist())
    assert est.cost_ <= budget
    assert got >= est.approximation_ * best
    assert got >= 0.9 * best  # far better than the guarantee in practice
    assert est.approximation_ == pytest.approx((1 - 1 / math.e) / 2 - 0.1)


def test_best_single_wins_against_cheap_greedy() -> None:
    g = star_and_chaff(leaves=20, loners=5)
    costs = star_costs(g, hub_cost=10.0)
    est = BudgetedIMM(10, costs, probabilities=1.0, random_state=0).fit(g)
    assert est.seeds_.tolist() == ["hub"]
    assert est.cost_ == 10.0
    assert est.spread_ == pytest.approx(21, rel=0.05)


def test_budget_below_the_cheapest_gives_an_empty_plan() -> None:
    est = BudgetedIMM(0.5, np.full(N, 1.0), random_state=0).fit(tiny())
    assert est.seeds_.tolist() == []
    assert est.spread_ == 0.0
    assert est.n_rr_sets_ == 0
    assert est.strategy_ == "none"


def test_mapping_costs_and_function_twin() -> None:
    g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    costs = {"a": 5, "b": 1, "c": 1, "d": 1, "e": 1}
    seeds = budgeted_seeds(g, 2, costs, probabilities=1.0, random_state=0).tolist()
    assert "a" not in seeds
    assert "d" in seeds
    assert len(seeds) == 2


@pytest.mark.parametrize(
    ("costs", "fragment"),
    [
        ({0: 1.0}, "no cost for 1"),
        (np.array([1.0, -1, 1, 1, 1, 1]), "-1.0"),
        (np.array([1.0, np.nan, 1, 1, 1, 1]), "nan"),
        (np.array([1.0, 1.0]), "(2,)"),
        ("cheap", "mapping"),
    ],
)
def test_bad_costs(costs: object, fragment: str) -> None:
    with pytest.raises(InvalidParameter, match="costs") as info:
        seed_costs(tiny(), costs)
    assert fragment in str(info.value)


@pytest.mark.parametrize("budget", [-1, math.nan, math.inf, "10"])
def test_bad_budget(budget: object) -> None:
    with pytest.raises(InvalidParameter, match="budget"):
        BudgetedIMM(budget).fit(tiny())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- tipping
def test_tipping_budget_is_where_the_hub_becomes_affordable() -> None:
    g = star_and_chaff(leaves=100, loners=30)
    curve = reach_curve(
        g,
        np.arange(0, 16),
        star_costs(g, 10.0),
        probabilities=1.0,
        n_rr_sets=50_000,
        random_state=2,
    )
    assert curve.reach[0] == 0.0
    assert curve.reach[9] == pytest.approx(9, abs=1.5)  # nine people reached one by one
    assert curve.reach[10] == pytest.approx(101, rel=0.03)  # the hub and its 100 followers
    assert np.all(curve.cost <= curve.budgets + 1e-9)
    assert tipping_budget(curve) == 10.0


def test_plot_reach_curve(tmp_path: Path) -> None:
    curve = ReachCurve(np.arange(4.0), np.array([0, 1, 30, 31.0]), [], np.zeros(4), 1)
    written = plot_reach_curve(curve, [tmp_path / "c.png", tmp_path / "c.svg"], tipping=2.0)
    assert [p.name for p in written] == ["c.png", "c.svg"]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert "tipping budget 2" in (tmp_path / "c.svg").read_text()


def test_no_tipping_point_under_unit_costs() -> None:
    g = star_and_chaff(leaves=50, loners=10)
    curve = reach_curve(g, [0, 1, 2, 3, 4], probabilities=1.0, random_state=0)
    assert curve.seeds[1].tolist() == ["hub"]
    assert tipping_budget(curve) is None


@pytest.mark.parametrize(
    ("reach", "expected"),
    [
        ([0, 1, 2, 3, 40, 41], 4.0),
        ([0, 1, 2, 30, 40, 41], 3.0),
        ([0, 10, 15, 18, 19, 20], None),
        ([0, 1, 2, 3, 4, 5], None),
        ([0, 10, 21, 30, 40, 50], None),  # a straight line with sampling noise: no knee
        ([0, 10, 20, 31, 40, 50], None),
        ([0, 0, 100, 140, 175, 200], None),  # the first affordable seed is no knee
        ([0, 0, 5, 10, 60, 65], 4.0),  # nothing, then 5 a unit, then a hub: 50 a unit
        ([0, 10, 20, 30, 44, 50], None),  # 14 after 10 a unit: under 1.5 times
        ([0, 10, 20, 30, 46, 50], 4.0),  # 16 after 10 a unit: over 1.5 times
    ],
)
def test_tipping_rule(reach: list[float], expected: float | None) -> None:
    curve = ReachCurve(np.arange(6.0), np.array(reach, dtype=float), [], np.zeros(6), 1)
    assert tipping_budget(curve) == expected


def test_bad_budgets() -> None:
    with pytest.raises(InvalidParameter, match="budgets"):
        reach_curve(tiny(), [1, -2])
    with pytest.raises(InvalidParameter, match="budgets"):
        reach_curve(tiny(), [])
