"""The participant's share page as the application layer sees it: who, in which language,
under which brand, with which texts. The service's page route renders it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from grapevine.errors import BadInput
from grapevine.referrals._i18n import Messages, choose_language, messages
from grapevine.referrals._page import PageSettings
from grapevine.referrals._share import ShareTexts, offer_text, share_texts
from grapevine.store import participant_repo
from grapevine.store.models import Campaign, Participant
from grapevine.store.participant_repo import ParticipantView

__all__ = ["SharePage", "share_page"]


@dataclass(frozen=True)
class SharePage:
    """Everything the share page shows, in the participant's language.

    Attributes
    ----------
    view : ParticipantView
        The participant, their code, referrals and rewards.
    language : str
        The page's language (:func:`~grapevine.referrals.choose_language`).
    texts : Messages
        The catalogue of ``language``.
    settings : PageSettings
        The campaign's page settings.
    name : str
        The name the page shows: the display name, else the campaign's name.
    logo_url : str or None
        The logo, when it is still on an allowed origin.
    offer : str
        The offer said to the participant ("" without an offer).
    share : ShareTexts
        What the share messages say to friends.
    """

    view: ParticipantView
    language: str
    texts: Messages
    settings: PageSettings
    name: str
    logo_url: str | None
    offer: str
    share: ShareTexts


def share_page(
    session: Session, *, participant_id: int, accept_language: str | None = None
) -> SharePage:
    """Read what a participant's page shows and choose its language.

    The language is the participant's own (``participants.language``), else the best of
    ``accept_language`` (the browser's header), else the campaign's (``page.language``),
    else English.

    Raises
    ------
    BadInput
        (field ``token``) when there is no such participant, or they have no active code:
        the page answers as for a wrong token, telling nothing about who exists.
    """
    view = participant_repo.participant_view(session, participant_id=participant_id)
    if view is None or view.code is None:
        raise BadInput("no participant for this page token", field="token")
    participant = session.get(Participant, participant_id)
    campaign = session.get(Campaign, view.campaign_id)
    rules = (campaign.rules if campaign is not None else None) or {}
    settings = PageSettings.stored(rules.get("page"))
    language = choose_language(
        participant=participant.language if participant is not None else None,
        accept_language=accept_language,
        campaign=settings.language,
    )
    texts = messages(language)
    name = settings.display_name or view.campaign_name
    return SharePage(
        view=view,
        language=language,
        texts=texts,
        settings=settings,
        name=name,
        logo_url=settings.logo_allowed(rules.get("destinations", ())),
        offer=offer_text(view.offer, view.currency, texts),
        share=share_texts(view.offer, view.currency, name=name, texts=texts),
    )
