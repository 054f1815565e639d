"""Group commit of clicks (ClickWriter), the link cache, and the redirect fast path.

Real stores on both backends; the writer runs its real background thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grapevine.config import Settings
from grapevine.errors import InvalidParameter, StoreError
from grapevine.service import create_app
from grapevine.service._clicks import Click, ClickWriter, LinkCache
from grapevine.service.routers import redirects
from grapevine.store import Store
from support import api_key, auth, serve

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ALLOW = ["https://shop.example/welcome", "https://blog.example"]


@dataclass(frozen=True)
class Hot:
    campaign_id: int
    person_id: int
    code: str


def _settings(store: Store, **extra: Any) -> Settings:
    return Settings.model_validate(
        {"database_url": store.engine.url.render_as_string(False), "ip_salt": "salt", **extra}
    )


@contextmanager
def _client(app: FastAPI) -> Iterator[httpx.Client]:
    """A client of ``app`` served by a real uvicorn server on a free loopback port."""
    with (
        serve(app) as base,
        httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client,
    ):
        yield client


def _hot_link(store: Store) -> Hot:
    """A campaign and a participant made through the API (as a merchant would)."""
    headers = auth(api_key(store))
    with _client(create_app(_settings(store), store=store)) as client:
        r = client.post(
            "/api/campaigns", json={"name": "hot", "destinations": ALLOW}, headers=headers
        )
        assert r.status_code == 201, r.text
        cid = int(r.json()["id"])
        p = client.post(
            f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"}, headers=headers
        )
        assert p.status_code == 200, p.text
        return Hot(cid, int(p.json()["person_id"]), str(p.json()["code"]))


@pytest.fixture
def hot(store: Store) -> Hot:
    return _hot_link(store)


def _clicks(store: Store, campaign_id: int) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM referral_events WHERE kind = 'click' AND campaign_id = :c"
                ),
                {"c": campaign_id},
            ).scalar_one()
        )


def _click(hot: Hot, click_id: str = "", campaign_id: int | None = None) -> Click:
    return Click(
        campaign_id=hot.campaign_id if campaign_id is None else campaign_id,
        code=hot.code,
        referrer_id=hot.person_id,
        time=time.time(),
        visitor_id="v" * 24,
        traffic="browser",
        click_id=click_id,
    )


@pytest.fixture
def writer(store: Store) -> Iterator[ClickWriter]:
    w = ClickWriter(store.engine, flush_interval=0.01, max_batch=50).start()
    try:
        yield w
    finally:
        w.close()


# ============================================================================ group commit
def test_clicks_are_committed_in_batches(store: Store, hot: Hot, writer: ClickWriter) -> None:
    for _ in range(500):
        assert writer.submit(_click(hot))
    assert writer.flush()
    assert writer.backlog == 0
    assert _clicks(store, hot.campaign_id) == 500
    assert writer.written == 500
    assert writer.batches <= 500 // 5  # grouped, not one commit per click
    assert writer.written_directly == 0


def test_a_retried_click_id_is_stored_once(store: Store, hot: Hot, writer: ClickWriter) -> None:
    for _ in range(3):
        writer.submit(_click(hot, click_id="click:retry-1"))
        assert writer.flush()
    writer.submit(_click(hot, click_id="click:retry-2"))
    assert writer.flush()
    assert _clicks(store, hot.campaign_id) == 2


def test_flush_is_a_barrier_whatever_the_interval(store: Store, hot: Hot) -> None:
    # A click waits up to flush_interval for company; flush() writes it now.
    with ClickWriter(store.engine, flush_interval=60.0) as w:
        w.submit(_click(hot))
        assert w.backlog == 1
        assert w.flush(timeout=20)
        assert _clicks(store, hot.campaign_id) == 1


def test_close_drains_the_queue(store: Store, hot: Hot) -> None:
    w = ClickWriter(store.engine, flush_interval=60.0, max_batch=10_000).start()
    for _ in range(25):
        w.submit(_click(hot))
    assert w.close(timeout=30)  # a graceful stop: nothing accepted is lost
    assert _clicks(store, hot.campaign_id) == 25
    with pytest.raises(StoreError, match="not running"):
        w.submit(_click(hot))


def test_a_full_queue_pushes_back_and_drops_nothing(store: Store, hot: Hot) -> None:
    w = ClickWriter(store.engine, flush_interval=60.0, max_batch=10_000, max_queue=5).start()
    try:
        assert all(w.submit(_click(hot)) for _ in range(5))
        assert not w.submit(_click(hot))  # full: the caller must write it itself
        w.write_now(_click(hot))
        assert w.written_directly == 1
        assert _clicks(store, hot.campaign_id) == 1  # the direct write is committed at once
    finally:
        assert w.close()
    assert _clicks(store, hot.campaign_id) == 6


def test_a_full_queue_makes_room_when_the_writer_commits(store: Store, hot: Hot) -> None:
    with ClickWriter(store.engine, flush_interval=60.0, max_queue=3) as stuck:
        assert all(stuck.submit(_click(hot)) for _ in range(3))
        assert not stuck.submit(_click(hot), wait=0.05)  # nothing commits: still full
        assert stuck.waits == 1
    with ClickWriter(store.engine, flush_interval=0.02, max_queue=3) as moving:
        assert all(moving.submit(_click(hot), wait=10) for _ in range(20))
    assert _clicks(store, hot.campaign_id) == 23


def test_queued_and_direct_click_ids_never_collide(store: Store, hot: Hot) -> None:
    # Regression: the n-th direct write once got the id of the queued click number 0xd<n>.
    with ClickWriter(store.engine, flush_interval=0.001, max_batch=500) as w:
        for _ in range(300):
            assert w.submit(_click(hot))
        assert w.flush()
        for _ in range(300):
            w.write_now(_click(hot))
    assert _clicks(store, hot.campaign_id) == 600


def test_a_click_the_store_refuses_does_not_hold_back_the_batch(
    store: Store, hot: Hot, caplog: pytest.LogCaptureFixture
) -> None:
    # A click of a campaign that does not exist (foreign key): after three failed tries the
    # batch is written click by click, the bad one is logged and counted, the rest stored.
    w = ClickWriter(store.engine, flush_interval=60.0, retry_interval=0.01).start()
    try:
        w.submit(_click(hot))
        w.submit(_click(hot, campaign_id=10**9))
        w.submit(_click(hot))
        assert w.flush(timeout=30)
    finally:
        w.close()
    assert (w.rejected, w.failures) == (1, 3)
    assert _clicks(store, hot.campaign_id) == 2
    assert "refused by the store" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"flush_interval": -1}, "flush_interval"),
        ({"max_batch": 0}, "max_batch"),
        ({"max_queue": 0}, "max_queue"),
        ({"commit_wait": 0}, "commit_wait"),
    ],
)
def test_bad_parameters(sqlite_store: Store, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidParameter, match=f"'{name}' parameter of ClickWriter"):
        ClickWriter(sqlite_store.engine, **kwargs)


# ============================================================================ durable mode
def test_durable_record_returns_once_committed_default_before(store: Store, hot: Hot) -> None:
    # A minute's flush interval: the default mode holds the click, durable mode writes at once.
    with ClickWriter(store.engine, flush_interval=60.0, durable=True) as w:
        asyncio.run(w.record(_click(hot)))
        assert (w.backlog, _clicks(store, hot.campaign_id)) == (0, 1)
    with ClickWriter(store.engine, flush_interval=60.0) as w:
        asyncio.run(w.record(_click(hot)))
        assert (w.backlog, _clicks(store, hot.campaign_id)) == (1, 1)
    assert _clicks(store, hot.campaign_id) == 2  # close() drained it


def test_durable_requests_share_commits(store: Store, hot: Hot) -> None:
    # 200 requests waiting at once are answered by fewer transactions than clicks.
    async def burst(w: ClickWriter) -> None:
        await asyncio.gather(*(w.record(_click(hot)) for _ in range(200)))

    with ClickWriter(store.engine, durable=True) as w:
        asyncio.run(burst(w))
        assert _clicks(store, hot.campaign_id) == 200
        assert w.batches < 200


def test_durable_refused_click_raises_and_spares_its_batch(store: Store, hot: Hot) -> None:
    async def three(w: ClickWriter) -> list[BaseException | None]:
        return await asyncio.gather(
            w.record(_click(hot)),
            w.record(_click(hot, campaign_id=10**9)),  # no such campaign (foreign key)
            w.record(_click(hot)),
            return_exceptions=True,
        )

    with ClickWriter(store.engine, durable=True, retry_interval=0.01) as w:
        first, bad, last = asyncio.run(three(w))
    assert (first, last) == (None, None)
    assert isinstance(bad, StoreError)
    assert "refused" in str(bad)
    assert _clicks(store, hot.campaign_id) == 2


def test_durable_record_gives_up_after_commit_wait(sqlite_store: Store) -> None:
    # The database is locked by another writer: the request is not acknowledged (503), and
    # the click is committed once the lock is gone.
    hot = _hot_link(sqlite_store)
    path = sqlite_store.engine.url.database
    assert path is not None
    lock = sqlite3.connect(path)
    lock.execute("BEGIN EXCLUSIVE")
    w = ClickWriter(sqlite_store.engine, durable=True, commit_wait=0.2).start()
    try:
        with pytest.raises(StoreError, match=r"not committed within 0.2 s"):
            asyncio.run(w.record(_click(hot)))
    finally:
        lock.rollback()
        lock.close()
        assert w.close()
    assert _clicks(sqlite_store, hot.campaign_id) == 1


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(st.sampled_from([f"click:p{i}" for i in range(8)]), max_size=40))
def test_property_stored_clicks_are_the_distinct_ids(sqlite_store: Store, ids: list[str]) -> None:
    # However the ids repeat and however the batches fall, each id is stored exactly once.
    key = str(sqlite_store.engine.url)
    if key not in _HOT:
        _HOT[key] = _hot_link(sqlite_store)
    hot = _HOT[key]
    with sqlite_store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM referral_events"))
    with ClickWriter(sqlite_store.engine, flush_interval=0.001, max_batch=7) as w:
        for click_id in ids:
            w.submit(_click(hot, click_id=click_id))
    assert _clicks(sqlite_store, hot.campaign_id) == len(set(ids))


_HOT: dict[str, Hot] = {}  # one campaign per store across the examples


# ============================================================================ the link cache
def test_link_cache_reads_once_and_sees_disabled_codes(store: Store, hot: Hot) -> None:
    cache = LinkCache(store.engine, ttl=60)
    assert cache.get(hot.code) is None  # get never reads the store
    link = cache.load(hot.code)
    assert link is not None
    assert (link.campaign_id, link.person_id) == (hot.campaign_id, hot.person_id)
    assert link.default_target == f"https://shop.example/welcome?ref={hot.code}"
    assert cache.get(hot.code) == link
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE referral_codes SET disabled_at = 1"))
    assert cache.get(hot.code) == link  # trusted for ttl seconds...
    cache.invalidate(hot.code)  # ...or until invalidated
    missed = cache.load(hot.code)  # a disabled code is a miss: it goes to a landing page
    assert missed is not None
    assert missed.miss == "disabled"
    assert LinkCache(store.engine, ttl=0).load("ZZZZ2222") is None


def test_link_cache_ttl_zero_always_rereads(sqlite_store: Store) -> None:
    hot = _hot_link(sqlite_store)
    cache = LinkCache(sqlite_store.engine, ttl=0)
    assert cache.load(hot.code) is not None
    assert cache.get(hot.code) is None


# ============================================================================ the HTTP answers
def _route_only_app(app: FastAPI) -> FastAPI:
    """The documented route without the fast-path middleware, on the same state (and with
    the security headers, which wrap both)."""
    from grapevine.service._headers import SecurityHeaders

    plain = FastAPI()
    plain.include_router(redirects.router)
    plain.add_middleware(SecurityHeaders)
    plain.state = app.state
    return plain


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/r/{code}", {"User-Agent": BROWSER}),
        ("GET", "/r/{code}?to=/cart", {"User-Agent": BROWSER}),
        ("GET", "/r/{code}?to=https://evil.example/&to=https://blog.example/p", {}),
        ("GET", "/r/{code}?to=https://evil.example/", {"Cookie": "gv_vid=" + "a" * 24}),
        ("HEAD", "/r/{code}", {"User-Agent": "Twitterbot/1.0"}),
        ("GET", "/r/ZZZZ2222", {}),
        ("GET", "/r/not-a-code", {}),
    ],
)
def test_fast_path_answers_as_the_route(
    sqlite_store: Store, method: str, path: str, headers: dict[str, str]
) -> None:
    hot = _hot_link(sqlite_store)
    url = path.format(code=hot.code)
    app = create_app(_settings(sqlite_store), store=sqlite_store)
    with _client(app) as fast, _client(_route_only_app(app)) as plain:
        a = fast.request(method, url, headers=headers)
        b = plain.request(method, url, headers=headers)
        assert a.status_code == b.status_code
        assert a.content == b.content
        drop = {"set-cookie", "date", "server"}  # a new visitor id each time
        assert {k: v for k, v in a.headers.items() if k not in drop} == {
            k: v for k, v in b.headers.items() if k not in drop
        }
        if a.status_code == 307:
            assert a.headers["location"].startswith(("https://shop.example/", "https://blog."))
            cookie = a.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "max-age=" in cookie
            assert "samesite=lax" in cookie
        assert app.state.click_writer.flush()
    unknown = "ZZZZ" in path or "not-a" in path
    assert _clicks(sqlite_store, hot.campaign_id) == (0 if unknown else 2)  # one per client


def test_a_visitor_keeps_the_cookie_it_has(sqlite_store: Store) -> None:
    hot = _hot_link(sqlite_store)
    with _client(create_app(_settings(sqlite_store), store=sqlite_store)) as c:
        first = c.get(f"/r/{hot.code}", headers={"User-Agent": BROWSER})
        vid = first.cookies["gv_vid"]
        again = c.get(f"/r/{hot.code}", headers={"User-Agent": BROWSER})
        assert again.headers["set-cookie"].startswith(f"gv_vid={vid};")
        # A cookie that is not a visitor id is replaced, never stored.
        c.cookies.clear()
        forged = c.get(f"/r/{hot.code}", headers={"Cookie": "gv_vid=../../etc"})
        assert forged.headers["set-cookie"].startswith("gv_vid=")
        assert "../../etc" not in forged.headers["set-cookie"]


def test_unconfigured_salt_is_503_on_both_paths(sqlite_store: Store) -> None:
    hot = _hot_link(sqlite_store)
    settings = Settings.model_validate(
        {"database_url": "sqlite://", "ip_salt": None, "webhook_secret": None}
    )
    app = create_app(settings, store=sqlite_store)
    with _client(app) as fast, _client(_route_only_app(app)) as plain:
        for client in (fast, plain):
            r = client.get(f"/r/{hot.code}")
            assert r.status_code == 503
            assert "GRAPEVINE_IP_SALT" in r.json()["detail"]


def test_durable_setting_answers_after_the_commit(store: Store, hot: Hot) -> None:
    # GRAPEVINE_DURABLE_CLICKS: the click is in the store when the redirect arrives, on the
    # fast path and on the route alike, however long the flush interval.
    app = create_app(_settings(store, click_flush_ms=10_000, durable_clicks=True), store=store)
    with _client(app) as fast, _client(_route_only_app(app)) as plain:
        for n, client in enumerate((fast, plain), start=1):
            r = client.get(f"/r/{hot.code}", headers={"User-Agent": BROWSER})
            assert r.status_code == 307
            assert _clicks(store, hot.campaign_id) == n
        assert app.state.click_writer.backlog == 0


def test_stats_see_clicks_at_once(store: Store, hot: Hot) -> None:
    # Clicks wait in the writer; routes that read them wait for them (read-your-writes).
    app = create_app(_settings(store, click_flush_ms=10_000), store=store)
    headers = auth(api_key(store))
    with _client(app) as c:
        for _ in range(3):
            c.get(f"/r/{hot.code}", headers={"User-Agent": BROWSER})
        assert app.state.click_writer.backlog == 3
        stats = c.get(f"/api/campaigns/{hot.campaign_id}/stats", headers=headers)
        assert stats.status_code == 200, stats.text
        assert stats.json()["clicks"]["human"] == 3
