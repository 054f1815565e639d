"""friendly edges (landing pages, branding)

A tenant's landing page (tenant_pages) and the short-link misses counted per day, reason
and campaign (link_misses). A campaign's page settings live in its rules (JSON).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tenant_pages",
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("landing_url", sa.String(length=2048), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_pages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_pages")),
    )
    op.create_table(
        "link_misses",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", _ID, nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_link_misses_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_misses")),
        sa.UniqueConstraint("key", name=op.f("uq_link_misses_key")),
    )
    op.create_index("ix_link_misses_campaign", "link_misses", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_link_misses_campaign", table_name="link_misses")
    op.drop_table("link_misses")
    op.drop_table("tenant_pages")
