"""Leiden communities, modularity, brokerage and Burt's constraint."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.graph.centrality import brokerage, burt_constraint, communities, modularity


@st.composite
def small_graphs(draw: st.DrawFn) -> Graph:
    n = draw(st.integers(1, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    weights = draw(
        st.lists(st.floats(0.125, 8.0, width=32), min_size=len(pairs), max_size=len(pairs))
    )
    src = np.array([p[0] for p in pairs], dtype=np.int64)
    dst = np.array([p[1] for p in pairs], dtype=np.int64)
    return Graph.from_arrays(
        src,
        dst,
        np.array(weights),
        directed=draw(st.booleans()),
        nodes=range(n),
        self_loops=True,
    )


def undirected_weighted(g: Graph) -> nx.Graph:
    """The view the functions read: w(u, v) + w(v, u) per pair, no self-loops."""
    h = nx.Graph()
    h.add_nodes_from(range(g.n_nodes))
    for u, v, w in zip(g.sources().tolist(), g.indices.tolist(), g.weights.tolist(), strict=True):
        if u == v:
            continue
        if not g.directed and u > v:
            continue
        old = h.get_edge_data(u, v, {"weight": 0.0})["weight"]
        h.add_edge(u, v, weight=old + w)
    return h


TWO_TRIANGLES = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)]


# ---------------------------------------------------------------------------- communities
def test_two_triangles_and_an_isolated_node() -> None:
    g = Graph.from_arrays(
        [u for u, _ in TWO_TRIANGLES], [v for _, v in TWO_TRIANGLES], nodes=range(7), directed=False
    )
    labels = communities(g, random_state=0)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert modularity(g, labels) == pytest.approx(
        nx.community.modularity(undirected_weighted(g), [{0, 1, 2}, {3, 4, 5}, {6}])
    )


def test_communities_repeat_with_a_seed_and_are_numbered_by_size() -> None:
    h = nx.planted_partition_graph(4, 25, 0.4, 0.02, seed=1)
    g = Graph.from_arrays([u for u, _ in h.edges()], [v for _, v in h.edges()], directed=False)
    a, b = communities(g, random_state=5), communities(g, random_state=5)
    np.testing.assert_array_equal(a, b)
    sizes = np.bincount(a)
    assert (np.diff(sizes) <= 0).all()
    assert a.dtype == np.int64


def test_communities_edge_cases() -> None:
    assert communities(Graph.from_edges([])).tolist() == []
    lonely = Graph.from_arrays([], [], nodes=["a", "b"])
    assert communities(lonely).tolist() == [0, 1]
    with pytest.raises(InvalidParameter, match="'resolution' parameter of communities"):
        communities(lonely, resolution=-1.0)


@settings(max_examples=60, deadline=None)
@given(g=small_graphs(), seed=st.integers(0, 100))
def test_modularity_matches_networkx(g: Graph, seed: int) -> None:
    labels = np.random.default_rng(seed).integers(0, 3, g.n_nodes)
    h = undirected_weighted(g)
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    ours = modularity(g, labels)
    if h.number_of_edges() == 0:
        assert ours == 0.0
    else:
        assert ours == pytest.approx(nx.community.modularity(h, parts), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(g=small_graphs())
def test_leiden_gives_a_finite_partition_on_any_graph(g: Graph) -> None:
    labels = communities(g, random_state=0)
    assert labels.shape == (g.n_nodes,)
    assert set(labels.tolist()) == set(range(labels.max() + 1))
    assert np.isfinite(modularity(g, labels))


@pytest.mark.shared_data
def test_leiden_beats_louvain_on_email_eu_core(data_dir: Path) -> None:
    g = Graph.from_edgelist(data_dir / "graphs" / "email-Eu-core.txt.gz", weighted=False)
    labels = communities(g, weighted=False, random_state=0)
    h = undirected_weighted(g)  # a reciprocated pair weighs 2, as communities() reads it
    louvain = nx.community.modularity(h, nx.community.louvain_communities(h, seed=0))
    ours = modularity(g, labels, weighted=False)
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in range(labels.max() + 1)]
    assert ours == pytest.approx(nx.community.modularity(h, parts))
    assert ours >= louvain - 0.01


# ---------------------------------------------------------------------------- brokerage
def naive_brokerage(g: Graph, labels: np.ndarray) -> tuple[list[int], list[float]]:
    h = undirected_weighted(g)
    reach, share = [], []
    for u in range(g.n_nodes):
        nbrs = list(h.neighbors(u))
        reach.append(len({int(labels[v]) for v in nbrs}))
        share.append(sum(labels[v] != labels[u] for v in nbrs) / len(nbrs) if nbrs else 0.0)
    return reach, share


@settings(max_examples=60, deadline=None)
@given(g=small_graphs(), seed=st.integers(0, 100))
def test_brokerage_matches_a_naive_count(g: Graph, seed: int) -> None:
    labels = np.random.default_rng(seed).integers(0, 4, g.n_nodes)
    reach, share = naive_brokerage(g, labels)
    got = brokerage(g, labels)
    assert got.reach.tolist() == reach
    np.testing.assert_allclose(got.outside_share, share)


@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 2, 3], [0.5, 1.0, 0.0], [-1, 0, 0]], ids=str)
def test_brokerage_rejects_bad_labels(labels: list) -> None:
    g = Graph.from_edges([(0, 1), (1, 2)])
    with pytest.raises(InvalidParameter, match="'communities' parameter of brokerage"):
        brokerage(g, np.array(labels))


# ---------------------------------------------------------------------------- constraint
@settings(max_examples=80, deadline=None)
@given(g=small_graphs(), weighted=st.booleans())
def test_constraint_matches_networkx(g: Graph, weighted: bool) -> None:
    h = g.to_networkx()
    h.remove_edges_from(list(nx.selfloop_edges(h)))
    ref = nx.constraint(h, weight="weight" if weighted else None)
    expected = np.array([ref[i] for i in range(g.n_nodes)])
    isolated = np.isnan(expected)
    expected[isolated] = 0.0
    got = burt_constraint(g, weighted=weighted)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-9)
