"""Throughput of the outbound messages: emit in the caller's transaction, then dispatch.

On a fresh store per backend (SQLite file; PostgreSQL when ``--postgres URL`` is given): a
tenant with one signed webhook endpoint pointing at a local HTTP receiver (http.server, a
thread per request, answering 200 at once). Measures

- ``emit``: the median cost of queueing one event (one endpoint) inside a transaction of
  ``--batch`` events, and
- ``deliver``: messages delivered a second by :func:`grapevine.outbound.deliver_due` with one
  dispatcher, and with two dispatchers in threads (PostgreSQL only: ``FOR UPDATE SKIP
  LOCKED``), each signing and POSTing every message and logging the attempt;

and checks that every message reached the receiver exactly once. Writes
``benchmarks/results/outbound_dispatch.md``.

Usage::

    .venv/bin/python benchmarks/outbound_dispatch.py [--messages 2000] \
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine import outbound as ob
from grapevine.store import Store, tenants_repo

KEY = "bench-secrets-key-0123456789abcdefghijkl"


class _Receiver:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        lock = threading.Lock()
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    seen[self.headers["X-Grapevine-Delivery"]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _run(url: str, n: int, batch: int, dispatchers: int) -> dict[str, Any]:
    rx = _Receiver()
    config = ob.OutboundConfig(
        smtp=None,
        mail_from=None,
        public_origin="http://127.0.0.1",
        token_secret=None,
        secrets_key=KEY,
    )
    try:
        with Store(url) as store:
            with Session(store.engine) as s:
                tid = tenants_repo.get_or_create_tenant(s, slug="bench").id
                ob.add_endpoint(
                    s,
                    tenant_id=tid,
                    kind="webhook",
                    target=rx.url,
                    secrets_key=KEY,
                    allow_private=True,
                )
                s.commit()
            emit_times: list[float] = []
            for start in range(0, n, batch):
                with Session(store.engine) as s:
                    for i in range(start, min(n, start + batch)):
                        t = time.perf_counter()
                        ob.emit(
                            s,
                            tenant_id=tid,
                            event="reward.paid",
                            payload={"reward_id": i, "amount": 10.0},
                            key=f"r{i}",
                        )
                        emit_times.append(time.perf_counter() - t)
                    s.commit()

            def work() -> None:
                while ob.deliver_due(
                    lambda: Session(store.engine), limit=50, config=config
                ).claimed:
                    pass

            t0 = time.perf_counter()
            threads = [threading.Thread(target=work) for _ in range(dispatchers)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t0
    finally:
        rx.close()
    return {
        "emit_ms": statistics.median(emit_times) * 1000,
        "rate": n / elapsed,
        "seconds": elapsed,
        "once": len(rx.seen) == n and set(rx.seen.values()) == {1},
    }


def _pg_schema(admin_url: str) -> tuple[str, Any]:
    schema = f"gv_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in admin_url else "?"
    url = f"{admin_url}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, drop


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100, help="events per emitting transaction")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL (admin) to test too")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        r = _run(f"sqlite:///{tmp}/bench.db", args.messages, args.batch, 1)
        rows.append(["SQLite", "1", f"{r['emit_ms']:.2f}", f"{r['rate']:.0f}", str(r["once"])])
    if args.postgres:
        for dispatchers in (1, 2):
            url, drop = _pg_schema(args.postgres)
            try:
                r = _run(url, args.messages, args.batch, dispatchers)
            finally:
                drop()
            rows.append(
                [
                    "PostgreSQL",
                    str(dispatchers),
                    f"{r['emit_ms']:.2f}",
                    f"{r['rate']:.0f}",
                    str(r["once"]),
                ]
            )
    table = markdown_table(
        ["store", "dispatchers", "emit, median ms", "delivered / s", "each exactly once"], rows
    )
    text = (
        "# Outbound messages: emit and dispatch\n\n"
        f"`{command_line('outbound_dispatch.py', argv)}`\n\n"
        f"{args.messages} `reward.paid` events to one signed webhook on a local HTTP receiver "
        f"(loopback, answers 200 at once), emitted in transactions of {args.batch}; delivered "
        "in claims of 50. The rate includes signing, the POST, the attempt log and the "
        "status update, one transaction per message.\n\n"
        f"{table}\n"
        + busy_note("the rates are lower than on an idle machine")
        + "\n## Machine\n\n"
        + facts_markdown(machine_facts(["sqlalchemy", "httpx", "psycopg"]))
    )
    write_report(RESULTS_DIR / "outbound_dispatch.md", text)


if __name__ == "__main__":
    main()
