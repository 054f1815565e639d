"""Rendering library results for the terminal."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

if TYPE_CHECKING:  # the store and pandas load only with the commands that need them
    from grapevine.connectors import Batch
    from grapevine.store import ImportReport, WriteResult

console = Console()
errors = Console(stderr=True)


def json_value(value: Any) -> Any:
    """A table cell as plain JSON: numpy scalars unwrapped, NaN as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def when(t: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM`` UTC (or another strftime format)."""
    if t is None:
        return "-"
    if abs(t) < 1e8:  # not a calendar time: a period number or seconds from a cascade's start
        return f"{t:g}"
    return datetime.fromtimestamp(t, tz=UTC).strftime(fmt)


def show_progress() -> bool:
    """Progress is drawn only when stderr is a terminal (never into a file or a pipe)."""
    return errors.is_terminal


@contextmanager
def import_progress(label: str) -> Iterator[Any]:
    """A rich progress display on stderr fed by ``on_batch`` callbacks.

    A spinner, the file, the counts and the time: no bar (the total is not known), so the
    line stays short enough that the counts are never cut off at 80 columns (a Higgs import
    reads ``higgs higgs-activity_time.txt.gz 563,069 rows, 563,069 new 0:00:12``). Nothing is
    drawn when stderr is not a terminal.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,} rows, {task.fields[new]:,} new"),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
        disable=not show_progress(),
    ) as progress:
        task = progress.add_task(label, total=None, new=0)
        state = {"new": 0}

        def on_batch(batch: Batch, result: WriteResult) -> None:
            state["new"] += result.total
            progress.update(task, advance=batch.rows, new=state["new"])

        yield on_batch
        progress.update(task, total=progress.tasks[0].completed)


@contextmanager
def step(label: str) -> Iterator[None]:
    """A spinner with the label and the elapsed time on stderr while a long step runs.

    Drawn only when stderr is a terminal; it disappears when the step ends.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not show_progress(),
    ) as progress:
        progress.add_task(label, total=None)
        yield


def import_report(report: ImportReport) -> None:
    """Print what an import did."""
    new = ", ".join(f"{v:,} {k}" for k, v in report.new.items() if v) or "nothing new"
    console.print(
        f"[green]imported[/] {report.rows_read:,} rows from {report.source} in "
        f"{report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s): {new}"
    )
    for note in dict.fromkeys(report.notes):
        console.print(f"  [yellow]note:[/] {note}")


def summary_tables(summary: dict[str, Any]) -> list[Table]:
    """The store summary as rich tables."""
    out: list[Table] = []
    persons = Table(title="Persons", title_justify="left")
    persons.add_column("platform")
    persons.add_column("persons", justify="right")
    for row in summary["persons"]:
        persons.add_row(row["platform"], f"{row['count']:,}")
    out.append(persons)
    ties = Table(title="Ties", title_justify="left")
    for col in ("platform", "kind", "ties", "timed", "first", "last"):
        ties.add_column(col, justify="right" if col in ("ties", "timed") else "left")
    for row in summary["ties"]:
        ties.add_row(
            row["platform"],
            row["kind"],
            f"{row['count']:,}",
            f"{row['timed']:,}",
            when(row["first"]),
            when(row["last"]),
        )
    out.append(ties)
    if summary["posts"]:
        posts = Table(title="Posts", title_justify="left")
        for col in ("platform", "posts", "cascades", "with parent", "first", "last"):
            posts.add_column(col)
        for row in summary["posts"]:
            posts.add_row(
                row["platform"],
                f"{row['count']:,}",
                f"{row['cascades']:,}",
                f"{row['with_parent']:,}",
                when(row["first"]),
                when(row["last"]),
            )
        out.append(posts)
    return out
