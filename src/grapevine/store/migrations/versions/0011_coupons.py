"""coupons at checkout (issued discount codes, code pools, shop connections)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

Three tables: ``shop_connections`` (a tenant's sealed Stripe or Shopify credentials),
``coupon_offers`` (the shop-side coupon of a campaign offer) and ``coupons`` (every
discount code: imported pool codes, codes issued through a shop, store credit).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "shop_connections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("shop", sa.String(length=255), nullable=True),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("webhook_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        _fk("shop_connections", "tenant_id", "tenants", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_connections")),
        sa.UniqueConstraint("tenant_id", "provider", name=op.f("uq_shop_connections_tenant_id")),
    )
    op.create_table(
        "coupon_offers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("coupon_offers", "campaign_id", "campaigns", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_offers")),
        sa.UniqueConstraint(
            "campaign_id", "provider", "fingerprint", name=op.f("uq_coupon_offers_campaign_id")
        ),
    )
    op.create_table(
        "coupons",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=400), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("referrer_id", _ID, nullable=True),
        sa.Column("referral_code", sa.String(length=64), nullable=True),
        sa.Column("reward_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=True),
        sa.Column("redeemed_at", sa.Float(), nullable=True),
        sa.Column("order_id", sa.String(length=255), nullable=True),
        _fk("coupons", "campaign_id", "campaigns", "CASCADE"),
        _fk("coupons", "person_id", "persons", "SET NULL"),
        _fk("coupons", "referrer_id", "persons", "SET NULL"),
        _fk("coupons", "reward_id", "rewards", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("campaign_id", "code", name="uq_coupons_campaign_id_code"),
        sa.UniqueConstraint("campaign_id", "holder", name="uq_coupons_campaign_id_holder"),
        sa.UniqueConstraint("reward_id", name=op.f("uq_coupons_reward_id")),
    )
    op.create_index("ix_coupons_campaign_status", "coupons", ["campaign_id", "status"])
    op.create_index("ix_coupons_external_id", "coupons", ["external_id"])


def downgrade() -> None:
    op.drop_index("ix_coupons_external_id", table_name="coupons")
    op.drop_index("ix_coupons_campaign_status", table_name="coupons")
    op.drop_table("coupons")
    op.drop_table("coupon_offers")
    op.drop_table("shop_connections")
