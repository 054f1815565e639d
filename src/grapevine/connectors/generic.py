"""The generic CSV / JSONL format for persons, ties and posts from any platform.

Export from anywhere into these columns (CSV with a header row, or JSON
Lines with these keys) and ``grapevine import persons|ties|posts FILE``
loads it. Columns in *italics* in docs/import-formats.md are optional.

persons
    ``id`` (the handle on its platform), ``display_name``, ``followers``;
    any other column becomes a person attribute.
ties
    ``source``, ``target`` (person ids), ``kind`` (follows, friend, trusts,
    replied, mentioned, retweeted, referred, nominated, coauthor, interacted;
    default from the command line), ``weight`` (default 1), ``time``.
posts
    ``id``, ``author``, ``time``, ``text``, ``language``, ``url``, ``parent``
    (the id of the post this one reshares or answers), ``cascade``, ``likes``,
    ``reshares``, ``replies``, ``views``.

A ``time`` is Unix seconds or an ISO 8601 timestamp (a time without a zone
is taken as UTC), within the years 1900-2099 (``grapevine._validation.TIME``);
counters are whole numbers 0 to 2^53 (``COUNT``), weights finite numbers;
text (attribute names and values included) holds no NUL and no unpaired
surrogate. Every row is validated; the first bad one raises
:class:`~grapevine.errors.BadInput` with the file, line and field.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from grapevine._io import check_text, open_binary
from grapevine._validation import COUNT, TIME, WEIGHT, Domain, check_choice
from grapevine._vocabulary import TIE_KINDS
from grapevine.connectors._records import Batch
from grapevine.errors import BadInput

__all__ = ["RECORD_KINDS", "parse_time", "read_csv_checked", "read_records"]

RECORD_KINDS = ("persons", "ties", "posts")
RecordKind = Literal["persons", "ties", "posts"]

_REQUIRED = {"persons": ("id",), "ties": ("source", "target"), "posts": ("id", "author")}
_KNOWN = {
    "persons": ("id", "platform", "display_name", "followers"),
    "ties": ("source", "target", "kind", "weight", "time", "platform"),
    "posts": (
        "id",
        "author",
        "time",
        "text",
        "language",
        "url",
        "parent",
        "cascade",
        "likes",
        "reshares",
        "replies",
        "views",
        "platform",
    ),
}


def parse_time(value: Any) -> float | None:
    """Unix seconds from a number or an ISO 8601 string; None for empty.

    >>> parse_time("2012-07-04T07:00:00Z")
    1341385200.0
    >>> parse_time(1341385200)
    1341385200.0
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        t = float(value)
    else:
        text = str(value).strip()
        try:
            t = float(text)
        except ValueError:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=UTC)
            t = stamp.timestamp()
    if not math.isfinite(t):
        raise ValueError("not a finite time")
    return t


def _decoded_lines(raw: Iterable[bytes], source: str) -> Iterator[str]:
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"not valid UTF-8 (byte {exc.start + 1} of the line)", file=source, line=number
            ) from None


