"""A small store with cascades (Weibo paths with true reshare trees) and the network of the
same people, written with the library's own importers: the fixture of the spread, people,
planner and report tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from grapevine.store import Store, import_file

START = 1_467_331_200.0  # 2016-07-01 00:00 UTC


def write_weibo(path: Path, *, cascades: int = 6, seed: int = 7) -> Path:
    """``cascades`` Weibo-format cascades of 20 to 120 reshares among 150 users, each a tree
    growing over a few hours (every reshare 1 to 20 minutes after its parent)."""
    rng = np.random.default_rng(seed)
    lines = []
    for c in range(cascades):
        size = int(rng.integers(20, 121)) if c else 120
        users = rng.choice(150, size=size, replace=False)
        paths, dts = [[f"u{users[0]}"]], [0]
        for i in range(1, size):
            parent = int(rng.integers(0, i))
            dt = dts[parent] + int(rng.integers(60, 1200))
            paths.append([*paths[parent], f"u{users[i]}"])
            dts.append(dt)
        body = " ".join(f"{'/'.join(p)}:{d}" for p, d in zip(paths, dts, strict=True))
        start = int(START + c * 86400)
        lines.append(f"{c + 1}\tu{users[0]}\t{start}\t{size}\t{body}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_network(path: Path, *, seed: int = 7) -> Path:
    """Three groups of 50 users, dense inside, with a few bridges (u0, u50, u100 span them)."""
    rng = np.random.default_rng(seed)
    edges = set()
    for group in range(3):
        base = 50 * group
        for _ in range(200):
            a, b = rng.integers(0, 50, size=2)
            if a != b:
                edges.add((base + int(a), base + int(b)))
    for a, b in [(0, 50), (50, 100), (100, 0), (0, 75), (50, 125)]:
        edges.add((a, b))
    path.write_text("".join(f"u{a} u{b}\n" for a, b in sorted(edges)))
    return path


def fill(store: Store, folder: Path) -> Store:
    """Import the cascades and the network into ``store`` (platform ``weibo``)."""
    import_file(store, "cascades", write_weibo(folder / "weibo.txt"), platform="weibo")
    import_file(store, "edges", write_network(folder / "net.txt"), platform="weibo")
    return store


JSON_BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)


def chart_options(html: str) -> dict[str, dict[str, Any]]:
    """Every chart's ECharts option on a page, by chart id."""
    return {key.removesuffix("-data"): json.loads(body) for key, body in JSON_BLOCK.findall(html)}


@contextmanager
def spread_site(
    request: Any, tmp_path_factory: Any, name: str, **settings: Any
) -> Iterator[tuple[str, Store]]:
    """A server (backend ``request.param``) on a filled store with an editor ``ann`` of
    tenant acme and a viewer ``vic``: (base URL, store)."""
    from dashboard_support import add_user, dashboard_server
    from support import module_store_url

    with module_store_url(request, tmp_path_factory, name) as url:
        store = Store(url)
        try:
            fill(store, tmp_path_factory.mktemp(f"{name}-files"))
            add_user(store, "ann")
            add_user(store, "vic", role="viewer")
            with dashboard_server(url, **settings) as base:
                yield base, store
        finally:
            store.close()
