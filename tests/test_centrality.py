"""PageRank, degree, k-shell and betweenness against networkx, on random and real graphs."""

from __future__ import annotations

import types
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import grapevine.graph.centrality as centrality
from grapevine.errors import InvalidParameter, NotConverged
from grapevine.graph import Graph
from grapevine.graph.centrality import betweenness, in_degree, kcore, out_degree, pagerank


# ---------------------------------------------------------------------------- helpers
@st.composite
def small_graphs(draw: st.DrawFn, *, self_loops: bool = False) -> Graph:
    """Up to 12 nodes (isolated ones included), any arcs, positive weights."""
    n = draw(st.integers(1, 12))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    weights = draw(
        st.lists(st.floats(0.125, 8.0, width=32), min_size=len(pairs), max_size=len(pairs))
    )
    directed = draw(st.booleans())
    src = np.array([p[0] for p in pairs], dtype=np.int64)
    dst = np.array([p[1] for p in pairs], dtype=np.int64)
    return Graph.from_arrays(
        src, dst, np.array(weights), directed=directed, nodes=range(n), self_loops=self_loops
    )


def as_array(g: Graph, scores: dict) -> np.ndarray:
    return np.array([scores[i] for i in g.ids.tolist()], dtype=np.float64)


def simple_undirected(g: Graph) -> nx.Graph:
    h = nx.Graph(g.to_networkx())
    h.remove_edges_from(list(nx.selfloop_edges(h)))
    return h


def read_snap(path: Path) -> Graph:
    return Graph.from_edgelist(path, directed=True, weighted=False)


# ---------------------------------------------------------------------------- public surface
def test_public_namespace_is_all() -> None:
    public = {
        name
        for name, value in vars(centrality).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(centrality.__all__)


# ---------------------------------------------------------------------------- PageRank
@settings(max_examples=60, deadline=None)
@given(g=small_graphs(self_loops=True), weighted=st.booleans(), alpha=st.floats(0.5, 0.95))
def test_pagerank_matches_networkx(g: Graph, weighted: bool, alpha: float) -> None:
    ours = pagerank(g, alpha=alpha, weighted=weighted, tol=1e-12)
    ref = nx.pagerank(
        g.to_networkx(),
        alpha=alpha,
        weight="weight" if weighted else None,
        tol=1e-12,
        max_iter=10_000,
    )
    np.testing.assert_allclose(ours, as_array(g, ref), atol=1e-8)
    assert np.isfinite(ours).all()
    assert ours.sum() == pytest.approx(1.0)


def test_pagerank_does_not_change_when_nodes_are_relabelled() -> None:
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 30, 80), rng.integers(0, 30, 80)
    g = Graph.from_arrays(src, dst, nodes=range(30))
    perm = rng.permutation(30)
    h = Graph.from_arrays(perm[src], perm[dst], nodes=range(30))
    np.testing.assert_allclose(pagerank(h)[perm], pagerank(g), atol=1e-12)


def test_pagerank_raises_not_converged() -> None:
    g = Graph.from_edges([(0, 1), (1, 2), (2, 0), (0, 2)])
    with pytest.raises(NotConverged) as info:
        pagerank(g, max_iter=2)
    assert info.value.iterations == 2
    assert info.value.method == "pagerank"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
    ],
)
def test_pagerank_rejects_bad_parameters(kwargs: dict, name: str) -> None:
    g = Graph.from_edges([(0, 1)])
    with pytest.raises(InvalidParameter, match=f"'{name}' parameter of pagerank"):
        pagerank(g, **kwargs)


def test_bad_graph_and_negative_weights_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="grapevine Graph"):
        pagerank(nx.DiGraph([(0, 1)]))  # type: ignore[arg-type]
    g = Graph.from_arrays([0, 1], [1, 2], [1.0, -2.0])
    with pytest.raises(InvalidParameter, match="non-negative edge weights"):
        pagerank(g)
    assert np.isfinite(pagerank(g, weighted=False)).all()


def test_empty_and_edgeless_graphs() -> None:
    empty = Graph.from_edges([])
    for fn in (pagerank, in_degree, out_degree, kcore, betweenness):
        assert len(fn(empty)) == 0
    lonely = Graph.from_arrays([], [], nodes=["a", "b", "c"])
    np.testing.assert_allclose(pagerank(lonely), [1 / 3] * 3)
    assert kcore(lonely).tolist() == [0, 0, 0]
    assert betweenness(lonely).tolist() == [0.0, 0.0, 0.0]
    assert betweenness(lonely, exact=True).tolist() == [0.0, 0.0, 0.0]


