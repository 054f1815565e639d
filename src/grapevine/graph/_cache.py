"""A binary cache of graphs read from edge-list files: one uncompressed ``.npz`` per file.

The cache of ``graph.txt`` is ``graph.txt.grapevine.npz`` beside it, or, when that folder is
not writable, ``<name>-<path digest>.grapevine.npz`` in the ``cache_dir`` setting
(``GRAPEVINE_CACHE_DIR``, default ``~/.cache/grapevine``). It holds the CSR arrays, the id map,
the weights and the build report, with a key: the cache format version, the file's size and
SHA-256 and the reader options that change the graph. A cache whose key differs, or that cannot
be read, is ignored and rewritten: it never yields a different graph than parsing would.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grapevine.errors import GrapevineError

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.graph._graph import Graph

__all__ = [
    "CACHE_MIN_BYTES",
    "CACHE_VERSION",
    "cache_key",
    "cached_graph",
    "convert_edgelist",
    "reader_options",
    "write_cache",
]

CACHE_VERSION = 1
CACHE_MIN_BYTES = 64 * 1024  # files at least this big are cached by default
SUFFIX = ".grapevine.npz"
_BLOCK = 1 << 22


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def cache_key(path: Path, options: Mapping[str, Any]) -> str:
    """The key a cache of ``path`` read with ``options`` must carry to be used."""
    facts = {
        "version": CACHE_VERSION,
        "size": path.stat().st_size,
        "sha256": _sha256(path),
        "options": dict(sorted(options.items())),
    }
    return json.dumps(facts, sort_keys=True)


def _writable(folder: Path) -> bool:
    # Write permission bits are honoured even for root: a folder marked read-only (a shared
    # data set) keeps no cache files.
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(folder, os.W_OK)


def _user_cache_dir() -> Path:
    from grapevine.config import Settings

    return Settings().cache_dir.expanduser()


def cache_locations(path: Path) -> Iterator[Path]:
    """Where the cache of ``path`` may be: beside it, then in the user cache folder.

    Lazy: the settings (pydantic) are read only when the first place does not serve.
    """
    resolved = path.resolve()
    yield resolved.with_name(resolved.name + SUFFIX)
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    yield _user_cache_dir() / f"{resolved.name}-{digest}{SUFFIX}"


def _load(file: Path, key: str) -> Graph | None:
    from grapevine.graph._graph import BuildReport, Graph

    try:
        with file.open("rb") as handle:
            data = np.load(handle, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                return None  # a bare .npy array, not a cache
            with data:
                if bytes(data["key"]).decode() != key:
                    return None
                indptr, indices, weights = data["indptr"], data["indices"], data["weights"]
                ids, report = data["ids"], data["report"]
                strings = bool(data["strings"])
                directed = bool(data["directed"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    if report.shape != (4,):
        return None
    try:
        graph = Graph(
            indptr,
            indices,
            weights,
            ids.astype(object) if strings else ids,
            directed=directed,
            report=BuildReport(
                edges_read=int(report[0]),
                multi_edges=int(report[1]),
                self_loops=int(report[2]),
                self_loops_dropped=bool(report[3]),
            ),
        )
    except GrapevineError:
        return None
    return graph


def write_cache(graph: Graph, file: Path, key: str) -> bool:
    """Write ``graph`` with ``key`` to ``file`` (atomically); False when it cannot be stored."""
    ids = graph.ids
    strings = ids.dtype.kind not in "iub"
    if strings:
        stored = np.asarray(ids, dtype=str)
        if not np.array_equal(stored.astype(object), ids.astype(object)):
            return False  # labels numpy's fixed-width strings cannot keep (trailing NULs)
    else:
        stored = ids
    report = graph.report
    facts = (
        [report.edges_read, report.multi_edges, report.self_loops, int(report.self_loops_dropped)]
        if report is not None
        else [graph.n_edges, 0, 0, 1]
    )
    arrays = {
        "key": np.frombuffer(key.encode(), dtype=np.uint8),
        "indptr": graph.indptr,
        "indices": graph.indices,
        "weights": graph.weights,
        "ids": stored,
        "strings": np.asarray(strings),
        "directed": np.asarray(graph.directed),
        "report": np.asarray(facts, dtype=np.int64),
    }
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=file.name, suffix=".tmp", dir=file.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, file)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return False
    return True


def cached_graph(
    path: Path,
    options: Mapping[str, Any],
    build: Callable[[], Graph],
    *,
    out: Path | None = None,
) -> tuple[Graph, Path | None]:
    """The graph of ``path`` from its cache when the key matches, else built and cached.

    Returns the graph and the cache file it was read from or written to (None when no
    location could be written).
    """
    key = cache_key(path, options)
    for place in [out] if out is not None else cache_locations(path):
        if place.is_file():
            graph = _load(place, key)
            if graph is not None:
                return graph, place
    graph = build()
    for place in [out] if out is not None else cache_locations(path):
        if (out is not None or _writable(place.parent) or not place.parent.exists()) and (
            write_cache(graph, place, key)
        ):
            return graph, place
    return graph, None


def reader_options(
    *,
    directed: bool = True,
    weighted: bool | None = None,
    header: str = "auto",
    multi_edges: str = "sum",
    self_loops: bool = False,
) -> dict[str, Any]:
    """The options of :meth:`Graph.from_edgelist` that change the graph (part of the key)."""
    return {
        "directed": directed,
        "weighted": weighted,
        "header": header,
        "multi_edges": multi_edges,
        "self_loops": self_loops,
    }


def convert_edgelist(path: str | Path, *, out: Path | None = None) -> tuple[Graph, Path]:
    """Parse an edge-list file and write its binary cache; return the graph and the cache file.

    The cache is written for the default options of :meth:`Graph.from_edgelist` (what
    ``grapevine plan FILE`` reads), at ``out`` or at the first writable usual place.

    Raises
    ------
    BadInput
        When the file is missing or unreadable, or no cache file can be written.
    """
    from grapevine.errors import BadInput
    from grapevine.graph._graph import Graph

    file = Path(path)
    if not file.is_file():
        raise BadInput("no such file", file=str(file))
    graph, place = cached_graph(
        file, reader_options(), lambda: Graph.from_edgelist(file, cache=False), out=out
    )
    if place is None:
        where = out if out is not None else list(cache_locations(file))[-1]
        raise BadInput(f"cannot write the graph cache to {where}", file=str(file))
    return graph, place
