"""Clicks lost to SIGKILL: ``grapevine serve`` killed under wrk load, per mode and database.

For each backend (SQLite file, PostgreSQL schema), each click mode (the default group commit,
which answers before the click is committed, and ``--durable``, which answers after) and each
of ``--kills`` runs, this

1. starts ``grapevine serve --no-access-log [--durable]`` on a fresh database,
2. creates a campaign and a participant through the API (the hot link ``/r/{code}``),
3. runs wrk on the link (a browser User-Agent, no cookie: every request is a click),
4. sends SIGKILL to the server after a few seconds of load (a different moment each run),
   then SIGINT to wrk, whose summary counts the responses it received: the acknowledged
   clicks (``Non-2xx or 3xx`` answers are subtracted),
5. counts the clicks in the store.

``lost = acknowledged - stored``: the clicks answered with a redirect and not in the store.
A negative figure means the store holds clicks whose answer never reached wrk (committed,
then killed before the response left). ``ms of traffic`` converts the loss into time at the
run's own rate (acknowledged clicks / seconds of load before the kill).

Usage::

    .venv/bin/python benchmarks/crash_loss.py [--backends sqlite,postgres]
        [--modes default,durable] [--queues 10000,2000] [--kills 5] [--connections 64]
        [--threads 2] [--pg-url URL] [--out PATH]

wrk is a Debian package; when missing and running as root the script installs it with
``apt-get install -y wrk``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    RESULTS_DIR,
    busy_note,
    command_line,
    facts_markdown,
    fmt_int,
    machine_facts,
    markdown_table,
    median,
    write_report,
)
from redirect_load import (
    DEFAULT_PG,
    SERVER_PACKAGES,
    Database,
    checked_hot_link,
    free_port,
    parse_wrk,
    start_server,
    wrk_command,
)

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class Kill:
    backend: str
    mode: str
    max_queue: int
    run: int
    load_seconds: float
    acked: int
    stored: int
    non_3xx: int

    @property
    def rate(self) -> float:
        return self.acked / self.load_seconds if self.load_seconds > 0 else float("nan")

    @property
    def lost(self) -> int:
        return self.acked - self.stored

    @property
    def lost_ms(self) -> float:
        return 1000.0 * self.lost / self.rate if self.rate > 0 else float("nan")


def ensure_wrk() -> None:
    if shutil.which("wrk") is not None:
        return
    if os.geteuid() != 0:
        sys.exit("missing wrk: apt-get install -y wrk (as root)")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)


def one_kill(
    backend: str,
    mode: str,
    run: int,
    kill_after: float,
    args: argparse.Namespace,
    tmp: Path,
    env: dict[str, str],
) -> Kill:
    db = Database(backend, tmp, args.pg_url)
    port = free_port()
    extra = ["--durable"] if mode == "durable" else []
    log_path = tmp / f"serve-{backend}-{mode}-{run}.log"
    try:
        proc = start_server(db.url, port, 1, env, log_path, extra)
        try:
            cid, url = checked_hot_link(port, db.url)
            wrk = subprocess.Popen(
                wrk_command(url, threads=args.threads, connections=args.connections, duration=600),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            started = time.monotonic()
            time.sleep(kill_after)
            proc.send_signal(signal.SIGKILL)
            load_seconds = time.monotonic() - started
            proc.wait(timeout=30)
            time.sleep(0.2)  # nothing more can arrive; let wrk see the closed sockets
            wrk.send_signal(signal.SIGINT)  # wrk stops and prints its summary
            out, _ = wrk.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        result = parse_wrk(out)
        stored = db.clicks(cid) - 1  # less the check request
    finally:
        db.drop()
    return Kill(
        backend=NAMES[backend],
        mode=mode,
        max_queue=int(env["GRAPEVINE_CLICK_MAX_QUEUE"]),
        run=run,
        load_seconds=load_seconds,
        acked=result.requests - result.non_3xx,
        stored=stored,
        non_3xx=result.non_3xx,
    )


def render(kills: list[Kill], args: argparse.Namespace, env: dict[str, str], command: str) -> str:
    groups: dict[tuple[str, str, int], list[Kill]] = {}
    for k in kills:
        groups.setdefault((k.backend, k.mode, k.max_queue), []).append(k)
    summary = markdown_table(
        [
            "backend",
            "mode",
            "max queue",
            "kills",
            "req/s before the kill (median)",
            "lost: worst",
            "ms of traffic: worst",
            "req/s of the worst",
            "lost: median",
            "ms of traffic: median",
        ],
        [
            [
                backend,
                mode,
                fmt_int(queue),
                len(ks),
                fmt_int(median([k.rate for k in ks])),
                fmt_int(max(0, worst.lost)),
                f"{max(0.0, worst.lost_ms):.0f}",
                fmt_int(worst.rate),
                fmt_int(max(0.0, median([k.lost for k in ks]))),
                f"{max(0.0, median([k.lost_ms for k in ks])):.0f}",
            ]
            for (backend, mode, queue), ks in groups.items()
            for worst in [max(ks, key=lambda k: k.lost)]
        ],
        align="llrrrrrrrr",
    )
    detail = markdown_table(
        [
            "backend",
            "mode",
            "max queue",
            "run",
            "s of load",
            "req/s",
            "acknowledged",
            "stored",
            "lost",
            "ms of traffic",
            "non-3xx",
        ],
        [
            [
                k.backend,
                k.mode,
                fmt_int(k.max_queue),
                k.run,
                f"{k.load_seconds:.2f}",
                fmt_int(k.rate),
                fmt_int(k.acked),
                fmt_int(k.stored),
                f"{k.lost:,}",
                f"{k.lost_ms:.0f}",
                fmt_int(k.non_3xx),
            ]
            for k in kills
        ],
        align="llrrrrrrrrr",
    )
    facts = machine_facts(
        packages=SERVER_PACKAGES,
        extra=[
            (
                "wrk",
                f"-t{args.threads} -c{args.connections} --latency, browser User-Agent, "
                "no cookie (every request a new visitor)",
            ),
            (
                "settings",
                f"GRAPEVINE_CLICK_FLUSH_MS={env['GRAPEVINE_CLICK_FLUSH_MS']}, "
                "GRAPEVINE_CLICK_MAX_QUEUE as in the tables, one worker",
            ),
            ("command", command),
        ],
    )
    return f"""# Clicks lost to SIGKILL under load

