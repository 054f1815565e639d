"""``/r/{code}``: the personal short link. Records the click, sets the cookie, redirects.

The route is ``async`` and touches the database only on a cache miss: what a code points to
comes from the :class:`~grapevine.service._clicks.LinkCache`, and the click goes to the
:class:`~grapevine.service._clicks.ClickWriter`, which commits clicks in batches (group
commit; the durability window is stated in :mod:`grapevine.service._clicks`).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput, StoreError
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service._clicks import Click, ClickWriter, LinkCache
from grapevine.service._errors import error_body
from grapevine.service._headers import security_headers
from grapevine.service._ratelimit import RateLimiter

__all__ = ["VISITOR_COOKIE", "LinkAnswer", "LinkFastPath", "answer_link", "router"]

router = APIRouter(tags=["redirects"])

VISITOR_COOKIE = "gv_vid"
"""The attribution cookie: a random visitor id; the clicks it made are kept server-side."""

_VISITOR = re.compile(r"[A-Za-z0-9_-]{16,64}")
_NOT_FOUND = "unknown referral code"
_NO_SALT = "referral links are not configured: set GRAPEVINE_IP_SALT (a random secret)"
_ROOM_WAIT = 2.0  # seconds a redirect waits for room in a full click queue
_URL_SAFE = ":/%#?=@[]!$&'()*+,;"  # what starlette's RedirectResponse leaves unquoted
_PLAIN, _SECURE = security_headers(), security_headers(https=True)  # Referrer-Policy included


@lru_cache(maxsize=65_536)
def _ip_hash(host: str, salt: str) -> str | None:
    try:
        return rf.hash_ip(host, salt)
    except BadInput:  # a unix socket or a test client: no address to keep
        return None


@lru_cache(maxsize=4096)
def _traffic(method: str, user_agent: str | None) -> str:
    return rf.classify_request(method, user_agent).kind


def _cookie(visitor: str, max_age: int, secure: bool) -> str:
    # The visitor id is [A-Za-z0-9_-]: no quoting needed (what http.cookies would do, slower).
    return f"{VISITOR_COOKIE}={visitor}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=lax" + (
        "; Secure" if secure else ""
    )


def _error(status_code: int, detail: str, *, retry: int = 0) -> LinkAnswer:
    body = json.dumps(error_body(status_code, detail)).encode()  # the API's one error shape
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if retry:
        headers.append((b"retry-after", b"%d" % retry))
    return LinkAnswer(status_code, headers, body)


def _limited(wait: float, what: str) -> LinkAnswer:
    # As grapevine.service._auth.retry_after: whole seconds, at least 1.
    detail = f"rate limit of this {what} reached: retry in {wait:.2f} s"
    return _error(status.HTTP_429_TOO_MANY_REQUESTS, detail, retry=max(1, math.ceil(wait)))


class LinkAnswer(NamedTuple):
    """The whole answer to a short-link request: status, raw headers, body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def answer_link(
    state: Any,
    *,
    method: str,
    code: str,
    to: str | None,
    channel: str | None = None,
    user_agent: str | None,
    visitor: str | None,
    client_host: str | None,
    https: bool,
) -> LinkAnswer:
    """Resolve ``code``, hand its click to the writer and build the redirect.

    ``state`` is the app's state (settings, link cache, click writer, rate limiter). Shared
    by the route and :class:`LinkFastPath`, so both answer byte for byte alike; the answer
    carries the security headers already (the fast path runs outside
    :class:`~grapevine.service._headers.SecurityHeaders`, which then adds nothing).
    """
    https = https or state.settings.public_https
    answer = await _answer(
        state,
        method=method,
        code=code,
        to=to,
        channel=channel,
        user_agent=user_agent,
        visitor=visitor,
        client_host=client_host,
        https=https,
    )
    answer.headers.extend(_SECURE if https else _PLAIN)
    return answer


