"""Local replay servers of the shops' discount APIs: real HTTP, the documented shapes.

:class:`StripeServer` speaks ``POST /v1/coupons`` and ``POST /v1/promotion_codes`` (form
encoded, ``Authorization: Bearer sk_...``, ``Idempotency-Key``: a key seen before gets the
first answer again, as Stripe does for 24 hours; errors as ``{"error": {"type", "code",
"message", "param"}}``; a promotion code whose ``code`` exists is a 400
``resource_already_exists``). :class:`ShopifyServer` speaks ``POST
/admin/api/2024-10/graphql.json`` with ``X-Shopify-Access-Token``: the mutation
``discountCodeBasicCreate`` (``userErrors`` with ``TAKEN`` for a code that exists) and the
query ``codeDiscountNodeByCode``.

Faults are queued per path with :meth:`ReplayServer.fail`: ``"429"`` (with Retry-After),
``"500"``, ``"throttled"`` (Shopify's 200 with a ``THROTTLED`` error) and ``"drop"`` (the
request is carried out, then the connection is cut halfway through the answer, as when a
network fails after the shop did the work). Every request is recorded in ``requests``.

Both are plain ASGI apps, served by uvicorn in a thread (``support.serve``).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from support import serve

__all__ = ["ShopifyServer", "StripeServer", "running"]


@dataclass
class Seen:
    """One request as the server got it."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class ReplayServer:
    """The shared machinery: fault queues, recorded requests, the ASGI entry point."""

    secret: str
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Seen] = field(default_factory=list)

    def fail(self, path: str, *faults: str) -> None:
        """Answer the next requests to ``path`` with these faults, in order."""
        self.faults[path].extend(faults)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        fault = self.faults[path].popleft() if self.faults[path] else None
        extra: list[tuple[bytes, bytes]] = []
        if fault == "429":
            status, body = 429, self.rate_limited()
            extra.append((b"retry-after", b"0"))
        elif fault == "500":
            status, body = 500, {"error": {"type": "api_error", "message": "Internal error"}}
        elif fault == "throttled":
            status, body = (
                200,
                {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]},
            )
        else:
            status, body = self.handle(path, headers, raw)
        data = json.dumps(body).encode()
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data) + (100 if fault == "drop" else 0)).encode()),
                *extra,
            ],
        }
        await send(start)
        if fault == "drop":  # the work is done; the answer is cut off
            await send({"type": "http.response.body", "body": data[:5], "more_body": False})
            return
        await send({"type": "http.response.body", "body": data})

    def rate_limited(self) -> Any:
        return {"error": {"type": "rate_limit_error", "message": "Too many requests"}}


@dataclass
class StripeServer(ReplayServer):
    """Stripe's Coupons and Promotion Codes."""

    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)
    promotion_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @staticmethod
    def error(status: int, message: str, *, param: str | None = None, code: str | None = None):
        err = {"type": "invalid_request_error", "message": message}
        if param:
            err["param"] = param
        if code:
            err["code"] = code
        return status, {"error": err}

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.requests.append(Seen(path, headers, form))
        if headers.get("authorization") != f"Bearer {self.secret}":
            return self.error(401, "Invalid API Key provided")
        key = headers.get("idempotency-key")
        if key and key in self.answers:  # Stripe replays the first answer of a key
            return self.answers[key]
        if path == "/v1/coupons":
            answer = self._coupon(form)
        elif path == "/v1/promotion_codes":
            answer = self._promotion_code(form)
        else:
            answer = self.error(404, f"Unrecognized request URL (POST: {path})")
        if key:
            self.answers[key] = answer
        return answer

    def _coupon(self, form: dict[str, str]) -> tuple[int, Any]:
        if "percent_off" in form:
            if not 0 < float(form["percent_off"]) <= 100:
                return self.error(400, "Percent off must be between 0 and 100", param="percent_off")
        elif "amount_off" not in form or "currency" not in form:
            return self.error(400, "Must provide percent_off or amount_off", param="percent_off")
        coupon = {"id": f"co_{next(self._ids)}", "object": "coupon", **form}
        self.coupons[coupon["id"]] = coupon
        return 200, coupon

    def _promotion_code(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("coupon") not in self.coupons:
            return self.error(
                400,
                f"No such coupon: '{form.get('coupon')}'",
                param="coupon",
                code="resource_missing",
            )
        code = form.get("code", "")
        if any(p["code"].upper() == code.upper() for p in self.promotion_codes.values()):
            return self.error(
                400,
                "An active promotion code with `code` already exists.",
                param="code",
                code="resource_already_exists",
            )
        promo = {
            "id": f"promo_{next(self._ids)}",
            "object": "promotion_code",
            "code": code,
            "coupon": self.coupons[form["coupon"]],
            "max_redemptions": int(form.get("max_redemptions", "0")) or None,
            "expires_at": int(form["expires_at"]) if "expires_at" in form else None,
            "active": True,
        }
        self.promotion_codes[promo["id"]] = promo
        return 200, promo


@dataclass
class ShopifyServer(ReplayServer):
    """Shopify's Admin GraphQL basic discount codes."""

    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def rate_limited(self) -> Any:
        return {"errors": "Exceeded 2 calls per second for api client. Reduce request rates."}

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        body = json.loads(raw or b"{}")
        self.requests.append(Seen(path, headers, body))
        if path != "/admin/api/2024-10/graphql.json":
            return 404, {"errors": "Not Found"}
        if headers.get("x-shopify-access-token") != self.secret:
            return 401, {"errors": "[API] Invalid API key or access token"}
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "discountCodeBasicCreate" in query:
            return 200, {"data": {"discountCodeBasicCreate": self._create(variables)}}
        if "codeDiscountNodeByCode" in query:
            found = self.discounts.get(str(variables.get("code", "")).upper())
            node = {"id": found["id"]} if found else None
            return 200, {"data": {"codeDiscountNodeByCode": node}}
        return 200, {"errors": [{"message": "Field doesn't exist on type 'QueryRoot'"}]}

    def _create(self, variables: dict[str, Any]) -> dict[str, Any]:
        basic = variables.get("basicCodeDiscount") or {}
        code = str(basic.get("code", ""))
        value = (basic.get("customerGets") or {}).get("value") or {}
        errors = []
        if not code.strip():
            errors.append(
                {
                    "field": ["basicCodeDiscount", "code"],
                    "code": "BLANK",
                    "message": "Code can't be blank",
                }
            )
        elif code.upper() in self.discounts:
            errors.append(
                {
                    "field": ["basicCodeDiscount", "code"],
                    "code": "TAKEN",
                    "message": "Code must be unique. Please try a different code.",
                }
            )
        pct = value.get("percentage")
        if pct is not None and not 0 < float(pct) <= 1:
            errors.append(
                {
                    "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
                    "code": "INVALID",
                    "message": "Value must be between 0.0 and 1.0",
                }
            )
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        node = {"id": f"gid://shopify/DiscountCodeNode/{next(self._ids)}", "input": basic}
        self.discounts[code.upper()] = node
        return {"codeDiscountNode": {"id": node["id"]}, "userErrors": []}


@contextmanager
def running(server: ReplayServer) -> Iterator[str]:
    """Serve ``server`` with uvicorn on a loopback port; yields its base URL."""
    with serve(server) as url:
        yield url
