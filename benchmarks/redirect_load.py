"""Redirect load: wrk against ``grapevine serve`` on one hot short link, every click counted.

For each backend (SQLite file, PostgreSQL schema), click mode and worker count this

1. starts ``grapevine serve --no-access-log`` on loopback as a subprocess (with
   ``--durable`` for the durable mode: a redirect is answered once its click is committed),
2. creates a campaign and a participant through the API (the hot link ``/r/{code}``),
3. runs ``wrk --latency`` on the link (a browser User-Agent, no cookie: every request is a
   new visitor, so every one is a click to record),
4. stops the server gracefully (SIGTERM: the lifespan drains the click queue) and counts the
   clicks in the store, to compare with the responses wrk counted.

wrk counts the responses it received before its deadline; requests still in flight then
are answered and recorded by the server but not counted by wrk, so ``recorded - wrk`` lies
in ``[0, connections]``. Anything outside that range is a lost or doubled click and fails
the run (exit status 1).

The ceiling is nginx's bare ``return 302`` on the same machine, under the same wrk load.

Usage::

    .venv/bin/python benchmarks/redirect_load.py [--backends sqlite,postgres] [--workers 1,2]
        [--modes default,durable] [--duration 15] [--connections 64] [--threads 2]
        [--pg-url URL] [--out PATH]

wrk and nginx are Debian packages; when missing and running as root the script installs
them with ``apt-get install -y wrk nginx``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    fmt_int,
    machine_facts,
    markdown_table,
    write_report,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ALLOW = ["https://shop.example/welcome"]
#: The versions that make a timing of ``grapevine serve`` comparable.
SERVER_PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "psycopg")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    latency: dict[str, float]  # percentile label -> ms
    errors: str
    non_3xx: int


@dataclass
class Row:
    target: str
    backend: str
    mode: str
    workers: int
    wrk: WrkResult | None
    recorded: int | None
    window: str
    check: str


# ---------------------------------------------------------------------------- tools
def ensure_tools() -> None:
    missing = [t for t in ("wrk", "nginx") if shutil.which(t) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y wrk nginx (as root)")
    subprocess.run(["apt-get", "install", "-y", "wrk", "nginx"], check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_command(url: str, *, threads: int, connections: int, duration: int) -> list[str]:
    """wrk with --latency on ``url`` as a browser (no cookie: every request a new visitor)."""
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"User-Agent: {BROWSER}",
        url,
    ]


def run_wrk(url: str, *, threads: int, connections: int, duration: int) -> WrkResult:
    """Run wrk with --latency and parse its summary."""
    out = subprocess.run(
        wrk_command(url, threads=threads, connections=connections, duration=duration),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> WrkResult:
    """The figures of wrk's summary (``out``: its standard output)."""
    latency = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if total is None or rps is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = re.search(r"Socket errors: (.*)", out)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        latency=latency,
        errors=errors.group(1).strip() if errors else "",
        non_3xx=int(non.group(1)) if non else 0,
    )


# ---------------------------------------------------------------------------- databases
def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    return parsed.set(
        query={**parsed.query, "options": f"-csearch_path={schema}"}
    ).render_as_string(hide_password=False)


class Database:
    """A fresh SQLite file or PostgreSQL schema, removed afterwards."""

    def __init__(self, backend: str, tmp: Path, pg_url: str) -> None:
        self.backend = backend
        self.schema: str | None = None
        self.admin: sa.Engine | None = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.db"
        else:
            self.admin = sa.create_engine(pg_url, poolclass=NullPool)
            self.schema = f"gv_bench_{uuid.uuid4().hex[:10]}"
            with self.admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            self.url = _with_search_path(pg_url, self.schema)

    def clicks(self, campaign_id: int) -> int:
        engine = sa.create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        sa.text(
                            "SELECT count(*) FROM referral_events "
                            "WHERE kind = 'click' AND campaign_id = :c"
                        ),
                        {"c": campaign_id},
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.admin is not None:
            with self.admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self.admin.dispose()


# ---------------------------------------------------------------------------- the server
def start_server(
    url: str,
    port: int,
    workers: int,
    env: dict[str, str],
    log_path: Path,
    extra: Sequence[str] = (),
) -> subprocess.Popen[Any]:
    """``grapevine serve`` (with the ``extra`` options) as a subprocess, once it answers."""
    cmd = [
        sys.executable,
        "-m",
        "grapevine.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--db",
        url,
        "--workers",
        str(workers),
        "--no-access-log",
        *extra,
    ]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


