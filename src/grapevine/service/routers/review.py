"""``/api/campaigns/{id}/review``: the events held by the fraud checks, and their review.

Thin adapters over :func:`grapevine.referrals.review_entries` and
:func:`grapevine.referrals.decide`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service.deps import REPLAY_HEADER, AdminKey, ReadKey, SessionDep
from grapevine.service.schemas import ReviewCreate, ReviewItem, ReviewPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/campaigns", tags=["review"], responses=AUTH_RESPONSES)

CampaignId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The campaign's id.")]
"""A campaign id that fits the id columns (a larger one would fail in the database)."""
EventKey = Annotated[Text, Path(min_length=1, max_length=255, description="The event's key.")]


@router.get("/{campaign_id}/review")
def review_queue(campaign_id: CampaignId, session: SessionDep, key: ReadKey) -> list[ReviewItem]:
    """The campaign's signups and purchases held for review, oldest first: who (e-mails
    masked), the rewards held, the risk level and its reasons
    (:func:`grapevine.referrals.review_entries`)."""
    entries = rf.review_entries(session, campaign_id=campaign_id, tenant_id=key.tenant_id)
    return [ReviewItem.model_validate(e.as_dict()) for e in entries]


@router.post(
    "/{campaign_id}/review/{event_key:path}",
    responses={409: {"description": "Not held for review, or decided the other way."}},
)
def review_event(
    campaign_id: CampaignId,
    event_key: EventKey,
    body: ReviewCreate,
    response: Response,
    session: SessionDep,
    key: AdminKey,
) -> ReviewPublic:
    """Approve (the rewards are granted after their hold) or reject (they turn void) a held
    event; the rewards are recomputed. Idempotent: the same outcome again changes nothing
    (``replayed``); the other outcome after a decision is a 409. Admin keys only."""
    decision = rf.decide(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        event_key=event_key,
        outcome=body.outcome,
        reviewer=f"api key {key.prefix}",
        note=body.note,
    )
    session.commit()
    if not decision.changed:
        response.headers[REPLAY_HEADER] = "true"
    return ReviewPublic.of(decision)
