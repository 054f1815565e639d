"""Webhook signatures (Grapevine's scheme and Stripe's), and the webhook routes refusing
malformed, oversized and replayed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.config import Settings
from grapevine.errors import GrapevineError, InvalidParameter
from grapevine.referrals import (
    SIGNATURE_HEADER,
    STRIPE_TOLERANCE_SECONDS,
    InvalidSignature,
    ReplayCache,
    sign_webhook,
    stripe_signature_header,
    verify_stripe_signature,
    verify_webhook,
)
from grapevine.service import create_app
from support import SECRETS_KEY, api_key, auth, serve, tenant_webhook_secret

SECRET = "whsec_test_secret"
BODY = b'{"id": "evt_1", "object": "event", "type": "checkout.session.completed"}'
T = 1_700_000_000


def stripe_documented_header(payload: bytes, secret: str, timestamp: int) -> str:
    """Step by step as https://docs.stripe.com/webhooks#verify-manually describes it."""
    # Step 2: signed_payload = timestamp + "." + the actual JSON payload (the request body)
    signed_payload = str(timestamp).encode() + b"." + payload
    # Step 3: HMAC with SHA-256, the endpoint's signing secret as key
    signature = hmac.new(secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()
    # Header: t=<timestamp>,v1=<signature> (test-mode events also carry a v0)
    v0 = "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    return f"t={timestamp},v1={signature},v0={v0}"


def test_stripe_header_built_as_documented_verifies() -> None:
    header = stripe_documented_header(BODY, SECRET, T)
    assert verify_stripe_signature(BODY, header, SECRET, now=T + 10) == T
    assert verify_stripe_signature(BODY.decode(), header, SECRET.encode(), now=T) == T
    assert stripe_signature_header(BODY, SECRET, T) == header.rsplit(",v0=", 1)[0]


def test_stripe_known_vector() -> None:
    # Computed outside Python:
    # printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test_secret
    expected = "ceb8863f7208fa249a6cd8f951e993c7563412aca65866f6272283debe143ab3"
    assert stripe_signature_header(b"{}", SECRET, T) == f"t={T},v1={expected}"


def test_stripe_rolled_secret_any_v1_matches() -> None:
    old = stripe_signature_header(BODY, "whsec_old", T).split(",v1=")[1]
    new = stripe_signature_header(BODY, SECRET, T).split(",v1=")[1]
    assert verify_stripe_signature(BODY, f"t={T},v1={old},v1={new}", SECRET, now=T) == T
    assert verify_stripe_signature(BODY, f"t={T},v1={old},v1={new}", "whsec_old", now=T) == T


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no matching signature"),
        (lambda h, b: (h, b.replace(b"evt_1", b"evt_2")), "no matching signature"),
        (lambda h, b: (h.replace(f"t={T}", f"t={T + 1}"), b), "no matching signature"),
        (lambda h, b: (h.split(",v1=")[0] + ",v1=" + "0" * 64, b), "no matching signature"),
        (lambda h, b: (h.replace("v1=", "v0="), b), "no v1 signature"),
        (lambda h, b: (h.replace(f"t={T},", ""), b), "malformed header"),
        (lambda h, b: (h.replace(f"t={T}", "t=abc"), b), "malformed header"),
        (lambda h, b: (h.replace(f"t={T}", "t=-5"), b), "malformed header"),
        (lambda h, b: ("", b), "malformed header"),
        (lambda h, b: ("garbage", b), "malformed header"),
    ],
)
def test_stripe_rejections(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    header, body = mutate(stripe_signature_header(BODY, SECRET, T), BODY)
    with pytest.raises(InvalidSignature) as info:
        verify_stripe_signature(body, header, SECRET, now=T)
    assert info.value.reason.startswith(reason)
    assert isinstance(info.value, GrapevineError)


def test_stripe_wrong_secret() -> None:
    header = stripe_signature_header(BODY, SECRET, T)
    with pytest.raises(InvalidSignature, match="no matching signature"):
        verify_stripe_signature(BODY, header, "whsec_other", now=T)


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (0, True),
        (STRIPE_TOLERANCE_SECONDS, True),
        (STRIPE_TOLERANCE_SECONDS + 1, False),
        (-STRIPE_TOLERANCE_SECONDS - 1, False),
    ],
)
def test_stripe_tolerance(offset: int, ok: bool) -> None:
    header = stripe_signature_header(BODY, SECRET, T)
    if ok:
        assert verify_stripe_signature(BODY, header, SECRET, now=T + offset) == T
    else:
        with pytest.raises(InvalidSignature, match="tolerance"):
            verify_stripe_signature(BODY, header, SECRET, now=T + offset)


