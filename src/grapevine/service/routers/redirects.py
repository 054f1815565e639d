"""``/r/{code}``: the personal short link. Records the click, sets the cookie, redirects.

The route is ``async`` and touches the database only on a cache miss: what a code points to
comes from the :class:`~grapevine.service._clicks.LinkCache`, and the click goes to the
:class:`~grapevine.service._clicks.ClickWriter`, which commits clicks in batches (group
commit; the durability window is stated in :mod:`grapevine.service._clicks`).

A link that cannot refer anyone (a code nobody has, a disabled code, a code of an ended
campaign) is a *miss*: it is counted per reason (:class:`~grapevine.service._misses.
MissCounter`) and sends the visitor to a landing page
(:func:`grapevine.referrals.miss_destination`), or, with none configured, answers a short
page in the visitor's language; only a client that asks for JSON gets the error shape.
"""

from __future__ import annotations

import html
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
from grapevine.service._clicks import Click, ClickWriter, Link, LinkCache
from grapevine.service._errors import error_body
from grapevine.service._headers import security_headers
from grapevine.service._misses import MissCounter
from grapevine.service._ratelimit import RateLimiter
from grapevine.service.deps import VISITOR_COOKIE

__all__ = ["VISITOR_COOKIE", "LinkAnswer", "LinkFastPath", "answer_link", "router"]

router = APIRouter(tags=["redirects"])

_VISITOR = re.compile(r"[A-Za-z0-9_-]{16,64}")
_NOT_FOUND = "unknown referral code"
_GONE = "the campaign of this referral code has ended"
_NO_SALT = "referral links are not configured: set GRAPEVINE_IP_SALT (a random secret)"
_ROOM_WAIT = 2.0  # seconds a redirect waits for room in a full click queue
_URL_SAFE = ":/%#?=@[]!$&'()*+,;"  # what starlette's RedirectResponse leaves unquoted
_PLAIN, _SECURE = security_headers(), security_headers(https=True)  # Referrer-Policy included
_HTML_PLAIN, _HTML_SECURE = security_headers(html=True), security_headers(html=True, https=True)
_HTML = b"text/html; charset=utf-8"


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


def _wants_json(accept: str | None) -> bool:
    """A client that asks for JSON and not for HTML (an API client; browsers ask for HTML)."""
    return accept is not None and "application/json" in accept and "text/html" not in accept


def _redirect(target: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> LinkAnswer:
    headers = [
        (b"location", quote(target, safe=_URL_SAFE).encode("latin-1")),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    return LinkAnswer(status.HTTP_307_TEMPORARY_REDIRECT, headers, b"")


def _page(status_code: int, body: bytes) -> LinkAnswer:
    headers = [
        (b"content-type", _HTML),
        (b"content-length", b"%d" % len(body)),
        (b"cache-control", b"no-store"),
    ]
    return LinkAnswer(status_code, headers, body)


@lru_cache(maxsize=8)
def _miss_page(language: str) -> bytes:
    texts = rf.messages(language)
    heading, message = html.escape(texts("miss.heading")), html.escape(texts("miss.message"))
    return (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><link rel="icon" href="data:,">'
        f'<title>{heading}</title><link rel="stylesheet" href="/static/style.css"></head>'
        f"<body><main><h1>{heading}</h1><p>{message}</p></main></body></html>\n"
    ).encode()


@lru_cache(maxsize=4096)
def _preview_page(preview: rf.Preview, link: str, target: str, language: str | None) -> bytes:
    """What a link-preview crawler gets: the campaign's Open Graph and Twitter card tags."""
    lang = language or rf.DEFAULT_LANGUAGE
    texts = rf.messages(lang)
    tags = [("og:type", "website"), ("og:url", link), ("og:locale", texts("og.locale"))]
    card = "summary_large_image" if preview.image else "summary"
    if preview.title:
        tags.append(("og:title", preview.title))
    if preview.description:
        tags.append(("og:description", preview.description))
    if preview.image:
        tags.append(("og:image", preview.image))
    meta = "".join(f'<meta property="{k}" content="{html.escape(v, quote=True)}">' for k, v in tags)
    meta += f'<meta name="twitter:card" content="{card}">'
    title = html.escape(preview.title or texts("preview.open"))
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}'
        f'</title>{meta}<meta name="robots" content="noindex"></head><body><p><a href="'
        f'{html.escape(target, quote=True)}">{html.escape(texts("preview.open"))}</a></p>'
        "</body></html>\n"
    ).encode()


@lru_cache(maxsize=16_384)
def _tagged(target: str, utm: tuple[str, str, str], channel: str | None) -> str:
    source, medium, campaign = utm
    return rf.add_utm(target, source=source, medium=medium, campaign=campaign, content=channel)


