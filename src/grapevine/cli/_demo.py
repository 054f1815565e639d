"""``grapevine demo``: a real viral event, imported and analysed from scratch."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

import numpy as np
from rich.table import Table

from grapevine.cascades import activity_curve, retweet_cascades
from grapevine.cli._render import console, import_progress, import_report, summary_tables, when
from grapevine.store import Store, import_file

SLICE = "higgs_activity_slice.txt.gz"
_BLOCKS = " ▁▂▃▄▅▆▇█"


def _sparkline(values: np.ndarray) -> str:
    top = float(values.max()) if values.size else 0.0
    if top <= 0:
        return ""
    levels = np.ceil(values / top * (len(_BLOCKS) - 1)).astype(int)
    return "".join(_BLOCKS[i] for i in levels)


def run_demo(db: Path, *, top: int = 10) -> None:
    """Create ``db`` afresh, import the shipped Higgs slice, print what it shows."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    console.rule("[bold]Grapevine demo: the Higgs boson rumour on Twitter, 1-4 July 2012")
    console.print(
        "Data: SNAP Higgs Twitter activity stream (De Domenico et al., Sci. Rep. 2013), the "
        "first 80 hours, shipped in the package.\n"
    )
    with Store(f"sqlite:///{db}") as store:
        with (
            as_file(files("grapevine.data") / SLICE) as path,
            import_progress("importing") as on_batch,
        ):
            report = import_file(store, "higgs", path, platform="higgs", on_batch=on_batch)
        import_report(report)
        for table in summary_tables(store.summary()):
            console.print(table)

        ties = store.ties(platform="higgs")
        curve = activity_curve(ties["time"].to_numpy(), bin_seconds=3600.0)
        values = curve.to_numpy()
        peak = int(np.argmax(values))
        base = float(np.median(values[: max(1, peak - 12)]))
        takeoff = next((i for i in range(len(values)) if values[i] >= 10 * max(base, 1.0)), peak)
        console.print("\n[bold]Actions per hour[/] (retweets, mentions, replies)")
        console.print(f"  {_sparkline(values)}")
        console.print(
            f"  from {when(float(curve.index[0]))} to "
            f"{when(float(curve.index[-1]) + 3600)} UTC, one mark an hour"
        )
        console.print(
            f"  typical hour before the take-off: {base:,.0f} actions; from "
            f"{when(float(curve.index[takeoff]))} UTC the volume passes ten times that; "
            f"peak {values[peak]:,} actions in the hour from {when(float(curve.index[peak]))}."
        )

        retweets = ties[ties["kind"] == "retweeted"]
        cascades = retweet_cascades(retweets, top=top)
        graph = store.graph(platform="higgs", kinds=["retweeted"])
        table = Table(
            title=f"\nLargest retweet cascades (times UTC, 2012): {len(retweets):,} retweets of "
            f"{retweets['target'].nunique():,} authors; the retweet graph has "
            f"{graph.n_nodes:,} people and {graph.n_edges:,} who-from-whom arcs",
            title_justify="left",
        )
        short = "%m-%d %H:%M"
        for col in ("author", "retweets", "people", "first", "half by", "busiest hour"):
            table.add_column(col, justify="right" if col in ("retweets", "people") else "left")
        for row in cascades.itertuples(index=False):
            table.add_row(
                str(row.root),
                f"{row.retweets:,}",
                f"{row.retweeters:,}",
                when(row.first, short),
                when(row.first + 3600 * row.hours_to_half, short),
                f"{when(row.peak_hour, short)} ({row.peak_share:.0%})",
            )
        console.print(table)
    console.print(
        f"\nThe store is {db}: try [bold]grapevine info --db sqlite:///{db}[/] or import more "
        "with [bold]grapevine import --help[/]."
    )