def test_stripe_default_clock_and_replay_cache() -> None:
    now = int(time.time())
    header = stripe_signature_header(BODY, SECRET, now)
    cache = ReplayCache()
    assert verify_stripe_signature(BODY, header, SECRET, replay_cache=cache) == now
    with pytest.raises(InvalidSignature, match="replayed"):
        verify_stripe_signature(BODY, header, SECRET, replay_cache=cache)


def test_grapevine_scheme_roundtrip_and_replay() -> None:
    cache = ReplayCache()
    h1 = sign_webhook(BODY, SECRET, timestamp=T)
    h2 = sign_webhook(BODY, SECRET, timestamp=T)
    assert h1 != h2  # fresh nonces
    assert verify_webhook(BODY, h1, SECRET, now=T, replay_cache=cache) == T
    assert verify_webhook(BODY, h2, SECRET, now=T, replay_cache=cache) == T
    with pytest.raises(InvalidSignature, match="replayed"):
        verify_webhook(BODY, h1, SECRET, now=T + 1, replay_cache=cache)
    assert len(cache) == 2


def test_grapevine_signature_is_hmac_of_timestamp_nonce_body() -> None:
    header = sign_webhook(b"x", b"k", timestamp=5, nonce="abc")
    expected = hmac.new(b"k", b"5.abc.x", hashlib.sha256).hexdigest()
    assert header == f"t=5,n=abc,v1={expected}"


@pytest.mark.parametrize(
    "header",
    [
        "t=1000,v1=" + "0" * 64,  # no nonce
        "n=abc,v1=" + "0" * 64,  # no timestamp
        "t=1000,n=abc",  # no signature
    ],
)
def test_grapevine_malformed(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_webhook(b"{}", header, SECRET, now=1000)


def test_grapevine_nonce_cannot_be_moved() -> None:
    header = sign_webhook(b"{}", SECRET, timestamp=1000, nonce="abc")
    with pytest.raises(InvalidSignature, match="no matching"):
        verify_webhook(b"{}", header.replace("n=abc", "n=abd"), SECRET, now=1000)


def test_grapevine_tolerance() -> None:
    header = sign_webhook(b"{}", SECRET, timestamp=1000)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_webhook(b"{}", header, SECRET, now=1000 + 301)
    assert verify_webhook(b"{}", header, SECRET, now=1000 + 301, tolerance=600) == 1000


def test_replay_cache_forgets_expired() -> None:
    cache = ReplayCache()
    assert cache.check_and_add("a", expires=10, now=0)
    assert not cache.check_and_add("a", expires=10, now=5)
    assert cache.check_and_add("a", expires=30, now=11)  # expired: the timestamp check guards it
    for i in range(1100):
        cache.check_and_add(f"k{i}", expires=20, now=15)
    cache.check_and_add("last", expires=100, now=50)
    assert len(cache) == 1


@pytest.mark.parametrize("secret", ["", b"", None, 5])
def test_bad_secret(secret: object) -> None:
    with pytest.raises(InvalidParameter, match="secret"):
        sign_webhook(b"", secret)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="secret"):
        verify_stripe_signature(b"", "t=1,v1=a", secret)  # type: ignore[arg-type]


@pytest.mark.parametrize("nonce", ["", "a,b", "a=b", "a.b", "a b"])
def test_bad_nonce(nonce: str) -> None:
    with pytest.raises(InvalidParameter, match="nonce"):
        sign_webhook(b"", SECRET, nonce=nonce)


@settings(max_examples=100)
@given(
    st.binary(max_size=200),
    st.binary(min_size=1, max_size=32),
    st.integers(0, 2**33),
    st.binary(max_size=200),
)
def test_property_only_the_exact_body_verifies(
    body: bytes, secret: bytes, t: int, other: bytes
) -> None:
    header = stripe_signature_header(body, secret, t)
    assert verify_stripe_signature(body, header, secret, now=t) == t
    g = sign_webhook(body, secret, timestamp=t)
    assert verify_webhook(body, g, secret, now=t) == t
    if other != body:
        with pytest.raises(InvalidSignature):
            verify_stripe_signature(other, header, secret, now=t)
        with pytest.raises(InvalidSignature):
            verify_webhook(other, g, secret, now=t)


