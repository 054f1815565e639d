"""Rendering a dashboard page: the layout's context, the CSV downloads, the cookies.

Every page answers through :func:`render`, which adds what the layout needs (the viewer,
the nav, the period and tenant pickers, the CSRF token) and, for ``?format=csv&table=NAME``,
answers that table as CSV instead of the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from grapevine import __version__
from grapevine.dashboard._access import CSRF_COOKIE, Viewer, settings_of
from grapevine.dashboard._period import PRESETS, Period
from grapevine.dashboard._tables import Table, csv_text, csv_url

__all__ = [
    "ASSETS_PATH",
    "NAV",
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "NavItem",
    "html_error",
    "num",
    "render",
    "set_csrf_cookie",
    "templates",
    "url_with",
    "web_link",
]

STATIC_DIR = resources.files("grapevine.dashboard") / "static"
TEMPLATES_DIR = resources.files("grapevine.dashboard") / "templates"
ASSETS_PATH = "/assets"
"""Where the dashboard's static files are served (``/assets/dashboard.css``...)."""


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation: the page's key (``active=`` of :func:`render`), its
    label and path."""

    key: str
    label: str
    path: str


NAV = (
    NavItem("overview", "Overview", "/"),
    NavItem("listening", "Listening", "/listening"),
    NavItem("inbox", "Inbox", "/inbox"),
    NavItem("spread", "Spread", "/spread"),
    NavItem("people", "People", "/people"),
    NavItem("campaigns", "Campaigns", "/campaigns"),
    NavItem("planner", "Planner", "/planner"),
)
"""The pages, in the order of the navigation bar."""


def url_with(request: Request, **params: Any) -> str:
    """The page's own URL (path and query) with ``params`` replaced (None removes one).

    Templates use it for links that keep the period and the tenant:
    ``url_with(request, preset="7d", **{"from": None, "to": None})``.
    """
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    items += [(k, str(v)) for k, v in params.items() if v is not None]
    query = urlencode(items)
    return request.url.path + (f"?{query}" if query else "")


def num(value: Any) -> Any:
    """How a table cell or a figure shows a number: 12,345 · 0.123 · 1.23e+06.

    >>> num(12345), num(0.12345), num(3.0), num("x")
    ('12,345', '0.123', '3', 'x')
    """
    if isinstance(value, bool) or value is None:
        return "" if value is None else value
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1e6 else f"{value:.3g}"
    return value


def web_link(url: Any) -> str | None:
    """``url`` when it is an http(s) address (a post's link from a feed may be anything).

    >>> web_link("https://x.example/1"), web_link("javascript:alert(1)")
    ('https://x.example/1', None)
    """
    if isinstance(url, str) and url.lower().startswith(("https://", "http://")):
        return url
    return None


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["web_link"] = web_link
templates.env.globals["url_with"] = url_with
templates.env.globals["version"] = __version__
templates.env.filters["num"] = num
templates.env.globals["asset"] = lambda path: f"{ASSETS_PATH}/{path}?v={__version__}"
templates.env.globals["csv_url"] = csv_url
templates.env.globals["nav"] = NAV
templates.env.globals["presets"] = list(PRESETS)


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """Set the ``gv_csrf`` cookie (the double-submit token of forms without a session)."""
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).public_https or request.url.scheme == "https",
        path="/",
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None,
    active: str | None = None,
    period: Period | None = None,
    tenant: str | None = None,
    tables: Sequence[Table] = (),
    csrf_token: str | None = None,
    status_code: int = 200,
) -> Response:
    """The page ``template`` with ``context``, or one of ``tables`` as CSV.

    Parameters
    ----------
    viewer
        Who looks (None on the login page); gives the CSRF token and the tenant list.
    active
        The :data:`NAV` key to highlight.
    period
        Shows the period picker, set to this period.
    tenant
        Shows the tenant picker (the viewer's tenants), set to this tenant.
    tables
        The page's tables; ``?format=csv&table=NAME`` answers one of them as CSV.
    csrf_token
        The forms' token when there is no viewer (the login form).
    """
    if request.query_params.get("format") == "csv":
        name = request.query_params.get("table", "")
        for table in tables:
            if table.name == name:
                return Response(
                    csv_text(table),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{table.name}.csv"'},
                )
        raise HTTPException(404, f"no table {name!r} on this page")
    values = {
        "viewer": viewer,
        "active": active,
        "period": period,
        "tenant": tenant,
        "tables": {table.name: table for table in tables},
        "csrf_token": viewer.csrf_token if viewer is not None else csrf_token,
        **context,
    }
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    if viewer is not None and viewer.new_csrf_cookie:
        set_csrf_cookie(request, response, viewer.csrf_token)
    if viewer is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def html_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    """A plain error page in the layout (no viewer details)."""
    response = templates.TemplateResponse(
        request, "error.html", {"message": message, "viewer": None}, status_code=status_code
    )
    return response
