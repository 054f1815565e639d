"""Campaigns: their rows, their lifecycle status and their audit trail.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction). The rules (what may change, when) live in
:mod:`grapevine.referrals`; this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store.campaign_models import CampaignAudit
from grapevine.store.models import Campaign

__all__ = [
    "add_audit",
    "audit_trail",
    "campaign_record",
    "create_campaign",
    "find_campaign",
    "find_campaign_by_name",
    "list_campaigns",
    "set_status",
    "update_campaign",
]

_EDITABLE = ("name", "goal", "offer", "rules", "budget", "currency")


def create_campaign(
    session: Session,
    *,
    tenant_id: int,
    name: str,
    goal: str | None,
    offer: Mapping[str, Any] | None,
    rules: Mapping[str, Any],
    budget: float | None = None,
    currency: str | None = None,
) -> Campaign:
    """Add an active campaign (flushed, so it has its id)."""
    campaign = Campaign(
        tenant_id=tenant_id,
        name=name,
        goal=goal,
        offer=dict(offer) if offer is not None else None,
        rules=dict(rules),
        budget=budget,
        currency=currency,
        status="active",
    )
    session.add(campaign)
    session.flush()
    return campaign


def find_campaign(
    session: Session, *, campaign_id: int, tenant_id: int | None = None
) -> Campaign | None:
    """The campaign with this id (of ``tenant_id`` when given), or None.

    Pass the tenant whenever a caller speaks for one: another tenant's campaign is then
    the same as no campaign.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or (tenant_id is not None and campaign.tenant_id != tenant_id):
        return None
    return campaign


def find_campaign_by_name(session: Session, *, name: str, tenant_id: int) -> Campaign | None:
    """The tenant's campaign with this name, or None."""
    return session.scalars(
        select(Campaign).where(Campaign.tenant_id == tenant_id, Campaign.name == name)
    ).first()


def list_campaigns(
    session: Session, *, tenant_id: int, status: str | None = None
) -> Sequence[Campaign]:
    """The tenant's campaigns (of one ``status`` when given), oldest first."""
    query = select(Campaign).where(Campaign.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Campaign.status == status)
    return session.scalars(query.order_by(Campaign.id)).all()


def update_campaign(session: Session, *, campaign: Campaign, values: Mapping[str, Any]) -> None:
    """Write new values of the editable columns (name, goal, offer, rules, budget,
    currency); flushed. Other keys are a programming error (``KeyError``)."""
    for name, value in values.items():
        if name not in _EDITABLE:
            raise KeyError(name)
        setattr(campaign, name, dict(value) if isinstance(value, Mapping) else value)
    session.flush()


def set_status(session: Session, *, campaign: Campaign, status: str, now: float) -> None:
    """Move the campaign to ``status`` (flushed): ``paused`` stamps ``paused_at``,
    ``active`` clears it, ``ended`` stamps ``ended_at``."""
    campaign.status = status
    if status == "paused":
        campaign.paused_at = now
    elif status == "active":
        campaign.paused_at = None
    elif status == "ended":
        campaign.ended_at = now
    session.flush()


def campaign_record(campaign: Campaign) -> dict[str, Any]:
    """The campaign as plain values: the fields of ``GET /api/campaigns/{id}``.

    ``destinations``, ``window_days`` and ``attribution`` come out of the stored rules
    (``attribution`` defaults to ``"last"``); ``status`` is ``active`` for a campaign
    stored before the lifecycle existed.
    """
    rules = campaign.rules or {}
    return {
        "id": campaign.id,
        "name": campaign.name,
        "goal": campaign.goal,
        "offer": campaign.offer,
        "destinations": list(rules.get("destinations", [])),
        "window_days": float(rules["window_days"]),
        "attribution": str(rules.get("attribution", "last")),
        "budget": campaign.budget,
        "currency": campaign.currency,
        "status": campaign.status or "active",
        "paused_at": campaign.paused_at,
        "ended_at": campaign.ended_at,
    }


def add_audit(
    session: Session,
    *,
    campaign_id: int,
    action: str,
    actor: str | None,
    now: float,
    changes: Mapping[str, Any] | None = None,
) -> CampaignAudit:
    """Append one row to the campaign's audit trail (flushed)."""
    row = CampaignAudit(
        campaign_id=campaign_id, at=now, actor=actor, action=action, changes=dict(changes or {})
    )
    session.add(row)
    session.flush()
    return row


def audit_trail(session: Session, *, campaign_id: int) -> Sequence[CampaignAudit]:
    """The campaign's audit rows, oldest first."""
    return session.scalars(
        select(CampaignAudit)
        .where(CampaignAudit.campaign_id == campaign_id)
        .order_by(CampaignAudit.id)
    ).all()
