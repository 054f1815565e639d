"""The CSR Graph: construction, correctness against naive references and networkx, export."""

from __future__ import annotations

import functools
import gzip
import random
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter, UnknownPerson
from grapevine.graph import BuildReport, Graph, read_edgelist
from naive import (
    adjacency_sets,
    graph_to_adjacency,
    in_adjacency,
    in_degrees,
    naive_graph,
    normalise_label,
    out_degrees,
    read_pairs,
)
from naive import weighted_cascade as naive_wc
from support import write_bytes


def assert_csr_invariants(g: Graph) -> None:
    assert g.indptr.dtype == np.int64
    assert g.indptr[0] == 0
    assert len(g.indptr) == g.n_nodes + 1
    assert np.all(np.diff(g.indptr) >= 0)
    assert g.indptr[-1] == g.n_edges == len(g.weights)
    assert g.weights.dtype == np.float32
    # arcs sorted by (source, target) and distinct: each row sorted, no repeated arc
    key = g.sources().astype(np.int64) * max(g.n_nodes, 1) + g.indices
    assert np.all(np.diff(key) > 0)


# ---------------------------------------------------------------------------- construction
def test_docstring_example() -> None:
    g = Graph.from_edges([("a", "b"), ("a", "c"), ("b", "c")])
    assert (g.n_nodes, g.n_edges) == (3, 3)
    assert g.ids.tolist() == ["a", "b", "c"]
    assert g.out_neighbors("a").tolist() == ["b", "c"]
    assert g.in_neighbors("c").tolist() == ["a", "b"]
    assert g.in_degree().tolist() == [0, 1, 2]
    assert g.out_degree().tolist() == [2, 1, 0]
    assert g.weighted_cascade().tolist() == [1.0, 0.5, 0.5]
    assert repr(g) == "<Graph directed: 3 nodes, 3 arcs>"
    assert_csr_invariants(g)


def test_from_arrays_numbers_nodes_in_sorted_label_order() -> None:
    g = Graph.from_arrays([30, 10, 20], [10, 20, 30])
    assert g.ids.tolist() == [10, 20, 30]
    assert g.indptr.tolist() == [0, 1, 2, 3]
    assert g.indices.tolist() == [1, 2, 0]
    assert g.sources().tolist() == [0, 1, 2]
    assert_csr_invariants(g)


def test_from_arrays_isolated_nodes_and_weights() -> None:
    g = Graph.from_arrays(["a", "b"], ["b", "c"], [0.25, 4.0], nodes=["z", "a"])
    assert g.ids.tolist() == ["a", "b", "c", "z"]
    assert g.out_degree().tolist() == [1, 1, 0, 0]
    assert g.weights.tolist() == [0.25, 4.0]
    assert g.out_neighbors("z").tolist() == []
    assert g.in_neighbors("z").tolist() == []


@pytest.mark.parametrize(("multi_edges", "weight_ab"), [("sum", 6.0), ("first", 1.0), ("max", 3.0)])
def test_multi_edges_policies(multi_edges: str, weight_ab: float) -> None:
    g = Graph.from_arrays(
        ["a", "a", "a", "b"], ["b", "b", "b", "a"], [1.0, 3.0, 2.0, 5.0], multi_edges=multi_edges
    )  # type: ignore[arg-type]
    assert graph_to_adjacency(g) == {"a": {"b": weight_ab}, "b": {"a": 5.0}}
    assert g.report == BuildReport(
        edges_read=4, multi_edges=2, self_loops=0, self_loops_dropped=True
    )


def test_self_loops_dropped_by_default_but_counted() -> None:
    g = Graph.from_arrays([1, 1, 2, 3], [1, 2, 2, 1])
    assert graph_to_adjacency(g) == {1: {2: 1.0}, 2: {}, 3: {1: 1.0}}
    assert g.report is not None
    assert (g.report.self_loops, g.report.self_loops_dropped) == (2, True)
    assert g.report.lines() == ["4 edges read", "2 self-loops dropped"]
    kept = Graph.from_arrays([1, 1, 2, 3], [1, 2, 2, 1], self_loops=True)
    assert graph_to_adjacency(kept) == {1: {1: 1.0, 2: 1.0}, 2: {2: 1.0}, 3: {1: 1.0}}
    assert kept.report is not None
    assert kept.report.lines() == ["4 edges read", "2 self-loops kept"]


def test_undirected_stores_both_arcs_and_a_loop_once() -> None:
    g = Graph.from_arrays([1, 2, 3], [2, 3, 3], directed=False, self_loops=True)
    assert graph_to_adjacency(g) == {1: {2: 1.0}, 2: {1: 1.0, 3: 1.0}, 3: {2: 1.0, 3: 1.0}}
    assert g.n_edges == 5
    assert not g.directed
    assert repr(g) == "<Graph undirected: 3 nodes, 5 arcs>"