def _rows_csv(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    source = str(path)
    with open_binary(path) as raw:
        reader = csv.reader(_decoded_lines(raw, source))
        try:
            header = next(reader, None)
            if header is None:
                raise BadInput("empty file (expected a header row)", file=source, line=1)
            header = [h.strip().lstrip("\ufeff") for h in header]
            if len(set(header)) != len(header):
                raise BadInput(
                    f"repeated column names in the header: {header}", file=source, line=1
                )
            start = reader.line_num
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    start = reader.line_num
                    continue
                if len(row) != len(header):
                    raise BadInput(
                        f"expected {len(header)} fields, found {len(row)}",
                        file=source,
                        line=start + 1,
                    )
                yield start + 1, dict(zip(header, row, strict=True))
                start = reader.line_num
        except csv.Error as exc:
            raise BadInput(f"malformed CSV: {exc}", file=source, line=reader.line_num) from None


def _rows_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    source = str(path)
    with open_binary(path) as raw:
        for number, line in enumerate(raw, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except UnicodeDecodeError as exc:
                raise BadInput(
                    f"not valid UTF-8 (byte {exc.start})", file=source, line=number
                ) from None
            except RecursionError:
                raise BadInput("JSON nested too deeply", file=source, line=number) from None
            except json.JSONDecodeError as exc:
                raise BadInput(
                    f"invalid JSON: {exc.msg} (column {exc.colno})", file=source, line=number
                ) from None
            if not isinstance(obj, dict):
                raise BadInput("expected a JSON object per line", file=source, line=number)
            yield number, obj


def _is_jsonl(path: str | Path) -> bool:
    name = str(path).lower().removesuffix(".gz")
    return name.endswith((".jsonl", ".ndjson", ".json"))


def read_csv_checked(path: str | Path, *, required: Sequence[str]) -> pd.DataFrame:
    """A small CSV as strings, with a ``_line`` column, after checking its header."""
    rows = list(_rows_csv(path))
    if not rows:
        raise BadInput("no rows after the header", file=str(path))
    missing = [c for c in required if c not in rows[0][1]]
    if missing:
        raise BadInput(
            f"missing column(s) {missing}; found {list(rows[0][1])}", file=str(path), line=1
        )
    frame = pd.DataFrame([r for _, r in rows])
    frame["_line"] = [n for n, _ in rows]
    return frame


_MAX_LENGTH = {"display_name": 255, "language": 16}
_ID_FIELDS = ("id", "author", "source", "target", "parent", "cascade")


def _text(value: Any, *, source: str, line: int, field: str, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput("required value is empty", file=source, line=line, field=field)
        return None
    if isinstance(value, dict | list):
        raise BadInput("expected text, got a JSON structure", file=source, line=line, field=field)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value).strip()
    check_text(text, source=source, line=line, field=field)
    limit = 255 if field in _ID_FIELDS else _MAX_LENGTH.get(field)
    if limit is not None and len(text) > limit:
        raise BadInput(
            f"longer than {limit} characters (at most {limit} characters allowed)",
            file=source,
            line=line,
            field=field,
        )
    return text


def _number(
    value: Any, *, source: str, line: int, field: str, domain: Domain = WEIGHT
) -> float | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(
            f"expected a number, got {str(value)[:40]!r}", file=source, line=line, field=field
        ) from None
    problem = domain.problem(number)
    if problem is not None:
        raise BadInput(problem, file=source, line=line, field=field)
    return number


def _time(value: Any, *, source: str, line: int) -> float | None:
    try:
        t = parse_time(value)
    except (ValueError, TypeError, OverflowError):
        raise BadInput(
            f"expected Unix seconds or an ISO 8601 time, got {str(value)[:40]!r}",
            file=source,
            line=line,
            field="time",
        ) from None
    problem = None if t is None else TIME.problem(t)
    if problem is not None:
        raise BadInput(problem, file=source, line=line, field="time")
    return t


def _attribute(value: Any, *, source: str, line: int, field: str, depth: int = 0) -> None:
    """Refuse an attribute (any JSON value) that holds text no store keeps or a non-finite
    number, or nests deeper than 32 levels."""
    if depth > 32:
        raise BadInput("nested deeper than 32 levels", file=source, line=line, field=field)
    if isinstance(value, str):
        check_text(value, source=source, line=line, field=field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"not a finite number: {value!r}", file=source, line=line, field=field)
    elif isinstance(value, list):
        for item in value:
            _attribute(item, source=source, line=line, field=field, depth=depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key), source=source, line=line, field=field)
            _attribute(item, source=source, line=line, field=field, depth=depth + 1)


def read_records(
    path: str | Path,
    kind: RecordKind,
    *,
    batch_size: int = 50_000,
    platform: str = "generic",
    tie_kind: str = "interacted",
) -> Iterator[Batch]:
    """Stream a generic CSV or JSONL file of persons, ties or posts as batches.

    The format is chosen by the extension (``.jsonl``/``.ndjson``/``.json``
    for JSON Lines, anything else CSV; ``.gz`` allowed). A ``platform`` column
    or key is not allowed to differ from ``platform`` within one import.
    """
    check_choice(kind, "kind", "read_records", RECORD_KINDS)
    check_choice(tie_kind, "tie_kind", "read_records", TIE_KINDS)
    source = str(path)
    rows = _rows_jsonl(path) if _is_jsonl(path) else _rows_csv(path)
    block: list[tuple[int, dict[str, Any]]] = []
    checked_header = False
    for number, row in rows:
        if not checked_header:
            if not _is_jsonl(path):
                missing = [c for c in _REQUIRED[kind] if c not in row]
                if missing:
                    raise BadInput(
                        f"missing column(s) {missing} for {kind}; found {list(row)}",
                        file=source,
                        line=1,
                    )
            checked_header = True
        block.append((number, row))
        if len(block) >= batch_size:
            yield _convert(block, kind, source, platform, tie_kind)
            block = []
    if block:
        yield _convert(block, kind, source, platform, tie_kind)


def _convert(
    block: list[tuple[int, dict[str, Any]]],
    kind: RecordKind,
    source: str,
    platform: str,
    tie_kind: str,
) -> Batch:
    out: list[dict[str, Any]] = []
    for line, row in block:
        for key in _REQUIRED[kind]:
            if key not in row:
                raise BadInput("missing", file=source, line=line, field=key)
        row_platform = row.get("platform")
        if row_platform not in (None, "", platform):
            raise BadInput(
                f"platform {row_platform!r} differs from this import's {platform!r} "
                "(import each platform separately with --platform)",
                file=source,
                line=line,
                field="platform",
            )
        kw: dict[str, Any] = {"source": source, "line": line}
        if kind == "persons":
            attrs = {
                k: v for k, v in row.items() if k not in _KNOWN["persons"] and v not in (None, "")
            }
            for name, value in attrs.items():
                check_text(name, source=source, line=line, field=name)
                _attribute(value, **kw, field=name)
            followers = _number(row.get("followers"), **kw, field="followers", domain=COUNT)
            out.append(
                {
                    "handle": _text(row["id"], **kw, field="id", required=True),
                    "display_name": _text(
                        row.get("display_name"), **kw, field="display_name", required=False
                    ),
                    "followers": followers,
                    "attributes": attrs or None,
                }
            )
        elif kind == "ties":
            k = _text(row.get("kind"), **kw, field="kind", required=False) or tie_kind
            if k not in TIE_KINDS:
                raise BadInput(
                    f"unknown tie kind {k!r}; expected one of {', '.join(TIE_KINDS)}",
                    file=source,
                    line=line,
                    field="kind",
                )
            weight = _number(row.get("weight"), **kw, field="weight")
            out.append(
                {
                    "source": _text(row["source"], **kw, field="source", required=True),
                    "target": _text(row["target"], **kw, field="target", required=True),
                    "kind": k,
                    "weight": 1.0 if weight is None else weight,
                    "time": _time(row.get("time"), **kw),
                }
            )
        else:
            rec: dict[str, Any] = {
                "external_id": _text(row["id"], **kw, field="id", required=True),
                "author": _text(row["author"], **kw, field="author", required=True),
                "time": _time(row.get("time"), **kw),
                "text": _text(row.get("text"), **kw, field="text", required=False),
                "language": _text(row.get("language"), **kw, field="language", required=False),
                "url": _text(row.get("url"), **kw, field="url", required=False),
                "parent_external_id": _text(
                    row.get("parent"), **kw, field="parent", required=False
                ),
                "cascade_id": _text(row.get("cascade"), **kw, field="cascade", required=False),
            }
            for counter in ("likes", "reshares", "replies", "views"):
                rec[counter] = _number(row.get(counter), **kw, field=counter, domain=COUNT)
            if rec["language"] is not None and len(rec["language"]) > 16:
                raise BadInput(
                    "a language code is at most 16 characters",
                    file=source,
                    line=line,
                    field="language",
                )
            out.append(rec)
    frame = pd.DataFrame(out)
    if kind == "ties":
        frame["time"] = frame["time"].astype(float)
    if "followers" in frame:
        frame["followers"] = frame["followers"].astype(float)
    return Batch(platform=platform, rows=len(block), **{kind: frame})
