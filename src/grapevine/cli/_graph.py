"""``grapevine graph convert``: write an edge-list file's binary cache."""

from __future__ import annotations

from pathlib import Path

from grapevine.cli._render import console
from grapevine.graph._cache import convert_edgelist


def convert(path: Path, out: Path | None) -> None:
    """Write the cache of ``path`` and say where it went and what it holds."""
    graph, place = convert_edgelist(path, out=out)
    console.print(f"{place}: {graph.n_nodes:,} nodes, {graph.n_edges:,} arcs")
