"""Request facts: bot and link-preview traffic, and IP addresses truncated then hashed."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

from grapevine.errors import BadInput, InvalidParameter

__all__ = [
    "TrafficClass",
    "classify_request",
    "classify_user_agent",
    "hash_ip",
    "truncate_ip",
]

# Link-preview fetchers: a message containing the link was posted, nobody clicked yet.
# Mastodon fetches a link once from every server a post reaches ("Mastodon/4.2.1 (...)").
_PREVIEW = (
    ("Twitterbot", r"twitterbot"),
    ("facebookexternalhit", r"facebookexternalhit|facebookcatalog|\bfacebot\b|meta-externalagent"),
    ("Slackbot", r"slackbot|slack-imgproxy"),
    ("Discordbot", r"discordbot"),
    ("LinkedInBot", r"linkedinbot"),
    ("TelegramBot", r"telegrambot"),
    ("WhatsApp", r"whatsapp"),
    ("Mastodon", r"\bmastodon/|\bpleroma\b|\bakkoma\b|\bmisskey/"),
    ("Skype", r"skypeuripreview"),
    ("Pinterest", r"pinterest(bot)?/"),
    ("Embedly", r"embedly|iframely"),
    ("redditbot", r"redditbot"),
    ("Google preview", r"google-pagerenderer|googleother"),
)
_PREVIEW_RE = [(name, re.compile(p, re.IGNORECASE)) for name, p in _PREVIEW]
# Generic automation: crawlers, spiders, HTTP libraries, headless browsers. "bot" must end a
# word and not be the CUBOT phone brand.
_BOT_RE = re.compile(
    r"(?<!cu)bot\b|bot[/_-]|crawl|spider|slurp|scrap|archiver|\bcurl/|\bwget/|python-requests"
    r"|python-urllib|python-httpx|aiohttp|go-http-client|java/|okhttp|libwww-perl|httpclient"
    r"|headlesschrome|phantomjs|lighthouse|pingdom|uptime|monitor|preview|fetcher|checker",
    re.IGNORECASE,
)
_BROWSER_RE = re.compile(r"^mozilla/5\.0 |^opera/", re.IGNORECASE)


@dataclass(frozen=True)
class TrafficClass:
    """What sent a request.

    Attributes
    ----------
    kind : {"browser", "bot", "preview"}
    counts_as_click : bool
        True only for a browser: bots and previews are not people clicking.
    reason : str
    """

    kind: str
    counts_as_click: bool
    reason: str


def classify_user_agent(user_agent: str | None) -> TrafficClass:
    """Class a User-Agent as ``browser``, ``bot`` or link ``preview``.

    Notes
    -----
    Previews first (the named fetchers of Twitter/X, Facebook, Slack, Discord, LinkedIn,
    Telegram, WhatsApp, Mastodon and other fediverse servers, Skype, Pinterest, Reddit,
    Embedly/Iframely), then generic automation (``bot``, ``crawler``, ``spider``, HTTP
    libraries, headless browsers), then ``Mozilla/5.0 ...`` as a browser; anything else,
    empty or missing included, is a bot. User agents are claims, not proof: this sorts
    honest automation out of the counts; it stops no one who lies.

    Examples
    --------
    >>> classify_user_agent("Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/)").kind
    'preview'
    >>> classify_user_agent("Mozilla/5.0 (compatible; Googlebot/2.1)").kind
    'bot'
    >>> classify_user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0").kind
    'browser'
    """
    ua = (user_agent or "").strip()
    if not ua:
        return TrafficClass("bot", False, "no user agent")
    for name, pattern in _PREVIEW_RE:
        if pattern.search(ua):
            return TrafficClass("preview", False, f"link preview: {name}")
    m = _BOT_RE.search(ua)
    if m:
        return TrafficClass("bot", False, f"automation: user agent contains {m.group(0)!r}")
    if _BROWSER_RE.search(ua):
        return TrafficClass("browser", True, "browser user agent")
    return TrafficClass("bot", False, "unrecognised user agent")


def classify_request(method: str, user_agent: str | None) -> TrafficClass:
    """Class a request by its HTTP method and User-Agent.

    A ``HEAD`` request is a preview or link check whatever its user agent (browsers follow a
    link with ``GET``); methods other than GET and HEAD are bots.

    >>> classify_request("HEAD", "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0").reason
    'HEAD request: link check or preview'
    """
    m = (method or "").upper()
    if m == "HEAD":
        return TrafficClass("preview", False, "HEAD request: link check or preview")
    if m != "GET":
        return TrafficClass("bot", False, f"{m or 'no'} method on a link")
    return classify_user_agent(user_agent)


def truncate_ip(ip: str) -> str:
    """The network of an address: IPv4 to /24, IPv6 to /48 (IPv4-mapped IPv6 as IPv4).

    >>> truncate_ip("203.0.113.77"), truncate_ip("2001:db8:abcd:12::1")
    ('203.0.113.0/24', '2001:db8:abcd::/48')
    >>> truncate_ip("::ffff:203.0.113.77")
    '203.0.113.0/24'
    """
    try:
        addr = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    except ValueError:
        raise BadInput(f"not an IP address: {ip!r}", field="ip") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def hash_ip(ip: str, salt: str | bytes) -> str:
    """The pseudonymous IP of a request: HMAC-SHA256 keyed by ``salt`` of :func:`truncate_ip`.

    64 hex characters (``ReferralEvent.ip_hash``). Truncation first makes neighbours on one
    /24 (or /48) share a hash, so the hash alone does not single out a device; the salt
    (a secret kept out of the database, rotated to forget) stops a dictionary of all 2^24
    IPv4 networks from reversing it.

    >>> hash_ip("203.0.113.77", "salt") == hash_ip("203.0.113.5", "salt")
    True
    >>> len(hash_ip("203.0.113.77", "salt"))
    64
    """
    key = salt.encode("utf-8") if isinstance(salt, str) else salt
    if not isinstance(key, bytes) or not key:
        raise InvalidParameter("salt", "hash_ip", "a non-empty str or bytes", salt)
    return hmac.new(key, truncate_ip(ip).encode("ascii"), hashlib.sha256).hexdigest()
