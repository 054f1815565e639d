"""The Graph: compressed sparse rows with id maps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from grapevine._validation import check_choice, check_number
from grapevine.errors import InvalidParameter, UnknownPerson

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import scipy.sparse as sp

__all__ = ["BuildReport", "Graph"]

MultiEdges = Literal["sum", "first", "max"]


@dataclass(frozen=True)
class BuildReport:
    """What building a graph found and did with irregular edges."""

    edges_read: int
    multi_edges: int  # repeated (source, target) pairs merged into one arc
    self_loops: int  # u -> u edges seen
    self_loops_dropped: bool

    def lines(self) -> list[str]:
        """Human-readable sentences for the CLI."""
        out = [f"{self.edges_read:,} edges read"]
        if self.multi_edges:
            out.append(f"{self.multi_edges:,} repeated edges merged (multi-edges)")
        if self.self_loops:
            verb = "dropped" if self.self_loops_dropped else "kept"
            out.append(f"{self.self_loops:,} self-loops {verb}")
        return out


class Graph:
    """A directed, weighted graph stored as CSR arrays with id maps.

    Nodes are numbered ``0 .. n_nodes - 1``; ``ids[i]`` is the label of node
    ``i`` in the source (a platform handle, a file's node id). Out-arcs of node
    ``u`` are ``indices[indptr[u]:indptr[u + 1]]`` with ``weights`` alongside;
    each arc has a fixed position (its edge id) that every per-edge array
    (probabilities, learned weights) is aligned with. In-neighbours come from
    a transposed copy built on first use.

    An undirected graph stores both arcs of each edge, as influence
    maximisation codes do.

    Parameters
    ----------
    indptr : array of int64, shape (n_nodes + 1,)
    indices : array of int32 (int64 above 2**31 nodes), shape (n_edges,)
    weights : array of float32, shape (n_edges,), optional (ones)
    ids : array-like of labels, shape (n_nodes,), optional (0 .. n-1)
    directed : bool

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("b", "c")])
    >>> g.n_nodes, g.n_edges
    (3, 3)
    >>> g.out_neighbors("a").tolist()
    ['b', 'c']
    >>> g.in_degree().tolist()
    [0, 1, 2]
    >>> g.weighted_cascade().tolist()
    [1.0, 0.5, 0.5]
    """

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        weights: np.ndarray | None = None,
        ids: Iterable[Any] | None = None,
        *,
        directed: bool = True,
        report: BuildReport | None = None,
    ) -> None:
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        n = len(indptr) - 1
        if n < 0 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise InvalidParameter("indptr", "Graph", "a non-decreasing array starting at 0", "…")
        m = int(indptr[-1])
        idx_dtype = np.int32 if n < 2**31 else np.int64
        indices = np.ascontiguousarray(indices, dtype=idx_dtype)
        if len(indices) != m:
            raise InvalidParameter("indices", "Graph", f"an array of length {m}", len(indices))
        if m and (indices.min() < 0 or indices.max() >= n):
            raise InvalidParameter("indices", "Graph", f"node numbers in [0, {n})", "out of range")
        if weights is None:
            weights = np.ones(m, dtype=np.float32)
        weights = np.ascontiguousarray(weights, dtype=np.float32)
        if len(weights) != m:
            raise InvalidParameter("weights", "Graph", f"an array of length {m}", len(weights))
        self.indptr = indptr
        self.indices = indices
        self.weights = weights
        self.ids = (
            np.arange(n)
            if ids is None
            else np.asarray(list(ids) if not hasattr(ids, "__len__") else ids)
        )
        if len(self.ids) != n:
            raise InvalidParameter("ids", "Graph", f"{n} labels", len(self.ids))
        self.directed = directed
        self.report = report
        self._index: pd.Index | None = None
        self._transpose: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        sources: np.ndarray | Iterable[Any],
        targets: np.ndarray | Iterable[Any],
        weights: np.ndarray | Iterable[float] | None = None,
        *,
        directed: bool = True,
        nodes: Iterable[Any] | None = None,
        multi_edges: MultiEdges = "sum",
        self_loops: bool = False,
    ) -> Graph:
        """Build a graph from parallel arrays of source and target labels.

        Parameters
        ----------
        sources, targets : array-like
            Node labels of each edge (any hashable: ints or strings).
        weights : array-like of float, optional
            Edge weights; 1 when omitted.
        directed : bool
            When False each edge is stored in both directions.
        nodes : iterable, optional
            Extra labels to include even without edges (isolated nodes).
        multi_edges : {"sum", "first", "max"}
            How to merge repeated (source, target) pairs: add their weights
            (a count when unweighted), keep the first, or keep the largest.
        self_loops : bool
            Keep ``u -> u`` edges (dropped by default; counted either way).

        Notes
        -----
        O(m log m): one factorisation of the labels and one sort of the arcs.
        Node numbers follow the sorted order of the labels, so the same edges
        give the same graph whatever their order in the input.
        """
        check_choice(multi_edges, "multi_edges", "Graph.from_arrays", ("sum", "first", "max"))
        src = np.asarray(sources)
        dst = np.asarray(targets)
        if src.shape != dst.shape or src.ndim != 1:
            raise InvalidParameter(
                "targets", "Graph.from_arrays", "a 1-d array as long as sources", dst.shape
            )
        m_read = len(src)
        w = (
            np.ones(m_read, dtype=np.float64)
            if weights is None
            else np.asarray(weights, dtype=np.float64)
        )
        if w.shape != src.shape:
            raise InvalidParameter(
                "weights", "Graph.from_arrays", "an array as long as sources", w.shape
            )
        extra = np.asarray(list(nodes)) if nodes is not None else np.empty(0, dtype=src.dtype)
        labels = np.concatenate([src, dst, extra]) if len(extra) else np.concatenate([src, dst])
        if labels.dtype == object:
            labels = labels.astype(str)
        codes, uniques = pd.factorize(labels, sort=True)
        n = len(uniques)
        s = codes[:m_read].astype(np.int64)
        t = codes[m_read : 2 * m_read].astype(np.int64)
        loops = s == t
        n_loops = int(loops.sum())
        if n_loops and not self_loops:
            keep = ~loops
            s, t, w = s[keep], t[keep], w[keep]
        if not directed:  # merge on the unordered pair first, so both arcs agree
            s, t = np.minimum(s, t), np.maximum(s, t)
        key = s * n + t
        order = np.argsort(key, kind="stable")  # stable: "first" keeps input order
        key, w = key[order], w[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        group = np.cumsum(first) - 1
        uniq_key = key[first]
        wu: np.ndarray
        if multi_edges == "sum":
            wu = np.bincount(group, weights=w, minlength=len(uniq_key))
        elif multi_edges == "max":
            wu = np.full(len(uniq_key), -np.inf)
            np.maximum.at(wu, group, w)
        else:
            wu = w[first]
        n_multi = int(len(key) - len(uniq_key))
        if not directed:  # both arcs of each pair; a self-loop is one arc
            a, b = uniq_key // n if n else uniq_key, uniq_key % n if n else uniq_key
            proper = a != b
            a, b = np.concatenate([a, b[proper]]), np.concatenate([b, a[proper]])
            wu = np.concatenate([wu, wu[proper]])
            uniq_key = a * n + b
            order = np.argsort(uniq_key, kind="stable")
            uniq_key, wu = uniq_key[order], wu[order]
        su = uniq_key // n if n else uniq_key
        tu = uniq_key % n if n else uniq_key
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(su, minlength=n), out=indptr[1:])
        report = BuildReport(
            edges_read=m_read,
            multi_edges=n_multi,
            self_loops=n_loops,
            self_loops_dropped=not self_loops,
        )
        return cls(indptr, tu, wu, ids=uniques, directed=directed, report=report)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[Any, ...]], *, directed: bool = True) -> Graph:
        """Build a graph from ``(u, v)`` or ``(u, v, weight)`` tuples (small inputs)."""
        rows = list(edges)
        if not rows:
            return cls(np.zeros(1, dtype=np.int64), np.empty(0, dtype=np.int32), directed=directed)
        src = [r[0] for r in rows]
        dst = [r[1] for r in rows]
        w = [r[2] if len(r) > 2 else 1.0 for r in rows]
        return cls.from_arrays(src, dst, w, directed=directed)

    @classmethod
    def from_pandas(
        cls,
        frame: pd.DataFrame,
        source: str = "source",
        target: str = "target",
        weight: str | None = None,
        *,
        directed: bool = True,
        multi_edges: MultiEdges = "sum",
        self_loops: bool = False,
    ) -> Graph:
        """Build a graph from a DataFrame edge list.

        >>> import pandas as pd
        >>> df = pd.DataFrame({"source": [1, 1, 2], "target": [2, 3, 3], "w": [.5, .2, .1]})
        >>> Graph.from_pandas(df, weight="w").weights.tolist()
        [0.5, 0.20000000298023224, 0.10000000149011612]
        """
        for col in (source, target) + ((weight,) if weight else ()):
            if col not in frame.columns:
                raise InvalidParameter(
                    "frame",
                    "Graph.from_pandas",
                    f"a DataFrame with a {col!r} column",
                    list(frame.columns),
                )
        return cls.from_arrays(
            frame[source].to_numpy(),
            frame[target].to_numpy(),
            frame[weight].to_numpy() if weight else None,
            directed=directed,
            multi_edges=multi_edges,
            self_loops=self_loops,
        )

    @classmethod
    def from_edgelist(
        cls,
        path: str | Path,
        *,
        directed: bool = True,
        weighted: bool | None = None,
        header: Literal["auto", "none", "names", "counts"] = "auto",
        multi_edges: MultiEdges = "sum",
        self_loops: bool = False,
        cache: bool | None = None,
    ) -> Graph:
        """Read a graph from an edge-list file (see :func:`grapevine.graph.read_edgelist`).

        ``weighted=None`` uses a third column as weights when the file has one.

        ``cache`` keeps the built graph in a binary file (``<name>.grapevine.npz`` beside the
        file, or in the ``GRAPEVINE_CACHE_DIR`` folder when that folder is not writable) and
        reads it instead of the text while the file's size and SHA-256 and these options are
        unchanged. ``None`` (the default) caches files of 64 KiB or more; ``False`` always
        parses and writes nothing.
        """
        if cache is not None and not isinstance(cache, bool):
            raise InvalidParameter("cache", "Graph.from_edgelist", "a bool or None", cache)

        def build() -> Graph:
            from grapevine.graph._read import read_edgelist

            edges = read_edgelist(path, header=header)
            use_w = edges.weights if (weighted is None or weighted) else None
            if weighted and edges.weights is None:
                raise InvalidParameter(
                    "weighted", "Graph.from_edgelist", "False for a file with two columns", True
                )
            return cls.from_arrays(
                edges.sources,
                edges.targets,
                use_w,
                directed=directed,
                multi_edges=multi_edges,
                self_loops=self_loops,
            )

        file = Path(path)
        if cache is False or not file.is_file():
            return build()
        if cache is None:
            from grapevine.graph._cache import CACHE_MIN_BYTES

            if file.stat().st_size < CACHE_MIN_BYTES:
                return build()
        from grapevine.graph._cache import cached_graph, reader_options

        options = reader_options(
            directed=directed,
            weighted=weighted,
            header=header,
            multi_edges=multi_edges,
            self_loops=self_loops,
        )
        return cached_graph(file, options, build)[0]

    # ------------------------------------------------------------------ basic facts
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Number of arcs (an undirected edge counts twice)."""
        return len(self.indices)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return f"<Graph {kind}: {self.n_nodes:,} nodes, {self.n_edges:,} arcs>"

    def out_degree(self) -> np.ndarray:
        """Out-degree of every node (int64)."""
        return np.diff(self.indptr)

    def in_degree(self) -> np.ndarray:
        """In-degree of every node (int64)."""
        return np.bincount(self.indices, minlength=self.n_nodes).astype(np.int64)

    def sources(self) -> np.ndarray:
        """The source node number of every arc, aligned with ``indices``."""
        return np.repeat(np.arange(self.n_nodes, dtype=self.indices.dtype), self.out_degree())

    # ------------------------------------------------------------------ id maps
    def positions(self, labels: Any) -> np.ndarray:
        """Node numbers of labels, -1 for a label not in the graph (never raises).

        On a graph with integer ids, labels given as strings of integers match them.

        >>> Graph.from_edges([(1, 2)]).positions(["2", "x", 1]).tolist()
        [1, -1, 0]
        """
        if self._index is None:
            self._index = pd.Index(self.ids)
        arr = np.atleast_1d(np.asarray(labels))
        if self.ids.dtype.kind in "iu" and arr.dtype.kind in "OUS":
            try:
                arr = arr.astype(np.int64)  # exact, when every label is an integer
            except (ValueError, TypeError, OverflowError):
                num = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy()
                ok = np.isfinite(num) & (num == np.round(num))
                out = np.full(len(arr), -1, dtype=np.int64)
                if ok.any():
                    out[ok] = self._index.get_indexer(num[ok].astype(np.int64))
                return out
        return np.asarray(self._index.get_indexer(arr), dtype=np.int64)

    def index_of(self, labels: Any) -> np.ndarray:
        """Node numbers of labels; raises :class:`UnknownPerson` for a missing one."""
        pos = self.positions(labels)
        if (pos < 0).any():
            missing = np.atleast_1d(np.asarray(labels))[np.argmax(pos < 0)]
            raise UnknownPerson(missing.item() if hasattr(missing, "item") else missing)
        return pos

    def _node(self, node: Any) -> int:
        return int(self.index_of([node])[0])

    def out_neighbors(self, node: Any) -> np.ndarray:
        """Labels of the nodes ``node`` points to."""
        u = self._node(node)
        return np.asarray(self.ids[self.indices[self.indptr[u] : self.indptr[u + 1]]])

    def in_neighbors(self, node: Any) -> np.ndarray:
        """Labels of the nodes pointing to ``node``."""
        v = self._node(node)
        in_ptr, in_idx, _ = self.transpose()
        return np.asarray(self.ids[in_idx[in_ptr[v] : in_ptr[v + 1]]])

    def transpose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The in-CSR: ``(in_indptr, in_sources, edge_ids)``.

        ``in_sources[in_indptr[v]:in_indptr[v+1]]`` are the in-neighbours of
        ``v`` and ``edge_ids`` gives the position of each of those arcs in the
        out-CSR (to look up its weight or probability). Built once, O(m).
        """
        if self._transpose is None:
            src = self.sources()
            order = np.argsort(self.indices, kind="stable")
            in_ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(self.in_degree(), out=in_ptr[1:])
            self._transpose = (in_ptr, src[order], order.astype(np.int64))
        return self._transpose

    # ------------------------------------------------------------------ edge probabilities
    def weighted_cascade(self) -> np.ndarray:
        """Weighted-cascade probabilities: p(u, v) = 1 / in-degree(v).

        References
        ----------
        Kempe, Kleinberg, Tardos. Maximizing the spread of influence through a
        social network. KDD 2003.
        """
        indeg = self.in_degree().astype(np.float64)
        return np.asarray(1.0 / indeg[self.indices], dtype=np.float32)

    def trivalency(
        self, values: tuple[float, ...] = (0.1, 0.01, 0.001), *, random_state: int | None = None
    ) -> np.ndarray:
        """Trivalency probabilities: each arc draws one of ``values`` uniformly.

        References
        ----------
        Chen, Wang, Yang. Efficient influence maximization in social networks. KDD 2009.
        """
        rng = np.random.default_rng(random_state)
        return np.asarray(values, dtype=np.float32)[rng.integers(0, len(values), self.n_edges)]

    def uniform(self, p: float = 0.01) -> np.ndarray:
        """The same probability ``p`` on every arc."""
        check_number(p, "p", "Graph.uniform", low=0.0, high=1.0)
        return np.full(self.n_edges, p, dtype=np.float32)

    def probabilities(
        self, model: str = "wc", *, p: float = 0.01, random_state: int | None = None
    ) -> np.ndarray:
        """Edge probabilities by name: ``"wc"``, ``"trivalency"``, ``"uniform"`` or ``"weight"``."""
        check_choice(
            model, "model", "Graph.probabilities", ("wc", "trivalency", "uniform", "weight")
        )
        if model == "wc":
            return self.weighted_cascade()
        if model == "trivalency":
            return self.trivalency(random_state=random_state)
        if model == "uniform":
            return self.uniform(p)
        if self.weights.size and (self.weights.min() < 0 or self.weights.max() > 1):
            raise InvalidParameter(
                "model",
                "Graph.probabilities",
                "'weight' only when weights lie in [0, 1]",
                model,
            )
        return self.weights.copy()

    # ------------------------------------------------------------------ export
    def to_scipy(self) -> sp.csr_array:
        """The weighted adjacency matrix as a ``scipy.sparse.csr_array``."""
        import scipy.sparse as sp

        n = self.n_nodes
        return sp.csr_array((self.weights, self.indices, self.indptr), shape=(n, n))

    def to_networkx(self) -> nx.DiGraph | nx.Graph:
        """A networkx (Di)Graph with the labels as nodes and ``weight`` on each edge."""
        import networkx as nx

        g: nx.DiGraph | nx.Graph = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(self.ids.tolist())
        src = self.ids[self.sources()].tolist()
        dst = self.ids[self.indices].tolist()
        g.add_weighted_edges_from(zip(src, dst, self.weights.tolist(), strict=True))
        return g

    def edges(self) -> pd.DataFrame:
        """The arcs as a DataFrame with ``source``, ``target`` (labels) and ``weight``."""
        return pd.DataFrame(
            {
                "source": self.ids[self.sources()],
                "target": self.ids[self.indices],
                "weight": self.weights,
            }
        )

    def write_gexf(
        self, path: str | Path, *, node_attributes: Mapping[str, np.ndarray] | None = None
    ) -> None:
        """Write the graph as GEXF 1.3 for Gephi, with optional per-node attributes.

        Streams vectorised text; a million arcs take about a second.
        """
        from grapevine.graph._gexf import write_gexf

        write_gexf(self, path, node_attributes=node_attributes)
