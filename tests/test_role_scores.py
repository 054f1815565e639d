"""Influencer role scores: connectors, mavens, salesmen, with reasons and no NaN."""

from __future__ import annotations

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.roles import salesman_lift
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
    assert "KADABRA-sampled (epsilon=0.1)" in roles.loc[0, "connector_data"]


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


# ---------------------------------------------------------------------------- matched lift
def _exposure_world(
    seed: int, *, hub_share_a: float, true_lift_a: float, n_a: int = 300
) -> tuple[Graph, pd.DataFrame]:
    """Exposer "A" and ten others; hubs (degree 8) convert at 50%, leaves (degree 1) at 5%.

    Conversion depends on the exposed person's degree only, plus ``true_lift_a`` for the
    people A exposed. A picks hubs with probability ``hub_share_a``, the others with 0.2.
    """
    rng = np.random.default_rng(seed)
    exposers = ["A"] + [f"e{j}" for j in range(10)]
    rows = []
    src: list[str] = ["A", *exposers[1:]]
    dst: list[str] = [*exposers[1:], "A"]
    person = 0
    for who in exposers:
        count = n_a if who == "A" else 150
        share = hub_share_a if who == "A" else 0.2
        for _ in range(count):
            hub = rng.random() < share
            name = f"p{person}"
            person += 1
            for f in range(8 if hub else 1):
                src.append(name)
                dst.append(f"f{person}_{f}")
            p = (0.5 if hub else 0.05) + (true_lift_a if who == "A" else 0.0)
            rows.append((who, name, int(rng.random() < p)))
    g = Graph.from_arrays(src, dst, directed=False)
    return g, pd.DataFrame(rows, columns=["exposer", "exposed", "converted"])


def test_matched_lift_recovers_a_known_lift() -> None:
    g, conv = _exposure_world(1, hub_share_a=0.2, true_lift_a=0.2)
    roles = influencer_roles(g, conversions=conv, random_state=0).set_index("id")
    a = roles.loc["A"]
    assert a["salesman_rank"] == 1
    assert a["salesman_ci_low"] <= 0.2 <= a["salesman_ci_high"]
    assert a["salesman"] > 0.05
    others = roles.loc[[f"e{j}" for j in range(10)]]
    assert (others["salesman_ci_low"] <= 0.0).mean() >= 0.8  # no lift: CIs mostly cover 0
    assert "matched on exposure count, degree" in a["salesman_data"]


def test_matching_removes_confounding_that_the_naive_lift_keeps() -> None:
    g, conv = _exposure_world(2, hub_share_a=0.9, true_lift_a=0.0)
    roles = influencer_roles(g, conversions=conv, random_state=0).set_index("id")
    a = roles.loc["A"]
    assert a["salesman_naive_lift"] > 0.2  # A's people are hubs, who convert anyway
    assert a["salesman_ci_low"] <= 0.0 <= a["salesman_ci_high"]
    assert abs(a["salesman_lift"]) < 0.1
    assert a["salesman"] == 0.0


def test_naive_overstates_a_small_true_lift_several_times() -> None:
    g, conv = _exposure_world(3, hub_share_a=0.9, true_lift_a=0.05, n_a=2000)
    a = influencer_roles(g, conversions=conv, random_state=0).set_index("id").loc["A"]
    assert a["salesman_ci_low"] <= 0.05 <= a["salesman_ci_high"]
    assert a["salesman_naive_lift"] > 3 * a["salesman_lift"] > 0


def test_match_on_a_column() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for who, share in [("A", 0.9)] + [(f"e{j}", 0.2) for j in range(5)]:
        for i in range(200):
            rich = rng.random() < share
            rows.append((who, f"{who}-{i}", int(rng.random() < (0.4 if rich else 0.05)), rich))
    conv = pd.DataFrame(rows, columns=["exposer", "exposed", "converted", "segment"])
    g = Graph.from_edges([("A", f"e{j}") for j in range(5)], directed=False)
    plain = influencer_roles(g, conversions=conv, random_state=0).set_index("id").loc["A"]
    matched = influencer_roles(g, conversions=conv, match_on=["segment"], random_state=0)
    row = matched.set_index("id").loc["A"]
    assert plain["salesman"] > 0.0
    assert plain["salesman_lift"] > 0.15
    assert row["salesman"] == 0.0
    assert abs(row["salesman_lift"]) < 0.15  # 3 standard errors of a null lift
    assert "segment" in row["salesman_data"]
    with pytest.raises(InvalidParameter, match="'match_on' parameter"):
        influencer_roles(g, conversions=conv, match_on=["nope"])
    with pytest.raises(InvalidParameter, match="'match_on' parameter"):
        influencer_roles(g, conversions=conv, match_on="segment")


