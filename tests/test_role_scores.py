"""Influencer role scores: connectors, mavens, salesmen, with reasons and no NaN."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.roles._scores import influencer_roles

SCORES = ["connector", "maven", "salesman"]


def _cliques_with_bridge(labels: list[object] | None = None) -> Graph:
    """Two 5-cliques (0-4, 6-10) joined through node 5; node 11 isolated."""
    left = [(a, b) for a in range(5) for b in range(a + 1, 5)]
    right = [(a + 6, b + 6) for a, b in left]
    edges = [*left, *right, (4, 5), (5, 6)]
    name = (lambda x: x) if labels is None else labels.__getitem__
    return Graph.from_arrays(
        [name(a) for a, _ in edges],
        [name(b) for _, b in edges],
        directed=False,
        nodes=[name(i) for i in range(12)],
    )


def _no_nan(frame: pd.DataFrame) -> None:
    assert not frame.isna().any().any()
    for role in SCORES:
        assert frame[role].between(0.0, 1.0).all()
        assert frame[f"{role}_reason"].map(lambda s: isinstance(s, str) and s != "").all()
        assert frame[f"{role}_data"].map(lambda s: isinstance(s, str) and s != "").all()


# ---------------------------------------------------------------------------- connector
def test_bridge_between_cliques_ranks_first() -> None:
    roles = influencer_roles(_cliques_with_bridge(), random_state=0).set_index("id")
    assert roles.loc[5, "connector_rank"] == 1
    assert roles["connector"].idxmax() == 5
    assert roles.loc[5, "connector_reason"].startswith("bridges 2 communities")
    assert "top 9% of betweenness" in roles.loc[5, "connector_reason"]
    assert roles.loc[11, "connector"] == 0.0
    assert roles.loc[11, "connector_reason"].startswith("no data")
    _no_nan(roles.reset_index())


def test_relabelling_nodes_does_not_change_scores() -> None:
    names = [f"p{(7 * i) % 12:02d}" for i in range(12)]  # a permutation of labels
    base = influencer_roles(_cliques_with_bridge(), random_state=0)
    other = influencer_roles(_cliques_with_bridge(names), random_state=0)
    other = other.set_index("id").loc[names].reset_index(drop=True)
    for col in [*SCORES, *(f"{r}_rank" for r in SCORES), "connector_reason"]:
        npt.assert_array_equal(base[col].to_numpy(), other[col].to_numpy())


def test_directed_graph_self_loops_multi_edges_and_disconnected() -> None:
    g = Graph.from_edges([(0, 1), (0, 1), (1, 1), (1, 2), (3, 4), (5, 5)], directed=True)
    roles = influencer_roles(g, random_state=1)
    _no_nan(roles)
    assert roles.loc[roles["id"] == 1, "connector_rank"].item() == 1
    assert roles.loc[roles["id"] == 5, "connector_reason"].item().startswith("no data")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_graphs(n: int) -> None:
    g = Graph.from_arrays([], [], nodes=list(range(n)))
    roles = influencer_roles(g)
    assert len(roles) == n
    _no_nan(roles)


def test_approximate_betweenness_on_a_larger_graph() -> None:
    rng = np.random.default_rng(0)
    src = rng.integers(0, 2500, 10_000)
    dst = rng.integers(0, 2500, 10_000)
    g = Graph.from_arrays(src, dst, directed=True, nodes=range(2500))
    roles = influencer_roles(g, betweenness_epsilon=0.1, random_state=0)
    _no_nan(roles)
    assert "approximate (epsilon=0.1)" in roles.loc[0, "connector_data"]


# ---------------------------------------------------------------------------- maven
def test_maven_always_first() -> None:
    rows = []
    for c in range(5):
        order = [3, *(u for u in (0, 1, 2, 4) if (u + c) % 2 == 0), 5]
        rows += [(u, float(t), f"c{c}") for t, u in enumerate(order)]
    rows.append((7, 0.0, "c9"))
    adoptions = pd.DataFrame(rows, columns=["user", "time", "cascade"])
    roles = influencer_roles(_cliques_with_bridge(), adoptions=adoptions, random_state=0)
    roles = roles.set_index("id")
    assert roles.loc[3, "maven"] == 1.0
    assert roles.loc[3, "maven_rank"] == 1
    assert roles.loc[3, "maven_reason"] == (
        "adopts before 100% of the other adopters on average; started 5 of 5 cascades"
    )
    assert roles.loc[5, "maven"] == 0.0  # always last: 5 cascades, no credit
    assert roles.loc[5, "maven_data"] == "5 cascades"
    assert roles.loc[7, "maven"] == 0.0
    assert roles.loc[7, "maven_reason"] == "no data: fewer than 3 cascades (1)"
    assert roles.loc[11, "maven_data"] == "no data"
    _no_nan(roles.reset_index())


def test_maven_ties_do_not_depend_on_row_order() -> None:
    rows = [(u, 0.0 if u < 2 else 1.0, c) for c in range(3) for u in range(4)]
    a = pd.DataFrame(rows, columns=["user", "time", "cascade"])
    g = _cliques_with_bridge()
    one = influencer_roles(g, adoptions=a, random_state=0)
    two = influencer_roles(g, adoptions=a.iloc[::-1], random_state=0)
    npt.assert_array_equal(one["maven"], two["maven"])
    assert one.loc[0, "maven"] == one.loc[1, "maven"] > one.loc[2, "maven"] == one.loc[3, "maven"]
    assert one.loc[0, "maven_reason"].endswith("started 3 of 3 cascades")


# ---------------------------------------------------------------------------- salesman
def _conversions() -> pd.DataFrame:
    rows = [(0, f"a{i}", int(i < 24)) for i in range(30)]  # 80% of 30
    rows += [(1, f"b{i}", 1) for i in range(3)]  # 100%, but only 3
    rows += [(None, f"o{i}", int(i < 10)) for i in range(100)]  # 10% organic comparison
    rows += [(2, f"c{i}", int(i < 3)) for i in range(30)]  # 10%, like the base
    rows += [(0, "a0", 1), ("stranger", "z", 1)]  # a repeated pair; an exposer not in the graph
    return pd.DataFrame(rows, columns=["exposer", "exposed", "converted"])


def test_salesman_with_clear_lift_and_one_with_too_little_data() -> None:
    roles = influencer_roles(_cliques_with_bridge(), conversions=_conversions(), random_state=0)
    roles = roles.set_index("id")
    assert roles.loc[0, "salesman_rank"] == 1
    assert 0.4 < roles.loc[0, "salesman"] < 0.8
    assert roles.loc[0, "exposures"] == 30
    assert roles.loc[0, "salesman_reason"].startswith("80% of 30 exposed converted vs")
    assert roles.loc[1, "salesman"] == 0.0
    assert roles.loc[1, "salesman_reason"] == "not enough data: 3 exposures (need 20)"
    assert roles.loc[2, "salesman"] == 0.0  # no lift over the base rate
    assert roles.loc[2, "salesman_data"].startswith("30 exposures")
    assert roles.loc[11, "salesman_data"] == "no data"
    assert roles.loc[11, "salesman_reason"] == "no data: exposed no one"
    _no_nan(roles.reset_index())


def test_salesman_without_comparison_group() -> None:
    conv = pd.DataFrame({"exposer": [0] * 25, "exposed": range(25), "converted": [1] * 25})
    roles = influencer_roles(_cliques_with_bridge(), conversions=conv, random_state=0)
    assert roles.loc[0, "salesman"] == 0.0
    assert roles.loc[0, "salesman_reason"].startswith("no data: no comparison group")


# ---------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "kwargs",
    [
        {"betweenness_epsilon": 0.0},
        {"betweenness_epsilon": 1.0},
        {"min_cascades": 0},
        {"min_exposures": 0},
        {"confidence": 1.0},
        {"random_state": -1},
        {"adoptions": [[(0, 1.0)]]},
        {"conversions": pd.DataFrame({"exposer": [0]})},
        {"conversions": pd.DataFrame({"exposer": [0], "exposed": [1], "converted": [2]})},
    ],
)
def test_bad_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter):
        influencer_roles(_cliques_with_bridge(), **kwargs)  # type: ignore[arg-type]


def test_not_a_graph() -> None:
    with pytest.raises(InvalidParameter, match="'graph' parameter of influencer_roles"):
        influencer_roles("nope")  # type: ignore[arg-type]
