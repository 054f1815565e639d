"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from grapevine import __version__
from grapevine.config import Settings, get_settings
from grapevine.dashboard import install_dashboard
from grapevine.referrals import ReplayCache
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._bodylimit import BodyLimit
from grapevine.service._clicks import ClickWriter, LinkCache, clicks_committed
from grapevine.service._edge import PublicOrigin
from grapevine.service._errors import UnhandledErrors, install_error_handlers
from grapevine.service._headers import SecurityHeaders, security_headers
from grapevine.service._misses import MissCounter
from grapevine.service._outbound import OutboundDispatcher
from grapevine.service._ratelimit import RateLimiter, parse_rate
from grapevine.service.deps import (
    AdminKey,
    SessionDep,
    StoreDep,
    ip_rate_limit,
    page_rate_limit,
)
from grapevine.service.routers import (
    campaigns,
    coupons,
    events,
    keys,
    links,
    outbound,
    pages,
    payouts,
    persons,
    redirects,
    review,
    unsubscribe,
    webhook_secrets,
    webhooks,
)
from grapevine.store import Store, erasure_repo, persons_repo

__all__ = ["create_app"]


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
        app.state.link_misses = MissCounter(app.state.store.engine)
        app.state.click_writer = ClickWriter(
            app.state.store.engine,
            flush_interval=settings.click_flush_ms / 1000.0,
            max_batch=settings.click_max_batch,
            max_queue=settings.click_max_queue,
            durable=settings.durable_clicks,
        ).start()
        # Delivers the outbox (e-mail, webhooks, alerts); GRAPEVINE_OUTBOUND_POLL_SECONDS=0: off.
        app.state.outbound = OutboundDispatcher(app.state.store.engine, settings).start()
        try:
            yield
        finally:
            await app.state.outbound.close()
            app.state.click_writer.close()  # drains: a graceful stop loses no click
            app.state.link_misses.flush()
            if owned:
                app.state.store.close()

    # /docs is served below from the package's own copy of Swagger UI (no CDN, no inline
    # script); ReDoc and the OAuth2 redirect page, which would load or inline scripts, are off.
    app = FastAPI(
        title="Grapevine",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    # In-process: several workers need a shared replay store (see docs/referrals.md).
    app.state.replay_cache = ReplayCache()
    # Token buckets, in-process or in Redis (see _ratelimit.py); redirects may use it too.
    app.state.rate_limiter = RateLimiter(
        per_key=parse_rate(settings.rate_limit_per_key),
        per_ip=parse_rate(settings.rate_limit_per_ip),
        redis_url=settings.redis_url,
        limits={
            "redirect_ip": parse_rate(settings.rate_limit_redirect_per_ip),
            "redirect_code": parse_rate(settings.rate_limit_redirect_per_code),
            "pages_ip": parse_rate(settings.rate_limit_pages_per_ip),
            "pages_token": parse_rate(settings.rate_limit_pages_per_token),
        },
        local=("redirect_ip", "redirect_code"),  # the async redirect never waits on Redis
    )

    # One error shape for every answer (service/_errors.py), declared in /openapi.json.
    install_error_handlers(app)

    app.mount("/static", StaticFiles(directory=str(pages.STATIC_DIR)), name="static")
    limited = (
        campaigns, events, webhooks, keys, persons, review, webhook_secrets, outbound, links,
        coupons, payouts,
    )  # fmt: skip
    for module in (
        campaigns,
        redirects,
        events,
        webhooks,
        pages,
        keys,
        persons,
        review,
        webhook_secrets,
        outbound,
        unsubscribe,
        links,
        coupons,
        payouts,
    ):
        # Routes that read clicks first wait for the clicks accepted before them.
        waits = [] if module is redirects else [Depends(clicks_committed)]
        limits = [Depends(ip_rate_limit)] if module in limited else []
        if module is pages or module is unsubscribe:  # per address and per page token
            limits = [Depends(page_rate_limit)]
        app.include_router(module.router, dependencies=[*limits, *waits])
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Host (and, with GRAPEVINE_PUBLIC_URL, the scheme) from the settings, never the client.
    app.add_middleware(PublicOrigin, settings=settings)
    app.add_middleware(SecurityHeaders, https=settings.public_https)
    # GET|HEAD /r/{code} answered before FastAPI's routing (the route documents it); its
    # answers carry the security headers themselves.
    app.add_middleware(redirects.LinkFastPath)
    # Outermost: a bug's 500 in the error shape, with the security headers, traceback logged.
    app.add_middleware(
        UnhandledErrors,
        headers=security_headers(),
        https_headers=security_headers(https=True),
        https=settings.public_https,
    )

    # The dashboard's pages at /, /listening..., its login and its files at /assets.
    install_dashboard(app)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """The API's interactive docs, from the package's copy of Swagger UI."""
        return pages.templates.TemplateResponse(
            request, "docs.html", {"title": f"{app.title} API", "openapi_url": app.openapi_url}
        )

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
            if p["platform"] not in (persons_repo.EMAIL_PLATFORM, persons_repo.ERASED_PLATFORM)
        ]
        figures.update(erasure_repo.tenant_counts(session, tenant_id=key.tenant_id))
        return figures

    return app