def test_undirected_multi_edges_counted_once_per_edge() -> None:
    g = Graph.from_arrays([1, 2, 1], [2, 1, 2], directed=False)
    assert graph_to_adjacency(g) == {1: {2: 3.0}, 2: {1: 3.0}}
    assert g.report is not None
    assert g.report.multi_edges == 2
    assert g.report.lines() == ["3 edges read", "2 repeated edges merged (multi-edges)"]


def test_undirected_repeated_self_loops_are_counted_as_multi_edges() -> None:
    # BUG (src/grapevine/graph/_graph.py, Graph.from_arrays, `n_multi //= 2`): for an
    # undirected graph with self_loops=True, a repeated self-loop is stored as ONE arc, yet
    # the repeat count is halved like a two-arc edge. Edges (1,2),(1,2),(3,3),(3,3) have two
    # repeated edges; the report says 1.
    g = Graph.from_arrays([1, 1, 3, 3], [2, 2, 3, 3], directed=False, self_loops=True)
    assert graph_to_adjacency(g) == {1: {2: 2.0}, 2: {1: 2.0}, 3: {3: 2.0}}
    assert g.report is not None
    assert g.report.multi_edges == 2


def test_undirected_first_policy_gives_both_arcs_the_same_weight() -> None:
    # BUG (src/grapevine/graph/_graph.py, Graph.from_arrays, multi_edges="first" with
    # directed=False): the reversed copies are appended after all originals, so arc a->b
    # keeps the first edge written "a b" while arc b->a keeps the first written "b a".
    # Edges [("b","a",1), ("a","b",2)] give a->b weight 2 but b->a weight 1: one undirected
    # edge with two different weights. The first edge in the input ({a,b}, weight 1) should win.
    g = Graph.from_arrays(["b", "a"], ["a", "b"], [1.0, 2.0], directed=False, multi_edges="first")
    assert graph_to_adjacency(g) == {"a": {"b": 1.0}, "b": {"a": 1.0}}


def test_from_edges_with_and_without_weights() -> None:
    g = Graph.from_edges([(1, 2, 0.5), (2, 3), (1, 2, 0.25)])
    assert graph_to_adjacency(g) == {1: {2: 0.75}, 2: {3: 1.0}, 3: {}}
    empty = Graph.from_edges([])
    assert (empty.n_nodes, empty.n_edges) == (0, 0)
    assert empty.in_degree().tolist() == []


def test_from_pandas() -> None:
    df = pd.DataFrame({"src": ["x", "y", "x"], "dst": ["y", "z", "y"], "w": [0.5, 0.2, 0.1]})
    g = Graph.from_pandas(df, "src", "dst", "w")
    adjacency = graph_to_adjacency(g)
    assert adjacency["x"] == pytest.approx({"y": 0.6})
    assert adjacency["y"] == pytest.approx({"z": 0.2})
    assert adjacency["z"] == {}
    g_max = Graph.from_pandas(df, "src", "dst", "w", multi_edges="max")
    assert graph_to_adjacency(g_max)["x"]["y"] == pytest.approx(0.5)
    unweighted = Graph.from_pandas(df.rename(columns={"src": "source", "dst": "target"}))
    assert graph_to_adjacency(unweighted) == {"x": {"y": 2.0}, "y": {"z": 1.0}, "z": {}}
    with pytest.raises(InvalidParameter, match="a DataFrame with a 'weight' column"):
        Graph.from_pandas(df, "src", "dst", "weight")


def test_from_edgelist_files(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "e.txt", b"# c\n1 2 0.5\n2 3 0.25\n1 2 1.0\n")
    g = Graph.from_edgelist(path)
    assert graph_to_adjacency(g) == {1: {2: 1.5}, 2: {3: 0.25}, 3: {}}
    unweighted = Graph.from_edgelist(path, weighted=False)
    assert graph_to_adjacency(unweighted) == {1: {2: 2.0}, 2: {3: 1.0}, 3: {}}
    undirected = Graph.from_edgelist(path, directed=False, multi_edges="max")
    assert graph_to_adjacency(undirected) == {1: {2: 1.0}, 2: {1: 1.0, 3: 0.25}, 3: {2: 0.25}}
    two = write_bytes(tmp_path / "two.txt", b"ann bob\nbob cy\n")
    with pytest.raises(InvalidParameter, match="'weighted' parameter"):
        Graph.from_edgelist(two, weighted=True)
    assert Graph.from_edgelist(two).ids.tolist() == ["ann", "bob", "cy"]


