"""Who is looking: the signed-in user (or the demo visitor), their roles, CSRF tokens.

- A session is a random token in the ``gv_session`` cookie (HttpOnly, SameSite=Lax,
  Secure when the service is public over https); the store keeps its sha256 and the
  session's CSRF token (``store/dashboard_repo.py``).
- Every unsafe request (POST, PUT, PATCH, DELETE) to a dashboard route must carry the CSRF
  token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it:
  the layout sets ``hx-headers`` on ``<body>``), and an ``Origin``, when the browser sends
  one, of this service. Without a session (the login form, demo mode) the token is the
  ``gv_csrf`` cookie's (double submit).
- Demo mode (``GRAPEVINE_DASHBOARD_DEMO=1``, set by ``grapevine demo``) skips the login
  only while the service listens on a loopback address and the request comes from this
  machine; the demo visitor is an admin of every tenant.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.store import Store, dashboard_repo, tenants_repo

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "DbSession",
    "Editor",
    "LoginRequired",
    "Viewer",
    "ViewerDep",
    "csrf_cookie_token",
    "csrf_guard",
    "current_viewer",
    "demo_allowed",
    "require",
    "settings_of",
]

SESSION_COOKIE = "gv_session"
CSRF_COOKIE = "gv_csrf"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """No signed-in user (the dashboard answers with the login page)."""


@dataclass
class Viewer:
    """The person looking at a page.

    ``roles`` maps tenant slug to role; ``demo`` is the demo visitor (admin everywhere);
    ``csrf_token`` goes into every form; ``new_csrf_cookie`` is set when the response must
    set the ``gv_csrf`` cookie (a first visit without a session).
    """

    username: str
    roles: dict[str, str]
    csrf_token: str
    demo: bool = False
    new_csrf_cookie: bool = False
    tenants: list[str] = field(default_factory=list)

    def role(self, tenant: str | None = None) -> str | None:
        """The role in ``tenant``; without one, the strongest role anywhere."""
        if tenant is not None:
            return self.roles.get(tenant)
        ranked = sorted(self.roles.values(), key=dashboard_repo.DASHBOARD_ROLES.index)
        return ranked[-1] if ranked else None

    def can(self, needed: str, tenant: str | None = None) -> bool:
        """Whether the viewer holds ``needed`` (viewer, editor, admin) in ``tenant`` (any
        tenant when None: the listening data is the installation's, not a tenant's)."""
        return dashboard_repo.role_at_least(self.role(tenant), needed)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db(request: Request) -> Iterator[Session]:
    store: Store = request.app.state.store
    with Session(store.engine, expire_on_commit=False) as session:
        yield session


DbSession = Annotated[Session, Depends(_db)]
"""One SQLAlchemy session per request (rolled back unless the route commits)."""


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def demo_allowed(request: Request) -> bool:
    """Demo mode is on, the service listens on loopback and the client is this machine."""
    settings = settings_of(request)
    client = request.client.host if request.client else None
    return settings.dashboard_demo and _loopback(settings.host) and _loopback(client)


def csrf_cookie_token(request: Request) -> tuple[str, bool]:
    """The ``gv_csrf`` cookie's token, or a new one (then True: the answer must set it)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 128 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def current_viewer(request: Request, session: Session) -> Viewer | None:
    """The viewer of ``request`` (cached on ``request.state``), or None when signed out."""
    if hasattr(request.state, "dashboard_viewer"):
        cached: Viewer | None = request.state.dashboard_viewer
        return cached
    viewer: Viewer | None = None
    token = request.cookies.get(SESSION_COOKIE)
    found = dashboard_repo.find_session(session, token=token) if token else None
    if found is not None:
        viewer = Viewer(found.user.username, dict(found.user.roles), found.csrf_token)
        viewer.tenants = sorted(found.user.roles)
    elif demo_allowed(request):
        csrf, new = csrf_cookie_token(request)
        slugs = [t.slug for t in tenants_repo.list_tenants(session)]
        viewer = Viewer("demo", dict.fromkeys(slugs, "admin"), csrf, demo=True)
        viewer.new_csrf_cookie, viewer.tenants = new, slugs
    request.state.dashboard_viewer = viewer
    return viewer


def _viewer(request: Request, session: DbSession) -> Viewer:
    viewer = current_viewer(request, session)
    if viewer is None:
        raise LoginRequired()
    if not viewer.roles and not viewer.demo:
        raise HTTPException(403, "you have no role in any tenant: ask an administrator")
    return viewer


ViewerDep = Annotated[Viewer, Depends(_viewer)]
"""The signed-in viewer; a signed-out browser is sent to the login page, a user without a
role in any tenant is refused (403)."""


def require(role: str) -> Callable[[Viewer], Viewer]:
    """A dependency: the viewer, who must hold ``role`` in some tenant (403 otherwise;
    tenant-scoped pages check :meth:`Viewer.can` with the picked tenant themselves)."""

    def dependency(viewer: ViewerDep) -> Viewer:
        if not viewer.can(role):
            raise HTTPException(403, f"this needs the {role} role")
        return viewer

    return dependency


Editor = Annotated[Viewer, Depends(require("editor"))]
"""The viewer, who may act (an editor or admin of some tenant)."""


def _same_origin(request: Request, origin: str) -> bool:
    parts = urlsplit(origin)
    settings = settings_of(request)
    allowed = {request.url.netloc}
    if settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc)
    return parts.netloc in allowed


async def csrf_guard(request: Request, session: DbSession) -> None:
    """Refuse (403) an unsafe request without the right CSRF token or from another origin.

    Every dashboard router is included with this dependency; safe methods pass.
    """
    if request.method not in _UNSAFE:
        return
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(request, origin):
        raise HTTPException(403, "cross-origin form refused")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached: the route's Form(...) fields read it again
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    viewer = current_viewer(request, session)
    if viewer is not None and not viewer.demo:
        expected = viewer.csrf_token
    else:
        expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
