"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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
from grapevine.service.deps import StoreDep
from grapevine.service.routers import campaigns, events, redirects, webhooks
from grapevine.store import Store

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
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    app = FastAPI(title="Grapevine", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    # In-process: several workers need a shared replay store (see docs/referrals.md).
    app.state.replay_cache = ReplayCache()

    @app.exception_handler(GrapevineError)
    async def _domain_error(_request: Request, exc: GrapevineError) -> JSONResponse:
        body: dict[str, Any] = {"error": type(exc).__name__, "detail": str(exc)}
        if isinstance(exc, InvalidSignature):
            body["reason"] = exc.reason
        return JSONResponse(body, status_code=_status(exc))

    for module in (campaigns, redirects, events, webhooks):
        app.include_router(module.router)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/api/summary")
    def summary(store: StoreDep) -> dict[str, Any]:
        """What the store holds (the same figures as `grapevine info`)."""
        return store.summary()

    return app