def test_first_line_of_column_words_is_a_header(tmp_path: Path) -> None:
    # Documented heuristic: a first line made only of column words (source, target, u, v,
    # a, b, i, j, ...) is a header, so an edge list of such names loses its first edge
    # unless header="none" is given.
    path = write_bytes(tmp_path / "ab.txt", b"a b\nb c\n")
    assert read_edgelist(path).header == "names"
    assert Graph.from_edgelist(path).ids.tolist() == ["b", "c"]
    assert Graph.from_edgelist(path, header="none").ids.tolist() == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("content", "expected", "header"),
    [
        (b"source,target\n1,2\n2,3\n", {1: {2: 1.0}, 2: {3: 1.0}, 3: {}}, "names"),
        (b"u\tv\tweight\n1\t2\t0.5\n", {1: {2: 0.5}, 2: {}}, "names"),
        (b"3 2\n0 1\n1 2\n", {0: {1: 1.0}, 1: {2: 1.0}, 2: {}}, "counts"),
        (b"7 8\n0 1\n", {0: {1: 1.0}, 1: {}, 7: {8: 1.0}, 8: {}}, "none"),  # 7 8 is an edge
        (b"1 2\n", {1: {2: 1.0}, 2: {}}, "none"),  # one line: an edge, not counts of nothing
        (b"0:1,2\n1:\n2:0\n", {0: {1: 1.0, 2: 1.0}, 1: {}, 2: {0: 1.0}}, "none"),
        (
            b"alice;bob\nbob;carol\n",
            {"alice": {"bob": 1.0}, "bob": {"carol": 1.0}, "carol": {}},
            "none",
        ),
    ],
    ids=[
        "csv-names",
        "tsv-weighted",
        "counts-header",
        "two-ints-not-counts",
        "one-line",
        "adjacency",
        "semi",
    ],
)
def test_read_edgelist_formats(tmp_path: Path, content: bytes, expected: dict, header: str) -> None:
    path = write_bytes(tmp_path / "g.txt", content)
    assert read_edgelist(path).header == header
    assert graph_to_adjacency(Graph.from_edgelist(path)) == expected


@pytest.mark.parametrize(
    ("content", "line", "field", "message"),
    [
        (b"1 2\n3 4\n5\n", 3, None, "expected 2 fields (source, target), found 1"),
        (b"1 2 0.5\n3 4 x\n", 2, "weight", "expected a number, got 'x'"),
        (b"# c\n\n1 2 0.5\n3 4 nan\n", 4, "weight", "expected a finite number, got 'nan'"),
        (b"0:1,2\n1:3,x\n", 2, "neighbour", "expected an integer, got b'x'"),
        (b"0:1\n-1:2\n", 2, "node", "expected 'node:neighbour,neighbour,...'"),
    ],
)
def test_read_edgelist_bad_input(
    tmp_path: Path, content: bytes, line: int, field: str | None, message: str
) -> None:
    path = write_bytes(tmp_path / "bad.txt", content)
    with pytest.raises(BadInput) as info:
        read_edgelist(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)
    assert info.value.message == message


@pytest.mark.parametrize("content", [b"", b"# only comments\n", b"source,target\n"])
def test_read_edgelist_no_edges(tmp_path: Path, content: bytes) -> None:
    path = write_bytes(tmp_path / "empty.txt", content)
    with pytest.raises(BadInput, match="no edges"):
        read_edgelist(path)


def test_read_edgelist_adjacency_overflow_is_bad_input(tmp_path: Path) -> None:
    # BUG (src/grapevine/graph/_read.py, _read_adjacency): a neighbour or node id beyond
    # int64 raises OverflowError ("Python int too large to convert to C long") instead of
    # BadInput naming the line and field.
    path = write_bytes(tmp_path / "adj.txt", b"0:1\n1:2,99999999999999999999999\n")
    with pytest.raises(BadInput) as info:
        read_edgelist(path)
    assert info.value.line == 2


def test_invalid_parameters() -> None:
    with pytest.raises(InvalidParameter, match=r"'multi_edges' parameter of Graph\.from_arrays"):
        Graph.from_arrays([1], [2], multi_edges="mean")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="'targets' parameter"):
        Graph.from_arrays([1, 2], [2])
    with pytest.raises(InvalidParameter, match="'weights' parameter"):
        Graph.from_arrays([1, 2], [2, 3], [1.0])
    with pytest.raises(InvalidParameter, match="'indptr' parameter of Graph"):
        Graph(np.array([0, 2, 1]), np.array([0, 1]))
    with pytest.raises(InvalidParameter, match="'indices' parameter of Graph"):
        Graph(np.array([0, 1]), np.array([5]))
    with pytest.raises(InvalidParameter, match="'ids' parameter of Graph"):
        Graph(np.array([0, 1]), np.array([0]), ids=["a", "b"])
    g = Graph.from_edges([(1, 2)])
    with pytest.raises(InvalidParameter, match=r"'p' parameter of Graph\.uniform"):
        g.uniform(1.5)
    with pytest.raises(InvalidParameter, match=r"'model' parameter of Graph\.probabilities"):
        g.probabilities("lt")


