"""One output layer for every command that prints records: a table, JSON or CSV.

``--format table`` (the default) prints a rich table that fits the terminal (``$COLUMNS``,
80 when the output is redirected): text columns wrap, and when even that does not fit, the
least important columns are left out (a note names them) rather than cut to ``…``.
``--format json`` and ``--format csv`` always carry every field with its full value.
Times are ISO (``YYYY-MM-DD HH:MM`` UTC), numbers carry their unit.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "FORMATS",
    "Col",
    "fit_table",
    "output_format",
    "print_records",
    "write_csv",
]

FORMATS = ("table", "json", "csv")

# the width of a rich table's frame: one border per column plus one, one space each side
_PAD = 2


def output_format(fmt: str | None, *, as_json: bool = False, as_csv: bool = False) -> str:
    """The chosen format: ``--format``, with ``--json`` (and ``--csv``) as synonyms."""
    chosen = [name for name, on in (("json", as_json), ("csv", as_csv)) if on]
    if fmt is not None:
        if fmt not in FORMATS:
            raise typer.BadParameter(
                f"must be one of {', '.join(FORMATS)}; got {fmt!r}", param_hint="'--format'"
            )
        chosen.append(fmt)
    if len(set(chosen)) > 1:
        raise typer.BadParameter(
            f"{fmt!r} contradicts --{chosen[0]}: give one of them", param_hint="'--format'"
        )
    return chosen[0] if chosen else "table"


def plain(value: Any) -> Any:
    """A value as plain JSON: numpy scalars unwrapped, NaN and infinities as null."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Col:
    """A column of a printed table.

    key : the record's field (also the CSV header)
    header : the table's heading (default: the key)
    cell : the table's text for a value (default: :func:`text`)
    right : right-aligned (numbers)
    drop : 0 for a column that is always shown; at a narrow width the columns with the
        highest ``drop`` go first
    wrap : the cell may wrap over several lines (free text)
    """

    key: str
    header: str | None = None
    cell: Callable[[Any], str] | None = None
    right: bool = False
    drop: int = 0
    wrap: bool = False
    style: str | None = field(default=None)

    def heading(self) -> str:
        return self.header if self.header is not None else self.key

    def render(self, value: Any) -> str:
        if self.cell is not None:
            return self.cell(value)
        return text(value)


def text(value: Any) -> str:
    """A cell's text: ``-`` for nothing, thousands separators on integers."""
    value = plain(value)
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("\n", " ")


def _min_width(col: Col, cells: list[str]) -> int:
    """The narrowest a column may get without losing a character of any cell."""
    header = col.heading()
    if col.wrap:  # wraps at spaces; a long word folds at 16
        words = [len(w) for c in cells for w in c.split()] or [1]
        return max(min(max(words), 16), min(len(header), 16), 6)
    return max([len(header), *(len(c) for c in cells)])


def fit_table(
    records: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    *,
    width: int,
    title: str | None = None,
) -> tuple[Table, list[str]]:
    """A table of ``records`` no wider than ``width``, and the headings left out to fit it."""
    cells = [[c.render(r.get(c.key)) for r in records] for c in cols]
    mins = [_min_width(c, cs) for c, cs in zip(cols, cells, strict=True)]
    keep = list(range(len(cols)))

    def needed() -> int:
        return sum(mins[i] + _PAD for i in keep) + len(keep) + 1

    while needed() > width and any(cols[i].drop > 0 for i in keep):
        worst = max((i for i in keep if cols[i].drop > 0), key=lambda i: (cols[i].drop, i))
        keep.remove(worst)
    table = Table(title=title, title_justify="left")
    for i in keep:
        col = cols[i]
        table.add_column(
            col.heading(),
            justify="right" if col.right else "left",
            overflow="fold",
            no_wrap=not col.wrap,
            min_width=mins[i],
            style=col.style,
        )
    for r in range(len(records)):
        table.add_row(*(Text(cells[i][r]) for i in keep))
    return table, [cols[i].heading() for i in range(len(cols)) if i not in keep]


def write_csv(records: Iterable[Mapping[str, Any]], keys: Sequence[str], out: Any = None) -> None:
    """Records as CSV (a header of ``keys``, full values; lists joined by ``;``)."""
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(keys)
    for r in records:
        row = []
        for k in keys:
            v = plain(r.get(k))
            if isinstance(v, list | tuple):
                v = ";".join(str(plain(x)) for x in v)
            elif isinstance(v, dict):
                v = json.dumps(v, default=plain)
            row.append("" if v is None else v)
        writer.writerow(row)


def print_records(
    records: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    fmt: str,
    *,
    console: Console,
    title: str | None = None,
    json_lines: bool = False,
    csv_keys: Sequence[str] | None = None,
) -> None:
    """Print ``records`` as a table (fitted to the console), JSON or CSV.

    JSON is one array (or one object per line with ``json_lines``) of every field of every
    record; CSV has the columns ``csv_keys`` (default: the keys of the first record, else
    the columns' keys).
    """
    if fmt == "json":
        if json_lines:
            for r in records:
                sys.stdout.write(json.dumps(dict(r), default=plain) + "\n")
        else:
            sys.stdout.write(json.dumps([dict(r) for r in records], default=plain) + "\n")
        return
    if fmt == "csv":
        keys = csv_keys or (list(records[0]) if records else [c.key for c in cols])
        write_csv(records, keys)
        return
    table, left_out = fit_table(records, cols, width=console.width, title=title)
    console.print(table)
    if left_out:
        console.print(
            f"(not shown at {console.width} columns: {', '.join(left_out)}; "
            "--format csv or json has them)",
            highlight=False,
        )


def iso(t: float | None, *, seconds: bool = False) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM`` UTC (``-`` for none)."""
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return "-"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(float(t), tz=UTC).strftime(fmt)


def duration(seconds: float | None) -> str:
    """A duration with its unit: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 d``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def share(x: float | None) -> str:
    """A fraction in [0, 1] as a percentage: ``12.5 %``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f} %"
