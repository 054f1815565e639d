"""Safe redirects: a short link only ever sends people to a campaign's allowlisted sites."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from grapevine.errors import InvalidParameter

__all__ = [
    "MISS_REASONS",
    "add_params",
    "add_utm",
    "miss_destination",
    "plain_url",
    "resolve_destination",
    "same_origin",
]

MISS_REASONS = ("unknown", "disabled", "ended")
"""Why a short link sends someone to a landing page: no such code, a disabled code, a code
of an ended campaign."""

_SCHEMES = ("http", "https")
_DEFAULT_PORT = {"http": 80, "https": 443}
# Browsers strip tabs and newlines inside URLs and treat "\" as "/": refuse them outright.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


def _origin(url: str) -> _Origin | None:
    """The (scheme, host, port) of an absolute http(s) URL, or None if it is not a plain one."""
    if not isinstance(url, str) or not url or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.netloc or "@" in parts.netloc:
        return None
    host = (parts.hostname or "").lower()
    if not _HOST.match(host) or "%" in parts.netloc:
        return None
    return _Origin(scheme, host, port if port is not None else _DEFAULT_PORT[scheme])


def plain_url(url: str) -> str | None:
    """``url`` when it is a plain absolute http(s) URL (no user info, no control characters,
    an ASCII host), else None: what a landing page or a logo may be.

    >>> plain_url("https://shop.example/bye"), plain_url("javascript:alert(1)")
    ('https://shop.example/bye', None)
    """
    return url if _origin(url) is not None else None


def same_origin(url: str, other: str) -> bool:
    """Whether two plain URLs share scheme, host and port.

    >>> same_origin("https://shop.example/logo.png", "https://SHOP.example:443/")
    True
    >>> same_origin("https://shop.example.evil/logo.png", "https://shop.example")
    False
    """
    a, b = _origin(url), _origin(other)
    return a is not None and a == b


def _allowlist(allowlist: Iterable[str]) -> list[tuple[str, _Origin]]:
    owner = "resolve_destination"
    expected = "a non-empty list of absolute http(s) URLs without user info"
    if isinstance(allowlist, str):
        raise InvalidParameter("campaign_allowlist", owner, expected, allowlist)
    entries = []
    for url in allowlist:
        origin = _origin(url)
        if origin is None:
            raise InvalidParameter("campaign_allowlist", owner, expected, url)
        entries.append((url, origin))
    if not entries:
        raise InvalidParameter("campaign_allowlist", owner, expected, list(allowlist))
    return entries


def add_params(url: str, params: Mapping[str, str] | None) -> str:
    """Set query parameters on a URL, replacing any of the same name, keeping the rest.

    Keys and values are percent-encoded, so a value can never add a parameter, a fragment or
    a path of its own.

    >>> add_params("https://shop.example/p?utm_source=x&a=1#top",
    ...            {"utm_source": "referral", "ref": "K7MP Q2ZX&evil=1"})
    'https://shop.example/p?a=1&utm_source=referral&ref=K7MP+Q2ZX%26evil%3D1#top'
    """
    if not params:
        return url
    parts = urlsplit(url)
    keep = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query = urlencode([*keep, *((str(k), str(v)) for k, v in params.items())])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def resolve_destination(
    campaign_allowlist: Iterable[str],
    requested_url: str | None = None,
    *,
    params: Mapping[str, str] | None = None,
) -> str:
    """The URL a short link redirects to: the requested one if allowlisted, else the default.

    Parameters
    ----------
    campaign_allowlist : list of str
        Absolute http(s) URLs the campaign may send people to; the first is the default
        destination. Any path on an allowlisted origin (scheme, host, port) is allowed.
    requested_url : str, optional
        A destination asked for by the link (e.g. a ``?to=`` parameter): an absolute URL, or
        a path starting with a single ``/`` (taken on the default's origin).
    params : mapping, optional
        Query parameters to set on the result (``utm_source``, ``ref``...), see
        :func:`add_params`.

    Returns
    -------
    str
        Always a URL whose scheme, host and port equal those of an allowlist entry.

    Raises
    ------
    InvalidParameter
        When the allowlist is empty or holds an entry that is not a plain absolute http(s)
        URL. A bad ``requested_url`` never raises: it falls back to the default.

    Notes
    -----
    Refused, falling back to the default: other schemes (``javascript:``, ``data:``),
    scheme-relative ``//evil.com``, any backslash, whitespace or control character (browsers
    repair those differently from parsers), user info (``https://good.com@evil.com``),
    percent-encoded or non-ASCII hosts, hosts that merely end or start like an allowed one,
    and a port other than the allowed one. Hosts match exactly, case-insensitively; no
    subdomain wildcards. The result is rebuilt from the parsed parts, so what was checked is
    what is sent.

    References
    ----------
    .. [1] OWASP Unvalidated Redirects and Forwards Cheat Sheet.
    .. [2] RFC 3986, Uniform Resource Identifier (URI): Generic Syntax, section 3.2.

    Examples
    --------
    >>> allow = ["https://shop.example/welcome", "https://blog.example"]
    >>> resolve_destination(allow, "https://blog.example/post/1")
    'https://blog.example/post/1'
    >>> resolve_destination(allow, "https://shop.example@evil.example/")
    'https://shop.example/welcome'
    >>> resolve_destination(allow, "//evil.example", params={"ref": "K7MPQ2ZX"})
    'https://shop.example/welcome?ref=K7MPQ2ZX'
    >>> resolve_destination(allow, "/cart")
    'https://shop.example/cart'
    """
    entries = _allowlist(campaign_allowlist)
    default_url = entries[0][0]
    chosen = default_url
    if isinstance(requested_url, str) and requested_url:
        candidate = requested_url
        if (
            candidate.startswith("/")
            and not candidate.startswith("//")
            and not _UNSAFE.search(candidate)
        ):
            d = urlsplit(default_url)
            candidate = f"{d.scheme}://{d.netloc}{candidate}"
        origin = _origin(candidate)
        if origin is not None and any(origin == o for _, o in entries):
            chosen = candidate
    parts = urlsplit(chosen)
    rebuilt = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )
    return add_params(rebuilt, params)


def add_utm(
    url: str,
    *,
    source: str,
    campaign: str,
    medium: str = "referral",
    content: str | None = None,
) -> str:
    """Tag a destination with UTM parameters, never replacing the shop's own.

    ``utm_source``, ``utm_medium``, ``utm_campaign`` and (with a channel) ``utm_content``
    are added when the URL does not carry that parameter yet; a ``utm_*`` already in the
    URL (the shop tagged its own page, or the link asked for a tagged page) stays as it is.
    Values are percent-encoded like :func:`add_params`.

    Parameters
    ----------
    url : str
        The destination, already checked (:func:`resolve_destination`).
    source, campaign, medium : str
        The tags (``medium`` defaults to ``referral``).
    content : str, optional
        The share channel of the click (``whatsapp``, ``email``...).

    Examples
    --------
    >>> add_utm("https://shop.example/?ref=K7MP", source="grapevine", campaign="spring",
    ...         content="whatsapp")  # doctest: +NORMALIZE_WHITESPACE
    'https://shop.example/?ref=K7MP&utm_source=grapevine&utm_medium=referral&utm_campaign=spring&utm_content=whatsapp'
    >>> add_utm("https://shop.example/p?utm_source=newsletter#top", source="grapevine",
    ...         campaign="spring")
    'https://shop.example/p?utm_source=newsletter&utm_medium=referral&utm_campaign=spring#top'
    """
    parts = urlsplit(url)
    present = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    tags = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    if content:
        tags["utm_content"] = content
    missing = {k: v for k, v in tags.items() if k not in present}
    return add_params(url, missing) if missing else url


def miss_destination(
    reason: str,
    *,
    campaign_landing: str | None = None,
    campaign_default: str | None = None,
    tenant_landing: str | None = None,
    global_landing: str | None = None,
) -> str | None:
    """Where a short link that cannot refer anyone sends its visitor; None: nowhere.

    ``reason`` is one of :data:`MISS_REASONS`:

    - ``ended``: the campaign's landing page, else its default destination (the shop
      still gets the visitor; nobody gets credit);
    - ``disabled``: the code's tenant's landing page, else the installation's
      (``GRAPEVINE_LANDING_URL``);
    - ``unknown``: no code, so no tenant: the installation's landing page.

    None means no landing page is configured: the service answers a short page saying the
    link does not work.

    >>> miss_destination("ended", campaign_default="https://shop.example/")
    'https://shop.example/'
    >>> miss_destination("disabled", tenant_landing=None, global_landing="https://gv.example/")
    'https://gv.example/'
    >>> miss_destination("unknown", tenant_landing="https://shop.example/") is None
    True
    """
    if reason == "ended":
        return campaign_landing or campaign_default or tenant_landing or global_landing
    if reason == "disabled":
        return tenant_landing or global_landing
    if reason == "unknown":
        return global_landing
    raise InvalidParameter("reason", "miss_destination", f"one of {MISS_REASONS}", reason)
