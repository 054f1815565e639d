"""payouts (reward transitions, payout batches, store credit)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``payout_batches`` (an exported payout file or a store-credit run), ``reward_payouts`` (one
per approved reward: approved, exported, paid, failed) and ``payout_transitions`` (the
audit), whose partial unique index allows one ``paid`` transition per reward.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PAID = "to_state = 'paid'"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "payout_batches",
        sa.Column("id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        _fk("payout_batches", "campaign_id", "campaigns", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
    )
    op.create_index("ix_payout_batches_campaign", "payout_batches", ["campaign_id"])
    op.create_table(
        "reward_payouts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("reward_id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("batch_id", _ID, nullable=True),
        sa.Column("approved_at", sa.Float(), nullable=False),
        sa.Column("approved_by", sa.String(length=255), nullable=True),
        sa.Column("paid_at", sa.Float(), nullable=True),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        _fk("reward_payouts", "reward_id", "rewards", "CASCADE"),
        _fk("reward_payouts", "campaign_id", "campaigns", "CASCADE"),
        _fk("reward_payouts", "batch_id", "payout_batches", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward_payouts")),
        sa.UniqueConstraint("reward_id", name=op.f("uq_reward_payouts_reward_id")),
    )
    op.create_index("ix_reward_payouts_campaign_state", "reward_payouts", ["campaign_id", "state"])
    op.create_table(
        "payout_transitions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("reward_id", _ID, nullable=False),
        sa.Column("campaign_id", _ID, nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=True),
        sa.Column("batch_id", _ID, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _fk("payout_transitions", "reward_id", "rewards", "CASCADE"),
        _fk("payout_transitions", "campaign_id", "campaigns", "CASCADE"),
        _fk("payout_transitions", "batch_id", "payout_batches", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_transitions")),
    )
    op.create_index("ix_payout_transitions_reward", "payout_transitions", ["reward_id"])
    op.create_index(
        "ux_payout_transitions_one_paid",
        "payout_transitions",
        ["reward_id"],
        unique=True,
        sqlite_where=sa.text(_PAID),
        postgresql_where=sa.text(_PAID),
    )


def downgrade() -> None:
    op.drop_index("ux_payout_transitions_one_paid", table_name="payout_transitions")
    op.drop_index("ix_payout_transitions_reward", table_name="payout_transitions")
    op.drop_table("payout_transitions")
    op.drop_index("ix_reward_payouts_campaign_state", table_name="reward_payouts")
    op.drop_table("reward_payouts")
    op.drop_index("ix_payout_batches_campaign", table_name="payout_batches")
    op.drop_table("payout_batches")
