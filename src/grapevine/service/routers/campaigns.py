"""``/api/campaigns``: create and read campaigns, enrol participants, read the figures."""

from __future__ import annotations

import hashlib
import hmac
import math
import time

import pandas as pd
from fastapi import APIRouter, HTTPException, Request, status

from grapevine import referrals as rf
from grapevine.errors import BadInput
from grapevine.service.deps import IpSaltDep, SessionDep, SettingsDep
from grapevine.service.schemas import (
    CampaignCreate,
    CampaignPublic,
    CampaignStats,
    ClickCounts,
    ParticipantCreate,
    ParticipantPublic,
)
from grapevine.store import referrals_repo as repo
from grapevine.store.models import Campaign

__all__ = ["campaign_public", "load_campaign", "router", "window_seconds"]

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])

_CODE_TRIES = 8


def load_campaign(session: SessionDep, campaign_id: int) -> Campaign:
    """The campaign, or 404."""
    campaign = repo.find_campaign(session, campaign_id=campaign_id)
    if campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign_id}")
    return campaign


def window_seconds(campaign: Campaign) -> float:
    """The campaign's attribution window in seconds."""
    return float((campaign.rules or {})["window_days"]) * 86400.0


def campaign_public(campaign: Campaign) -> CampaignPublic:
    rules = campaign.rules or {}
    return CampaignPublic(
        id=campaign.id,
        name=campaign.name,
        goal=campaign.goal,
        offer=campaign.offer,
        destinations=list(rules.get("destinations", [])),
        window_days=float(rules["window_days"]),
        attribution=str(rules.get("attribution", "last")),
        budget=campaign.budget,
        currency=campaign.currency,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_campaign(
    body: CampaignCreate, session: SessionDep, settings: SettingsDep
) -> CampaignPublic:
    """Create a campaign; its offer and destinations are checked by the domain core."""
    if body.offer is not None:
        rf.Offer.from_dict(body.offer)  # BadInput / InvalidParameter -> 422
    rf.resolve_destination(body.destinations)  # refuses a non-http(s) allowlist entry
    if repo.find_campaign_by_name(session, name=body.name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a campaign named {body.name!r} exists")
    campaign = repo.create_campaign(
        session,
        name=body.name,
        goal=body.goal,
        offer=body.offer,
        rules={
            "destinations": body.destinations,
            "window_days": body.window_days or settings.cookie_window_days,
            "attribution": body.attribution,
        },
        budget=body.budget,
        currency=body.currency.upper() if body.currency else None,
    )
    session.commit()
    return campaign_public(campaign)


@router.get("/{campaign_id}")
def read_campaign(campaign_id: int, session: SessionDep) -> CampaignPublic:
    return campaign_public(load_campaign(session, campaign_id))


def _keyed_hash(value: str | None, salt: str) -> str | None:
    if not value:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


@router.post("/{campaign_id}/participants")
def add_participant(
    campaign_id: int,
    body: ParticipantCreate,
    request: Request,
    session: SessionDep,
    salt: IpSaltDep,
) -> ParticipantPublic:
    """Enrol someone (by e-mail, normalised) and give them their code and short link.

    Idempotent: the same person gets the same code again (``created`` false).
    """
    campaign = load_campaign(session, campaign_id)
    if "@" not in body.email:
        raise BadInput(f"not an e-mail address: {body.email!r}", field="email")
    email = rf.normalize_email(body.email)
    now = time.time()
    person = repo.get_or_create_person(session, platform=repo.EMAIL_PLATFORM, handle=email)
    _, created = repo.get_or_create_participant(
        session,
        campaign_id=campaign.id,
        person_id=person.id,
        email=email,
        now=now,
        device_hash=_keyed_hash(body.device_id, salt),
        payout_hash=_keyed_hash(body.payout_account, salt),
    )
    row = repo.code_for(session, campaign_id=campaign.id, person_id=person.id)
    if row is None:
        for _ in range(_CODE_TRIES):
            code = rf.new_code()
            if not repo.code_exists(session, code=code):
                break
        else:  # pragma: no cover - 8 collisions in a 39.6-bit space
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no free referral code")
        row = repo.add_code(
            session, code=code, campaign_id=campaign.id, person_id=person.id, now=now
        )
    session.commit()
    link = str(request.base_url).rstrip("/") + rf.referral_path(row.code)
    return ParticipantPublic(
        person_id=person.id,
        email=email,
        code=row.code,
        link=link,
        created=created,
        disposable_email=rf.is_disposable_email(email),
    )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@router.get("/{campaign_id}/stats")
def campaign_stats(campaign_id: int, session: SessionDep) -> CampaignStats:
    """Clicks (human apart from bots and previews), conversions, K-factor and cycle time."""
    campaign = load_campaign(session, campaign_id)
    rows = repo.campaign_events(session, campaign_id=campaign.id)
    traffic = {"browser": 0, "bot": 0, "preview": 0}
    counts = {"signup": 0, "purchase": 0, "refund": 0}
    referred = 0
    growth: list[tuple[str | None, str | None, str, float]] = []
    for kind, tclass, referrer, person, t in rows:
        if kind == "click":
            traffic[tclass or "bot"] = traffic.get(tclass or "bot", 0) + 1
            if tclass != "browser":
                continue  # only people clicking are invitations
        else:
            counts[kind] = counts.get(kind, 0) + 1
            referred += kind == "signup" and referrer is not None
        growth.append(
            (
                None if referrer is None else str(referrer),
                None if person is None else str(person),
                kind,
                t,
            )
        )
    frame = pd.DataFrame(growth, columns=["referrer", "person", "kind", "time"])
    k = rf.k_factor(frame)["k"].iloc[0] if rows else math.nan
    cycle = rf.viral_cycle_time(frame).median if rows else math.nan
    return CampaignStats(
        campaign_id=campaign.id,
        clicks=ClickCounts(
            human=traffic["browser"], bot=traffic["bot"], preview=traffic["preview"]
        ),
        signups=counts["signup"],
        referred_signups=referred,
        purchases=counts["purchase"],
        refunds=counts["refund"],
        k_factor=_number(float(k)),
        cycle_time_median_s=_number(float(cycle)),
    )
