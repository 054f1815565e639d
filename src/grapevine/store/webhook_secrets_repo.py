"""Tenants' webhook signing secrets: rotation with an overlap window, and lookup.

Two kinds: ``grapevine`` signs ``POST /webhooks/{campaign_id}`` (``X-Grapevine-Signature``;
Grapevine draws the secret), ``stripe`` verifies ``POST /webhooks/stripe/{tenant}`` (the
Stripe endpoint's ``whsec_...``, which Stripe draws and the tenant hands over). A secret
verifies events of its own tenant's campaigns only.

Rotation adds a new current secret and gives every secret still verifying an expiry at the
end of the overlap window (at once with an overlap of 0), so a sender can switch within the
window without a refused delivery. Secrets are sealed (:class:`SecretBox`), never stored in
the clear. Keyword-only functions over a Session; they flush, they never commit.
"""

from __future__ import annotations

import hmac
import logging
import secrets as _secrets
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, InvalidParameter
from grapevine.store._secretbox import SecretBox, SecretUnreadable
from grapevine.store.models import Tenant, WebhookSecret

_log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_OVERLAP_SECONDS",
    "KINDS",
    "SecretBox",
    "SecretInfo",
    "SecretUnreadable",
    "active_secrets",
    "list_secrets",
    "parse_duration",
    "rotate_secret",
    "stripe_secrets_by_tenant",
]

KINDS = ("grapevine", "stripe")
"""grapevine: ``X-Grapevine-Signature`` of the campaign webhook; stripe: a Stripe endpoint."""

DEFAULT_OVERLAP_SECONDS = 86_400.0
"""How long the secrets replaced by a rotation keep verifying, by default (24 hours)."""

MAX_OVERLAP_SECONDS = 30 * 86_400.0

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}


@dataclass(frozen=True)
class SecretInfo:
    """A secret as listings show it: never the secret, only its last four characters."""

    id: int
    tenant: str
    kind: str
    hint: str
    created_at: float
    expires_at: float | None
    created_by: str | None

    def active(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


def parse_duration(text: str | float | int) -> float:
    """Seconds of ``"24h"``, ``"30m"``, ``"2d"``, ``"90s"``, ``"0"`` or a number.

    >>> parse_duration("24h"), parse_duration("0"), parse_duration(90)
    (86400.0, 0.0, 90.0)
    """
    if isinstance(text, bool):
        raise InvalidParameter("overlap", "a secret rotation", "a duration like 24h", text)
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = text.strip().lower()
        unit = _UNITS.get(raw[-1:]) if raw else None
        number = raw[:-1] if unit is not None else raw
        try:
            value = float(number) * (unit or 1.0)
        except ValueError:
            value = float("nan")
    if not 0 <= value <= MAX_OVERLAP_SECONDS:
        raise InvalidParameter(
            "overlap",
            "a secret rotation",
            "a duration in [0, 30d] such as 24h, 30m, 2d, 90s or 0",
            text,
        )
    return value


def _context(tenant_id: int, kind: str) -> str:
    return f"tenant {tenant_id} {kind}"


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidParameter("kind", "a webhook secret", f"one of {', '.join(KINDS)}", kind)
    return kind


def _check_secret(secret: str) -> str:
    if not isinstance(secret, str) or not 16 <= len(secret) <= 255 or not secret.isprintable():
        raise BadInput(
            "a webhook secret must be 16 to 255 printable characters "
            f"(got {len(secret) if isinstance(secret, str) else type(secret).__name__})",
            field="secret",
        )
    return secret


def _live(now: float) -> ColumnElement[bool]:
    """Verifying at ``now``: created by then, not expired yet."""
    return and_(
        WebhookSecret.created_at <= now,
        or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now),
    )


