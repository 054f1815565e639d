"""A person's neighbourhood, sampled when large, against a networkx BFS."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import BadInput
from grapevine.graph import Graph, neighbourhood

edges = st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), min_size=1, max_size=80)


@settings(max_examples=50, deadline=None)
@given(edges=edges, directed=st.booleans(), cap=st.integers(2, 40))
def test_hops_match_bfs_and_sampling_respects_the_cap(
    edges: list[tuple[int, int]], directed: bool, cap: int
) -> None:
    g = Graph.from_edges(edges, directed=directed)
    centre = g.ids[0]
    nb = neighbourhood(g, centre, max_nodes=cap)
    ref = nx.Graph(g.to_networkx())  # undirected: direction is ignored for distance
    dist = nx.single_source_shortest_path_length(ref, centre, cutoff=2)
    ring = {d: {v for v, h in dist.items() if h == d} for d in (1, 2)}
    assert (nb.first_hop, nb.second_hop) == (len(ring[1]), len(ring[2]))
    assert len(nb.nodes) <= cap
    assert nb.nodes[0] == g.ids.tolist().index(centre)
    labels = g.ids[nb.nodes].tolist()
    for label, hop in zip(labels, nb.hop.tolist(), strict=True):
        assert dist[label] == hop
    assert nb.sampled == (1 + len(ring[1]) + len(ring[2]) > cap)
    # the arcs shown are exactly the graph's arcs among the shown nodes
    shown = set(labels)
    want = {(u, v) for u, v in g.edges()[["source", "target"]].itertuples(index=False)
            if u in shown and v in shown}  # fmt: skip
    got = {(labels[s], labels[t]) for s, t in zip(nb.sources, nb.targets, strict=True)}
    if directed:
        assert got == want
    else:
        assert {frozenset(e) for e in got} == {frozenset(e) for e in want}


def test_unknown_person() -> None:
    g = Graph.from_edges([("a", "b")])
    with pytest.raises(BadInput, match="no person 'z'"):
        neighbourhood(g, "z")


def test_one_hop_only() -> None:
    g = Graph.from_edges([("a", "b"), ("b", "c")])
    nb = neighbourhood(g, "a", hops=1)
    assert g.ids[nb.nodes].tolist() == ["a", "b"]
    assert nb.second_hop == 0
    assert np.array_equal(nb.hop, [0, 1])
