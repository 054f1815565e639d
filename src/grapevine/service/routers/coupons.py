"""``/api/shops`` and ``/api/campaigns/{id}/coupons``: shop connections, coupon settings,
code pools, and a single-use discount code per referred friend.

Thin adapters over :mod:`grapevine.referrals._coupons`. A shop that refuses is a 502 naming
the shop's message and field; a shop that does not answer after the retries a 503 (asking
again is safe: the same idempotency key goes with it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from grapevine.config import Settings
from grapevine.errors import ShopRejected, ShopUnavailable
from grapevine.referrals import _coupons as coupons
from grapevine.referrals import _shop_orders as shop_orders
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service._webhook_secrets import secret_box
from grapevine.service.deps import (
    REPLAY_HEADER,
    AdminKey,
    IngestKey,
    RawBodyDep,
    ReadKey,
    SessionDep,
    SettingsDep,
)
from grapevine.store import tenants_repo
from grapevine.store._secretbox import SecretBox

__all__ = ["router"]

router = APIRouter(tags=["coupons"], responses=AUTH_RESPONSES)

CampaignId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The campaign's id.")]
SHOP_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {"description": "The shop refused the request (its message and field)."},
    503: {"description": "The shop did not answer after the retries; asking again is safe."},
}


class ShopConnect(BaseModel):
    """A shop credential: a Stripe secret key, or a Shopify Admin API access token."""

    secret: Text = Field(min_length=8, max_length=512)
    shop: Text | None = Field(
        default=None, max_length=255, description="The Shopify shop's domain."
    )
    webhook_secret: Text | None = Field(
        default=None,
        min_length=8,
        max_length=512,
        description="Shopify: the app's client secret, which signs its order webhooks.",
    )


class ShopPublic(BaseModel):
    provider: str
    shop: str | None
    hint: str = Field(description="The credential's last four characters.")
    created_at: float


class CouponSettings(BaseModel):
    """How the campaign hands out codes (missing kind and amount: the offer's friend side)."""

    provider: Literal["stripe", "shopify", "pool"]
    kind: Literal["percent", "fixed"] | None = None
    amount: float | None = Field(default=None, gt=0, le=1e12)
    currency: str | None = Field(default=None, pattern="^[A-Za-z]{3}$")
    expires_days: float | None = Field(default=30.0, gt=0, le=3650)
    prefix: str = Field(default="FRIEND", pattern="^[A-Za-z0-9]{1,20}$")


class CouponRequest(BaseModel):
    """Who the code is for: the friend's e-mail or visitor id, and the code they came with."""

    email: Text | None = Field(default=None, max_length=320)
    visitor_id: Text | None = Field(default=None, max_length=64)
    referral_code: Text | None = Field(default=None, max_length=64)


class CouponPublic(BaseModel):
    code: str
    campaign_id: int
    provider: str
    status: str
    purpose: str | None
    referrer_id: int | None
    person_id: int | None
    kind: str | None
    amount: float | None
    currency: str | None
    expires_at: float | None
    issued_at: float | None
    redeemed_at: float | None
    order_id: str | None
    replayed: bool = False


class CouponList(BaseModel):
    counts: dict[str, int] = Field(description="Codes per status; available: left in the pool.")
    coupons: list[CouponPublic]


class PoolPublic(BaseModel):
    campaign_id: int
    added: int
    available: int


def _box(settings: Settings) -> SecretBox:
    box = secret_box(settings)
    if box is None:
        raise HTTPException(503, "shop credentials need GRAPEVINE_SECRETS_KEY: set it")
    return box


def _shop_error(exc: ShopRejected | ShopUnavailable) -> HTTPException:
    return HTTPException(502 if isinstance(exc, ShopRejected) else 503, str(exc))


@router.put("/api/shops/{provider}")
def connect_shop(
    provider: Literal["stripe", "shopify"],
    body: ShopConnect,
    session: SessionDep,
    settings: SettingsDep,
    key: AdminKey,
) -> ShopPublic:
    """Store the tenant's shop credential, sealed under ``GRAPEVINE_SECRETS_KEY`` (replaces
    an earlier one). Admin keys only."""
    info = coupons.connect_shop(
        session,
        tenant_id=key.tenant_id,
        provider=provider,
        secret=body.secret,
        shop=body.shop,
        webhook_secret=body.webhook_secret,
        box=_box(settings),
        by=f"api key {key.prefix}",
    )
    return ShopPublic(
        provider=info.provider, shop=info.shop, hint=info.hint, created_at=info.created_at
    )


@router.put("/api/campaigns/{campaign_id}/coupons/settings")
def configure(
    campaign_id: CampaignId, body: CouponSettings, session: SessionDep, key: AdminKey
) -> dict[str, Any]:
    """Set how the campaign hands out codes. Admin keys only."""
    config = coupons.configure_coupons(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        settings=body.model_dump(exclude_none=True),
    )
    return config.as_dict()


@router.post("/api/campaigns/{campaign_id}/coupons", responses=SHOP_RESPONSES)
def issue(
    campaign_id: CampaignId,
    body: CouponRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    key: IngestKey,
) -> CouponPublic:
    """The friend's single-use code, made now (through the shop, or from the pool) or the
    one they were given before (``Idempotent-Replayed: true``)."""
    try:
        issued = coupons.issue_coupon(
            session,
            campaign_id=campaign_id,
            tenant_id=key.tenant_id,
            email=body.email,
            visitor_id=body.visitor_id,
            referral_code=body.referral_code,
            box=secret_box(settings),
        )
    except (ShopRejected, ShopUnavailable) as exc:
        raise _shop_error(exc) from None
    if issued.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return CouponPublic(**issued.as_dict())


@router.get("/api/campaigns/{campaign_id}/coupons")
def list_coupons(
    campaign_id: CampaignId,
    session: SessionDep,
    key: ReadKey,
    status: Annotated[Literal["available", "pending", "issued", "redeemed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> CouponList:
    """The campaign's codes (of one status), oldest first, and the count per status."""
    rows, counts = coupons.list_coupons(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, status=status, limit=limit
    )
    return CouponList(counts=counts, coupons=[CouponPublic(**r.as_dict()) for r in rows])


@router.post(
    "/api/campaigns/{campaign_id}/coupons/pool",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def import_pool(
    campaign_id: CampaignId, raw: RawBodyDep, session: SessionDep, key: AdminKey
) -> PoolPublic:
    """Add a CSV of codes (the body, ``text/csv``) to the campaign's pool, all or nothing:
    a bad or duplicate code is a 422 naming its line. Admin keys only."""
    result = coupons.import_pool(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        data=raw,
        name="the request body",
    )
    return PoolPublic(
        campaign_id=result.campaign_id, added=result.added, available=result.available
    )


@router.post("/webhooks/shopify/{tenant}", tags=["webhooks"])
def shopify_order(
    tenant: Annotated[Text, Path(min_length=1, max_length=64)],
    raw: RawBodyDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A Shopify order webhook (``orders/create``, ``orders/paid``) of ``tenant``, verified
    with ``X-Shopify-Hmac-Sha256`` under the tenant's Shopify webhook secret: an order with
    a friend's discount code becomes a purchase credited to the referrer (once per order)."""
    row = tenants_repo.find_tenant(session, slug=tenant)
    if row is None:
        raise HTTPException(404, f"no tenant {tenant!r}")
    salt = None if settings.ip_salt is None else settings.ip_salt.get_secret_value() or None
    outcome = shop_orders.record_shopify_order(
        session,
        tenant_id=row.id,
        payload=raw,
        signature=request.headers.get(shop_orders.HMAC_HEADER, ""),
        topic=request.headers.get("X-Shopify-Topic", ""),
        box=_box(settings),
        salt=salt,
    )
    if outcome.event is None:
        return {"received": True, "ignored": outcome.ignored}
    event = outcome.event
    return {
        "received": True,
        "replayed": event.replayed,
        "event": {
            "event_id": event.event_id,
            "campaign_id": event.campaign_id,
            "referrer_id": event.referrer_id,
            "code": event.code,
            "order_id": event.order_id,
        },
    }
