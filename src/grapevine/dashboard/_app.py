"""Mounting the dashboard on the service's app: pages, login, static files.

:func:`install_dashboard` is the one thing the app factory calls. Each page module under
``grapevine.dashboard.pages`` has a ``router``; :data:`PAGE_MODULES` lists them in the
order they are included. Every router is included with :func:`csrf_guard`, so no form can
forget its CSRF check.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from grapevine.dashboard import _login
from grapevine.dashboard._access import LoginRequired, csrf_guard
from grapevine.dashboard._render import ASSETS_PATH, STATIC_DIR, html_error
from grapevine.errors import BadInput, Conflict, GrapevineError, InvalidParameter, NotFound

__all__ = ["PAGE_MODULES", "install_dashboard"]

PAGE_MODULES: tuple[str, ...] = (
    "grapevine.dashboard.pages.overview",
    "grapevine.dashboard.pages.listening",
    "grapevine.dashboard.pages.inbox",
    "grapevine.dashboard.pages.spread",
    "grapevine.dashboard.pages.people",
    "grapevine.dashboard.pages.campaigns",
    "grapevine.dashboard.pages.planner",
)
"""The page modules, each with a ``router`` (add a new page here)."""


def _dashboard_route(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    module = getattr(endpoint, "__module__", "") or ""
    return module.startswith("grapevine.dashboard")


def _status(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return exc.status_code, detail
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return 400, f"{field}: {first.get('msg', 'invalid')}"
    if isinstance(exc, BadInput | InvalidParameter):
        return 400, str(exc)
    if isinstance(exc, NotFound):
        return 404, str(exc)
    if isinstance(exc, Conflict):
        return 409, str(exc)
    return 500, "The dashboard failed to answer this request; the error was logged."


def _html_errors(app: FastAPI, kind: type[Exception]) -> None:
    """Answer ``kind`` raised by a dashboard page with an HTML error page (a browser asked
    for a page, not JSON); every other route keeps the app's own handler."""
    previous = app.exception_handlers.get(kind)

    async def handler(request: Request, exc: Exception) -> Response:
        if _dashboard_route(request) or previous is None:
            status, message = _status(exc)
            headers = getattr(exc, "headers", None) or {}
            response = html_error(request, status, message)
            response.headers.update(headers)
            return response
        answer = previous(request, exc)
        if inspect.isawaitable(answer):
            answer = await answer
        assert isinstance(answer, Response)
        return answer

    app.add_exception_handler(kind, handler)


async def _login_required(request: Request, exc: Exception) -> Response:
    target = "/login?next=" + quote(
        request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe=""
    )
    if request.headers.get("hx-request"):  # htmx follows HX-Redirect with a full page load
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


_log = logging.getLogger(__name__)


def _warm(store: Any) -> None:
    from grapevine.dashboard._views import warm_pages

    try:
        done = warm_pages(store)
    except Exception:  # the store closed under it, or a platform's data is unusable
        _log.warning("warming the dashboard's figures stopped", exc_info=True)
    else:
        _log.info("dashboard figures computed ahead: %s", "; ".join(done) or "nothing to do")


def _warm_at_startup(app: FastAPI) -> None:
    """Once the app has started (and opened its store), compute the spread and people
    pages' first figures in a background thread, so that the first view of a freshly
    started server is answered from the cache; a request that comes earlier waits for the
    same computation rather than repeating it."""
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with outer(app_) as state:
            store = getattr(app_.state, "store", None)
            if store is not None:
                threading.Thread(
                    target=_warm, args=(store,), name="grapevine-dashboard-warm", daemon=True
                ).start()
            yield state

    app.router.lifespan_context = lifespan


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard to ``app``: its pages at ``/``, ``/listening``... , the login at
    ``/login``, its static files at ``/assets``. ``app.state`` must hold ``settings`` and,
    once started, ``store`` (as :func:`grapevine.service.create_app` sets them); once the
    app has started, the pages' first figures are computed in a background thread."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(STATIC_DIR)), name="dashboard_static")
    app.add_exception_handler(LoginRequired, _login_required)
    for kind in (GrapevineError, RequestValidationError, StarletteHTTPException):
        _html_errors(app, kind)
    guard = [Depends(csrf_guard)]
    app.include_router(_login.router, dependencies=guard)
    for name in PAGE_MODULES:
        module = importlib.import_module(name)
        app.include_router(module.router, dependencies=guard)
    _warm_at_startup(app)
