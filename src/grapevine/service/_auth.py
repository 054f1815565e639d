"""API keys on /api/*: who is calling (tenant and role), and whether the role may.

A key comes as ``Authorization: Bearer gv_<prefix>_<secret>`` or ``X-API-Key: gv_...``.
Missing, malformed, unknown, wrong or revoked: 401 (one answer for all, so that it tells
nothing). A role that may not: 403. The roles (:data:`grapevine.store.tenants_repo.ROLES`):

========  ==========================================================================
admin     everything of its tenant: campaigns, participants, events, stats, keys, erasure
read      GET routes
ingest    events (``POST /api/events``) and participants (``POST .../participants``)
========  ==========================================================================

Every route filters by the key's tenant; another tenant's campaign answers 404, exactly
like a campaign that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from grapevine.service._ratelimit import RateLimiter
from grapevine.store import Store
from grapevine.store.tenants_repo import KeyInfo, authenticate

__all__ = [
    "AUTH_RESPONSES",
    "LIMIT_RESPONSES",
    "SCOPES",
    "client_ip",
    "current_key",
    "require",
    "retry_after",
]

SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({"admin", "read"}),
    "ingest": frozenset({"admin", "ingest"}),
    "admin": frozenset({"admin"}),
}
"""What each kind of route needs: the roles that may call it."""

LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Rate limit reached (per key or per client address); see Retry-After.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    }
}
"""The OpenAPI answers of a rate-limited router."""

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or not a valid one (malformed, unknown, revoked)."},
    403: {"description": "The key's role may not do this."},
    404: {"description": "Not found in the key's tenant (another tenant's is not found)."},
    **LIMIT_RESPONSES,
}
"""The OpenAPI answers of a router behind API keys."""

_bearer = HTTPBearer(auto_error=False, description="An API key: gv_<prefix>_<secret>.")
_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key: gv_<prefix>_<secret>."
)


def retry_after(seconds: float, what: str) -> HTTPException:
    """The 429 answer, with ``Retry-After`` in whole seconds (at least 1)."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"rate limit of this {what} reached: retry in {seconds:.2f} s",
        headers={"Retry-After": str(max(1, math.ceil(seconds)))},
    )


def client_ip(request: Request) -> str:
    """The client's address as uvicorn saw it (``unknown`` for a unix socket)."""
    return request.client.host if request.client is not None else "unknown"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def current_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> KeyInfo:
    """The calling key (401 when there is none or it is not valid), rate limited (429)."""
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise _unauthorized("an API key is needed: Authorization: Bearer gv_... or X-API-Key")
    store: Store = request.app.state.store
    # Its own short transaction: last_used_at is kept even when the route writes nothing.
    with Session(store.engine) as session:
        key = authenticate(session, token=token)
        session.commit()
    if key is None:
        raise _unauthorized("invalid or revoked API key")
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.check_key(key.prefix)
    if wait > 0:
        raise retry_after(wait, "API key")
    request.state.api_key = key
    return key


def require(scope: str) -> Callable[[KeyInfo], KeyInfo]:
    """A dependency: the calling key, 403 unless its role is in ``SCOPES[scope]``."""
    allowed = SCOPES[scope]

    def check(key: Annotated[KeyInfo, Depends(current_key)]) -> KeyInfo:
        if key.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a {key.role} key may not do this: it needs one of {', '.join(sorted(allowed))}",
            )
        return key

    check.__name__ = f"require_{scope}"
    return check
