"""A campaign's page settings: language, branding, UTM tags, link previews, landing page.

The ``page`` table of a campaign file (and of ``PUT /api/campaigns/{id}/page``), checked by
:meth:`PageSettings.from_dict` before anything is stored, so a bad colour or a logo from a
site the campaign does not own is refused with the field that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from grapevine.errors import BadInput
from grapevine.referrals._i18n import LANGUAGES
from grapevine.referrals._redirects import plain_url, same_origin

__all__ = ["PageSettings", "Preview", "Utm", "campaign_slug"]

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_UTM_VALUE = re.compile(r"^[A-Za-z0-9._~+-]{1,100}$")
_LIMITS = {"display_name": 80, "title": 120, "description": 300}


def campaign_slug(name: str) -> str:
    """``name`` as a UTM value: lower case, runs of other characters as one ``-``.

    >>> campaign_slug("Spring Friends 2027!")
    'spring-friends-2027'
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "campaign"


@dataclass(frozen=True)
class Utm:
    """The UTM tags a short link adds to its destination (``utm_content`` is the channel).

    Off unless the campaign asks for them (a ``utm`` table, or ``utm = true`` for the
    defaults), so upgrading never changes where an existing campaign's links go.
    """

    enabled: bool = False
    source: str = "grapevine"
    medium: str = "referral"
    campaign: str | None = None
    """None: the campaign's name as a slug (:func:`campaign_slug`)."""


@dataclass(frozen=True)
class Preview:
    """What a link preview (Open Graph, Twitter card) shows for the campaign's links."""

    title: str | None = None
    description: str | None = None
    image: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.title or self.description or self.image)


@dataclass(frozen=True)
class PageSettings:
    """A campaign's share page and link settings; every field optional.

    Attributes
    ----------
    language : str or None
        The campaign's language (one of :data:`~grapevine.referrals.LANGUAGES`): the page's
        language when neither the participant's nor the browser's is known.
    display_name : str or None
        The name the page shows (the campaign's name when None).
    color : str or None
        The brand colour, ``#rrggbb`` (``#rgb`` is accepted and expanded).
    logo_url : str or None
        An absolute http(s) URL on one of ``logo_allowlist``'s origins, or when that is
        empty on one of the campaign's destination origins.
    logo_allowlist : tuple of str
        Origins the logo may come from, besides none (empty: the destinations').
    landing_url : str or None
        Where the codes of the campaign go once it has ended (its default destination
        when None).
    utm : Utm
        The UTM tags added to destinations (none unless asked for).
    preview : Preview
        The link-preview title, description and image.
    """

    language: str | None = None
    display_name: str | None = None
    color: str | None = None
    logo_url: str | None = None
    logo_allowlist: tuple[str, ...] = ()
    landing_url: str | None = None
    utm: Utm = field(default_factory=Utm)
    preview: Preview = field(default_factory=Preview)

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, *, destinations: Iterable[str] = ()
    ) -> PageSettings:
        """Check and read a ``page`` document.

        Raises
        ------
        BadInput
            With ``field`` naming the key at fault (``page.color``, ``page.utm.source``...).

        >>> PageSettings.from_dict({"color": "#F60", "language": "nl"}).color
        '#ff6600'
        >>> PageSettings.from_dict({"color": "orange"})
        Traceback (most recent call last):
        ...
        grapevine.errors.BadInput: field 'page.color': a colour is #rgb or #rrggbb; got 'orange'
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise BadInput("the page settings are a table (an object)", field="page")
        known = {
            "language",
            "display_name",
            "color",
            "logo_url",
            "logo_allowlist",
            "landing_url",
            "utm",
            "preview",
        }
        _no_unknown(data, known, "page")
        language = _text(data, "language", "page")
        if language is not None:
            language = language.lower()
            if language not in LANGUAGES:
                raise BadInput(
                    f"the language is one of {', '.join(LANGUAGES)}; got {language!r}",
                    field="page.language",
                )
        color = _text(data, "color", "page")
        if color is not None:
            if not _HEX.match(color):
                raise BadInput(f"a colour is #rgb or #rrggbb; got {color!r}", field="page.color")
            digits = color[1:].lower()
            color = "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)
        allow = data.get("logo_allowlist") or ()
        if isinstance(allow, str) or not all(isinstance(u, str) for u in allow):
            raise BadInput("the logo allowlist is a list of URLs", field="page.logo_allowlist")
        for url in allow:
            if plain_url(url) is None:
                raise BadInput(f"not an absolute http(s) URL: {url!r}", field="page.logo_allowlist")
        logo = _url(data, "logo_url", "page")
        if logo is not None:
            origins = tuple(allow) or tuple(destinations)
            if not any(same_origin(logo, o) for o in origins):
                where = "logo_allowlist" if allow else "the campaign's destinations"
                raise BadInput(
                    f"the logo must come from an origin of {where}; got {logo!r}",
                    field="page.logo_url",
                )
        return cls(
            language=language,
            display_name=_text(data, "display_name", "page"),
            color=color,
            logo_url=logo,
            logo_allowlist=tuple(allow),
            landing_url=_url(data, "landing_url", "page"),
            utm=_utm(data.get("utm")),
            preview=_preview(data.get("preview")),
        )

    @classmethod
    def stored(cls, data: Mapping[str, Any] | None) -> PageSettings:
        """Settings read back from the store: checked when they were stored, except the
        logo's origin, which :meth:`logo_allowed` checks against today's destinations."""
        if not data:
            return cls()
        allow = tuple(data.get("logo_allowlist") or ())
        logo = data.get("logo_url")
        checked = cls.from_dict({**data, "logo_url": None}, destinations=())
        return cls(**{**checked.__dict__, "logo_url": logo, "logo_allowlist": allow})

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (what :meth:`from_dict` reads back)."""
        out = asdict(self)
        out["logo_allowlist"] = list(self.logo_allowlist)
        return out

    def logo_allowed(self, destinations: Iterable[str]) -> str | None:
        """The logo URL if it is still on an allowed origin (destinations may have changed)."""
        if self.logo_url is None:
            return None
        origins = self.logo_allowlist or tuple(destinations)
        return self.logo_url if any(same_origin(self.logo_url, o) for o in origins) else None


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise BadInput(
                f"unknown setting {key!r}; known: {', '.join(sorted(known))}",
                field=f"{where}.{key}",
            )


