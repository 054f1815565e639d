"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from grapevine import __version__
from grapevine.config import Settings, get_settings
from grapevine.errors import (
    BadInput,
    GrapevineError,
    InvalidParameter,
    InvalidSignature,
    UnknownPerson,
)
from grapevine.referrals import ReplayCache
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._bodylimit import BodyLimit
from grapevine.service._clicks import ClickWriter, LinkCache, clicks_committed
from grapevine.service._ratelimit import RateLimiter, parse_rate
from grapevine.service.deps import AdminKey, SessionDep, StoreDep, ip_rate_limit
from grapevine.service.routers import (
    campaigns,
    events,
    keys,
    pages,
    persons,
    redirects,
    review,
    webhooks,
)
from grapevine.store import Store
from grapevine.store import referrals_repo as repo

__all__ = ["create_app"]


def _status(exc: GrapevineError) -> int:
    if isinstance(exc, InvalidSignature):
        return 400
    if isinstance(exc, BadInput | InvalidParameter):
        return 422
    return 404 if isinstance(exc, UnknownPerson) else 500


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the Grapevine API for ``settings`` (the environment's when omitted).

    The store is opened (and migrated) when the app starts and closed when it stops,
    unless one is passed in, which the caller then owns.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store if store is not None else Store(settings.database_url)
        app.state.link_cache = LinkCache(app.state.store.engine, ttl=settings.link_cache_seconds)
        app.state.click_writer = ClickWriter(
            app.state.store.engine,
            flush_interval=settings.click_flush_ms / 1000.0,
            max_batch=settings.click_max_batch,
            max_queue=settings.click_max_queue,
        ).start()
        try:
            yield
        finally:
            app.state.click_writer.close()  # drains: a graceful stop loses no click
            if owned:
                app.state.store.close()

    app = FastAPI(title="Grapevine", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    # In-process: several workers need a shared replay store (see docs/referrals.md).
    app.state.replay_cache = ReplayCache()
    # Token buckets, in-process or in Redis (see _ratelimit.py); redirects may use it too.
    app.state.rate_limiter = RateLimiter(
        per_key=parse_rate(settings.rate_limit_per_key),
        per_ip=parse_rate(settings.rate_limit_per_ip),
        redis_url=settings.redis_url,
    )

    @app.exception_handler(GrapevineError)
    async def _domain_error(_request: Request, exc: GrapevineError) -> JSONResponse:
        body: dict[str, Any] = {"error": type(exc).__name__, "detail": str(exc)}
        if isinstance(exc, InvalidSignature):
            body["reason"] = exc.reason
        return JSONResponse(body, status_code=_status(exc))

    app.mount("/static", StaticFiles(directory=str(pages.STATIC_DIR)), name="static")
    limited = (campaigns, events, webhooks, keys, persons, review)  # the per-IP bucket
    for module in (campaigns, redirects, events, webhooks, pages, keys, persons, review):
        # Routes that read clicks first wait for the clicks accepted before them.
        waits = [] if module is redirects else [Depends(clicks_committed)]
        limits = [Depends(ip_rate_limit)] if module in limited else []
        app.include_router(module.router, dependencies=[*limits, *waits])
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # GET|HEAD /r/{code} answered before FastAPI's routing (the route documents it).
    app.add_middleware(redirects.LinkFastPath)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/summary", dependencies=[Depends(ip_rate_limit)], responses=AUTH_RESPONSES)
    def summary(store: StoreDep, session: SessionDep, key: AdminKey) -> dict[str, Any]:
        """What the store holds (as `grapevine info`), admin keys only: the imported
        analytics data, which all tenants share, and the counts of the tenant's own
        campaigns and referral events. Referral persons and the database URL are left out."""
        figures = store.summary()
        figures.pop("url", None)
        figures["persons"] = [
            p
            for p in figures["persons"]
            if p["platform"] not in (repo.EMAIL_PLATFORM, repo.ERASED_PLATFORM)
        ]
        figures.update(repo.tenant_counts(session, tenant_id=key.tenant_id))
        return figures

    return app
