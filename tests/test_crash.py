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

Then the click modes alone: threads click the link, each with its own visitor id per click
(so every acknowledged redirect can be found in the store), and the server is killed:

* ``grapevine serve --durable``: every acknowledged click is in the store;
* the default mode: what is lost is, for every client, a tail of its acknowledged clicks
  (those answered after the last commit: batches commit in order), at most
  ``GRAPEVINE_CLICK_MAX_QUEUE``, and nothing is stored that was not sent.

``benchmarks/crash_loss.py`` measures how many clicks that is under wrk load.
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
def _server(
    url: str, port: int, *extra: str, max_queue: int = MAX_QUEUE
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": "crash-salt",
        "GRAPEVINE_CLICK_FLUSH_MS": "200",
        "GRAPEVINE_CLICK_MAX_QUEUE": str(max_queue),
        "GRAPEVINE_RATE_LIMIT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_PER_KEY": "off",
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP": "off",
        "GRAPEVINE_RATE_LIMIT_REDIRECT_PER_CODE": "off",
    }
    env.pop("GRAPEVINE_DURABLE_CLICKS", None)
    cmd = [sys.executable, "-m", "grapevine.cli.main", "serve", "--port", str(port)]
    cmd += ["--db", url, "--no-access-log", *extra]
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


# ---------------------------------------------------------------------------- click modes
CLICKERS = 4
KILL_AFTER = 300  # acknowledged clicks before the SIGKILL


def _kill_while_clicking(
    store_url: str, *extra: str
) -> tuple[list[list[str]], set[str], list[str]]:
    """Click one link from ``CLICKERS`` threads, SIGKILL the server mid-load.

    Each click carries a visitor id of its own (``gv_vid``), which the store keeps. Returns
    the acknowledged ids of each thread in the order they were sent, every id sent, and the
    ids stored.
    """
    headers = auth(api_key(store_url))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    acked: list[list[str]] = [[] for _ in range(CLICKERS)]
    sent: set[str] = set()
    lock = threading.Lock()

    def click(n: int, code: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            for i in range(1_000_000):
                visitor = f"crash{n}x{i:010d}"
                with lock:
                    sent.add(visitor)
                c.cookies.clear()  # the cookie sent is ours alone
                try:
                    r = c.get(
                        f"/r/{code}",
                        headers={"User-Agent": BROWSER, "Cookie": f"gv_vid={visitor}"},
                    )
                except httpx.HTTPError:
                    return  # killed
                assert r.status_code == 307, r.text
                acked[n].append(visitor)

    # A large queue: no redirect writes its own click (the queue-full path, which commits
    # out of order), so the clicks commit in the order they were sent.
    with _server(store_url, port, *extra, max_queue=10_000) as proc:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            r = c.post(
                "/api/campaigns",
                json={"name": "clicks", "destinations": ["https://shop.example/"]},
            )
            assert r.status_code == 201, r.text
            cid = int(r.json()["id"])
            p = c.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"})
            assert p.status_code == 200, p.text
            code = str(p.json()["code"])
        workers = [threading.Thread(target=click, args=(n, code)) for n in range(CLICKERS)]
        for t in workers:
            t.start()
        deadline = time.monotonic() + 60
        while sum(len(a) for a in acked) < KILL_AFTER:
            assert time.monotonic() < deadline, "the clicks were too slow"
            assert all(t.is_alive() for t in workers), "a click failed"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for t in workers:
            t.join(timeout=60)
    engine = sa.create_engine(store_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            stored = [
                str(v)
                for v in conn.execute(
                    sa.text(
                        "SELECT visitor_id FROM referral_events "
                        "WHERE campaign_id = :c AND kind = 'click'"
                    ),
                    {"c": cid},
                ).scalars()
            ]
    finally:
        engine.dispose()
    return acked, sent, stored


def test_durable_mode_loses_no_acknowledged_click(store_url: str) -> None:
    acked, sent, stored = _kill_while_clicking(store_url, "--durable")
    assert len(stored) == len(set(stored)), "a click was stored twice"
    assert set(stored) <= sent
    lost = [v for per_thread in acked for v in per_thread if v not in set(stored)]
    assert lost == [], f"{len(lost)} acknowledged clicks lost"
    print(f"durable: {sum(map(len, acked))} acknowledged, {len(stored)} stored, 0 lost")


def test_default_mode_loses_only_the_clicks_after_the_last_commit(store_url: str) -> None:
    acked, sent, stored = _kill_while_clicking(store_url)
    kept = set(stored)
    assert len(stored) == len(kept), "a click was stored twice"
    assert kept <= sent
    lost = 0
    for per_thread in acked:
        # Batches commit in the order the clicks came: a thread's stored clicks are a
        # prefix of what it sent, and what was lost is the tail answered since the last
        # commit before the kill.
        n = sum(1 for v in per_thread if v in kept)
        assert all(v in kept for v in per_thread[:n]), "a click lost before a stored one"
        lost += len(per_thread) - n
    assert lost <= 10_000  # GRAPEVINE_CLICK_MAX_QUEUE
    print(f"default: {sum(map(len, acked))} acknowledged, {len(stored)} stored, {lost} lost")
