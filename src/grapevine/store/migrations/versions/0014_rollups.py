"""referral rollups per campaign, day, channel and generation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Adds ``referral_rollups``, ``referrer_rollups``, ``referrer_channel_rollups`` and
``reward_rollups``
(:mod:`grapevine.store.rollups_models`) and an index on the referrer of ``referral_events``,
then fills the rollups of every existing campaign from its events and rewards
(:func:`grapevine.store.rollups_repo.rebuild_rollups`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COUNT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(n, _COUNT, nullable=False, server_default="0") for n in names]


def _amounts(*names: str) -> list[sa.Column[float]]:
    return [sa.Column(n, sa.Float(), nullable=False, server_default="0") for n in names]


def _campaign() -> sa.Column[int]:
    return sa.Column(
        "campaign_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "referral_rollups",
        _campaign(),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        *_counts("clicks_human", "clicks_bot", "clicks_preview", "visitors", "shares"),
        *_counts("signups", "purchases", "refunds"),
        *_amounts("revenue", "refunded"),
        sa.PrimaryKeyConstraint(
            "campaign_id", "day", "channel", "generation", name="pk_referral_rollups"
        ),
    )
    op.create_table(
        "referrer_rollups",
        _campaign(),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("referred_by", sa.BigInteger(), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=True),
        sa.Column("first_at", sa.Float(), nullable=True),
        sa.Column("first_event_id", sa.BigInteger(), nullable=True),
        sa.Column("first_signup_at", sa.Float(), nullable=True),
        sa.Column("first_purchase_at", sa.Float(), nullable=True),
        sa.Column("cycle_signup_s", sa.Float(), nullable=True),
        sa.Column("cycle_purchase_s", sa.Float(), nullable=True),
        *_counts("clicks_human", "clicks_bot", "clicks_preview", "shares"),
        *_counts("signups", "purchases", "refunds"),
        *_amounts("revenue", "refunded"),
        *_counts("referred_signup_people", "referred_purchase_people", "rewards"),
        *_amounts("rewards_amount"),
        sa.PrimaryKeyConstraint("campaign_id", "person_id", name="pk_referrer_rollups"),
    )
    op.create_index(
        "ix_referrer_rollups_referred_by", "referrer_rollups", ["campaign_id", "referred_by"]
    )
    op.create_index(
        "ix_referrer_rollups_cycle_signup", "referrer_rollups", ["campaign_id", "cycle_signup_s"]
    )
    op.create_index(
        "ix_referrer_rollups_cycle_purchase",
        "referrer_rollups",
        ["campaign_id", "cycle_purchase_s"],
    )
    op.create_table(
        "referrer_channel_rollups",
        _campaign(),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        *_counts("clicks_human", "shares", "signups", "purchases"),
        sa.PrimaryKeyConstraint(
            "campaign_id", "person_id", "channel", name="pk_referrer_channel_rollups"
        ),
    )
    op.create_table(
        "reward_rollups",
        _campaign(),
        sa.Column("status", sa.String(16), nullable=False),
        *_counts("count"),
        *_amounts("amount"),
        sa.PrimaryKeyConstraint("campaign_id", "status", name="pk_reward_rollups"),
    )
    op.create_index(
        "ix_referral_events_campaign_referrer", "referral_events", ["campaign_id", "referrer_id"]
    )
    from sqlalchemy.orm import Session

    from grapevine.store.rollups_rebuild import rebuild_rollups

    session = Session(bind=op.get_bind())
    for (campaign_id,) in session.execute(sa.text("SELECT id FROM campaigns ORDER BY id")):
        rebuild_rollups(session, campaign_id=int(campaign_id))
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_referral_events_campaign_referrer", table_name="referral_events")
    op.drop_table("reward_rollups")
    op.drop_table("referrer_channel_rollups")
    op.drop_index("ix_referrer_rollups_cycle_purchase", table_name="referrer_rollups")
    op.drop_index("ix_referrer_rollups_cycle_signup", table_name="referrer_rollups")
    op.drop_index("ix_referrer_rollups_referred_by", table_name="referrer_rollups")
    op.drop_table("referrer_rollups")
    op.drop_table("referral_rollups")