def _miss(
    state: Any,
    reason: str,
    *,
    link: Link | None,
    accept: str | None,
    accept_language: str | None,
) -> LinkAnswer:
    """The answer to a link that cannot refer anyone, counted under ``reason``."""
    counter: MissCounter | None = getattr(state, "link_misses", None)
    if counter is not None:
        counter.add(reason, None if link is None else link.campaign_id)
    if _wants_json(accept):
        gone = reason == "ended"
        return _error(410 if gone else 404, _GONE if gone else _NOT_FOUND)
    settings: Settings = state.settings
    target = (link.landing if link is not None else None) or settings.landing_url
    if target is not None:
        return _redirect(target)
    language = rf.choose_language(
        accept_language=accept_language, campaign=None if link is None else link.language
    )
    return _page(status.HTTP_404_NOT_FOUND, _miss_page(language))


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
    accept: str | None = None,
    accept_language: str | None = None,
) -> LinkAnswer:
    """Resolve ``code``, hand its click to the writer and build the redirect.

    ``state`` is the app's state (settings, link cache, click writer, rate limiter, miss
    counter). Shared by the route and :class:`LinkFastPath`, so both answer byte for byte
    alike; the answer carries the security headers already (the fast path runs outside
    :class:`~grapevine.service._headers.SecurityHeaders`, which then adds nothing).
    ``accept`` and ``accept_language`` (the request's headers) choose how a miss answers.
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
        accept=accept,
        accept_language=accept_language,
    )
    if answer.body[:1] == b"<":  # a page (a miss, a preview card): the pages' policy
        answer.headers.extend(_HTML_SECURE if https else _HTML_PLAIN)
    else:
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
    accept: str | None,
    accept_language: str | None,
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
        return _miss(state, "unknown", link=None, accept=accept, accept_language=accept_language)
    wait = limiter.check("redirect_code", normal)
    if wait > 0:
        return _limited(wait, "referral code")
    cache: LinkCache = state.link_cache
    link = cache.get(normal)
    if link is None:
        link = await run_in_threadpool(cache.load, normal)
        if link is None:
            return _miss(
                state, "unknown", link=None, accept=accept, accept_language=accept_language
            )
    if link.miss is not None:
        return _miss(state, link.miss, link=link, accept=accept, accept_language=accept_language)
    if visitor is None or not _VISITOR.fullmatch(visitor):
        visitor = secrets.token_urlsafe(18)
    traffic = _traffic(method, user_agent)
    channel = channel if channel in rf.CHANNELS else None
    click = Click(
        campaign_id=link.campaign_id,
        code=normal,
        referrer_id=link.person_id,
        time=time.time(),
        visitor_id=visitor,
        traffic=traffic,
        ip_hash=None
        if client_host is None
        else _ip_hash(client_host, settings.ip_salt.get_secret_value()),
        user_agent=(user_agent or "")[:512] or None,
        channel=channel,
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
    if link.utm is not None:
        target = _tagged(target, link.utm, channel)
    if link.preview is not None and traffic == "preview":
        # A link-preview crawler: the campaign's card, not the shop's page (humans never
        # get here: their traffic class is "browser").
        own = settings.public_origin() + rf.referral_path(normal)
        return _page(200, _preview_page(link.preview, own, target, link.language))
    cookie = _cookie(visitor, int(link.window_seconds), https).encode("latin-1")
    return _redirect(target, ((b"set-cookie", cookie),))


@router.head(
    "/r/{code}",
    response_class=RedirectResponse,
    operation_id="head_referral_link",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={
        404: {"description": "Unknown or disabled code, no landing page configured"},
        **LIMIT_RESPONSES,
    },
)
@router.get(
    "/r/{code}",
    response_class=RedirectResponse,
    operation_id="follow_referral_link",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={
        200: {
            "description": "A link-preview crawler, when the campaign sets a preview: its "
            "Open Graph and Twitter card tags",
            "content": {"text/html": {}},
        },
        404: {
            "description": "Unknown or disabled code and no landing page: a short HTML page, "
            "or the error shape for a client that asks for JSON only",
            "content": {"text/html": {}},
        },
        410: {"description": "The campaign has ended (clients that ask for JSON only)"},
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
    Every other query parameter is ignored. The destination gets the campaign's UTM tags
    (``utm_content`` is the channel), never replacing ``utm_*`` it already has.

    A code nobody has, a disabled code and a code of an ended campaign redirect to a
    landing page (the campaign's or its default destination for an ended campaign, the
    tenant's for a disabled code, ``GRAPEVINE_LANDING_URL`` otherwise), are counted as
    misses, and record no click; with no landing page the answer is a 404 page in the
    visitor's language, and a client whose ``Accept`` asks for JSON only gets the error
    shape (404, or 410 for an ended campaign). A link-preview crawler gets the campaign's
    preview card (200) when the campaign sets one. HEAD requests and link-preview or bot user
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
        accept=request.headers.get("accept"),
        accept_language=request.headers.get("accept-language"),
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
        user_agent = cookie = accept = accept_language = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
            elif name == b"cookie" and cookie is None:
                cookie = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
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
            accept=accept,
            accept_language=accept_language,
        )
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})
