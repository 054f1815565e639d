"""``grapevine demo``: one store with every capability on real data, then the dashboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.table import Table

from grapevine.cascades import activity_curve, retweet_cascades
from grapevine.cli._render import console, errors, when
from grapevine.demo import DemoStep, build_demo
from grapevine.store import Store

_BLOCKS = " ▁▂▃▄▅▆▇█"


def _sparkline(values: np.ndarray) -> str:
    top = float(values.max()) if values.size else 0.0
    if top <= 0:
        return ""
    levels = np.ceil(values / top * (len(_BLOCKS) - 1)).astype(int)
    return "".join(_BLOCKS[i] for i in levels)


def _step(step: DemoStep) -> None:
    counts = ", ".join(f"{v:,} {k}" for k, v in step.counts.items())
    errors.print(f"  [green]✓[/] {step.name}: {counts} ({step.seconds:.1f} s)", highlight=False)


def run_demo(db: Path, *, top: int = 10) -> str:
    """Create ``db`` afresh, build the demo store in it, print what it shows; its URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    console.rule("[bold]Grapevine demo: one store, every capability, real data")
    errors.print("Building the demo store (a minute or two on an idle machine):", highlight=False)
    with Store(url) as store:
        built = build_demo(store, on_step=_step)
        table = Table(title="\nWhat the demo store holds", title_justify="left")
        for col in ("step", "data", "simulated"):
            table.add_column(col)
        for s in built.steps:
            table.add_row(s.name, s.data, s.simulated or "nothing")
        console.print(table)
        _higgs(store, top=top)
    console.print(
        f"\nThe store is {db}: try [bold]grapevine info --db {url}[/], "
        f"[bold]grapevine campaign list --db {url}[/] or [bold]grapevine inbox --db {url}[/]."
    )
    return url


def _higgs(store: Store, *, top: int) -> None:
    ties = store.ties(platform="higgs")
    curve = activity_curve(ties["time"].to_numpy(), bin_seconds=3600.0)
    values = curve.to_numpy()
    peak = int(np.argmax(values))
    base = float(np.median(values[: max(1, peak - 12)]))
    takeoff = next((i for i in range(len(values)) if values[i] >= 10 * max(base, 1.0)), peak)
    console.print("\n[bold]The Higgs boson rumour on Twitter: actions per hour[/]")
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
    table = Table(
        title=f"\nLargest retweet cascades (times UTC, 2012): {len(retweets):,} retweets of "
        f"{retweets['target'].nunique():,} authors",
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
