"""Webhook signatures: HMAC-SHA256 over a timestamped payload, and Stripe's scheme.

Foundation layer: the referral service verifies inbound webhooks with these, and the outbound
messages (grapevine.outbound) sign the webhooks Grapevine sends with the same scheme.

Both are verified with a constant-time comparison, a tolerance window on the timestamp, and
(for Grapevine's own scheme, optionally for Stripe's) a replay cache of signatures already
accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time as _time
from dataclasses import dataclass, field

from grapevine._validation import check_number
from grapevine.errors import InvalidParameter, InvalidSignature

__all__ = [
    "SIGNATURE_HEADER",
    "STRIPE_TOLERANCE_SECONDS",
    "InvalidSignature",
    "ReplayCache",
    "sign_webhook",
    "stripe_signature_header",
    "verify_stripe_signature",
    "verify_webhook",
]

STRIPE_TOLERANCE_SECONDS = 300
"""Stripe's default tolerance between the signed timestamp and now (5 minutes)."""

SIGNATURE_HEADER = "X-Grapevine-Signature"
"""The request header that carries :func:`sign_webhook`'s signature."""


@dataclass
class ReplayCache:
    """Signatures (or nonces) already accepted, each remembered until ``expires``.

    A signed timestamp older than the tolerance is refused anyway, so an entry can be
    forgotten once its own timestamp has left the window: memory stays bounded by the
    traffic of one window. In-process only; several workers need a shared store (a table
    with a unique key, or Redis ``SET NX EX``).
    """

    _expiry: dict[str, float] = field(default_factory=dict, repr=False)

    def check_and_add(self, key: str, expires: float, now: float) -> bool:
        """True the first time ``key`` is seen (and remember it); False for a replay."""
        if len(self._expiry) > 1024:
            self._expiry = {k: t for k, t in self._expiry.items() if t >= now}
        seen = self._expiry.get(key)
        if seen is not None and seen >= now:
            return False
        self._expiry[key] = expires
        return True

    def __len__(self) -> int:
        return len(self._expiry)


def _secret(secret: str | bytes, owner: str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise InvalidParameter("secret", owner, "a non-empty str or bytes", secret)
    return secret


Secrets = str | bytes | list[str] | list[bytes] | tuple[str | bytes, ...]
"""One secret, or several that are all valid (while a secret is being rotated)."""


def _secrets(secret: Secrets, owner: str) -> list[bytes]:
    if isinstance(secret, str | bytes):
        return [_secret(secret, owner)]
    keys = [_secret(s, owner) for s in secret] if isinstance(secret, list | tuple) else []
    if not keys:
        raise InvalidParameter(
            "secret", owner, "a non-empty str or bytes, or a list of them", secret
        )
    return keys


def _body(payload: str | bytes) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)


def _hmac_hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _parse_header(header: str) -> tuple[int, list[str], str | None]:
    """``t=...,v1=...[,v1=...][,n=...]`` to (timestamp, v1 signatures, nonce)."""
    if not isinstance(header, str):
        raise InvalidSignature("malformed header")
    stamp: int | None = None
    sigs: list[str] = []
    nonce: str | None = None
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isascii() or not value.isdigit():
                raise InvalidSignature("malformed header")
            stamp = int(value)
        elif key == "v1":
            sigs.append(value)
        elif key == "n":
            nonce = value
    if stamp is None:
        raise InvalidSignature("malformed header")
    if not sigs:
        raise InvalidSignature("no v1 signature in the header")
    return stamp, sigs, nonce


def _matches(expected: list[str], candidates: list[str]) -> str | None:
    """The first expected signature found among the candidates, or None."""
    found: str | None = None
    for want in expected:
        ok = False
        for sig in candidates:  # compare with every candidate: no early exit to time
            ok |= hmac.compare_digest(want.encode("ascii"), sig.encode("utf-8", "replace"))
        if ok and found is None:
            found = want
    return found


