"""campaign lifecycle (status, edits, per-campaign fraud thresholds)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

A campaign gets a ``status`` (``active``, ``paused``, ``ended``; every campaign stored before
is active) with ``paused_at`` and ``ended_at``; a conversion recorded while its campaign is
paused or after it ended keeps why it earns nothing in ``referral_events.reward_note``; and
``campaign_audit`` records every creation, edit, pause, resume and end (who, when, the
fields changed). The fraud thresholds stay in ``campaigns.rules``, now editable.

Columns are added and dropped in place (``ALTER TABLE``; SQLite 3.35+ drops columns): no
table is rebuilt, so no referral row is touched (see 0003 for what a rebuild of
``campaigns`` costs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
    )
    op.add_column("campaigns", sa.Column("paused_at", sa.Float(), nullable=True))
    op.add_column("campaigns", sa.Column("ended_at", sa.Float(), nullable=True))
    op.add_column("referral_events", sa.Column("reward_note", sa.String(length=255), nullable=True))
    op.create_table(
        "campaign_audit",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_audit_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_audit")),
    )
    op.create_index("ix_campaign_audit_campaign", "campaign_audit", ["campaign_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_audit_campaign", table_name="campaign_audit")
    op.drop_table("campaign_audit")
    for table, column in (
        ("referral_events", "reward_note"),
        ("campaigns", "ended_at"),
        ("campaigns", "paused_at"),
        ("campaigns", "status"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
