"""Tenants and their API keys: every query, and the keys' hashing.

An API key reads ``gv_<prefix>_<secret>``: the 8-character ``prefix`` is public (it names the
key in listings and finds its row); the ``secret`` (43 URL-safe characters, 256 bits) is shown
once, when the key is made, and only a salted hash of it is stored. Keyword-only functions
over a :class:`~sqlalchemy.orm.Session`; they flush, they never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, InvalidParameter
from grapevine.store.models import ApiKey, Tenant

__all__ = [
    "DEFAULT_TENANT",
    "KEY_PREFIX",
    "ROLES",
    "KeyInfo",
    "authenticate",
    "create_key",
    "create_tenant",
    "find_tenant",
    "get_or_create_tenant",
    "hash_secret",
    "list_keys",
    "list_tenants",
    "parse_key",
    "revoke_key",
    "verify_secret",
]

DEFAULT_TENANT = "default"
"""The tenant that migration 0003 creates and gives the campaigns made before tenants."""

KEY_PREFIX = "gv"
"""First part of every API key (``gv_<prefix>_<secret>``), so that scanners can spot them."""

ROLES = ("admin", "read", "ingest")
"""admin: everything; read: GET routes; ingest: events and participants."""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PREFIX = re.compile(r"^[a-z0-9]{8}$")
_SCHEME = "sha256"
# Hashing a key that does not exist costs the same as checking one that does.
_DUMMY_HASH = f"{_SCHEME}$00$" + "0" * 64


@dataclass(frozen=True)
class KeyInfo:
    """Who an authenticated key speaks for."""

    key_id: int
    prefix: str
    tenant_id: int
    tenant_slug: str
    role: str


# ---------------------------------------------------------------------------- secrets
def hash_secret(secret: str, *, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex digest>`` of ``secret`` with a random 16-byte salt (or ``salt``).

    A key secret carries 256 random bits, so one salted SHA-256 is enough: a slow hash
    (scrypt, argon2) protects low-entropy passwords, and would cost every request.
    """
    salt = secrets.token_hex(16) if salt is None else salt
    digest = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time comparison)."""
    scheme, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != _SCHEME or not salt or not digest:
        return False
    expected = hash_secret(secret, salt=salt).rpartition("$")[2]
    return hmac.compare_digest(expected.encode(), digest.encode())


def parse_key(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of ``gv_<prefix>_<secret>``, or None when it is not one."""
    head, _, rest = token.strip().partition("_")
    prefix, _, secret = rest.partition("_")
    if head != KEY_PREFIX or not _PREFIX.match(prefix) or not 16 <= len(secret) <= 128:
        return None
    return prefix, secret


# ---------------------------------------------------------------------------- tenants
def _check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise InvalidParameter(
            "slug", "a tenant", "1-63 lowercase letters, digits or '-', first not '-'", slug
        )
    return slug


def create_tenant(session: Session, *, slug: str, name: str | None = None) -> Tenant:
    """Add a tenant; :class:`BadInput` when the slug is taken."""
    _check_slug(slug)
    if find_tenant(session, slug=slug) is not None:
        raise BadInput(f"a tenant {slug!r} exists", field="slug")
    tenant = Tenant(slug=slug, name=name or slug, created_at=_time.time())
    session.add(tenant)
    session.flush()
    return tenant


def find_tenant(session: Session, *, slug: str) -> Tenant | None:
    """The tenant with this slug, or None."""
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def get_or_create_tenant(session: Session, *, slug: str, name: str | None = None) -> Tenant:
    """The tenant ``slug``, added when new."""
    return find_tenant(session, slug=slug) or create_tenant(session, slug=slug, name=name)


def list_tenants(session: Session) -> Sequence[Tenant]:
    """Every tenant, oldest first."""
    return session.scalars(select(Tenant).order_by(Tenant.id)).all()


# ---------------------------------------------------------------------------- keys
def create_key(
    session: Session, *, tenant_id: int, role: str, name: str | None = None
) -> tuple[ApiKey, str]:
    """Make a key; ``(row, token)`` where ``token`` is the whole key, never stored.

    Raises
    ------
    InvalidParameter
        When ``role`` is not one of :data:`ROLES`.
    """
    if role not in ROLES:
        raise InvalidParameter("role", "an API key", f"one of {', '.join(ROLES)}", role)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while True:
        prefix = "".join(secrets.choice(alphabet) for _ in range(8))
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            break
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        tenant_id=tenant_id,
        role=role,
        prefix=prefix,
        hash=hash_secret(secret),
        name=name,
        created_at=_time.time(),
    )
    session.add(row)
    session.flush()
    return row, f"{KEY_PREFIX}_{prefix}_{secret}"


def list_keys(session: Session, *, tenant_id: int | None = None) -> Sequence[tuple[ApiKey, str]]:
    """``(key, tenant slug)`` of every key (of one tenant), oldest first."""
    query = select(ApiKey, Tenant.slug).join(Tenant, Tenant.id == ApiKey.tenant_id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return [(k, str(s)) for k, s in session.execute(query.order_by(ApiKey.id)).all()]


def revoke_key(session: Session, *, prefix: str, tenant_id: int | None = None) -> ApiKey | None:
    """Revoke the key ``prefix`` (of ``tenant_id`` when given); None when there is none.

    Revoking twice keeps the first time.
    """
    query = select(ApiKey).where(ApiKey.prefix == prefix)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    row = session.scalars(query).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = _time.time()
        session.flush()
    return row


def authenticate(
    session: Session, *, token: str, touch_after: float = 60.0, now: float | None = None
) -> KeyInfo | None:
    """The key that ``token`` is, or None (malformed, unknown, wrong secret or revoked).

    The secret is compared in constant time, and an unknown prefix costs a hash too.
    ``last_used_at`` is written (flushed, not committed) when older than ``touch_after``
    seconds, so a busy key does not write on every request.
    """
    parsed = parse_key(token)
    if parsed is None:
        return None
    prefix, secret = parsed
    row = session.execute(
        select(ApiKey, Tenant.slug)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.prefix == prefix)
    ).first()
    if row is None:
        verify_secret(secret, _DUMMY_HASH)
        return None
    key, slug = row
    if not verify_secret(secret, key.hash) or key.revoked_at is not None:
        return None
    now = _time.time() if now is None else now
    if key.last_used_at is None or now - key.last_used_at > touch_after:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return KeyInfo(
        key_id=key.id, prefix=key.prefix, tenant_id=key.tenant_id, tenant_slug=slug, role=key.role
    )
