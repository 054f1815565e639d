"""Tenants, API keys and roles, tenant isolation, rate limits and GDPR erasure.

The service tests run the real app on a real uvicorn server over a real socket, on each
backend (SQLite file, PostgreSQL schema).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.errors import BadInput, InvalidParameter
from grapevine.service import create_app
from grapevine.service._ratelimit import MemoryBuckets, Rate, RedisBuckets, parse_rate
from grapevine.store import Store, current_revision, downgrade, make_engine, migrate
from grapevine.store import tenants_repo as tr
from support import api_key, auth, serve

ALLOW = ["https://shop.example/welcome"]
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 20},
    "hold_seconds": 0,
}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _settings(url: str, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "database_url": url,
            "ip_salt": "test-salt",
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
            **extra,
        }
    )


def _serve(settings: Settings) -> AbstractContextManager[str]:
    return serve(create_app(settings))


@pytest.fixture
def server(store_url: str) -> Iterator[str]:
    """The app on a uvicorn server, rate limits off, on each backend."""
    with _serve(_settings(store_url)) as base:
        yield base


@pytest.fixture
def app_client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10) as client:
        yield client


def _campaign(client: httpx.Client, key: str, name: str = "spring") -> int:
    body = {"name": name, "offer": OFFER, "destinations": ALLOW, "window_days": 7}
    r = client.post("/api/campaigns", json=body, headers=auth(key))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


# ============================================================================ the schema
def test_migration_0003_keeps_referral_rows_and_gives_them_the_default_tenant(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    try:
        migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO campaigns (id, name, rules) VALUES (1, 'old', '{}')"))
            conn.execute(sa.text("INSERT INTO persons (id, platform, handle) VALUES (1, 'e', 'a')"))
            conn.execute(
                sa.text(
                    "INSERT INTO referral_events (campaign_id, kind, time, idempotency_key) "
                    "VALUES (1, 'click', 1.0, 'k1')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO referral_codes (code, campaign_id, person_id, created_at) "
                    "VALUES ('ABCD2345', 1, 1, 1.0)"
                )
            )
        migrate(engine)
        counts = (
            "SELECT (SELECT count(*) FROM referral_events), (SELECT count(*) FROM referral_codes)"
        )
        with engine.connect() as conn:
            # Rebuilding campaigns on SQLite must not cascade-delete its children.
            assert tuple(conn.execute(sa.text(counts)).one()) == (1, 1)
            owner = conn.execute(
                sa.text(
                    "SELECT t.slug FROM campaigns c JOIN tenants t ON t.id = c.tenant_id "
                    "WHERE c.id = 1"
                )
            ).scalar_one()
        assert owner == tr.DEFAULT_TENANT
        downgrade(engine, "0002")
        assert current_revision(engine) == "0002"
        with engine.connect() as conn:
            assert tuple(conn.execute(sa.text(counts)).one()) == (1, 1)
            assert not sa.inspect(conn).has_table("api_keys")
        migrate(engine)
        downgrade(engine)
        assert current_revision(engine) is None
    finally:
        engine.dispose()


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_models_match_the_migrated_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from grapevine.store.models import Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    ours = ("tenants", "api_keys", "erasures", "campaigns")
    assert [d for d in map(str, diff) if any(t in d for t in ours)] == []


def test_campaign_names_are_unique_per_tenant(app_client: httpx.Client, store_url: str) -> None:
    a, b = api_key(store_url, "acme"), api_key(store_url, "bolt")
    _campaign(app_client, a, "spring")
    _campaign(app_client, b, "spring")  # another tenant's name is not taken
    again = app_client.post(
        "/api/campaigns", json={"name": "spring", "destinations": ALLOW}, headers=auth(a)
    )
    assert again.status_code == 409


# ============================================================================ keys
def test_key_hash_and_parse() -> None:
    stored = tr.hash_secret("s3cret-s3cret-s3cret")
    assert stored.startswith("sha256$")
    assert "s3cret" not in stored
    assert tr.verify_secret("s3cret-s3cret-s3cret", stored)
    assert not tr.verify_secret("s3cret-s3cret-s3creT", stored)
    assert not tr.verify_secret("x", "md5$aa$bb")
    assert tr.hash_secret("a") != tr.hash_secret("a")  # a salt per key
    assert tr.parse_key("gv_abcd1234_" + "x" * 43) == ("abcd1234", "x" * 43)
    for bad in ("", "Bearer", "gv_abcd1234", "gv_ABCD1234_" + "x" * 43, "xx_abcd1234_" + "x" * 43):
        assert tr.parse_key(bad) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_key_or_none_never_an_error(text: str) -> None:
    parsed = tr.parse_key(text)
    assert parsed is None or (len(parsed[0]) == 8 and len(parsed[1]) >= 16)


def test_repo_refuses_a_bad_role_or_slug(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as session:
        tenant = tr.create_tenant(session, slug="acme")
        with pytest.raises(InvalidParameter, match="'role' parameter"):
            tr.create_key(session, tenant_id=tenant.id, role="root")
        with pytest.raises(InvalidParameter, match="'slug' parameter"):
            tr.create_tenant(session, slug="Not A Slug")
        with pytest.raises(BadInput, match="exists"):
            tr.create_tenant(session, slug="acme")


def test_the_secret_is_never_stored(store: Store) -> None:
    key = api_key(store)
    secret = key.split("_", 2)[2]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT prefix, hash FROM api_keys")).all()
    assert [r.prefix for r in rows] == [key.split("_")[1]]
    assert secret not in rows[0].hash


def test_missing_invalid_and_revoked_keys_are_401(app_client: httpx.Client, store_url: str) -> None:
    key = api_key(store_url)
    prefix = key.split("_")[1]
    missing = app_client.get("/api/campaigns")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong_secret = f"gv_{prefix}_{'A' * 43}"
    unknown = "gv_zzzzzzzz_" + "A" * 43
    for bad in ("garbage", wrong_secret, unknown):
        assert app_client.get("/api/campaigns", headers=auth(bad)).status_code == 401
    assert app_client.get("/api/campaigns", headers=auth(key)).status_code == 200
    assert app_client.get("/api/campaigns", headers={"X-API-Key": key}).status_code == 200
    with Session(make_engine(store_url)) as session:
        tr.revoke_key(session, prefix=prefix)
        session.commit()
        session.get_bind().dispose()  # type: ignore[union-attr]
    assert app_client.get("/api/campaigns", headers=auth(key)).status_code == 401


# Which role may do what: (role, method, path, body, status when allowed or refused).
ROLE_TABLE = [
    ("read", "GET", "/api/campaigns/{cid}", None, 200),
    ("read", "GET", "/api/campaigns/{cid}/stats", None, 200),
    ("read", "POST", "/api/campaigns", {"name": "n", "destinations": ALLOW}, 403),
    ("read", "POST", "/api/events", "signup", 403),
    ("read", "POST", "/api/campaigns/{cid}/participants", {"email": "a@x.org"}, 403),
    ("read", "DELETE", "/api/persons/a@x.org", None, 403),
    ("read", "POST", "/api/keys", {"role": "read"}, 403),
    ("read", "GET", "/api/summary", None, 403),
    ("ingest", "POST", "/api/events", "signup", 200),
    ("ingest", "POST", "/api/campaigns/{cid}/participants", {"email": "a@x.org"}, 200),
    ("ingest", "GET", "/api/campaigns/{cid}", None, 403),
    ("ingest", "POST", "/api/campaigns", {"name": "n", "destinations": ALLOW}, 403),
    ("ingest", "GET", "/api/keys", None, 403),
    ("admin", "POST", "/api/campaigns", {"name": "n", "destinations": ALLOW}, 201),
    ("admin", "POST", "/api/events", "signup", 200),
    ("admin", "GET", "/api/campaigns/{cid}/stats", None, 200),
    ("admin", "POST", "/api/keys", {"role": "read"}, 201),
    ("admin", "GET", "/api/summary", None, 200),
]


def test_roles(app_client: httpx.Client, store_url: str) -> None:
    cid = _campaign(app_client, api_key(store_url, "acme", "admin"))
    keys = {role: api_key(store_url, "acme", role) for role in tr.ROLES}
    wrong = []
    for i, (role, method, path, body, expected) in enumerate(ROLE_TABLE):
        if body == "signup":
            body = {"campaign_id": cid, "kind": "signup", "idempotency_key": f"s{i}"}
            body["email"] = "b@x.org"
        if isinstance(body, dict) and "name" in body:
            body = {**body, "name": f"n{i}"}
        r = app_client.request(method, path.format(cid=cid), json=body, headers=auth(keys[role]))
        if r.status_code != expected:
            wrong.append((role, method, path, r.status_code, r.text[:200]))
    assert wrong == []


def test_keys_api_creates_lists_and_revokes(app_client: httpx.Client, store_url: str) -> None:
    admin = api_key(store_url)
    made = app_client.post(
        "/api/keys", json={"role": "ingest", "name": "shop"}, headers=auth(admin)
    )
    assert made.status_code == 201, made.text
    new = made.json()
    assert new["key"].startswith(f"gv_{new['prefix']}_")
    assert new["tenant"] == "acme"
    listed = app_client.get("/api/keys", headers=auth(admin)).json()
    assert {k["prefix"] for k in listed} == {admin.split("_")[1], new["prefix"]}
    assert all("key" not in k and "hash" not in k for k in listed)
    assert app_client.get("/api/keys", headers=auth(new["key"])).status_code == 403
    gone = app_client.delete(f"/api/keys/{new['prefix']}", headers=auth(admin))
    assert gone.status_code == 200
    assert gone.json()["revoked_at"] is not None
    assert app_client.get("/api/campaigns", headers=auth(new["key"])).status_code == 401
    assert app_client.delete("/api/keys/nosuchky", headers=auth(admin)).status_code == 404


# ============================================================================ isolation
def test_a_key_of_one_tenant_never_reaches_another(
    app_client: httpx.Client, store_url: str
) -> None:
    a, b = api_key(store_url, "acme"), api_key(store_url, "bolt")
    cid = _campaign(app_client, a)
    joined = app_client.post(
        f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"}, headers=auth(a)
    )
    assert joined.status_code == 200
    signup = {"campaign_id": cid, "kind": "signup", "idempotency_key": "s1", "email": "bo@x.org"}
    assert app_client.post("/api/events", json=signup, headers=auth(a)).status_code == 200
    before = app_client.get(f"/api/campaigns/{cid}/stats", headers=auth(a)).json()

    # B cannot read, write or even tell that A's campaign exists: each answer is the one for
    # a campaign, person or key that does not exist at all.
    def as_b(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        r = app_client.request(method, path, json=body, headers=auth(b))
        return r.status_code, r.json()

    nobody = 999_999
    a_prefix = a.split("_")[1]
    pairs = [
        (("GET", f"/api/campaigns/{cid}"), ("GET", f"/api/campaigns/{nobody}")),
        (("GET", f"/api/campaigns/{cid}/stats"), ("GET", f"/api/campaigns/{nobody}/stats")),
        (
            ("POST", f"/api/campaigns/{cid}/participants", {"email": "eve@x.org"}),
            ("POST", f"/api/campaigns/{nobody}/participants", {"email": "eve@x.org"}),
        ),
        (
            ("POST", "/api/events", {**signup, "idempotency_key": "s2"}),
            ("POST", "/api/events", {**signup, "idempotency_key": "s2", "campaign_id": nobody}),
        ),
        (("DELETE", "/api/persons/ann@x.org"), ("DELETE", "/api/persons/nobody@x.org")),
        (("DELETE", f"/api/keys/{a_prefix}"), ("DELETE", "/api/keys/zzzzzzzz")),
    ]
    for theirs, missing in pairs:
        got, expected = as_b(*theirs), as_b(*missing)
        assert got[0] == expected[0] == 404, (theirs, got)
        if isinstance(got[1]["detail"], str):
            scrubbed = got[1]["detail"].replace(a_prefix, "zzzzzzzz")
            scrubbed = scrubbed.replace(f"campaign {cid}", f"campaign {nobody}")
            assert scrubbed == expected[1]["detail"]
    assert app_client.get("/api/campaigns", headers=auth(b)).json() == []
    assert app_client.get("/api/summary", headers=auth(b)).json()["campaigns"] == 0
    # A's data is unchanged and A's key still works.
    assert app_client.get(f"/api/campaigns/{cid}/stats", headers=auth(a)).json() == before
    assert [c["id"] for c in app_client.get("/api/campaigns", headers=auth(a)).json()] == [cid]


# ============================================================================ rate limits
def test_parse_rate() -> None:
    assert parse_rate("20,40") == Rate(20.0, 40)
    assert parse_rate("0.5") == Rate(0.5, 1)
    assert parse_rate("off") is None
    with pytest.raises(ValueError, match="RATE,BURST"):
        parse_rate("fast")
    with pytest.raises(ValueError, match="GRAPEVINE_RATE_LIMIT_PER_IP"):
        Settings(rate_limit_per_ip="fast")


def test_token_bucket_with_a_given_clock() -> None:
    buckets = MemoryBuckets(Rate(per_second=2.0, burst=3))
    assert [buckets.take("k", now=10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", now=10.0) == pytest.approx(0.5)  # one token in 1/2 s
    assert buckets.take("other", now=10.0) == 0.0  # buckets are per key
    assert buckets.take("k", now=10.5) == 0.0
    assert buckets.take("k", now=10.5) > 0


@settings(max_examples=100, deadline=None)
@given(
    rate=st.floats(0.5, 50),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=80),
)
def test_a_bucket_never_grants_more_than_burst_plus_refill(
    rate: float, burst: int, gaps: list[float]
) -> None:
    buckets = MemoryBuckets(Rate(rate, burst), max_buckets=4)
    now, granted = 0.0, 0
    for gap in gaps:
        now += gap
        granted += buckets.take("k", now=now) == 0.0
    assert granted <= burst + rate * now + 1e-9


def test_bucket_memory_stays_bounded() -> None:
    buckets = MemoryBuckets(Rate(1.0, 1), max_buckets=10)
    for i in range(100):
        buckets.take(f"ip{i}", now=float(i))
    assert len(buckets) <= 11


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_per_key_and_per_ip_limits_answer_429(store_url: str) -> None:
    limited = _settings(store_url, rate_limit_per_key="0.01,2", rate_limit_per_ip="0.01,5")
    with _serve(limited) as base, httpx.Client(base_url=base) as client:
        one, two = api_key(store_url, "acme", "read"), api_key(store_url, "acme", "read")
        got = [client.get("/api/campaigns", headers=auth(one)).status_code for _ in range(3)]
        assert got == [200, 200, 429]
        r = client.get("/api/campaigns", headers=auth(one))
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        # Another key has its own bucket, but the address has one too (5: 2+1+1 used).
        assert client.get("/api/campaigns", headers=auth(two)).status_code == 200
        assert client.post("/webhooks/stripe", content=b"{}").status_code == 429
        assert client.get("/health").status_code == 200  # public routes are not limited


# ---------------------------------------------------------------------------- Redis
REDIS_URL = os.environ.get("GRAPEVINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_ns() -> Iterator[str]:
    """A fresh key namespace on the test Redis (db 15), deleted after; skipped without Redis."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(
            f"Redis not reachable at {REDIS_URL}: rate-limit tests on Redis skipped ({exc})"
        )
    namespace = f"gv_test:{uuid.uuid4().hex[:12]}"
    yield namespace
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)
    client.close()


