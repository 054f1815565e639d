"""``/u/{token}``: unsubscribe from the participant e-mails (RFC 8058 one-click).

``GET`` shows a page in the participant's language that asks to confirm (a GET changes
nothing: mail scanners follow links); ``POST`` (the mail client's one-click request with
``List-Unsubscribe=One-Click``, or the page's button) unsubscribes at once. No key: the
signed token is the authority. Rate-limited like the participant pages.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from grapevine import outbound
from grapevine.errors import BadInput, NotFound
from grapevine.outbound._unsubscribe import PAGE_TEXTS
from grapevine.service.deps import IpSaltDep, SessionDep

__all__ = ["router"]

router = APIRouter(tags=["unsubscribe"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


def _page(
    request: Request, state: outbound.UnsubscribeState | None, status_code: int = 200
) -> HTMLResponse:
    lang = state.language if state is not None else "en"
    return templates.TemplateResponse(
        request,
        "unsubscribe.html",
        {"state": state, "text": PAGE_TEXTS[lang], "lang": lang, "action": request.url.path},
        status_code=status_code,
    )


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm_page(
    request: Request, token: str, session: SessionDep, salt: IpSaltDep
) -> HTMLResponse:
    """The confirmation page of an unsubscribe link (404 page for a link that is not valid)."""
    try:
        state = outbound.unsubscribe_state(session, token=token, secret=salt)
    except (BadInput, NotFound):
        return _page(request, None, 404)
    return _page(request, state)


@router.post("/u/{token}", response_class=HTMLResponse)
def one_click(request: Request, token: str, session: SessionDep, salt: IpSaltDep) -> HTMLResponse:
    """Unsubscribe now (RFC 8058 one-click POST, or the confirmation page's button)."""
    try:
        state = outbound.unsubscribe(session, token=token, secret=salt)
    except (BadInput, NotFound):
        return _page(request, None, 404)
    session.commit()
    return _page(request, state)
