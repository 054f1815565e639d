"""Cascade files: FOREST / MS-HGAT sequences, Inf-VAE cascades and DeepHawkes/CasFlow Weibo paths.

Every adoption becomes a :class:`Post` with ``cascade_id`` naming its cascade
and ``external_id = "<cascade_id>/<user>"``. Cascade ids are made from the
content (the originator and a hash of the line), so re-importing a file, or
the same cascade from another file, never duplicates it. Only the Weibo
format has parent links (its retweet paths); the others record who adopted
when, and parents are inferred later (``grapevine.cascades``).

Formats
-------
forest
    One cascade a line: space-separated ``user,timestamp`` tokens in adoption
    order (FOREST, IJCAI 2019). Millisecond timestamps (above 1e11) become seconds.
mshgat
    One cascade a line: comma-separated ``user timestamp`` tokens (MS-HGAT, AAAI 2022).
infvae
    ``seed user_1 t_1 user_2 t_2 ...`` with times relative to the seed (Inf-VAE, WSDM 2020).
weibo
    Tab-separated ``cascade_id root_user publish_time n paths`` where each path
    ``u1/u2/.../un:dt`` says un retweeted through u_{n-1}, dt seconds after
    publication (DeepHawkes, CIKM 2017; CasFlow, TKDE 2021).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from grapevine._io import iter_line_blocks
from grapevine.connectors._records import Batch
from grapevine.errors import BadInput

__all__ = ["CASCADE_FORMATS", "detect_cascade_format", "read_cascades"]

CascadeFormat = Literal["forest", "mshgat", "infvae", "weibo"]
CASCADE_FORMATS: tuple[str, ...] = ("forest", "mshgat", "infvae", "weibo")
_MS_THRESHOLD = 1e11  # a Unix time in seconds stays below this until the year 5138


def detect_cascade_format(first_line: bytes) -> CascadeFormat:
    """Guess the cascade format from the first data line."""
    text = first_line.decode("utf-8", errors="replace").strip()
    if "\t" in text and "/" in text.split("\t")[-1]:
        return "weibo"
    tokens = text.split()
    if tokens and all(t.count(",") == 1 for t in tokens):
        return "forest"
    if "," in text:
        return "mshgat"
    return "infvae"


def _cascade_id(root: str, raw: bytes) -> str:
    return f"{root}-{hashlib.sha1(raw.strip()).hexdigest()[:10]}"


def _number(token: str, *, source: str, line: int, field: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise BadInput(
            f"expected a number, got {token[:40]!r}", file=source, line=line, field=field
        ) from None
    if not np.isfinite(value):
        raise BadInput(
            f"expected a finite number, got {token[:40]!r}", file=source, line=line, field=field
        )
    return value


def _user(token: str, *, source: str, line: int) -> str:
    token = token.strip()
    if not token or any(c in token for c in ",/:\t\x00") or len(token) > 200:
        raise BadInput(f"bad user id {token[:40]!r}", file=source, line=line, field="user")
    return token


def _parse_line(
    raw: bytes, line: int, fmt: CascadeFormat, source: str
) -> tuple[str, list[tuple[str, float, str | None]]]:
    """One cascade: its id and (user, time, parent user) adoptions in order."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise BadInput(f"not valid UTF-8 (byte {exc.start})", file=source, line=line) from None
    out: list[tuple[str, float, str | None]] = []
    if fmt in ("forest", "mshgat"):
        tokens = text.split() if fmt == "forest" else [t for t in text.split(",") if t.strip()]
        for tok in tokens:
            parts = tok.split(",") if fmt == "forest" else tok.split()
            if len(parts) != 2:
                want = "user,timestamp" if fmt == "forest" else "user timestamp"
                raise BadInput(
                    f"expected {want!r}, got {tok[:40]!r}", file=source, line=line, field="adoption"
                )
            user = _user(parts[0], source=source, line=line)
            out.append((user, _number(parts[1], source=source, line=line, field="time"), None))
        if out and max(t for _, t, _ in out) > _MS_THRESHOLD:
            out = [(u, t / 1000.0, p) for u, t, p in out]
    elif fmt == "infvae":
        tokens = text.split()
        if len(tokens) % 2 != 1:
            raise BadInput(
                "expected 'seed user time user time ...' (an odd number of fields)",
                file=source,
                line=line,
            )
        out.append((_user(tokens[0], source=source, line=line), 0.0, None))
        for u, t in zip(tokens[1::2], tokens[2::2], strict=True):
            out.append(
                (
                    _user(u, source=source, line=line),
                    _number(t, source=source, line=line, field="time"),
                    None,
                )
            )
    else:  # weibo
        fields = text.split("\t")
        if len(fields) != 5:
            raise BadInput(
                f"expected 5 tab-separated fields, found {len(fields)}", file=source, line=line
            )
        published = _number(fields[2], source=source, line=line, field="publish_time")
        root = _user(fields[1], source=source, line=line)
        for tok in fields[4].split():
            path, sep, delay = tok.rpartition(":")
            if not sep:
                raise BadInput(
                    f"expected 'u1/u2/...:delay', got {tok[:40]!r}",
                    file=source,
                    line=line,
                    field="paths",
                )
            users = [_user(u, source=source, line=line) for u in path.split("/")]
            dt = _number(delay, source=source, line=line, field="delay")
            # the nearest other user up the path (a path may repeat its last user)
            parent = next((u for u in reversed(users[:-1]) if u != users[-1]), None)
            out.append((users[-1], published + dt, parent))
        if not out or out[0][0] != root:
            out.insert(0, (root, published, None))
        return f"{fields[0]}", out
    if not out:
        raise BadInput("empty cascade", file=source, line=line)
    return _cascade_id(out[0][0], raw), out


