"""Sharing: one-click share links per channel, and signed tokens for the participant page.

Every share link carries the channel in the referral link's ``ch`` parameter
(``/r/CODE?ch=whatsapp``), so a click through it is counted for that channel and the
funnel share -> click -> signup -> purchase per channel is measured, not guessed.

The texts of the page and of the messages come from the catalogue of the participant's
language (:mod:`grapevine.referrals._i18n`): :func:`offer_text` speaks to the participant,
:func:`share_texts` to the friend who receives the message.

The participant page ``/p/{token}`` is reached with a token that names the participant
and is signed with a key derived from the service secret (HMAC-SHA256, truncated to 128
bits): it cannot be guessed or forged, and a token for an e-mail can carry an expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from grapevine.errors import BadInput, InvalidSignature, LinkExpired
from grapevine.referrals._i18n import Messages, messages

__all__ = [
    "CHANNELS",
    "EMBED_TOLERANCE_SECONDS",
    "ShareTexts",
    "channel_link",
    "embed_signature",
    "offer_text",
    "page_token",
    "read_page_token",
    "share_links",
    "share_texts",
    "verify_embed_signature",
]

#: The channels a participant can share to, in the order the page shows them; ``qr`` is the
#: QR code of the page (a scan opens the link tagged ``ch=qr``).
CHANNELS = ("whatsapp", "facebook", "x", "linkedin", "mastodon", "email", "copy", "qr")

#: How long a thank-you page's signature stays valid (the page may be reloaded later).
EMBED_TOLERANCE_SECONDS = 24 * 3600

_TOKEN_VERSION = "p1"
_SIG_BYTES = 16


def channel_link(link: str, channel: str) -> str:
    """``link`` with ``ch=channel`` added to its query (any earlier ``ch`` replaced).

    >>> channel_link("https://gv.example/r/ABC", "x")
    'https://gv.example/r/ABC?ch=x'
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    parts = urlsplit(link)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("ch=")]
    query = "&".join([*kept, urlencode({"ch": channel})])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def share_links(
    link: str,
    *,
    text: str,
    subject: str = "",
    email_text: str | None = None,
    mastodon_instance: str = "mastodon.social",
) -> dict[str, str]:
    """One-click share URLs for each channel, each pointing at ``link`` tagged with it.

    ``text`` goes before the link in the chat channels; the e-mail has ``subject`` and
    ``email_text`` (``text`` when None) before the link. Mastodon has no central share
    page: the link opens the ``/share`` page of ``mastodon_instance`` (the page lets the
    participant change it). ``qr`` is the link a QR code carries.

    >>> links = share_links("https://gv.example/r/ABC", text="10% off")
    >>> links["whatsapp"]
    'https://wa.me/?text=10%25%20off%20https%3A%2F%2Fgv.example%2Fr%2FABC%3Fch%3Dwhatsapp'
    >>> links["copy"]
    'https://gv.example/r/ABC?ch=copy'
    """
    tagged = {ch: channel_link(link, ch) for ch in CHANNELS}

    def q(value: str) -> str:
        return quote(value, safe="")

    def with_text(channel: str, sep: str = " ") -> str:
        return q(sep.join(part for part in (text, tagged[channel]) if part))

    return {
        "whatsapp": "https://wa.me/?text=" + with_text("whatsapp"),
        "facebook": "https://www.facebook.com/sharer/sharer.php?u=" + q(tagged["facebook"]),
        "x": f"https://x.com/intent/post?text={q(text)}&url={q(tagged['x'])}",
        "linkedin": "https://www.linkedin.com/sharing/share-offsite/?url=" + q(tagged["linkedin"]),
        "mastodon": f"https://{mastodon_instance}/share?text=" + with_text("mastodon"),
        "email": f"mailto:?subject={q(subject or text)}&body="
        + q("\n\n".join(p for p in (email_text or text, tagged["email"]) if p)),
        "copy": tagged["copy"],
        "qr": tagged["qr"],
    }


def _figure(value: float, texts: Messages) -> str:
    # 20 -> "20", 12.5 -> "12.5" / "12,5": a percentage as people write it
    return texts.number(value, 0) if float(value).is_integer() else texts.number(value, 2)


def _incentive(
    side: Mapping[str, Any] | None, currency: str | None, texts: Messages, role: str
) -> str | None:
    if not side:
        return None
    amount = float(side.get("amount", 0))
    if amount <= 0:
        return None
    if side.get("kind") == "percent":
        return texts(f"offer.{role}_percent", amount=_figure(amount, texts))
    return texts(f"offer.{role}_fixed", money=texts.money(amount, currency))


def offer_text(
    offer: Mapping[str, Any] | None, currency: str | None, texts: Messages | None = None
) -> str:
    """The offer in one sentence, said to the participant (English when ``texts`` is None).

    >>> offer = {"referrer": {"kind": "fixed", "amount": 10},
    ...          "friend": {"kind": "percent", "amount": 20}}
    >>> offer_text(offer, "EUR")
    'Your friends get 20% off; you get 10.00 EUR for each friend who buys.'
    >>> offer_text(offer, "EUR", messages("de"))
    'Deine Freunde bekommen 20 % Rabatt; du bekommst 10,00 EUR für jeden Freund, der etwas kauft.'
    """
    texts = texts or messages("en")
    if not offer:
        return ""
    friend = _incentive(offer.get("friend"), currency, texts, "friend")
    referrer = _incentive(offer.get("referrer"), currency, texts, "referrer")
    if friend and referrer:
        return texts("offer.both", friend=friend, referrer=referrer)
    if friend:
        return texts("offer.friend_only", friend=friend)
    if referrer:
        return texts("offer.referrer_only", referrer=referrer)
    return ""


