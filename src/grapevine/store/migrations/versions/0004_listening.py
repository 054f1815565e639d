"""listening: sources with cursors, watch rules, sentiment, webcare inbox and audit trail

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
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
        "listen_sources",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.Float(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=True),
        sa.Column("last_run_at", sa.Float(), nullable=True),
        sa.Column("posts_seen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listen_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_listen_sources_name")),
    )
    op.create_table(
        "watch_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_watch_rules_name")),
    )
    op.create_table(
        "post_sentiment",
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("p_negative", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=True),
        sa.Column("scored_at", sa.Float(), nullable=False),
        _fk("post_sentiment", "post_id", "posts", "CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_sentiment")),
    )
    op.create_index(op.f("ix_post_sentiment_text_hash"), "post_sentiment", ["text_hash"])
    op.create_table(
        "mentions",
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("time", sa.Float(), nullable=True),
        _fk("mentions", "post_id", "posts", "CASCADE"),
        _fk("mentions", "rule_id", "watch_rules", "CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "rule_id", name=op.f("pk_mentions")),
    )
    op.create_index("ix_mentions_rule_time", "mentions", ["rule_id", "time"])
    op.create_table(
        "sentiment_corrections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentiment_corrections")),
        sa.UniqueConstraint("text_hash", name=op.f("uq_sentiment_corrections_text_hash")),
    )
    op.create_table(
        "inbox_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("source_id", _ID, nullable=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("negativity", sa.Float(), nullable=False),
        sa.Column("influence", sa.Float(), nullable=False),
        sa.Column("velocity", sa.Float(), nullable=False),
        sa.Column("recency", sa.Float(), nullable=False),
        sa.Column("scored_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=255), nullable=True),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("send_mode", sa.String(length=16), nullable=True),
        sa.Column("reply_external_id", sa.String(length=255), nullable=True),
        sa.Column("first_response_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        _fk("inbox_items", "post_id", "posts", "CASCADE"),
        _fk("inbox_items", "source_id", "listen_sources", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("post_id", name=op.f("uq_inbox_items_post_id")),
    )
    op.create_index("ix_inbox_items_status_priority", "inbox_items", ["status", "priority"])
    op.create_table(
        "inbox_audit",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        _fk("inbox_audit", "item_id", "inbox_items", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_audit")),
    )
    op.create_index(op.f("ix_inbox_audit_item_id"), "inbox_audit", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_audit_item_id"), table_name="inbox_audit")
    op.drop_table("inbox_audit")
    op.drop_index("ix_inbox_items_status_priority", table_name="inbox_items")
    op.drop_table("inbox_items")
    op.drop_table("sentiment_corrections")
    op.drop_index("ix_mentions_rule_time", table_name="mentions")
    op.drop_table("mentions")
    op.drop_index(op.f("ix_post_sentiment_text_hash"), table_name="post_sentiment")
    op.drop_table("post_sentiment")
    op.drop_table("watch_rules")
    op.drop_table("listen_sources")