def test_zero_weight_rows_are_dangling() -> None:
    g = Graph.from_arrays([0, 1], [1, 2], [0.0, 1.0])
    ref = nx.pagerank(g.to_networkx(), weight="weight", tol=1e-12)
    np.testing.assert_allclose(pagerank(g, tol=1e-12), as_array(g, ref), atol=1e-8)


# ---------------------------------------------------------------------------- degree
@settings(max_examples=60, deadline=None)
@given(g=small_graphs(), weighted=st.booleans())
def test_degrees_match_networkx(g: Graph, weighted: bool) -> None:
    h = g.to_networkx()
    w = "weight" if weighted else None
    if g.directed:
        ref_in, ref_out = dict(h.in_degree(weight=w)), dict(h.out_degree(weight=w))
    else:
        ref_in = ref_out = dict(h.degree(weight=w))
    np.testing.assert_allclose(in_degree(g, weighted=weighted), as_array(g, ref_in), rtol=1e-6)
    np.testing.assert_allclose(out_degree(g, weighted=weighted), as_array(g, ref_out), rtol=1e-6)


# ---------------------------------------------------------------------------- k-core
@settings(max_examples=80, deadline=None)
@given(g=small_graphs(self_loops=True))
def test_kcore_matches_networkx(g: Graph) -> None:
    ref = nx.core_number(simple_undirected(g))
    ours = kcore(g)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, as_array(g, ref))


def test_kcore_of_a_clique_with_a_tail() -> None:
    edges = [(a, b) for a in range(5) for b in range(a + 1, 5)] + [(4, 5), (5, 6)]
    assert kcore(Graph.from_edges(edges)).tolist() == [4, 4, 4, 4, 4, 1, 1]


# ---------------------------------------------------------------------------- betweenness
@settings(max_examples=60, deadline=None)
@given(g=small_graphs(self_loops=True))
def test_exact_betweenness_matches_networkx(g: Graph) -> None:
    h = g.to_networkx()
    h.remove_edges_from(list(nx.selfloop_edges(h)))
    ref = nx.betweenness_centrality(h, normalized=True)
    np.testing.assert_allclose(betweenness(g, exact=True), as_array(g, ref), atol=1e-12)


@pytest.mark.parametrize("directed", [True, False])
def test_approximate_betweenness_is_within_its_bound(directed: bool) -> None:
    h = nx.gnp_random_graph(120, 0.04, seed=7, directed=directed)
    g = Graph.from_arrays(
        [u for u, _ in h.edges()], [v for _, v in h.edges()], directed=directed, nodes=h.nodes
    )
    eps = 0.02
    approx = betweenness(g, epsilon=eps, delta=0.1, random_state=3)
    exact = as_array(g, nx.betweenness_centrality(h))
    n = g.n_nodes
    assert np.abs(approx - exact).max() <= eps * n / (n - 2)
    np.testing.assert_array_equal(approx, betweenness(g, epsilon=eps, random_state=3))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": 1.0}, "epsilon"),
        ({"delta": 1.0}, "delta"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_betweenness_rejects_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameter, match=f"'{name}' parameter of betweenness"):
        betweenness(Graph.from_edges([(0, 1), (1, 2)]), **kwargs)


def test_exact_betweenness_refuses_large_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    import grapevine.graph._centrality as impl

    monkeypatch.setattr(impl, "EXACT_BETWEENNESS_MAX_NODES", 3)
    with pytest.raises(InvalidParameter, match="'exact' parameter"):
        betweenness(Graph.from_edges([(0, 1), (1, 2), (2, 3)]), exact=True)


# ---------------------------------------------------------------------------- real graphs
@pytest.fixture(scope="module")
def email(data_dir: Path) -> Graph:
    return read_snap(data_dir / "graphs" / "email-Eu-core.txt.gz")


