"""``/api/campaigns``: create and read campaigns, enrol participants, read the figures."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._enrol import enrol
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
    ParticipantCreate,
    ParticipantPublic,
)
from grapevine.store import referrals_repo as repo
from grapevine.store.models import Campaign
from grapevine.store.tenants_repo import KeyInfo

__all__ = [
    "campaign_public",
    "create_campaign_row",
    "load_campaign",
    "router",
    "validate_campaign",
    "window_seconds",
]

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=AUTH_RESPONSES)


_MAX_ID = 2**63 - 1


def load_campaign(session: Session, campaign_id: int, key: KeyInfo | None = None) -> Campaign:
    """The campaign (of the key's tenant when a key is given), or 404.

    Another tenant's campaign is answered exactly like a missing one: 404, never 403; so is
    an id no database column can hold (past 64 bits).
    """
    campaign = (
        repo.find_campaign(
            session, campaign_id=campaign_id, tenant_id=None if key is None else key.tenant_id
        )
        if 1 <= campaign_id <= _MAX_ID
        else None
    )
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id}")
    return campaign


def window_seconds(campaign: Campaign) -> float:
    """The campaign's attribution window in seconds."""
    return float((campaign.rules or {})["window_days"]) * 86400.0


def campaign_public(campaign: Campaign) -> CampaignPublic:
    return CampaignPublic(**repo.campaign_record(campaign))


def validate_campaign(body: CampaignCreate) -> None:
    """Check the offer and destinations with the domain core (BadInput / InvalidParameter)."""
    if body.offer is not None:
        rf.Offer.from_dict(body.offer)
    rf.resolve_destination(body.destinations)  # refuses a non-http(s) allowlist entry


def create_campaign_row(
    session: Session, body: CampaignCreate, *, tenant_id: int, window_days: float
) -> Campaign:
    """Validate ``body`` and add the tenant's campaign (flushed, not committed).

    Raises HTTP 409 when the tenant has a campaign of that name (another tenant's names
    are not looked at).
    """
    validate_campaign(body)
    if repo.find_campaign_by_name(session, name=body.name, tenant_id=tenant_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a campaign named {body.name!r} exists")
    return repo.create_campaign(
        session,
        tenant_id=tenant_id,
        name=body.name,
        goal=body.goal,
        offer=body.offer,
        rules={
            "destinations": body.destinations,
            "window_days": body.window_days or window_days,
            "attribution": body.attribution,
        },
        budget=body.budget,
        currency=body.currency.upper() if body.currency else None,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_campaign(
    body: CampaignCreate, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> CampaignPublic:
    """Create a campaign of the key's tenant (admin); offer and destinations are checked by
    the domain core."""
    campaign = create_campaign_row(
        session, body, tenant_id=key.tenant_id, window_days=settings.cookie_window_days
    )
    session.commit()
    return campaign_public(campaign)


@router.get("")
def list_campaigns(session: SessionDep, key: ReadKey) -> list[CampaignPublic]:
    """The campaigns of the key's tenant, oldest first."""
    return [campaign_public(c) for c in repo.list_campaigns(session, tenant_id=key.tenant_id)]


@router.get("/{campaign_id}")
def read_campaign(campaign_id: int, session: SessionDep, key: ReadKey) -> CampaignPublic:
    return campaign_public(load_campaign(session, campaign_id, key))


@router.post("/{campaign_id}/participants")
def add_participant(
    campaign_id: int,
    body: ParticipantCreate,
    request: Request,
    session: SessionDep,
    salt: IpSaltDep,
    key: IngestKey,
) -> ParticipantPublic:
    """Enrol someone (by e-mail, normalised) and give them their code and short link.

    Idempotent: the same person gets the same code again (``created`` false).
    """
    campaign = load_campaign(session, campaign_id, key)
    got = enrol(
        session,
        campaign,
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


@router.get("/{campaign_id}/stats")
def campaign_stats(campaign_id: int, session: SessionDep, key: ReadKey) -> CampaignStats:
    """Clicks (human apart from bots and previews), conversions, K-factor, cycle time,
    participants and reward totals (:func:`grapevine.store.referrals_repo.campaign_stats`)."""
    campaign = load_campaign(session, campaign_id, key)
    return CampaignStats.model_validate(repo.campaign_stats(session, campaign_id=campaign.id))
