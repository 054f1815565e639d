"""Every query of the dashboard's access tables: users, roles, sessions, failed logins.

Passwords are hashed with argon2 (pwdlib's recommended parameters); a session token is a
random 32-byte string whose sha256 alone is stored. Functions take a session and
keyword-only arguments; the caller commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from grapevine.errors import InvalidParameter, NotFound
from grapevine.store.dashboard_models import (
    DASHBOARD_ROLES,
    DashboardLoginAttempt,
    DashboardRole,
    DashboardSession,
    DashboardUser,
)
from grapevine.store.models import Tenant

__all__ = [
    "DASHBOARD_ROLES",
    "SessionInfo",
    "UserInfo",
    "add_user",
    "check_password",
    "count_failures",
    "end_session",
    "find_session",
    "list_users",
    "record_failure",
    "remove_user",
    "role_at_least",
    "start_session",
]

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PASSWORD = 10
"""Shortest password accepted (characters)."""


@cache
def _hasher():  # type: ignore[no-untyped-def]
    from pwdlib import PasswordHash

    return PasswordHash.recommended()  # argon2id


# A hash to verify against when the user does not exist, so that an unknown name costs
# the same time as a wrong password (no user enumeration by timing).
@cache
def _dummy_hash() -> str:
    value: str = _hasher().hash(secrets.token_urlsafe(16))
    return value


@dataclass(frozen=True)
class UserInfo:
    """A dashboard user and their role in each tenant (slug -> role)."""

    id: int
    username: str
    roles: dict[str, str]
    created_at: float
    last_login_at: float | None


@dataclass(frozen=True)
class SessionInfo:
    """A signed-in browser: who, with which roles, its CSRF token and its expiry."""

    user: UserInfo
    csrf_token: str
    expires_at: float


def role_at_least(role: str | None, needed: str) -> bool:
    """Whether ``role`` grants what ``needed`` does (viewer < editor < admin).

    >>> role_at_least("admin", "editor"), role_at_least("viewer", "editor")
    (True, False)
    """
    if role is None:
        return False
    return DASHBOARD_ROLES.index(role) >= DASHBOARD_ROLES.index(needed)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _roles(session: Session, user_id: int) -> dict[str, str]:
    rows = session.execute(
        select(Tenant.slug, DashboardRole.role)
        .join(Tenant, Tenant.id == DashboardRole.tenant_id)
        .where(DashboardRole.user_id == user_id)
        .order_by(Tenant.slug)
    )
    return {slug: role for slug, role in rows}


def _info(session: Session, user: DashboardUser) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        roles=_roles(session, user.id),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    tenant: str,
    role: str,
    now: float | None = None,
) -> UserInfo:
    """Create ``username`` with ``role`` in ``tenant`` or, when the user exists, give them
    that role in that tenant (the password is then left as it is unless ``password`` is
    non-empty, which replaces it).

    Raises
    ------
    InvalidParameter
        A malformed name, a password shorter than :data:`MIN_PASSWORD`, an unknown role.
    NotFound
        No tenant with that slug.
    """
    if not _USERNAME.match(username):
        raise InvalidParameter(
            "username",
            "add_user",
            "1-64 letters, digits or ._@+- (a letter or digit first)",
            username,
        )
    if role not in DASHBOARD_ROLES:
        raise InvalidParameter("role", "add_user", f"one of {', '.join(DASHBOARD_ROLES)}", role)
    tenant_row = session.scalar(select(Tenant).where(Tenant.slug == tenant))
    if tenant_row is None:
        raise NotFound("tenant", tenant)
    user = session.scalar(select(DashboardUser).where(DashboardUser.username == username))
    if (user is None or password) and len(password) < MIN_PASSWORD:
        raise InvalidParameter("password", "add_user", f"at least {MIN_PASSWORD} characters", "***")
    if user is None:
        user = DashboardUser(
            username=username,
            password_hash=_hasher().hash(password),
            created_at=time.time() if now is None else now,
        )
        session.add(user)
        session.flush()
    elif password:
        user.password_hash = _hasher().hash(password)
        # A new password signs out every browser of the old one.
        session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))
    grant = session.scalar(
        select(DashboardRole).where(
            DashboardRole.user_id == user.id, DashboardRole.tenant_id == tenant_row.id
        )
    )
    if grant is None:
        session.add(DashboardRole(user_id=user.id, tenant_id=tenant_row.id, role=role))
    else:
        grant.role = role
    session.flush()
    return _info(session, user)


def list_users(session: Session) -> list[UserInfo]:
    """Every user, by name, with their roles."""
    users = session.scalars(select(DashboardUser).order_by(DashboardUser.username))
    return [_info(session, user) for user in users]


def remove_user(session: Session, *, username: str, tenant: str | None = None) -> UserInfo:
    """Remove ``username`` (with their sessions), or only their role in ``tenant``; the
    user as they were before.

    Raises
    ------
    NotFound
        No such user, or no role of theirs in that tenant.
    """
    user = session.scalar(select(DashboardUser).where(DashboardUser.username == username))
    if user is None:
        raise NotFound("dashboard user", username)
    before = _info(session, user)
    if tenant is None:
        session.execute(delete(DashboardSession).where(DashboardSession.user_id == user.id))
        session.execute(delete(DashboardRole).where(DashboardRole.user_id == user.id))
        session.delete(user)
    else:
        if tenant not in before.roles:
            raise NotFound("role", f"{username}@{tenant}")
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
        session.execute(
            delete(DashboardRole).where(
                DashboardRole.user_id == user.id, DashboardRole.tenant_id == tenant_id
            )
        )
    session.flush()
    return before


def check_password(
    session: Session, *, username: str, password: str, now: float | None = None
) -> UserInfo | None:
    """The user when ``password`` is theirs, else None (an unknown name takes as long as
    a wrong password). A successful check records the login time and, when pwdlib's
    parameters have changed since the hash was made, rehashes."""
    user = session.scalar(select(DashboardUser).where(DashboardUser.username == username))
    if user is None:
        _hasher().verify(password, _dummy_hash())
        return None
    valid, updated = _hasher().verify_and_update(password, user.password_hash)
    if not valid:
        return None
    if updated is not None:
        user.password_hash = updated
    user.last_login_at = time.time() if now is None else now
    session.flush()
    return _info(session, user)


def start_session(
    session: Session, *, user_id: int, lifetime: float, now: float | None = None
) -> tuple[str, SessionInfo]:
    """Open a session for ``user_id``: the cookie's token (shown once) and the session.
    Expired sessions of every user are deleted on the way."""
    now = time.time() if now is None else now
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = DashboardSession(
        token_hash=_token_hash(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    user = session.get(DashboardUser, user_id)
    if user is None:
        raise NotFound("dashboard user", user_id)
    return token, SessionInfo(_info(session, user), row.csrf_token, row.expires_at)


def find_session(session: Session, *, token: str, now: float | None = None) -> SessionInfo | None:
    """The live session of a cookie's token, or None (unknown or expired)."""
    now = time.time() if now is None else now
    row = session.scalar(
        select(DashboardSession).where(DashboardSession.token_hash == _token_hash(token))
    )
    if row is None or row.expires_at <= now:
        return None
    user = session.get(DashboardUser, row.user_id)
    if user is None:
        return None
    return SessionInfo(_info(session, user), row.csrf_token, row.expires_at)


