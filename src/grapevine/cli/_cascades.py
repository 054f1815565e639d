"""``grapevine cascades`` and ``grapevine reach``: cascade trees from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grapevine.cascades import (
    Forest,
    TippingPoint,
    adoption_growth,
    forest_from_posts,
    forest_from_retweets,
    infer_parents,
    reach_split,
    tree_metrics,
)
from grapevine.cli._output import Col, duration, print_records, share
from grapevine.cli._render import console, json_value, when
from grapevine.errors import BadInput
from grapevine.store import Store


def load_forest(store: Store, platform: str | None, *, infer: bool = False) -> tuple[Forest, str]:
    """The store's cascades: posts with parent links, else retweet ties (star trees).

    With ``infer``, posts without a parent get one from the platform's ties
    (the most recent earlier adopter the author follows).
    """
    posts = store.posts(platform=platform)
    if not posts.empty:
        if infer:
            posts = with_inferred_parents(store, posts, platform)
            return forest_from_posts(posts), "posts, parents inferred from the ties"
        return forest_from_posts(posts), "posts"
    ties = store.ties(platform=platform, kinds=["retweeted"])
    if not ties.empty:
        return forest_from_retweets(ties), "retweets"
    raise BadInput(
        f"no posts and no retweets in the store for platform {platform or '(any)'}",
        field="platform",
    )


def with_inferred_parents(store: Store, posts: pd.DataFrame, platform: str | None) -> pd.DataFrame:
    """Fill missing parent links by :func:`grapevine.cascades.infer_parents` over the ties."""
    graph = store.graph(platform=platform)
    todo = posts["parent_external_id"].isna()
    parents, _ = infer_parents(
        posts["author"].to_numpy(), posts["time"].to_numpy(), posts["cascade_id"].to_numpy(), graph
    )
    post_of = dict(
        zip(
            zip(posts["cascade_id"], posts["author"], strict=True),
            posts["external_id"],
            strict=True,
        )
    )
    inferred = [
        None if p is None else post_of.get((c, str(p)))
        for c, p in zip(posts["cascade_id"], parents, strict=True)
    ]
    out = posts.copy()
    out.loc[todo, "parent_external_id"] = pd.Series(inferred, index=posts.index)[todo]
    return out


def growth_of(forest: Forest) -> tuple[pd.DataFrame, TippingPoint] | None:
    """R(t) of all adoptions (generation interval from the parent-to-child delays) and the
    tipping point; None when the times do not allow it (:func:`adoption_growth`)."""
    growth = adoption_growth(forest)
    return None if growth is None else (growth.rt, growth.tipping)


def _check_plot_dir(plot_dir: Path) -> None:
    if plot_dir.exists() and not plot_dir.is_dir():
        raise BadInput(
            "--plot takes a folder to write the plots into, and this is a file: give a new "
            "or an existing folder",
            file=str(plot_dir),
        )


def write_plots(forest: Forest, metrics: pd.DataFrame, plot_dir: Path) -> list[Path]:
    """The largest tree, the growth curve and R(t) with the tipping moment, as PNG and SVG."""
    from grapevine.cascades.plot import plot_growth, plot_rt, plot_tree

    _check_plot_dir(plot_dir)
    written: list[Path] = []
    top = metrics.iloc[0]
    both = ("png", "svg")
    written += plot_tree(forest, top["root"], [plot_dir / f"tree.{x}" for x in both])
    calendar = bool(np.nanmin(forest.time) > 1e8) if np.isfinite(forest.time).any() else False
    if np.isfinite(forest.time).any():
        written += plot_growth(
            forest.time,
            [plot_dir / f"growth.{x}" for x in both],
            title="All adoptions",
            calendar=calendar,
        )
    growth = growth_of(forest) if calendar else None
    if growth is not None:
        rt, tip = growth
        written += plot_rt(
            rt.dropna(subset=["r_mean"]), [plot_dir / f"rt.{x}" for x in both], tipped_at=tip.time
        )
    return written


def show_cascades(
    store: Store,
    *,
    platform: str | None,
    top: int,
    fmt: str,
    infer: bool = False,
    plot_dir: Path | None = None,
) -> None:
    if plot_dir is not None:
        _check_plot_dir(plot_dir)
    forest, source = load_forest(store, platform, infer=infer)
    metrics = tree_metrics(forest).head(top)
    if plot_dir is not None and len(metrics):
        for path in write_plots(forest, metrics, plot_dir):
            console.print(f"wrote {path}", highlight=False)
    records = [{k: json_value(v) for k, v in row.items()} for row in metrics.to_dict("records")]
    if fmt != "table":
        print_records(records, [], fmt, console=console, json_lines=True)
        return
    cols = [
        Col("cascade", wrap=True),
        Col("size", right=True),
        Col("depth", right=True, drop=2),
        Col("max_breadth", "breadth", right=True, drop=3),
        Col("structural_virality", "virality", _fmt, right=True),
        Col("broadcast_share", "direct", share, right=True, drop=2),
        Col("start", "start (UTC)", when, drop=1),
        Col("time_to_100", "to 100", _duration, right=True, drop=1),
    ]
    print_records(
        records,
        cols,
        fmt,
        console=console,
        title=f"Largest cascades ({forest.n_trees:,} trees, {len(forest):,} adoptions, "
        f"from {source}; {len(forest.issues):,} links flagged)",
    )
    console.print(
        "virality: mean distance between two adopters in the tree (Goel et al. "
        "2016); direct: share of adopters who got it from the root."
    )
    if len(forest.issues):
        counts = forest.issues["issue"].value_counts()
        console.print("flagged links: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    growth = growth_of(forest) if np.nanmin(forest.time, initial=np.inf) > 1e8 else None
    if growth is not None:
        rt, tip = growth
        peak = rt["r_mean"].max()
        verdict = f"tipped at {when(tip.time)} UTC" if tip.time is not None else "has not tipped"
        console.print(
            f"R(t) of all adoptions: peak {peak:.2f}; by the rule (lower end of the 95% "
            f"interval above 1 for 2 windows in a row) it {verdict}."
        )


def show_reach(store: Store, *, platform: str | None, cascade: str, fmt: str) -> None:
    forest, _ = load_forest(store, platform)
    split = reach_split(forest)
    key: Any = cascade
    if key not in split.index:
        matches = [c for c in split.index if str(c) == cascade]
        if not matches:
            raise BadInput(f"no cascade {cascade!r} in the store", field="cascade")
        key = matches[0]
    row = split.loc[key]
    record = {"cascade": str(key), **{k: json_value(v) for k, v in row.items()}}
    if fmt == "json":
        print(json.dumps(record))
        return
    cols = [
        Col("organic", cell=_count, right=True),
        Col("viral", cell=_count, right=True),
        Col("paid", cell=_count, right=True),
        Col("viral_share", "viral share", share, right=True),
    ]
    print_records([record], cols, fmt, console=console, title=f"Reach of cascade {key}")
    if fmt != "table":
        return
    console.print(
        "organic: adopters who got it from the root (depth 1); viral: through a "
        "friend's share (depth 2+); paid: flagged as paid distribution."
    )


def _count(x: float) -> str:
    return f"{int(x):,}"


def _fmt(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:.2f}"


def _duration(seconds: float) -> str:
    return "-" if pd.isna(seconds) else duration(float(seconds))
