"""Server time of every dashboard page on the demo store, SQLite and PostgreSQL.

Builds the demo store (:func:`grapevine.demo.build_demo`) in a fresh SQLite file and in a
fresh PostgreSQL schema, serves each with ``grapevine serve`` in demo mode (a real uvicorn
subprocess on a loopback port), asks each page once to warm it, then ``--repeat`` times and
reports the median and 95th percentile of the answer time (request sent to last byte
received, on loopback: the server's time plus well under a millisecond). Goal: every page
under 300 ms. Writes benchmarks/results/dashboard_pages.md.

Run::

    .venv/bin/python benchmarks/dashboard_pages.py [--repeat 20] [--backends sqlite,postgres]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--sqlite FILE]

``--sqlite FILE`` reuses a demo store built before (``grapevine demo --no-serve --db FILE``)
instead of building one.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy as sa

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)

EXE = str(Path(sys.executable).parent / "grapevine")
GOAL_MS = 300.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(url: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "GRAPEVINE_DASHBOARD_DEMO": "1",
        "GRAPEVINE_IP_SALT": "bench-salt",
        "GRAPEVINE_RATE_LIMIT_PER_IP": "off",
    }
    proc = subprocess.Popen(
        [EXE, "serve", "--db", url, "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"grapevine serve did not start on {url}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _first(html: str, pattern: str) -> str:
    found = re.findall(rf'href="({pattern})"', html)
    if not found:
        raise SystemExit(f"no link like {pattern} in the page")
    return found[0].replace("&amp;", "&")


def pages(client: httpx.Client, url: str) -> list[tuple[str, str]]:
    """The dashboard's pages on this store (the ids of one item, person, campaign and plan)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        campaign = conn.execute(sa.text("SELECT min(id) FROM campaigns")).scalar_one()
    engine.dispose()
    item = _first(client.get("/inbox").text, r"/inbox/\d+")
    person = _first(client.get("/people").text, r"/people/person\?[^\"]*")
    plan = _first(client.get("/planner").text, r"/planner/plan/\d+")
    return [
        ("Overview", "/"),
        ("Listening", "/listening"),
        ("Inbox", "/inbox"),
        ("Inbox item", item),
        ("Spread", "/spread"),
        ("People", "/people"),
        ("Person", person),
        ("Campaigns", "/campaigns"),
        ("Campaign", f"/campaigns/{campaign}"),
        ("Review queue", f"/campaigns/{campaign}/review"),
        ("Planner", "/planner"),
        ("Saved plan", plan),
    ]


def measure(url: str, repeat: int) -> dict[str, tuple[float, float, int]]:
    """Page name -> (median ms, p95 ms, status) on the store at ``url``."""
    out: dict[str, tuple[float, float, int]] = {}
    with serving(url) as base, httpx.Client(base_url=base, timeout=120) as client:
        for name, path in pages(client, url):
            status = client.get(path).status_code  # warm: caches, first compilation
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                status = max(status, response.status_code)
            arr = np.array(times)
            out[name] = (float(np.median(arr)), float(np.percentile(arr, 95)), status)
            print(f"  {name:14s} median {out[name][0]:7.1f} ms  p95 {out[name][1]:7.1f} ms")
    return out


def build(url: str) -> float:
    from grapevine.demo import build_demo
    from grapevine.store import Store

    t0 = time.perf_counter()
    with Store(url) as store:
        build_demo(store)
    return time.perf_counter() - t0


@contextmanager
def pg_schema(pg_url: str) -> Iterator[str]:
    schema = f"gv_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in pg_url else "?"
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sqlite", type=Path, help="a demo store built before")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    results: dict[str, dict[str, tuple[float, float, int]]] = {}
    builds: dict[str, float] = {}
    if "sqlite" in backends:
        if args.sqlite is not None:
            url = f"sqlite:///{args.sqlite.resolve()}"
        else:
            folder = Path(tempfile.mkdtemp(prefix="gv-bench-demo-"))
            url = f"sqlite:///{folder / 'demo.db'}"
            print("building the demo store on SQLite ...")
            builds["SQLite"] = build(url)
        print("SQLite:")
        results["SQLite"] = measure(url, args.repeat)
    if "postgres" in backends:
        with pg_schema(args.pg_url) as url:
            print("building the demo store on PostgreSQL ...")
            builds["PostgreSQL"] = build(url)
            print("PostgreSQL:")
            results["PostgreSQL"] = measure(url, args.repeat)
    names = list(next(iter(results.values())))
    headers = ["page"]
    for backend in results:
        headers += [f"{backend} median ms", f"{backend} p95 ms"]
    rows = []
    for name in names:
        row: list[object] = [name]
        for backend in results:
            med, p95, status = results[backend][name]
            mark = "" if status < 400 else f" (HTTP {status})"
            row += [f"{med:.0f}{mark}", f"{p95:.0f}"]
        rows.append(row)
    over = [
        f"{name} on {backend} ({results[backend][name][0]:.0f} ms)"
        for backend in results
        for name in names
        if results[backend][name][0] > GOAL_MS
    ]
    built = "; ".join(f"{b}: {s:.0f} s" for b, s in builds.items()) or "reused"
    text = "\n".join(
        [
            "# Dashboard pages: server time on the demo store",
            "",
            f"Command: `{command_line('dashboard_pages.py', argv)}`",
            "",
            "Each page asked once to warm up, then "
            f"{args.repeat} times in a row by one client over loopback from a real "
            "`grapevine serve` (demo mode) on the demo store (`grapevine.demo.build_demo`). "
            f"Goal: every page under {GOAL_MS:.0f} ms (median).",
            "",
            markdown_table(headers, rows, "l" + "r" * (len(headers) - 1)),
            "",
            f"Over the goal: {', '.join(over) if over else 'none'}.",
            f"Demo store build time: {built}.",
            busy_note("every time above is longer than on an idle machine"),
            "## Machine",
            "",
            facts_markdown(machine_facts(packages=("sqlalchemy", "fastapi", "uvicorn"))),
        ]
    )
    write_report(RESULTS_DIR / "dashboard_pages.md", text)


if __name__ == "__main__":
    main()
