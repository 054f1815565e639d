"""Unsubscribing from the participant e-mails: signed links and the one-click workflow.

Each participant e-mail carries ``List-Unsubscribe: <https://.../u/{token}>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): a mail client POSTs to the
link and the person is unsubscribed without a further step; a person who opens the link sees a
page that confirms with a POST (a GET changes nothing, so link scanners cannot unsubscribe
anyone). The token names the participant and is signed (HMAC-SHA256 under a key derived from
``GRAPEVINE_IP_SALT``, separate from the participant-page key); it does not expire, as
RFC 8058 asks of the link.

Unsubscribing marks every participant of the same tenant with the same e-mail address:
people who unsubscribe get no more participant mail from that tenant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time as _time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, NotFound
from grapevine.outbound._render import campaign_language, choose_language
from grapevine.store.models import Campaign, Participant

__all__ = [
    "PAGE_TEXTS",
    "UnsubscribeState",
    "read_unsubscribe_token",
    "unsubscribe",
    "unsubscribe_state",
    "unsubscribe_token",
]

_VERSION = "u1"

PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop the e-mails about {campaign}?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed: you will get no more e-mails about {campaign}.",
        "invalid": "This unsubscribe link is not valid.",
    },
    "nl": {
        "title": "Afmelden",
        "ask": "Geen e-mails meer ontvangen over {campaign}?",
        "button": "Afmelden",
        "done": "Je bent afgemeld: je ontvangt geen e-mails meer over {campaign}.",
        "invalid": "Deze afmeldlink is niet geldig.",
    },
    "de": {
        "title": "Abmelden",
        "ask": "Keine E-Mails mehr zu {campaign} erhalten?",
        "button": "Abmelden",
        "done": "Du bist abgemeldet: Du erhältst keine E-Mails mehr zu {campaign}.",
        "invalid": "Dieser Abmeldelink ist nicht gültig.",
    },
    "sv": {
        "title": "Avsluta prenumerationen",
        "ask": "Sluta få mejl om {campaign}?",
        "button": "Avsluta prenumerationen",
        "done": "Din prenumeration är avslutad: du får inga fler mejl om {campaign}.",
        "invalid": "Den här länken för att avsluta prenumerationen är inte giltig.",
    },
}
"""The unsubscribe page's words, per language of :data:`~grapevine.outbound.LANGUAGES`."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"grapevine unsubscribe v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsubscribe_token(participant_id: int, secret: str) -> str:
    """The signed unsubscribe token of a participant.

    >>> token = unsubscribe_token(42, "s3cret")
    >>> read_unsubscribe_token(token, "s3cret")
    42
    """
    body = f"{_VERSION}.{int(participant_id):d}"
    mac = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()[:16]
    return f"{body}.{_b64(mac)}"


def read_unsubscribe_token(token: str, secret: str) -> int:
    """The participant id of a token made by :func:`unsubscribe_token`.

    Raises
    ------
    BadInput
        (field ``token``) for anything that is not such a token, or whose signature is wrong.
    """
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION or not parts[1].isdigit():
        raise BadInput("not an unsubscribe token", field="token")
    expected = unsubscribe_token(int(parts[1]), secret)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise BadInput("the unsubscribe link is not valid", field="token")
    return int(parts[1])


@dataclass(frozen=True)
class UnsubscribeState:
    """What the unsubscribe page shows: whose link, which campaign, and whether done."""

    participant_id: int
    campaign_name: str
    language: str
    unsubscribed: bool
    unsubscribed_at: float | None


def _state(session: Session, participant_id: int) -> UnsubscribeState:
    person = session.get(Participant, participant_id)
    if person is None:  # erased since the e-mail was sent: nothing left to unsubscribe
        raise NotFound("participant", participant_id)
    campaign = session.get(Campaign, person.campaign_id)
    return UnsubscribeState(
        participant_id=participant_id,
        campaign_name=campaign.name if campaign is not None else "",
        language=choose_language(person.language, campaign_language(campaign)),
        unsubscribed=person.unsubscribed_at is not None,
        unsubscribed_at=person.unsubscribed_at,
    )


def unsubscribe_state(session: Session, *, token: str, secret: str) -> UnsubscribeState:
    """The state behind an unsubscribe link (for the confirmation page); changes nothing.

    Raises
    ------
    BadInput
        The token is not valid.
    NotFound
        The participant is gone (erased).
    """
    return _state(session, read_unsubscribe_token(token, secret))


def unsubscribe(
    session: Session, *, token: str, secret: str, now: float | None = None
) -> UnsubscribeState:
    """Unsubscribe the person of ``token`` from the participant e-mails of its tenant.

    Idempotent: a second call keeps the first time. Flushes; the caller commits.

    Raises
    ------
    BadInput
        The token is not valid.
    NotFound
        The participant is gone (erased).
    """
    participant_id = read_unsubscribe_token(token, secret)
    person = session.get(Participant, participant_id)
    if person is None:
        raise NotFound("participant", participant_id)
    at = _time.time() if now is None else float(now)
    tenant_id = session.scalar(select(Campaign.tenant_id).where(Campaign.id == person.campaign_id))
    same_tenant = select(Campaign.id).where(Campaign.tenant_id == tenant_id)
    session.execute(
        update(Participant)
        .where(
            Participant.email == person.email,
            Participant.campaign_id.in_(same_tenant),
            Participant.unsubscribed_at.is_(None),
        )
        .values(unsubscribed_at=at)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire(person)
    return _state(session, participant_id)
