"""Every query of the outbound messages (grapevine.outbound): endpoints, due messages, log.

Keyword-only functions over a session; the workflows in ``grapevine.outbound`` decide.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grapevine.store.outbound_models import OutboundAttempt, OutboundEndpoint, OutboundMessage

__all__ = [
    "attempts_of",
    "claim_due",
    "endpoint_of",
    "endpoints_of",
    "message_of",
    "messages_of",
    "skip_pending_of_endpoint",
]


def endpoints_of(
    session: Session, *, tenant_id: int, include_removed: bool = False
) -> Sequence[OutboundEndpoint]:
    """A tenant's endpoints, oldest first."""
    q = select(OutboundEndpoint).where(OutboundEndpoint.tenant_id == tenant_id)
    if not include_removed:
        q = q.where(OutboundEndpoint.disabled_at.is_(None))
    return session.scalars(q.order_by(OutboundEndpoint.id)).all()


def endpoint_of(session: Session, *, tenant_id: int, endpoint_id: int) -> OutboundEndpoint | None:
    """One endpoint of the tenant (None for another tenant's)."""
    row = session.get(OutboundEndpoint, endpoint_id)
    return row if row is not None and row.tenant_id == tenant_id else None


def message_of(session: Session, *, tenant_id: int, message_id: int) -> OutboundMessage | None:
    """One message of the tenant (None for another tenant's)."""
    row = session.get(OutboundMessage, message_id)
    return row if row is not None and row.tenant_id == tenant_id else None


def messages_of(
    session: Session,
    *,
    tenant_id: int,
    status: str | None = None,
    event: str | None = None,
    endpoint_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> Sequence[OutboundMessage]:
    """A tenant's messages, newest first, filtered; page with ``before_id``."""
    q = select(OutboundMessage).where(OutboundMessage.tenant_id == tenant_id)
    if status is not None:
        q = q.where(OutboundMessage.status == status)
    if event is not None:
        q = q.where(OutboundMessage.event == event)
    if endpoint_id is not None:
        q = q.where(OutboundMessage.endpoint_id == endpoint_id)
    if before_id is not None:
        q = q.where(OutboundMessage.id < before_id)
    return session.scalars(q.order_by(OutboundMessage.id.desc()).limit(limit)).all()


def attempts_of(session: Session, *, message_ids: Sequence[int]) -> Sequence[OutboundAttempt]:
    """The attempts of these messages, in order."""
    if not message_ids:
        return []
    return session.scalars(
        select(OutboundAttempt)
        .where(OutboundAttempt.message_id.in_(list(message_ids)))
        .order_by(OutboundAttempt.message_id, OutboundAttempt.attempt, OutboundAttempt.id)
    ).all()


def skip_pending_of_endpoint(session: Session, *, endpoint_id: int, reason: str) -> int:
    """Mark the pending messages of a removed endpoint ``skipped``; how many."""
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.endpoint_id == endpoint_id, OutboundMessage.status == "pending")
        .values(status="skipped", last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_due(
    session: Session, *, now: float, limit: int, lease_until: float, claim: str
) -> list[int]:
    """Claim up to ``limit`` due messages for one dispatcher; their ids.

    The claimed rows get ``claimed_by = claim`` and ``next_try_at = lease_until`` (a lease: a
    dispatcher that dies mid-way leaves them due again once it ends). On PostgreSQL the rows
    are picked ``FOR UPDATE SKIP LOCKED``, so concurrent dispatchers take disjoint rows
    without waiting; the update repeats the due condition, so a row that another dispatcher
    claimed meanwhile (SQLite, one writer at a time) is not taken twice. Commit afterwards.
    """
    due = (
        select(OutboundMessage.id)
        .where(OutboundMessage.status == "pending", OutboundMessage.next_try_at <= now)
        .order_by(OutboundMessage.next_try_at, OutboundMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due).all())
    if not ids:
        return []
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(ids),
            OutboundMessage.status == "pending",
            OutboundMessage.next_try_at <= now,
        )
        .values(claimed_by=claim, next_try_at=lease_until)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(OutboundMessage.id)
            .where(OutboundMessage.id.in_(ids), OutboundMessage.claimed_by == claim)
            .order_by(OutboundMessage.id)
        ).all()
    )
