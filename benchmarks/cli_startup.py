"""How long the ``grapevine`` command takes to start, and what it loads to get there.

Each row runs the installed ``grapevine`` script (the one a user types) as a fresh
process, ``--repeat`` times after ``--warmup`` unrecorded runs (hyperfine-style), and
reports the median, the fastest and the slowest wall time. The commands:

* ``python -c pass``: the interpreter's own start, the floor of every row;
* ``grapevine --version`` and ``grapevine --help``: parsing only, target under 0.3 s
  for ``--version``;
* ``grapevine campaign list`` on a SQLite store holding one campaign, target under 1 s;
* ``grapevine info`` on the same store, for comparison.

A last column names the heavy packages each command loaded (fastapi, starlette,
uvicorn, numba, sqlalchemy, alembic, pandas, scipy), found by running the same command
in-process and reading ``sys.modules`` at exit.

The machine this runs on may be shared: the load average at the time is in the report.
The fastest run and the CPU time (user + system, of the process alone) are the figures
least disturbed by other work; the wall-time median is the one the targets are judged on.

Usage::

    .venv/bin/python benchmarks/cli_startup.py [--repeat N] [--warmup N] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS_DIR, facts_markdown, machine_facts, markdown_table, write_report

HEAVY = ("fastapi", "starlette", "uvicorn", "numba", "sqlalchemy", "alembic", "pandas", "scipy")
TARGETS = {"--version": 0.3, "campaign list": 1.0}

_PROBE = """
import atexit, json, sys
HEAVY = set(json.loads(sys.argv[1]))
def _report():
    heavy = sorted({m.split(".")[0] for m in sys.modules} & HEAVY)
    sys.stderr.write("\\nLOADED " + json.dumps(heavy) + "\\n")
atexit.register(_report)
args = sys.argv[2:]
sys.argv = ["grapevine", *args]
from grapevine.cli.main import main
main()
"""


def _script() -> str:
    found = shutil.which("grapevine", path=str(Path(sys.executable).parent))
    if found is None:
        sys.exit("the grapevine script is not installed next to this Python (pip install -e .)")
    return found


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_runs(
    argv: list[str], env: dict[str, str], repeat: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each recorded run."""
    walls, cpus = [], []
    for i in range(warmup + repeat):
        cpu0, t0 = _cpu_of_children(), time.perf_counter()
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed, cpu = time.perf_counter() - t0, _cpu_of_children() - cpu0
        if out.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({out.returncode}):\n{out.stderr}")
        if i >= warmup:
            walls.append(elapsed)
            cpus.append(cpu)
    return walls, cpus


def _loaded(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in out.stderr.splitlines():
        if line.startswith("LOADED "):
            return ", ".join(json.loads(line[len("LOADED ") :])) or "none"
    return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="Recorded runs per command.")
    parser.add_argument("--warmup", type=int, default=2, help="Unrecorded runs first.")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "cli_startup.md")
    args = parser.parse_args()

    grapevine = _script()
    with tempfile.TemporaryDirectory(prefix="grapevine-startup-") as tmp:
        env = {
            **os.environ,
            "GRAPEVINE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'store.db'}",
            "COLUMNS": "100",
        }
        setup = [grapevine, "campaign", "create", "--name", "spring"]
        setup += ["--destination", "https://shop.example.com/"]
        subprocess.run(setup, env=env, capture_output=True, check=True)
        commands: list[tuple[str, list[str], list[str] | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("--version", [grapevine, "--version"], ["--version"]),
            ("--help", [grapevine, "--help"], ["--help"]),
            ("campaign list", [grapevine, "campaign", "list"], ["campaign", "list"]),
            ("info", [grapevine, "info"], ["info"]),
        ]
        rows = []
        for name, argv, probe in commands:
            walls, cpus = _time_runs(argv, env, args.repeat, args.warmup)
            times = sorted(walls)
            median = statistics.median(walls)
            target = TARGETS.get(name)
            verdict = (
                "" if target is None else f"< {target:g} s: {'yes' if median < target else 'no'}"
            )
            rows.append(
                [
                    name if probe is None else f"grapevine {name}",
                    f"{median:.3f}",
                    f"{times[0]:.3f}",
                    f"{times[-1]:.3f}",
                    f"{statistics.median(cpus):.3f}",
                    verdict,
                    "—" if probe is None else _loaded(probe, env),
                ]
            )
            print(f"{name}: median {median:.3f} s", file=sys.stderr)

    table = markdown_table(
        [
            "command",
            "median (s)",
            "fastest (s)",
            "slowest (s)",
            "CPU, median (s)",
            "target (median)",
            "heavy packages loaded",
        ],
        rows,
        align="lrrrrll",
    )
    facts = machine_facts(
        packages=("typer", "click", "rich", "sqlalchemy", "pandas", "numpy"),
        extra=[
            ("runs", f"{args.repeat} recorded after {args.warmup} warm-up runs, per command"),
            ("command", "`.venv/bin/python benchmarks/cli_startup.py`"),
        ],
    )
    text = (
        "# `grapevine` start-up time\n\n"
        "Wall time of a fresh process per run (the installed script, SQLite store with one "
        "campaign); CPU is user + system time of that process.\n\n"
        + table
        + "\n\n"
        + facts_markdown(facts)
        + "\n"
    )
    write_report(args.out, text)


if __name__ == "__main__":
    main()
