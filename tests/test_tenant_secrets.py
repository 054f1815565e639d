"""Per-tenant webhook secrets: sealed storage, rotation with an overlap window, and tenant
isolation of ``POST /webhooks/{campaign_id}`` and the Stripe endpoints on a real server."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput, InvalidParameter
from grapevine.service import create_app
from grapevine.store import Store, tenants_repo
from grapevine.store import webhook_secrets_repo as secrets_repo
from grapevine.store._secretbox import SecretBox, SecretUnreadable
from support import SECRETS_KEY, api_key, auth, serve, tenant_webhook_secret

ALLOW = ["https://shop.example/"]
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 0,
}


# ============================================================================ sealing
def test_a_sealed_secret_opens_only_with_its_key_and_context() -> None:
    box = SecretBox(SECRETS_KEY)
    sealed = box.seal("whsec_abcdefgh12345678", context="tenant 1 stripe")
    assert "whsec" not in sealed
    assert sealed.startswith(f"v1${box.key_id}$")
    assert box.seal("whsec_abcdefgh12345678", context="tenant 1 stripe") != sealed  # nonce
    assert box.open(sealed, context="tenant 1 stripe") == "whsec_abcdefgh12345678"
    with pytest.raises(SecretUnreadable, match="moved from another row"):
        box.open(sealed, context="tenant 2 stripe")  # copied onto another tenant's row
    other = SecretBox("another-key-" + "x" * 32)
    with pytest.raises(SecretUnreadable, match=f"another GRAPEVINE_SECRETS_KEY.*{box.key_id}"):
        other.open(sealed, context="tenant 1 stripe")
    with pytest.raises(InvalidParameter, match="at least 32 characters"):
        SecretBox("short")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400.0), ("30m", 1800.0), ("2d", 172800.0), ("90s", 90.0), ("0", 0.0), (5, 5.0)],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert secrets_repo.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-1h", "31d", "soon", "1w", True, float("nan")])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(InvalidParameter, match="'overlap' parameter of a secret rotation"):
        secrets_repo.parse_duration(text)  # type: ignore[arg-type]


# ============================================================================ rotation
def test_rotation_overlap_then_only_the_new_secret(sqlite_store: Store) -> None:
    box = SecretBox(SECRETS_KEY)
    with Session(sqlite_store.engine) as s:
        acme = tenants_repo.create_tenant(s, slug="acme").id
        _, first, _ = secrets_repo.rotate_secret(
            s, tenant_id=acme, kind="grapevine", box=box, now=1000
        )
        assert first.startswith("gvwh_")
        assert len(first) > 40
        _, second, ends = secrets_repo.rotate_secret(
            s, tenant_id=acme, kind="grapevine", box=box, overlap="1h", now=2000
        )
        assert ends == 2000 + 3600

        def live(now: float) -> list[str]:
            return secrets_repo.active_secrets(
                s, tenant_id=acme, kind="grapevine", box=box, now=now
            )

        assert live(1500) == [first]
        assert live(2000) == [second, first]  # the overlap: both verify
        assert live(5599) == [second, first]
        assert live(5600) == [second]  # then only the new one
        # A rotation with no overlap (a leaked secret) stops the old ones at once.
        _, third, _ = secrets_repo.rotate_secret(
            s, tenant_id=acme, kind="grapevine", box=box, overlap=0, now=3000
        )
        assert live(3000) == [third]
        assert secrets_repo.active_secrets(s, tenant_id=acme, kind="stripe", box=box) == []
        infos = secrets_repo.list_secrets(s, tenant_id=acme)
        assert [i.hint for i in infos] == [first[-4:], second[-4:], third[-4:]]
        assert [i.expires_at for i in infos] == [3000, 3000, None]  # min(old end, new end)
        s.commit()
        stored = " ".join(r[0] for r in s.execute(sa.text("SELECT sealed FROM webhook_secrets")))
    for secret in (first, second, third):
        assert secret not in stored
        assert secret[5:20] not in stored


def test_stripe_secrets_come_from_stripe_and_belong_to_one_tenant(sqlite_store: Store) -> None:
    box = SecretBox(SECRETS_KEY)
    with Session(sqlite_store.engine) as s:
        acme = tenants_repo.create_tenant(s, slug="acme").id
        bravo = tenants_repo.create_tenant(s, slug="bravo").id
        with pytest.raises(BadInput, match="comes from Stripe") as info:
            secrets_repo.rotate_secret(s, tenant_id=acme, kind="stripe", box=box)
        assert info.value.field == "secret"
        secrets_repo.rotate_secret(
            s, tenant_id=acme, kind="stripe", box=box, secret="whsec_acme_0123456789"
        )
        with pytest.raises(BadInput, match="belongs to another tenant"):
            secrets_repo.rotate_secret(
                s, tenant_id=bravo, kind="stripe", box=box, secret="whsec_acme_0123456789"
            )
        with pytest.raises(BadInput, match="16 to 255 printable"):
            secrets_repo.rotate_secret(s, tenant_id=bravo, kind="grapevine", box=box, secret="x")
        with pytest.raises(InvalidParameter, match="'kind' parameter"):
            secrets_repo.rotate_secret(s, tenant_id=bravo, kind="paypal", box=box)
        found = secrets_repo.stripe_secrets_by_tenant(s, box=box)
        assert found == [(acme, "acme", ["whsec_acme_0123456789"])]


def test_one_tenants_unreadable_secret_does_not_stop_the_others(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    box = SecretBox(SECRETS_KEY)
    with Session(sqlite_store.engine) as s:
        acme = tenants_repo.create_tenant(s, slug="acme").id
        bravo = tenants_repo.create_tenant(s, slug="bravo").id
        damaged, _, _ = secrets_repo.rotate_secret(
            s, tenant_id=acme, kind="stripe", box=box, secret="whsec_acme_0123456789"
        )
        secrets_repo.rotate_secret(
            s, tenant_id=bravo, kind="stripe", box=box, secret="whsec_bravo_0123456789"
        )
        # acme's row sealed under another key (a restore from another installation, say)
        damaged.sealed = SecretBox("another-key-" + "x" * 32).seal(
            "whsec_acme_0123456789", context=f"tenant {acme} stripe"
        )
        s.flush()
        found = secrets_repo.stripe_secrets_by_tenant(s, box=box)
        assert found == [(bravo, "bravo", ["whsec_bravo_0123456789"])]
        assert f"Stripe secret {damaged.id} of tenant 'acme' left out" in caplog.text
        # bravo can still rotate (the uniqueness check reads every tenant's secrets)
        secrets_repo.rotate_secret(
            s, tenant_id=bravo, kind="stripe", box=box, secret="whsec_bravo_9876543210"
        )


# ============================================================================ over HTTP
@dataclass
class Tenant:
    slug: str
    key: str
    campaign: int
    code: str
    secret: str
    stripe: str


def _tenant(client: httpx.Client, store_url: str, slug: str) -> Tenant:
    """A tenant with an admin key, one campaign, one participant and both secrets, rotated
    through the API."""
    key = api_key(store_url, tenant=slug)
    h = auth(key)
    camp = client.post(
        "/api/campaigns",
        json={"name": "spring", "offer": OFFER, "destinations": ALLOW},
        headers=h,
    )
    assert camp.status_code == 201, camp.text
    cid = int(camp.json()["id"])
    joined = client.post(
        f"/api/campaigns/{cid}/participants", json={"email": f"ann@{slug}.org"}, headers=h
    )
    assert joined.status_code == 200, joined.text
    made = client.post("/api/webhook-secrets", json={"kind": "grapevine"}, headers=h)
    assert made.status_code == 201, made.text
    stripe_secret = f"whsec_{slug}_stripe_0123456789"
    stripe = client.post(
        "/api/webhook-secrets", json={"kind": "stripe", "secret": stripe_secret}, headers=h
    )
    assert stripe.status_code == 201, stripe.text
    assert stripe.json()["secret"] == stripe_secret
    return Tenant(slug, key, cid, str(joined.json()["code"]), made.json()["secret"], stripe_secret)


@pytest.fixture
def two_tenants(store_url: str) -> Iterator[tuple[httpx.Client, Tenant, Tenant]]:
    """A real server on each backend with tenants acme and bravo."""
    api_key(store_url)  # migrates the store
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": "salt",
            "secrets_key": SECRETS_KEY,
            "rate_limit_per_ip": "off",
            "rate_limit_per_key": "off",
        }
    )
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, _tenant(client, store_url, "acme"), _tenant(client, store_url, "bravo")


def _signup(client: httpx.Client, cid: int, secret: str, key: str, code: str) -> httpx.Response:
    body = json.dumps(
        {"kind": "signup", "idempotency_key": key, "email": f"{key}@x.org", "coupon_code": code}
    ).encode()
    return client.post(
        f"/webhooks/{cid}",
        content=body,
        headers={rf.SIGNATURE_HEADER: rf.sign_webhook(body, secret)},
    )


def _stats(client: httpx.Client, t: Tenant) -> dict[str, int]:
    r = client.get(f"/api/campaigns/{t.campaign}/stats", headers=auth(t.key))
    assert r.status_code == 200, r.text
    return {k: int(r.json()[k]) for k in ("signups", "purchases", "refunds")}


def _checkout(event_id: str, obj: dict[str, object]) -> bytes:
    base = {
        "id": f"cs_{event_id}",
        "amount_total": 4000,
        "currency": "eur",
        "customer_details": {"email": f"{event_id}@x.org"},
    }
    return json.dumps(
        {
            "id": event_id,
            "type": "checkout.session.completed",
            "created": int(time.time()),
            "data": {"object": {**base, **obj}},
        }
    ).encode()


_TICK = itertools.count()


def _stripe(client: httpx.Client, path: str, payload: bytes, secret: str) -> httpx.Response:
    # A distinct signing time per call, so that a resent event is a redelivery, not a replay.
    header = rf.stripe_signature_header(payload, secret, int(time.time()) - next(_TICK) % 250)
    return client.post(path, content=payload, headers={"Stripe-Signature": header})


def test_another_tenants_secret_cannot_credit_a_campaign(
    two_tenants: tuple[httpx.Client, Tenant, Tenant],
) -> None:
    client, acme, bravo = two_tenants
    stolen = _signup(client, acme.campaign, bravo.secret, "b1", acme.code)
    assert (stolen.status_code, stolen.json()["reason"]) == (400, "no matching signature")
    legacy = _signup(client, acme.campaign, "whsec_not_anyones_secret", "b2", acme.code)
    assert legacy.status_code == 400
    # An unknown campaign answers like one whose tenant has no secret: nothing to learn.
    missing = _signup(client, 10**9, bravo.secret, "b3", acme.code)
    assert missing.json()["reason"] == "no webhook secret for this campaign"
    assert _stats(client, acme)["signups"] == 0
    own = _signup(client, acme.campaign, acme.secret, "a1", acme.code)
    assert own.status_code == 200, own.text
    assert _stats(client, acme)["signups"] == 1
    assert _stats(client, bravo)["signups"] == 0


def test_another_tenants_stripe_secret_cannot_credit_a_campaign(
    two_tenants: tuple[httpx.Client, Tenant, Tenant],
) -> None:
    client, acme, bravo = two_tenants
    by_code = _checkout("evt_b1", {"client_reference_id": acme.code, "payment_intent": "pi_1"})
    by_meta = _checkout(
        "evt_b2",
        {
            "client_reference_id": "visitor-1",
            "payment_intent": "pi_2",
            "metadata": {"grapevine_campaign_id": str(acme.campaign)},
        },
    )
    for payload in (by_code, by_meta):
        # bravo's secret on the shared endpoint: verified as bravo's, so acme's code or
        # campaign named in the event is not bravo's to credit.
        r = _stripe(client, "/webhooks/stripe", payload, bravo.stripe)
        assert r.status_code == 200, r.text
        assert r.json()["ignored"] == "no referral code or campaign on the session"
        r = _stripe(client, "/webhooks/stripe/bravo", payload, bravo.stripe)
        assert r.json()["ignored"] == "no referral code or campaign on the session"
        # bravo's secret on acme's endpoint does not verify at all.
        r = _stripe(client, "/webhooks/stripe/acme", payload, bravo.stripe)
        assert (r.status_code, r.json()["reason"]) == (400, "no matching signature")
    assert _stats(client, acme) == {"signups": 0, "purchases": 0, "refunds": 0}

    # acme's own secret, on either endpoint, credits acme.
    r = _stripe(client, "/webhooks/stripe/acme", by_code, acme.stripe)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["kind"] == "purchase", r.text
    r = _stripe(client, "/webhooks/stripe", by_meta, acme.stripe)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["kind"] == "purchase", r.text
    assert _stats(client, acme)["purchases"] == 2

    # A refund of acme's order signed by bravo finds no order of bravo's.
    refund = json.dumps(
        {
            "id": "evt_r1",
            "type": "charge.refunded",
            "created": int(time.time()),
            "data": {"object": {"id": "ch_1", "payment_intent": "pi_1", "refunded": True}},
        }
    ).encode()
    r = _stripe(client, "/webhooks/stripe", refund, bravo.stripe)
    assert r.json()["ignored"] == "no purchase with order_id 'pi_1'"
    assert _stats(client, acme)["refunds"] == 0
    r = _stripe(client, "/webhooks/stripe/acme", refund, acme.stripe)
    assert r.json()["event"]["kind"] == "refund", r.text
    assert _stats(client, acme)["refunds"] == 1
    # An unknown tenant's endpoint answers like a known one given a wrong signature.
    r = _stripe(client, "/webhooks/stripe/nobody", refund, acme.stripe)
    assert (r.status_code, r.json()["reason"]) == (400, "no matching signature")
    r = _stripe(client, "/webhooks/stripe/acme", refund, bravo.stripe)
    assert (r.status_code, r.json()["reason"]) == (400, "no matching signature")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rotation_over_http_overlap_then_only_the_new_one(
    two_tenants: tuple[httpx.Client, Tenant, Tenant], store_url: str
) -> None:
    client, acme, bravo = two_tenants
    h = auth(acme.key)
    rotated = client.post(
        "/api/webhook-secrets", json={"kind": "grapevine", "overlap": 1}, headers=h
    )
    assert rotated.status_code == 201, rotated.text
    new, ends = rotated.json()["secret"], rotated.json()["previous_expire_at"]
    assert new != acme.secret
    assert _signup(client, acme.campaign, acme.secret, "o1", acme.code).status_code == 200
    assert _signup(client, acme.campaign, new, "o2", acme.code).status_code == 200
    while time.time() <= ends:  # the overlap is one second
        time.sleep(0.05)
    late = _signup(client, acme.campaign, acme.secret, "o3", acme.code)
    assert (late.status_code, late.json()["reason"]) == (400, "no matching signature")
    assert _signup(client, acme.campaign, new, "o4", acme.code).status_code == 200
    assert _stats(client, acme)["signups"] == 3

    # Stripe: the new secret and the old one during the overlap, then only the new one.
    rolled = client.post(
        "/api/webhook-secrets",
        json={"kind": "stripe", "secret": "whsec_acme_rolled_0123456789", "overlap": "1s"},
        headers=h,
    )
    assert rolled.status_code == 201, rolled.text
    payload = _checkout("evt_o1", {"client_reference_id": acme.code, "payment_intent": "pi_o"})
    assert _stripe(client, "/webhooks/stripe/acme", payload, acme.stripe).status_code == 200
    while time.time() <= rolled.json()["previous_expire_at"]:
        time.sleep(0.05)
    old = _stripe(client, "/webhooks/stripe/acme", payload, acme.stripe)
    assert old.json()["reason"] == "no matching signature"
    again = _stripe(client, "/webhooks/stripe/acme", payload, "whsec_acme_rolled_0123456789")
    assert again.json()["replayed"] is True  # the same event id: recorded once

    # Listings show the last four characters only, and only the caller's tenant's.
    listed = client.get("/api/webhook-secrets", headers=h).json()
    assert [(s["kind"], s["active"]) for s in listed] == [
        ("grapevine", False),
        ("stripe", False),
        ("grapevine", True),
        ("stripe", True),
    ]
    assert new not in json.dumps(listed)
    assert listed[2]["hint"] == new[-4:]
    theirs = client.get("/api/webhook-secrets", headers=auth(bravo.key)).json()
    assert {s["id"] for s in theirs}.isdisjoint({s["id"] for s in listed})
    read = api_key(store_url, tenant="acme", role="read")
    assert client.get("/api/webhook-secrets", headers=auth(read)).status_code == 403
    bad = client.post("/api/webhook-secrets", json={"kind": "stripe"}, headers=h)
    assert bad.status_code == 422
    assert "secret" in bad.text


def test_legacy_settings_secrets_verify_tenant_default_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/legacy.db"
    default_key = api_key(url, tenant="default")
    acme_key = api_key(url, tenant="acme")
    settings = Settings.model_validate(
        {
            "database_url": url,
            "ip_salt": "salt",
            "webhook_secret": "whsec_legacy_grapevine",
            "stripe_webhook_secret": "whsec_legacy_stripe",
        }
    )
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as c:
        ids = {}
        for name, key in (("default", default_key), ("acme", acme_key)):
            r = c.post(
                "/api/campaigns", json={"name": "x", "destinations": ALLOW}, headers=auth(key)
            )
            ids[name] = int(r.json()["id"])
            j = c.post(
                f"/api/campaigns/{ids[name]}/participants",
                json={"email": "a@b.org"},
                headers=auth(key),
            )
            ids[name + "_code"] = j.json()["code"]
        ok = _signup(c, ids["default"], "whsec_legacy_grapevine", "l1", ids["default_code"])
        assert ok.status_code == 200, ok.text
        no = _signup(c, ids["acme"], "whsec_legacy_grapevine", "l2", ids["acme_code"])
        assert (no.status_code, no.json()["reason"]) == (400, "no webhook secret for this campaign")
        payload = _checkout("evt_l", {"client_reference_id": ids["acme_code"]})
        r = _stripe(c, "/webhooks/stripe", payload, "whsec_legacy_stripe")
        assert r.json()["ignored"] == "no referral code or campaign on the session"
        payload = _checkout("evt_m", {"client_reference_id": ids["default_code"]})
        r = _stripe(c, "/webhooks/stripe", payload, "whsec_legacy_stripe")
        assert r.json()["event"]["kind"] == "purchase", r.text
        # Without GRAPEVINE_SECRETS_KEY a tenant cannot be given a secret.
        r = c.post("/api/webhook-secrets", json={"kind": "grapevine"}, headers=auth(acme_key))
        assert r.status_code == 503
        assert "GRAPEVINE_SECRETS_KEY" in r.json()["detail"]


def test_a_changed_secrets_key_is_reported_not_guessed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    key = api_key(url)
    tenant_webhook_secret(url, "whsec_acme_0123456789abcdef")
    settings = Settings.model_validate(
        {"database_url": url, "ip_salt": "s", "secrets_key": "a-different-key-" + "y" * 32}
    )
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, timeout=30) as c:
        cid = c.post(
            "/api/campaigns", json={"name": "x", "destinations": ALLOW}, headers=auth(key)
        ).json()["id"]
        r = _signup(c, cid, "whsec_acme_0123456789abcdef", "k1", "")
        assert r.status_code == 503
        assert "sealed under another GRAPEVINE_SECRETS_KEY" in r.json()["detail"]


def test_cli_rotate_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grapevine.cli.main import app
    from grapevine.config import get_settings

    db = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("GRAPEVINE_SECRETS_KEY", SECRETS_KEY)
    get_settings.cache_clear()
    runner = CliRunner()

    def rotate(*options: str, stdin: str | None = None) -> Result:
        """``grapevine tenant webhook-secret rotate --tenant acme`` with ``options``."""
        argv = ["tenant", "webhook-secret", "rotate", "--tenant", "acme", *options, "--db", db]
        return runner.invoke(app, argv, input=stdin)

    try:
        assert runner.invoke(app, ["tenant", "create", "acme", "--db", db]).exit_code == 0
        made = rotate()
        assert made.exit_code == 0, made.output
        secret = made.stdout.strip().splitlines()[0]
        assert secret.startswith("gvwh_")
        given = "whsec_from_stripe_0123456789\n"
        stripe = rotate("--kind", "stripe", "--secret-stdin", "--overlap", "0", stdin=given)
        assert stripe.exit_code == 0, stripe.output
        assert "whsec_from_stripe" not in stripe.stdout  # a given secret is not echoed
        listed = runner.invoke(app, ["tenant", "webhook-secret", "list", "--json", "--db", db])
        rows = json.loads(listed.stdout)
        assert [(r["kind"], r["hint"], r["active"]) for r in rows] == [
            ("grapevine", secret[-4:], True),
            ("stripe", "6789", True),
        ]
        bad = rotate("--overlap", "40d")
        assert bad.exit_code == 1
        assert "'overlap' parameter" in bad.output
        with Store(db) as store, Session(store.engine) as s:
            box = SecretBox(SECRETS_KEY)
            acme = tenants_repo.find_tenant(s, slug="acme")
            assert acme is not None
            assert secrets_repo.active_secrets(s, tenant_id=acme.id, kind="grapevine", box=box) == [
                secret
            ]
        monkeypatch.delenv("GRAPEVINE_SECRETS_KEY")
        get_settings.cache_clear()
        unset = rotate()
        assert unset.exit_code == 1
        assert "GRAPEVINE_SECRETS_KEY is not set" in unset.output
    finally:
        get_settings.cache_clear()
