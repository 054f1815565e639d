"""Reading edge lists: SNAP, plain, counted-header, CSV and adjacency formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from grapevine._io import parse_columns, read_lines
from grapevine.errors import BadInput

__all__ = ["EdgeList", "read_edgelist"]

HeaderMode = Literal["auto", "none", "names", "counts"]

_HEADER_WORDS = frozenset(
    """source target src dst from to u v node1 node2 weight w p prob probability time
    timestamp ego alter user follower followee fromnodeid tonodeid id1 id2 i j
    head tail a b""".split()
)


@dataclass
class EdgeList:
    """Edges read from a file, as parallel arrays, before any graph is built.

    Attributes
    ----------
    sources, targets : ndarray
        Node labels (int64 when every id is an integer, otherwise object strings).
    weights : ndarray of float64 or None
        The third column when the file has one.
    lines : ndarray of int64
        The 1-based line each edge came from.
    header : str
        What the first line was taken to be: "none", "names" or "counts".
    declared : tuple of (int, int) or None
        The "n m" counts of a counted header.
    notes : list of str
        What a reader should know (declared counts that do not match, ...).
    """

    sources: np.ndarray
    targets: np.ndarray
    weights: np.ndarray | None
    lines: np.ndarray
    source: str
    header: str = "none"
    declared: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sources)


def _sep_for(first: bytes) -> str:
    text = first.decode("utf-8", errors="replace")
    if "\t" in text:
        return "\t"
    if "," in text:
        return ","
    if ";" in text:
        return ";"
    return r"\s+"


def read_edgelist(
    path: str | Path,
    *,
    header: HeaderMode = "auto",
    sep: str | None = None,
) -> EdgeList:
    """Read an edge list file in any of the common research formats.

    Handles SNAP files (``#`` comments, tab or space separated), plain
    ``u v [w]`` lists, files whose first line is ``n m`` (NetHEPT, Inf-VAE),
    CSV/TSV with a header row naming the columns, adjacency lines
    ``u:v1,v2,...`` (the IM benchmark format), and gzip-compressed versions
    of all of these. Parsing is vectorised (pandas' C parser).

    Parameters
    ----------
    path : str or Path
        The file; ``.gz`` content is detected from its magic bytes.
    header : {"auto", "none", "names", "counts"}
        What the first data line is. ``"auto"`` takes it as column names when
        every token is a known column word (source, target, weight, ...), and as
        ``n m`` counts when it has two integers, the node ids of the rest fit
        in ``n`` and ``m`` is within 1% of the number of edge lines.
    sep : str, optional
        The field separator; guessed from the first data line when omitted.

    Returns
    -------
    EdgeList

    Raises
    ------
    BadInput
        For an unreadable line, naming the file, the line and the field.
    """
    source = str(path)
    lines, numbers = read_lines(path)
    if not lines:
        raise BadInput("no edges found (the file is empty or all comments)", file=source)
    first = lines[0]
    if b":" in first and sep is None and _looks_adjacency(first):
        return _read_adjacency(lines, numbers, source)
    sep = sep or _sep_for(first)
    kind = "none"
    names_in_file: list[str] | None = None
    if header in ("auto", "names"):
        tokens = [t.strip().lower() for t in _split_first(first, sep)]
        if header == "names" or (tokens and all(t in _HEADER_WORDS for t in tokens)):
            kind, names_in_file = "names", tokens
            lines, numbers = lines[1:], numbers[1:]
    declared: tuple[int, int] | None = None
    if kind == "none" and header in ("auto", "counts"):
        tokens = _split_first(first, sep)
        if len(tokens) == 2 and all(t.strip().isdigit() for t in tokens):
            declared = (int(tokens[0]), int(tokens[1]))
            if header == "counts":
                kind = "counts"
            elif len(lines) < 2 or abs(declared[1] - (len(lines) - 1)) > max(
                1, 0.01 * (len(lines) - 1)
            ):
                declared = None  # the counts cannot be right (or nothing follows): an edge
    if not lines:
        raise BadInput("no edges after the header line", file=source)
    ncols = len(_split_first(lines[-1 if kind == "counts" else 0], sep))
    if declared is not None and kind == "none":
        ncols = len(_split_first(lines[1], sep)) if len(lines) > 1 else 2
    if ncols < 2:
        raise BadInput(
            "expected at least 2 fields (source, target)", file=source, line=int(numbers[0])
        )
    weighted = ncols >= 3
    body_lines, body_numbers = lines, numbers
    if kind == "counts" or declared is not None:
        body_lines, body_numbers = lines[1:], numbers[1:]
    frame = _parse_edges(body_lines, body_numbers, source, sep, weighted)
    notes: list[str] = []
    if declared is not None and kind == "none":
        n, m = declared
        m_found = len(frame)
        ids_fit = (
            frame["source"].dtype.kind == "i"
            and m_found > 0
            and max(int(frame["source"].max()), int(frame["target"].max())) <= n
        )
        if ids_fit and abs(m - m_found) <= max(1, 0.01 * m_found):
            kind = "counts"
        else:  # the first line was an edge after all
            frame = _parse_edges(lines, numbers, source, sep, weighted)
            declared = None
    if kind == "counts" and declared is not None and declared[1] != len(frame):
        notes.append(f"the header declares {declared[1]:,} edges but the file holds {len(frame):,}")
    if names_in_file is not None and len(names_in_file) >= 3 and weighted:
        notes.append(f"third column {names_in_file[2]!r} read as the edge weight")
    weights = frame["weight"].to_numpy(dtype=np.float64) if weighted else None
    return EdgeList(
        sources=frame["source"].to_numpy(),
        targets=frame["target"].to_numpy(),
        weights=weights,
        lines=frame["_line"].to_numpy(),
        source=source,
        header=kind,
        declared=declared,
        notes=notes,
    )


def _split_first(line: bytes, sep: str) -> list[str]:
    text = line.decode("utf-8", errors="replace").strip()
    return text.split() if sep == r"\s+" else text.split(sep)


def _parse_edges(
    lines: Sequence[bytes], numbers: np.ndarray, source: str, sep: str, weighted: bool
) -> pd.DataFrame:
    cols: dict[str, str] = {"source": "int", "target": "int"}
    if weighted:
        cols["weight"] = "float"
    extra = _extra_columns(lines, sep, len(cols))
    for i in range(extra):  # extra columns (timestamps, labels) are read as text and ignored
        cols[f"_extra{i}"] = "str"
    try:
        frame = parse_columns(lines, numbers, source=source, columns=cols, sep=sep)  # type: ignore[arg-type]
    except BadInput as exc:
        if exc.field not in ("source", "target"):
            raise
        cols["source"] = cols["target"] = "str"  # string ids (handles)
        frame = parse_columns(lines, numbers, source=source, columns=cols, sep=sep)  # type: ignore[arg-type]
    return frame


def _extra_columns(lines: Sequence[bytes], sep: str, have: int) -> int:
    probe = lines[0]
    return max(0, len(_split_first(probe, sep)) - have)


def _looks_adjacency(line: bytes) -> bool:
    head, _, tail = line.partition(b":")
    return head.strip().isdigit() and (not tail.strip() or tail.strip()[:1].isdigit())


def _read_adjacency(lines: Sequence[bytes], numbers: np.ndarray, source: str) -> EdgeList:
    heads: list[int] = []
    counts: list[int] = []
    chunks: list[bytes] = []
    for raw, lineno in zip(lines, numbers.tolist(), strict=True):
        head, sep, tail = raw.partition(b":")
        if not sep or not head.strip().isdigit() or int(head) >= 2**63:
            raise BadInput(
                "expected 'node:neighbour,neighbour,...'", file=source, line=lineno, field="node"
            )
        tail = tail.strip()
        items = tail.split(b",") if tail else []
        heads.append(int(head))
        counts.append(len(items))
        chunks.append(b"\n".join(items))
    body = b"\n".join(c for c in chunks if c)
    repeated = np.repeat(numbers, counts)
    try:
        targets = np.asarray(body.split(), dtype=np.int64) if body else np.empty(0, np.int64)
    except (ValueError, OverflowError):
        for raw, lineno in zip(lines, numbers.tolist(), strict=True):
            for item in raw.partition(b":")[2].strip().split(b","):
                if item and (not item.strip().isdigit() or int(item) >= 2**63):
                    raise BadInput(
                        f"expected an integer, got {item[:40]!r}",
                        file=source,
                        line=lineno,
                        field="neighbour",
                    ) from None
        raise
    if len(targets) != int(np.sum(counts)):
        raise BadInput("empty neighbour in the list", file=source)
    sources = np.repeat(np.asarray(heads, dtype=np.int64), counts)
    return EdgeList(
        sources=sources,
        targets=targets,
        weights=None,
        lines=repeated,
        source=source,
        header="none",
    )