def test_redis_buckets_match_the_memory_ones(redis_ns: str) -> None:
    rate = Rate(per_second=2.0, burst=3)
    memory = MemoryBuckets(rate)
    shared = RedisBuckets(rate, url=REDIS_URL, namespace=redis_ns)
    steps = [10.0, 10.0, 10.0, 10.0, 10.5, 10.5, 11.0, 13.0, 13.0]
    got = [shared.take("k", now=t) for t in steps]
    assert got == pytest.approx([memory.take("k", now=t) for t in steps])


def test_redis_buckets_are_shared_by_workers(redis_ns: str) -> None:
    # Two limiters on one Redis, as two uvicorn workers: together they grant one burst.
    one, two = (RedisBuckets(Rate(0.01, 4), url=REDIS_URL, namespace=redis_ns) for _ in "12")
    granted = [b.take("ip") == 0.0 for b in (one, two, one, two, one, two)]  # server clock
    assert granted == [True, True, True, True, False, False]
    assert two.take("another-ip") == 0.0


def test_redis_down_lets_requests_through() -> None:
    pytest.importorskip("redis")
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = RedisBuckets(Rate(0.01, 1), url=f"redis://127.0.0.1:{port}/0", namespace="x")
    assert [down.take("k"), down.take("k")] == [0.0, 0.0]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_service_limits_through_redis(store_url: str, redis_ns: str) -> None:
    shared = _settings(store_url, rate_limit_per_key="0.01,2", redis_url=REDIS_URL)
    key = api_key(store_url, "acme", "read")
    with _serve(shared) as base, httpx.Client(base_url=base, headers=auth(key)) as client:
        got = [client.get("/api/campaigns").status_code for _ in range(3)]
    assert got == [200, 200, 429]
    # The buckets are in Redis: a second app (another worker) sees the key's empty bucket.
    with _serve(shared) as base, httpx.Client(base_url=base, headers=auth(key)) as client:
        assert client.get("/api/campaigns").status_code == 429


