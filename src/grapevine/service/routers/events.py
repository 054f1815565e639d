"""``/api/events``: signups, purchases and refunds, idempotent on their key.

A thin adapter over :func:`grapevine.referrals.record_event`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service.deps import (
    REPLAY_HEADER,
    VISITOR_COOKIE,
    IngestKey,
    SessionDep,
    SettingsDep,
    ip_salt_of,
)
from grapevine.service.schemas import EventCreate, EventPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/events", tags=["events"], responses=AUTH_RESPONSES)


@router.post("")
def post_event(
    body: EventCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    key: IngestKey,
) -> EventPublic:
    """Record a signup, purchase or refund (idempotent on ``idempotency_key``).

    The visitor is named by ``visitor_id`` or, for a request from the visitor's own browser,
    by the attribution cookie. Needs an ingest or admin key of the campaign's tenant. While
    the campaign is paused, or after it ended, a signup or purchase is recorded with its
    ``reward_note`` and earns nothing.
    """
    if body.visitor_id is None and VISITOR_COOKIE in request.cookies:
        body = body.model_copy(update={"visitor_id": request.cookies[VISITOR_COOKIE][:64]})
    result = rf.record_event(
        session,
        campaign_id=body.campaign_id,
        tenant_id=key.tenant_id,
        event=body.to_input(),
        salt=ip_salt_of(settings),
    )
    if result.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return EventPublic.of(result)
