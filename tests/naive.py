"""Naive, obviously-correct reference implementations (dicts of dicts) to test the CSR graph.

Nothing here is fast; everything here is easy to check by reading it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

Adjacency = dict[Hashable, dict[Hashable, float]]


def normalise_label(label: Any) -> Hashable:
    """numpy scalars to plain Python values, so that dict keys compare equal."""
    return label.item() if isinstance(label, np.generic) else label


def naive_graph(
    edges: Iterable[Sequence[Any]],
    *,
    directed: bool = True,
    self_loops: bool = False,
    multi_edges: str = "sum",
) -> tuple[list[Hashable], Adjacency, dict[str, int]]:
    """Nodes, out-adjacency ``{u: {v: weight}}`` and irregularity counts of an edge list.

    Mirrors the documented semantics of ``Graph.from_arrays``: every label that
    appears is a node (even when its only edge is a dropped self-loop); nodes are
    sorted; an undirected edge is stored as two arcs (a self-loop as one);
    repeated arcs are merged by ``multi_edges`` ("sum", "max" or "first").
    """
    rows = [
        (normalise_label(e[0]), normalise_label(e[1]), float(e[2]) if len(e) > 2 else 1.0)
        for e in edges
    ]
    nodes = sorted({u for u, _, _ in rows} | {v for _, v, _ in rows})
    loops = sum(1 for u, v, _ in rows if u == v)
    kept = [r for r in rows if self_loops or r[0] != r[1]]
    arcs: list[tuple[Hashable, Hashable, float]] = []
    for u, v, w in kept:
        arcs.append((u, v, w))
        if not directed and u != v:
            arcs.append((v, u, w))
    adjacency: Adjacency = {u: {} for u in nodes}
    for u, v, w in arcs:
        row = adjacency[u]
        if v not in row:
            row[v] = w
        elif multi_edges == "sum":
            row[v] += w
        elif multi_edges == "max":
            row[v] = max(row[v], w)
        # "first": keep what is there
    if directed:
        distinct = sum(len(row) for row in adjacency.values())
        multi = len(kept) - distinct
    else:
        pairs = {frozenset((u, v)) for u, v, _ in kept}
        multi = len(kept) - len(pairs)
    return nodes, adjacency, {"edges_read": len(rows), "self_loops": loops, "multi_edges": multi}


def graph_to_adjacency(graph: Any) -> Adjacency:
    """A Graph's CSR arrays read back into ``{u: {v: weight}}`` with labels."""
    ids = [normalise_label(x) for x in graph.ids.tolist()]
    out: Adjacency = {u: {} for u in ids}
    for u in range(graph.n_nodes):
        for k in range(int(graph.indptr[u]), int(graph.indptr[u + 1])):
            v = ids[int(graph.indices[k])]
            assert v not in out[ids[u]], f"arc {ids[u]}->{v} stored twice"
            out[ids[u]][v] = float(graph.weights[k])
    return out


def in_adjacency(adjacency: Adjacency) -> dict[Hashable, set[Hashable]]:
    """In-neighbour sets from an out-adjacency."""
    inn: dict[Hashable, set[Hashable]] = {u: set() for u in adjacency}
    for u, row in adjacency.items():
        for v in row:
            inn[v].add(u)
    return inn


def out_degrees(adjacency: Adjacency) -> dict[Hashable, int]:
    return {u: len(row) for u, row in adjacency.items()}


def in_degrees(adjacency: Adjacency) -> dict[Hashable, int]:
    counts: Counter[Hashable] = Counter({u: 0 for u in adjacency})
    for row in adjacency.values():
        counts.update(row.keys())
    return dict(counts)


def weighted_cascade(adjacency: Adjacency) -> dict[tuple[Hashable, Hashable], float]:
    """p(u, v) = 1 / in-degree(v) for every arc."""
    indeg = in_degrees(adjacency)
    return {(u, v): 1.0 / indeg[v] for u, row in adjacency.items() for v in row}


def read_pairs(lines: Iterable[str], *, skip: int = 0, comment: str = "#") -> list[list[str]]:
    """Whitespace-split data lines of a text file (plain Python, for cross-checks)."""
    out: list[list[str]] = []
    for i, line in enumerate(lines):
        if i < skip:
            continue
        s = line.strip()
        if not s or s.startswith(comment):
            continue
        out.append(s.split())
    return out


def adjacency_sets(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, set[Hashable]]:
    """Dict of sets from (u, v) pairs."""
    out: dict[Hashable, set[Hashable]] = defaultdict(set)
    for u, v in pairs:
        out[u].add(v)
    return dict(out)
