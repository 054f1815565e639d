"""The shops' discount APIs behind one protocol: Stripe and Shopify.

A :class:`CouponProvider` makes one single-use discount code for a :class:`Discount`:

- :class:`StripeCoupons`: one Coupon per campaign offer (``POST /v1/coupons``) and one
  Promotion Code per friend (``POST /v1/promotion_codes``, ``max_redemptions=1``), form
  encoded, ``Authorization: Bearer sk_...``, an ``Idempotency-Key`` on every POST; a 4xx
  answer's ``{"error": {"type", "code", "message", "param"}}`` becomes :class:`ShopRejected`.
- :class:`ShopifyDiscounts`: the Admin GraphQL mutation ``discountCodeBasicCreate``
  (``POST /admin/api/2024-10/graphql.json``, ``X-Shopify-Access-Token``); its ``userErrors``
  become :class:`ShopRejected`. GraphQL has no idempotency header, so the code itself is the
  key: a retry that finds its own code taken (the first attempt went through, its answer was
  lost) reads the existing discount back with ``codeDiscountNodeByCode``.

Both retry (:func:`send`) on network errors, 429 (honouring ``Retry-After``), 5xx and
Shopify's ``THROTTLED``, with exponential backoff, resending the same body and key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, Self

import httpx

from grapevine._validation import MONEY, check_choice, check_number
from grapevine.errors import BadInput, ShopRejected, ShopUnavailable

__all__ = [
    "SHOPIFY_API_VERSION",
    "STRIPE_API_VERSION",
    "CouponProvider",
    "Discount",
    "IssuedCode",
    "Retry",
    "ShopifyDiscounts",
    "StripeCoupons",
    "send",
]

STRIPE_API_VERSION = "2024-06-20"
"""The Stripe API version pinned on every request (``Stripe-Version``)."""
SHOPIFY_API_VERSION = "2024-10"
"""The Shopify Admin API version of the GraphQL endpoint."""

STRIPE_BASE = "https://api.stripe.com"


@dataclass(frozen=True)
class Discount:
    """What a code takes off: ``percent`` (0-100] or a ``fixed`` amount in ``currency``.

    ``expires_at`` (Unix seconds) ends the code; ``name`` is shown in the shop's admin.
    """

    kind: str
    amount: float
    currency: str | None = None
    expires_at: float | None = None
    name: str = "Referral discount"

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", "Discount", ("percent", "fixed"))
        if self.kind == "percent":
            check_number(self.amount, "amount", "Discount", low=0.01, high=100.0)
        else:
            MONEY.check(self.amount, "amount", "Discount")
            if not self.currency or len(self.currency) != 3:
                raise BadInput("a fixed discount needs a 3-letter currency", field="currency")

    def fingerprint(self) -> str:
        """A stable hash of what the discount gives (one shop-side coupon per fingerprint)."""
        text = json.dumps([self.kind, float(self.amount), (self.currency or "").upper()])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class IssuedCode:
    """A code the shop accepted: the code and the shop's id of it."""

    code: str
    external_id: str


class CouponProvider(Protocol):
    """A shop that makes single-use discount codes."""

    name: str

    def create_code(
        self, *, code: str, discount: Discount, idempotency_key: str, offer_id: str | None
    ) -> IssuedCode:
        """Make ``code`` worth ``discount``, once (the same key again gives the same code)."""
        ...

    def create_offer(self, *, discount: Discount, idempotency_key: str) -> str | None:
        """The shop-side object of an offer (a Stripe Coupon id), or None if it has none."""
        ...

    def close(self) -> None:
        """Release the HTTP connections."""
        ...


@dataclass(frozen=True)
class Retry:
    """How :func:`send` retries: ``attempts`` in all, ``backoff * 2**n`` seconds apart (a
    ``Retry-After`` of the shop, up to ``max_wait``, wins)."""

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def wait(self, attempt: int, retry_after: str | None) -> None:
        seconds = self.backoff * (2**attempt)
        if retry_after:
            with contextlib.suppress(ValueError):
                seconds = float(retry_after)
        self.sleep(min(max(seconds, 0.0), self.max_wait))


