"""Heuristic seed selection: top out-degree, degree discount, PageRank."""

from __future__ import annotations

import numbers

import numpy as np

from grapevine._validation import check_number
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph

__all__ = ["degree_discount", "pagerank_seeds", "top_degree"]


def _check_k(graph: Graph, k: int, owner: str) -> None:
    if graph.n_nodes == 0:
        raise InvalidParameter("graph", owner, "a graph with at least one node", graph)
    check_number(k, "k", owner, kind=numbers.Integral, low=1, high=graph.n_nodes)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores; ties go to the lower node number."""
    return np.lexsort((np.arange(len(scores)), -scores))[:k].astype(np.int64)


def top_degree(graph: Graph, k: int) -> np.ndarray:
    """The ``k`` people with the most out-arcs (labels; ties: lower node number).

    Notes
    -----
    O(n log n).

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (1, 2)])
    >>> top_degree(g, 2).tolist()
    [0, 1]
    """
    _check_k(graph, k, "top_degree")
    return np.asarray(graph.ids[_top(graph.out_degree().astype(np.float64), int(k))])


def degree_discount(graph: Graph, k: int, p: float = 0.01) -> np.ndarray:
    """Degree-discount seeds for Independent Cascade with a uniform probability ``p``.

    Picks, ``k`` times, the node with the largest discounted degree
    ``dd(v) = d(v) - 2 t(v) - (d(v) - t(v)) t(v) p``, where ``d(v)`` is the
    out-degree and ``t(v)`` the number of already chosen seeds with an arc into ``v``.

    Parameters
    ----------
    graph : Graph
    k : int
        Number of seeds, in ``[1, n_nodes]``.
    p : float
        The propagation probability the discount assumes, in ``[0, 1]``.

    Returns
    -------
    ndarray
        Seed labels in pick order.

    Notes
    -----
    O(k n + m). On an undirected graph (both arcs stored) this is the
    DegreeDiscountIC of the paper; on a directed one, ``t(v)`` counts the seeds
    that can activate ``v``.

    References
    ----------
    Chen, Wang, Yang. Efficient influence maximization in social networks. KDD 2009.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (1, 2), (1, 0), (3, 4)], directed=False)
    >>> degree_discount(g, 2, p=0.1).tolist()
    [0, 3]
    """
    owner = "degree_discount"
    _check_k(graph, k, owner)
    check_number(p, "p", owner, low=0.0, high=1.0)
    d = graph.out_degree().astype(np.float64)
    t = np.zeros(graph.n_nodes, dtype=np.float64)
    dd = d.copy()
    chosen = np.zeros(graph.n_nodes, dtype=bool)
    out = np.empty(int(k), dtype=np.int64)
    for i in range(int(k)):
        score = np.where(chosen, -np.inf, dd)
        u = int(np.argmax(score))
        out[i] = u
        chosen[u] = True
        nbrs = graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
        np.add.at(t, nbrs, 1.0)
        nb = np.unique(nbrs)
        dd[nb] = d[nb] - 2 * t[nb] - (d[nb] - t[nb]) * t[nb] * float(p)
    return np.asarray(graph.ids[out])


def pagerank_seeds(
    graph: Graph, k: int, *, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 200
) -> np.ndarray:
    """The ``k`` people with the highest PageRank on the reversed graph.

    Reversing the arcs makes rank flow from the people influenced to those who
    influence them, so a high score means a large reach downstream.

    Notes
    -----
    Power iteration, O(m) per iteration; dangling nodes spread their rank uniformly.

    References
    ----------
    Page, Brin, Motwani, Winograd. The PageRank citation ranking. 1999.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (4, 0)])
    >>> pagerank_seeds(g, 2).tolist()  # 4 reaches everyone through 0
    [4, 0]
    """
    owner = "pagerank_seeds"
    _check_k(graph, k, owner)
    check_number(damping, "damping", owner, low=0.0, high=1.0, high_closed=False)
    n = graph.n_nodes
    # Reversed graph: arc v -> u for each u -> v; the rank of u gathers from its out-neighbours.
    indeg = graph.in_degree().astype(np.float64)  # out-degree in the reversed graph
    src = graph.sources()
    dst = graph.indices
    rank = np.full(n, 1.0 / n)
    for _ in range(int(max_iter)):
        share = np.divide(rank, indeg, out=np.zeros(n), where=indeg > 0)
        new = np.bincount(src, weights=share[dst], minlength=n) * damping
        new += (damping * rank[indeg == 0].sum() + 1.0 - damping) / n
        if np.abs(new - rank).sum() < tol:
            rank = new
            break
        rank = new
    return np.asarray(graph.ids[_top(rank, int(k))])