def test_unknown_person() -> None:
    g = Graph.from_edges([(1, 2), (2, 3)])
    assert g.index_of([3, 1]).tolist() == [2, 0]
    assert g.index_of(["2"]).tolist() == [1]  # string ids of an int graph are converted
    with pytest.raises(UnknownPerson, match=r"Unknown person 9 in the graph\."):
        g.out_neighbors(9)
    with pytest.raises(UnknownPerson):
        g.in_neighbors("bob")


def test_probabilities() -> None:
    g = Graph.from_edges([("a", "c", 0.5), ("b", "c", 0.25), ("c", "a", 1.0)])
    # arcs a->c, b->c, c->a: in-degree of c is 2, of a is 1
    np.testing.assert_array_equal(g.probabilities("wc"), np.array([0.5, 0.5, 1.0], np.float32))
    np.testing.assert_array_equal(g.probabilities("uniform", p=0.2), np.full(3, 0.2, np.float32))
    np.testing.assert_array_equal(g.probabilities("weight"), g.weights)
    assert g.probabilities("weight") is not g.weights
    heavy = Graph.from_edges([("a", "b", 2.0)])
    with pytest.raises(InvalidParameter, match="'weight' only when weights lie in"):
        heavy.probabilities("weight")


def test_trivalency_is_reproducible() -> None:
    g = Graph.from_arrays(np.arange(3000), (np.arange(3000) * 7 + 1) % 3000)
    a = g.trivalency(random_state=7)
    b = g.probabilities("trivalency", random_state=7)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert len(a) == g.n_edges
    assert set(np.unique(a).tolist()) == set(np.float32([0.1, 0.01, 0.001]).tolist())
    assert not np.array_equal(a, g.trivalency(random_state=8))
    counts = Counter(a.tolist())
    assert all(900 < c < 1100 for c in counts.values())  # each value about a third
    custom = g.trivalency((0.5, 0.25), random_state=1)
    assert set(np.unique(custom).tolist()) == {0.25, 0.5}


def test_to_scipy_matches_csr() -> None:
    g = Graph.from_edges([(1, 2, 0.5), (2, 3, 2.0), (3, 1, 1.0)])
    m = g.to_scipy()
    assert m.shape == (3, 3)
    assert m.toarray().tolist() == [[0, 0.5, 0], [0, 0, 2.0], [1.0, 0, 0]]


def test_edges_frame() -> None:
    g = Graph.from_edges([("b", "a", 2.0), ("a", "c")])
    frame = g.edges()
    assert frame.to_dict("records") == [
        {"source": "a", "target": "c", "weight": 1.0},
        {"source": "b", "target": "a", "weight": 2.0},
    ]


@pytest.mark.parametrize("directed", [True, False])
def test_to_networkx_round_trip(directed: bool) -> None:
    edges = [(1, 2, 0.5), (2, 3, 2.0), (3, 1, 1.0), (4, 1, 0.25)]
    g = Graph.from_edges(edges, directed=directed)
    h = g.to_networkx()
    assert h.is_directed() is directed
    assert sorted(h.nodes) == [1, 2, 3, 4]
    if directed:
        assert sorted(h.edges(data="weight")) == sorted(edges)
    else:
        assert {frozenset((u, v)): w for u, v, w in h.edges(data="weight")} == {
            frozenset((u, v)): w for u, v, w in edges
        }
    back = Graph.from_edges(list(h.edges(data="weight")), directed=directed)
    assert graph_to_adjacency(back) == graph_to_adjacency(g)
    np.testing.assert_array_equal(back.indptr, g.indptr)
    np.testing.assert_array_equal(back.indices, g.indices)