def _text(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise BadInput(f"a non-empty text; got {value!r}", field=f"{where}.{key}")
    limit = _LIMITS.get(key, 2048)
    if len(value) > limit:
        raise BadInput(f"at most {limit} characters; got {len(value)}", field=f"{where}.{key}")
    return value.strip()


def _url(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _text(data, key, where)
    if value is not None and plain_url(value) is None:
        raise BadInput(
            f"an absolute http(s) URL without user info; got {value!r}", field=f"{where}.{key}"
        )
    return value


def _utm(data: Any) -> Utm:
    if data is None or data is False:
        return Utm()
    if data is True:
        return Utm(enabled=True)
    if not isinstance(data, Mapping):
        raise BadInput("utm is a table, or true (the default tags) or false", field="page.utm")
    _no_unknown(data, {"enabled", "source", "medium", "campaign"}, "page.utm")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadInput(f"true or false; got {enabled!r}", field="page.utm.enabled")
    values: dict[str, str] = {}
    for key in ("source", "medium", "campaign"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not _UTM_VALUE.match(value):
            raise BadInput(
                "1-100 letters, digits and . _ ~ + -; got " + repr(value),
                field=f"page.utm.{key}",
            )
        values[key] = value
    return Utm(enabled=enabled, **values)


def _preview(data: Any) -> Preview:
    if data is None:
        return Preview()
    if not isinstance(data, Mapping):
        raise BadInput("preview is a table", field="page.preview")
    _no_unknown(data, {"title", "description", "image"}, "page.preview")
    return Preview(
        title=_text(data, "title", "page.preview"),
        description=_text(data, "description", "page.preview"),
        image=_url(data, "image", "page.preview"),
    )
