"""Every query of the coupons: shop connections, code pools, issued and redeemed codes.

Keyword-only functions over a Session; they flush, they never commit (the workflows in
:mod:`grapevine.referrals._coupons` own the transactions). Codes are kept upper-case (the
shops compare them without case), see :func:`normalize_coupon`.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grapevine.errors import BadInput
from grapevine.store._secretbox import SecretBox
from grapevine.store.coupons_models import PROVIDERS, Coupon, CouponOffer, ShopConnection
from grapevine.store.models import Campaign

__all__ = [
    "SHOP_PROVIDERS",
    "add_pool_codes",
    "coupon_counts",
    "draw_from_pool",
    "find_connection",
    "find_coupon",
    "find_coupon_by_external_id",
    "find_holder_coupon",
    "find_offer",
    "find_tenant_coupon",
    "list_connections",
    "list_coupons",
    "mark_issued",
    "mark_redeemed",
    "normalize_coupon",
    "open_credential",
    "open_webhook_secret",
    "reserve_coupon",
    "save_connection",
    "save_offer",
]

SHOP_PROVIDERS = tuple(p for p in PROVIDERS if p != "pool")
"""The providers with an API and credentials: stripe, shopify."""

MAX_CODE = 64


def normalize_coupon(code: str, *, field: str = "code") -> str:
    """A discount code as stored and compared: trimmed, upper-case, 1-64 printable
    characters without spaces.

    >>> normalize_coupon("  friend-7q2k ")
    'FRIEND-7Q2K'
    """
    value = str(code).strip().upper()
    if not value or len(value) > MAX_CODE or not value.isprintable() or " " in value:
        raise BadInput(
            f"a discount code is 1-{MAX_CODE} printable characters without spaces, not {code!r}",
            field=field,
        )
    return value


def _context(tenant_id: int, provider: str) -> str:
    return f"tenant {tenant_id} shop {provider}"


# ---------------------------------------------------------------------------- connections
def save_connection(
    session: Session,
    *,
    tenant_id: int,
    provider: str,
    secret: str,
    box: SecretBox,
    shop: str | None = None,
    base_url: str | None = None,
    webhook_secret: str | None = None,
    by: str | None = None,
    now: float | None = None,
) -> ShopConnection:
    """Store (or replace) the tenant's credential for ``provider``, sealed under ``box``,
    with the secret that signs the shop's webhooks when given."""
    if provider not in SHOP_PROVIDERS:
        raise BadInput(f"provider must be one of {', '.join(SHOP_PROVIDERS)}", field="provider")
    if not secret or len(secret) < 8:
        raise BadInput("the shop credential is missing or too short", field="secret")
    row = find_connection(session, tenant_id=tenant_id, provider=provider)
    if row is None:
        row = ShopConnection(tenant_id=tenant_id, provider=provider)
        session.add(row)
    row.sealed = box.seal(secret, context=_context(tenant_id, provider))
    row.hint = secret[-4:]
    row.webhook_sealed = (
        None
        if not webhook_secret
        else box.seal(webhook_secret, context=_context(tenant_id, provider) + " webhook")
    )
    row.shop, row.base_url, row.created_by = shop, base_url, by
    row.created_at = _time.time() if now is None else now
    session.flush()
    return row


def find_connection(session: Session, *, tenant_id: int, provider: str) -> ShopConnection | None:
    """The tenant's connection to ``provider``, if any."""
    return session.scalars(
        select(ShopConnection).where(
            ShopConnection.tenant_id == tenant_id, ShopConnection.provider == provider
        )
    ).first()


def list_connections(session: Session, *, tenant_id: int) -> Sequence[ShopConnection]:
    """The tenant's shop connections (their credentials stay sealed)."""
    return session.scalars(
        select(ShopConnection)
        .where(ShopConnection.tenant_id == tenant_id)
        .order_by(ShopConnection.provider)
    ).all()


def open_credential(row: ShopConnection, *, box: SecretBox) -> str:
    """The credential of a connection, opened (:class:`SecretUnreadable` otherwise)."""
    return box.open(row.sealed, context=_context(row.tenant_id, row.provider))


def open_webhook_secret(row: ShopConnection, *, box: SecretBox) -> str | None:
    """The shop's webhook signing secret, opened; None when none was given."""
    if row.webhook_sealed is None:
        return None
    return box.open(row.webhook_sealed, context=_context(row.tenant_id, row.provider) + " webhook")


def find_tenant_coupon(session: Session, *, tenant_id: int, code: str) -> Coupon | None:
    """The coupon with this code in any of the tenant's campaigns (the newest first)."""
    try:
        value = normalize_coupon(code)
    except BadInput:
        return None
    return session.scalars(
        select(Coupon)
        .join(Campaign, Campaign.id == Coupon.campaign_id)
        .where(Campaign.tenant_id == tenant_id, Coupon.code == value)
        .order_by(Coupon.id.desc())
    ).first()


# ---------------------------------------------------------------------------- offers
def find_offer(
    session: Session, *, campaign_id: int, provider: str, fingerprint: str
) -> CouponOffer | None:
    """The shop-side coupon made for this offer before, if any."""
    return session.scalars(
        select(CouponOffer).where(
            CouponOffer.campaign_id == campaign_id,
            CouponOffer.provider == provider,
            CouponOffer.fingerprint == fingerprint,
        )
    ).first()