@settings(max_examples=200)
@given(st.text(max_size=120))
def test_property_any_header_verifies_or_raises_invalid_signature(header: str) -> None:
    try:
        verify_stripe_signature(BODY, header, SECRET, now=T)
    except InvalidSignature:
        return
    raise AssertionError("a random header verified")


# ============================================================================ over HTTP
# The webhook routes on a real server, on both backends: malformed, oversized and replayed
# deliveries are refused, each with an error that says why, and nothing is recorded.
WEBHOOK_SECRET = "whsec_grapevine_http"
STRIPE_SECRET = "whsec_stripe_http"
MAX_BODY = 4096


@pytest.fixture
def served(store_url: str) -> Iterator[tuple[httpx.Client, int, str]]:
    """``(client, campaign id, a participant's code)`` of a server on ``store_url``; the
    secrets are tenant acme's own (test_tenant_secrets.py has the tenants' isolation)."""
    key = api_key(store_url)
    tenant_webhook_secret(store_url, WEBHOOK_SECRET)
    tenant_webhook_secret(store_url, STRIPE_SECRET, kind="stripe")
    settings_ = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": "salt",
            "secrets_key": SECRETS_KEY,
            "max_body_bytes": MAX_BODY,
        }
    )
    with (
        serve(create_app(settings_)) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        camp = client.post(
            "/api/campaigns",
            json={"name": "hooks", "destinations": ["https://shop.example/"]},
            headers=auth(key),
        )
        assert camp.status_code == 201, camp.text
        cid = int(camp.json()["id"])
        joined = client.post(
            f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"}, headers=auth(key)
        )
        assert joined.status_code == 200, joined.text
        client.headers.update(auth(key))  # for the stats reads below
        yield client, cid, str(joined.json()["code"])


def _signed(
    client: httpx.Client, cid: int, body: bytes, header: str | None = None
) -> httpx.Response:
    return client.post(
        f"/webhooks/{cid}",
        content=body,
        headers={
            SIGNATURE_HEADER: header if header is not None else sign_webhook(body, WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
    )


def _stripe(client: httpx.Client, payload: bytes, timestamp: int | None = None) -> httpx.Response:
    when = int(time.time()) if timestamp is None else timestamp
    header = stripe_signature_header(payload, STRIPE_SECRET, timestamp=when)
    return client.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": header})


def _signups(client: httpx.Client, cid: int) -> int:
    r = client.get(f"/api/campaigns/{cid}/stats")
    assert r.status_code == 200, r.text
    return int(r.json()["signups"]) + int(r.json()["purchases"])


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b"{not json", 422, "json"),
        (b"", 422, "json"),
        (b'{"kind": "signup"}', 422, "idempotency_key"),
        (b'{"kind": "teleport", "idempotency_key": "k1", "email": "a@x.org"}', 422, "kind"),
        (b'{"kind": "signup", "idempotency_key": "k2"}', 422, "email"),
        (b'{"kind": "refund", "idempotency_key": "k3"}', 422, "order_id"),
        (b"[1, 2, 3]", 422, ""),
    ],
)
def test_malformed_signed_webhook_is_refused_and_names_the_field(
    served: tuple[httpx.Client, int, str], body: bytes, status: int, names: str
) -> None:
    client, cid, _ = served
    r = _signed(client, cid, body)
    assert r.status_code == status, r.text
    assert names in r.text.lower()
    assert _signups(client, cid) == 0


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "malformed header"),
        ("garbage", "malformed header"),
        ("t=1,n=abc,v1=00", ""),
    ],
)
def test_malformed_signature_header_is_400_with_a_reason(
    served: tuple[httpx.Client, int, str], header: str, reason: str
) -> None:
    client, cid, _ = served
    r = _signed(
        client, cid, b'{"kind": "signup", "idempotency_key": "h", "email": "a@x.org"}', header
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "InvalidSignature"
    assert reason in r.json()["reason"]


def test_malformed_stripe_event_is_refused(served: tuple[httpx.Client, int, str]) -> None:
    client, cid, _ = served
    r = _stripe(client, b"not json at all")
    assert r.status_code == 422, r.text
    assert "not a Stripe event" in r.json()["detail"]
    r = _stripe(client, json.dumps({"type": "checkout.session.completed"}).encode())
    assert r.status_code == 422, r.text
    assert _signups(client, cid) == 0


@pytest.mark.parametrize("route", ["/webhooks/{cid}", "/webhooks/stripe", "/api/events"])
def test_oversized_body_is_413_before_it_is_read(
    served: tuple[httpx.Client, int, str], route: str
) -> None:
    client, cid, _ = served
    body = json.dumps({"kind": "signup", "idempotency_key": "big", "pad": "x" * MAX_BODY}).encode()
    r = client.post(
        route.format(cid=cid),
        content=body,
        headers={SIGNATURE_HEADER: sign_webhook(body, WEBHOOK_SECRET)},
    )
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "ContentTooLarge"
    assert f"at most {MAX_BODY:,} bytes" in r.json()["detail"]
    assert f"got {len(body):,} bytes" in r.json()["detail"]
    assert _signups(client, cid) == 0


def test_oversized_chunked_body_is_413(served: tuple[httpx.Client, int, str]) -> None:
    # No Content-Length: the body is counted as it arrives.
    client, cid, _ = served

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"x" * 1024

    r = client.post(f"/webhooks/{cid}", content=chunks(), headers={SIGNATURE_HEADER: "t=1"})
    assert r.status_code == 413, r.text
    assert "GRAPEVINE_MAX_BODY_BYTES" in r.json()["detail"]
    small = client.post(
        f"/webhooks/{cid}", content=iter([b"{}"]), headers={SIGNATURE_HEADER: "garbage"}
    )
    assert small.status_code == 400  # a small chunked body reaches the route


def test_replayed_webhook_is_refused_and_recorded_once(
    served: tuple[httpx.Client, int, str],
) -> None:
    client, cid, code = served
    body = json.dumps(
        {"kind": "signup", "idempotency_key": "r1", "email": "bo@x.org", "coupon_code": code}
    ).encode()
    header = sign_webhook(body, WEBHOOK_SECRET)
    first = _signed(client, cid, body, header)
    assert first.status_code == 200, first.text
    replay = _signed(client, cid, body, header)  # the same delivery, captured and resent
    assert (replay.status_code, replay.json()["reason"]) == (400, "replayed")
    resent = _signed(client, cid, body)  # a new signature: a redelivery, deduplicated
    assert resent.status_code == 200
    assert resent.headers["Idempotent-Replayed"] == "true"
    assert _signups(client, cid) == 1


def test_replayed_stripe_event_is_refused_and_recorded_once(
    served: tuple[httpx.Client, int, str],
) -> None:
    client, cid, code = served
    now = int(time.time())
    event = {
        "id": "evt_replay",
        "type": "checkout.session.completed",
        "created": now,
        "data": {
            "object": {
                "id": "cs_1",
                "client_reference_id": code,
                "amount_total": 1000,
                "currency": "eur",
                "payment_intent": "pi_r",
                "customer_details": {"email": "cy@x.org"},
            }
        },
    }
    payload = json.dumps(event).encode()
    header = stripe_signature_header(payload, STRIPE_SECRET, timestamp=now)
    post = {"content": payload, "headers": {"Stripe-Signature": header}}
    assert client.post("/webhooks/stripe", **post).status_code == 200  # type: ignore[arg-type]
    again = client.post("/webhooks/stripe", **post)  # type: ignore[arg-type]
    assert (again.status_code, again.json()["reason"]) == (400, "replayed")
    redelivered = _stripe(client, payload, timestamp=now + 1)
    assert redelivered.json()["replayed"] is True
    assert _signups(client, cid) == 1


# ============================================================================ Stripe refunds
def _stripe_event(event_id: str, kind: str, obj: dict[str, object]) -> bytes:
    return json.dumps(
        {"id": event_id, "type": kind, "created": int(time.time()), "data": {"object": obj}}
    ).encode()


def _offer_campaign(client: httpx.Client, hold_seconds: float) -> tuple[int, str]:
    """A campaign with an offer and one participant's code."""
    offer = {
        "referrer": {"kind": "fixed", "amount": 10},
        "friend": {"kind": "fixed", "amount": 5},
        "hold_seconds": hold_seconds,
    }
    camp = client.post(
        "/api/campaigns",
        json={
            "name": f"refunds-{hold_seconds}",
            "offer": offer,
            "destinations": ["https://a.example/"],
        },
    )
    assert camp.status_code == 201, camp.text
    cid = int(camp.json()["id"])
    joined = client.post(f"/api/campaigns/{cid}/participants", json={"email": "ref@x.org"})
    assert joined.status_code == 200, joined.text
    return cid, str(joined.json()["code"])


def _checkout(client: httpx.Client, event_id: str, code: str, intent: str, email: str) -> None:
    session = {
        "id": f"cs_{event_id}",
        "client_reference_id": code,
        "amount_total": 4000,
        "currency": "eur",
        "payment_intent": intent,
        "customer_details": {"email": email},
    }
    r = _stripe(client, _stripe_event(event_id, "checkout.session.completed", session))
    assert r.status_code == 200, r.text
    assert r.json()["event"]["rewards"], r.text


def _reward_statuses(client: httpx.Client, cid: int) -> dict[str, int]:
    r = client.get(f"/api/campaigns/{cid}/stats")
    assert r.status_code == 200, r.text
    return {status: int(v["count"]) for status, v in r.json()["rewards"].items()}


def test_stripe_charge_refunded_claws_back_once(served: tuple[httpx.Client, int, str]) -> None:
    client, _, _ = served
    cid, code = _offer_campaign(client, hold_seconds=0)
    _checkout(client, "evt_buy", code, "pi_full", "fred@x.org")
    assert _reward_statuses(client, cid) == {"granted": 2}
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_full", "refunded": True,
              "amount": 4000, "amount_refunded": 4000}  # fmt: skip
    r = _stripe(client, _stripe_event("evt_refund", "charge.refunded", charge))
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["replayed"], got["event"]["kind"], got["event"]["order_id"]) == (
        False,
        "refund",
        "pi_full",
    )
    assert {x["status"] for x in got["event"]["rewards"]} == set()  # a refund earns nothing
    assert _reward_statuses(client, cid) == {"clawed_back": 2}
    # Stripe redelivers (a new signature time): the same event, recorded once.
    payload = _stripe_event("evt_refund", "charge.refunded", charge)
    again = _stripe(client, payload, timestamp=int(time.time()) + 1)
    assert again.json()["replayed"] is True
    # The refund.created event of the same refund is not a second refund.
    refund = {"id": "re_1", "object": "refund", "payment_intent": "pi_full", "amount": 4000}
    second = _stripe(client, _stripe_event("evt_refund_2", "refund.created", refund))
    assert second.json()["ignored"] == "order 'pi_full' already refunded"
    assert client.get(f"/api/campaigns/{cid}/stats").json()["refunds"] == 1


