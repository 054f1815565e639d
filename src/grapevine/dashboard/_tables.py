"""Tables of the dashboard: each one shown as HTML and downloadable as CSV.

A page hands its :class:`Table` objects to :func:`grapevine.dashboard.render`; the page's
own URL with ``?format=csv&table=NAME`` (the other query parameters kept, so the period and
the tenant stay) then answers that table as ``NAME.csv`` instead of the page. The
``table`` macro of ``_macros.html`` renders the table with its download link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import URL

__all__ = ["Table", "csv_text", "csv_url"]


@dataclass(frozen=True)
class Table:
    """A named table: ``columns`` (headers) and ``rows`` (tuples of plain values).

    ``name`` is the CSV file's name and the ``table=`` of its download link (letters,
    digits, ``-`` and ``_``); ``caption`` is what the page shows above it; ``links`` maps a
    column to the URL of each row's cell (same length as ``rows``), for click-throughs.
    """

    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    caption: str = ""
    links: dict[str, Sequence[str | None]] = field(default_factory=dict)

    def cells(self) -> list[list[tuple[Any, str | None]]]:
        """Each row as (value, link or None) pairs, for the template."""
        out = []
        for i, row in enumerate(self.rows):
            out.append(
                [
                    (value, self.links[column][i] if column in self.links else None)
                    for column, value in zip(self.columns, row, strict=False)
                ]
            )
        return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    # A cell that a spreadsheet would run as a formula is quoted (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_text(table: Table) -> str:
    """The table as CSV (a header row, then the rows).

    >>> print(csv_text(Table("t", ["a", "b"], [(1, "=cmd"), (2.5, None)])), end="")
    a,b
    1,'=cmd
    2.5,
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def csv_url(url: URL, name: str) -> str:
    """The download link of table ``name`` on the page at ``url`` (its query kept).

    >>> csv_url(URL("http://x/listening?preset=7d"), "authors")
    '/listening?preset=7d&format=csv&table=authors'
    """
    target = url.include_query_params(format="csv", table=name)
    return f"{target.path}?{target.query}"
