"""The e-mails' words: Jinja2 templates in en, nl, de and sv, text and HTML parts.

The participant e-mails (``templates/<lang>/<name>.txt`` and ``.html``) extend a layout of
their language that adds why the e-mail came and the unsubscribe link. The text template
holds the subject in its ``subject`` block; the HTML part is autoescaped. The alert e-mail
(``templates/<lang>/alert``) has no layout: it goes to the tenant's own team.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from grapevine.errors import InvalidParameter
from grapevine.outbound._events import LANGUAGES, PARTICIPANT_TEMPLATES
from grapevine.store.models import Campaign

__all__ = [
    "RenderedMail",
    "campaign_language",
    "choose_language",
    "format_amount",
    "render_mail",
]

_TEMPLATES = (*PARTICIPANT_TEMPLATES.values(), "alert")


@dataclass(frozen=True)
class RenderedMail:
    """A rendered e-mail: its language, subject, text part and HTML part."""

    language: str
    subject: str
    text: str
    html: str


def choose_language(*candidates: str | None) -> str:
    """The first candidate that is one of :data:`LANGUAGES` (by its primary subtag), else en.

    >>> choose_language(None, "nl-BE")
    'nl'
    >>> choose_language("fr", None)
    'en'
    >>> choose_language("SV", "de")
    'sv'
    """
    for value in candidates:
        if not value:
            continue
        primary = value.strip().lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES:
            return primary
    return "en"


def format_amount(amount: float | None, currency: str | None, language: str) -> str:
    """An amount as people of ``language`` write it (decimal comma outside English).

    >>> format_amount(1234.5, "EUR", "nl")
    'EUR 1.234,50'
    >>> format_amount(10, "usd", "en")
    'USD 10.00'
    >>> format_amount(7.25, None, "sv")
    '7,25'
    """
    if amount is None:
        return ""
    text = f"{float(amount):,.2f}"
    if language != "en":
        sep = "\u00a0" if language == "sv" else "."
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", sep)
    return f"{currency.upper()} {text}" if currency else text


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    # Missing payload keys render as empty (every key is optional): the default Undefined.
    return Environment(
        loader=PackageLoader("grapevine.outbound", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
    )


def _tidy(text: str) -> str:
    text = re.sub(r"(?m)^(?!-- $)(.*?)[ \t]+$", r"\1", text)  # keep the "-- " delimiter
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_mail(name: str, language: str, context: Mapping[str, Any]) -> RenderedMail:
    """Render the e-mail ``name`` (a template of :data:`PARTICIPANT_TEMPLATES`, or ``alert``).

    ``language`` falls back to English where the template has no such translation.

    >>> mail = render_mail("reward_paid", "de", {"campaign": "Frühling", "amount": "EUR 5,00"})
    >>> mail.subject
    'Deine Belohnung von EUR 5,00 wurde ausgezahlt'
    """
    if name not in _TEMPLATES:
        raise InvalidParameter("name", "render_mail", f"one of {', '.join(_TEMPLATES)}", name)
    from jinja2 import TemplateNotFound

    env = _environment()
    lang = choose_language(language)
    try:
        text_t = env.get_template(f"{lang}/{name}.txt")
        html_t = env.get_template(f"{lang}/{name}.html")
    except TemplateNotFound:
        lang = "en"
        text_t = env.get_template(f"en/{name}.txt")
        html_t = env.get_template(f"en/{name}.html")
    ctx = dict(context)
    subject = "".join(text_t.blocks["subject"](text_t.new_context(ctx))).strip()
    subject = " ".join(subject.split())  # a header is one line
    return RenderedMail(
        language=lang,
        subject=subject,
        text=_tidy(text_t.render(ctx)),
        html=html_t.render(ctx),
    )


def campaign_language(campaign: Campaign | None) -> str | None:
    """A campaign's language: its ``language`` column when it has one, else ``rules.language``."""
    if campaign is None:
        return None
    value = getattr(campaign, "language", None)
    if value:
        return str(value)
    rules = campaign.rules or {}
    lang = rules.get("language") if isinstance(rules, dict) else None
    return str(lang) if lang else None