@pytest.fixture(scope="module")
def wiki_vote(data_dir: Path) -> Graph:
    return read_snap(data_dir / "graphs" / "wiki-Vote.txt")


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["email", "wiki_vote"])
def test_pagerank_and_kcore_on_real_graphs(name: str, request: pytest.FixtureRequest) -> None:
    g: Graph = request.getfixturevalue(name)
    h = g.to_networkx()
    np.testing.assert_allclose(pagerank(g), as_array(g, nx.pagerank(h, tol=1e-10)), atol=1e-9)
    np.testing.assert_array_equal(kcore(g), as_array(g, nx.core_number(simple_undirected(g))))
    np.testing.assert_allclose(in_degree(g), as_array(g, dict(h.in_degree())), rtol=0, atol=0)


@pytest.mark.shared_data
def test_approximate_betweenness_on_email(email: Graph) -> None:
    exact = betweenness(email, exact=True)
    approx = betweenness(email, epsilon=0.03, random_state=1)
    n = email.n_nodes
    assert np.abs(approx - exact).max() <= 0.03 * n / (n - 2)


@pytest.mark.shared_data
@pytest.mark.slow
def test_exact_betweenness_on_email_matches_networkx(email: Graph) -> None:
    ref = nx.betweenness_centrality(email.to_networkx())
    np.testing.assert_allclose(betweenness(email, exact=True), as_array(email, ref), atol=1e-12)


# ---------------------------------------------------------------------------- methods
@pytest.mark.parametrize(
    ("directed", "method", "eps"),
    [
        (True, "sources", 0.1),
        (False, "sources", 0.1),
        (False, "kadabra", 0.05),
        (True, "rk", 0.1),
        (False, "rk", 0.1),
        (True, "auto", 0.1),
        (False, "auto", 0.05),
    ],
)
def test_every_betweenness_method_is_within_its_bound(
    directed: bool, method: str, eps: float
) -> None:
    h = nx.barabasi_albert_graph(400, 2, seed=5)
    if directed:
        h = nx.DiGraph([(u, v) if (u + v) % 3 else (v, u) for u, v in h.edges()])
    g = Graph.from_arrays(
        [u for u, _ in h.edges()], [v for _, v in h.edges()], directed=directed, nodes=h.nodes
    )
    exact = as_array(g, nx.betweenness_centrality(h))
    approx = betweenness(g, epsilon=eps, method=method, random_state=2)
    assert np.abs(approx - exact).max() <= eps
    assert np.isfinite(approx).all()
    np.testing.assert_array_equal(
        approx, betweenness(g, epsilon=eps, method=method, random_state=2)
    )


def test_auto_runs_exact_when_sampling_would_need_every_source() -> None:
    h = nx.gnp_random_graph(60, 0.08, seed=1, directed=True)
    g = Graph.from_arrays([u for u, _ in h.edges()], [v for _, v in h.edges()], nodes=h.nodes)
    assert centrality.betweenness_sources_needed(60, 0.05, 0.1) >= 60
    np.testing.assert_allclose(
        betweenness(g, epsilon=0.05), as_array(g, nx.betweenness_centrality(h)), atol=1e-12
    )


def test_sources_needed_follows_hoeffding() -> None:
    need = centrality.betweenness_sources_needed
    assert need(2, 0.1, 0.1) == 0
    n, eps, delta = 10_000, 0.05, 0.1
    k = need(n, eps, delta)
    t = eps * (n - 1) / n
    assert 2 * n * np.exp(-2 * k * t * t) <= delta < 2 * n * np.exp(-2 * (k - 1) * t * t)
    assert need(n, eps / 2, delta) > 3.9 * k  # 1 / eps**2


def test_kadabra_refuses_directed_and_method_is_checked() -> None:
    g = Graph.from_edges([(0, 1), (1, 2), (2, 3)])
    with pytest.raises(InvalidParameter, match="'method' parameter of betweenness"):
        betweenness(g, method="kadabra")
    with pytest.raises(InvalidParameter, match="'method' parameter of betweenness"):
        betweenness(g, method="fast")


def test_exact_method_refuses_large_graphs(monkeypatch: pytest.MonkeyPatch) -> None:
    import grapevine.graph._centrality as impl

    monkeypatch.setattr(impl, "EXACT_BETWEENNESS_MAX_NODES", 3)
    with pytest.raises(InvalidParameter, match="'method' parameter of betweenness must be not"):
        betweenness(Graph.from_edges([(0, 1), (1, 2), (2, 3)]), method="exact")
