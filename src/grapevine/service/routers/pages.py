"""Pages for people, not programs: the participant page and the shop's thank-you snippet.

- ``GET /p/{token}``: a participant sees their link and code, one-click share links per
  channel (each tagged with ``ch=`` so the funnel per channel is measured), their referrals
  and rewards. ``token`` is signed (:func:`grapevine.referrals.page_token`); a forged,
  malformed or expired token gets the same plain page, so it tells nothing about who exists.
- ``GET /p/{token}/stats``: the figures alone, which the page refreshes with htmx.
- ``GET /p/{token}/qr.svg`` (and ``.png``): the QR code of the participant's link (tagged
  ``ch=qr``, so scans are counted as their own channel).
- ``GET /brand/{rrggbb}.css``: the stylesheet of a brand colour (a file, so the page's CSP
  needs no inline style).

The page speaks the participant's language (:func:`grapevine.referrals.share_page`: their
own, the browser's ``Accept-Language``, the campaign's, English) and wears the campaign's
brand (display name, colour, logo from an allowed origin, whose origin alone is added to the
page's ``img-src``), with Open Graph and Twitter card tags.
- ``GET /embed.js`` and ``POST /embed/enrol``: the snippet a shop puts on its thank-you page
  enrols the buyer with a signature the shop's server made
  (:func:`grapevine.referrals.embed_signature`) under a ``grapevine`` webhook secret of the
  campaign's tenant, and shows the same link and share buttons.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from grapevine import referrals as rf
from grapevine.errors import BadInput, GrapevineError, InvalidSignature, LinkExpired
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service._headers import PAGE_CSP
from grapevine.service._webhook_secrets import campaign_secrets
from grapevine.service.deps import IpSaltDep, SessionDep, SettingsDep
from grapevine.store import events_repo, participant_repo

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "offer_text", "page_csp", "page_url", "router"]

STATIC_DIR = resources.files("grapevine.service") / "static"
TEMPLATES_DIR = resources.files("grapevine.service") / "templates"

router = APIRouter(tags=["pages"], responses=LIMIT_RESPONSES)  # deps.page_rate_limit
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

#: The share buttons of the page, in order (``copy`` and ``qr`` have their own places).
BUTTONS = ("whatsapp", "facebook", "x", "linkedin", "mastodon", "email")

_BRANDS = {"whatsapp": "WhatsApp", "facebook": "Facebook", "x": "X", "linkedin": "LinkedIn"}
_BRANDS["mastodon"] = "Mastodon"
_COLOR = re.compile(r"^[0-9a-f]{6}$")


def labels(texts: rf.Messages) -> dict[str, str]:
    """How the page names each share button: brand names, and e-mail in the language."""
    return {**_BRANDS, "email": texts("channel.email")}


def offer_text(offer: dict[str, Any] | None, currency: str | None) -> str:
    """The offer in one English line: ``"Your friends get 20% off; you get 10.00 EUR..."``
    (:func:`grapevine.referrals.offer_text` speaks the other languages)."""
    return rf.offer_text(offer, currency)


def page_csp(img_origins: tuple[str, ...] = ()) -> str:
    """:data:`~grapevine.service._headers.PAGE_CSP` with images also allowed from
    ``img_origins`` (a campaign logo's origin): nothing else is loosened.

    >>> page_csp(("https://shop.example",)).split("; ")[3]
    "img-src 'self' data: https://shop.example"
    """
    if not img_origins:
        return PAGE_CSP
    extra = " ".join(img_origins)
    return PAGE_CSP.replace("img-src 'self' data:", f"img-src 'self' data: {extra}", 1)


def page_url(request: Request, token: str) -> str:
    """The absolute URL of a participant page, on the public origin (the request's Host is
    replaced by :class:`grapevine.service._edge.PublicOrigin`)."""
    return str(request.url_for("participant_page", token=token))


def _referral_link(request: Request, code: str) -> str:
    return str(request.base_url).rstrip("/") + rf.referral_path(code)


def _share(request: Request, page: rf.SharePage) -> dict[str, str]:
    return rf.share_links(
        _referral_link(request, page.view.code or ""),
        text=page.share.text,
        subject=page.share.subject,
        email_text=page.share.email,
    )


def _money(texts: rf.Messages, currency: str | None) -> Callable[[float], str]:
    def money(value: float) -> str:
        return texts.money(value, currency)

    return money


def _status_text(texts: rf.Messages) -> Callable[[str], str]:
    def status_text(value: str) -> str:
        key = f"status.{value}"
        return texts(key) if key in texts.texts else value.replace("_", " ")

    return status_text


def _invalid(request: Request, exc: GrapevineError | None = None) -> HTMLResponse:
    expired = isinstance(exc, LinkExpired)
    language = rf.choose_language(accept_language=request.headers.get("accept-language"))
    texts = rf.messages(language)
    kind = "expired" if expired else "invalid"
    return templates.TemplateResponse(
        request,
        "page_error.html",
        {
            "lang": language,
            "t": texts,
            "heading": texts(f"error.{kind}_heading"),
            "message": texts(f"error.{kind}_message"),
        },
        status_code=status.HTTP_410_GONE if expired else status.HTTP_404_NOT_FOUND,
    )


def _page(request: Request, token: str, session: SessionDep, salt: str) -> rf.SharePage:
    participant_id = rf.read_page_token(token, salt)
    return rf.share_page(
        session,
        participant_id=participant_id,
        accept_language=request.headers.get("accept-language"),
    )


def _context(request: Request, token: str, page: rf.SharePage) -> dict[str, Any]:
    return {
        "view": page.view,
        "page": page,
        "lang": page.language,
        "t": page.texts,
        "now": time.time(),
        "money": _money(page.texts, page.view.currency),
        "status_text": _status_text(page.texts),
        # Paths, not URLs: the page's own origin answers them (and its CSP allows only it).
        "stats_url": request.url_for("participant_stats", token=token).path,
        "share_url": request.url_for("participant_share", token=token).path,
    }


def _vary(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language"


@router.get("/p/{token}", response_class=HTMLResponse, name="participant_page")
def participant_page(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep
) -> HTMLResponse:
    """The participant's own page: link, code, share buttons and QR code, referrals and
    rewards, in their language and the campaign's brand."""
    try:
        page = _page(request, token, session, salt)
    except GrapevineError as exc:
        return _invalid(request, exc)
    links = _share(request, page)
    texts, settings = page.texts, page.settings
    preview = settings.preview
    response = templates.TemplateResponse(
        request,
        "participant.html",
        {
            **_context(request, token, page),
            "links": links,
            "channels": [(ch, labels(texts)[ch]) for ch in BUTTONS],
            "offer_text": page.offer,
            "mastodon_text": f"{page.share.text} {rf.channel_link(links['copy'], 'mastodon')}",
            "qr_url": request.url_for("participant_qr", token=token).path,
            "brand_css": None
            if settings.color is None
            else request.url_for("brand_css", color=settings.color[1:]).path,
            "og": {
                "title": preview.title or page.name,
                "description": preview.description or page.offer or page.share.text,
                "image": preview.image,
                "url": links["copy"],
                "locale": texts("og.locale"),
            },
        },
    )
    _vary(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    if page.logo_url is not None:
        logo = urlsplit(page.logo_url)
        response.headers["Content-Security-Policy"] = page_csp(
            (f"{logo.scheme.lower()}://{logo.netloc.lower()}",)
        )
    return response


@router.get("/p/{token}/stats", response_class=HTMLResponse, name="participant_stats")
def participant_stats(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep
) -> HTMLResponse:
    """The page's figures alone (an htmx fragment)."""
    try:
        page = _page(request, token, session, salt)
    except GrapevineError as exc:
        return _invalid(request, exc)
    response = templates.TemplateResponse(
        request, "_participant_stats.html", _context(request, token, page)
    )
    _vary(response)
    return response


def _qr(request: Request, token: str, session: SessionDep, salt: str) -> segno.QRCode:
    try:
        participant_id = rf.read_page_token(token, salt)
    except BadInput:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant page") from None
    view = participant_repo.participant_view(session, participant_id=participant_id)
    if view is None or view.code is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant page")
    link = rf.channel_link(_referral_link(request, view.code), "qr")
    return segno.make(link, error="m")


_QR_CACHE = "private, max-age=3600"


@router.get(
    "/p/{token}/qr.svg",
    name="participant_qr",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def participant_qr(token: str, request: Request, session: SessionDep, salt: IpSaltDep) -> Response:
    """The QR code of the participant's link (SVG); a scan is a click on channel ``qr``."""
    out = io.BytesIO()
    _qr(request, token, session, salt).save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": _QR_CACHE}
    )


@router.get(
    "/p/{token}/qr.png",
    name="participant_qr_png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def participant_qr_png(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep
) -> Response:
    """The same QR code as a PNG (to print or paste where SVG is not taken)."""
    out = io.BytesIO()
    _qr(request, token, session, salt).save(out, kind="png", scale=8, border=2)
    return Response(out.getvalue(), media_type="image/png", headers={"Cache-Control": _QR_CACHE})


@router.get("/brand/{color}.css", name="brand_css", response_class=Response)
def brand_css(color: str) -> Response:
    """The stylesheet of a brand colour (``rrggbb``, lower-case hex): the page's accent and
    a text colour readable on it (WCAG relative luminance)."""
    if not _COLOR.match(color):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "a colour is 6 lower-case hex digits")
    on = _readable_on(color)
    body = f":root {{ --brand: #{color}; --accent: #{color}; --on-accent: {on}; }}\n"
    return Response(body, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})


