"""The coupons and payouts over HTTP: a real Grapevine server and a Stripe replay server.

A friend gets a promotion code through ``POST /api/campaigns/{id}/coupons``; Stripe's
``checkout.session.completed`` with that promotion code is credited to the referrer; the
referrer's reward is approved, exported, and paid from a result file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.referrals import stripe_signature_header
from grapevine.referrals._coupons import connect_shop
from grapevine.referrals._shop_orders import shopify_hmac
from grapevine.service import create_app
from grapevine.store import Store, tenants_repo
from grapevine.store._secretbox import SecretBox
from shop_servers import StripeServer, running
from support import SECRETS_KEY, api_key, auth, serve, tenant_webhook_secret

STRIPE_WHSEC = "whsec_test_coupons_0123456789"
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 20},
    "hold_seconds": 0,
}


@pytest.fixture
def stripe() -> Iterator[tuple[StripeServer, str]]:
    server = StripeServer(secret="sk_test_api")
    with running(server) as url:
        yield server, url


@pytest.fixture
def client(store_url: str) -> Iterator[httpx.Client]:
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": "coupon-salt",
            "secrets_key": SECRETS_KEY,
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
        }
    )
    key = api_key(store_url)
    tenant_webhook_secret(store_url, STRIPE_WHSEC, kind="stripe")
    with (
        serve(create_app(settings)) as base,
        httpx.Client(base_url=base, timeout=30, headers=auth(key)) as c,
    ):
        yield c


def _stripe_event(client: httpx.Client, promo: str, email: str) -> httpx.Response:
    event = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "cs_1",
                "payment_intent": "pi_1",
                "amount_total": 8000,
                "currency": "eur",
                "customer_details": {"email": email},
                "discounts": [{"promotion_code": promo, "coupon": None}],
            }
        },
    }
    payload = json.dumps(event).encode()
    header = stripe_signature_header(payload, STRIPE_WHSEC, timestamp=int(time.time()))
    return client.post(
        "/webhooks/stripe/acme", content=payload, headers={"Stripe-Signature": header}
    )


def test_issue_redeem_and_pay_over_http(
    client: httpx.Client, stripe: tuple[StripeServer, str], store_url: str
) -> None:
    server, stripe_url = stripe
    r = client.post(
        "/api/campaigns",
        json={
            "name": "spring",
            "offer": OFFER,
            "destinations": ["https://shop.example/"],
            "currency": "EUR",
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = client.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@example.org"})
    assert r.status_code in (200, 201), r.text
    ann_code = r.json()["code"]
    # The API stores a credential; the test points it at the replay server through the library.
    r = client.put("/api/shops/stripe", json={"secret": "sk_test_api"})
    assert r.status_code == 200, r.text
    assert r.json()["hint"] == "_api"
    with Store(store_url) as store, Session(store.engine) as session:
        tenant = tenants_repo.find_tenant(session, slug="acme")
        assert tenant is not None
        connect_shop(
            session,
            tenant_id=tenant.id,
            provider="stripe",
            secret="sk_test_api",
            box=SecretBox(SECRETS_KEY),
            base_url=stripe_url,
        )
    r = client.put(f"/api/campaigns/{cid}/coupons/settings", json={"provider": "stripe"})
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["amount"]) == ("percent", 20)

    server.fail("/v1/promotion_codes", "429")
    r = client.post(
        f"/api/campaigns/{cid}/coupons",
        json={"email": "bob@example.org", "referral_code": ann_code},
    )
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    r = client.post(
        f"/api/campaigns/{cid}/coupons",
        json={"email": "bob@example.org", "referral_code": ann_code},
    )
    assert (r.json()["code"], r.headers.get("Idempotent-Replayed")) == (code, "true")
    promo_id = next(iter(server.promotion_codes))

    r = _stripe_event(client, promo_id, "bob@example.org")
    assert r.status_code == 200, r.text
    event = r.json()["event"]
    assert event["code"] == ann_code
    listed = client.get(f"/api/campaigns/{cid}/coupons").json()
    assert listed["counts"] == {"redeemed": 1}
    assert listed["coupons"][0]["order_id"] == "pi_1"

    r = client.post(f"/api/campaigns/{cid}/payouts/approve", json={"roles": ["referrer"]})
    assert len(r.json()["approved"]) == 1, r.text
    r = client.post(f"/api/campaigns/{cid}/payouts/export", params={"format": "paypal"})
    assert r.status_code == 200, r.text
    batch = r.headers["X-Payout-Batch"]
    line = r.text.strip().split(",")
    assert line[:3] == ["ann@example.org", "10.00", "EUR"]
    result = f"reference,status,transaction_id\n{line[3]},completed,TX-1\n"
    for _ in range(2):
        r = client.post(f"/api/campaigns/{cid}/payouts/results", content=result.encode())
        assert r.status_code == 200, r.text
    assert r.json()["paid"] == []  # the second import changed nothing
    states = {p["role"]: p["state"] for p in client.get(f"/api/campaigns/{cid}/payouts").json()}
    assert states["referrer"] == "paid"
    audit = client.get(f"/api/campaigns/{cid}/payouts/audit").json()
    assert [a["to_state"] for a in audit] == ["approved", "exported", "paid"]
    assert {a["batch_id"] for a in audit[1:]} == {int(batch)}


def test_errors_over_http(client: httpx.Client) -> None:
    r = client.post(
        "/api/campaigns",
        json={"name": "pool", "offer": OFFER, "destinations": ["https://shop.example/"]},
    )
    cid = r.json()["id"]
    r = client.post(f"/api/campaigns/{cid}/coupons", json={"email": "bob@example.org"})
    assert (r.status_code, r.json()["error"]) == (409, "Conflict")
    client.put(f"/api/campaigns/{cid}/coupons/settings", json={"provider": "pool"})
    r = client.post(f"/api/campaigns/{cid}/coupons/pool", content=b"code\nA-1\nA-1\n")
    assert r.status_code == 422, r.text
    assert "line 3" in r.json()["detail"]
    r = client.post(f"/api/campaigns/{cid}/coupons/pool", content=b"A-1\nA-2\n")
    assert r.json() == {"campaign_id": cid, "added": 2, "available": 2}
    r = client.post(f"/api/campaigns/{cid}/payouts/export")
    assert r.status_code == 409
    r = client.get("/api/campaigns/999999/coupons")
    assert r.status_code == 404


def _order(code: str, order_id: int = 450789469) -> bytes:
    return json.dumps(
        {
            "id": order_id,
            "email": "dee@example.org",
            "created_at": "2026-12-01T10:00:00-05:00",
            "currency": "EUR",
            "total_price": "60.00",
            "discount_codes": [{"code": code.lower(), "amount": "12.00", "type": "percentage"}],
        }
    ).encode()


def test_a_shopify_order_with_the_code_is_a_purchase(client: httpx.Client, store_url: str) -> None:
    r = client.post(
        "/api/campaigns",
        json={"name": "shopify", "offer": OFFER, "destinations": ["https://shop.example/"]},
    )
    cid = r.json()["id"]
    ann_code = client.post(
        f"/api/campaigns/{cid}/participants", json={"email": "ann@example.org"}
    ).json()["code"]
    r = client.put(
        "/api/shops/shopify",
        json={
            "secret": "shpat_12345678",
            "shop": "acme.myshopify.com",
            "webhook_secret": "shopify-app-secret",
        },
    )
    assert r.status_code == 200, r.text
    client.put(f"/api/campaigns/{cid}/coupons/settings", json={"provider": "pool"})
    client.post(f"/api/campaigns/{cid}/coupons/pool", content=b"SHOP-1\n")
    code = client.post(
        f"/api/campaigns/{cid}/coupons",
        json={"email": "dee@example.org", "referral_code": ann_code},
    ).json()["code"]
    body = _order(code)
    headers = {
        "X-Shopify-Hmac-Sha256": shopify_hmac(body, "shopify-app-secret"),
        "X-Shopify-Topic": "orders/create",
    }
    r = client.post("/webhooks/shopify/acme", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["event"]["code"] == ann_code
    assert r.json()["event"]["order_id"] == "shopify:450789469"
    again = client.post(
        "/webhooks/shopify/acme",
        content=body,
        headers={**headers, "X-Shopify-Topic": "orders/paid"},
    )
    assert again.json()["replayed"] is True
    listed = client.get(f"/api/campaigns/{cid}/coupons").json()
    assert listed["counts"] == {"redeemed": 1}
    forged = client.post(
        "/webhooks/shopify/acme",
        content=_order(code, 1),
        headers={**headers, "X-Shopify-Hmac-Sha256": shopify_hmac(body, "wrong")},
    )
    assert forged.status_code == 400, forged.text
    plain = _order("NOT-OURS", 2)
    r = client.post(
        "/webhooks/shopify/acme",
        content=plain,
        headers={**headers, "X-Shopify-Hmac-Sha256": shopify_hmac(plain, "shopify-app-secret")},
    )
    assert r.json() == {
        "received": True,
        "ignored": "no discount code issued by Grapevine on the order",
    }
