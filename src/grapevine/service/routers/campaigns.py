"""``/api/campaigns``: create, read, edit, pause, resume and end campaigns; enrol and list
participants; read the figures.

Thin adapters over :mod:`grapevine.referrals`' campaign workflows: parse, call one workflow,
commit, render. Domain errors become status codes in ``service/_errors.py`` (a missing or
another tenant's campaign 404, a conflict 409, bad input 422).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service.deps import (
    AdminKey,
    IngestKey,
    IpSaltDep,
    ReadKey,
    SessionDep,
    SettingsDep,
)
from grapevine.service.schemas import (
    CampaignCreate,
    CampaignPublic,
    CampaignStats,
    CampaignUpdate,
    Leaderboard,
    LeaderboardEntry,
    ParticipantCreate,
    ParticipantList,
    ParticipantPublic,
)
from grapevine.store.tenants_repo import KeyInfo

__all__ = ["CampaignId", "actor", "router"]

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=AUTH_RESPONSES)

CampaignId = Annotated[int, Path(description="The campaign's id.")]
"""A campaign id; one no id column holds is answered 404 like any missing campaign."""

_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The campaign's state refuses it (ended, name taken...)."}
}


def actor(key: KeyInfo) -> str:
    """Who acts, for the audit trail: ``api key <prefix>``."""
    return f"api key {key.prefix}"


@router.post("", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def create_campaign(
    body: CampaignCreate, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> CampaignPublic:
    """Create a campaign of the key's tenant (admin); every field is checked by
    :func:`grapevine.referrals.check_campaign`. 409 when the tenant has one of that name."""
    view = rf.create_campaign(
        session,
        tenant_id=key.tenant_id,
        document=body.model_dump(exclude_none=True),
        default_window_days=settings.cookie_window_days,
        actor=actor(key),
    )
    session.commit()
    return CampaignPublic.of(view)


@router.get("")
def list_campaigns(session: SessionDep, key: ReadKey) -> list[CampaignPublic]:
    """The campaigns of the key's tenant, oldest first."""
    return [CampaignPublic.of(c) for c in rf.list_campaigns(session, tenant_id=key.tenant_id)]


@router.get("/{campaign_id}")
def read_campaign(campaign_id: CampaignId, session: SessionDep, key: ReadKey) -> CampaignPublic:
    """One campaign of the key's tenant, with its status and fraud thresholds."""
    return CampaignPublic.of(
        rf.get_campaign(session, campaign_id=campaign_id, tenant_id=key.tenant_id)
    )


@router.patch("/{campaign_id}", responses=_CONFLICT)
def edit_campaign(
    campaign_id: CampaignId, body: CampaignUpdate, session: SessionDep, key: AdminKey
) -> CampaignPublic:
    """Edit some fields (admin): the result is checked exactly like a new campaign, the
    change goes to the audit trail. 409 for an ended campaign, a name taken, or a new offer
    on a campaign with rewards."""
    view = rf.update_campaign(
        session,
        campaign_id=campaign_id,
        changes=body.model_dump(exclude_unset=True),
        tenant_id=key.tenant_id,
        actor=actor(key),
    )
    session.commit()
    return CampaignPublic.of(view)


@router.post("/{campaign_id}/pause", responses=_CONFLICT)
def pause_campaign(campaign_id: CampaignId, session: SessionDep, key: AdminKey) -> CampaignPublic:
    """Pause (admin): links keep working and clicks count; nobody new may enrol (409);
    conversions are recorded but earn no rewards. Pausing a paused campaign changes
    nothing; an ended one is a 409."""
    view = rf.pause_campaign(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, actor=actor(key)
    )
    session.commit()
    return CampaignPublic.of(view)


@router.post("/{campaign_id}/resume", responses=_CONFLICT)
def resume_campaign(campaign_id: CampaignId, session: SessionDep, key: AdminKey) -> CampaignPublic:
    """Resume a paused campaign (admin); an ended one cannot resume (409)."""
    view = rf.resume_campaign(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, actor=actor(key)
    )
    session.commit()
    return CampaignPublic.of(view)


@router.post("/{campaign_id}/end")
def end_campaign(campaign_id: CampaignId, session: SessionDep, key: AdminKey) -> CampaignPublic:
    """End the campaign for good (admin): no enrolment, no new rewards, links go to its
    landing page; rewards earned before keep their lifecycle."""
    view = rf.end_campaign(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, actor=actor(key)
    )
    session.commit()
    return CampaignPublic.of(view)


@router.post("/{campaign_id}/participants", responses=_CONFLICT)
def add_participant(
    campaign_id: CampaignId,
    body: ParticipantCreate,
    request: Request,
    session: SessionDep,
    salt: IpSaltDep,
    key: IngestKey,
) -> ParticipantPublic:
    """Enrol someone (by e-mail, normalised) and give them their code and short link.

    Idempotent: the same person gets the same code again (``created`` false), also once
    the campaign is paused or ended; someone new is refused then (409 ``CampaignClosed``).
    """
    got = rf.enrol(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        email=body.email,
        salt=salt,
        device_id=body.device_id,
        payout_account=body.payout_account,
    )
    session.commit()
    link = str(request.base_url).rstrip("/") + rf.referral_path(got.code)
    return ParticipantPublic(
        person_id=got.person_id,
        email=got.email,
        code=got.code,
        link=link,
        created=got.created,
        disposable_email=rf.is_disposable_email(got.email),
    )


@router.get("/{campaign_id}/participants")
def list_participants(
    campaign_id: CampaignId,
    session: SessionDep,
    key: ReadKey,
    q: Annotated[
        Text | None, Query(max_length=320, description="E-mail prefix to search for.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=rf.MAX_PAGE)] = 50,
    cursor: Annotated[
        Text | None, Query(max_length=20, description="next_cursor of the page before.")
    ] = None,
) -> ParticipantList:
    """The campaign's participants in the order they joined, a page at a time, with the
    number matching in all."""
    page = rf.list_participants(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        search=q,
        limit=limit,
        cursor=cursor,
    )
    return ParticipantList.of(page)


@router.get("/{campaign_id}/stats")
def campaign_stats(campaign_id: CampaignId, session: SessionDep, key: ReadKey) -> CampaignStats:
    """Clicks (human apart from bots and previews), visitors, conversions, revenue, K-factor
    with the campaign's conversion event (by generation and weekly cohort), cycle time,
    participants and reward totals, read from the rollups
    (:func:`grapevine.referrals.campaign_stats`); ``reasons`` says why a figure is null."""
    campaign = rf.get_campaign(session, campaign_id=campaign_id, tenant_id=key.tenant_id)
    stats = rf.campaign_stats(session, campaign_id=campaign.id)
    return CampaignStats.model_validate(stats.as_dict())


@router.get("/{campaign_id}/leaderboard")
def campaign_leaderboard(
    campaign_id: CampaignId,
    session: SessionDep,
    key: ReadKey,
    by: Annotated[
        Literal["signups", "purchases", "customers", "revenue", "clicks", "shares", "rewards"],
        Query(description="What to rank the referrers by."),
    ] = "signups",
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> Leaderboard:
    """The campaign's top referrers, from the per-referrer rollup
    (:func:`grapevine.referrals.leaderboard`)."""
    campaign = rf.get_campaign(session, campaign_id=campaign_id, tenant_id=key.tenant_id)
    entries = rf.leaderboard(session, campaign_id=campaign.id, by=by, limit=limit)
    return Leaderboard(
        campaign_id=campaign.id,
        by=by,
        entries=[LeaderboardEntry.model_validate(asdict(e)) for e in entries],
    )