def test_stripe_refund_created_voids_in_the_hold(served: tuple[httpx.Client, int, str]) -> None:
    client, _, _ = served
    cid, code = _offer_campaign(client, hold_seconds=30 * 86400)
    _checkout(client, "evt_buy2", code, "pi_hold", "gus@x.org")
    assert _reward_statuses(client, cid) == {"pending": 2}
    refund = {"id": "re_2", "object": "refund", "payment_intent": "pi_hold", "amount": 4000}
    r = _stripe(client, _stripe_event("evt_refund_3", "refund.created", refund))
    assert r.status_code == 200, r.text
    assert r.json()["event"]["kind"] == "refund"
    assert _reward_statuses(client, cid) == {"void": 2}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_stripe_partial_and_unknown_refunds_are_ignored(
    served: tuple[httpx.Client, int, str],
) -> None:
    client, _, _ = served
    cid, code = _offer_campaign(client, hold_seconds=0)
    _checkout(client, "evt_buy3", code, "pi_part", "hal@x.org")
    partial = {"id": "ch_3", "payment_intent": "pi_part", "refunded": False, "amount_refunded": 500}
    r = _stripe(client, _stripe_event("evt_p1", "charge.refunded", partial))
    assert r.json()["ignored"].startswith("partial refund")
    small = {"id": "re_3", "payment_intent": "pi_part", "amount": 500}
    r = _stripe(client, _stripe_event("evt_p2", "refund.created", small))
    assert r.json()["ignored"].startswith("partial refund")
    unknown = {"id": "ch_4", "payment_intent": "pi_nobody", "refunded": True}
    r = _stripe(client, _stripe_event("evt_p3", "charge.refunded", unknown))
    assert r.json()["ignored"] == "no purchase with order_id 'pi_nobody'"
    r = _stripe(client, _stripe_event("evt_p4", "charge.refunded", {"id": "ch_5"}))
    assert r.json()["ignored"] == "no payment_intent on the refund"
    assert _reward_statuses(client, cid) == {"granted": 2}
