"""The outbox of outbound messages: endpoints, messages and the log of every delivery attempt.

A workflow writes a message row in its own transaction (``grapevine.outbound.emit``), so a
message exists if and only if the business change committed; a dispatcher
(``grapevine.outbound.deliver_due``) claims the due rows and delivers them, writing one
attempt row per try. ``outbound_messages (dedupe_key)`` is the natural key of a message: an
event emitted twice with the same key (a retried webhook) queues it once.

Endpoints are per tenant: a signed webhook (its signing secret sealed under
``GRAPEVINE_SECRETS_KEY``, store/_secretbox.py), a Slack, Microsoft Teams or Mattermost
incoming webhook (the URL itself is the credential: sealed too, only its host is shown), or an
e-mail address for alerts. A removed endpoint is disabled, not deleted, so that the log of
its deliveries stays readable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = [
    "ENDPOINT_KINDS",
    "MESSAGE_STATUSES",
    "OutboundAttempt",
    "OutboundEndpoint",
    "OutboundMessage",
]

ENDPOINT_KINDS = ("webhook", "slack", "teams", "mattermost", "email")
"""What an endpoint is: a signed webhook, a chat incoming webhook, or an e-mail address."""

MESSAGE_STATUSES = ("pending", "delivered", "failed", "skipped")
"""``pending`` (due at ``next_try_at``), ``delivered``, ``failed`` (attempts used up) or
``skipped`` (nothing to deliver to: unsubscribed, no address, endpoint removed)."""


class OutboundEndpoint(Base):
    """Where a tenant's events go: ``kind`` in :data:`ENDPOINT_KINDS`.

    ``target`` is what listings show: the URL of a webhook, the host of a chat webhook, the
    address of an e-mail channel. ``sealed`` holds the credential (a webhook's signing
    secret, a chat webhook's full URL), ``hint`` its last 4 characters.
    """

    __tablename__ = "outbound_endpoints"
    __table_args__ = (Index("ix_outbound_endpoints_tenant", "tenant_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    sealed: Mapped[str | None] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(String(16))
    events: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    disabled_at: Mapped[float | None] = mapped_column(Float)


class OutboundMessage(Base):
    """One message to deliver on one channel (``email`` or an endpoint's kind)."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_due", "status", "next_try_at"),
        Index("ix_outbound_messages_tenant", "tenant_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_endpoints.id", ondelete="SET NULL")
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    next_try_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboundAttempt(Base):
    """One try at delivering a message: when, the answer's status code, latency, error."""

    __tablename__ = "outbound_attempts"
    __table_args__ = (Index("ix_outbound_attempts_message", "message_id", "attempt"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbound_messages.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    manual: Mapped[bool] = mapped_column(default=False)