def end_session(session: Session, *, token: str) -> bool:
    """Sign a browser out; whether it was signed in."""
    result = session.execute(
        delete(DashboardSession).where(DashboardSession.token_hash == _token_hash(token))
    )
    return bool(getattr(result, "rowcount", 0))


def record_failure(
    session: Session, *, username: str, address: str, window: float, now: float | None = None
) -> None:
    """Log a failed login; attempts older than ``window`` seconds are deleted."""
    now = time.time() if now is None else now
    session.execute(delete(DashboardLoginAttempt).where(DashboardLoginAttempt.at < now - window))
    session.add(DashboardLoginAttempt(username=username[:64], address=address[:64], at=now))
    session.flush()


def count_failures(
    session: Session, *, username: str, address: str, window: float, now: float | None = None
) -> tuple[int, int]:
    """Failed logins in the last ``window`` seconds: (for this name, from this address)."""
    since = (time.time() if now is None else now) - window

    def count(*where: object) -> int:
        value = session.scalar(
            select(func.count())
            .select_from(DashboardLoginAttempt)
            .where(
                DashboardLoginAttempt.at >= since,
                *where,  # type: ignore[arg-type]
            )
        )
        return int(value or 0)

    return (
        count(DashboardLoginAttempt.username == username[:64]),
        count(DashboardLoginAttempt.address == address[:64]),
    )
