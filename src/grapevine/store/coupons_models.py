"""Coupons at checkout: the shops a tenant connected, and the discount codes handed out.

``shop_connections (tenant, provider)``: a tenant's Stripe secret key or Shopify Admin API
access token, sealed under ``GRAPEVINE_SECRETS_KEY`` as the webhook secrets are
(:mod:`grapevine.store._secretbox`), never in the clear.

``coupon_offers (campaign, provider, fingerprint)``: the shop-side object one campaign offer
maps to (a Stripe Coupon), so every friend's promotion code hangs off the same one.

``coupons (campaign, code)``: one row per code. A code of an imported pool starts
``available``; a code drawn for a shop starts ``pending`` (reserved with its idempotency key
before the shop is asked, so a retry after a crash or a dropped connection asks again with
the same key and never makes two), then ``issued``; a purchase carrying it makes it
``redeemed``. ``holder`` names who it is for (``email:<normalised address>``,
``visitor:<id>``, or ``reward:<id>`` for a referrer's store credit) and is unique per
campaign: asking twice for the same friend gives the same code.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["COUPON_STATUSES", "PROVIDERS", "Coupon", "CouponOffer", "ShopConnection"]

PROVIDERS = ("stripe", "shopify", "pool")
"""Where a campaign's codes come from: a shop's API, or a pool of imported codes."""

COUPON_STATUSES = ("available", "pending", "issued", "redeemed")
"""available: an unassigned pool code; pending: reserved, the shop not yet confirmed;
issued: handed out; redeemed: used at checkout."""


class ShopConnection(Base):
    """A tenant's credentials for one shop API (``stripe`` or ``shopify``), sealed.

    ``shop`` is the Shopify shop domain (``example.myshopify.com``); ``base_url`` overrides
    the API's address (a proxy, or a local test server); ``hint`` is the credential's last
    four characters, for listings; ``webhook_sealed`` the secret that signs the shop's
    webhooks (Shopify's ``X-Shopify-Hmac-Sha256``), if given.
    """

    __tablename__ = "shop_connections"
    __table_args__ = (UniqueConstraint("tenant_id", "provider"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    shop: Mapped[str | None] = mapped_column(String(255))
    base_url: Mapped[str | None] = mapped_column(Text)
    sealed: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(String(16))
    # The shop's webhook signing secret (Shopify's app client secret), sealed the same way.
    webhook_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(255))


class CouponOffer(Base):
    """The shop-side discount of one campaign offer (a Stripe Coupon id), by fingerprint."""

    __tablename__ = "coupon_offers"
    __table_args__ = (UniqueConstraint("campaign_id", "provider", "fingerprint"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)


class Coupon(Base):
    """One discount code of a campaign: a pool code, or one issued through a shop's API."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code", name="uq_coupons_campaign_id_code"),
        UniqueConstraint("campaign_id", "holder", name="uq_coupons_campaign_id_holder"),
        Index("ix_coupons_campaign_status", "campaign_id", "status"),
        Index("ix_coupons_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str | None] = mapped_column(String(400))
    purpose: Mapped[str | None] = mapped_column(String(16))  # friend, credit
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    referral_code: Mapped[str | None] = mapped_column(String(64))
    reward_id: Mapped[int | None] = mapped_column(
        ForeignKey("rewards.id", ondelete="SET NULL"), unique=True
    )
    kind: Mapped[str | None] = mapped_column(String(16))  # percent, fixed
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    expires_at: Mapped[float | None] = mapped_column(Float)
    external_id: Mapped[str | None] = mapped_column(String(255))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[float | None] = mapped_column(Float)
    redeemed_at: Mapped[float | None] = mapped_column(Float)
    order_id: Mapped[str | None] = mapped_column(String(255))
