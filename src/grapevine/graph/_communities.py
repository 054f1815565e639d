"""Communities and brokers: Leiden partitions, brokerage across them, Burt's constraint."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from grapevine._validation import check_number
from grapevine.errors import InvalidParameter
from grapevine.graph._centrality import (
    _check_graph,
    _import_networkit,
    _networkit_seeded,
    _undirected_structure,
    _weights,
)

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

    from grapevine.graph._graph import Graph

__all__ = ["Brokerage", "brokerage", "burt_constraint", "communities", "modularity"]


def _undirected_weighted(graph: Graph, weighted: bool, owner: str) -> sp.csr_array:
    """Symmetric weights ``w(u, v) + w(v, u)`` for a directed graph (``w`` when undirected),
    without self-loops, sorted indices."""
    import scipy.sparse as sp

    n = graph.n_nodes
    w = _weights(graph, weighted, owner)
    src = graph.sources().astype(np.int64)
    dst = graph.indices.astype(np.int64)
    keep = src != dst
    a = sp.csr_array((w[keep], (src[keep], dst[keep])), shape=(n, n))
    m = a + a.T if graph.directed else a.copy()
    m = sp.csr_array(m)
    m.sum_duplicates()
    m.sort_indices()
    m.eliminate_zeros()
    return m


# ---------------------------------------------------------------------------- Leiden
def communities(
    graph: Graph,
    *,
    resolution: float = 1.0,
    weighted: bool = True,
    random_state: int | None = None,
) -> np.ndarray:
    """Leiden communities of the undirected view: one community id per node.

    Parameters
    ----------
    graph : Graph
        A directed graph is read as undirected, with ``w(u, v) + w(v, u)`` on each pair;
        self-loops are ignored.
    resolution : float, default 1.0
        The modularity resolution gamma, >= 0: larger gives more, smaller communities.
    weighted : bool, default True
        Use the edge weights (else every edge weighs 1).
    random_state : int, optional
        Seed of the node order; given, Leiden runs on one thread so that it repeats.

    Returns
    -------
    ndarray of int64, shape (n_nodes,)
        Community ids ``0 .. k - 1``, numbered by decreasing size (ties: smallest node
        first). An isolated node is a community of its own.

    Raises
    ------
    InvalidParameter
        A parameter out of range, or negative weights with ``weighted=True``.
    MissingDependency
        networkit is not installed.

    Notes
    -----
    networkit's ``ParallelLeiden`` (three rounds of local moves, refinement and
    aggregation), about O(m) per round. Leiden refines Louvain so that every community
    is connected. Compare partitions with :func:`modularity`.

    References
    ----------
    .. [1] Traag, Waltman, van Eck. From Louvain to Leiden: guaranteeing well-connected
       communities. Scientific Reports 9, 5233 (2019).
    .. [2] Nguyen, Grinten, Meyerhenke. Engineering a parallel Leiden algorithm
       (networkit's ``ParallelLeiden``).

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> edges = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)]
    >>> communities(Graph.from_edges(edges, directed=False), random_state=0).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    graph = _check_graph(graph, "communities")
    check_number(resolution, "resolution", "communities", low=0.0)
    if random_state is not None:
        check_number(random_state, "random_state", "communities", kind=numbers.Integral, low=0)
    n = graph.n_nodes
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = _undirected_weighted(graph, weighted, "communities")
    upper = m.tocoo()
    keep = upper.row < upper.col
    if not keep.any():
        return np.arange(n, dtype=np.int64)
    nk = _import_networkit("communities")
    g = nk.Graph(n, weighted=True, directed=False)
    g.addEdges(
        (
            upper.data[keep].astype(np.float64),
            (upper.row[keep].astype(np.uint64), upper.col[keep].astype(np.uint64)),
        )
    )
    with _networkit_seeded(nk, random_state):
        algo = nk.community.ParallelLeiden(g, randomize=True, gamma=float(resolution))
        algo.run()
    raw = np.asarray(algo.getPartition().getVector(), dtype=np.int64)
    return _relabel(raw)