def test_too_few_matched_exposures_is_not_enough_data() -> None:
    # A exposes 30 people once each; every comparison person was exposed 3 times
    rows = [("A", f"a{i}", 1) for i in range(30)]
    rows += [(None, f"o{i}", 0) for i in range(40) for _ in range(3)]
    rows += [("A", "o0", 0)]  # one of A's exposed shares a stratum with nobody... or some
    conv = pd.DataFrame(rows, columns=["exposer", "exposed", "converted"])
    g = Graph.from_edges([("A", "B")], directed=False)
    a = influencer_roles(g, conversions=conv, random_state=0).set_index("id").loc["A"]
    assert a["salesman"] == 0.0
    assert a["salesman_reason"].startswith("not enough data: 1 of 31 exposures have comparable")
    _no_nan(influencer_roles(g, conversions=conv, random_state=0))


# ---------------------------------------------------------------------------- estimator twin
def test_estimator_matches_the_function() -> None:
    from grapevine.roles import InfluencerRoles

    g = _cliques_with_bridge()
    conv = _conversions()
    est = InfluencerRoles(min_exposures=10, random_state=0)
    assert est.fit(g, conversions=conv) is est
    ref = influencer_roles(g, conversions=conv, min_exposures=10, random_state=0)
    pd.testing.assert_frame_equal(est.scores_, ref)
    assert est.n_nodes_ == 12
    top = est.top("salesman", 5)
    assert top["id"].tolist() == [0, 2]  # 1 has too few exposures, the rest none
    assert est.top("connector", 1)["id"].tolist() == [5]
    with pytest.raises(InvalidParameter, match="'role' parameter"):
        est.top("guru")


def test_estimator_before_fit() -> None:
    from grapevine.errors import BadInput
    from grapevine.roles import InfluencerRoles

    with pytest.raises(BadInput, match="not fitted yet"):
        InfluencerRoles().top("maven")


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 13)),  # 12 and 13 are not in the graph
            st.integers(0, 30),
            st.integers(0, 1),
            st.floats(0, 100),
        ),
        max_size=120,
    ),
    min_exposures=st.integers(1, 5),
)
def test_salesman_lift_is_always_defined(
    rows: list[tuple[int | None, int, int, float]], min_exposures: int
) -> None:
    conv = pd.DataFrame(rows, columns=["exposer", "exposed", "converted", "time"])
    g = _cliques_with_bridge()
    res = salesman_lift(g, conv, min_exposures=min_exposures)
    for arr in (res.score, res.lift, res.low, res.high, res.naive):
        assert np.isfinite(arr).all()
    assert ((res.score >= 0) & (res.score <= 1)).all()
    assert (res.low <= res.lift + 1e-12).all()
    assert (res.lift <= res.high + 1e-12).all()
    assert (res.matched <= res.exposures).all()
    has = np.array([not r.startswith(("no data", "not enough data")) for r in res.reasons])
    assert (res.score[~has] == 0).all()
    assert (res.matched[has] >= min_exposures).all()


@pytest.mark.parametrize("labels", [None, [f"p{(7 * i) % 12:02d}" for i in range(12)]])
def test_ties_are_broken_by_the_second_measure_then_by_id(labels: list[object] | None) -> None:
    from grapevine.roles import TIE_BREAK

    roles = influencer_roles(_cliques_with_bridge(labels), random_state=0)
    for role in SCORES:
        order = roles[f"{role}_order"].to_numpy()
        assert sorted(order.tolist()) == list(range(1, len(roles) + 1))  # strict: no ties
        by_order = roles.sort_values(f"{role}_order")
        expected = roles.assign(_second=-roles[TIE_BREAK[role]].astype(float)).sort_values(
            [role, "_second", "id"], ascending=[False, True, True], kind="stable"
        )
        assert by_order["id"].tolist() == expected["id"].tolist()
        # the shared rank stays: tied scores keep one rank, the order breaks them
        assert (by_order[f"{role}_rank"].diff().dropna() >= 0).all()
    # the plain clique members tie on every connector measure: the id settles them
    assert roles["connector_rank"].duplicated().any()
    ids = roles.sort_values("connector_order")["id"].tolist()
    name = (lambda x: x) if labels is None else labels.__getitem__
    assert ids[0] == name(5)
    members = [name(i) for i in (0, 1, 2, 3, 7, 8, 9, 10)]
    assert [i for i in ids if i in members] == sorted(members)
