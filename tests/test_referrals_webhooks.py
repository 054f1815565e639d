"""Webhook signatures: Grapevine's scheme and Stripe's."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import GrapevineError, InvalidParameter
from grapevine.referrals import (
    STRIPE_TOLERANCE_SECONDS,
    InvalidSignature,
    ReplayCache,
    sign_webhook,
    stripe_signature_header,
    verify_stripe_signature,
    verify_webhook,
)

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
