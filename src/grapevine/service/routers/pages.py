"""Pages for people, not programs: the participant page and the shop's thank-you snippet.

- ``GET /p/{token}``: a participant sees their link and code, one-click share links per
  channel (each tagged with ``ch=`` so the funnel per channel is measured), their referrals
  and rewards. ``token`` is signed (:func:`grapevine.referrals.page_token`); a forged,
  malformed or expired token gets the same plain page, so it tells nothing about who exists.
- ``GET /p/{token}/stats``: the figures alone, which the page refreshes with htmx.
- ``GET /embed.js`` and ``POST /embed/enrol``: the snippet a shop puts on its thank-you page
  enrols the buyer with a signature the shop's server made
  (:func:`grapevine.referrals.embed_signature`) under a ``grapevine`` webhook secret of the
  campaign's tenant, and shows the same link and share buttons.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from grapevine import referrals as rf
from grapevine.errors import BadInput, GrapevineError, InvalidSignature, LinkExpired
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service._enrol import enrol
from grapevine.service._webhook_secrets import campaign_secrets
from grapevine.service.deps import IpSaltDep, SessionDep, SettingsDep
from grapevine.store import participant_repo, referrals_repo
from grapevine.store.participant_repo import ParticipantView

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "offer_text", "page_url", "router"]

STATIC_DIR = resources.files("grapevine.service") / "static"
TEMPLATES_DIR = resources.files("grapevine.service") / "templates"

router = APIRouter(tags=["pages"], responses=LIMIT_RESPONSES)  # deps.page_rate_limit
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

#: How the page names each channel.
LABELS = {
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
    "x": "X",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "email": "E-mail",
}


def _incentive(side: dict[str, Any] | None, currency: str | None) -> str | None:
    if not side:
        return None
    amount = float(side.get("amount", 0))
    if amount <= 0:
        return None
    if side.get("kind") == "percent":
        return f"{amount:g}% off"
    return f"{amount:,.2f} {currency or ''}".strip()


def offer_text(offer: dict[str, Any] | None, currency: str | None) -> str:
    """The offer in one line, for people: ``"Your friends get 20% off; you get 10.00 EUR."``."""
    if not offer:
        return ""
    friend = _incentive(offer.get("friend"), currency)
    referrer = _incentive(offer.get("referrer"), currency)
    parts = []
    if friend:
        parts.append(f"Your friends get {friend}")
    if referrer:
        parts.append(f"you get {referrer} for each friend who buys")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def page_url(request: Request, token: str) -> str:
    """The absolute URL of a participant page, on the public origin (the request's Host is
    replaced by :class:`grapevine.service._edge.PublicOrigin`)."""
    return str(request.url_for("participant_page", token=token))


def _referral_link(request: Request, code: str) -> str:
    return str(request.base_url).rstrip("/") + rf.referral_path(code)


def _share_text(view: ParticipantView) -> str:
    """What a share message says: the offer, or an invitation when there is none."""
    return offer_text(view.offer, view.currency) or f"Join me at {view.campaign_name}"


def _share(request: Request, view: ParticipantView) -> dict[str, str]:
    text = _share_text(view)
    return rf.share_links(_referral_link(request, view.code or ""), text=text, subject=text)


def _money(currency: str | None) -> Callable[[float], str]:
    def money(value: float) -> str:
        return f"{value:,.2f} {currency or ''}".strip()

    return money


def _invalid(request: Request, exc: GrapevineError | None = None) -> HTMLResponse:
    expired = isinstance(exc, LinkExpired)
    return templates.TemplateResponse(
        request,
        "page_error.html",
        {
            "heading": "This link has expired" if expired else "This link is not valid",
            "message": "Ask the shop for a new link to your referral page."
            if expired
            else "Check that you copied the whole link.",
        },
        status_code=status.HTTP_410_GONE if expired else status.HTTP_404_NOT_FOUND,
    )


def _view(token: str, session: SessionDep, salt: str) -> ParticipantView:
    participant_id = rf.read_page_token(token, salt)
    view = participant_repo.participant_view(session, participant_id=participant_id)
    if view is None or view.code is None:
        raise BadInput("no participant for this page token", field="token")
    return view


def _context(request: Request, token: str, view: ParticipantView) -> dict[str, Any]:
    return {
        "view": view,
        "now": time.time(),
        "money": _money(view.currency),
        # Paths, not URLs: the page's own origin answers them (and its CSP allows only it).
        "stats_url": request.url_for("participant_stats", token=token).path,
        "share_url": request.url_for("participant_share", token=token).path,
    }


@router.get("/p/{token}", response_class=HTMLResponse, name="participant_page")
def participant_page(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep
) -> HTMLResponse:
    """The participant's own page: link, code, share buttons, referrals and rewards."""
    try:
        view = _view(token, session, salt)
    except GrapevineError as exc:
        return _invalid(request, exc)
    links = _share(request, view)
    response = templates.TemplateResponse(
        request,
        "participant.html",
        {
            **_context(request, token, view),
            "links": links,
            "channels": list(LABELS.items()),
            "offer_text": offer_text(view.offer, view.currency),
            "mastodon_text": f"{_share_text(view)} {rf.channel_link(links['copy'], 'mastodon')}",
        },
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/p/{token}/stats", response_class=HTMLResponse, name="participant_stats")
def participant_stats(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep
) -> HTMLResponse:
    """The page's figures alone (an htmx fragment)."""
    try:
        view = _view(token, session, salt)
    except GrapevineError as exc:
        return _invalid(request, exc)
    response = templates.TemplateResponse(
        request, "_participant_stats.html", _context(request, token, view)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/p/{token}/share", status_code=status.HTTP_204_NO_CONTENT, name="participant_share")
def participant_share(
    token: str, session: SessionDep, salt: IpSaltDep, ch: str | None = None
) -> Response:
    """Record that the participant opened a share button (the ``share`` step of the funnel).

    The page posts it as the button opens the network's share dialog; whether the message
    was then sent is the network's to know, so this counts intents to share.
    """
    try:
        view = _view(token, session, salt)
    except GrapevineError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant page") from None
    if ch not in rf.CHANNELS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown channel {ch!r}")
    referrals_repo.add_event(
        session,
        campaign_id=view.campaign_id,
        kind="share",
        time=time.time(),
        code=view.code,
        referrer_id=view.person_id,
        idempotency_key=f"share:{uuid.uuid4().hex}",
        channel=ch,
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/embed.js", include_in_schema=False)
def embed_script() -> FileResponse:
    """The thank-you page snippet (see its header for how to include it)."""
    return FileResponse(
        str(STATIC_DIR / "embed.js"),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.post("/embed/enrol")
def embed_enrol(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    salt: IpSaltDep,
    campaign: Annotated[int, Form(ge=1)],
    email: Annotated[str, Form(min_length=3, max_length=320)],
    ts: Annotated[int, Form()],
    sig: Annotated[str, Form(min_length=64, max_length=64)],
) -> JSONResponse:
    """Enrol the buyer named by a signed thank-you page snippet; answer their link and page.

    The signature is :func:`grapevine.referrals.embed_signature` under a ``grapevine``
    webhook secret of the campaign's tenant (any secret still in its rotation overlap;
    ``GRAPEVINE_WEBHOOK_SECRET`` for tenant ``default`` only), valid for a day. An unknown
    campaign, a tenant without a secret and a wrong signature get the same 403. Form-encoded
    so that browsers send it without a CORS preflight; the answer may be read by any origin
    (it only tells the buyer their own link).
    """
    try:
        secrets = campaign_secrets(session, settings, campaign_id=campaign)
        rf.verify_embed_signature(sig, secrets, campaign_id=campaign, email=email, timestamp=ts)
    except InvalidSignature as exc:
        expired = exc.reason == "timestamp outside the tolerance"
        detail = "has expired" if expired else "does not match"
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the snippet's signature {detail}"
        ) from None
    row = referrals_repo.find_campaign(session, campaign_id=campaign)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {campaign}")
    enrolment = enrol(session, row, email=email, salt=salt)
    session.commit()
    token = rf.page_token(enrolment.participant_id, salt)
    view = participant_repo.participant_view(session, participant_id=enrolment.participant_id)
    assert view is not None
    return JSONResponse(
        {
            "code": enrolment.code,
            "link": _referral_link(request, enrolment.code),
            "page": page_url(request, token),
            "share": _share(request, view),
            "labels": LABELS,
            "headline": offer_text(view.offer, view.currency),
            "created": enrolment.created,
        },
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
    )
