"""Campaign figures that stay fast: ``/stats``, a busy participant's page and redirects.

For each backend (SQLite file, PostgreSQL schema) this

1. starts ``grapevine serve`` on a fresh database and makes a campaign and a participant
   through the API (the hot link ``/r/{code}``: the busy referrer), then stops it;
2. loads ``--clicks`` recorded clicks and ``--conversions`` signups and purchases in bulk
   straight into ``referral_events`` (``executemany`` on SQLite, ``COPY`` on PostgreSQL):
   one referrer in ten is the busy one, the others are spread over the participants and
   customers; the referrer of each conversion is someone who joined before (a tree of
   several generations); 85% browser clicks, 10% bots, 5% link previews, 60 days;
3. builds the rollups (:func:`grapevine.referrals.rebuild_rollups`, timed);
4. starts ``grapevine serve`` again and times ``GET /api/campaigns/{id}/stats`` and the busy
   participant's page (``/p/{token}`` and its ``/stats`` fragment) ``--requests`` times
   each, one at a time (median and p95 of the client's wall time);
5. runs wrk on the hot link for ``--duration`` seconds, then again while a thread polls
   ``/stats`` once a second (redirects per second with and without the polling).

Usage::

    .venv/bin/python benchmarks/referral_stats.py [--clicks 10000000] [--conversions 100000]
        [--backends sqlite,postgres] [--requests 50] [--duration 10] [--connections 32]
        [--threads 2] [--pg-url URL] [--out PATH]

wrk is a Debian package; when missing and running as root the script installs it with
``apt-get install -y wrk``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)
from redirect_load import (
    DEFAULT_PG,
    SERVER_PACKAGES,
    Database,
    api_headers,
    free_port,
    run_wrk,
    start_server,
    stop_server,
)

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
SALT = "bench-salt"
T0 = 1_790_000_000.0
CHANNELS = (None, "whatsapp", "facebook", "x", "email", "copy")
_COLUMNS = (
    "campaign_id, kind, time, code, referrer_id, person_id, value, idempotency_key, "
    "visitor_id, traffic, channel, order_id"
)


@dataclass
class Result:
    backend: str
    clicks: int
    conversions: int
    load_s: float
    rebuild_s: float
    stats_ms: list[float]
    page_ms: list[float]
    fragment_ms: list[float]
    rps_alone: float
    rps_polled: float
    polls: int
    polls_busy: int
    poll_ms: list[float]


def ensure_wrk() -> None:
    if shutil.which("wrk") is not None:
        return
    if os.geteuid() != 0:
        sys.exit("missing wrk: apt-get install -y wrk (as root)")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)


# ---------------------------------------------------------------------------- the data
def _rows(
    campaign: int, hot: int, first_person: int, args: argparse.Namespace
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``(persons, events)``: the customers and every click and conversion, as rows."""
    rng = random.Random(7)
    n_conv = args.conversions
    customers = list(range(first_person, first_person + n_conv))
    persons = [(pid, "email", f"c{pid}@bench.example") for pid in customers]
    joined = [hot]  # who may refer: the busy referrer, then each customer once joined
    events: list[tuple[Any, ...]] = []
    span = 60 * 86400.0
    for i, pid in enumerate(customers):
        t = T0 + span * i / n_conv
        ref = joined[rng.randrange(len(joined))] if rng.random() < 0.8 else None
        channel = rng.choice(CHANNELS) if ref is not None else None
        kind = "purchase" if rng.random() < 0.3 else "signup"
        value = round(rng.uniform(5, 120), 2) if kind == "purchase" else None
        order = f"o{i}" if kind == "purchase" else None
        events.append((campaign, kind, t, None, ref, pid, value, f"b:c{i}", None, None,
                       channel, order))  # fmt: skip
        joined.append(pid)
    for i in range(args.clicks):
        ref = hot if rng.random() < 0.1 else joined[rng.randrange(len(joined))]
        r = rng.random()
        traffic = "browser" if r < 0.85 else "bot" if r < 0.95 else "preview"
        events.append((campaign, "click", T0 + rng.random() * span, "BENCH", ref, None, None,
                       f"b:k{i}", f"v{rng.randrange(args.clicks // 2 + 1):x}", traffic,
                       rng.choice(CHANNELS), None))  # fmt: skip
    return persons, events


