"""Request dependencies of the service, as ``Annotated`` aliases.

Everything comes from ``request.app.state``, filled by :func:`grapevine.service.create_app`:
nothing is created at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.referrals import ReplayCache
from grapevine.service._auth import client_ip, require, retry_after
from grapevine.service._ratelimit import RateLimiter
from grapevine.store import Store
from grapevine.store.tenants_repo import KeyInfo

__all__ = [
    "REPLAY_HEADER",
    "VISITOR_COOKIE",
    "AdminKey",
    "IngestKey",
    "IpSaltDep",
    "RateLimiterDep",
    "RawBodyDep",
    "ReadKey",
    "ReplayCacheDep",
    "SessionDep",
    "SettingsDep",
    "StoreDep",
    "ip_rate_limit",
    "ip_salt_of",
    "page_rate_limit",
]

REPLAY_HEADER = "Idempotent-Replayed"
"""Set to ``true`` on the answer to a retried event or review (same body as the first)."""

VISITOR_COOKIE = "gv_vid"
"""The attribution cookie: a random visitor id; the clicks it made are kept server-side."""


def ip_salt_of(settings: Settings) -> str | None:
    """The service secret of the device hashes, if set (the fraud checks compare them)."""
    return None if settings.ip_salt is None else settings.ip_salt.get_secret_value() or None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _session(store: Annotated[Store, Depends(_store)]) -> Iterator[Session]:
    # One session per request; routes commit, anything else is rolled back on close.
    with Session(store.engine, expire_on_commit=False) as session:
        yield session


def _replay_cache(request: Request) -> ReplayCache:
    cache: ReplayCache = request.app.state.replay_cache
    return cache


def _ip_salt(settings: Annotated[Settings, Depends(_settings)]) -> str:
    if settings.ip_salt is None or not settings.ip_salt.get_secret_value():
        raise HTTPException(
            503, "referral links are not configured: set GRAPEVINE_IP_SALT (a random secret)"
        )
    return settings.ip_salt.get_secret_value()


async def _raw_body(request: Request) -> bytes:
    # The body exactly as received, for signature checks (routes stay sync, off the loop).
    return await request.body()


def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def ip_rate_limit(request: Request) -> None:
    """The per-IP token bucket (``GRAPEVINE_RATE_LIMIT_PER_IP``): 429 with Retry-After when
    empty. Add it to a router or route with ``dependencies=[Depends(ip_rate_limit)]``."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.check_ip(client_ip(request))
    if wait > 0:
        raise retry_after(wait, "client address")


def page_rate_limit(request: Request) -> None:
    """The buckets of the pages router: per client IP (``GRAPEVINE_RATE_LIMIT_PAGES_PER_IP``)
    and, on ``/p/{token}...``, per page token (``GRAPEVINE_RATE_LIMIT_PAGES_PER_TOKEN``), so
    that neither one address nor many can flood a page or its share beacons. 429 with
    Retry-After when either is empty; the route (a beacon's event) does not run."""
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.check("pages_ip", client_ip(request))
    if wait > 0:
        raise retry_after(wait, "client address")
    token = request.path_params.get("token")
    if token is not None:
        wait = limiter.check("pages_token", str(token)[:160])  # a real token is ~40 chars
        if wait > 0:
            raise retry_after(wait, "page")


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[Store, Depends(_store)]
SessionDep = Annotated[Session, Depends(_session)]
ReplayCacheDep = Annotated[ReplayCache, Depends(_replay_cache)]
IpSaltDep = Annotated[str, Depends(_ip_salt)]
RawBodyDep = Annotated[bytes, Depends(_raw_body)]
RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]
ReadKey = Annotated[KeyInfo, Depends(require("read"))]
"""The calling key, which may read (admin, read); 401 without a valid key, 403 otherwise."""
IngestKey = Annotated[KeyInfo, Depends(require("ingest"))]
"""The calling key, which may send events and participants (admin, ingest)."""
AdminKey = Annotated[KeyInfo, Depends(require("admin"))]
"""The calling key, an admin key of its tenant."""