async def _answer(
    state: Any,
    *,
    method: str,
    code: str,
    to: str | None,
    channel: str | None = None,
    user_agent: str | None,
    visitor: str | None,
    client_host: str | None,
    https: bool,
) -> LinkAnswer:
    settings: Settings = state.settings
    if settings.ip_salt is None or not settings.ip_salt.get_secret_value():
        return _error(503, _NO_SALT)
    # In-process token buckets (GRAPEVINE_RATE_LIMIT_REDIRECT_PER_IP / _PER_CODE): a dict
    # lookup and a little arithmetic, no I/O, so the fast path stays fast.
    limiter: RateLimiter = state.rate_limiter
    wait = limiter.check("redirect_ip", client_host or "unknown")
    if wait > 0:
        return _limited(wait, "client address")
    try:
        normal = rf.normalize_code(code)
    except BadInput:
        return _error(404, _NOT_FOUND)
    wait = limiter.check("redirect_code", normal)
    if wait > 0:
        return _limited(wait, "referral code")
    cache: LinkCache = state.link_cache
    link = cache.get(normal)
    if link is None:
        link = await run_in_threadpool(cache.load, normal)
        if link is None:
            return _error(404, _NOT_FOUND)
    if visitor is None or not _VISITOR.fullmatch(visitor):
        visitor = secrets.token_urlsafe(18)
    click = Click(
        campaign_id=link.campaign_id,
        code=normal,
        referrer_id=link.person_id,
        time=time.time(),
        visitor_id=visitor,
        traffic=_traffic(method, user_agent),
        ip_hash=None
        if client_host is None
        else _ip_hash(client_host, settings.ip_salt.get_secret_value()),
        user_agent=(user_agent or "")[:512] or None,
        channel=channel if channel in rf.CHANNELS else None,
    )
    writer: ClickWriter = state.click_writer
    try:
        # Queued (default) or committed (durable); a full queue applies backpressure.
        await writer.record(click, room_wait=_ROOM_WAIT)
    except StoreError:
        return _error(503, "the click cannot be recorded right now; try again", retry=1)
    target = (
        link.default_target
        if to is None
        else rf.resolve_destination(link.destinations, to, params={"ref": normal})
    )
    headers = [
        (b"location", quote(target, safe=_URL_SAFE).encode("latin-1")),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
        (b"set-cookie", _cookie(visitor, int(link.window_seconds), https).encode("latin-1")),
    ]
    return LinkAnswer(status.HTTP_307_TEMPORARY_REDIRECT, headers, b"")


@router.head(
    "/r/{code}",
    response_class=RedirectResponse,
    operation_id="head_referral_link",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={404: {"description": "Unknown or disabled code"}, **LIMIT_RESPONSES},
)
@router.get(
    "/r/{code}",
    response_class=RedirectResponse,
    operation_id="follow_referral_link",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={
        404: {"description": "Unknown or disabled code"},
        503: {"description": "Referral links not configured, or clicks cannot be recorded"},
        **LIMIT_RESPONSES,
    },
)
async def follow_link(
    code: str, request: Request, to: str | None = None, ch: str | None = None
) -> Response:
    """Record a click on ``code`` and redirect (307) to an allowlisted destination.

    ``to`` may ask for another page; :func:`grapevine.referrals.resolve_destination` keeps it
    only when its origin is on the campaign's allowlist. ``ch`` names the channel the link
    was shared on (one of :data:`grapevine.referrals.CHANNELS`; anything else is ignored).
    Every other query parameter is ignored. HEAD requests and link-preview or bot user
    agents are recorded as clicks with their ``traffic`` class, never as human clicks. The
    click is committed in a group commit: after the answer by default (a crash can lose the
    clicks not yet committed), before it with ``GRAPEVINE_DURABLE_CLICKS`` (a 503 when the
    commit fails or takes over 5 s).
    """
    answer = await answer_link(
        request.app.state,
        method=request.method,
        code=code,
        to=to,
        channel=ch,
        user_agent=request.headers.get("user-agent"),
        visitor=request.cookies.get(VISITOR_COOKIE),
        client_host=None if request.client is None else request.client.host,
        https=request.url.scheme == "https",
    )
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers = answer.headers
    return response


class LinkFastPath:
    """ASGI middleware answering ``GET|HEAD /r/{code}`` before FastAPI's routing.

    The route above is the documented contract (OpenAPI) and answers the same through
    :func:`answer_link`; this skips the request parsing, routing and dependency machinery,
    which cost several times the redirect's own work (see docs/referrals.md, Performance).
    Anything else, a path with a further ``/`` included, goes on to the app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        method = scope.get("method", "")
        if not path.startswith("/r/") or "/" in path[3:] or method not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        user_agent = cookie = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"cookie" and cookie is None:
                cookie = value.decode("latin-1")
        query = scope.get("query_string", b"")
        to = channel = None
        if query:
            pairs = parse_qsl(query.decode("latin-1"))
            to = next((v for k, v in reversed(pairs) if k == "to"), None)
            channel = next((v for k, v in reversed(pairs) if k == "ch"), None)
        client = scope.get("client")
        answer = await answer_link(
            scope["app"].state,
            method=method,
            code=path[3:],
            to=to,
            channel=channel,
            user_agent=user_agent,
            visitor=cookie_parser(cookie).get(VISITOR_COOKIE) if cookie else None,
            client_host=None if client is None else client[0],
            https=scope.get("scheme") == "https",
        )
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})
