"""SIGKILL the server in the middle of a burst: nothing acknowledged is lost, nothing doubled.

A real ``grapevine serve`` subprocess on a SQLite file and on a PostgreSQL schema. Threads
post purchases (each earns two rewards) and signups with idempotency keys, and others click
the short link; the server is killed with SIGKILL once part of the burst is acknowledged,
restarted on the same database, and every event is sent again, as a client that never
heard back would. Then:

* every conversion acknowledged before the kill is in the store, exactly once;
* every reward is there once: two per purchase, none doubled by the re-sends;
* the clicks lost are at most the stated window: the clicks accepted and not yet committed,
  never more than ``GRAPEVINE_CLICK_MAX_QUEUE`` (set small here).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from support import api_key, auth

pytestmark = pytest.mark.slow

OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 20},
    "hold_seconds": 0,
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
MAX_QUEUE = 50  # the durability window in clicks (GRAPEVINE_CLICK_MAX_QUEUE)
N_EVENTS = 120
THREADS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": "crash-salt",
        "GRAPEVINE_CLICK_FLUSH_MS": "200",
        "GRAPEVINE_CLICK_MAX_QUEUE": str(MAX_QUEUE),
        "GRAPEVINE_RATE_LIMIT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_PER_KEY": "off",
    }
    cmd = [sys.executable, "-m", "grapevine.cli.main", "serve", "--port", str(port)]
    cmd += ["--db", url, "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def _event(i: int, cid: int, code: str) -> dict[str, Any]:
    if i % 4 == 3:
        return {
            "campaign_id": cid,
            "kind": "signup",
            "idempotency_key": f"s-{i}",
            "email": f"c{i}@x.org",
            "coupon_code": code,
        }
    return {
        "campaign_id": cid,
        "kind": "purchase",
        "idempotency_key": f"p-{i}",
        "email": f"c{i}@x.org",
        "order_id": f"o-{i}",
        "value": 50.0,
        "coupon_code": code,
    }


def _scalar(url: str, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_sigkill_mid_burst_loses_no_acknowledged_conversion(store_url: str) -> None:
    headers = auth(api_key(store_url))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    acked: set[str] = set()
    clicks_acked = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def send(part: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            for body in part:
                try:
                    r = c.post("/api/events", json=body)
                except httpx.HTTPError:
                    return  # the server is gone: the rest is retried after the restart
                if r.status_code == 200:
                    with lock:
                        acked.add(body["idempotency_key"])

    def click() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                try:
                    r = c.get(f"/r/{code}", headers={"User-Agent": BROWSER})
                except httpx.HTTPError:
                    return
                if r.status_code == 307:
                    with lock:
                        clicks_acked[0] += 1

    with _server(store_url, port) as proc:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            r = c.post(
                "/api/campaigns",
                json={"name": "crash", "offer": OFFER, "destinations": ["https://shop.example/"]},
            )
            assert r.status_code == 201, r.text
            cid = int(r.json()["id"])
            p = c.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"})
            assert p.status_code == 200, p.text
            code = str(p.json()["code"])
        events = [_event(i, cid, code) for i in range(N_EVENTS)]
        workers = [
            threading.Thread(target=send, args=(events[i::THREADS],)) for i in range(THREADS)
        ]
        workers += [threading.Thread(target=click) for _ in range(2)]
        for t in workers:
            t.start()
        deadline = time.monotonic() + 120
        while len(acked) < N_EVENTS // 4:  # a quarter of the burst answered: kill it now
            assert time.monotonic() < deadline, f"only {len(acked)} events acknowledged"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        for t in workers:
            t.join(timeout=60)
    acked_before_kill = set(acked)
    assert len(acked_before_kill) < N_EVENTS, "the burst finished before the kill"

    # Nothing acknowledged was lost, before any retry.
    stored = _scalar(
        store_url,
        "SELECT count(*) FROM referral_events WHERE campaign_id = :c AND kind <> 'click'",
        c=cid,
    )
    assert stored >= len(acked_before_kill)
    for key in acked_before_kill:
        n = _scalar(
            store_url,
            "SELECT count(*) FROM referral_events WHERE campaign_id = :c AND idempotency_key = :k",
            c=cid,
            k=key,
        )
        assert n == 1, f"acknowledged event {key} is stored {n} times"
    # Clicks: at most the window is lost (accepted but not yet committed at the kill).
    clicks = _scalar(
        store_url,
        "SELECT count(*) FROM referral_events WHERE campaign_id = :c AND kind = 'click'",
        c=cid,
    )
    assert clicks_acked[0] - clicks <= MAX_QUEUE, (clicks_acked[0], clicks)
    print(
        f"killed after {len(acked_before_kill)}/{N_EVENTS} events acknowledged "
        f"({stored} stored); clicks acknowledged {clicks_acked[0]}, stored {clicks}"
    )

    # The client retries everything it sent; each event ends up stored once.
    with _server(store_url, port), httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        for body in events:
            r = c.post("/api/events", json=body)
            assert r.status_code == 200, r.text
            replayed = r.headers.get("Idempotent-Replayed") == "true"
            assert replayed or body["idempotency_key"] not in acked_before_kill
    purchases = sum(1 for e in events if e["kind"] == "purchase")
    assert (
        _scalar(
            store_url,
            "SELECT count(*) FROM referral_events WHERE campaign_id = :c AND kind <> 'click'",
            c=cid,
        )
        == N_EVENTS
    )
    # No reward doubled: two per purchase (friend and referrer), one row per reward key.
    assert _scalar(store_url, "SELECT count(*) FROM rewards WHERE campaign_id = :c", c=cid) == (
        2 * purchases
    )
    assert (
        _scalar(
            store_url,
            "SELECT count(DISTINCT event_key) FROM rewards WHERE campaign_id = :c",
            c=cid,
        )
        == purchases
    )