def _readable_on(color: str) -> str:
    """Black or white, whichever contrasts more with ``color`` (WCAG 2 contrast ratio).

    >>> _readable_on("ffcc00"), _readable_on("1a237e")
    ('#000000', '#ffffff')
    """

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (0, 2, 4))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


@router.post("/p/{token}/share", status_code=status.HTTP_204_NO_CONTENT, name="participant_share")
def participant_share(
    token: str, request: Request, session: SessionDep, salt: IpSaltDep, ch: str | None = None
) -> Response:
    """Record that the participant opened a share button (the ``share`` step of the funnel).

    The page posts it as the button opens the network's share dialog; whether the message
    was then sent is the network's to know, so this counts intents to share.
    """
    try:
        view = _page(request, token, session, salt).view
    except GrapevineError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such participant page") from None
    if ch not in rf.CHANNELS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown channel {ch!r}")
    events_repo.add_event(
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
    enrolment = rf.enrol(session, campaign_id=campaign, email=email, salt=salt)
    session.commit()
    token = rf.page_token(enrolment.participant_id, salt)
    page = rf.share_page(
        session,
        participant_id=enrolment.participant_id,
        accept_language=request.headers.get("accept-language"),
    )
    texts = page.texts
    return JSONResponse(
        {
            "code": enrolment.code,
            "link": _referral_link(request, enrolment.code),
            "page": page_url(request, token),
            "share": _share(request, page),
            "labels": labels(texts),
            "headline": page.offer or page.share.text,
            "language": page.language,
            "texts": {
                "copy": texts("page.copy"),
                "copied": texts("page.copied"),
                "link": texts("page.link_label"),
                "code": texts("page.code"),
                "page": texts("stats.heading"),
            },
            "created": enrolment.created,
        },
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
    )
