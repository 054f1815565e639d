"""``GET|POST /login`` and ``POST /logout``: signing in and out of the dashboard.

Failed logins are counted in the store per user name and per client address over
``GRAPEVINE_DASHBOARD_LOGIN_WINDOW_SECONDS``; past ``..._FAILURES_PER_USER`` or
``..._FAILURES_PER_IP`` the form answers 429 without checking the password (so a guess
made while locked out teaches nothing), until the window has passed.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from grapevine.dashboard._access import (
    SESSION_COOKIE,
    DbSession,
    Viewer,
    csrf_cookie_token,
    current_viewer,
    settings_of,
)
from grapevine.dashboard._render import render, set_csrf_cookie
from grapevine.store import dashboard_repo

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Where to go after login: a local path only (never another site).

    >>> safe_next("/inbox?preset=7d"), safe_next("//evil.example/"), safe_next(None)
    ('/inbox?preset=7d', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _form(
    request: Request, *, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    csrf, new = csrf_cookie_token(request)
    response = render(
        request,
        "login.html",
        {"error": error, "username": username, "next": safe_next(request.query_params.get("next"))},
        viewer=None,
        csrf_token=csrf,
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    if new:  # the login form's CSRF token is the gv_csrf cookie's (double submit)
        set_csrf_cookie(request, response, csrf)
    return response


@router.get("/login")
def login_form(request: Request, session: DbSession) -> Response:
    """The sign-in form (straight to the overview when already signed in)."""
    viewer = current_viewer(request, session)
    if viewer is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _form(request)


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the password; on success open a session and go to ``next``."""
    settings = settings_of(request)
    window = settings.dashboard_login_window_seconds
    address = _client(request)
    by_user, by_address = dashboard_repo.count_failures(
        session, username=username, address=address, window=window
    )
    if (
        by_user >= settings.dashboard_login_failures_per_user
        or by_address >= settings.dashboard_login_failures_per_ip
    ):
        response = _form(
            request,
            error="Too many failed sign-ins: wait a few minutes and try again.",
            username=username,
            status_code=429,
        )
        response.headers["Retry-After"] = str(int(window))
        return response
    user = dashboard_repo.check_password(session, username=username, password=password)
    if user is None:
        dashboard_repo.record_failure(session, username=username, address=address, window=window)
        session.commit()
        return _form(
            request, error="Wrong user name or password.", username=username, status_code=401
        )
    token, _ = dashboard_repo.start_session(
        session, user_id=user.id, lifetime=settings.dashboard_session_hours * 3600.0
    )
    session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.dashboard_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.public_https or request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    """End the session (the CSRF guard has checked the form's token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        dashboard_repo.end_session(session, token=token)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def viewer_or_none(request: Request, session: DbSession) -> Viewer | None:
    """The viewer, or None when signed out (for pages that show either)."""
    return current_viewer(request, session)