def stop_server(proc: subprocess.Popen[Any]) -> None:
    proc.send_signal(signal.SIGTERM)  # graceful: the lifespan drains the click queue
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def api_headers(url: str) -> dict[str, str]:
    """An admin API key when the service asks for one (the key is made in the store)."""
    key = os.environ.get("GRAPEVINE_BENCH_API_KEY")
    if key:
        return {"Authorization": f"Bearer {key}"}
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from support import api_key  # type: ignore[import-not-found]
    except ImportError:
        return {}
    return {"Authorization": f"Bearer {api_key(url, tenant='bench', role='admin')}"}


def hot_link(base: str, headers: dict[str, str]) -> tuple[int, str]:
    with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
        r = client.post(
            "/api/campaigns",
            json={"name": f"bench-{uuid.uuid4().hex[:6]}", "destinations": ALLOW},
        )
        if r.status_code == 401:  # the service wants a key and none could be made
            sys.exit("the API asks for a key: set GRAPEVINE_BENCH_API_KEY")
        r.raise_for_status()
        cid = int(r.json()["id"])
        p = client.post(f"/api/campaigns/{cid}/participants", json={"email": "hot@bench.example"})
        p.raise_for_status()
        return cid, str(p.json()["code"])


def checked_hot_link(port: int, db_url: str) -> tuple[int, str]:
    """A hot link on the server at ``port``: its campaign id and URL, after one click on it.

    The click answers 307 or the run stops here; it is one click in the store.
    """
    cid, code = hot_link(f"http://127.0.0.1:{port}", api_headers(db_url))
    url = f"http://127.0.0.1:{port}/r/{code}"
    check = httpx.get(url, headers={"User-Agent": BROWSER}, timeout=10)
    if check.status_code != 307:
        raise RuntimeError(f"{url} answered {check.status_code}: {check.text}")
    return cid, url


def bench_grapevine(
    backend: str,
    mode: str,
    workers: int,
    args: argparse.Namespace,
    tmp: Path,
    env: dict[str, str],
) -> Row:
    db = Database(backend, tmp, args.pg_url)
    port = free_port()
    window = (
        "none: answered after the commit"
        if mode == "durable"
        else f"the clicks not yet committed, ≤ {int(env['GRAPEVINE_CLICK_MAX_QUEUE']):,} "
        "per worker (benchmarks/crash_loss.py)"
    )
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
    extra = ["--durable"] if mode == "durable" else []
    try:
        log_path = tmp / f"serve-{backend}-{mode}-{workers}.log"
        proc = start_server(db.url, port, workers, env, log_path, extra)
        try:
            cid, url = checked_hot_link(port, db.url)
            result = run_wrk(
                url, threads=args.threads, connections=args.connections, duration=args.duration
            )
        finally:
            stop_server(proc)
        recorded = db.clicks(cid) - 1  # less the check request
    finally:
        db.drop()
    extra = recorded - result.requests
    ok = 0 <= extra <= args.connections and result.non_3xx == 0
    check_text = (
        f"ok: +{extra} in flight when wrk stopped (≤ {args.connections})"
        if ok
        else f"FAILED: recorded - wrk = {extra}, non-3xx {result.non_3xx}"
    )
    full = re.findall(r"(\d+) clicks waited for room, (\d+) were written", log_path.read_text())
    waited, direct = sum(int(w) for w, _ in full), sum(int(d) for _, d in full)
    if waited or direct:
        check_text += f"; queue full: {waited:,} waited, {direct:,} written by their request"
    if not ok:
        print(f"server log ({log_path}):\n{log_path.read_text()[-3000:]}", file=sys.stderr)
    return Row("grapevine serve", name, mode, workers, result, recorded, window, check_text)


