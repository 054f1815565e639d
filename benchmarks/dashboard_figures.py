"""What the spread, people and planner pages cost to compute, and what the cache saves.

On a demo store (``grapevine demo --no-serve --db FILE``, or built here), in one process:
the libraries the figures need are imported first and timed on their own (once per
process: a server pays it in its start-up warm-up thread); then each figure the pages show
is computed once with an empty cache (the first view after an import) and asked
``--repeat`` times from the cache (every later view); the report is written once with an
empty cache; and the start-up warm-up (``warm_pages``, what ``grapevine serve`` computes in
a background thread before the first view) is timed with an empty cache. Writes
benchmarks/results/dashboard_figures.md.

Run::

    .venv/bin/python benchmarks/dashboard_figures.py [--sqlite FILE] [--repeat 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    median,
    write_report,
)

HEADERS = ["figure", "first view (ms)", "cached median (ms)", "cached max (ms)"]


def _ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", help="a demo store built before (a SQLite file)")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)

    from grapevine.dashboard._report import write_report as write_html
    from grapevine.dashboard._views import people_view, person_view, spread_view, warm_pages
    from grapevine.store import Store
    from grapevine.store.analysis_repo import cascade_sources, clear_cache, network_sources

    folder = Path(tempfile.mkdtemp(prefix="grapevine-figures-"))
    if args.sqlite:
        url = f"sqlite:///{Path(args.sqlite).resolve()}"
        built = "given"
    else:
        from grapevine.demo import build_demo

        url = f"sqlite:///{folder}/demo.db"
        with Store(url) as fresh:
            build_demo(fresh)
        built = "built here"
    store = Store(url, migrate=False)
    store.summary()  # the connection and the schema check, outside the timings
    rows = []

    def load_libraries() -> None:
        import scipy.stats  # noqa: F401

        import grapevine.cascades
        import grapevine.forecast
        import grapevine.roles  # noqa: F401
        from grapevine.graph._centrality import _import_networkit

        _import_networkit("dashboard_figures")

    rows.append(("libraries imported (once per process)", f"{_ms(load_libraries):,.0f}", "-",
                 "-"))  # fmt: skip
    clear_cache()
    sources = cascade_sources(store)
    networks = network_sources(store)
    person = None

    def measure(name: str, fn: Callable[[], Any]) -> None:
        cold = _ms(fn)
        warm = [_ms(fn) for _ in range(args.repeat)]
        rows.append((name, f"{cold:,.0f}", f"{median(warm):,.1f}", f"{max(warm):,.1f}"))

    clear_cache()
    for source in sources:
        measure(f"spread, {source.platform} ({source.count:,} {source.kind})",
                lambda p=source.platform: spread_view(store, platform=p))  # fmt: skip
    network = networks[0]
    measure(f"people, {network.platform} ({network.count:,} ties)",
            lambda: people_view(store, platform=network.platform))  # fmt: skip
    top = people_view(store, platform=network.platform).top["connector"]
    if top:
        person = str(top[0][1])
        measure(f"a person's page ({person} of {network.platform})",
                lambda: person_view(store, platform=network.platform, person=person))  # fmt: skip
    clear_cache()
    report_ms = _ms(lambda: write_html(store, folder / "report.html"))
    size = (folder / "report.html").stat().st_size
    rows.append(("report, empty cache", f"{report_ms:,.0f}", "-", "-"))
    clear_cache()
    warm_ms = _ms(lambda: warm_pages(store))
    rows.append(("start-up warm-up (warm_pages), empty cache", f"{warm_ms:,.0f}", "-", "-"))
    store.close()

    text = "\n".join(
        [
            "# Dashboard figures: first view and cached views",
            "",
            f"Command: `{command_line('dashboard_figures.py', argv)}` (demo store {built}).",
            "",
            "Libraries: the first import of scipy.stats, the cascade, forecast and role "
            "modules and networkit, paid once per process (by a server in its start-up "
            "warm-up thread) and left out of the rows below. "
            "First view: the figure computed with an empty cache (what the first page view "
            "after an import pays when no warm-up ran). Cached: the same call answered from "
            "`grapevine.store.analysis_repo`'s cache (every later view), median and maximum "
            f"of {args.repeat}. Library time only (no HTTP, no HTML): the pages add their "
            "rendering. Start-up warm-up: what a freshly started server computes in the "
            "background before its first view (every platform's largest cascade, the "
            "roles of the networks), after which every first page view is a cached one.",
            "",
            markdown_table(HEADERS, rows, "lrrr"),
            "",
            f"The report file is {size / 1e6:.1f} MB (ECharts inlined).",
            busy_note("every figure is slower than on an idle machine"),
            "",
            facts_markdown(machine_facts(("numpy", "scipy", "pandas"))),
        ]
    )
    write_report(RESULTS_DIR / "dashboard_figures.md", text)


if __name__ == "__main__":
    main()
