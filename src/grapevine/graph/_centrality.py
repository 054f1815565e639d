"""Centralities of a :class:`~grapevine.graph.Graph`: PageRank, degree, k-shell, betweenness.

Every function takes a :class:`Graph` and returns one float64 (or int64) array aligned
with the node numbers (``graph.ids[i]`` is the label of entry ``i``). Graphs with no
nodes give empty arrays; isolated nodes, disconnected parts and self-loops all get a
finite score (see each function's Notes). Repeated edges are already merged when a
:class:`Graph` is built.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit, prange

from grapevine._validation import check_choice, check_number
from grapevine.errors import InvalidParameter, MissingDependency, NotConverged

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

    from grapevine.graph._graph import Graph

__all__ = [
    "BETWEENNESS_METHODS",
    "betweenness",
    "betweenness_sources_needed",
    "in_degree",
    "kcore",
    "out_degree",
    "pagerank",
]

#: Largest graph (nodes) on which ``betweenness(..., exact=True)`` runs; Brandes is O(nm).
EXACT_BETWEENNESS_MAX_NODES = 50_000


# ---------------------------------------------------------------------------- helpers
def _check_graph(graph: object, owner: str) -> Graph:
    from grapevine.graph._graph import Graph

    if not isinstance(graph, Graph):
        raise InvalidParameter("graph", owner, "a grapevine Graph", type(graph).__name__)
    return graph


def _weights(graph: Graph, weighted: bool, owner: str) -> np.ndarray:
    """Arc weights as float64 (ones when unweighted); negative or NaN weights are refused."""
    if not weighted:
        return np.ones(graph.n_edges, dtype=np.float64)
    w = graph.weights.astype(np.float64)
    if w.size and not (np.all(np.isfinite(w)) and w.min() >= 0):
        raise InvalidParameter(
            "graph", owner, "finite, non-negative edge weights (or weighted=False)", "other"
        )
    return w


def _undirected_structure(graph: Graph) -> sp.csr_array:
    """The undirected simple view: symmetric 0/1 CSR without self-loops, sorted indices."""
    import scipy.sparse as sp

    n = graph.n_nodes
    src = graph.sources().astype(np.int64)
    dst = graph.indices.astype(np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    a = sp.coo_array(
        (np.ones(2 * len(src), dtype=np.int8), (np.r_[src, dst], np.r_[dst, src])), shape=(n, n)
    ).tocsr()
    a.sum_duplicates()
    a.data[:] = 1
    return a


def _import_networkit(owner: str) -> Any:
    try:
        import networkit as nk
    except ImportError as exc:  # pragma: no cover - networkit is installed in the dev venv
        raise MissingDependency("networkit", "graph") from exc
    return nk


@contextmanager
def _networkit_seeded(nk: Any, random_state: int | None) -> Iterator[None]:
    """Seed networkit and run it on one thread so that a given ``random_state`` reproduces."""
    if random_state is None:
        yield
        return
    threads = nk.getMaxNumberOfThreads()
    nk.setNumberOfThreads(1)
    nk.setSeed(int(random_state), True)
    try:
        yield
    finally:
        nk.setNumberOfThreads(threads)


def _to_networkit(graph: Graph, nk: Any, *, directed: bool) -> Any:
    """An unweighted networkit graph of the simple view (no self-loops, no repeated edges)."""
    n = graph.n_nodes
    g = nk.Graph(n, weighted=False, directed=directed)
    src = graph.sources().astype(np.int64)
    dst = graph.indices.astype(np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    up = src < dst
    if not directed and not graph.directed and 2 * int(up.sum()) == len(src):
        src, dst = src[up], dst[up]  # both arcs of each edge are stored: keep one
    elif not directed:  # one arc per unordered pair
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        pairs = np.unique(lo * max(n, 1) + hi)
        src, dst = pairs // max(n, 1), pairs % max(n, 1)
    if len(src):
        g.addEdges((src.astype(np.uint64), dst.astype(np.uint64)))
    return g


# ---------------------------------------------------------------------------- PageRank
def pagerank(
    graph: Graph,
    *,
    alpha: float = 0.85,
    tol: float = 1e-10,
    max_iter: int = 1000,
    weighted: bool = True,
) -> np.ndarray:
    """PageRank of every node, by power iteration on the sparse transition matrix.

    Parameters
    ----------
    graph : Graph
        Directed or undirected (an undirected edge is followed both ways).
    alpha : float, default 0.85
        Damping factor in (0, 1]: the chance of following an arc rather than jumping.
    tol : float, default 1e-10
        Stop when the L1 change of the scores is below ``n_nodes * tol`` (networkx's rule).
    max_iter : int, default 1000
        Most iterations before giving up.
    weighted : bool, default True
        Follow arcs in proportion to their weights (zero-weight arcs are never followed).

    Returns
    -------
    ndarray of float64, shape (n_nodes,)
        Scores summing to 1 (an empty array for a graph without nodes).

    Raises
    ------
    InvalidParameter
        A parameter outside its range, or negative weights with ``weighted=True``.
    NotConverged
        ``max_iter`` iterations did not reach ``tol``.

    Notes
    -----
    Each iteration is one sparse matrix-vector product, O(n + m). The mass of dangling
    nodes (no out-arc, or out-weights summing to 0) is spread uniformly over all nodes,
    and the teleport is uniform, as in :func:`networkx.pagerank`, which this matches to
    ``tol``. Self-loops are kept and followed like any arc; disconnected parts and isolated
    nodes are handled by the teleport and the dangling redistribution.

    References
    ----------
    .. [1] Page, Brin, Motwani, Winograd. The PageRank citation ranking: bringing order to
       the web. Stanford InfoLab technical report, 1999.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")])
    >>> pagerank(g).round(3).tolist()
    [0.333, 0.32, 0.31, 0.038]
    """
    import scipy.sparse as sp

    graph = _check_graph(graph, "pagerank")
    check_number(alpha, "alpha", "pagerank", low=0.0, high=1.0, low_closed=False)
    check_number(tol, "tol", "pagerank", low=0.0, low_closed=False)
    check_number(max_iter, "max_iter", "pagerank", kind=numbers.Integral, low=1)
    n = graph.n_nodes
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    w = _weights(graph, weighted, "pagerank")
    out_w = np.bincount(graph.sources(), weights=w, minlength=n)
    dangling = out_w <= 0
    inv = np.zeros(n)
    inv[~dangling] = 1.0 / out_w[~dangling]
    # transition matrix transposed: column u holds u's out-arcs, scaled to sum to 1
    p = sp.csr_array(
        (w * np.repeat(inv, np.diff(graph.indptr)), graph.indices, graph.indptr), (n, n)
    )
    pt = p.T.tocsr()
    x = np.full(n, 1.0 / n)
    err = np.inf
    for _ in range(int(max_iter)):
        x_last = x
        x = alpha * (pt @ x_last) + (alpha * x_last[dangling].sum() + 1.0 - alpha) / n
        err = float(np.abs(x - x_last).sum())
        if err < n * tol:
            return np.asarray(x / x.sum(), dtype=np.float64)
    raise NotConverged("pagerank", int(max_iter), err)


# ---------------------------------------------------------------------------- degree
def in_degree(graph: Graph, *, weighted: bool = False) -> np.ndarray:
    """In-degree of every node: the number (or total weight) of arcs pointing to it.

    Parameters
    ----------
    graph : Graph
    weighted : bool, default False
        Sum the arc weights instead of counting arcs.

    Returns
    -------
    ndarray of float64, shape (n_nodes,)

    Notes
    -----
    O(m). On an undirected graph in- and out-degree are both the degree. A self-loop
    counts once; isolated nodes get 0.

    References
    ----------
    .. [1] Freeman. Centrality in social networks: conceptual clarification.
       Social Networks 1(3), 1978.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_arrays(["a", "a", "b"], ["b", "c", "c"], [2.0, 1.0, 0.5])
    >>> in_degree(g).tolist(), in_degree(g, weighted=True).tolist()
    ([0.0, 1.0, 2.0], [0.0, 2.0, 1.5])
    """
    graph = _check_graph(graph, "in_degree")
    w = graph.weights.astype(np.float64) if weighted else None
    return np.bincount(graph.indices, weights=w, minlength=graph.n_nodes).astype(np.float64)


def out_degree(graph: Graph, *, weighted: bool = False) -> np.ndarray:
    """Out-degree of every node: the number (or total weight) of its out-arcs.

    Parameters
    ----------
    graph : Graph
    weighted : bool, default False
        Sum the arc weights instead of counting arcs.

    Returns
    -------
    ndarray of float64, shape (n_nodes,)

    Notes
    -----
    O(m). A self-loop counts once; isolated nodes get 0.

    References
    ----------
    .. [1] Freeman. Centrality in social networks: conceptual clarification.
       Social Networks 1(3), 1978.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_arrays(["a", "a", "b"], ["b", "c", "c"], [2.0, 1.0, 0.5])
    >>> out_degree(g).tolist(), out_degree(g, weighted=True).tolist()
    ([2.0, 1.0, 0.0], [3.0, 0.5, 0.0])
    """
    graph = _check_graph(graph, "out_degree")
    n = graph.n_nodes
    if not weighted:
        return np.diff(graph.indptr).astype(np.float64)
    src = graph.sources()
    return np.bincount(src, weights=graph.weights.astype(np.float64), minlength=n)


# ---------------------------------------------------------------------------- k-core
@njit(cache=True)
def _core_numbers(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Batagelj-Zaversnik bin-sort peeling, O(n + m), on a simple symmetric CSR."""
    n = len(indptr) - 1
    deg = np.empty(n, dtype=np.int64)
    max_deg = 0
    for v in range(n):
        deg[v] = indptr[v + 1] - indptr[v]
        max_deg = max(max_deg, deg[v])
    bin_start = np.zeros(max_deg + 1, dtype=np.int64)
    for v in range(n):
        bin_start[deg[v]] += 1
    start = 0
    for d in range(max_deg + 1):
        count = bin_start[d]
        bin_start[d] = start
        start += count
    pos = np.empty(n, dtype=np.int64)
    vert = np.empty(n, dtype=np.int64)
    for v in range(n):
        pos[v] = bin_start[deg[v]]
        vert[pos[v]] = v
        bin_start[deg[v]] += 1
    for d in range(max_deg, 0, -1):
        bin_start[d] = bin_start[d - 1]
    if max_deg >= 0 and n > 0:
        bin_start[0] = 0
    for i in range(n):
        v = vert[i]
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            if deg[u] > deg[v]:
                du = deg[u]
                pu = pos[u]
                pw = bin_start[du]
                w = vert[pw]
                if u != w:
                    pos[u] = pw
                    vert[pu] = w
                    pos[w] = pu
                    vert[pw] = u
                bin_start[du] += 1
                deg[u] -= 1
    return deg


def kcore(graph: Graph) -> np.ndarray:
    """K-shell number (core number) of every node, on the undirected simple view.

    The k-core is the largest subgraph whose nodes all have degree at least k; a node's
    core number is the largest k whose k-core holds it. Kitsak et al. found it locates
    the most efficient spreaders better than degree or betweenness.

    Parameters
    ----------
    graph : Graph
        Arcs are read as undirected edges; self-loops are ignored and an edge given in
        both directions counts once.

    Returns
    -------
    ndarray of int64, shape (n_nodes,)
        Isolated nodes get 0.

    Notes
    -----
    Batagelj-Zaversnik peeling with a bin sort, O(n + m), in a numba kernel. Equal to
    :func:`networkx.core_number` on the undirected graph without self-loops (networkx
    refuses self-loops).

    References
    ----------
    .. [1] Kitsak, Gallos, Havlin, Liljeros, Muchnik, Stanley, Makse. Identification of
       influential spreaders in complex networks. Nature Physics 6, 2010.
    .. [2] Batagelj, Zaversnik. An O(m) algorithm for cores decomposition of networks.
       arXiv:cs/0310049, 2003.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([(0, 1), (1, 2), (2, 0), (2, 3)], directed=False)
    >>> kcore(g).tolist()
    [2, 2, 2, 1]
    """
    graph = _check_graph(graph, "kcore")
    if graph.n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    a = _undirected_structure(graph)
    return _core_numbers(a.indptr.astype(np.int64), a.indices.astype(np.int64))


# ---------------------------------------------------------------------------- betweenness
#: How :func:`betweenness` may compute: chosen by cost (``auto``) or forced.
BETWEENNESS_METHODS = ("auto", "exact", "sources", "kadabra", "rk")

#: Fixed number of accumulators of the source-sampling kernel: the sum order, hence the
#: result, does not depend on how many threads numba runs.
_BRANDES_CHUNKS = 8


@njit(parallel=True, cache=True)
def _brandes_sources(
    indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray, n_chunks: int
) -> np.ndarray:  # pragma: no cover - compiled
    """Sum over ``sources`` of Brandes' dependencies ``delta_s(v)``, unweighted paths.

    ``indptr``/``indices`` is a CSR of out-arcs without self-loops or repeated arcs.
    One BFS per source counts shortest paths (``sigma``); the dependencies accumulate
    in reverse BFS order over successors (``dist[u] == dist[w] + 1``), so no
    predecessor lists are kept. Sources are dealt round-robin to ``n_chunks``
    accumulators run in parallel.
    """
    n = len(indptr) - 1
    k = len(sources)
    acc = np.zeros((n_chunks, n))
    for c in prange(n_chunks):
        sigma = np.zeros(n)
        dist = np.full(n, -1, dtype=np.int64)
        delta = np.zeros(n)
        order = np.empty(n, dtype=np.int64)
        for j in range(c, k, n_chunks):
            s = sources[j]
            dist[s] = 0
            sigma[s] = 1.0
            order[0] = s
            head = 0
            tail = 1
            while head < tail:
                v = order[head]
                head += 1
                dv = dist[v] + 1
                sv = sigma[v]
                for e in range(indptr[v], indptr[v + 1]):
                    w = indices[e]
                    if dist[w] < 0:
                        dist[w] = dv
                        order[tail] = w
                        tail += 1
                    if dist[w] == dv:
                        sigma[w] += sv
            for i in range(tail - 1, -1, -1):
                w = order[i]
                dw = dist[w] + 1
                sw = sigma[w]
                d = 0.0
                for e in range(indptr[w], indptr[w + 1]):
                    u = indices[e]
                    if dist[u] == dw:
                        d += sw / sigma[u] * (1.0 + delta[u])
                delta[w] = d
                if w != s:
                    acc[c, w] += d
            for i in range(tail):
                w = order[i]
                dist[w] = -1
                sigma[w] = 0.0
                delta[w] = 0.0
    out = np.zeros(n)
    for c in range(n_chunks):
        out += acc[c]
    return out


def betweenness_sources_needed(n: int, epsilon: float, delta: float) -> int:
    """Sources to sample so that every betweenness is within ``epsilon`` w.p. ``1 - delta``.

    Hoeffding's inequality with a union bound over the ``n`` nodes: the networkx-
    normalised score is ``n / (n - 1)`` times the mean over sources of
    ``delta_s(v) / (n - 2)``, a number in [0, 1], so ``k`` sources (drawn without
    replacement, for which Hoeffding's bound holds too) give an error above ``epsilon``
    with probability at most ``2 n exp(-2 k (epsilon (n - 1) / n)**2)``.

    >>> betweenness_sources_needed(18_089, 0.05, 0.1)
    2561
    """
    if n < 3:
        return 0
    t = float(epsilon) * (n - 1) / n
    return math.ceil(math.log(2.0 * n / float(delta)) / (2.0 * t * t))


def _simple_csr(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Out-arcs without self-loops or repeats (both arcs of each edge when undirected)."""
    import scipy.sparse as sp

    if not graph.directed:
        a = _undirected_structure(graph)
    else:
        n = graph.n_nodes
        src = graph.sources().astype(np.int64)
        dst = graph.indices.astype(np.int64)
        keep = src != dst
        a = sp.coo_array(
            (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n, n)
        ).tocsr()
        a.sum_duplicates()
    return a.indptr.astype(np.int64), a.indices.astype(np.int64)


def betweenness(
    graph: Graph,
    *,
    epsilon: float = 0.05,
    delta: float = 0.1,
    exact: bool = False,
    method: str = "auto",
    random_state: int | None = None,
) -> np.ndarray:
    """Shortest-path betweenness of every node, approximate by default, normalised like networkx.

    Parameters
    ----------
    graph : Graph
        Directed graphs use directed paths; an undirected graph's edges go both ways.
        Paths are counted in hops (weights are ignored: they measure strength, not
        length); self-loops and repeated edges do not change shortest paths.
    epsilon : float, default 0.05
        Additive error of the approximation, in (0, 1), on the returned
        (networkx-normalised) scores.
    delta : float, default 0.1
        Probability, in (0, 1), that some score misses the error bound.
    exact : bool, default False
        Brandes' exact algorithm (same as ``method="exact"``), on graphs up to
        ``EXACT_BETWEENNESS_MAX_NODES`` nodes.
    method : {"auto", "exact", "sources", "kadabra", "rk"}, default "auto"
        ``"auto"`` takes the cheapest method that meets the bound: exact when the
        sources ``"sources"`` would need are at least ``n``; else ``"kadabra"`` on
        undirected graphs and ``"sources"`` on directed ones. See Notes.
    random_state : int, optional
        Seed of the sampling; given, the result repeats (networkit runs on one thread).

    Returns
    -------
    ndarray of float64, shape (n_nodes,)
        ``networkx.betweenness_centrality(G, normalized=True)``: the pair-dependency sum
        divided by ``(n - 1)(n - 2)`` (directed) or ``(n - 1)(n - 2) / 2`` (undirected).
        Graphs with fewer than 3 nodes give zeros.

    Raises
    ------
    InvalidParameter
        A parameter out of range, ``kadabra`` on a directed graph, or ``exact`` on a
        graph too large for it.
    MissingDependency
        networkit is not installed (``kadabra`` and ``rk`` only).

    Notes
    -----
    With probability at least ``1 - delta`` every returned score is within
    ``epsilon`` of networkx's (exact: error 0):

    - ``"exact"``: Brandes' algorithm, one BFS and one dependency pass per node,
      O(nm), in a parallel numba kernel.
    - ``"sources"``: the same kernel from ``k`` sources drawn without replacement,
      scaled by ``n / k`` (Brandes and Pich 2007), O(km), with ``k`` from
      :func:`betweenness_sources_needed` (Hoeffding with a union bound). Directed or not.
    - ``"kadabra"``: networkit's KADABRA (Borassi and Natale 2016), adaptive sampling
      of shortest paths between random pairs with balanced bidirectional BFS; the
      guarantee is ``epsilon`` on the share of ordered pairs, i.e. ``epsilon * n /
      (n - 2)`` on the returned score, so it runs at ``epsilon * (n - 2) / n``.
      networkit's implementation refuses directed graphs.
    - ``"rk"``: networkit's ``ApproxBetweenness`` (Riondato and Kornaropoulos 2016),
      ``(0.5 / e**2) (floor(log2(VD - 2)) + 1 + ln(1 / delta))`` sampled paths, VD the
      estimated vertex diameter, ``e = epsilon * (n - 2) / n``. Each sample is a full
      BFS; on Epinions (directed) it was slower than ``"sources"`` at the same bound.

    References
    ----------
    .. [1] Brandes. A faster algorithm for betweenness centrality. Journal of
       Mathematical Sociology 25(2), 2001.
    .. [2] Brandes, Pich. Centrality estimation in large networks. International
       Journal of Bifurcation and Chaos 17(7), 2007.
    .. [3] Borassi, Natale. KADABRA is an ADaptive Algorithm for Betweenness via
       Random Approximation. ESA 2016.
    .. [4] Riondato, Kornaropoulos. Fast approximation of betweenness centrality through
       sampling. Data Mining and Knowledge Discovery 30(2), 2016.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([(0, 1), (1, 2), (2, 3)], directed=False)
    >>> betweenness(g, exact=True).round(3).tolist()
    [0.0, 0.667, 0.667, 0.0]
    >>> approx = betweenness(g, epsilon=0.05, method="kadabra", random_state=0)
    >>> bool(abs(approx - [0, 2 / 3, 2 / 3, 0]).max() <= 0.05)
    True
    """
    graph = _check_graph(graph, "betweenness")
    check_number(
        epsilon, "epsilon", "betweenness", low=0.0, high=1.0, low_closed=False, high_closed=False
    )
    check_number(
        delta, "delta", "betweenness", low=0.0, high=1.0, low_closed=False, high_closed=False
    )
    check_choice(method, "method", "betweenness", BETWEENNESS_METHODS)
    if random_state is not None:
        check_number(random_state, "random_state", "betweenness", kind=numbers.Integral, low=0)
    n = graph.n_nodes
    if exact:
        method = "exact"
    if method == "exact" and n > EXACT_BETWEENNESS_MAX_NODES:
        raise InvalidParameter(
            "exact" if exact else "method",
            "betweenness",
            f"not exact on graphs above {EXACT_BETWEENNESS_MAX_NODES:,} nodes",
            exact if exact else method,
        )
    if method == "kadabra" and graph.directed:
        raise InvalidParameter(
            "method", "betweenness", "'kadabra' on undirected graphs only", method
        )
    if n < 3:
        return np.zeros(n, dtype=np.float64)
    if not np.any(graph.sources() != graph.indices):  # no arcs but self-loops
        return np.zeros(n, dtype=np.float64)
    k = betweenness_sources_needed(n, float(epsilon), float(delta))
    if method == "auto":  # the cheapest that meets the bound
        method = "exact" if k >= n else ("sources" if graph.directed else "kadabra")
    scale = 1.0 / ((n - 1) * (n - 2))
    if method in ("exact", "sources"):
        indptr, indices = _simple_csr(graph)
    if method == "exact" or (method == "sources" and k >= n):
        return (
            _brandes_sources(indptr, indices, np.arange(n, dtype=np.int64), _BRANDES_CHUNKS) * scale
        )
    if method == "sources":
        rng = np.random.default_rng(random_state)
        picked = np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
        raw = _brandes_sources(indptr, indices, picked, _BRANDES_CHUNKS)
        return np.asarray(raw * (n / k) * scale, dtype=np.float64)
    nk = _import_networkit("betweenness")
    g = _to_networkit(graph, nk, directed=graph.directed)
    pairs_eps = float(epsilon) * (n - 2) / n  # the bound on the share of ordered pairs
    with _networkit_seeded(nk, random_state):
        if method == "kadabra":
            algo = nk.centrality.KadabraBetweenness(g, pairs_eps, float(delta))
        else:
            algo = nk.centrality.ApproxBetweenness(g, epsilon=pairs_eps, delta=float(delta))
        algo.run()
    scores = np.asarray(algo.scores(), dtype=np.float64)
    if method == "kadabra":  # networkit's undirected KADABRA reports twice the pair share
        scores = scores / 2.0
    # share of the n(n - 1) ordered pairs -> networkx's division by (n - 1)(n - 2)
    return np.asarray(scores * (n / (n - 2)), dtype=np.float64)