# ============================================================================ erasure
def _referral_story(base: str, key: str, friend: str, campaign: str = "spring") -> dict[str, Any]:
    """Ann refers ``friend``: a click on her link, a signup and a purchase with rewards."""
    with httpx.Client(base_url=base, headers=auth(key), follow_redirects=False) as c:
        cid = _campaign(c, key, campaign)
        ann = c.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"}).json()
        c.post(
            f"/api/campaigns/{cid}/participants",
            json={"email": friend, "device_id": "dev-friend-1", "payout_account": "IBAN-F1"},
        )
        click = c.get(f"/r/{ann['code']}", headers={"User-Agent": BROWSER + " friendly"})
        visitor = click.cookies["gv_vid"]
        for kind, extra in (("signup", {}), ("purchase", {"order_id": "o-1", "value": 80.0})):
            r = c.post(
                "/api/events",
                json={
                    "campaign_id": cid,
                    "kind": kind,
                    "idempotency_key": f"{kind}-1",
                    "email": friend,
                    "visitor_id": visitor,
                    **extra,
                },
            )
            assert r.status_code == 200, r.text
            assert r.json()["referrer_id"] == ann["person_id"]
        return {"cid": cid, "visitor": visitor, "ann": ann}


def _dump(engine: sa.Engine) -> str:
    """Every value of every table, as text: what a grep of the database would see."""
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return json.dumps(
            {
                t: [list(map(str, r)) for r in conn.execute(sa.text(f"SELECT * FROM {t}"))]
                for t in tables
            }
        )