# ---------------------------------------------------------------------------- GEXF
@pytest.mark.parametrize("directed", [True, False])
def test_write_gexf_reads_back_in_networkx(tmp_path: Path, directed: bool) -> None:
    g = Graph.from_edges(
        [("ann", "bob", 2.0), ("bob", "cy", 1.0), ("cy", "ann", 0.5), ("dee", "ann", 1.0)],
        directed=directed,
    )
    attrs = {
        "score": np.array([0.5, 1.5, 2.5, 3.5]),
        "rank": np.array([4, 3, 2, 1], dtype=np.int64),
        "seed": np.array([True, False, False, True]),
        "group": np.array(["x", "y & z", "<w>", "v"]),
    }
    path = tmp_path / "g.gexf"
    g.write_gexf(path, node_attributes=attrs)
    h = nx.read_gexf(path, relabel=True)
    assert h.is_directed() is directed
    assert sorted(h.nodes) == ["ann", "bob", "cy", "dee"]
    expected_edges = g.n_edges if directed else g.n_edges // 2
    assert h.number_of_edges() == expected_edges == 4
    for i, label in enumerate(g.ids.tolist()):
        data = h.nodes[label]
        assert data["score"] == attrs["score"][i]
        assert data["rank"] == attrs["rank"][i]
        assert data["seed"] is bool(attrs["seed"][i])
        assert data["group"] == attrs["group"][i]
    weights = {(u, v): w for u, v, w in h.edges(data="weight")}
    if directed:
        assert weights == {
            ("ann", "bob"): 2.0,
            ("bob", "cy"): 1.0,
            ("cy", "ann"): 0.5,
            ("dee", "ann"): 1.0,
        }
    else:
        assert {frozenset(k): w for k, w in weights.items()} == {
            frozenset(("ann", "bob")): 2.0,
            frozenset(("bob", "cy")): 1.0,
            frozenset(("cy", "ann")): 0.5,
            frozenset(("dee", "ann")): 1.0,
        }


def test_write_gexf_rejects_misaligned_attributes(tmp_path: Path) -> None:
    g = Graph.from_edges([(1, 2)])
    with pytest.raises(InvalidParameter, match="'node_attributes' parameter of write_gexf"):
        g.write_gexf(tmp_path / "g.gexf", node_attributes={"x": np.zeros(3)})


def test_write_gexf_label_with_a_double_quote(tmp_path: Path) -> None:
    # BUG (src/grapevine/graph/_gexf.py, _xml_values): quoteattr('say "hi"') returns a
    # single-quoted attribute with the double quotes left raw; stripping its quotes with
    # [1:-1] and wrapping it in double quotes writes label="say "hi"": not well-formed XML
    # (networkx: ParseError "not well-formed (invalid token)"). Same for string attributes.
    g = Graph.from_edges([('say "hi"', "b")])
    path = tmp_path / "g.gexf"
    g.write_gexf(path)
    assert sorted(nx.read_gexf(path, relabel=True).nodes) == ["b", 'say "hi"']


def test_write_gexf_attribute_title_is_escaped_once(tmp_path: Path) -> None:
    # BUG (src/grapevine/graph/_gexf.py, write_gexf): the title is written as
    # quoteattr(escape(name)), escaping twice: an attribute named "R&D" reads back as "R&amp;D".
    g = Graph.from_edges([(1, 2)])
    path = tmp_path / "g.gexf"
    g.write_gexf(path, node_attributes={"R&D": np.array([1, 2])})
    h = nx.read_gexf(path)
    assert h.nodes["0"]["R&D"] == 1


# ---------------------------------------------------------------------------- Hypothesis
int_labels = st.integers(min_value=0, max_value=12)
str_labels = st.text(alphabet="abcdeé", min_size=1, max_size=2)
weights = st.integers(min_value=1, max_value=4).map(float)  # exact sums in any order


def edge_lists(labels: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[Any, Any, float]]]:
    return st.lists(st.tuples(labels, labels, weights), min_size=1, max_size=40)


any_edges = st.one_of(edge_lists(int_labels), edge_lists(str_labels))


@settings(max_examples=150, deadline=None)
@given(
    edges=any_edges,
    directed=st.booleans(),
    self_loops=st.booleans(),
    multi_edges=st.sampled_from(["sum", "max", "first"]),
)
def test_csr_equals_naive(
    edges: list[tuple[Any, Any, float]], directed: bool, self_loops: bool, multi_edges: str
) -> None:
    if not directed and multi_edges == "first":
        multi_edges = "sum"  # undirected "first" is a known bug, pinned above
    src, dst, w = zip(*edges, strict=True)
    g = Graph.from_arrays(
        list(src),
        list(dst),
        list(w),
        directed=directed,
        self_loops=self_loops,
        multi_edges=multi_edges,
    )  # type: ignore[arg-type]
    nodes, adjacency, counts = naive_graph(
        edges, directed=directed, self_loops=self_loops, multi_edges=multi_edges
    )
    assert_csr_invariants(g)
    assert [normalise_label(x) for x in g.ids.tolist()] == nodes
    assert graph_to_adjacency(g) == adjacency
    assert g.report is not None
    assert g.report.edges_read == counts["edges_read"]
    assert g.report.self_loops == counts["self_loops"]
    if directed or not self_loops:  # the other case is a known bug, pinned above
        assert g.report.multi_edges == counts["multi_edges"]
    indeg, outdeg = in_degrees(adjacency), out_degrees(adjacency)
    assert g.in_degree().tolist() == [indeg[u] for u in nodes]
    assert g.out_degree().tolist() == [outdeg[u] for u in nodes]
    inn = in_adjacency(adjacency)
    for u in nodes:
        assert set(g.out_neighbors(u).tolist()) == set(adjacency[u])
        assert set(g.in_neighbors(u).tolist()) == inn[u]
    wc = naive_wc(adjacency)
    got = dict(
        zip(
            zip(g.ids[g.sources()].tolist(), g.ids[g.indices].tolist(), strict=True),
            g.weighted_cascade().tolist(),
            strict=True,
        )
    )
    assert got == pytest.approx(wc)
    # the transpose maps every in-arc back to its out-arc
    in_ptr, in_src, edge_ids = g.transpose()
    for v in range(g.n_nodes):
        for k in range(in_ptr[v], in_ptr[v + 1]):
            e = edge_ids[k]
            assert g.indices[e] == v
            assert g.sources()[e] == in_src[k]