# ---------------------------------------------------------------------------- nginx
NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 302 https://shop.example/welcome; }}
    }}
}}
"""


def bench_nginx(workers: int, args: argparse.Namespace, tmp: Path) -> Row:
    port = free_port()
    conf = tmp / f"nginx-{workers}.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(user + NGINX_CONF.format(workers=workers, tmp=tmp, port=port))
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/r/x", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.1)
        result = run_wrk(
            f"http://127.0.0.1:{port}/r/x",
            threads=args.threads,
            connections=args.connections,
            duration=args.duration,
        )
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return Row("nginx `return 302` (ceiling)", "none", "—", workers, result, None, "—", "—")


# ---------------------------------------------------------------------------- report
def render(rows: list[Row], args: argparse.Namespace, command: str) -> str:
    table = markdown_table(
        [
            "target",
            "backend",
            "clicks",
            "workers",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "wrk responses",
            "clicks recorded",
            "durability window (SIGKILL)",
            "check",
        ],
        [
            [
                r.target,
                r.backend,
                r.mode,
                r.workers,
                fmt_int(r.wrk.rps) if r.wrk else "—",
                *(
                    f"{r.wrk.latency.get(p, float('nan')):.2f}" if r.wrk else "—"
                    for p in ("50", "90", "99")
                ),
                fmt_int(r.wrk.requests) if r.wrk else "—",
                fmt_int(r.recorded) if r.recorded is not None else "—",
                r.window,
                r.check,
            ]
            for r in rows
        ],
        align="llllrrrrrrll",
    )
    facts = machine_facts(
        packages=SERVER_PACKAGES,
        extra=[
            (
                "wrk",
                f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
                "browser User-Agent, no cookie (every request a new visitor)",
            ),
            (
                "nginx",
                subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            ),
            ("command", command),
        ],
    )
    return f"""# Redirect load: one hot short link under wrk

`grapevine serve` on loopback, a campaign and one participant created through the API, then
wrk on `/r/{{code}}`. Every request is a click to record; after wrk the server is stopped
gracefully (SIGTERM drains the click queue) and the clicks in the store are counted.
`wrk responses` counts the answers wrk received before its deadline; the requests still in
flight then are recorded too, so `clicks recorded` may exceed it by at most the number of
connections ({args.connections}): the check fails on anything else (a lost or doubled click).
Clicks are group-committed (`GRAPEVINE_CLICK_FLUSH_MS`, `GRAPEVINE_CLICK_MAX_QUEUE`); the
durability window is what a SIGKILL can lose. `default` answers once the click is queued,
`durable` (`grapevine serve --durable`) once the batch holding it has committed.
The ceiling is nginx's bare `return 302`.
wrk, the server and the database share the machine's cores.

{table}

Machine and versions:

{facts_markdown(facts)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--modes", default="default,durable", help="click modes to run")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pg-url", default=os.environ.get("GRAPEVINE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--no-nginx", action="store_true", help="skip the nginx ceiling")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "redirect_load.md")
    parser.add_argument("--note", default="", help="a line added under the table")
    args = parser.parse_args(argv)
    ensure_tools()
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": "bench-salt",
        "GRAPEVINE_CLICK_FLUSH_MS": os.environ.get("GRAPEVINE_CLICK_FLUSH_MS", "50"),
        "GRAPEVINE_CLICK_MAX_QUEUE": os.environ.get("GRAPEVINE_CLICK_MAX_QUEUE", "10000"),
        # One client hammers one link: the per-address and per-code buckets would answer 429,
        # so they are off unless set here to a rate never reached (1000000000,1000000000), to
        # measure what checking them costs.
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP": os.environ.get(
            "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP", "off"
        ),
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_CODE": os.environ.get(
            "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_CODE", "off"
        ),
    }
    env.pop("GRAPEVINE_DURABLE_CLICKS", None)  # the mode comes from --durable only
    workers = [int(w) for w in args.workers.split(",") if w]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gv-redirect-") as tmpdir:
        tmp = Path(tmpdir)
        os.chmod(tmp, 0o755)
        for backend in [b for b in args.backends.split(",") if b]:
            for mode in [m for m in args.modes.split(",") if m]:
                for w in workers:
                    print(f"grapevine serve: {backend}, {mode}, {w} worker(s)...", flush=True)
                    rows.append(bench_grapevine(backend, mode, w, args, tmp, env))
        if not args.no_nginx:
            for w in workers:
                print(f"nginx: {w} worker(s)...", flush=True)
                rows.append(bench_nginx(w, args, tmp))
    text = render(rows, args, command_line("redirect_load.py", argv))
    text += busy_note(
        "the tail latencies (p99) move by an order of magnitude from run to run"
        + ("" if args.no_nginx else ", and nginx's own p99 shows the noise floor")
    )
    if args.note:
        text += f"\n{args.note}\n"
    write_report(args.out, text)
    return 0 if all(r.check.startswith(("ok", "—")) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
