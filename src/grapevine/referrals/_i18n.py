"""The participant's language: Accept-Language negotiation and the share page's catalogues.

One small mechanism, no gettext and no Babel: a JSON catalogue per language in
``grapevine/referrals/data/share.<lang>.json`` (key -> text with ``{placeholders}``), each
holding every key of the English one (a test checks it). The language of a page is, in
order: the participant's own (when known), the browser's ``Accept-Language`` (RFC 9110,
section 12.5.4, q-values honoured), the campaign's, English.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from grapevine.errors import InvalidParameter

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Messages",
    "choose_language",
    "messages",
    "negotiate_language",
    "parse_accept_language",
]

LANGUAGES = ("en", "nl", "de", "sv")
"""The languages of the share page and its texts."""

DEFAULT_LANGUAGE = "en"

# language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*"; weight = OWS ";" OWS "q=" qvalue
_RANGE = re.compile(r"^(\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
_MAX_HEADER = 2048  # longer headers are cut: a browser sends well under 200 characters


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The language ranges of an ``Accept-Language`` header, most preferred first.

    Ranges are lower-cased; a range without ``q`` weighs 1; ranges of equal weight keep the
    header's order; ``q=0`` ("not acceptable") and malformed entries are dropped, never
    raised on (a header is the browser's, not the user's, to get right).

    >>> parse_accept_language("nl-BE, nl;q=0.9, en;q=0.8, *;q=0.1")
    [('nl-be', 1.0), ('nl', 0.9), ('en', 0.8), ('*', 0.1)]
    >>> parse_accept_language("de;q=0.5, sv, fr;q=0, bad range;q=1, en;q=2")
    [('sv', 1.0), ('de', 0.5)]
    """
    if not header:
        return []
    ranges: list[tuple[str, float, int]] = []
    for i, item in enumerate(header[:_MAX_HEADER].split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        if not _RANGE.match(tag):
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else -1.0
        if weight > 0:
            ranges.append((tag.lower(), weight, i))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(tag, weight) for tag, weight, _ in ranges]


def negotiate_language(header: str | None, supported: tuple[str, ...] = LANGUAGES) -> str | None:
    """The supported language the header prefers most, or None when it names none of them.

    A range matches a language when it is that language or one of its regional variants
    (``nl-BE`` matches ``nl``: the basic filtering of RFC 4647, section 3.3.1, read from the
    range's primary subtag). ``*`` matches nothing here: it says "anything else will do",
    which leaves the choice to the campaign.

    >>> negotiate_language("fr-CH, fr;q=0.9, de;q=0.7, en;q=0.5")
    'de'
    >>> negotiate_language("sv-FI;q=0.3, en-GB;q=0.9")
    'en'
    >>> negotiate_language("fr, *;q=0.5") is None
    True
    """
    for tag, _ in parse_accept_language(header):
        primary = tag.split("-", 1)[0]
        if primary in supported:
            return primary
    return None


def _known(language: str | None) -> str | None:
    if not language:
        return None
    primary = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else None


def choose_language(
    *,
    participant: str | None = None,
    accept_language: str | None = None,
    campaign: str | None = None,
) -> str:
    """The language to speak to a participant in.

    The participant's own language when it is one of :data:`LANGUAGES`, else the best match
    of the browser's ``Accept-Language``, else the campaign's language, else English.

    >>> choose_language(participant="sv", accept_language="de")
    'sv'
    >>> choose_language(accept_language="fr, de;q=0.8", campaign="nl")
    'de'
    >>> choose_language(accept_language="fr", campaign="nl_NL")
    'nl'
    >>> choose_language()
    'en'
    """
    return (
        _known(participant)
        or negotiate_language(accept_language)
        or _known(campaign)
        or DEFAULT_LANGUAGE
    )


@dataclass(frozen=True)
class Messages:
    """The texts of one language: ``messages("nl")("share.copy")``, numbers and money."""

    language: str
    texts: dict[str, str]

    def __call__(self, key: str, /, **values: object) -> str:
        """The text of ``key`` with its ``{placeholders}`` filled in.

        Raises ``KeyError`` for a key no catalogue has: a typo in a template, found by the
        tests, never shown to a participant.
        """
        text = self.texts[key]
        return text.format(**values) if values else text

    def number(self, value: float, decimals: int = 2) -> str:
        """``value`` with the language's decimal and grouping signs.

        >>> messages("de").number(1234.5), messages("sv").number(1234.5) == "1\\xa0234,50"
        ('1.234,50', True)
        """
        plain = f"{value:,.{decimals}f}"  # 1,234.50
        group, decimal = self.texts["number.group"], self.texts["number.decimal"]
        return plain.replace(",", "\0").replace(".", decimal).replace("\0", group)

    def money(self, value: float, currency: str | None) -> str:
        """An amount with its currency code after it, as every language here writes it.

        >>> messages("nl").money(10, "EUR")
        '10,00 EUR'
        """
        return f"{self.number(value)} {currency or ''}".strip()


@cache
def messages(language: str) -> Messages:
    """The catalogue of ``language`` (one of :data:`LANGUAGES`), read once.

    Raises
    ------
    InvalidParameter
        For a language without a catalogue.
    """
    if language not in LANGUAGES:
        raise InvalidParameter("language", "messages", f"one of {', '.join(LANGUAGES)}", language)
    data = resources.files("grapevine.referrals") / "data" / f"share.{language}.json"
    texts = json.loads(data.read_text(encoding="utf-8"))
    return Messages(language, {k: v for k, v in texts.items() if not k.startswith("_")})