def test_erasure_keeps_the_figures_and_leaves_nothing_identifying(
    server: str, store_url: str
) -> None:
    key = api_key(store_url)
    story = _referral_story(server, key, "Fred.Friend@x.org")
    stats_path = f"/api/campaigns/{story['cid']}/stats"
    with httpx.Client(base_url=server, headers=auth(key)) as c:
        before = c.get(stats_path).json()
        assert before["rewards"]
        assert before["k_factor"] is not None
        engine = make_engine(store_url)
        try:
            with engine.connect() as conn:
                ip_hashes = [
                    h
                    for (h,) in conn.execute(sa.text("SELECT ip_hash FROM referral_events"))
                    if h is not None
                ]
            assert ip_hashes, "the click should carry an IP hash"
            identifying = ["fred.friend@x.org", story["visitor"], "friendly", *ip_hashes]
            identifying += [tr_hash for tr_hash in _participant_hashes(engine, "fred.friend@x.org")]
            dump = _dump(engine)
            assert all(value in dump for value in identifying)

            erased = c.delete("/api/persons/FRED.FRIEND@x.org")  # any spelling of the address
            assert erased.status_code == 200, erased.text
            assert erased.json()["counts"]["person_deleted"] == 1
            after = c.get(stats_path).json()
            # The visitor ids are forgotten, so the friend's visitor leaves the visitor count;
            # every other figure stays (docs/referrals.md, section 12).
            visitors = (after.pop("visitors"), before.pop("visitors"))
            assert visitors[0] == visitors[1] - 1
            assert after == before
            dump = _dump(engine)
            leftover = [value for value in identifying if value in dump]
            assert leftover == []
            with engine.connect() as conn:
                log = conn.execute(sa.text("SELECT person_ref_hash, by FROM erasures")).one()
            assert "fred" not in log.person_ref_hash
            assert log.by.startswith("api-key:")
            # Ann, the referrer, is still there; erasing twice finds no one.
            assert "ann@x.org" in dump
            assert c.delete("/api/persons/fred.friend@x.org").status_code == 404
            # Erasing the referrer keeps the figures too; her link stops working.
            assert c.delete(f"/api/persons/{story['ann']['person_id']}").status_code == 200
            assert c.get(stats_path).json() == {**before, "visitors": visitors[0]}
            assert "ann@x.org" not in _dump(engine)
            with engine.connect() as conn:
                disabled = conn.execute(
                    sa.text("SELECT disabled_at FROM referral_codes WHERE code = :c"),
                    {"c": story["ann"]["code"]},
                ).scalar_one()
            assert disabled is not None  # her link stops (within the link cache's seconds)
            assert c.delete("/api/persons/not-a-ref").status_code == 422
        finally:
            engine.dispose()


