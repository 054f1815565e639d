"""Importing a file by format name: the one entry point the CLI and the service call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grapevine._validation import check_choice
from grapevine.connectors import (
    Batch,
    read_cascades,
    read_edges,
    read_higgs,
    read_netdiffuser,
    read_records,
)
from grapevine.store._store import ImportReport, Store
from grapevine.store._write import WriteResult

__all__ = ["FORMATS", "Format", "import_file"]


@dataclass(frozen=True)
class Format:
    """An import format: its reader, default platform and a one-line description."""

    name: str
    reader: Callable[..., Iterator[Batch]]
    platform: str
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "higgs",
            read_higgs,
            "higgs",
            "SNAP Higgs Twitter activity stream (userA userB time RT|MT|RE)",
        ),
        Format(
            "edges",
            read_edges,
            "graph",
            "edge list: SNAP, 'u v [w]', 'n m' header, CSV/TSV with header, 'u:v1,v2' lines",
        ),
        Format(
            "cascades",
            read_cascades,
            "cascades",
            "cascade file: FOREST, MS-HGAT, Inf-VAE or DeepHawkes/CasFlow Weibo (auto-detected)",
        ),
        Format(
            "netdiffuser",
            read_netdiffuser,
            "netdiffuser",
            "netdiffuseR node table with time of adoption (node,toa,...) [+ --edges ego,alter]",
        ),
        Format(
            "persons",
            lambda p, **kw: read_records(p, "persons", **kw),
            "generic",
            "generic persons CSV/JSONL (id, display_name, followers, ...)",
        ),
        Format(
            "ties",
            lambda p, **kw: read_records(p, "ties", **kw),
            "generic",
            "generic ties CSV/JSONL (source, target, kind, weight, time)",
        ),
        Format(
            "posts",
            lambda p, **kw: read_records(p, "posts", **kw),
            "generic",
            "generic posts CSV/JSONL (id, author, time, text, language, url, parent, ...)",
        ),
    )
}


def import_file(
    store: Store,
    format: str,
    path: str | Path,
    /,
    *,
    platform: str | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[Batch, WriteResult], None] | None = None,
    **options: Any,
) -> ImportReport:
    """Import ``path`` in ``format`` into ``store``, one transaction per batch.

    Parameters
    ----------
    store : Store
    format : str
        A key of :data:`FORMATS`.
    path : str or Path
    platform : str, optional
        Namespace of the handles; the format's default when omitted.
    batch_size : int, optional
        Rows per transaction; the settings' ``batch_size`` when omitted.
    on_batch : callable, optional
        Called after each batch is committed (progress bars).
    **options
        Passed to the reader (``kind``, ``directed``, ``edges``, ``innovation``...).

    Returns
    -------
    ImportReport

    Raises
    ------
    BadInput
        Naming the file, line and field of the first bad row; nothing of
        that row's batch is written.
    """
    check_choice(format, "format", "import_file", tuple(FORMATS))
    fmt = FORMATS[format]
    if batch_size is None:
        from grapevine.config import get_settings

        batch_size = get_settings().batch_size
    batches = fmt.reader(path, batch_size=batch_size, platform=platform or fmt.platform, **options)
    return store.import_batches(batches, source=str(path), format=format, on_batch=on_batch)
