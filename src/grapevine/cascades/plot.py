"""Plots of cascades: the tree, the growth curve with a forecast band, R(t) and the tipping point.

Each function draws with matplotlib (Agg, no display needed) and writes the figure to every
path given (the suffix picks the format: ``.png``, ``.svg``, ``.pdf``). matplotlib is imported
only when a plot is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grapevine.cascades._trees import Forest
from grapevine.errors import BadInput, MissingDependency

__all__ = ["plot_growth", "plot_rt", "plot_tree"]


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - a dependency, but say it nicely
        raise MissingDependency("matplotlib", "plots") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, paths: Sequence[str | Path]) -> list[Path]:
    out = []
    for p in paths:
        path = Path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(
            path,
            dpi=150,
            bbox_inches="tight",
            metadata={"Date": None} if path.suffix == ".svg" else None,
        )
        out.append(path)
    fig.clf()
    _plt().close(fig)
    return out


def _tree_layout(forest: Forest, root: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes of the tree of ``root``, with x (leaf order, parents centred) and y (-depth)."""
    nodes = np.flatnonzero(forest.root == root)
    depth = forest.depth[nodes]
    order = nodes[np.lexsort((nodes, depth))]
    x = np.zeros(len(forest), dtype=np.float64)
    # leaves spaced evenly in DFS order; parents at the mean of their children
    children: dict[int, list[int]] = {}
    for v in order[1:]:
        children.setdefault(int(forest.parent[v]), []).append(int(v))
    stack, next_x = [int(root)], 0.0
    visit: list[int] = []
    while stack:
        v = stack.pop()
        visit.append(v)
        stack.extend(reversed(children.get(v, [])))
    for v in visit:
        if v not in children:
            x[v] = next_x
            next_x += 1.0
    for v in reversed(visit):
        if v in children:
            x[v] = float(np.mean([x[c] for c in children[v]]))
    return nodes, x[nodes], -forest.depth[nodes].astype(np.float64)


def plot_tree(
    forest: Forest, root: Any, paths: Sequence[str | Path], *, title: str | None = None
) -> list[Path]:
    """Draw the cascade tree whose root has id ``root`` (depth downwards).

    Examples
    --------
    >>> import tempfile, os
    >>> from grapevine.cascades import build_forest
    >>> f = build_forest(["a", "b", "c"], [None, "a", "a"])
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in plot_tree(f, "a", [os.path.join(d, "t.png")])]
    ['t.png']
    """
    matches = np.flatnonzero((forest.ids == root) & (forest.parent < 0))
    if not len(matches):
        raise BadInput(f"no tree with root {root!r}", field="root")
    r = int(matches[0])
    nodes, x, y = _tree_layout(forest, r)
    pos = {int(v): (xv, yv) for v, xv, yv in zip(nodes, x, y, strict=True)}
    plt = _plt()
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=(min(16, 4 + len(nodes) ** 0.5), 4 + 0.5 * (-y.min())))
    segs = [(pos[int(forest.parent[v])], pos[int(v)]) for v in nodes if forest.parent[v] >= 0]
    ax.add_collection(LineCollection(segs, colors="#8a8a8a", linewidths=0.6))
    ax.scatter(x, y, s=max(2.0, 40.0 / max(1.0, len(nodes) ** 0.5)), c=-y, cmap="viridis", zorder=3)
    ax.scatter([x[0]], [y[0]], s=80, c="#c0392b", zorder=4, label="root")
    ax.set_yticks(sorted(set(y.tolist())), [str(int(-v)) for v in sorted(set(y.tolist()))])
    ax.set_ylabel("depth")
    ax.set_xticks([])
    ax.set_title(title or f"Cascade tree of {root} ({len(nodes):,} adoptions)")
    ax.legend(loc="upper right")
    return _save(fig, paths)


def _dates(t: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(float(v), tz=UTC) for v in t]


def plot_growth(
    times: Sequence[float] | np.ndarray,
    paths: Sequence[str | Path],
    *,
    at: float | None = None,
    forecast: tuple[float, float, float] | None = None,
    title: str = "Cumulative adoptions",
    calendar: bool = True,
) -> list[Path]:
    """The cumulative count of adoptions over time, with a forecast band.

    ``forecast`` is ``(final, low, high)``, drawn as a line and a band from ``at`` on
    (the time the forecast was made). Times are Unix seconds (``calendar=True``) or any
    other unit.
    """
    t = np.sort(np.asarray(times, dtype=np.float64))
    t = t[np.isfinite(t)]
    if not t.size:
        raise BadInput("no times to plot", field="times")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    xs: Any = _dates(t) if calendar else t
    ax.step(xs, np.arange(1, t.size + 1), where="post", color="#2c3e50", label="observed")
    if at is not None:
        x_at: Any = _dates(np.array([at]))[0] if calendar else at
        ax.axvline(x_at, color="#7f8c8d", linestyle=":", label="forecast made")
        if forecast is not None:
            final, lo, hi = forecast
            x_end: Any = xs[-1]
            if np.isfinite(final):
                ax.hlines(final, x_at, x_end, colors="#c0392b", label=f"forecast {final:,.0f}")
            if np.isfinite(lo) and np.isfinite(hi):
                ax.fill_between(
                    [x_at, x_end],
                    [lo, lo],
                    [hi, hi],
                    color="#c0392b",
                    alpha=0.15,
                    label=f"interval {lo:,.0f}-{hi:,.0f}",
                )
    ax.set_ylabel("adoptions")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.autofmt_xdate()
    return _save(fig, paths)


def plot_rt(
    rt: pd.DataFrame,
    paths: Sequence[str | Path],
    *,
    tipped_at: float | None = None,
    title: str = "Reproduction number R(t)",
) -> list[Path]:
    """R(t) with its credible interval, the line R = 1 and the tipping moment.

    ``rt`` is a table like :func:`grapevine.cascades.reproduction_number` returns
    (``time``, ``r_mean``, ``r_lower``, ``r_upper``).
    """
    for col in ("time", "r_mean", "r_lower", "r_upper"):
        if col not in rt.columns:
            raise BadInput(f"missing column {col!r}", field=col)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = _dates(rt["time"].to_numpy(dtype=np.float64))
    ax.fill_between(
        x, rt["r_lower"], rt["r_upper"], color="#2980b9", alpha=0.25, label="credible interval"
    )
    ax.plot(x, rt["r_mean"], color="#2980b9", label="R(t), posterior mean")
    ax.axhline(1.0, color="#7f8c8d", linestyle="--", linewidth=1)
    if tipped_at is not None:
        ax.axvline(_dates(np.array([tipped_at]))[0], color="#c0392b", label="tipped")
    ax.set_yscale("log")
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("R(t)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.autofmt_xdate()
    return _save(fig, paths)
