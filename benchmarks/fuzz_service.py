"""How many hostile cases the service was tried with, and how many got a 5xx.

Runs ``tests/test_schemathesis.py`` (Schemathesis over every operation of the OpenAPI schema,
the same cases with hostile values, Grapevine-signed and Stripe-signed webhooks of every
shape; a real uvicorn server on SQLite and on PostgreSQL) with ``--examples`` examples per
test instead of the test suite's few, tallies every request by backend, kind of case and
status, and writes the table to ``benchmarks/results/fuzz_service.md``. Any 5xx, or a 4xx
whose body is not the one error shape, fails the run (and is counted).

Usage::

    .venv/bin/python benchmarks/fuzz_service.py [--examples 100] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "fuzz_service.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per test")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    log = Path(tempfile.mkdtemp(prefix="fuzz_service_")) / "tally.json"
    env = {
        **os.environ,
        "GRAPEVINE_FUZZ_EXAMPLES": str(args.examples),
        "GRAPEVINE_FUZZ_LOG": str(log),
        "GRAPEVINE_REQUIRE_POSTGRES": "1" if "postgres" in backends else "0",
    }
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0",
        "tests/test_schemathesis.py", "-k", " or ".join(backends),
    ]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    rows = json.loads(log.read_text()) if log.exists() else []
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for backend, kind, outcome, n in rows:
        tally[(backend, kind)][outcome] = n
    lines = [
        "# Hostile input against the HTTP service",
        "",
        f"`.venv/bin/python benchmarks/fuzz_service.py --examples {args.examples} "
        f"--backends {','.join(backends)}`, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{seconds:.0f} s; pytest: {summary}",
        "",
        "| backend | kind of case | cases | 2xx/3xx | 4xx | 5xx | other failures | statuses |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    total = fives = 0
    for (backend, kind), outcomes in sorted(tally.items()):
        n = sum(outcomes.values())
        ok = sum(v for k, v in outcomes.items() if k[:1] in "23")
        four = sum(v for k, v in outcomes.items() if k[:1] == "4")
        five = sum(v for k, v in outcomes.items() if k[:1] == "5")
        other = n - ok - four - five
        total, fives = total + n, fives + five
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        lines.append(
            f"| {backend} | {kind} | {n} | {ok} | {four} | {five} | {other} | {statuses} |"
        )
    lines += [
        "",
        f"Total: {total} cases, {fives} answered 5xx. `other failures` counts Schemathesis "
        "cases that failed a check without a 5xx (a 4xx body not in the error shape). Each "
        "case is one HTTP request; Hypothesis also replays and shrinks failing cases, so a "
        "failure is counted more than once.",
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
