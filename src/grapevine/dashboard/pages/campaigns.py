"""The campaign pages: list, create and edit, lifecycle, figures, leaderboard, review queue.

Every page calls the referral workflows of :mod:`grapevine.referrals` (the same the API and
the CLI call): a form is turned into a campaign document and checked by the workflow, so
the page accepts and refuses exactly what ``POST /api/campaigns`` does, and shows the
refusal next to the field it names. Figures come from :func:`grapevine.referrals.
campaign_stats` and :func:`grapevine.referrals.leaderboard` (the rollups).

Routes (tenant from ``?tenant=``): ``/campaigns``, ``/campaigns/new``,
``/campaigns/{id}``, ``/campaigns/{id}/edit``, ``POST /campaigns/{id}/pause|resume|end``,
``/campaigns/{id}/review`` and ``POST /campaigns/{id}/review``.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.dashboard._access import DbSession, Viewer, ViewerDep
from grapevine.dashboard._render import render
from grapevine.dashboard._tenant import tenant_of
from grapevine.dashboard.pages._campaign_figures import campaign_figures, campaign_rows
from grapevine.dashboard.pages._campaign_form import (
    EMPTY_FORM,
    FIELD_OF,
    form_document,
    form_of,
)
from grapevine.errors import (
    BadInput,
    CampaignClosed,
    CampaignNotFound,
    Conflict,
    InvalidParameter,
    NotFound,
)
from grapevine.store import tenants_repo

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_FLASH = {
    "created": "Campaign created.",
    "saved": "Changes saved.",
    "unchanged": "Nothing changed.",
    "pause": "Campaign paused: links keep working, nobody new joins, no rewards until resumed.",
    "resume": "Campaign resumed.",
    "end": "Campaign ended: links go to the landing page; earned rewards keep their course.",
    "approve": "Approved: the rewards go ahead.",
    "reject": "Rejected: the rewards are void.",
}


def _tenant_id(session: Session, slug: str) -> int:
    tenant = tenants_repo.find_tenant(session, slug=slug)
    if tenant is None:
        raise HTTPException(404, f"no tenant {slug!r}")
    return int(tenant.id)


def _editor(viewer: Viewer, tenant: str) -> None:
    if not viewer.can("editor", tenant):
        raise HTTPException(403, f"changing campaigns of {tenant!r} needs the editor role")


def _to(path: str, tenant: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'tenant': tenant, **params})}", status_code=303)


def _campaign(session: Session, campaign_id: int, tenant_id: int) -> rf.CampaignView:
    try:
        return rf.get_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    except CampaignNotFound:
        raise HTTPException(404, f"no campaign {campaign_id} in this tenant") from None


def _flash(request: Request) -> str | None:
    return _FLASH.get(request.query_params.get("done", ""))


# ---------------------------------------------------------------------------- list
@router.get("/campaigns")
def campaigns_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """The tenant's campaigns with their status and headline figures."""
    tenant = tenant_of(request, viewer)
    tenant_id = _tenant_id(session, tenant)
    campaigns = rf.list_campaigns(session, tenant_id=tenant_id)
    table = campaign_rows(session, campaigns, tenant=tenant)
    return render(
        request,
        "campaigns.html",
        {"count": len(campaigns), "can_edit": viewer.can("editor", tenant), "flash": None},
        viewer=viewer,
        active="campaigns",
        tenant=tenant,
        tables=[table],
    )


# ---------------------------------------------------------------------------- create / edit
def _form_page(
    request: Request,
    viewer: Viewer,
    tenant: str,
    form: dict[str, str],
    *,
    campaign: rf.CampaignView | None,
    error: BadInput | Conflict | None = None,
) -> Response:
    return render(
        request,
        "campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "error": None if error is None else str(getattr(error, "message", error)),
            "error_field": getattr(error, "field", None),
            "field_of": FIELD_OF,
        },
        viewer=viewer,
        active="campaigns",
        tenant=tenant,
        status_code=200 if error is None else 422,
    )


@router.get("/campaigns/new")
def new_campaign_page(request: Request, viewer: ViewerDep) -> Response:
    """The empty campaign form."""
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    return _form_page(request, viewer, tenant, dict(EMPTY_FORM), campaign=None)