def send(
    client: httpx.Client,
    provider: str,
    method: str,
    url: str,
    *,
    retry: Retry,
    retry_on: Callable[[httpx.Response], str | None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request with retries; the answer that is neither retryable nor lost.

    Retries network errors (connect, read, a dropped connection), 429 and 5xx, and answers
    for which ``retry_on`` gives a reason (Shopify's ``THROTTLED`` comes with a 200). The
    same ``kwargs`` (body and headers, the idempotency key included) go with every attempt.

    Raises
    ------
    ShopUnavailable
        When the last attempt still failed that way.
    """
    reason, detail = "network", ""
    for attempt in range(retry.attempts):
        retry_after = None
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            reason, detail = "network", f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 429:
                reason, detail = "rate_limited", response.text[:200]
                retry_after = response.headers.get("retry-after")
            elif response.status_code >= 500:
                reason, detail = f"http_{response.status_code}", response.text[:200]
            else:
                why = None if retry_on is None else retry_on(response)
                if why is None:
                    return response
                reason, detail = why, response.text[:200]
        if attempt + 1 < retry.attempts:
            retry.wait(attempt, retry_after)
    raise ShopUnavailable(provider, reason, attempts=retry.attempts, detail=detail)


def _client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)))


class _Closing:
    """Closes its HTTP client: ``with StripeCoupons(...) as shop:``, or :meth:`close`."""

    _client: httpx.Client

    def close(self) -> None:
        """Close the HTTP client (its pooled connections)."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- Stripe
class StripeCoupons(_Closing):
    """Stripe Coupons and Promotion Codes with a secret key (``sk_...`` or ``rk_...``).

    Parameters
    ----------
    api_key : str
        The shop's secret (or restricted) key.
    base_url : str
        ``https://api.stripe.com`` (another address for a proxy or a local test server).
    timeout : float
        Seconds per request.
    retry : Retry
    """

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self._key = api_key
        self._base = (base_url or STRIPE_BASE).rstrip("/")
        self._retry = retry or Retry()
        self._client = client or _client(timeout)

    def _post(self, path: str, data: Mapping[str, str], key: str) -> dict[str, Any]:
        response = send(
            self._client,
            self.name,
            "POST",
            f"{self._base}{path}",
            retry=self._retry,
            data=dict(data),
            headers={
                "Authorization": f"Bearer {self._key}",
                "Idempotency-Key": key,
                "Stripe-Version": STRIPE_API_VERSION,
            },
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ShopRejected(
                self.name,
                f"an answer that is not JSON (HTTP {response.status_code})",
                status=response.status_code,
            )
        if response.status_code >= 400 or "error" in body:
            found = body.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            raise ShopRejected(
                self.name,
                str(error.get("message") or f"HTTP {response.status_code}"),
                field=error.get("param"),
                code=error.get("code") or error.get("type"),
                status=response.status_code,
            )
        return body

    def create_offer(self, *, discount: Discount, idempotency_key: str) -> str:
        """``POST /v1/coupons``: the Coupon every promotion code of the offer points to."""
        data = {"duration": "once", "name": discount.name[:40]}
        if discount.kind == "percent":
            data["percent_off"] = f"{discount.amount:g}"
        else:
            data["amount_off"] = str(round(discount.amount * 100))
            data["currency"] = str(discount.currency).lower()
        body = self._post("/v1/coupons", data, idempotency_key)
        return str(body["id"])

    def create_code(
        self, *, code: str, discount: Discount, idempotency_key: str, offer_id: str | None
    ) -> IssuedCode:
        """``POST /v1/promotion_codes``: ``code`` on the offer's coupon, usable once."""
        if offer_id is None:
            raise ShopRejected(self.name, "a promotion code needs its coupon", field="coupon")
        data = {"coupon": offer_id, "code": code, "max_redemptions": "1"}
        if discount.expires_at is not None:
            data["expires_at"] = str(int(discount.expires_at))
        body = self._post("/v1/promotion_codes", data, idempotency_key)
        return IssuedCode(str(body.get("code") or code), str(body["id"]))


# ---------------------------------------------------------------------------- Shopify
_CREATE = """
mutation discountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""
_FIND = """
query codeDiscountNodeByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _throttled(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        for e in errors:
            if isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED":
                return "throttled"
    return None


class ShopifyDiscounts(_Closing):
    """Shopify basic discount codes through the Admin GraphQL API.

    Parameters
    ----------
    access_token : str
        The app's Admin API access token (``shpat_...``).
    shop : str
        The shop's domain (``example.myshopify.com``).
    base_url : str, optional
        Another address than ``https://{shop}`` (a proxy, a local test server).
    """

    name = "shopify"

    def __init__(
        self,
        access_token: str,
        *,
        shop: str,
        base_url: str | None = None,
        timeout: float = 10.0,
        retry: Retry | None = None,
        client: httpx.Client | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._token = access_token
        self._url = (
            f"{(base_url or f'https://{shop}').rstrip('/')}/admin/api/{SHOPIFY_API_VERSION}"
            "/graphql.json"
        )
        self._retry = retry or Retry()
        self._client = client or _client(timeout)
        self._now = now

    def _query(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        response = send(
            self._client,
            self.name,
            "POST",
            self._url,
            retry=self._retry,
            retry_on=_throttled,
            json={"query": query, "variables": dict(variables)},
            headers={"X-Shopify-Access-Token": self._token},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            message = body.get("errors") if isinstance(body, dict) else None
            raise ShopRejected(
                self.name,
                str(message or f"HTTP {response.status_code}"),
                status=response.status_code,
            )
        if body.get("errors"):
            first = body["errors"][0] if isinstance(body["errors"], list) else body["errors"]
            message = first.get("message") if isinstance(first, dict) else str(first)
            raise ShopRejected(self.name, str(message), status=response.status_code)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def create_offer(self, *, discount: Discount, idempotency_key: str) -> None:
        """Shopify has no object per offer: every code carries its own value."""
        return None

    def create_code(
        self, *, code: str, discount: Discount, idempotency_key: str, offer_id: str | None
    ) -> IssuedCode:
        """``discountCodeBasicCreate``: ``code`` for any customer, usable once."""
        if discount.kind == "percent":
            value: dict[str, Any] = {"percentage": round(discount.amount / 100.0, 4)}
        else:
            value = {
                "discountAmount": {"amount": f"{discount.amount:.2f}", "appliesOnEachItem": False}
            }
        basic = {
            "title": f"{discount.name} {code}"[:255],
            "code": code,
            "startsAt": _iso(self._now()),
            "endsAt": None if discount.expires_at is None else _iso(discount.expires_at),
            "customerSelection": {"all": True},
            "customerGets": {"value": value, "items": {"all": True}},
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
        }
        data = self._query(_CREATE, {"basicCodeDiscount": basic})
        result = data.get("discountCodeBasicCreate") or {}
        errors = result.get("userErrors") or []
        if errors:
            first = errors[0]
            if first.get("code") == "TAKEN":  # an earlier attempt made it: read it back
                found = self._query(_FIND, {"code": code}).get("codeDiscountNodeByCode")
                if isinstance(found, dict) and found.get("id"):
                    return IssuedCode(code, str(found["id"]))
            path = first.get("field")
            raise ShopRejected(
                self.name,
                str(first.get("message")),
                field=".".join(map(str, path)) if isinstance(path, list) else path,
                code=first.get("code"),
            )
        node = result.get("codeDiscountNode") or {}
        if not node.get("id"):
            raise ShopRejected(self.name, "no discount in the answer")
        return IssuedCode(code, str(node["id"]))
