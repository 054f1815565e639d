"""The referral HTTP API on a real uvicorn server over a real socket, with a real store."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.service import create_app
from support import SECRETS_KEY, api_key, auth, serve, tenant_webhook_secret

WEBHOOK_SECRET = "whsec_grapevine_test"
STRIPE_SECRET = "whsec_stripe_test"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ALLOW = ["https://shop.example/welcome", "https://blog.example"]
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 20},
    "hold_seconds": 0,
}


def _serve(database_url: str, *, configured: bool = True) -> Iterator[str]:
    # Rate limits off: these tests are about the referral flow (test_security.py has 429s).
    secrets = (
        {
            "ip_salt": "test-salt",
            "secrets_key": SECRETS_KEY,
        }
        if configured
        else {
            "ip_salt": None,
            "webhook_secret": None,
            "stripe_webhook_secret": None,
            "secrets_key": None,
        }
    )
    settings = Settings.model_validate(
        {
            "database_url": database_url,
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
            **secrets,
        }
    )
    with serve(create_app(settings)) as base:
        yield base


@pytest.fixture
def server(store_url: str) -> Iterator[str]:
    """A server on each backend (SQLite file, PostgreSQL schema)."""
    yield from _serve(store_url)


@pytest.fixture
def key(store_url: str, server: str) -> str:
    """An admin key of tenant "acme" (the server has migrated the store by now), whose
    webhook secrets are WEBHOOK_SECRET and STRIPE_SECRET."""
    token = api_key(store_url)
    tenant_webhook_secret(store_url, WEBHOOK_SECRET)
    tenant_webhook_secret(store_url, STRIPE_SECRET, kind="stripe")
    return token


@pytest.fixture
def client(server: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, follow_redirects=False, timeout=10, headers=auth(key)) as c:
        yield c


def _same_key(client: httpx.Client) -> dict[str, str]:
    return {"Authorization": client.headers["Authorization"]}


def _campaign(client: httpx.Client, name: str = "spring", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "offer": OFFER, "destinations": ALLOW, "window_days": 7, **extra}
    r = client.post("/api/campaigns", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _join(client: httpx.Client, campaign: int, email: str) -> dict[str, Any]:
    r = client.post(f"/api/campaigns/{campaign}/participants", json={"email": email})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _stats(client: httpx.Client, campaign: int) -> dict[str, Any]:
    r = client.get(f"/api/campaigns/{campaign}/stats")
    assert r.status_code == 200, r.text
    return dict(r.json())


# ============================================================================ the whole flow
def test_click_cookie_signup_purchase_refund(client: httpx.Client) -> None:
    camp = _campaign(client)
    cid = camp["id"]
    assert client.get(f"/api/campaigns/{cid}").json()["destinations"] == ALLOW
    ann = _join(client, cid, "Ann.Smith+promo@GoogleMail.com")
    assert ann["email"] == "annsmith@gmail.com"
    assert ann["link"].endswith(f"/r/{ann['code']}")
    assert _join(client, cid, "annsmith@gmail.com")["code"] == ann["code"]  # same person

    click = client.get(f"/r/{ann['code']}", headers={"User-Agent": BROWSER})
    assert click.status_code == 307
    assert click.headers["location"] == f"https://shop.example/welcome?ref={ann['code']}"
    cookie = click.cookies["gv_vid"]
    assert "max-age=604800" in click.headers["set-cookie"].lower()
    assert "httponly" in click.headers["set-cookie"].lower()

    # The cookie, sent back by the same browser, attributes the signup to Ann.
    signup = client.post(
        "/api/events",
        json={"campaign_id": cid, "kind": "signup", "idempotency_key": "s1", "email": "bob@x.org"},
    )
    assert signup.status_code == 200, signup.text
    bob = signup.json()["person_id"]
    assert signup.json()["referrer_id"] == ann["person_id"]
    assert signup.json()["code"] == ann["code"]

    # The merchant's backend posts the purchase with the visitor id (no cookie jar).
    with httpx.Client(base_url=str(client.base_url), headers=_same_key(client)) as backend:
        buy = {
            "campaign_id": cid,
            "kind": "purchase",
            "idempotency_key": "p1",
            "email": "bob@x.org",
            "order_id": "o-1",
            "value": 80.0,
            "visitor_id": cookie,
        }
        purchase = backend.post("/api/events", json=buy)
        assert purchase.status_code == 200, purchase.text
        got = purchase.json()
        assert got["referrer_id"] == ann["person_id"]
        rewards = {(r["person_id"], r["role"]): r for r in got["rewards"]}
        assert rewards[(bob, "friend")]["amount"] == 16.0
        assert rewards[(ann["person_id"], "referrer")]["amount"] == 10.0
        assert {r["status"] for r in got["rewards"]} == {"granted"}

        refund = backend.post(
            "/api/events",
            json={"campaign_id": cid, "kind": "refund", "idempotency_key": "r1", "order_id": "o-1"},
        )
        assert refund.status_code == 200, refund.text
        assert refund.json()["person_id"] == bob
        # The purchase's rewards are clawed back; a retry of the purchase shows it.
        again = backend.post("/api/events", json=buy)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert {r["status"] for r in again.json()["rewards"]} == {"clawed_back"}

    stats = _stats(client, cid)
    assert stats["clicks"] == {"human": 1, "bot": 0, "preview": 0}
    assert (stats["signups"], stats["referred_signups"]) == (1, 1)
    assert (stats["purchases"], stats["refunds"]) == (1, 1)
    assert stats["k_factor"] == pytest.approx(0.5)  # Ann (no signup) and Bob adopt; 1 referral


def test_coupon_code_attributes_and_self_referral_does_not(client: httpx.Client) -> None:
    cid = _campaign(client)["id"]
    ann = _join(client, cid, "ann@x.org")
    coupon = rf.format_code(ann["code"]).lower()  # typed by hand: 'k7mp-q2zx'
    r = client.post(
        "/api/events",
        json={
            "campaign_id": cid,
            "kind": "signup",
            "idempotency_key": "c1",
            "email": "cat@x.org",
            "coupon_code": coupon,
        },
    )
    assert r.json()["referrer_id"] == ann["person_id"]
    own = client.post(
        "/api/events",
        json={
            "campaign_id": cid,
            "kind": "purchase",
            "idempotency_key": "c2",
            "order_id": "o9",
            "email": "ANN@x.org",
            "coupon_code": ann["code"],
            "value": 50,
        },
    )
    assert own.json()["referrer_id"] is None
    assert own.json()["rewards"] == []


# ============================================================================ idempotency
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_retried_events_are_recorded_once(client: httpx.Client) -> None:
    cid = _campaign(client)["id"]
    ann = _join(client, cid, "ann@x.org")
    body = {
        "campaign_id": cid,
        "kind": "purchase",
        "idempotency_key": "evt-1",
        "email": "dan@x.org",
        "order_id": "o-7",
        "value": 40,
        "coupon_code": ann["code"],
    }
    first = client.post("/api/events", json=body)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    retries = [client.post("/api/events", json=body) for _ in range(3)]
    assert all(r.json() == first.json() for r in retries)
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in retries)
    assert len(first.json()["rewards"]) == 2
    assert _stats(client, cid)["purchases"] == 1
    # The same key with another body is still the first event: the key decides.
    other = client.post("/api/events", json={**body, "value": 999})
    assert other.json() == first.json()


# ============================================================================ bots and previews
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bots_previews_and_head_are_counted_apart(client: httpx.Client) -> None:
    cid = _campaign(client)["id"]
    code = _join(client, cid, "ann@x.org")["code"]
    assert client.get(f"/r/{code}", headers={"User-Agent": "Twitterbot/1.0"}).status_code == 307
    assert client.head(f"/r/{code}", headers={"User-Agent": BROWSER}).status_code == 307
    assert client.get(f"/r/{code}", headers={"User-Agent": "curl/8.5.0"}).status_code == 307
    assert client.get(f"/r/{code}", headers={"User-Agent": BROWSER}).status_code == 307
    assert _stats(client, cid)["clicks"] == {"human": 1, "bot": 1, "preview": 2}
    # A preview's cookie never attributes: its clicks are not human clicks.
    with httpx.Client(base_url=str(client.base_url), headers=_same_key(client)) as bot:
        bot.get(f"/r/{code}", headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
        r = bot.post(
            "/api/events",
            json={
                "campaign_id": cid,
                "kind": "signup",
                "idempotency_key": "b1",
                "email": "eve@x.org",
            },
        )
        assert r.json()["referrer_id"] is None


# ============================================================================ open redirects
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"next": "https://evil.example"}, "https://shop.example/welcome"),
        ({"to": "https://evil.example/x"}, "https://shop.example/welcome"),
        ({"to": "//evil.example"}, "https://shop.example/welcome"),
        ({"to": "https://shop.example@evil.example/"}, "https://shop.example/welcome"),
        ({"to": "https://shop.example.evil.example/"}, "https://shop.example/welcome"),
        ({"to": "/\\evil.example"}, "https://shop.example/welcome"),
        ({"to": "javascript:alert(1)"}, "https://shop.example/welcome"),
        ({"to": "https://blog.example/post/1"}, "https://blog.example/post/1"),
        ({"to": "/cart"}, "https://shop.example/cart"),
    ],
)
def test_redirects_stay_on_the_allowlist(
    client: httpx.Client, query: dict[str, str], expected: str
) -> None:
    cid = _campaign(client)["id"]
    code = _join(client, cid, "ann@x.org")["code"]
    r = client.get(f"/r/{code}", params=query, headers={"User-Agent": BROWSER})
    assert r.status_code == 307
    assert r.headers["location"] == f"{expected}?ref={code}"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_unknown_code_is_404(client: httpx.Client) -> None:
    _campaign(client)
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/r/{code}", "/api/events", "/webhooks/stripe", "/webhooks/{campaign_id}"} <= set(paths)
    assert client.get("/r/ZZZZ2222").status_code == 404
    assert client.get("/r/not-a-code-0OI1").status_code == 404
    assert client.get("/api/campaigns/999").status_code == 404


# ============================================================================ webhooks
def _signed_post(client: httpx.Client, cid: int, body: bytes, header: str) -> httpx.Response:
    return client.post(
        f"/webhooks/{cid}",
        content=body,
        headers={rf.SIGNATURE_HEADER: header, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_signed_webhook_bad_signature_and_replay(client: httpx.Client) -> None:
    cid = _campaign(client)["id"]
    ann = _join(client, cid, "ann@x.org")
    body = json.dumps(
        {
            "kind": "signup",
            "idempotency_key": "w1",
            "email": "fay@x.org",
            "coupon_code": ann["code"],
        }
    ).encode()
    header = rf.sign_webhook(body, WEBHOOK_SECRET)
    ok = _signed_post(client, cid, body, header)
    assert ok.status_code == 200, ok.text
    assert ok.json()["referrer_id"] == ann["person_id"]

    replay = _signed_post(client, cid, body, header)
    assert (replay.status_code, replay.json()["reason"]) == (400, "replayed")

    wrong = _signed_post(client, cid, body, rf.sign_webhook(body, "not-the-secret"))
    assert (wrong.status_code, wrong.json()["reason"]) == (400, "no matching signature")
    tampered = _signed_post(
        client, cid, body.replace(b"fay", b"gus"), rf.sign_webhook(body, WEBHOOK_SECRET)
    )
    assert tampered.json()["reason"] == "no matching signature"
    old = rf.sign_webhook(body, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    assert (
        _signed_post(client, cid, body, old).json()["reason"] == "timestamp outside the tolerance"
    )
    assert _signed_post(client, cid, body, "garbage").status_code == 400
    # A fresh signature of the same event is a redelivery: recorded once.
    again = _signed_post(client, cid, body, rf.sign_webhook(body, WEBHOOK_SECRET))
    assert again.json() == ok.json()
    assert _stats(client, cid)["signups"] == 1


def _stripe_header(payload: bytes, secret: str, timestamp: int) -> str:
    # Built as https://docs.stripe.com/webhooks#verify-manually describes it, by hand:
    # signed_payload = "{t}.{raw body}"; v1 = hex(HMAC-SHA256(endpoint secret, signed_payload)).
    signed_payload = f"{timestamp}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed_payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={v1},v0=ignored"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_stripe_checkout_completed_is_a_purchase(client: httpx.Client) -> None:
    cid = _campaign(client)["id"]
    ann = _join(client, cid, "ann@x.org")
    event = {
        "id": "evt_1PqR",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "cs_test_a1",
                "object": "checkout.session",
                "client_reference_id": ann["code"],
                "amount_total": 5000,
                "currency": "eur",
                "payment_intent": "pi_123",
                "customer_details": {"email": "hal@x.org"},
            }
        },
    }
    payload = json.dumps(event).encode()
    now = int(time.time())

    def post(p: bytes, header: str) -> httpx.Response:
        return client.post("/webhooks/stripe", content=p, headers={"Stripe-Signature": header})

    ok = post(payload, _stripe_header(payload, STRIPE_SECRET, now))
    assert ok.status_code == 200, ok.text
    got = ok.json()["event"]
    assert (got["kind"], got["order_id"], got["value"]) == ("purchase", "pi_123", 50.0)
    assert got["referrer_id"] == ann["person_id"]
    assert {r["role"]: r["amount"] for r in got["rewards"]} == {"friend": 10.0, "referrer": 10.0}
    # Stripe redelivers with a new timestamp and signature: the event id dedups.
    redelivered = post(payload, _stripe_header(payload, STRIPE_SECRET, now + 1))
    assert redelivered.json()["replayed"] is True
    assert redelivered.json()["event"] == got
    assert post(payload, _stripe_header(payload, STRIPE_SECRET, now + 1)).json()["reason"] == (
        "replayed"
    )
    bad = post(payload, _stripe_header(payload, "whsec_wrong", now))
    assert (bad.status_code, bad.json()["reason"]) == (400, "no matching signature")
    assert post(payload, "").status_code == 400
    other = json.dumps({"id": "evt_2", "type": "invoice.paid", "data": {"object": {}}}).encode()
    assert post(other, _stripe_header(other, STRIPE_SECRET, now)).json()["ignored"]
    assert _stats(client, cid)["purchases"] == 1


# ============================================================================ configuration
def test_unconfigured_secrets_answer_503(tmp_path: Path) -> None:
    # No ip_salt or webhook secrets: the routes that need them refuse, the rest works.
    server = _serve(f"sqlite:///{tmp_path}/u.db", configured=False)
    base = next(server)
    headers = auth(api_key(f"sqlite:///{tmp_path}/u.db"))
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10, headers=headers) as c:
        cid = _campaign(c)["id"]
        joined = c.post(f"/api/campaigns/{cid}/participants", json={"email": "a@b.org"})
        assert joined.status_code == 503
        assert "GRAPEVINE_IP_SALT" in joined.json()["detail"]
        assert c.post("/webhooks/stripe", content=b"{}").status_code == 503
        assert c.post(f"/webhooks/{cid}", content=b"{}").status_code == 503
        assert (
            c.post("/api/campaigns", json={"name": "spring", "destinations": ALLOW}).status_code
            == 409
        )
        bad = c.post("/api/campaigns", json={"name": "m", "destinations": ["ftp://x.example"]})
        assert bad.status_code == 422
        bad_offer = c.post(
            "/api/campaigns", json={"name": "o", "destinations": ALLOW, "offer": {"x": 1}}
        )
        assert bad_offer.status_code == 422
    server.close()
