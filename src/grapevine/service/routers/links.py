"""``/api/link-misses`` and ``/api/tenant/landing``: where links that cannot refer anyone go,
and how many did.

Thin adapters over :func:`grapevine.referrals.link_misses` and
:func:`grapevine.referrals.set_landing_page`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service._misses import misses_written
from grapevine.service.deps import AdminKey, ReadKey, SessionDep

__all__ = ["INSTALLATION_TENANT", "LandingPage", "LinkMissesPublic", "router"]

router = APIRouter(tags=["links"], responses=AUTH_RESPONSES)

_YEAR_2100 = 4_102_444_800.0  # 2100-01-01 UTC: the latest time the store keeps

INSTALLATION_TENANT = "default"
"""The installation's own tenant: it also sees the misses of codes nobody has."""


class LinkMissesPublic(BaseModel):
    since: float | None = Field(
        description="Start of the count (Unix seconds, a UTC midnight); null: all time."
    )
    totals: dict[str, int] = Field(
        description="Misses per reason: unknown (no such code: counted for the installation's "
        "own tenant only), disabled (a disabled code), ended (a code of an ended campaign)."
    )
    by_campaign: dict[int, dict[str, int]] = Field(description="Campaign id -> reason -> misses.")


class LandingPage(BaseModel):
    """A tenant's landing page: where its disabled codes send people (null: none)."""

    model_config = ConfigDict(extra="forbid")

    url: Text | None = Field(default=None, max_length=2048)


@router.get("/api/link-misses", dependencies=[Depends(misses_written)])
def read_link_misses(
    session: SessionDep,
    key: ReadKey,
    since: Annotated[
        float | None,
        Query(ge=0, le=_YEAR_2100, allow_inf_nan=False, description="Unix seconds (UTC)."),
    ] = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> LinkMissesPublic:
    """Short-link requests of the tenant's campaigns that went to a landing page, by reason."""
    misses = rf.link_misses(
        session,
        tenant_id=key.tenant_id,
        campaign_id=campaign_id,
        since=since,
        include_unknown=key.tenant_slug == INSTALLATION_TENANT,
    )
    return LinkMissesPublic(
        since=misses.since, totals=misses.totals, by_campaign=misses.by_campaign
    )


@router.get("/api/tenant/landing")
def read_landing_page(session: SessionDep, key: ReadKey) -> LandingPage:
    """The tenant's landing page."""
    return LandingPage(url=rf.landing_page(session, tenant_id=key.tenant_id))


@router.put("/api/tenant/landing")
def set_landing_page(body: LandingPage, session: SessionDep, key: AdminKey) -> LandingPage:
    """Set (or with ``null`` remove) the tenant's landing page (admin). Its disabled codes
    redirect there within ``GRAPEVINE_LINK_CACHE_SECONDS``."""
    url = rf.set_landing_page(session, tenant_id=key.tenant_id, url=body.url)
    session.commit()
    return LandingPage(url=url)
