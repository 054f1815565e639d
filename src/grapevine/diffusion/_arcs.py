"""Per-arc values from a file: ``u v p`` lines aligned with a graph's arcs."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from grapevine.errors import BadInput
from grapevine.graph import Graph, read_edgelist

__all__ = ["arc_positions", "read_arc_probabilities"]


def arc_positions(graph: Graph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Where each arc ``sources[i] -> targets[i]`` sits in ``graph.indices`` (-1: not an arc).

    Parameters
    ----------
    graph : Graph
    sources, targets : arrays of node labels, same length
        Labels the graph does not know are not arcs either.

    Returns
    -------
    ndarray of int64
        The position of each arc in the graph's CSR arrays (the index into
        ``graph.indices`` and into a per-arc probability array), or -1.

    Notes
    -----
    One sort of the graph's arcs and one binary search per query arc:
    O((m + q) log m) for ``m`` arcs and ``q`` queries. A graph with repeated arcs
    (an undirected multigraph) answers one of the copies.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> arc_positions(g, np.array(["b", "a", "c"]), np.array(["c", "b", "a"])).tolist()
    [1, 0, -1]
    """
    sources, targets = np.asarray(sources), np.asarray(targets)
    if sources.shape != targets.shape:
        raise ValueError("sources and targets must have the same length")
    n, m = graph.n_nodes, graph.n_edges
    out = np.full(len(sources), -1, dtype=np.int64)
    if m == 0 or len(sources) == 0:
        return out
    u, v = graph.positions(sources), graph.positions(targets)
    known = (u >= 0) & (v >= 0)
    key = graph.sources().astype(np.int64) * n + graph.indices.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    wanted = u[known].astype(np.int64) * n + v[known].astype(np.int64)
    pos = np.minimum(np.searchsorted(sorted_key, wanted), m - 1)
    hit = sorted_key[pos] == wanted
    found = np.full(len(wanted), -1, dtype=np.int64)
    found[hit] = order[pos[hit]]
    out[known] = found
    return out


def read_arc_probabilities(graph: Graph, path: str | PathLike[str]) -> np.ndarray:
    """Per-arc probabilities from a ``u v p`` file, aligned with ``graph.indices``.

    Every edge-list layout :func:`~grapevine.graph.read_edgelist` reads is accepted, as
    long as it has a third column. Arcs of the graph that the file does not list get
    probability 0.

    Parameters
    ----------
    graph : Graph
        The graph the probabilities are for.
    path : path-like
        The file (``.gz`` allowed).

    Returns
    -------
    ndarray of float64, shape (graph.n_edges,)
        Ready for ``probabilities=`` of :func:`~grapevine.diffusion.simulate`, the seed
        selectors and :func:`~grapevine.diffusion.edge_probabilities` (which checks the
        values lie in [0, 1]).

    Raises
    ------
    BadInput
        The file has no third column, or lists an arc the graph does not have (the
        error names the file and the line).

    Notes
    -----
    O((m + q) log m) for ``m`` arcs in the graph and ``q`` lines in the file (see
    :func:`arc_positions`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "p.txt"
    ...     _ = path.write_text("b c 0.5\\na b 0.25\\n")
    ...     read_arc_probabilities(g, path).tolist()
    [0.25, 0.5, 0.0]
    """
    edges = read_edgelist(Path(path))
    if edges.weights is None:
        raise BadInput("a probability file needs a third column 'u v p'", file=str(path))
    where = arc_positions(graph, edges.sources, edges.targets)
    missing = where < 0
    if missing.any():
        i = int(np.argmax(missing))
        raise BadInput(
            f"arc {_plain(edges.sources[i])!r} -> {_plain(edges.targets[i])!r} is not in the graph",
            file=str(path),
            line=int(edges.lines[i]),
        )
    p = np.zeros(graph.n_edges, dtype=np.float64)
    p[where] = edges.weights
    return p


def _plain(label: object) -> object:
    return label.item() if isinstance(label, np.generic) else label
