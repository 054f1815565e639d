"""``grapevine report``: the dashboard's figures in one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grapevine.cli._options import DbOption

__all__ = ["report"]


def report(
    out: Annotated[
        Path, typer.Option("--out", help="The HTML file to write (replaced if it exists).")
    ] = Path("report.html"),
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="The overview's period: 24h, 7d, 30d, 90d, 365d or all (counted back from "
            "the newest mention), or FROM..TO dates (2024-01-01..2024-01-31). Default: all.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the overview, spread, people and campaign charts and tables to ONE HTML file.

    The charts, their data and the charting library are inside the file: it opens offline
    and can be mailed. Cascades, roles and campaigns are those of the whole store; the
    overview (mentions, sentiment, alerts, stories) is that of the period.
    """
    from grapevine.dashboard._report import write_report
    from grapevine.store import Store

    with Store(db, create=False) as store:
        done = write_report(store, out, period=period)
    charts = len(done.charts)
    typer.echo(
        f"wrote {out}: {len(done.sections)} sections, {charts} charts, period "
        f"{done.period.label()} (UTC)"
    )
