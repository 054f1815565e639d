"""Bot and link-preview traffic; IP truncation and hashing."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals import classify_request, classify_user_agent, hash_ip, truncate_ip

PREVIEWS = [
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; Facebot)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slackbot 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/) Bot",
    "http.rb/5.1.1 (Mastodon/4.1.0; +https://fosstodon.org/)",
    "Pleroma 2.5.0; https://pleroma.example <admin@pleroma.example>",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    "Iframely/1.3.1 (+https://iframely.com/docs/about)",
]

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "some-crawler/1.0",
    "MySpider 2.0",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "python-httpx/0.27.0",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/126.0.0.0 Safari/537.36",
    "",
    None,
    "   ",
    "SomethingUnknown",
]

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36",
    "Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.18",
]


@pytest.mark.parametrize("ua", PREVIEWS)
def test_previews(ua: str) -> None:
    got = classify_user_agent(ua)
    assert got.kind == "preview", got
    assert not got.counts_as_click
    assert got.reason.startswith("link preview")


@pytest.mark.parametrize("ua", BOTS)
def test_bots(ua: str | None) -> None:
    got = classify_user_agent(ua)
    assert got.kind == "bot", got
    assert not got.counts_as_click


@pytest.mark.parametrize("ua", BROWSERS)
def test_browsers(ua: str) -> None:
    got = classify_user_agent(ua)
    assert got.kind == "browser", got
    assert got.counts_as_click


@pytest.mark.parametrize(
    ("method", "ua", "kind"),
    [
        ("HEAD", BROWSERS[0], "preview"),
        ("head", None, "preview"),
        ("GET", BROWSERS[0], "browser"),
        ("get", PREVIEWS[0], "preview"),
        ("POST", BROWSERS[0], "bot"),
        ("OPTIONS", BROWSERS[0], "bot"),
        ("", BROWSERS[0], "bot"),
    ],
)
def test_classify_request(method: str, ua: str | None, kind: str) -> None:
    assert classify_request(method, ua).kind == kind


@given(st.text(max_size=80), st.sampled_from(["GET", "HEAD", "POST"]))
def test_property_every_request_gets_one_class(ua: str, method: str) -> None:
    got = classify_request(method, ua)
    assert got.kind in ("browser", "bot", "preview")
    assert got.counts_as_click == (got.kind == "browser")
    assert got.reason


@pytest.mark.parametrize(
    ("ip", "net"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        (" 203.0.113.0 ", "203.0.113.0/24"),
        ("10.1.2.255", "10.1.2.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("2001:DB8:ABCD:FFFF:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
        ("::1", "::/48"),
    ],
)
def test_truncate_ip(ip: str, net: str) -> None:
    assert truncate_ip(ip) == net


@pytest.mark.parametrize("bad", ["", "999.1.1.1", "203.0.113", "example.com", "1.2.3.4/24", None])
def test_truncate_ip_rejects(bad: object) -> None:
    with pytest.raises(BadInput):
        truncate_ip(bad)  # type: ignore[arg-type]


def test_hash_ip() -> None:
    h = hash_ip("203.0.113.77", "pepper")
    assert len(h) == 64
    assert int(h, 16) >= 0
    assert h == hash_ip("203.0.113.1", "pepper")  # same /24
    assert h != hash_ip("203.0.114.77", "pepper")
    assert h != hash_ip("203.0.113.77", "other salt")
    assert h == hash_ip("203.0.113.77", b"pepper")
    assert hash_ip("2001:db8:abcd:1::1", "s") == hash_ip("2001:db8:abcd:ffff::2", "s")
    assert hash_ip("2001:db8:abcd:1::1", "s") != hash_ip("2001:db8:abce:1::1", "s")


@pytest.mark.parametrize("salt", ["", b"", None])
def test_hash_ip_needs_a_salt(salt: object) -> None:
    with pytest.raises(InvalidParameter, match="salt"):
        hash_ip("203.0.113.1", salt)  # type: ignore[arg-type]


@given(st.ip_addresses())
def test_property_truncation_contains_the_address(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    net = ipaddress.ip_network(truncate_ip(str(addr)))
    real = (
        addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped else addr
    )
    assert real in net
    assert net.prefixlen == (24 if real.version == 4 else 48)
    assert hash_ip(str(addr), "s") == hash_ip(str(net.network_address), "s")