`grapevine serve` (one worker) on a fresh database, wrk on one hot short link, SIGKILL to the
server {args.min_load:g} to {args.max_load:g} s into the load (a different moment each run),
then the clicks in the store are compared with the redirects wrk received. `lost` is
acknowledged minus stored, 0 in the summary when the store held more clicks than were
acknowledged (the detail shows the surplus as a negative loss: clicks committed whose
answer the kill cut off); `ms of traffic` is the loss at the run's own rate.
**default** answers a redirect as soon as its click is queued for the next group commit;
**durable** (`grapevine serve --durable`, `GRAPEVINE_DURABLE_CLICKS=1`) answers once the
batch holding the click has committed. wrk, the server and the database share the machine's cores.

{summary}

Every kill:

{detail}

Machine and versions:

{facts_markdown(facts)}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--modes", default="default,durable")
    parser.add_argument("--kills", type=int, default=5, help="kills per backend and mode")
    parser.add_argument(
        "--queues",
        default="10000",
        help="GRAPEVINE_CLICK_MAX_QUEUE values of the default mode, comma-separated "
        "(durable mode runs with the first)",
    )
    parser.add_argument("--min-load", type=float, default=2.0, help="earliest kill, seconds")
    parser.add_argument("--max-load", type=float, default=5.0, help="latest kill, seconds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7, help="of the kill moments")
    parser.add_argument(
        "--pg-url", default=os.environ.get("GRAPEVINE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "crash_loss.md")
    parser.add_argument("--note", default="", help="a line added under the tables")
    args = parser.parse_args(argv)
    ensure_wrk()
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": "bench-salt",
        "GRAPEVINE_CLICK_FLUSH_MS": os.environ.get("GRAPEVINE_CLICK_FLUSH_MS", "50"),
        # one client hammers one link: the per-address and per-code buckets would answer 429
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_CODE": "off",
    }
    env.pop("GRAPEVINE_DURABLE_CLICKS", None)  # the mode comes from --durable only
    queues = [int(q) for q in args.queues.split(",") if q]
    rng = random.Random(args.seed)
    kills: list[Kill] = []
    with tempfile.TemporaryDirectory(prefix="gv-crash-") as tmpdir:
        tmp = Path(tmpdir)
        for backend in [b for b in args.backends.split(",") if b]:
            for mode, queue in [
                (m, q)
                for m in args.modes.split(",")
                if m
                for q in (queues if m == "default" else queues[:1])
            ]:
                for run in range(1, args.kills + 1):
                    at = rng.uniform(args.min_load, args.max_load)
                    run_env = {**env, "GRAPEVINE_CLICK_MAX_QUEUE": str(queue)}
                    k = one_kill(backend, mode, run, at, args, tmp, run_env)
                    print(
                        f"{k.backend} {mode} (queue {queue}) #{run}: "
                        f"killed at {k.load_seconds:.2f} s, "
                        f"{k.acked:,} acknowledged, {k.stored:,} stored, lost {k.lost:,} "
                        f"({k.lost_ms:.0f} ms)",
                        flush=True,
                    )
                    kills.append(k)
    text = render(kills, args, env, command_line("crash_loss.py", argv))
    text += busy_note("the rates, and with them the loss of the default mode, vary from run to run")
    if args.note:
        text += f"\n{args.note}\n"
    write_report(args.out, text)
    durable_lost = [k for k in kills if k.mode == "durable" and k.lost > 0]
    return 1 if durable_lost else 0


if __name__ == "__main__":
    sys.exit(main())