def load(url: str, campaign: int, hot: int, args: argparse.Namespace) -> float:
    """Bulk-load the clicks and conversions; seconds taken (generation included)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            first = int(conn.execute(sa.text("SELECT max(id) FROM persons")).scalar_one()) + 1
            persons, events = _rows(campaign, hot, first, args)
            if conn.dialect.name == "postgresql":
                raw: Any = conn.connection.driver_connection
                with raw.cursor() as cur:
                    with cur.copy("COPY persons (id, platform, handle) FROM STDIN") as copy:
                        for row in persons:
                            copy.write_row(row)
                    with cur.copy(f"COPY referral_events ({_COLUMNS}) FROM STDIN") as copy:
                        for row in events:
                            copy.write_row(row)
                    cur.execute(
                        "SELECT setval(pg_get_serial_sequence('persons', 'id'), "
                        "(SELECT max(id) FROM persons))"
                    )
            else:
                cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cur.executemany("INSERT INTO persons (id, platform, handle) VALUES (?, ?, ?)",
                                persons)  # fmt: skip
                marks = ", ".join("?" * 12)
                for start in range(0, len(events), 100_000):
                    cur.executemany(
                        f"INSERT INTO referral_events ({_COLUMNS}) VALUES ({marks})",
                        events[start : start + 100_000],
                    )
    finally:
        engine.dispose()
    return time.perf_counter() - started


def rebuild(url: str, campaign: int) -> float:
    from grapevine import referrals as rf

    rebuild_rollups = rf.rebuild_rollups  # imported before the clock starts
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        started = time.perf_counter()
        with Session(engine) as session:
            rebuild_rollups(session, campaign_id=campaign)
            session.commit()
        return time.perf_counter() - started
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- timing
def timed(client: httpx.Client, path: str, n: int) -> list[float]:
    client.get(path).raise_for_status()  # warm: the first request loads the modules
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - started) * 1000.0)
        r.raise_for_status()
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(backend: str, args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> Result:
    from grapevine import referrals as rf
    from grapevine.store import Store

    db = Database(backend, tmp, args.pg_url)
    try:
        Store(db.url).close()  # migrated here: the server then starts in seconds
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(db.url, port, 1, env, tmp / f"serve-{backend}-1.log")
        try:
            headers = api_headers(db.url)
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                r = client.post("/api/campaigns", json={
                    "name": f"bench-{uuid.uuid4().hex[:6]}",
                    "destinations": ["https://shop.example/welcome"]})  # fmt: skip
                r.raise_for_status()
                campaign = int(r.json()["id"])
                p = client.post(f"/api/campaigns/{campaign}/participants",
                                json={"email": "hot@bench.example"})  # fmt: skip
                p.raise_for_status()
                hot, code = int(p.json()["person_id"]), str(p.json()["code"])
        finally:
            stop_server(proc)
        engine = sa.create_engine(db.url, poolclass=NullPool)
        with engine.connect() as conn:
            participant = int(
                conn.execute(
                    sa.text("SELECT id FROM participants WHERE campaign_id = :c"),
                    {"c": campaign},
                ).scalar_one()
            )
        engine.dispose()
        print(f"[{backend}] loading {args.clicks:,} clicks, {args.conversions:,} conversions",
              file=sys.stderr)  # fmt: skip
        load_s = load(db.url, campaign, hot, args)
        print(f"[{backend}] loaded in {load_s:.1f} s; building the rollups", file=sys.stderr)
        rebuild_s = rebuild(db.url, campaign)
        print(f"[{backend}] rollups in {rebuild_s:.1f} s; timing", file=sys.stderr)
        proc = start_server(db.url, port, 1, env, tmp / f"serve-{backend}-2.log")
        try:
            token = rf.page_token(participant, SALT)
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                stats_ms = timed(client, f"/api/campaigns/{campaign}/stats", args.requests)
                page_ms = timed(client, f"/p/{token}", args.requests)
                fragment_ms = timed(client, f"/p/{token}/stats", args.requests)
            link = f"{base}/r/{code}"
            alone = run_wrk(link, threads=args.threads, connections=args.connections,
                            duration=args.duration)  # fmt: skip
            stop = threading.Event()
            polls, busy = [0], [0]
            poll_ms: list[float] = []

            def poll() -> None:
                # /stats first waits for the clicks accepted so far (read-your-writes); when
                # the click writer is over 10 s behind it answers 503, counted apart.
                with httpx.Client(base_url=base, headers=headers, timeout=60) as poller:
                    while not stop.wait(1.0):
                        started = time.perf_counter()
                        r = poller.get(f"/api/campaigns/{campaign}/stats")
                        poll_ms.append((time.perf_counter() - started) * 1000.0)
                        if r.status_code == 503:
                            busy[0] += 1
                        else:
                            r.raise_for_status()
                        polls[0] += 1

            thread = threading.Thread(target=poll, daemon=True)
            thread.start()
            try:
                polled = run_wrk(link, threads=args.threads, connections=args.connections,
                                 duration=args.duration)  # fmt: skip
            finally:
                stop.set()
                thread.join(timeout=30)
        finally:
            stop_server(proc)
    finally:
        db.drop()
    return Result(
        backend=backend,
        clicks=args.clicks,
        conversions=args.conversions,
        load_s=load_s,
        rebuild_s=rebuild_s,
        stats_ms=stats_ms,
        page_ms=page_ms,
        fragment_ms=fragment_ms,
        rps_alone=alone.rps,
        rps_polled=polled.rps,
        polls=polls[0],
        polls_busy=busy[0],
        poll_ms=poll_ms,
    )


# ---------------------------------------------------------------------------- the report
def render(results: list[Result], args: argparse.Namespace, command: str) -> str:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values):.1f} / {p95(values):.1f}"

    rows = [
        [
            NAMES[r.backend],
            f"{r.clicks:,}",
            f"{r.conversions:,}",
            f"{r.load_s:.1f}",
            f"{r.rebuild_s:.1f}",
            ms(r.stats_ms),
            ms(r.page_ms),
            ms(r.fragment_ms),
            f"{r.rps_alone:,.0f}",
            f"{r.rps_polled:,.0f} ({r.polls} polls, {r.polls_busy} answered 503, "
            f"median {statistics.median(r.poll_ms or [0.0]):.0f} ms)",
            f"{100.0 * (r.rps_polled - r.rps_alone) / r.rps_alone:+.1f}%",
        ]
        for r in results
    ]
    table = markdown_table(
        [
            "database",
            "clicks",
            "conversions",
            "bulk load s",
            "rollups built s",
            "/stats ms (median / p95)",
            "page ms",
            "page /stats ms",
            "redirects/s",
            "redirects/s, /stats polled 1/s",
            "change",
        ],
        rows,
    )
    out = io.StringIO()
    out.write("# Referral stats from rollups\n\n")
    out.write(f"Command: `{command}`\n\n")
    out.write(table + "\n\n")
    out.write(
        f"Times are the client's wall time of {args.requests} sequential requests after one "
        "warm-up, against one `grapevine serve` worker on the same machine. The page is the "
        "busy participant's (one click in ten is on their link). Redirects: wrk "
        f"-t{args.threads} -c{args.connections} -d{args.duration}s on the busy link, every "
        "request a new browser click written by the click writer (its rollups included).\n"
    )
    out.write(busy_note("every figure is slower than on an idle machine, the redirect "
                        "rates most"))  # fmt: skip
    out.write("\n## Machine\n\n")
    out.write(facts_markdown(machine_facts(SERVER_PACKAGES)) + "\n")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=10_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pg-url", default=os.environ.get("GRAPEVINE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "referral_stats.md")
    args = parser.parse_args(argv)
    ensure_wrk()
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": SALT,
        "GRAPEVINE_RATE_LIMIT_PER_KEY": "off",
        "GRAPEVINE_RATE_LIMIT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_CODE": "off",
        "GRAPEVINE_RATE_LIMIT_PAGES_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_PAGES_PER_TOKEN": "off",
    }
    env.pop("GRAPEVINE_DURABLE_CLICKS", None)
    results = []
    with tempfile.TemporaryDirectory(prefix="gv-stats-") as tmpdir:
        for backend in [b for b in args.backends.split(",") if b]:
            results.append(bench(backend, args, Path(tmpdir), env))
    write_report(args.out, render(results, args, command_line("referral_stats.py", argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
