"""What the edge controls cost the short link: ``GET /r/{code}`` through the whole ASGI stack.

The app is called in-process (no socket, no HTTP parsing: those cost the same in every
configuration). Configurations:

- ``/r/ limits off``: this tree with ``GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP`` and ``_PER_CODE``
  off (the security headers are on: the fast path appends a constant tuple);
- ``/r/ limits on``: both buckets checked on every request, at a rate never reached (every
  request granted, so every one is a click);
- ``baseline``, with ``--baseline-src DIR``: the same requests on another copy of the code,
  for a before/after (``git archive HEAD src | tar -x -C DIR`` gives the last commit's).

Each measurement runs in a fresh process (``--worker``), the configurations in turn, for
``--rounds`` rounds; each times ``--requests`` redirects (a browser, a new visitor each time,
from one of 1,000 addresses) after 200 to warm up. The figure is the median over the rounds
of the event loop thread's CPU time per request (``time.thread_time``: the click writer's
thread and other processes on the machine do not count, so a shared machine moves it little).
At 20,000 redirects a second a request has 50 µs of the server's time.

Usage::

    .venv/bin/python benchmarks/edge_overhead.py [--requests 5000] [--rounds 5]
        [--baseline-src DIR] [--baseline-label TEXT] [--note TEXT] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from _common import (
    RESULTS_DIR,
    command_line,
    facts_markdown,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine.config import Settings
from grapevine.service import create_app
from grapevine.service._ratelimit import MemoryBuckets, Rate
from grapevine.store import Store, tenants_repo

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NEVER = "1000000000,1000000000"  # a bucket that never empties
LIMITS = {"/r/ limits off": "off", "/r/ limits on": NEVER}


def _settings(url: str, limit: str) -> Settings:
    return Settings.model_validate(
        {
            "database_url": url,
            "ip_salt": "bench-salt",
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
            "rate_limit_redirect_per_ip": limit,  # ignored by a baseline without the setting
            "rate_limit_redirect_per_code": limit,
            "click_max_queue": 1_000_000,  # no backpressure: the writer is not measured
        }
    )


async def _code(app: Any, key: str) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {key}"}
    ) as c:
        offer = {
            "referrer": {"kind": "fixed", "amount": 10},
            "friend": {"kind": "percent", "amount": 20},
        }
        body = {"name": "bench", "offer": offer, "destinations": ["https://shop.example/"]}
        r = await c.post("/api/campaigns", json=body)
        assert r.status_code == 201, r.text
        r = await c.post(f"/api/campaigns/{r.json()['id']}/participants", json={"email": "a@b.c"})
        r.raise_for_status()
        return str(r.json()["code"])


async def _redirects(app: Any, code: str, n: int) -> float:
    """Event-loop CPU seconds for ``n`` redirects."""
    path = f"/r/{code}"
    headers = [(b"host", b"bench"), (b"user-agent", BROWSER.encode())]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.thread_time()
    for i in range(n):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": (f"10.0.{i % 1000 // 250}.{i % 250}", 50000),
            "server": ("bench", 80),
            "app": app,
        }
        await app(scope, receive, send)
    spent = time.thread_time() - start
    assert statuses == [307] * n, sorted(set(statuses))
    return spent


async def _measure(limit: str, requests: int, tmp: Path) -> float:
    """CPU seconds of the event loop per redirect, in this process."""
    url = f"sqlite:///{tmp}/edge.db"
    store = Store(url)
    with Session(store.engine) as session:
        tenant = tenants_repo.get_or_create_tenant(session, slug="bench")
        _, key = tenants_repo.create_key(session, tenant_id=tenant.id, role="admin")
        session.commit()
    store.close()
    app = create_app(_settings(url, limit))
    async with app.router.lifespan_context(app):
        code = await _code(app, key)
        await _redirects(app, code, 200)  # warm: the link cache, the middleware stack
        return await _redirects(app, code, requests) / requests


def _worker(limit: str, requests: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gv-edge-") as tmpdir:
        print(json.dumps(asyncio.run(_measure(limit, requests, Path(tmpdir)))))


def _spawn(limit: str, requests: int, src: Path | None) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    cmd = [sys.executable, __file__, "--worker", limit, "--requests", str(requests)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return float(json.loads(out.strip().splitlines()[-1]))


def _take_cost(n: int = 200_000) -> float:
    buckets = MemoryBuckets(Rate(1e9, 1_000_000_000))
    keys = [f"10.0.{i // 250}.{i % 250}" for i in range(1000)]
    start = time.thread_time()
    for i in range(n):
        buckets.take(keys[i % 1000])
    return (time.thread_time() - start) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="redirects per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-src", type=Path, help="another copy of src/ to compare")
    parser.add_argument(
        "--baseline-label", default="baseline", help="how the table names --baseline-src"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "edge_overhead.md")
    parser.add_argument("--note", default="", help="a line added under the table")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        _worker(args.worker, args.requests)
        return 0
    configs: dict[str, tuple[str, Path | None]] = {}
    if args.baseline_src is not None:
        configs["baseline"] = ("off", args.baseline_src.resolve())
    configs.update({name: (limit, None) for name, limit in LIMITS.items()})
    per_request: dict[str, list[float]] = {name: [] for name in configs}
    for i in range(args.rounds):
        for name, (limit, src) in configs.items():
            per_request[name].append(_spawn(limit, args.requests, src))
        print(
            f"round {i + 1}/{args.rounds}: "
            + ", ".join(
                f"{name} {values[-1] * 1e6:.1f} µs" for name, values in per_request.items()
            ),
            flush=True,
        )
    take = _take_cost()
    reference = statistics.median(per_request[next(iter(configs))])
    rows = []
    for name, values in per_request.items():
        med = statistics.median(values)
        rows.append(
            [
                args.baseline_label if name == "baseline" else name,
                f"{med * 1e6:.1f}",
                f"{min(values) * 1e6:.1f} – {max(values) * 1e6:.1f}",
                f"{(med - reference) * 1e6:+.1f}",
                f"{1 / med:,.0f}",
            ]
        )
    table = markdown_table(
        ["configuration", "µs / request (median)", "range over rounds", "vs first µs", "req/s"],
        rows,
        align="lrrrr",
    )
    command = command_line("edge_overhead.py", argv)
    facts = machine_facts(
        packages=("fastapi", "starlette", "sqlalchemy"),
        extra=[
            ("rounds", f"{args.rounds} × {args.requests:,} redirects per configuration"),
            ("command", command),
        ],
    )
    note = f"\n{args.note}\n" if args.note else ""
    text = f"""# The edge controls on the short link's fast path

`GET /r/{{code}}` called in-process through the app's whole ASGI stack (no socket), a cached
link, every request a click handed to the click writer. CPU time of the event-loop thread per
request, median over the rounds, each round a fresh process per configuration
(`time.thread_time`: other threads and processes excluded). `req/s` is the inverse: one
core's ceiling for this part of the work, without uvicorn's HTTP parsing (the same in every
configuration).

{table}
{note}
One in-process token-bucket take (`MemoryBuckets.take`, 1,000 keys): {take * 1e6:.2f} µs; the
limits take two per redirect (the address's and the code's).

Machine and versions:

{facts_markdown(facts)}
"""
    write_report(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
