"""Cascade trees: reconstruction from parent links or inference, and their metrics in O(n).

A cascade is derived, never stored: a forest of adoptions (posts, reshares,
referrals) linked child -> parent. :func:`build_forest` turns parallel arrays
of ids, parent ids and times into a :class:`Forest`, applying stated rules to
bad links; :func:`tree_metrics` measures every tree of it at once with
vectorised numpy (no Python loop over nodes); :func:`infer_parents` rebuilds
parent links where only the order of adopters and a social graph are known.

Rules for bad input (each case is listed in ``Forest.issues`` with its id):

* a duplicate id keeps its first occurrence; later ones are dropped;
* an unknown parent, or a node that is its own parent, makes the node a root;
* a cycle of parent links is cut at its earliest node (by time, then input
  order), which becomes a root;
* a child earlier than its parent keeps its link (``time inversion``): the
  links say who heard from whom, clocks can be skewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from grapevine._validation import check_number
from grapevine.errors import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.graph import Graph

__all__ = [
    "Forest",
    "binned_by_size",
    "build_forest",
    "forest_from_posts",
    "forest_from_retweets",
    "infer_parents",
    "reach_split",
    "tree_metrics",
]


@dataclass
class Forest:
    """Adoptions linked child -> parent, with depths and roots computed.

    Attributes
    ----------
    ids : ndarray
        Node labels (post ids, person handles), unique.
    parent : ndarray of int64
        Index of each node's parent, -1 for a root.
    time : ndarray of float64
        Adoption times (NaN where unknown).
    cascade : ndarray
        The cascade (story, campaign) label of each node.
    root : ndarray of int64
        Index of the root of each node's tree.
    depth : ndarray of int64
        Distance from the root (roots have depth 0).
    subtree : ndarray of int64
        Number of nodes in the subtree of each node, itself included.
    issues : DataFrame
        ``id``, ``issue`` and ``rule`` for every link a rule changed or flagged.
    """

    ids: np.ndarray
    parent: np.ndarray
    time: np.ndarray
    cascade: np.ndarray
    root: np.ndarray = field(repr=False)
    depth: np.ndarray = field(repr=False)
    subtree: np.ndarray = field(repr=False)
    issues: pd.DataFrame = field(repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_trees(self) -> int:
        return int((self.parent < 0).sum())


def _children_csr(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(parent)
    has = parent >= 0
    kids = np.flatnonzero(has)
    order = np.argsort(parent[kids], kind="stable")
    kids = kids[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent[has], minlength=n), out=ptr[1:])
    return ptr, kids


def _levels(parent: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """BFS levels from the roots; nodes never reached are on (or hang off) cycles."""
    n = len(parent)
    ptr, kids = _children_csr(parent)
    depth = np.full(n, -1, dtype=np.int64)
    level = np.flatnonzero(parent < 0)
    levels = []
    d = 0
    while level.size:
        depth[level] = d
        levels.append(level)
        starts, stops = ptr[level], ptr[level + 1]
        counts = stops - starts
        total = int(counts.sum())
        if total == 0:
            break
        # concatenate the children ranges of this level without a Python loop
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        level = kids[offsets + np.arange(total)]
        d += 1
    return levels, depth


def build_forest(
    ids: Sequence[Any] | np.ndarray,
    parents: Sequence[Any] | np.ndarray,
    times: Sequence[float] | np.ndarray | None = None,
    cascades: Sequence[Any] | np.ndarray | None = None,
) -> Forest:
    """Build cascade trees from ids and parent ids, applying the stated rules to bad links.

    Parameters
    ----------
    ids : array-like
        Node labels (unique; duplicates keep their first occurrence).
    parents : array-like
        Parent label of each node; None / NaN / "" for a root.
    times : array-like of float, optional
        Adoption times (Unix seconds or any unit).
    cascades : array-like, optional
        Cascade label of each node (all one cascade when omitted).

    Returns
    -------
    Forest

    Notes
    -----
    O(n log n) for the id lookup, then O(n) vectorised per tree level.

    Examples
    --------
    >>> f = build_forest(["a", "b", "c", "d"], [None, "a", "a", "b"])
    >>> f.depth.tolist(), f.subtree.tolist()
    ([0, 1, 1, 2], [4, 2, 1, 1])
    """
    ids_arr = np.asarray(ids)
    par_arr = np.asarray(parents, dtype=object)
    if ids_arr.ndim != 1 or par_arr.shape != ids_arr.shape:
        raise BadInput("ids and parents must be 1-d and of the same length", field="parents")
    n0 = len(ids_arr)
    t_arr = np.full(n0, np.nan) if times is None else np.asarray(times, dtype=np.float64).copy()
    c_arr = np.zeros(n0, dtype=np.int64) if cascades is None else np.asarray(cascades)
    if t_arr.shape != ids_arr.shape or c_arr.shape != ids_arr.shape:
        raise BadInput("times and cascades must be as long as ids", field="times")
    issues: list[tuple[Any, str, str]] = []
    keys = _as_text(ids_arr) if ids_arr.dtype == object else ids_arr
    index = pd.Index(keys)
    dup = index.duplicated(keep="first")
    if dup.any():
        for label in ids_arr[dup].tolist():
            issues.append((label, "duplicate id", "kept the first occurrence"))
        keep = ~dup
        ids_arr, par_arr, t_arr, c_arr = ids_arr[keep], par_arr[keep], t_arr[keep], c_arr[keep]
        keys = keys[keep]
        index = pd.Index(keys)
    n = len(ids_arr)
    empty = pd.isna(par_arr) | (par_arr == "")
    lookup = par_arr.copy()
    lookup[empty] = None
    if keys.dtype != object and not empty.all():
        with np.errstate(all="ignore"):
            lookup = pd.Series(lookup).astype(object).to_numpy()
    pos = np.full(n, -1, dtype=np.int64)
    if (~empty).any():
        probe = lookup[~empty]
        if keys.dtype.kind in "iuf":
            probe = pd.to_numeric(pd.Series(probe), errors="coerce").to_numpy()
        else:
            probe = _as_text(probe)
        pos[~empty] = index.get_indexer(probe)
    unknown = ~empty & (pos < 0)
    for label in ids_arr[unknown].tolist():
        issues.append((label, "unknown parent", "made a root"))
    own = pos == np.arange(n)
    for label in ids_arr[own].tolist():
        issues.append((label, "own parent", "made a root"))
    pos[own] = -1
    levels, depth = _levels(pos)
    while (depth < 0).any():  # cycles: cut each at its earliest node
        stranded = np.flatnonzero(depth < 0)
        on_cycle = _cycle_nodes(pos, stranded)
        order = np.lexsort((on_cycle, np.nan_to_num(t_arr[on_cycle], nan=np.inf)))
        cut = on_cycle[order[0]]
        issues.append((ids_arr[cut], "cycle of parent links", "cut here: made a root"))
        pos[cut] = -1
        levels, depth = _levels(pos)
    has = pos >= 0
    inverted = has & (t_arr < np.where(has, t_arr[np.maximum(pos, 0)], -np.inf))
    for label in ids_arr[inverted].tolist():
        issues.append((label, "child before parent in time", "link kept"))
    root = np.arange(n, dtype=np.int64)
    for level in levels[1:]:
        root[level] = root[pos[level]]
    subtree = np.ones(n, dtype=np.int64)
    for level in reversed(levels[1:]):
        np.add.at(subtree, pos[level], subtree[level])
    mixed = has & (c_arr != c_arr[np.maximum(pos, 0)])
    for label in ids_arr[mixed].tolist():
        issues.append((label, "parent in another cascade", "link kept"))
    frame = pd.DataFrame(issues, columns=["id", "issue", "rule"])
    return Forest(ids_arr, pos, t_arr, c_arr, root, depth, subtree, frame)


def _as_text(values: np.ndarray) -> np.ndarray:
    """Labels as strings, skipping the conversion when they already are."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values
    return values.astype(str)


