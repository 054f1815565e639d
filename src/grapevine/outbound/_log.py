"""The delivery log: a tenant's messages with every attempt, and the manual redeliver."""

from __future__ import annotations

import random
import secrets as _secrets
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from grapevine.errors import InvalidParameter, NotFound
from grapevine.outbound._dispatch import LEASE_SECONDS, OutboundConfig, deliver_one
from grapevine.store import outbound_repo as repo
from grapevine.store.outbound_models import MESSAGE_STATUSES, OutboundAttempt, OutboundMessage

__all__ = [
    "AttemptView",
    "MessageDetail",
    "MessageView",
    "list_messages",
    "message_detail",
    "redeliver",
]


@dataclass(frozen=True)
class AttemptView:
    """One delivery attempt: when, whether it worked, the status code, latency and error."""

    attempt: int
    at: float
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    manual: bool


@dataclass(frozen=True)
class MessageView:
    """One outbound message and where it stands."""

    id: int
    event: str
    channel: str
    endpoint_id: int | None
    participant_id: int | None
    campaign_id: int | None
    status: str
    attempts: int
    max_attempts: int
    created_at: float
    next_try_at: float | None
    delivered_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class MessageDetail:
    """A message with its payload and every attempt, oldest first."""

    message: MessageView
    payload: dict[str, Any]
    attempts: tuple[AttemptView, ...]


def _view(row: OutboundMessage) -> MessageView:
    return MessageView(
        id=row.id,
        event=row.event,
        channel=row.channel,
        endpoint_id=row.endpoint_id,
        participant_id=row.participant_id,
        campaign_id=row.campaign_id,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        created_at=row.created_at,
        next_try_at=row.next_try_at if row.status == "pending" else None,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
    )


def _attempt(row: OutboundAttempt) -> AttemptView:
    return AttemptView(
        attempt=row.attempt,
        at=row.at,
        ok=bool(row.ok),
        status_code=row.status_code,
        latency_ms=row.latency_ms,
        error=row.error,
        manual=bool(row.manual),
    )


def list_messages(
    session: Session,
    *,
    tenant_id: int,
    status: str | None = None,
    event: str | None = None,
    endpoint_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[MessageDetail]:
    """The tenant's messages, newest first, each with its attempts.

    Raises
    ------
    InvalidParameter
        An unknown status, or ``limit`` outside [1, 500].
    """
    if status is not None and status not in MESSAGE_STATUSES:
        raise InvalidParameter(
            "status", "list_messages", f"one of {', '.join(MESSAGE_STATUSES)}", status
        )
    if not 1 <= int(limit) <= 500:
        raise InvalidParameter("limit", "list_messages", "an int in the range [1, 500]", limit)
    rows = repo.messages_of(
        session,
        tenant_id=tenant_id,
        status=status,
        event=event,
        endpoint_id=endpoint_id,
        before_id=before_id,
        limit=int(limit),
    )
    by_message: dict[int, list[AttemptView]] = {}
    for a in repo.attempts_of(session, message_ids=[r.id for r in rows]):
        by_message.setdefault(a.message_id, []).append(_attempt(a))
    return [
        MessageDetail(_view(r), dict(r.payload or {}), tuple(by_message.get(r.id, ())))
        for r in rows
    ]


def message_detail(session: Session, *, tenant_id: int, message_id: int) -> MessageDetail:
    """One message of the tenant with its attempts.

    Raises
    ------
    NotFound
        No such message of the tenant.
    """
    row = repo.message_of(session, tenant_id=tenant_id, message_id=message_id)
    if row is None:
        raise NotFound("outbound message", message_id)
    attempts = repo.attempts_of(session, message_ids=[row.id])
    return MessageDetail(_view(row), dict(row.payload or {}), tuple(map(_attempt, attempts)))


def redeliver(
    session_factory: Callable[[], Session],
    *,
    tenant_id: int,
    message_id: int,
    now: float | None = None,
    config: OutboundConfig | None = None,
) -> MessageDetail:
    """Deliver a message again now (whatever its state), logged as a manual attempt.

    A message that fails again goes back to its retry schedule if it has attempts left
    (one more is always granted), else stays ``failed``.

    Raises
    ------
    NotFound
        No such message of the tenant.
    """
    from grapevine.config import get_settings

    cfg = OutboundConfig.from_settings(get_settings()) if config is None else config
    at = _time.time() if now is None else float(now)
    claim = "m" + _secrets.token_hex(7)
    with session_factory() as session, session.begin():
        row = repo.message_of(session, tenant_id=tenant_id, message_id=message_id)
        if row is None:
            raise NotFound("outbound message", message_id)
        row.status = "pending"
        row.claimed_by = claim
        row.next_try_at = at + LEASE_SECONDS  # the background dispatcher leaves it alone
        row.max_attempts = max(row.max_attempts, row.attempts + 1)
    deliver_one(
        session_factory,
        message_id,
        claim=claim,
        now=at,
        config=cfg,
        rng=random.Random(),
        manual=True,
    )
    with session_factory() as session:
        return message_detail(session, tenant_id=tenant_id, message_id=message_id)
