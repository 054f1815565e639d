"""``/r/{code}``: the personal short link. Records the click, sets the cookie, redirects."""

from __future__ import annotations

import re
import secrets
import time
import uuid

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse

from grapevine import referrals as rf
from grapevine.errors import BadInput
from grapevine.service.deps import IpSaltDep, SessionDep
from grapevine.service.routers.campaigns import window_seconds
from grapevine.store import referrals_repo as repo

__all__ = ["VISITOR_COOKIE", "router"]

router = APIRouter(tags=["redirects"])

VISITOR_COOKIE = "gv_vid"
"""The attribution cookie: a random visitor id; the clicks it made are kept server-side."""

_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@router.head("/r/{code}", response_class=RedirectResponse, operation_id="head_referral_link")
@router.get("/r/{code}", response_class=RedirectResponse, operation_id="follow_referral_link")
def follow_link(
    code: str,
    request: Request,
    session: SessionDep,
    salt: IpSaltDep,
    to: str | None = None,
) -> RedirectResponse:
    """Record a click on ``code`` and redirect (307) to an allowlisted destination.

    ``to`` may ask for another page; :func:`grapevine.referrals.resolve_destination` keeps it
    only when its origin is on the campaign's allowlist. Every other query parameter is
    ignored. HEAD requests and link-preview or bot user agents are recorded as clicks with
    their ``traffic`` class, never as human clicks.
    """
    try:
        normal = rf.normalize_code(code)
    except BadInput:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown referral code") from None
    row = repo.find_code(session, code=normal)
    campaign = None if row is None else repo.find_campaign(session, campaign_id=row.campaign_id)
    if row is None or campaign is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown referral code")
    user_agent = request.headers.get("user-agent")
    traffic = rf.classify_request(request.method, user_agent)
    visitor = request.cookies.get(VISITOR_COOKIE, "")
    if not _VISITOR.match(visitor):
        visitor = secrets.token_urlsafe(18)
    ip_hash = None
    if request.client is not None:
        try:
            ip_hash = rf.hash_ip(request.client.host, salt)
        except BadInput:  # a unix socket or a test client: no address to keep
            ip_hash = None
    repo.add_event(
        session,
        campaign_id=campaign.id,
        kind="click",
        time=time.time(),
        code=normal,
        referrer_id=row.person_id,
        ip_hash=ip_hash,
        user_agent=(user_agent or "")[:512] or None,
        idempotency_key=f"click:{uuid.uuid4().hex}",
        visitor_id=visitor,
        traffic=traffic.kind,
    )
    session.commit()
    destinations = list((campaign.rules or {}).get("destinations", []))
    target = rf.resolve_destination(destinations, to, params={"ref": normal})
    response = RedirectResponse(target, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_cookie(
        VISITOR_COOKIE,
        visitor,
        max_age=int(window_seconds(campaign)),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