@router.post("/campaigns/new")
async def create_campaign_action(
    request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """Create the campaign the form describes (the workflow checks it)."""
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    try:
        created = rf.create_campaign(
            session,
            tenant_id=_tenant_id(session, tenant),
            document=form_document(form, base=None),
            actor=f"dashboard {viewer.username}",
        )
        session.commit()
    except (BadInput, Conflict) as exc:
        session.rollback()
        return _form_page(request, viewer, tenant, form, campaign=None, error=exc)
    return _to(f"/campaigns/{created.id}", tenant, done="created")


@router.get("/campaigns/{campaign_id}/edit")
def edit_campaign_page(
    campaign_id: int, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """The campaign's form, filled in."""
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    campaign = _campaign(session, campaign_id, _tenant_id(session, tenant))
    return _form_page(request, viewer, tenant, form_of(campaign), campaign=campaign)


@router.post("/campaigns/{campaign_id}/edit")
async def edit_campaign_action(
    campaign_id: int, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """Apply the form as an edit (checked exactly like a creation)."""
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    tenant_id = _tenant_id(session, tenant)
    campaign = _campaign(session, campaign_id, tenant_id)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    try:
        done = rf.update_campaign(
            session,
            campaign_id=campaign_id,
            tenant_id=tenant_id,
            changes=form_document(form, base=campaign),
            actor=f"dashboard {viewer.username}",
        )
        session.commit()
    except (BadInput, Conflict) as exc:
        session.rollback()
        return _form_page(request, viewer, tenant, form, campaign=campaign, error=exc)
    return _to(f"/campaigns/{campaign_id}", tenant, done="saved" if done.changed else "unchanged")


# ---------------------------------------------------------------------------- one campaign
@router.get("/campaigns/{campaign_id}")
def campaign_page(
    campaign_id: int, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """One campaign: funnel by channel, K by generation and weekly cohort, cycle time,
    leaderboard, rewards by state, the review queue's size and the lifecycle buttons."""
    return _campaign_view(request, session, viewer, campaign_id)


def _campaign_view(
    request: Request,
    session: Session,
    viewer: Viewer,
    campaign_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    tenant = tenant_of(request, viewer)
    campaign = _campaign(session, campaign_id, _tenant_id(session, tenant))
    figures = campaign_figures(session, campaign, tenant=tenant)
    return render(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "f": figures,
            "can_edit": viewer.can("editor", tenant),
            "flash": None if error else _flash(request),
            "error": error,
        },
        viewer=viewer,
        active="campaigns",
        tenant=tenant,
        tables=figures.tables,
        status_code=status_code,
    )


# ---------------------------------------------------------------------------- review queue
@router.get("/campaigns/{campaign_id}/review")
def review_page(
    campaign_id: int, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """The conversions held for review, with the reasons, and approve / reject."""
    return _review_view(request, session, viewer, campaign_id)


def _review_view(
    request: Request,
    session: Session,
    viewer: Viewer,
    campaign_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    from grapevine.dashboard._tables import Table

    tenant = tenant_of(request, viewer)
    tenant_id = _tenant_id(session, tenant)
    campaign = _campaign(session, campaign_id, tenant_id)
    entries = rf.review_entries(session, campaign_id=campaign_id, tenant_id=tenant_id)
    stamp = "%Y-%m-%d %H:%M"
    table = Table(
        "review",
        ["Event", "Kind", "When (UTC)", "Referrer", "Friend", "Value", "Held", "Risk", "Reasons"],
        [
            (
                e.event_key,
                e.kind,
                time.strftime(stamp, time.gmtime(e.time)),
                e.referrer,
                e.friend,
                e.value,
                e.amount,
                e.risk,
                "; ".join(e.reasons),
            )
            for e in entries
        ],
        caption="Held for review",
    )
    return render(
        request,
        "campaign_review.html",
        {
            "campaign": campaign,
            "entries": entries,
            "can_edit": viewer.can("editor", tenant),
            "flash": None if error else _flash(request),
            "error": error,
            "stamp": stamp,
            "gmtime": time.gmtime,
            "strftime": time.strftime,
        },
        viewer=viewer,
        active="campaigns",
        tenant=tenant,
        tables=[table],
        status_code=status_code,
    )


@router.post("/campaigns/{campaign_id}/review")
async def review_action(
    campaign_id: int, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """Approve or reject one held conversion (the form's ``event_key`` and ``outcome``)."""
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    tenant_id = _tenant_id(session, tenant)
    form = await request.form()
    outcome = str(form.get("outcome", ""))
    try:
        rf.decide(
            session,
            campaign_id=campaign_id,
            tenant_id=tenant_id,
            event_key=str(form.get("event_key", "")),
            outcome=outcome,
            reviewer=f"dashboard {viewer.username}",
            note=str(form.get("note") or "") or None,
        )
        session.commit()
    except CampaignNotFound:
        raise HTTPException(404, f"no campaign {campaign_id} in this tenant") from None
    except (NotFound, Conflict, BadInput, InvalidParameter) as exc:
        session.rollback()
        return _review_view(request, session, viewer, campaign_id, error=str(exc), status_code=409)
    return _to(f"/campaigns/{campaign_id}/review", tenant, done=outcome)


# ---------------------------------------------------------------------------- lifecycle
# Last: its path would take the review queue's POST if it came first.
@router.post("/campaigns/{campaign_id}/{action}")
def lifecycle_action(
    campaign_id: int, action: str, request: Request, session: DbSession, viewer: ViewerDep
) -> Response:
    """Pause, resume or end the campaign."""
    moves = {"pause": rf.pause_campaign, "resume": rf.resume_campaign, "end": rf.end_campaign}
    if action not in moves:
        raise HTTPException(404, f"no action {action!r}")
    tenant = tenant_of(request, viewer)
    _editor(viewer, tenant)
    tenant_id = _tenant_id(session, tenant)
    _campaign(session, campaign_id, tenant_id)
    try:
        moves[action](
            session,
            campaign_id=campaign_id,
            tenant_id=tenant_id,
            actor=f"dashboard {viewer.username}",
        )
        session.commit()
    except CampaignClosed as exc:
        session.rollback()
        return _campaign_view(
            request, session, viewer, campaign_id, error=str(exc), status_code=409
        )
    return _to(f"/campaigns/{campaign_id}", tenant, done=action)