def save_offer(
    session: Session, *, campaign_id: int, provider: str, fingerprint: str, external_id: str
) -> CouponOffer:
    """Remember the shop-side coupon of an offer."""
    row = CouponOffer(
        campaign_id=campaign_id,
        provider=provider,
        fingerprint=fingerprint,
        external_id=external_id,
        created_at=_time.time(),
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------- coupons
def find_coupon(session: Session, *, campaign_id: int, code: str) -> Coupon | None:
    """The campaign's coupon with this code (any case), if any."""
    try:
        value = normalize_coupon(code)
    except BadInput:
        return None
    return session.scalars(
        select(Coupon).where(Coupon.campaign_id == campaign_id, Coupon.code == value)
    ).first()


def find_coupon_by_external_id(session: Session, *, external_id: str) -> Coupon | None:
    """The coupon a shop knows by this id (a Stripe ``promo_...``), in any campaign."""
    return session.scalars(select(Coupon).where(Coupon.external_id == external_id)).first()


def find_holder_coupon(session: Session, *, campaign_id: int, holder: str) -> Coupon | None:
    """The coupon handed (or being handed) to ``holder`` in the campaign."""
    return session.scalars(
        select(Coupon).where(Coupon.campaign_id == campaign_id, Coupon.holder == holder)
    ).first()


def reserve_coupon(session: Session, *, campaign_id: int, provider: str, **values: Any) -> Coupon:
    """Add a ``pending`` coupon (code, holder, idempotency key and the rest in ``values``)."""
    row = Coupon(
        campaign_id=campaign_id,
        provider=provider,
        status="pending",
        created_at=_time.time(),
        **values,
    )
    session.add(row)
    session.flush()
    return row


def mark_issued(session: Session, *, coupon: Coupon, external_id: str | None, now: float) -> None:
    """The shop confirmed the code."""
    coupon.status, coupon.external_id, coupon.issued_at = "issued", external_id, now
    session.flush()


def draw_from_pool(
    session: Session, *, campaign_id: int, holder: str, now: float, **values: Any
) -> Coupon | None:
    """Hand the campaign's oldest ``available`` pool code to ``holder``; None when none is
    left. Two concurrent draws never get the same code (a conditional update decides)."""
    for _ in range(20):
        candidate = session.scalars(
            select(Coupon.id)
            .where(Coupon.campaign_id == campaign_id, Coupon.status == "available")
            .order_by(Coupon.id)
            .limit(1)
        ).first()
        if candidate is None:
            return None
        done = session.execute(
            update(Coupon)
            .where(Coupon.id == candidate, Coupon.status == "available")
            .values(status="issued", holder=holder, issued_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        if getattr(done, "rowcount", 0) == 1:
            row = session.get(Coupon, candidate)
            assert row is not None
            session.refresh(row)
            return row
    return None


def add_pool_codes(
    session: Session,
    *,
    campaign_id: int,
    codes: Iterable[tuple[int, str]],
    file: str,
    kind: str | None = None,
    amount: float | None = None,
    currency: str | None = None,
    expires_at: float | None = None,
) -> int:
    """Add ``(line, code)`` pairs as ``available`` pool codes; return how many.

    Raises :class:`BadInput` naming the file and line of a malformed code, a code twice in
    the file, or a code the campaign has already. Flushes only: the caller commits all of
    them or none.
    """
    seen: dict[str, int] = {}
    rows: list[tuple[int, str]] = []
    for line, raw in codes:
        try:
            code = normalize_coupon(raw)
        except BadInput as exc:
            raise BadInput(exc.message, file=file, line=line, field="code") from None
        if code in seen:
            raise BadInput(
                f"code {code!r} is also on line {seen[code]}", file=file, line=line, field="code"
            )
        seen[code] = line
        rows.append((line, code))
    existing: set[str] = set()
    values = [c for _, c in rows]
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        existing.update(
            session.scalars(
                select(Coupon.code).where(Coupon.campaign_id == campaign_id, Coupon.code.in_(chunk))
            )
        )
    for line, code in rows:
        if code in existing:
            raise BadInput(
                f"code {code!r} is in the campaign's codes already",
                file=file,
                line=line,
                field="code",
            )
    now = _time.time()
    session.add_all(
        Coupon(
            campaign_id=campaign_id,
            provider="pool",
            code=code,
            status="available",
            kind=kind,
            amount=amount,
            currency=currency,
            expires_at=expires_at,
            created_at=now,
        )
        for _, code in rows
    )
    session.flush()
    return len(rows)


def coupon_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """``status -> count`` of the campaign's coupons (``available`` is what a pool has left)."""
    rows = session.execute(
        select(Coupon.status, func.count())
        .where(Coupon.campaign_id == campaign_id)
        .group_by(Coupon.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def list_coupons(
    session: Session, *, campaign_id: int, status: str | None = None, limit: int = 1000
) -> Sequence[Coupon]:
    """The campaign's coupons (of one status), oldest first."""
    query = select(Coupon).where(Coupon.campaign_id == campaign_id)
    if status is not None:
        query = query.where(Coupon.status == status)
    return session.scalars(query.order_by(Coupon.id).limit(limit)).all()


def mark_redeemed(session: Session, *, coupon: Coupon, order_id: str | None, now: float) -> bool:
    """Mark an issued coupon redeemed by ``order_id``; False when it was not ``issued``."""
    done = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.status == "issued")
        .values(status="redeemed", redeemed_at=now, order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(coupon)
    return getattr(done, "rowcount", 0) == 1