def read_cascades(
    path: str | Path,
    *,
    format: CascadeFormat | Literal["auto"] = "auto",
    batch_size: int = 50_000,
    platform: str = "cascades",
) -> Iterator[Batch]:
    """Stream a cascade file as batches of adoption posts.

    A user who appears twice in one cascade keeps the earliest adoption (the
    repeats are counted in the notes). Weibo cascades keep their retweet
    parents; the other formats have none.

    Raises
    ------
    BadInput
        For a malformed token, naming the file, the line and the field.
    """
    source = str(path)
    fmt: CascadeFormat | None = None if format == "auto" else format
    repeats = 0
    rows: list[tuple[str, str, float, str | None, str]] = []
    lines_done = 0
    block_lines = max(1, batch_size // 40)  # cascades average tens of adoptions
    for lines, numbers in iter_line_blocks(path, block_lines=block_lines):
        if fmt is None:
            fmt = detect_cascade_format(lines[0])
        for raw, line in zip(lines, numbers.tolist(), strict=True):
            cid, adoptions = _parse_line(raw, line, fmt, source)
            adoptions.sort(key=lambda a: a[1])  # stable: the earliest adoption of a user wins
            seen: set[str] = set()
            for user, t, parent in adoptions:
                if user in seen:
                    repeats += 1
                    continue
                seen.add(user)
                parent_id = f"{cid}/{parent}" if parent is not None else None
                rows.append((f"{cid}/{user}", user, t, parent_id, cid))
        lines_done += len(lines)
        if len(rows) >= batch_size:
            yield _batch(rows, platform, lines_done, repeats)
            rows, lines_done, repeats = [], 0, 0
    if rows or lines_done:
        yield _batch(rows, platform, lines_done, repeats)


def _batch(
    rows: list[tuple[str, str, float, str | None, str]], platform: str, lines: int, repeats: int
) -> Batch:
    frame = pd.DataFrame(
        rows, columns=["external_id", "author", "time", "parent_external_id", "cascade_id"]
    )
    notes = (
        [f"{repeats:,} repeated adoptions (same user, same cascade) kept once"] if repeats else []
    )
    return Batch(platform=platform, rows=lines, posts=frame, notes=notes)
