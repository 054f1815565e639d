"""Edge lists (SNAP, plain, counted-header, CSV, adjacency) as ties."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from grapevine._validation import check_choice
from grapevine._vocabulary import TIE_KINDS
from grapevine.connectors._records import Batch
from grapevine.graph import read_edgelist

__all__ = ["read_edges"]


def read_edges(
    path: str | Path,
    *,
    batch_size: int = 50_000,
    platform: str = "graph",
    kind: str = "follows",
    directed: bool = True,
    self_loops: bool = False,
) -> Iterator[Batch]:
    """Read an edge-list file and yield its edges as ties.

    Repeated edges are merged into one tie whose weight is the sum of their
    weights (their count when the file has no weights); self-loops are dropped
    unless ``self_loops``. Both are reported in the first batch's notes. An
    undirected file stores each edge as two ties, one each way.
    """
    check_choice(kind, "kind", "read_edges", TIE_KINDS)
    edges = read_edgelist(path)
    notes = list(edges.notes)
    if edges.header == "counts" and edges.declared:
        notes.append(
            f"first line read as counts: {edges.declared[0]:,} nodes, {edges.declared[1]:,} edges"
        )
    frame = pd.DataFrame(
        {
            "source": edges.sources.astype(str),
            "target": edges.targets.astype(str),
            "weight": edges.weights if edges.weights is not None else 1.0,
        }
    )
    loops = (frame["source"] == frame["target"]).to_numpy()
    if loops.any():
        notes.append(f"{int(loops.sum()):,} self-loops " + ("kept" if self_loops else "dropped"))
        if not self_loops:
            frame = frame[~loops]
    if not directed:
        proper = frame[frame["source"] != frame["target"]]
        reverse = proper.rename(columns={"source": "target", "target": "source"})
        frame = pd.concat([frame, reverse], ignore_index=True)
    read = len(frame)
    frame = frame.groupby(["source", "target"], sort=False, as_index=False)["weight"].sum()
    merged = read - len(frame)
    if merged:
        what = "pairs" if directed else "arcs (both directions counted)"
        notes.append(f"{merged:,} repeated {what} merged into one tie each (weights summed)")
    frame["kind"] = kind
    frame["time"] = np.nan
    frame = frame[["source", "target", "kind", "weight", "time"]]
    total = len(edges)
    for start in range(0, max(len(frame), 1), batch_size):
        part = frame.iloc[start : start + batch_size].reset_index(drop=True)
        rows = total if start == 0 else 0
        yield Batch(platform=platform, rows=rows, ties=part, notes=notes if start == 0 else [])