@dataclass(frozen=True)
class ShareTexts:
    """What a share message says to the friend: chat text, e-mail subject and body."""

    text: str
    subject: str
    email: str


def share_texts(
    offer: Mapping[str, Any] | None,
    currency: str | None,
    *,
    name: str,
    texts: Messages | None = None,
) -> ShareTexts:
    """The share message in the participant's language: the friend's discount when the
    offer gives one, else an invitation to ``name`` (the shop or campaign).

    >>> t = share_texts({"friend": {"kind": "percent", "amount": 15}}, None, name="Bakker",
    ...                 texts=messages("nl"))
    >>> t.text, t.subject
    ('Krijg 15% korting bij Bakker via mijn link:', '15% korting bij Bakker, van mij')
    >>> share_texts(None, None, name="Bakker").text
    'Join me at Bakker:'
    """
    texts = texts or messages("en")
    friend = _incentive((offer or {}).get("friend"), currency, texts, "friend")
    if friend:
        text = texts("share.text_offer", friend=friend, name=name)
        subject = texts("share.email_subject_offer", friend=friend, name=name)
    else:
        text = texts("share.text_plain", name=name)
        subject = texts("share.email_subject_plain", name=name)
    subject = subject[:1].upper() + subject[1:]
    return ShareTexts(text, subject, f"{texts('share.email_greeting')}\n\n{text}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _page_key(secret: str) -> bytes:
    # Domain separation: the page key is derived, never the secret itself.
    return hmac.new(secret.encode(), b"grapevine participant page v1", hashlib.sha256).digest()


def _sign(secret: str, body: str) -> str:
    mac = hmac.new(_page_key(secret), body.encode(), hashlib.sha256).digest()
    return _b64(mac[:_SIG_BYTES])


def page_token(participant_id: int, secret: str, *, expires_at: float | None = None) -> str:
    """A signed token naming ``participant_id``; with ``expires_at``, valid until then.

    >>> token = page_token(42, "s3cret")
    >>> read_page_token(token, "s3cret")
    42
    """
    if participant_id < 0:
        raise ValueError("participant_id must be >= 0")
    exp = "0" if expires_at is None else str(int(expires_at))
    body = f"{_TOKEN_VERSION}.{_b64(str(participant_id).encode())}.{exp}"
    return f"{body}.{_sign(secret, body)}"


def read_page_token(token: str, secret: str, *, now: float | None = None) -> int:
    """The participant id of a token made by :func:`page_token`.

    Raises :class:`~grapevine.errors.BadInput` (field ``token``) for anything else: its
    subclass :class:`~grapevine.errors.LinkExpired` for a genuine token past its expiry.
    """
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _TOKEN_VERSION:
        raise BadInput("not a participant page token", field="token")
    body, sig = ".".join(parts[:3]), parts[3]
    if not hmac.compare_digest(_sign(secret, body), sig):
        raise BadInput("the participant page token is not valid", field="token")
    try:
        participant = int(_unb64(parts[1]).decode())
        exp = int(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise BadInput("not a participant page token", field="token") from None
    if exp and (time.time() if now is None else now) > exp:
        raise LinkExpired("this participant page link has expired", field="token")
    return participant


def embed_signature(secret: str, campaign_id: int, email: str, timestamp: int) -> str:
    """What the shop's server signs so the thank-you page snippet may enrol ``email``.

    Hex HMAC-SHA256 of ``"{campaign_id}.{email}.{timestamp}"`` under a ``grapevine`` webhook
    secret of the campaign's tenant (the one that signs its webhooks): the snippet runs in
    the buyer's browser, so it carries this signature, never a key.

    >>> embed_signature("s3cret", 7, "ann@example.com", 1700000000)[:16]
    '70d97f39c52b50ba'
    """
    message = f"{campaign_id}.{email.strip()}.{timestamp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_embed_signature(
    signature: str,
    secrets: str | Iterable[str],
    *,
    campaign_id: int,
    email: str,
    timestamp: int,
    now: float | None = None,
    tolerance: float = EMBED_TOLERANCE_SECONDS,
) -> None:
    """Check a thank-you page snippet's ``signature`` against each of ``secrets``.

    ``secrets`` are the secrets verifying now for the campaign's tenant (during a rotation's
    overlap, the new and the previous ones); each is compared in constant time.

    Raises
    ------
    InvalidSignature
        ``"no matching signature"`` when no secret made it (a forgery, another tenant's
        secret, another campaign or e-mail); ``"timestamp outside the tolerance"`` when it is
        genuine but older (or newer) than ``tolerance`` seconds.

    >>> sig = embed_signature("s3cret", 7, "ann@example.com", 1700000000)
    >>> verify_embed_signature(sig, ["old", "s3cret"], campaign_id=7, email="ann@example.com",
    ...                        timestamp=1700000000, now=1700000100)
    >>> verify_embed_signature(sig, "other", campaign_id=7, email="ann@example.com",
    ...                        timestamp=1700000000, now=1700000100)
    Traceback (most recent call last):
    ...
    grapevine.errors.InvalidSignature: Webhook signature rejected: no matching signature.
    """
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    given = signature.strip().lower().encode()
    matched = False
    for key in keys:  # every key, so the time taken does not say which one matched
        expected = embed_signature(key, campaign_id, email, timestamp).encode()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise InvalidSignature("no matching signature")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
