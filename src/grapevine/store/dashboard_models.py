"""The dashboard's access tables: users, their role in each tenant, sessions, login attempts.

Natural keys: ``dashboard_users (username)``, ``dashboard_roles (user, tenant)``,
``dashboard_sessions (token_hash)``. ``dashboard_login_attempts`` is an append-only log of
failed logins, pruned as it ages; it is what the brute-force limits count.

No password and no session token is stored: a password as its argon2 hash (pwdlib), a
session token as its sha256 (the token itself only lives in the browser's cookie).
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = [
    "DASHBOARD_ROLES",
    "DashboardLoginAttempt",
    "DashboardRole",
    "DashboardSession",
    "DashboardUser",
]

DASHBOARD_ROLES = ("viewer", "editor", "admin")
"""A user's role in a tenant, weakest first: a viewer reads, an editor also acts (inbox
actions, campaign changes), an admin also manages the tenant's settings."""


class DashboardUser(Base):
    """A person who signs in to the dashboard."""

    __tablename__ = "dashboard_users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    last_login_at: Mapped[float | None] = mapped_column(Float)


class DashboardRole(Base):
    """What one user may do in one tenant."""

    __tablename__ = "dashboard_roles"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("dashboard_users.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class DashboardSession(Base):
    """A signed-in browser: the sha256 of its cookie's token, its CSRF token, its expiry."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class DashboardLoginAttempt(Base):
    """A failed login: the name tried and the client address, for the brute-force limits."""

    __tablename__ = "dashboard_login_attempts"
    __table_args__ = (
        Index("ix_dashboard_login_attempts_username", "username", "at"),
        Index("ix_dashboard_login_attempts_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)
