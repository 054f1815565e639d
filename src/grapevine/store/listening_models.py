"""The listening tables: sources with cursors, watch rules, mentions, sentiment, the inbox.

Every table has a natural key so that a re-run of a source, or the same post arriving
from two sources, writes nothing twice:

``listen_sources (name)``, ``watch_rules (name)``, ``post_sentiment (post)``,
``mentions (post, rule)``, ``sentiment_corrections (text_hash)``, ``inbox_items (post)``.
``inbox_audit`` is an append-only log (one row per action).

A source's cursor is advanced in the same transaction as the posts it fetched, so a crash
between the two can neither lose posts (the cursor did not move) nor store them twice
(the posts' natural key makes the re-fetch a no-op).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = [
    "INBOX_STATUSES",
    "InboxAudit",
    "InboxItem",
    "ListenSource",
    "Mention",
    "PostSentiment",
    "SentimentCorrection",
    "WatchRuleRow",
]

#: The life of an inbox item, in order.
INBOX_STATUSES = ("new", "assigned", "drafted", "approved", "sent", "resolved")


class ListenSource(Base):
    """A feed or a Mastodon timeline the listener polls, with its resumable cursor."""

    __tablename__ = "listen_sources"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # rss, mastodon
    name: Mapped[str] = mapped_column(String(255), unique=True)
    config: Mapped[dict[str, Any]]  # url / api_base_url, timeline, token_env (never a token)
    cursor: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, ok, failing
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[float | None] = mapped_column(Float)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    next_attempt_at: Mapped[float | None] = mapped_column(Float)
    last_run_at: Mapped[float | None] = mapped_column(Float)
    posts_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[float] = mapped_column(Float)


class WatchRuleRow(Base):
    """A brand watch rule: a boolean query (grapevine.listening.WatchRule syntax)."""

    __tablename__ = "watch_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    query: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class PostSentiment(Base):
    """The language and sentiment of one stored post (a correction overrides the model)."""

    __tablename__ = "post_sentiment"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(16))  # negative neutral positive unscored
    confidence: Mapped[float] = mapped_column(Float)
    p_negative: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # model, correction, unsupported
    model_version: Mapped[str] = mapped_column(String(64))
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    scored_at: Mapped[float] = mapped_column(Float)


class Mention(Base):
    """A post that matched a watch rule; ``time`` is the post's, for the volume series."""

    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_rule_time", "rule_id", "time"),)

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("watch_rules.id", ondelete="CASCADE"), primary_key=True
    )
    time: Mapped[float | None] = mapped_column(Float)


class SentimentCorrection(Base):
    """A manual sentiment label for a text (by :func:`grapevine.text.text_hash`)."""

    __tablename__ = "sentiment_corrections"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Float)


class InboxItem(Base):
    """A matched post waiting for (or given) a webcare answer, with its priority's parts."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_status_priority", "status", "priority"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), unique=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("listen_sources.id", ondelete="SET NULL")
    )
    rules: Mapped[str] = mapped_column(Text)  # rule names, comma-separated
    priority: Mapped[float] = mapped_column(Float)
    negativity: Mapped[float] = mapped_column(Float)
    influence: Mapped[float] = mapped_column(Float)
    velocity: Mapped[float] = mapped_column(Float)
    recency: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee: Mapped[str | None] = mapped_column(String(255))
    draft: Mapped[str | None] = mapped_column(Text)
    send_mode: Mapped[str | None] = mapped_column(String(16))  # api, manual
    reply_external_id: Mapped[str | None] = mapped_column(String(255))
    first_response_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class InboxAudit(Base):
    """Who did what to an inbox item, and when (append-only)."""

    __tablename__ = "inbox_audit"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)