def rotate_secret(
    session: Session,
    *,
    tenant_id: int,
    kind: str,
    box: SecretBox,
    secret: str | None = None,
    overlap: float = DEFAULT_OVERLAP_SECONDS,
    by: str | None = None,
    now: float | None = None,
) -> tuple[WebhookSecret, str, float]:
    """Make ``secret`` (a new random one for ``grapevine`` when None) the tenant's current
    secret of ``kind``; the secrets verifying until now stop after ``overlap`` seconds.

    Returns
    -------
    (row, secret, overlap_ends)
        The new row, the secret in the clear (show it once) and when the old ones stop.

    Raises
    ------
    InvalidParameter
        An unknown ``kind`` or an ``overlap`` outside [0, 30 days].
    BadInput
        No ``secret`` for ``stripe`` (Stripe draws it), a secret of the wrong length, or a
        Stripe secret that another tenant already uses.
    """
    _check_kind(kind)
    overlap = parse_duration(overlap)
    now = _time.time() if now is None else float(now)
    if secret is None:
        if kind == "stripe":
            raise BadInput(
                "a Stripe endpoint secret comes from Stripe (whsec_...): pass it", field="secret"
            )
        secret = "gvwh_" + _secrets.token_urlsafe(32)
    _check_secret(secret)
    if kind == "stripe":
        for other_tenant, _, other in stripe_secrets_by_tenant(session, box=box, now=now):
            if other_tenant != tenant_id and any(
                hmac.compare_digest(secret.encode(), s.encode()) for s in other
            ):
                raise BadInput("this Stripe secret belongs to another tenant", field="secret")
    ends = now + overlap
    for row in session.scalars(
        select(WebhookSecret).where(
            WebhookSecret.tenant_id == tenant_id, WebhookSecret.kind == kind, _live(now)
        )
    ):
        row.expires_at = ends if row.expires_at is None else min(row.expires_at, ends)
    row = WebhookSecret(
        tenant_id=tenant_id,
        kind=kind,
        sealed=box.seal(secret, context=_context(tenant_id, kind)),
        hint=secret[-4:],
        created_at=now,
        expires_at=None,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return row, secret, ends


def active_secrets(
    session: Session, *, tenant_id: int, kind: str, box: SecretBox, now: float | None = None
) -> list[str]:
    """The tenant's secrets of ``kind`` that verify at ``now``, newest first (in the clear).

    Raises
    ------
    SecretUnreadable
        A stored secret that this ``GRAPEVINE_SECRETS_KEY`` cannot open.
    """
    _check_kind(kind)
    now = _time.time() if now is None else float(now)
    rows = session.scalars(
        select(WebhookSecret)
        .where(WebhookSecret.tenant_id == tenant_id, WebhookSecret.kind == kind, _live(now))
        .order_by(WebhookSecret.id.desc())
    ).all()
    return [box.open(r.sealed, context=_context(tenant_id, kind)) for r in rows]


def stripe_secrets_by_tenant(
    session: Session, *, box: SecretBox, now: float | None = None
) -> list[tuple[int, str, list[str]]]:
    """``(tenant id, slug, Stripe secrets verifying now)`` of every tenant that has some.

    A row this ``GRAPEVINE_SECRETS_KEY`` cannot open is left out, with a warning in the log:
    one tenant's damaged secret must not stop the others' webhooks or rotations.
    """
    now = _time.time() if now is None else float(now)
    rows = session.execute(
        select(WebhookSecret, Tenant.slug)
        .join(Tenant, Tenant.id == WebhookSecret.tenant_id)
        .where(WebhookSecret.kind == "stripe", _live(now))
        .order_by(WebhookSecret.tenant_id, WebhookSecret.id.desc())
    ).all()
    out: dict[int, tuple[str, list[str]]] = {}
    for row, slug in rows:
        try:
            secret = box.open(row.sealed, context=_context(row.tenant_id, "stripe"))
        except SecretUnreadable as exc:
            _log.warning("Stripe secret %s of tenant %r left out: %s", row.id, slug, exc)
            continue
        out.setdefault(row.tenant_id, (str(slug), []))[1].append(secret)
    return [(tid, slug, found) for tid, (slug, found) in out.items()]


def list_secrets(
    session: Session, *, tenant_id: int | None = None, kind: str | None = None
) -> Sequence[SecretInfo]:
    """Every secret (of one tenant, of one kind), oldest first; never the secret itself."""
    query = select(WebhookSecret, Tenant.slug).join(Tenant, Tenant.id == WebhookSecret.tenant_id)
    if tenant_id is not None:
        query = query.where(WebhookSecret.tenant_id == tenant_id)
    if kind is not None:
        query = query.where(WebhookSecret.kind == _check_kind(kind))
    return [
        SecretInfo(
            id=r.id,
            tenant=str(slug),
            kind=r.kind,
            hint=r.hint,
            created_at=r.created_at,
            expires_at=r.expires_at,
            created_by=r.created_by,
        )
        for r, slug in session.execute(query.order_by(WebhookSecret.id)).all()
    ]
