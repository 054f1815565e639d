"""plan_seeds: one plan per question (k, budget, discount), JSON round trip, progress."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import SeedPlan, plan_seeds


@pytest.fixture
def two_stars() -> Graph:
    # hub 0 reaches 1..6, hub 10 reaches 11..13: with p = 1 the best single seed is 0.
    edges = [(0, i) for i in range(1, 7)] + [(10, i) for i in range(11, 14)]
    return Graph.from_edges(edges)


def test_k_seeds_with_gains_and_reach_by_round(two_stars: Graph) -> None:
    seen: list[tuple[float, str]] = []
    plan = plan_seeds(
        two_stars, k=2, probabilities=1.0, runs=50, steps=2,
        progress=lambda f, m: seen.append((f, m)),
    )  # fmt: skip
    assert [row["seed"] for row in plan.seeds] == [0, 10]
    assert [row["marginal_gain"] for row in plan.seeds] == pytest.approx([7, 4], rel=0.1)
    assert plan.seeds[-1]["cumulative"] == pytest.approx(11, rel=0.1)
    assert [r["mean"] for r in plan.reach_by_step] == [2.0, 11.0, 11.0]
    assert plan.simulated["mean"] == 11.0
    assert plan.simulated["runs"] == 50
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_budget_plan_respects_costs(two_stars: Graph) -> None:
    costs = np.ones(two_stars.n_nodes)
    costs[two_stars.index_of([0])] = 5.0
    plan = plan_seeds(two_stars, mode="budget", budget=2.0, costs=costs, probabilities=1.0,
                      runs=20)  # fmt: skip
    assert plan.spent <= 2.0
    assert 0 not in [row["seed"] for row in plan.seeds]
    assert all("cost" in row for row in plan.seeds)


def test_discount_plan(two_stars: Graph) -> None:
    plan = plan_seeds(two_stars, mode="discount", budget=1.0, probabilities=1.0, runs=50,
                      steps=2, random_state=1)  # fmt: skip
    assert plan.spent <= 1.0 + 1e-9
    assert all(0 < row["discount"] <= 1 and 0 <= row["probability"] <= 1 for row in plan.seeds)
    assert plan.reach_by_step[0]["step"] == 0


def test_round_trip_through_json(two_stars: Graph) -> None:
    plan = plan_seeds(two_stars, k=1, probabilities=1.0, runs=10)
    again = SeedPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"mode": "x"}, "mode"), ({"k": 99}, "k"), ({"mode": "budget", "budget": 0.5}, "budget"),
     ({"mode": "discount", "budget": 0.01}, "budget"), ({"runs": 0}, "runs")],
)  # fmt: skip
def test_bad_choices(two_stars: Graph, kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameter, match=f"'{name}' parameter"):
        plan_seeds(two_stars, **kwargs)