def _check_time(stamp: int, now: float | None, tolerance: float) -> float:
    now_f = _time.time() if now is None else float(now)
    if abs(now_f - stamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
    return now_f


# --------------------------------------------------------------------------- Grapevine's
def sign_webhook(
    payload: str | bytes,
    secret: str | bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """The ``X-Grapevine-Signature`` header for a payload: ``t=<unix>,n=<nonce>,v1=<hex>``.

    The signature is HMAC-SHA256 (RFC 2104) under ``secret`` of ``"{t}.{nonce}.{body}"``,
    hex-encoded. A fresh random nonce is drawn when none is given.

    >>> sign_webhook(b'{"id": 1}', "whsec_test", timestamp=1700000000, nonce="abc")
    't=1700000000,n=abc,v1=...'
    """
    key = _secret(secret, "sign_webhook")
    t = int(_time.time()) if timestamp is None else int(timestamp)
    n = secrets.token_hex(16) if nonce is None else nonce
    if not n or any(c in n for c in ",=. "):
        raise InvalidParameter("nonce", "sign_webhook", "a token without , = . or space", n)
    sig = _hmac_hex(key, f"{t}.{n}.".encode() + _body(payload))
    return f"t={t},n={n},v1={sig}"


def verify_webhook(
    payload: str | bytes,
    header: str,
    secret: Secrets,
    *,
    tolerance: float = 300,
    replay_cache: ReplayCache | None = None,
    now: float | None = None,
) -> int:
    """Verify a header made by :func:`sign_webhook`; return its timestamp.

    Parameters
    ----------
    payload : bytes or str
        The raw request body, exactly as received (never re-serialised JSON).
    header : str
        The ``X-Grapevine-Signature`` value.
    secret : str or bytes, or a sequence of them
        The shared secret; during a rotation, every secret that is valid (any may match).
    tolerance : float
        Largest accepted distance between the signed timestamp and ``now``, seconds.
    replay_cache : ReplayCache, optional
        When given, a nonce accepted once is refused the second time within the window.
    now : float, optional
        The current time (Unix seconds; default the clock).

    Raises
    ------
    InvalidSignature
        With the ``reason``.

    Examples
    --------
    >>> h = sign_webhook(b"{}", "s3cret", timestamp=1000, nonce="n1")
    >>> cache = ReplayCache()
    >>> verify_webhook(b"{}", h, "s3cret", now=1010, replay_cache=cache)
    1000
    >>> verify_webhook(b"{}", h, "s3cret", now=1020, replay_cache=cache)
    Traceback (most recent call last):
    ...
    grapevine.errors.InvalidSignature: Webhook signature rejected: replayed.
    """
    keys = _secrets(secret, "verify_webhook")
    check_number(tolerance, "tolerance", "verify_webhook", low=0)
    stamp, sigs, nonce = _parse_header(header)
    if nonce is None:
        raise InvalidSignature("malformed header")
    message = f"{stamp}.{nonce}.".encode() + _body(payload)
    expected = [_hmac_hex(key, message) for key in keys]
    if _matches(expected, sigs) is None:
        raise InvalidSignature("no matching signature")
    now_f = _check_time(stamp, now, float(tolerance))
    if replay_cache is not None and not replay_cache.check_and_add(
        f"n:{nonce}", stamp + float(tolerance), now_f
    ):
        raise InvalidSignature("replayed")
    return stamp


# --------------------------------------------------------------------------- Stripe's
def stripe_signature_header(payload: str | bytes, secret: str | bytes, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe builds it: ``t=<unix>,v1=<hex>``.

    ``v1`` is the hex HMAC-SHA256 under the endpoint secret of ``"{t}.{payload}"``. Meant for
    tests and for replaying recorded events; Stripe signs real ones.

    >>> stripe_signature_header('{"id": "evt_1"}', "whsec_test", 1700000000)
    't=1700000000,v1=...'
    """
    key = _secret(secret, "stripe_signature_header")
    t = int(timestamp)
    return f"t={t},v1={_hmac_hex(key, f'{t}.'.encode() + _body(payload))}"


def verify_stripe_signature(
    payload: str | bytes,
    header: str,
    secret: Secrets,
    *,
    tolerance: float = STRIPE_TOLERANCE_SECONDS,
    replay_cache: ReplayCache | None = None,
    now: float | None = None,
) -> int:
    """Verify a ``Stripe-Signature`` header the way Stripe documents it; return ``t``.

    Parameters
    ----------
    payload : bytes or str
        The raw request body, byte for byte.
    header : str
        The ``Stripe-Signature`` header: ``t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]``.
    secret : str or bytes, or a sequence of them
        The endpoint's signing secret (``whsec_...``), used as is (UTF-8) as the HMAC key;
        several while a tenant's secret is being rotated (any may match).
    tolerance : float
        Largest accepted distance from ``now`` to ``t`` (default 300 s, Stripe's).
    replay_cache : ReplayCache, optional
        Refuse the same signature twice within the window. Stripe may legitimately redeliver
        an event with a new timestamp and signature: deduplicate on the event id as well.
    now : float, optional
        The current time (default the clock).

    Raises
    ------
    InvalidSignature
        Malformed header, no ``v1`` among the signatures that matches (``v0`` and other
        schemes are ignored, as Stripe's libraries do), a timestamp outside the tolerance, or
        a replay.

    Notes
    -----
    The signed payload is the timestamp, a ``.``, and the raw body; the expected signature is
    its HMAC-SHA256 under the secret, hex-encoded, compared in constant time with each ``v1``
    (there are several while a secret is being rolled).

    References
    ----------
    .. [1] Stripe, "Check the webhook signatures", https://docs.stripe.com/webhooks#verify-manually
    .. [2] RFC 2104, HMAC: Keyed-Hashing for Message Authentication.

    Examples
    --------
    >>> h = stripe_signature_header(b'{"id": "evt_1"}', "whsec_test", 1700000000)
    >>> verify_stripe_signature(b'{"id": "evt_1"}', h, "whsec_test", now=1700000100)
    1700000000
    """
    keys = _secrets(secret, "verify_stripe_signature")
    check_number(tolerance, "tolerance", "verify_stripe_signature", low=0)
    if not math.isfinite(float(tolerance)):
        raise InvalidParameter("tolerance", "verify_stripe_signature", "a finite float", tolerance)
    stamp, sigs, _ = _parse_header(header)
    message = f"{stamp}.".encode() + _body(payload)
    expected = [_hmac_hex(key, message) for key in keys]
    matched = _matches(expected, sigs)
    if matched is None:
        raise InvalidSignature("no matching signature")
    now_f = _check_time(stamp, now, float(tolerance))
    if replay_cache is not None and not replay_cache.check_and_add(
        f"s:{stamp}:{matched}", stamp + float(tolerance), now_f
    ):
        raise InvalidSignature("replayed")
    return stamp
