"""Graph cache: parsing an edge-list file against loading its binary cache (``.grapevine.npz``).

Files (from the shared data folder, copied to a temporary folder so each cache sits beside
its file): NetHEPT (``NetHept.txt``, first line ``n m``), Epinions (``u:v1,...`` adjacency),
wiki-Vote (SNAP, ``#`` comments), email-Eu-core (gzip), and a synthetic ``u v`` file of
``--synthetic-arcs`` random arcs (numpy seed 0) standing in for a larger graph, since the
shared folder holds none past 0.5M arcs.

Per file, each the median of ``--repeat`` runs in this process:

* parse: ``Graph.from_edgelist(path, cache=False)``;
* first run: parse and write the cache (one run, on a fresh copy);
* cache load: ``Graph.from_edgelist(path)`` once the cache exists (SHA-256 of the file,
  ``np.load`` of the arrays, the Graph's checks).

Then the whole process ``grapevine plan FILE --k 50 --json --random-state 0`` with
``--no-cache`` and with a current cache, on NetHEPT and Epinions (median of ``--repeat``
runs, alternating).

Usage::

    .venv/bin/python benchmarks/graph_cache.py [--repeat N] [--synthetic-arcs M] [--out PATH]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    data_file,
    facts_markdown,
    fmt_int,
    fmt_seconds,
    machine_facts,
    markdown_table,
    median,
    time_call,
    write_report,
)
from grapevine.graph import Graph
from grapevine.graph._cache import SUFFIX

GRAPHS = [
    ("NetHEPT", "NetHept.txt"),
    ("Epinions", "epinions_adjacency.txt"),
    ("wiki-Vote", "wiki-Vote.txt"),
    ("email-Eu-core", "email-Eu-core.txt.gz"),
]
PLANNED = ("NetHEPT", "Epinions")
GRAPEVINE = Path(sys.executable).with_name("grapevine")


def write_synthetic(path: Path, arcs: int) -> None:
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, max(arcs // 10, 2), size=(arcs, 2))
    with path.open("w") as handle:
        for block in np.array_split(pairs, max(1, arcs // 500_000)):
            lines = np.char.add(np.char.add(block[:, 0].astype(str), " "), block[:, 1].astype(str))
            handle.write("\n".join(lines.tolist()) + "\n")


def time_loads(path: Path, repeat: int) -> dict[str, float]:
    cache = path.with_name(path.name + SUFFIX)
    cache.unlink(missing_ok=True)
    first, graph = time_call(lambda: Graph.from_edgelist(path, cache=True))
    assert cache.is_file(), cache
    parse = [time_call(lambda: Graph.from_edgelist(path, cache=False))[0] for _ in range(repeat)]
    load = [time_call(lambda: Graph.from_edgelist(path, cache=True))[0] for _ in range(repeat)]
    return {
        "nodes": graph.n_nodes,
        "arcs": graph.n_edges,
        "text": path.stat().st_size,
        "cache": cache.stat().st_size,
        "parse": median(parse),
        "first": first,
        "load": median(load),
    }


def plan_wall(path: Path, no_cache: bool) -> float:
    args = [str(GRAPEVINE), "plan", str(path), "--k", "50", "--json", "--random-state", "0"]
    if no_cache:
        args.append("--no-cache")
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per cell (default 5)")
    ap.add_argument("--synthetic-arcs", type=int, default=2_000_000, help="0 to skip")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "graph_cache.md")
    args = ap.parse_args(argv)
    rows = []
    plans = []
    with tempfile.TemporaryDirectory(prefix="gv-bench-cache-") as tmp:
        files = []
        for name, file in GRAPHS:
            copy = Path(tmp) / file
            shutil.copyfile(data_file("graphs", file), copy)
            files.append((name, copy))
        if args.synthetic_arcs:
            synthetic = Path(tmp) / "synthetic.txt"
            write_synthetic(synthetic, args.synthetic_arcs)
            files.append((f"synthetic {args.synthetic_arcs:,} `u v`", synthetic))
        for name, path in files:
            print(f"{name}…", file=sys.stderr, flush=True)
            r = time_loads(path, args.repeat)
            rows.append(
                [
                    name,
                    fmt_int(r["nodes"]),
                    fmt_int(r["arcs"]),
                    f"{r['text'] / 1e6:.2f}",
                    f"{r['cache'] / 1e6:.2f}",
                    fmt_seconds(r["parse"]),
                    fmt_seconds(r["first"]),
                    fmt_seconds(r["load"]),
                    f"{r['parse'] / r['load']:.0f}×",
                ]
            )
        for name, path in files:
            if name not in PLANNED:
                continue
            print(f"plan {name}…", file=sys.stderr, flush=True)
            plan_wall(path, no_cache=False)  # writes the cache, warms the kernels' disk cache
            walls: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.repeat):
                for no_cache in (True, False):
                    walls[no_cache].append(plan_wall(path, no_cache))
            without, with_ = median(walls[True]), median(walls[False])
            plans.append(
                [name, fmt_seconds(without), fmt_seconds(with_), fmt_seconds(without - with_)]
            )
    facts = machine_facts(["numpy", "pandas"], [("command", command_line("graph_cache.py", argv))])
    text = "\n".join(
        [
            "# Graph cache: text parse against binary cache load",
            "",
            f"Seconds, median of {args.repeat} runs (file in the page cache); `first run` "
            "parses and writes the cache once. MB are 10^6 bytes.",
            "",
            markdown_table(
                [
                    "graph",
                    "nodes",
                    "arcs",
                    "text MB",
                    "cache MB",
                    "parse s",
                    "first run s",
                    "cache load s",
                    "speed-up",
                ],
                rows,
                "lrrrrrrrr",
            ),
            "",
            f"Whole process `grapevine plan FILE --k 50 --json --random-state 0`, wall seconds, "
            f"median of {args.repeat} alternating runs:",
            "",
            markdown_table(["graph", "--no-cache s", "cached s", "saved s"], plans, "lrrr"),
            busy_note("all timings are slower and noisier than on an idle machine"),
            "",
            "Machine and versions:",
            "",
            facts_markdown(facts),
        ]
    )
    write_report(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