def _relabel(raw: np.ndarray) -> np.ndarray:
    """Number communities 0.. by decreasing size, ties by their smallest node."""
    _, first, inverse, counts = np.unique(
        raw, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()]


def modularity(
    graph: Graph, labels: np.ndarray, *, resolution: float = 1.0, weighted: bool = True
) -> float:
    """Newman's modularity of a partition on the undirected view used by :func:`communities`.

    Parameters
    ----------
    graph : Graph
    labels : array of int, shape (n_nodes,)
        Community id of each node.
    resolution : float, default 1.0
    weighted : bool, default True

    Returns
    -------
    float
        In [-1/2, 1]; 0 for a graph without edges.

    Notes
    -----
    O(n + m). Equal to :func:`networkx.community.modularity` on the undirected graph
    without self-loops.

    References
    ----------
    .. [1] Newman. Modularity and community structure in networks. PNAS 103(23), 2006.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([(0, 1), (2, 3)], directed=False)
    >>> modularity(g, [0, 0, 1, 1])
    0.5
    """
    graph = _check_graph(graph, "modularity")
    check_number(resolution, "resolution", "modularity", low=0.0)
    lab = _check_labels(graph, labels, "modularity")
    m = _undirected_weighted(graph, weighted, "modularity")
    total = float(m.data.sum())  # 2 * total edge weight
    if total <= 0:
        return 0.0
    coo = m.tocoo()
    inside = float(coo.data[lab[coo.row] == lab[coo.col]].sum())
    strength = np.asarray(m.sum(axis=1)).ravel()
    by_comm = np.bincount(lab, weights=strength)
    return inside / total - float(resolution) * float((by_comm**2).sum()) / total**2


def _check_labels(graph: Graph, labels: object, owner: str) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.shape != (graph.n_nodes,) or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
        raise InvalidParameter(
            "communities", owner, f"an int array of length {graph.n_nodes}", lab.shape
        )
    if lab.size and lab.min() < 0:
        raise InvalidParameter("communities", owner, "non-negative community ids", lab.min())
    return lab.astype(np.int64)


# ---------------------------------------------------------------------------- brokerage
class Brokerage(NamedTuple):
    """What :func:`brokerage` finds for every node."""

    reach: np.ndarray  # int64: distinct communities among the node's neighbours
    outside_share: np.ndarray  # float64: share of its neighbours outside its own community