@settings(max_examples=100, deadline=None)
@given(
    edges=any_edges,
    directed=st.booleans(),
    multi_edges=st.sampled_from(["sum", "max"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_shuffled_edge_list_builds_the_same_graph(
    edges: list[tuple[Any, Any, float]], directed: bool, multi_edges: str, seed: int
) -> None:
    shuffled = edges[:]
    random.Random(seed).shuffle(shuffled)
    a = Graph.from_arrays(
        *map(list, zip(*edges, strict=True)), directed=directed, multi_edges=multi_edges
    )  # type: ignore[arg-type]
    b = Graph.from_arrays(
        *map(list, zip(*shuffled, strict=True)), directed=directed, multi_edges=multi_edges
    )  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.report == b.report


@settings(max_examples=100, deadline=None)
@given(edges=edge_lists(int_labels), directed=st.booleans(), perm_seed=st.integers(0, 10**6))
def test_relabelled_graph_is_the_same_graph(
    edges: list[tuple[int, int, float]], directed: bool, perm_seed: int
) -> None:
    labels = sorted({u for u, _, _ in edges} | {v for _, v, _ in edges})
    images = [f"n{k:03d}" for k in range(len(labels))]
    random.Random(perm_seed).shuffle(images)
    f = dict(zip(labels, images, strict=True))
    g = Graph.from_arrays(*map(list, zip(*edges, strict=True)), directed=directed)
    h = Graph.from_arrays(
        [f[u] for u, _, _ in edges],
        [f[v] for _, v, _ in edges],
        [w for _, _, w in edges],
        directed=directed,
    )
    relabelled = {
        f[u]: {f[v]: w for v, w in row.items()} for u, row in graph_to_adjacency(g).items()
    }
    assert graph_to_adjacency(h) == relabelled
    assert h.ids.tolist() == sorted(images)
    assert sorted(h.in_degree().tolist()) == sorted(g.in_degree().tolist())
    assert g.report == h.report


# ---------------------------------------------------------------------------- real graphs
def _lines(path: Path) -> list[str]:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read().splitlines()
    return path.read_text(encoding="utf-8").splitlines()


@functools.cache
def _reference_pairs(name: str, path: Path) -> list[tuple[int, int]]:
    """The file's edges parsed in plain Python, independently of grapevine's reader."""
    lines = _lines(path)
    if name == "epinions":
        pairs = []
        for line in lines:
            head, _, tail = line.partition(":")
            pairs += [(int(head), int(v)) for v in tail.split(",") if v.strip()]
        return pairs
    skip = 1 if name in ("NetHept", "NetHEPT_impc_wc") else 0
    return [(int(r[0]), int(r[1])) for r in read_pairs(lines, skip=skip)]


# name: (file, directed, nodes, arcs, edges read, self-loops, multi-edges merged, header)
# Figures from ../shared/data/graphs/PROVENANCE.txt; the notes say how the others follow.
REAL_GRAPHS = {
    # 7,115 nodes, 103,689 directed edges
    "wiki-Vote": ("wiki-Vote.txt", True, 7_115, 103_689, 103_689, 0, 0, "none"),
    # 1,005 nodes, 25,571 directed edges, 642 of them self-loops (dropped by default)
    "email-Eu-core": ("email-Eu-core.txt.gz", True, 1_005, 25_571 - 642, 25_571, 642, 0, "none"),
    # "15233 58891" header; 58,891 lines with 39 self-loop lines; 31,398 unique undirected pairs
    # of which 22 are distinct self-loops -> 31,376 proper pairs = 62,752 arcs (= NetHEPT_impc_wc);
    # 58,891 - 39 - 31,376 = 27,476 repeated co-authorships merged.
    "NetHept": ("NetHept.txt", False, 15_233, 62_752, 58_891, 39, 27_476, "counts"),
    # "15229 62752" header, both arc directions, p = 1/in-degree
    "NetHEPT_impc_wc": ("NetHEPT_impc_wc.txt", True, 15_229, 62_752, 62_752, 0, 0, "counts"),
    # 75,879 nodes (ids 0..75,887), 508,837 directed edges
    "epinions": ("epinions_adjacency.txt", True, 75_879, 508_837, 508_837, 0, 0, "none"),
    # 4,039 nodes, 88,234 undirected edges
    "facebook": ("facebook_combined.txt", False, 4_039, 2 * 88_234, 88_234, 0, 0, "none"),
}


@pytest.fixture(scope="module")
def real_graph_cache() -> dict[str, Graph]:
    return {}


def _load(data_dir: Path, name: str, cache: dict[str, Graph]) -> Graph:
    if name not in cache:
        file, directed, *_ = REAL_GRAPHS[name]
        cache[name] = Graph.from_edgelist(data_dir / "graphs" / file, directed=directed)
    return cache[name]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", list(REAL_GRAPHS))
def test_real_graph_counts_match_provenance(
    data_dir: Path, name: str, real_graph_cache: dict[str, Graph]
) -> None:
    file, directed, nodes, arcs, read, loops, multi, header = REAL_GRAPHS[name]
    g = _load(data_dir, name, real_graph_cache)
    assert (g.n_nodes, g.n_edges) == (nodes, arcs)
    assert g.directed is directed
    assert g.report == BuildReport(
        edges_read=read, multi_edges=multi, self_loops=loops, self_loops_dropped=True
    )
    assert read_edgelist(data_dir / "graphs" / file).header == header
    assert_csr_invariants(g)
    # and the same figures from a plain-Python parse of the file
    pairs = _reference_pairs(name, data_dir / "graphs" / file)
    assert len(pairs) == read
    assert sum(u == v for u, v in pairs) == loops
    proper = {(u, v) if directed else (min(u, v), max(u, v)) for u, v in pairs if u != v}
    assert len(pairs) - loops - len(proper) == multi
    assert len({x for p in pairs for x in p}) == nodes


@pytest.mark.shared_data
@pytest.mark.parametrize("name", list(REAL_GRAPHS))
def test_real_graph_neighbours_and_degrees_equal_networkx(
    data_dir: Path, name: str, real_graph_cache: dict[str, Graph]
) -> None:
    file, directed, *_ = REAL_GRAPHS[name]
    g = _load(data_dir, name, real_graph_cache)
    pairs = _reference_pairs(name, data_dir / "graphs" / file)
    h: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    h.add_edges_from(pairs)
    h.remove_edges_from(list(nx.selfloop_edges(h)))  # grapevine drops them by default
    ids = g.ids.tolist()
    assert ids == sorted(h.nodes)
    if directed:
        assert g.out_degree().tolist() == [h.out_degree(u) for u in ids]
        assert g.in_degree().tolist() == [h.in_degree(u) for u in ids]
    else:
        assert g.out_degree().tolist() == [h.degree(u) for u in ids]
        assert g.in_degree().tolist() == g.out_degree().tolist()
    in_ptr, in_src, _ = g.transpose()
    succ = h.succ if directed else h.adj
    pred = h.pred if directed else h.adj
    for k, u in enumerate(ids):
        out = g.ids[g.indices[g.indptr[k] : g.indptr[k + 1]]].tolist()
        assert set(out) == set(succ[u])
        inn = g.ids[in_src[in_ptr[k] : in_ptr[k + 1]]].tolist()
        assert set(inn) == set(pred[u])
    for u in ids[:: max(1, len(ids) // 50)]:  # the label-based API on a sample
        assert sorted(g.out_neighbors(u).tolist()) == sorted(succ[u])
        assert sorted(g.in_neighbors(u).tolist()) == sorted(pred[u])


@pytest.mark.shared_data
def test_nethept_multi_edge_weights_count_co_authorships(
    data_dir: Path, real_graph_cache: dict[str, Graph]
) -> None:
    g = _load(data_dir, "NetHept", real_graph_cache)
    pairs = _reference_pairs("NetHept", data_dir / "graphs" / "NetHept.txt")
    counts = Counter((min(u, v), max(u, v)) for u, v in pairs if u != v)
    adjacency = graph_to_adjacency(g)
    assert {(u, v): w for u, row in adjacency.items() for v, w in row.items() if u < v} == {
        k: float(c) for k, c in counts.items()
    }
    assert all(adjacency[v][u] == w for u, row in adjacency.items() for v, w in row.items())
    assert g.in_degree().sum() == 62_752
    assert int((g.in_degree() == 0).sum()) == 4  # nodes whose only edges are self-loops


@pytest.mark.shared_data
def test_weighted_cascade_equals_the_p_column_of_nethept_impc(
    data_dir: Path, real_graph_cache: dict[str, Graph]
) -> None:
    g = _load(data_dir, "NetHEPT_impc_wc", real_graph_cache)
    edges = read_edgelist(data_dir / "graphs" / "NetHEPT_impc_wc.txt")
    assert edges.weights is not None
    assert edges.declared == (15_229, 62_752)
    # weights are the file's p column (6 decimals); weighted_cascade is exactly 1/in-degree
    wc = g.weighted_cascade()
    indeg = g.in_degree()
    np.testing.assert_allclose(wc, 1.0 / indeg[g.indices], rtol=1e-7)
    np.testing.assert_allclose(wc, g.weights, rtol=0, atol=1e-6)
    assert float(np.max(np.abs(wc - g.weights))) > 1e-8  # the file really is rounded
    np.testing.assert_array_equal(g.probabilities("weight"), g.weights)
    # the undirected NetHept.txt is the same graph under other ids: same multiset of p
    hept = _load(data_dir, "NetHept", real_graph_cache)
    np.testing.assert_allclose(np.sort(hept.weighted_cascade()), np.sort(g.weights), atol=1e-6)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["wiki-Vote", "email-Eu-core", "facebook"])
def test_weighted_cascade_on_real_graphs_is_one_over_networkx_in_degree(
    data_dir: Path, name: str, real_graph_cache: dict[str, Graph]
) -> None:
    _, directed, *_ = REAL_GRAPHS[name]
    g = _load(data_dir, name, real_graph_cache)
    h = g.to_networkx()
    indeg = dict(h.in_degree()) if directed else dict(h.degree())
    expected = np.array([1.0 / indeg[v] for v in g.ids[g.indices].tolist()], dtype=np.float32)
    np.testing.assert_array_equal(g.weighted_cascade(), expected)


@pytest.mark.shared_data
def test_epinions_ids_and_sources(data_dir: Path, real_graph_cache: dict[str, Graph]) -> None:
    g = _load(data_dir, "epinions", real_graph_cache)
    assert int(g.ids.max()) == 75_887
    # PROVENANCE: "23,931 nodes have in-degree 0" counts the id range 0..75,887; 9 ids in it
    # never occur, so 23,922 of the 75,879 nodes of the graph have in-degree 0.
    assert int((g.in_degree() == 0).sum()) == 23_922
    assert 75_888 - g.n_nodes == 9
    np.testing.assert_array_equal(np.bincount(g.sources(), minlength=g.n_nodes), g.out_degree())


@pytest.mark.shared_data
def test_email_eu_core_self_loops_kept_on_request(data_dir: Path) -> None:
    g = Graph.from_edgelist(data_dir / "graphs" / "email-Eu-core.txt.gz", self_loops=True)
    assert (g.n_nodes, g.n_edges) == (1_005, 25_571)
    assert int((g.sources() == g.indices).sum()) == 642
    assert g.report is not None
    assert g.report.lines() == ["25,571 edges read", "642 self-loops kept"]


@pytest.mark.shared_data
def test_to_networkx_and_gexf_on_a_real_graph(
    data_dir: Path, real_graph_cache: dict[str, Graph], tmp_path: Path
) -> None:
    g = _load(data_dir, "email-Eu-core", real_graph_cache)
    h = g.to_networkx()
    assert (h.number_of_nodes(), h.number_of_edges()) == (1_005, 24_929)
    src, dst, w = zip(*h.edges(data="weight"), strict=True)
    back = Graph.from_arrays(list(src), list(dst), list(w), nodes=list(h.nodes))  # 19 isolated
    assert int(((back.in_degree() == 0) & (back.out_degree() == 0)).sum()) == 19
    np.testing.assert_array_equal(back.indptr, g.indptr)
    np.testing.assert_array_equal(back.indices, g.indices)
    path = tmp_path / "email.gexf"
    g.write_gexf(path, node_attributes={"in_degree": g.in_degree()})
    r = nx.read_gexf(path, relabel=True)
    assert (r.number_of_nodes(), r.number_of_edges()) == (1_005, 24_929)
    indeg = dict(zip(g.ids.tolist(), g.in_degree().tolist(), strict=True))
    assert {int(u): d["in_degree"] for u, d in r.nodes(data=True)} == indeg
    assert adjacency_sets((int(u), int(v)) for u, v in r.edges) == adjacency_sets(
        zip(g.ids[g.sources()].tolist(), g.ids[g.indices].tolist(), strict=True)
    )


def test_index_of_unknown_label_in_an_object_array_is_unknown_person() -> None:
    g = Graph.from_edges([("a", "b")])
    with pytest.raises(UnknownPerson) as info:
        g.index_of(np.array(["a", "zz"], dtype=object))
    assert info.value.person == "zz"
