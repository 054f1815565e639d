"""Cascades as figures: the largest trees with their metrics, one tree laid out, R(t) of growth.

JSON-ready views over a :class:`~grapevine.cascades.Forest` for pages and reports: the
metrics table of the largest cascades with their organic and viral reach
(:func:`cascade_summary`), one tree laid out radially with its adopters' ages and channels
(:func:`tree_layout`), and R(t) with its credible interval and the tipping moment
(:func:`adoption_growth`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from grapevine._validation import check_number
from grapevine.cascades._rt import TippingPoint, reproduction_number, tipping_point
from grapevine.cascades._trees import Forest, reach_split, tree_metrics
from grapevine.errors import BadInput

__all__ = ["Growth", "TreeLayout", "adoption_growth", "cascade_summary", "tree_layout"]


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cascade_summary(forest: Forest, *, top: int = 20) -> pd.DataFrame:
    """The ``top`` largest trees: :func:`tree_metrics` with their :func:`reach_split`.

    Returns
    -------
    DataFrame
        The columns of :func:`tree_metrics` plus ``organic``, ``viral`` and ``viral_share``
        of the tree's cascade, largest tree first.

    Examples
    --------
    >>> from grapevine.cascades import build_forest
    >>> f = build_forest(["a", "b", "c", "d"], [None, "a", "b", "a"], [0.0, 1.0, 2.0, 3.0])
    >>> cascade_summary(f)[["size", "organic", "viral"]].to_dict("records")
    [{'size': 4, 'organic': 2, 'viral': 1}]
    """
    check_number(top, "top", "cascade_summary", kind=numbers.Integral, low=1)
    metrics = tree_metrics(forest).head(top)
    split = reach_split(forest)[["organic", "viral", "viral_share"]]
    out = metrics.merge(split, left_on="cascade", right_index=True, how="left")
    return out.reset_index(drop=True)


@dataclass
class TreeLayout:
    """One cascade tree laid out radially: the root in the centre, depth as the radius.

    Attributes
    ----------
    root, cascade : Any
        The tree's root id and cascade label.
    size : int
        Nodes in the whole tree.
    nodes : list of dict
        The nodes shown (at most ``max_nodes``, the earliest of each depth first, so every
        shown node's parent is shown): ``id``, ``parent`` (position in ``nodes``, -1 for the
        root), ``depth``, ``time``, ``age`` (seconds after the root; None when unknown),
        ``channel`` (``"root"``, ``"organic"`` for depth 1, ``"viral"`` deeper), ``x``, ``y``.
    """

    root: Any
    cascade: Any
    size: int
    nodes: list[dict[str, Any]]

    @property
    def shown(self) -> int:
        return len(self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": _json(self.root),
            "cascade": _json(self.cascade),
            "size": self.size,
            "shown": self.shown,
            "nodes": self.nodes,
        }


def tree_layout(forest: Forest, root: Any, *, max_nodes: int = 500) -> TreeLayout:
    """Lay out the tree of ``root`` radially, keeping at most ``max_nodes`` nodes.

    Leaves are spread evenly around the circle in depth-first order (children by time), a
    parent sits at the mean angle of its first and last child, and the radius is the
    depth: a broadcast is a disc, a chain a line.

    Parameters
    ----------
    forest : Forest
    root : Any
        The id of a root of ``forest``.
    max_nodes : int
        Most nodes to keep: by depth, then time (the earliest adopters of each generation).

    Returns
    -------
    TreeLayout

    Raises
    ------
    BadInput
        When ``root`` is not the id of a root.

    Notes
    -----
    O(s log s) for a tree of s nodes.

    Examples
    --------
    >>> from grapevine.cascades import build_forest
    >>> f = build_forest(["a", "b", "c"], [None, "a", "b"], [0.0, 5.0, 9.0])
    >>> [(n["id"], n["parent"], n["channel"], n["age"]) for n in tree_layout(f, "a").nodes]
    [('a', -1, 'root', 0.0), ('b', 0, 'organic', 5.0), ('c', 1, 'viral', 9.0)]
    """
    check_number(max_nodes, "max_nodes", "tree_layout", kind=numbers.Integral, low=1)
    hit = np.flatnonzero((forest.parent < 0) & (forest.ids.astype(str) == str(root)))
    if hit.size == 0:
        raise BadInput(f"no cascade tree with root {root!r}", field="root")
    r = int(hit[0])
    members = np.flatnonzero(forest.root == r)
    t = forest.time[members]
    order = np.lexsort((np.nan_to_num(t, nan=np.inf), forest.depth[members]))
    kept = members[order[:max_nodes]]
    pos = {int(node): i for i, node in enumerate(kept)}
    parent = [pos.get(int(forest.parent[node]), -1) for node in kept]
    children: list[list[int]] = [[] for _ in kept]
    for i, p in enumerate(parent):
        if p >= 0:
            children[p].append(i)  # already in time order within a depth
    angle = np.zeros(len(kept))
    leaves = sum(1 for c in children if not c) or 1
    counter = 0
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:  # iterative post-order: leaves get the next slot, parents their span's middle
        node, done = stack.pop()
        if done or not children[node]:
            if children[node]:
                angle[node] = (angle[children[node][0]] + angle[children[node][-1]]) / 2.0
            else:
                angle[node] = 2.0 * math.pi * counter / leaves
                counter += 1
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(children[node]))
    start = float(forest.time[r])
    nodes = []
    for i, node in enumerate(kept):
        depth = int(forest.depth[node])
        when = float(forest.time[node])
        nodes.append(
            {
                "id": _json(forest.ids[node]),
                "parent": parent[i],
                "depth": depth,
                "time": _json(when),
                "age": _json(when - start),
                "channel": "root" if depth == 0 else "organic" if depth == 1 else "viral",
                "x": round(depth * math.cos(angle[i]), 4),
                "y": round(depth * math.sin(angle[i]), 4),
            }
        )
    return TreeLayout(_json(forest.ids[r]), _json(forest.cascade[r]), len(members), nodes)


@dataclass
class Growth:
    """R(t) of a set of adoptions with its credible interval, and when it tipped.

    Attributes
    ----------
    rt : DataFrame
        :func:`reproduction_number`'s table.
    tipping : TippingPoint
        :func:`tipping_point` of ``rt`` (lower bound above 1 for two windows in a row).
    step : float
        Bin width in seconds.
    """

    rt: pd.DataFrame
    tipping: TippingPoint
    step: float

    def to_dict(self) -> dict[str, Any]:
        """``series`` (time, r_mean, r_lower, r_upper, incidence per bin), ``step``,
        ``tipped_at`` and ``confirmed_at`` (None when it never tipped), ``rule``."""
        cols = ["time", "r_mean", "r_lower", "r_upper", "incidence"]
        series = [
            {c: _json(v) for c, v in zip(cols, row, strict=True)}
            for row in self.rt[cols].itertuples(index=False)
        ]
        return {
            "series": series,
            "step": self.step,
            "tipped_at": self.tipping.time,
            "confirmed_at": self.tipping.confirmed,
            "rule": self.tipping.rule,
        }


def adoption_growth(forest: Forest, *, mask: np.ndarray | None = None) -> Growth | None:
    """R(t) of the adoptions of ``forest`` (or of the nodes in ``mask``) and the tipping point.

    The generation interval comes from the observed parent-to-child delays; the bins are
    an hour when the adoptions span two days or more, ten minutes from three hours, else a
    minute, and R is estimated over six bins.

    Returns
    -------
    Growth or None
        None when there are fewer than 10 timed adoptions or 5 positive parent delays.

    Examples
    --------
    >>> from grapevine.cascades import build_forest
    >>> adoption_growth(build_forest(["a", "b"], [None, "a"], [0.0, 1.0])) is None
    True
    """
    keep = np.ones(len(forest), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    timed = keep & np.isfinite(forest.time)
    t = forest.time[timed]
    if t.size < 10:
        return None
    span = float(t.max() - t.min())
    step = 3600.0 if span >= 2 * 86400 else 600.0 if span >= 3 * 3600 else 60.0
    child = timed & (forest.parent >= 0)
    delays = forest.time[child] - forest.time[forest.parent[child]]
    delays = delays[np.isfinite(delays) & (delays > 0)]
    if delays.size < 5:
        return None
    rt = reproduction_number(t, window=(step, 6), parent_delays=delays)
    return Growth(rt, tipping_point(rt), step)