def brokerage(graph: Graph, communities: np.ndarray) -> Brokerage:
    """How many communities each node touches, and how much of its circle lies outside its own.

    Parameters
    ----------
    graph : Graph
        Neighbours are read on the undirected simple view (in- and out-neighbours,
        counted once, self excluded).
    communities : array of int, shape (n_nodes,)
        A community id per node, as :func:`communities` returns.

    Returns
    -------
    Brokerage
        ``reach``: the number of distinct communities the node's neighbours belong to
        (its own included when a neighbour shares it); ``outside_share``: the fraction of
        its neighbours in another community than its own. Both are 0 for isolated nodes.

    Notes
    -----
    O(n + m log m). A simple structural-hole count in the spirit of Burt: a node whose
    ties reach many groups can carry word between them.

    References
    ----------
    .. [1] Burt. Structural Holes: The Social Structure of Competition. Harvard
       University Press, 1992.
    .. [2] Gould, Fernandez. Structures of mediation: a formal approach to brokerage in
       transaction networks. Sociological Methodology 19, 1989.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (3, 4)], directed=False)
    >>> b = brokerage(g, [0, 0, 1, 2, 2])
    >>> b.reach.tolist(), b.outside_share.round(2).tolist()
    ([3, 1, 1, 2, 1], [0.67, 0.0, 1.0, 0.5, 0.0])
    """
    graph = _check_graph(graph, "brokerage")
    lab = _check_labels(graph, communities, "brokerage")
    n = graph.n_nodes
    if n == 0:
        return Brokerage(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    a = _undirected_structure(graph).tocoo()
    rows = a.row.astype(np.int64)
    nbr_comm = lab[a.col]
    deg = np.bincount(rows, minlength=n)
    outside = np.bincount(rows, weights=(nbr_comm != lab[rows]).astype(np.float64), minlength=n)
    key = np.unique(rows * (int(lab.max()) + 1) + nbr_comm)
    reach = np.bincount(key // (int(lab.max()) + 1), minlength=n).astype(np.int64)
    share = np.zeros(n, dtype=np.float64)
    np.divide(outside, deg, out=share, where=deg > 0)
    return Brokerage(reach, share)


# ---------------------------------------------------------------------------- constraint
@njit(cache=True)
def _constraint(
    indptr: np.ndarray, indices: np.ndarray, p: np.ndarray
) -> np.ndarray:  # pragma: no cover
    """c(u) = sum over neighbours v of (p_uv + sum_w p_uw p_wv)^2, p row-normalised."""
    n = len(indptr) - 1
    out = np.zeros(n, dtype=np.float64)
    mark = np.zeros(n, dtype=np.float64)
    for u in range(n):
        for j in range(indptr[u], indptr[u + 1]):
            mark[indices[j]] = p[j]
        total = 0.0
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            indirect = 0.0
            for k in range(indptr[v], indptr[v + 1]):  # the contacts w shared by u and v
                w = indices[k]
                if mark[w] != 0.0:
                    indirect += mark[w] * _lookup(indptr, indices, p, w, v)
            local = p[j] + indirect
            total += local * local
        out[u] = total
        for j in range(indptr[u], indptr[u + 1]):
            mark[indices[j]] = 0.0
    return out


@njit(cache=True)
def _lookup(
    indptr: np.ndarray, indices: np.ndarray, p: np.ndarray, row: int, col: int
) -> float:  # pragma: no cover
    """p[row, col] by binary search in a sorted CSR row (0 when absent)."""
    lo = indptr[row]
    hi = indptr[row + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < col:
            lo = mid + 1
        else:
            hi = mid
    if lo < indptr[row + 1] and indices[lo] == col:
        return float(p[lo])
    return 0.0


def burt_constraint(graph: Graph, *, weighted: bool = True) -> np.ndarray:
    """Burt's constraint of every node: how much its contacts are tied to each other.

    Low constraint marks a broker across structural holes; a node whose few contacts all
    know one another scores high (a single contact gives 1).

    Parameters
    ----------
    graph : Graph
        Contacts are in- and out-neighbours; the tie between ``u`` and ``v`` weighs
        ``w(u, v) + w(v, u)`` (networkx's mutual weight). Self-loops are ignored.
    weighted : bool, default True
        Use the edge weights (else each arc weighs 1).

    Returns
    -------
    ndarray of float64, shape (n_nodes,)
        ``c(u) = sum_v (p_uv + sum_w p_uw p_wv)**2`` over the contacts ``v`` of ``u``,
        where ``p_uv`` is the share of ``u``'s tie weight going to ``v``. Isolated nodes
        get 0 (the empty sum; networkx gives NaN): combine with degree when ranking.

    Notes
    -----
    O(sum over edges (u, v) of deg(v) log deg) in a numba kernel. Equal to
    :func:`networkx.constraint` on graphs without self-loops.

    References
    ----------
    .. [1] Burt. Structural holes and good ideas. American Journal of Sociology 110(2),
       2004.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([(0, 1), (0, 2), (1, 2), (0, 3)], directed=False)
    >>> burt_constraint(g).round(3).tolist()
    [0.611, 1.007, 1.007, 1.0]
    """
    graph = _check_graph(graph, "burt_constraint")
    n = graph.n_nodes
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    m = _undirected_weighted(graph, weighted, "burt_constraint")
    strength = np.asarray(m.sum(axis=1)).ravel()
    row_of = np.repeat(np.arange(n), np.diff(m.indptr))
    p = m.data.astype(np.float64) / strength[row_of] if m.nnz else m.data.astype(np.float64)
    return _constraint(m.indptr.astype(np.int64), m.indices.astype(np.int64), p)
