"""A person's neighbourhood: the people within two hops, sampled when there are too many."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from grapevine._validation import check_number
from grapevine.errors import BadInput
from grapevine.graph._graph import Graph

__all__ = ["Neighbourhood", "neighbourhood"]


@dataclass
class Neighbourhood:
    """The nodes around a centre and the arcs among them.

    Attributes
    ----------
    centre : int
        Node number of the person.
    nodes : ndarray of int64
        Node numbers shown, the centre first, then the first hop, then the second.
    hop : ndarray of int64
        Distance of each shown node from the centre (0, 1 or 2), ignoring direction.
    sources, targets : ndarray of int64
        Arcs among the shown nodes, as positions in ``nodes``.
    first_hop, second_hop : int
        How many people are at distance 1 and 2 in the whole graph (before sampling).
    sampled : bool
        True when some neighbours were left out.
    """

    centre: int
    nodes: np.ndarray
    hop: np.ndarray
    sources: np.ndarray
    targets: np.ndarray
    first_hop: int
    second_hop: int
    sampled: bool


def _undirected_neighbours(graph: Graph, nodes: np.ndarray) -> np.ndarray:
    out = [graph.indices[graph.indptr[u] : graph.indptr[u + 1]] for u in nodes]
    if graph.directed:
        tp, ti, _ = graph.transpose()
        out += [ti[tp[u] : tp[u + 1]] for u in nodes]
    return np.unique(np.concatenate(out)) if out else np.empty(0, dtype=np.int64)


def neighbourhood(
    graph: Graph,
    person: Any,
    *,
    max_nodes: int = 150,
    hops: int = 2,
    random_state: int | None = 0,
) -> Neighbourhood:
    """The people within ``hops`` (1 or 2) of ``person``, at most ``max_nodes`` of them.

    Direction is ignored for distance. When there are too many, the first hop is kept
    whole if it fits (else a uniform sample of it), and the rest of the room goes to a
    uniform sample of the second hop.

    Parameters
    ----------
    graph : Graph
    person : Any
        The person's label in ``graph.ids``.
    max_nodes : int
        Most nodes shown, the centre included (>= 2).
    hops : int
        1 or 2.
    random_state : int, optional
        Seed of the sampling.

    Returns
    -------
    Neighbourhood

    Raises
    ------
    BadInput
        When ``person`` is not in the graph.

    Notes
    -----
    O(d1 + d2 + m') for d1 first-hop and d2 second-hop degrees and m' arcs among the shown
    nodes (the transpose is built once per graph and cached).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d")])
    >>> nb = neighbourhood(g, "b")
    >>> g.ids[nb.nodes].tolist(), nb.hop.tolist()
    (['b', 'a', 'c', 'd'], [0, 1, 1, 2])
    """
    check_number(max_nodes, "max_nodes", "neighbourhood", kind=numbers.Integral, low=2)
    check_number(hops, "hops", "neighbourhood", kind=numbers.Integral, low=1, high=2)
    found = np.flatnonzero(graph.ids.astype(str) == str(person))
    if found.size == 0:
        raise BadInput(f"no person {person!r} in the graph", field="person")
    centre = int(found[0])
    rng = np.random.default_rng(random_state)
    first = _undirected_neighbours(graph, np.array([centre]))
    first = first[first != centre]
    if hops == 2 and first.size:
        second = _undirected_neighbours(graph, first)
        second = np.setdiff1d(second, np.r_[first, centre], assume_unique=False)
    else:
        second = np.empty(0, dtype=np.int64)
    n_first, n_second = int(first.size), int(second.size)
    room = max_nodes - 1
    sampled = False
    if first.size > room:
        first = np.sort(rng.choice(first, room, replace=False))
        sampled = True
    room -= first.size
    if second.size > room:
        second = np.sort(rng.choice(second, room, replace=False)) if room else second[:0]
        sampled = True
    nodes = np.r_[centre, first, second].astype(np.int64)
    hop = np.r_[0, np.ones(first.size), np.full(second.size, 2)].astype(np.int64)
    where = np.full(graph.n_nodes, -1, dtype=np.int64)
    where[nodes] = np.arange(nodes.size)
    src = np.repeat(nodes, graph.indptr[nodes + 1] - graph.indptr[nodes])
    dst = np.concatenate([graph.indices[graph.indptr[u] : graph.indptr[u + 1]] for u in nodes])
    keep = where[dst] >= 0
    s, t = where[src[keep]], where[dst[keep]]
    if not graph.directed:
        keep = s < t
        s, t = s[keep], t[keep]
    return Neighbourhood(centre, nodes, hop, s, t, n_first, n_second, sampled)