def _participant_hashes(engine: sa.Engine, email: str) -> list[str]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT device_hash, payout_hash FROM participants WHERE email = :e"),
            {"e": email},
        ).one()
    return [h for h in row if h]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_erasure_in_one_tenant_leaves_the_other_tenants_data(server: str, store_url: str) -> None:
    a, b = api_key(store_url, "acme"), api_key(store_url, "bolt")
    _referral_story(server, a, "fred@x.org")
    story_b = _referral_story(server, b, "fred@x.org")
    with httpx.Client(base_url=server) as c:
        before_b = c.get(f"/api/campaigns/{story_b['cid']}/stats", headers=auth(b)).json()
        erased = c.delete("/api/persons/fred@x.org", headers=auth(a)).json()
        assert erased["counts"]["person_deleted"] == 0  # bolt's data still names Fred
        assert c.get(f"/api/campaigns/{story_b['cid']}/stats", headers=auth(b)).json() == before_b
        again = c.post(
            f"/api/campaigns/{story_b['cid']}/participants",
            json={"email": "fred@x.org"},
            headers=auth(b),
        )
        assert again.json()["created"] is False  # bolt still knows Fred as before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_public_routes_and_the_documented_security(app_client: httpx.Client) -> None:
    assert app_client.get("/health").status_code == 200
    assert app_client.get("/docs").status_code == 200
    assert app_client.get("/r/ZZZZ2222").status_code == 404  # public: no 401
    spec = app_client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
    create = spec["paths"]["/api/campaigns"]["post"]
    assert {"401", "403", "404", "429"} <= set(create["responses"])
    assert create["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    assert "security" not in spec["paths"]["/webhooks/stripe"]["post"]
    assert "/api/persons/{ref}" in spec["paths"]
    assert "/api/keys/{prefix}" in spec["paths"]
