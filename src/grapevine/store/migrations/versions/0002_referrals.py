"""referrals: codes, participants, rewards; order, visitor and traffic on referral events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "referral_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_referral_codes_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_referral_codes_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )
    op.create_index(
        "ix_referral_codes_campaign_person", "referral_codes", ["campaign_id", "person_id"]
    )
    op.create_table(
        "participants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("payout_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_participants_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_participants_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("campaign_id", "person_id", name=op.f("uq_participants_campaign_id")),
    )
    op.create_index("ix_participants_campaign_email", "participants", ["campaign_id", "email"])
    op.create_table(
        "rewards",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("reward_key", sa.String(length=255), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        sa.Column("earned_at", sa.Float(), nullable=False),
        sa.Column("available_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_rewards_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_rewards_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
        sa.UniqueConstraint("campaign_id", "reward_key", name=op.f("uq_rewards_campaign_id")),
    )
    op.create_index(op.f("ix_rewards_event_key"), "rewards", ["event_key"])
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("visitor_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("traffic", sa.String(length=16), nullable=True))
        batch_op.create_index(
            "ix_referral_events_campaign_visitor", ["campaign_id", "visitor_id"], unique=False
        )
        batch_op.create_index(
            "ix_referral_events_campaign_order", ["campaign_id", "order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_events_campaign_order")
        batch_op.drop_index("ix_referral_events_campaign_visitor")
        batch_op.drop_column("traffic")
        batch_op.drop_column("visitor_id")
        batch_op.drop_column("order_id")
    op.drop_index(op.f("ix_rewards_event_key"), table_name="rewards")
    op.drop_table("rewards")
    op.drop_index("ix_participants_campaign_email", table_name="participants")
    op.drop_table("participants")
    op.drop_index("ix_referral_codes_campaign_person", table_name="referral_codes")
    op.drop_table("referral_codes")
