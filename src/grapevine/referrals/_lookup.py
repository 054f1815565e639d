"""Finding a campaign for a workflow, and reading the parts of its rules every workflow needs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grapevine._validation import EVENT_TIME, TIME, Domain
from grapevine.errors import BadInput, CampaignNotFound
from grapevine.store import campaigns_repo
from grapevine.store.models import Campaign

__all__ = ["EVENT_TIME_RULE", "MAX_ID", "event_times", "load_campaign", "window_seconds"]

MAX_ID = 2**63 - 1
"""The largest id the id columns hold: a larger one names no record (not a database error)."""

EVENT_TIME_RULE = "event_time_range"
"""The ``Campaign.rules`` key of a campaign's own event time range: ``[earliest, latest)``."""


def load_campaign(session: Session, *, campaign_id: int, tenant_id: int | None = None) -> Campaign:
    """The campaign row (of ``tenant_id`` when given).

    Raises :class:`~grapevine.errors.CampaignNotFound` for a missing campaign, another
    tenant's campaign and an id no id column can hold alike.
    """
    campaign = (
        campaigns_repo.find_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
        if 1 <= campaign_id <= MAX_ID
        else None
    )
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def window_seconds(campaign: Campaign) -> float:
    """The campaign's attribution window in seconds."""
    return float((campaign.rules or {})["window_days"]) * 86400.0


def event_times(campaign: Campaign) -> Domain:
    """The times a campaign's events may have: ``rules.event_time_range`` (``[earliest,
    latest)`` in Unix seconds, inside years 1900-2099) or by default years 2000-2099.

    A malformed range is a :class:`BadInput` naming ``rules.event_time_range``.
    """
    given = (campaign.rules or {}).get(EVENT_TIME_RULE)
    if given is None:
        return EVENT_TIME
    ok = isinstance(given, list | tuple) and len(given) == 2
    ok = ok and all(TIME.contains(v) or v == TIME.high for v in given) and given[0] < given[1]
    if not ok:
        raise BadInput(
            f"must be [earliest, latest) Unix seconds inside {TIME.expected}; got {given!r}",
            field=f"rules.{EVENT_TIME_RULE}",
        )
    return TIME.within(float(given[0]), float(given[1]), note="the campaign's time range")
