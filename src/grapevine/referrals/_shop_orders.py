"""Shopify order webhooks: an order that used a friend's discount code becomes a purchase.

Shopify signs each webhook with ``X-Shopify-Hmac-Sha256``: the base64 HMAC-SHA256 of the raw
body under the app's client secret (given with ``grapevine shop connect shopify
--webhook-secret-stdin``, sealed in the store). An ``orders/create`` or ``orders/paid`` order
whose ``discount_codes`` hold a code Grapevine issued to a referred friend is recorded as a
purchase of that code's campaign (:func:`~grapevine.referrals.record_event`), credited to the
friend's referrer; the code becomes redeemed. The order id is the idempotency key, so
Shopify's redeliveries (and both topics of one order) are recorded once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from grapevine.errors import BadInput, InvalidSignature, NotFound
from grapevine.referrals._events import EventInput, RecordedEvent, record_event
from grapevine.store import coupons_repo
from grapevine.store._secretbox import SecretBox

__all__ = [
    "HMAC_HEADER",
    "ORDER_TOPICS",
    "ShopifyOutcome",
    "record_shopify_order",
    "shopify_hmac",
    "verify_shopify_hmac",
]

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
"""The header of Shopify's webhook signature."""
ORDER_TOPICS = ("orders/create", "orders/paid")
"""The ``X-Shopify-Topic`` values read as purchases; others are ignored."""


def shopify_hmac(payload: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value of ``payload`` under ``secret``.

    >>> shopify_hmac(b'{"id": 1}', "shh")
    'lcCRbbxX0t5G+v1bC/0ymlWHnpSu49oaYm6sTbKt77s='
    """
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_shopify_hmac(payload: bytes, header: str, secret: str) -> None:
    """Raise :class:`InvalidSignature` unless ``header`` signs ``payload`` under ``secret``."""
    if not header:
        raise InvalidSignature("malformed header")
    if not hmac.compare_digest(shopify_hmac(payload, secret), header.strip()):
        raise InvalidSignature("no matching signature")


@dataclass(frozen=True)
class ShopifyOutcome:
    """The purchase recorded (or replayed), or why the order was ignored."""

    event: RecordedEvent | None
    ignored: str | None = None


def _field(order: dict[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    value = order.get(name)
    if value is not None and not isinstance(value, kinds):
        raise BadInput(f"must be {' or '.join(k.__name__ for k in kinds)}", field=name)
    return value


def _order_time(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise BadInput(f"not an ISO 8601 time: {text[:40]!r}", field="created_at") from None


def record_shopify_order(
    session: Session,
    *,
    tenant_id: int,
    payload: bytes,
    signature: str,
    topic: str,
    box: SecretBox,
    salt: str | None = None,
) -> ShopifyOutcome:
    """Verify and record one Shopify order webhook of ``tenant_id`` (committed).

    Raises
    ------
    NotFound
        The tenant has no Shopify connection with a webhook secret.
    InvalidSignature
        The HMAC does not verify.
    BadInput
        The body is not an order (naming the field).
    """
    row = coupons_repo.find_connection(session, tenant_id=tenant_id, provider="shopify")
    secret = None if row is None else coupons_repo.open_webhook_secret(row, box=box)
    if secret is None:
        raise NotFound(
            "shopify webhook secret",
            tenant_id,
            "the tenant has no Shopify webhook secret: `grapevine shop connect shopify "
            "--webhook-secret-stdin`",
        )
    verify_shopify_hmac(payload, signature, secret)
    if topic not in ORDER_TOPICS:
        return ShopifyOutcome(None, f"topic {topic or 'missing'}")
    try:
        order = json.loads(payload)
    except (ValueError, RecursionError):
        raise BadInput("not a Shopify order (not JSON)", field="body") from None
    if not isinstance(order, dict):
        raise BadInput("not a Shopify order (not an object)", field="body")
    order_id = _field(order, "id", (int, str))
    if order_id is None or isinstance(order_id, bool):
        raise BadInput("an order needs its id", field="id")
    codes = _field(order, "discount_codes", (list,)) or []
    customer = _field(order, "customer", (dict,)) or {}
    email = _field(order, "email", (str,)) or _field(order, "contact_email", (str,))
    email = email or (customer.get("email") if isinstance(customer.get("email"), str) else None)
    total = _field(order, "total_price", (str, int, float))
    try:
        value = None if total is None else float(total)
    except ValueError:
        raise BadInput(f"not an amount: {str(total)[:40]!r}", field="total_price") from None
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise BadInput("not an amount", field="total_price")
    currency = _field(order, "currency", (str,))
    when = _order_time(_field(order, "created_at", (str,)))
    for entry in codes:
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            raise BadInput("a discount code entry needs its code", field="discount_codes")
        coupon = coupons_repo.find_tenant_coupon(session, tenant_id=tenant_id, code=code)
        if coupon is None or coupon.purpose != "friend":
            continue
        recorded = record_event(
            session,
            campaign_id=coupon.campaign_id,
            tenant_id=tenant_id,
            event=EventInput(
                kind="purchase",
                idempotency_key=f"shopify:order:{order_id}",
                email=email,
                coupon_code=coupon.code,
                order_id=f"shopify:{order_id}",
                value=value,
                currency=(currency or "").upper()[:3] or None,
                time=when,
            ),
            salt=salt,
        )
        return ShopifyOutcome(recorded)
    return ShopifyOutcome(None, "no discount code issued by Grapevine on the order")