def _cycle_nodes(parent: np.ndarray, stranded: np.ndarray) -> np.ndarray:
    """The nodes of one cycle among nodes not reachable from a root (walks parent links)."""
    node = int(stranded[0])
    seen: dict[int, int] = {}
    path: list[int] = []
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = int(parent[node])
    return np.asarray(path[seen[node] :], dtype=np.int64)


def tree_metrics(forest: Forest, *, k: Sequence[int] = (10, 100)) -> pd.DataFrame:
    """Size, depth, breadth, structural virality and timing of every tree, in O(n).

    Parameters
    ----------
    forest : Forest
    k : sequence of int
        Report the time from the root until the tree had ``k`` adopters
        (the root included), for each ``k`` (NaN when it never did).

    Returns
    -------
    DataFrame
        One row per tree, largest first: ``root`` (id), ``cascade``, ``size``,
        ``depth``, ``max_breadth`` (most nodes at one depth), ``max_out_degree``,
        ``structural_virality`` (mean shortest-path distance between pairs of
        nodes; NaN for a single node), ``broadcast_share`` (adopters at depth 1
        over all adopters after the root), ``start``, ``end`` and ``time_to_<k>``.

    Notes
    -----
    The Wiener index of a tree is the sum over its edges of
    ``s * (n - s)``, with ``s`` the subtree size below the edge, so
    structural virality ``2 W / (n (n - 1))`` costs one pass over the nodes.

    References
    ----------
    Goel, Anderson, Hofman, Watts. The structural virality of online diffusion.
    Management Science 62(1), 2016.

    Examples
    --------
    >>> f = build_forest([1, 2, 3, 4, 5], [None, 1, 2, 3, 4])  # a chain
    >>> tree_metrics(f)[["size", "depth", "structural_virality"]].to_dict("records")
    [{'size': 5, 'depth': 4, 'structural_virality': 2.0}]
    """
    for value in k:
        check_number(value, "k", "tree_metrics", low=1)
    n = len(forest)
    roots = np.flatnonzero(forest.parent < 0)
    slot = np.full(n, -1, dtype=np.int64)
    slot[roots] = np.arange(len(roots))
    tree = slot[forest.root]
    size = np.bincount(tree, minlength=len(roots))
    depth = np.zeros(len(roots), dtype=np.int64)
    np.maximum.at(depth, tree, forest.depth)
    pairs = tree * (int(forest.depth.max(initial=0)) + 1) + forest.depth
    uniq, counts = np.unique(pairs, return_counts=True)
    breadth = np.zeros(len(roots), dtype=np.int64)
    np.maximum.at(breadth, uniq // (int(forest.depth.max(initial=0)) + 1), counts)
    has = forest.parent >= 0
    outdeg = np.bincount(forest.parent[has], minlength=n)
    max_out = np.zeros(len(roots), dtype=np.int64)
    np.maximum.at(max_out, tree, outdeg)
    s = forest.subtree[has].astype(np.float64)
    wiener = np.bincount(tree[has], weights=s * (size[tree[has]] - s), minlength=len(roots))
    pairs_n = size * (size - 1) / 2.0
    virality = np.divide(wiener, pairs_n, out=np.full(len(roots), np.nan), where=pairs_n > 0)
    depth1 = np.bincount(tree[forest.depth == 1], minlength=len(roots))
    broadcast = np.divide(depth1, size - 1, out=np.full(len(roots), np.nan), where=size > 1).astype(
        np.float64
    )
    t = forest.time
    start = t[roots]
    end = np.full(len(roots), -np.inf)
    np.fmax.at(end, tree, t)
    end[np.isneginf(end)] = np.nan
    out = pd.DataFrame(
        {
            "root": forest.ids[roots],
            "cascade": forest.cascade[roots],
            "size": size,
            "depth": depth,
            "max_breadth": breadth,
            "max_out_degree": max_out,
            "structural_virality": virality,
            "broadcast_share": broadcast,
            "start": start,
            "end": end,
        }
    )
    if len(k):
        order = np.lexsort((np.nan_to_num(t, nan=np.inf), tree))
        rank = np.empty(n, dtype=np.int64)
        sorted_tree = tree[order]
        first = np.r_[0, np.flatnonzero(np.diff(sorted_tree)) + 1]
        group_start = np.repeat(first, np.diff(np.r_[first, n]))
        rank[order] = np.arange(n) - group_start
        for value in k:
            hit = rank == value - 1
            when = np.full(len(roots), np.nan)
            when[tree[hit]] = t[hit]
            out[f"time_to_{value}"] = when - start
    out = out.sort_values(["size", "start"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


def reach_split(
    forest: Forest,
    *,
    followers: np.ndarray | None = None,
    paid: np.ndarray | None = None,
) -> pd.DataFrame:
    """Adopters (and their audiences) of each cascade split into organic, viral and paid.

    The old Facebook definitions, rebuilt from our own links: an adopter at depth 1
    heard it from the root (the brand's post or the campaign's seed): **organic**;
    deeper adopters heard it through a friend's share: **viral**; adopters flagged in
    ``paid`` came through paid distribution: **paid**, whatever their depth.
    With ``followers``, the potential audience of each channel is the sum of the
    followers of the nodes that passed it on: the roots' (organic, or paid for paid
    roots) and the other sharers' (viral); it is not de-duplicated (no follower lists).

    Returns
    -------
    DataFrame indexed by cascade: ``organic``, ``viral``, ``paid`` adopters,
    ``viral_share`` (viral over all adopters after the roots) and, with
    ``followers``, ``audience_organic``, ``audience_viral``, ``audience_paid``.

    Examples
    --------
    >>> f = build_forest(["brand", "a", "b", "c"], [None, "brand", "a", "brand"])
    >>> reach_split(f).loc[0, ["organic", "viral", "paid"]].tolist()
    [2, 1, 0]
    """
    n = len(forest)
    is_paid = np.zeros(n, dtype=bool) if paid is None else np.asarray(paid, dtype=bool)
    if is_paid.shape != (n,):
        raise BadInput(f"paid must have one flag per node ({n})", field="paid")
    nonroot = forest.parent >= 0
    channel = np.where(is_paid, 2, np.where(forest.depth == 1, 0, 1))
    frame = pd.DataFrame({"cascade": forest.cascade, "channel": channel, "adopter": nonroot})
    counts = frame[frame["adopter"]].groupby(["cascade", "channel"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[0, 1, 2], fill_value=0)
    counts.columns = ["organic", "viral", "paid"]
    all_cascades = pd.Index(pd.unique(forest.cascade), name="cascade")
    counts = counts.reindex(all_cascades, fill_value=0)
    total = counts.sum(axis=1)
    counts["viral_share"] = np.divide(
        counts["viral"].to_numpy(dtype=float),
        total.to_numpy(dtype=float),
        out=np.full(len(counts), np.nan),
        where=total.to_numpy() > 0,
    )
    if followers is not None:
        fol = np.asarray(followers, dtype=np.float64)
        if fol.shape != (n,):
            raise BadInput(f"followers must have one count per node ({n})", field="followers")
        passed = np.bincount(forest.parent[nonroot], minlength=n) > 0
        sender_channel = np.where(is_paid, 2, np.where(forest.parent < 0, 0, 1))
        sender = pd.DataFrame(
            {"cascade": forest.cascade, "channel": sender_channel, "followers": fol}
        )[passed | (forest.parent < 0)]
        audience = sender.groupby(["cascade", "channel"])["followers"].sum().unstack(fill_value=0)
        audience = audience.reindex(columns=[0, 1, 2], fill_value=0.0).reindex(
            all_cascades, fill_value=0.0
        )
        counts["audience_organic"] = audience[0]
        counts["audience_viral"] = audience[1]
        counts["audience_paid"] = audience[2]
    return counts


def infer_parents(
    users: Sequence[Any] | np.ndarray,
    times: Sequence[float] | np.ndarray,
    cascades: Sequence[Any] | np.ndarray,
    graph: Graph,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Infer who each adopter heard it from: the most recent earlier adopter they follow.

    For each cascade, adopters are taken in time order. The parent of adopter ``v``
    is the adopter ``u`` with the latest adoption time strictly before ``v``'s among
    ``v``'s in-neighbours in ``graph`` (arcs point the way influence flows: ``u -> v``
    means ``v`` sees ``u``'s posts). An adopter with no such earlier adopter, or who
    is not in the graph, is a root (a new seed); none is dropped.

    Parameters
    ----------
    users, times, cascades : array-like
        One adoption per row.
    graph : Graph

    Returns
    -------
    parents : ndarray of object
        The parent's user label for each row, None for a root.
    report : DataFrame
        Per cascade: ``adopters``, ``roots``, ``not_in_graph``.

    Notes
    -----
    O(sum of in-degrees of the adopters) with one small numpy step per adopter.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("a", "c")])
    >>> parents, _ = infer_parents(["a", "b", "c"], [0, 1, 2], [7, 7, 7], g)
    >>> parents.tolist()
    [None, 'a', 'b']
    """
    u = np.asarray(users)
    t = np.asarray(times, dtype=np.float64)
    c = np.asarray(cascades)
    if not (u.shape == t.shape == c.shape) or u.ndim != 1:
        raise BadInput("users, times and cascades must be 1-d and of one length", field="users")
    node = graph.positions(u.astype(str) if graph.ids.dtype.kind in "OUS" else u)
    in_ptr, in_src, _ = graph.transpose()
    last = np.full(graph.n_nodes, np.nan)
    parents = np.full(len(u), None, dtype=object)
    codes, labels = pd.factorize(c)
    order = np.lexsort((np.arange(len(u)), t, codes))
    report_rows = []
    start = 0
    while start < len(order):
        code = codes[order[start]]
        stop = start
        while stop < len(order) and codes[order[stop]] == code:
            stop += 1
        rows = order[start:stop]
        touched = []
        roots = missing = 0
        for i in rows:
            v = node[i]
            if v < 0:
                missing += 1
                roots += 1
                continue
            cand = in_src[in_ptr[v] : in_ptr[v + 1]]
            if cand.size:
                seen = last[cand]
                ok = seen < t[i]
                if ok.any():
                    best = cand[ok][np.argmax(seen[ok])]
                    label = graph.ids[best]
                    parents[i] = label.item() if hasattr(label, "item") else label
            if parents[i] is None:
                roots += 1
            if np.isnan(last[v]):
                last[v] = t[i]
                touched.append(v)
        last[touched] = np.nan
        report_rows.append((labels[code], len(rows), roots, missing))
        start = stop
    report = pd.DataFrame(report_rows, columns=["cascade", "adopters", "roots", "not_in_graph"])
    return parents, report


def binned_by_size(metrics: pd.DataFrame, column: str, *, base: float = 2.0) -> pd.DataFrame:
    """A metric compared across cascades within logarithmic size bins.

    Comparing structural virality (or depth) of groups of cascades is confounded by
    size: larger cascades are more viral by construction. Juul and Ugander (PNAS 2021)
    compare within size; this groups ``metrics`` rows into bins
    ``[base**i, base**(i+1))`` of ``size`` and summarises ``column`` in each.

    References
    ----------
    Juul, Ugander. Comparing information diffusion mechanisms by matching on cascade
    size. PNAS 118(46), 2021.

    Examples
    --------
    >>> m = pd.DataFrame({"size": [1, 2, 3, 5, 9], "depth": [0, 1, 1, 2, 3]})
    >>> binned_by_size(m, "depth")["mean"].tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    check_number(base, "base", "binned_by_size", low=1, low_closed=False)
    for col in ("size", column):
        if col not in metrics.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    sizes = metrics["size"].to_numpy(dtype=np.float64)
    b = np.floor(np.log(np.maximum(sizes, 1)) / np.log(base) + 1e-12).astype(np.int64)
    grouped = metrics.assign(_bin=b).groupby("_bin")[column]
    out = grouped.agg(["count", "mean", "median"])
    out.insert(0, "size_from", (base ** out.index.to_numpy()).astype(np.int64))
    out.insert(1, "size_to", (base ** (out.index.to_numpy() + 1)).astype(np.int64))
    return out.reset_index(drop=True)


def forest_from_posts(posts: pd.DataFrame) -> Forest:
    """Trees from a posts table (``external_id``, ``parent_external_id``, ``time``, ``cascade_id``).

    Posts without a cascade id form their own cascade, named by their tree's root.

    Examples
    --------
    >>> p = pd.DataFrame({"external_id": ["1", "2"], "parent_external_id": [None, "1"],
    ...                   "time": [0.0, 5.0], "cascade_id": [None, None]})
    >>> forest_from_posts(p).depth.tolist()
    [0, 1]
    """
    for col in ("external_id", "parent_external_id", "time"):
        if col not in posts.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    cascade = posts["cascade_id"] if "cascade_id" in posts.columns else None
    if cascade is not None and cascade.isna().any():
        cascade = cascade.astype(object).where(cascade.notna(), "(none)")
    return build_forest(
        posts["external_id"].to_numpy(),
        posts["parent_external_id"].to_numpy(dtype=object),
        posts["time"].to_numpy(dtype=np.float64),
        None if cascade is None else cascade.to_numpy(),
    )


def forest_from_retweets(ties: pd.DataFrame) -> Forest:
    """Star-shaped retweet trees: every retweet hangs off the retweeted author's root.

    Twitter credits each retweet to the original author, so without a follower
    graph the tree of an author's retweets has depth 1 (a retweeter retweeting the
    same author again counts once, at their first retweet). The root's time is the
    first retweet's. ``ties`` has ``source`` (retweeter), ``target`` (author), ``time``.

    Examples
    --------
    >>> t = pd.DataFrame({"source": ["b", "c", "b"], "target": ["a", "a", "a"],
    ...                   "time": [3.0, 4.0, 9.0]})
    >>> tree_metrics(forest_from_retweets(t))[["root", "size", "depth"]].to_dict("records")
    [{'root': 'a', 'size': 3, 'depth': 1}]
    """
    for col in ("source", "target", "time"):
        if col not in ties.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    frame = ties[["source", "target", "time"]].astype({"source": str, "target": str})
    frame = frame.sort_values("time", kind="stable").drop_duplicates(["source", "target"])
    frame = frame[frame["source"] != frame["target"]]
    roots = frame.groupby("target", sort=False)["time"].min()
    ids = np.concatenate(
        [
            roots.index.to_numpy(dtype=object),
            (frame["target"] + "/" + frame["source"]).to_numpy(dtype=object),
        ]
    )
    parents = np.concatenate(
        [np.full(len(roots), None, dtype=object), frame["target"].to_numpy(dtype=object)]
    )
    times = np.concatenate([roots.to_numpy(), frame["time"].to_numpy(dtype=np.float64)])
    cascades = np.concatenate(
        [roots.index.to_numpy(dtype=object), frame["target"].to_numpy(dtype=object)]
    )
    return build_forest(ids, parents, times, cascades)
