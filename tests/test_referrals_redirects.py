"""Safe redirects: only allowlisted destinations, whatever is asked."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import InvalidParameter
from grapevine.referrals import add_params, resolve_destination

ALLOW = ["https://shop.example/welcome", "https://blog.example", "http://legacy.example:8080/"]
DEFAULT = "https://shop.example/welcome"


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, DEFAULT),
        ("", DEFAULT),
        ("https://blog.example/post/1?x=2#c", "https://blog.example/post/1?x=2#c"),
        ("https://BLOG.example/post", "https://blog.example/post"),
        ("HTTPS://shop.example/cart", "https://shop.example/cart"),
        ("https://shop.example:443/cart", "https://shop.example:443/cart"),
        ("http://legacy.example:8080/x", "http://legacy.example:8080/x"),
        ("/cart?item=3", "https://shop.example/cart?item=3"),
        ("https://shop.example//evil.example/x", "https://shop.example//evil.example/x"),
    ],
)
def test_allowed(requested: str | None, expected: str) -> None:
    assert resolve_destination(ALLOW, requested) == expected


@pytest.mark.parametrize(
    "requested",
    [
        "https://evil.example/",
        "//evil.example",
        "//evil.example/https://shop.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https:\\\\evil.example",
        "https:/\\evil.example",
        "https://shop.example\\@evil.example",
        "https://shop.example@evil.example/",
        "https://user:pw@shop.example/",
        "https://shop.example%2f@evil.example",
        "https://shop.example%2eevil.example/",
        "https://evil.example#@shop.example",
        "https://evil.example?@shop.example",
        "https://shop.example.evil.example/",
        "https://evilshop.example/",
        "https://blog.example.",
        "http://shop.example/welcome",  # scheme must match too
        "https://legacy.example:8080/",
        "http://legacy.example/",  # port must match
        "https://shop.example:8443/",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://shop.example\t.evil.example",
        "https://shop.example\n.evil.example",
        " https://evil.example",
        "https://shöp.example/",
        "https://[::1]/",
        "https://127.0.0.1/",
        "ftp://shop.example/",
        "shop.example/cart",
        "https:evil.example",
        "https://shop.example:99999/",
        "https://shop.example:abc/",
        "\x00https://shop.example/",
    ],
)
def test_refused_falls_back_to_default(requested: str) -> None:
    assert resolve_destination(ALLOW, requested) == DEFAULT


def test_query_string_cannot_redirect() -> None:
    got = resolve_destination(
        ALLOW,
        "https://shop.example/p?next=https://evil.example&url=//evil.example",
        params={"ref": "K7MPQ2ZX"},
    )
    parts = urlsplit(got)
    assert parts.netloc == "shop.example"
    assert parse_qs(parts.query)["ref"] == ["K7MPQ2ZX"]


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        ("https://a.example/", {"ref": "K7MP"}, "https://a.example/?ref=K7MP"),
        ("https://a.example/?ref=OLD&x=1", {"ref": "NEW"}, "https://a.example/?x=1&ref=NEW"),
        (
            "https://a.example/p#frag",
            {"utm_source": "referral"},
            "https://a.example/p?utm_source=referral#frag",
        ),
        ("https://a.example/", {"ref": "a&b=c#d"}, "https://a.example/?ref=a%26b%3Dc%23d"),
        ("https://a.example/", {}, "https://a.example/"),
        ("https://a.example/", None, "https://a.example/"),
    ],
)
def test_add_params(url: str, params: dict[str, str] | None, expected: str) -> None:
    assert add_params(url, params) == expected


@pytest.mark.parametrize(
    "allow",
    [
        [],
        "https://shop.example",
        ["javascript:x"],
        ["//shop.example"],
        ["https://u@shop.example"],
        ["/relative"],
    ],
)
def test_bad_allowlist(allow: object) -> None:
    with pytest.raises(InvalidParameter, match="campaign_allowlist"):
        resolve_destination(allow, None)  # type: ignore[arg-type]


ALLOWED_ORIGINS = {
    ("https", "shop.example", 443),
    ("https", "blog.example", 443),
    ("http", "legacy.example", 8080),
}


def _origin(url: str) -> tuple[str, str, int]:
    p = urlsplit(url)
    port = p.port or {"http": 80, "https": 443}[p.scheme]
    return p.scheme, p.hostname or "", port


url_parts = st.sampled_from(
    [
        "https://",
        "http://",
        "//",
        "/",
        "\\",
        "@",
        "evil.example",
        "shop.example",
        "blog.example",
        ":8080",
        ":443",
        "#",
        "?",
        "%2f",
        "%40",
        ".",
        "\t",
        "javascript:",
        "legacy.example",
        "u:p@",
        "/x",
    ]
)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=40), st.lists(url_parts, max_size=8).map("".join)))
def test_property_only_allowlisted_origins(requested: str) -> None:
    got = resolve_destination(ALLOW, requested, params={"ref": requested[:10]})
    assert _origin(got) in ALLOWED_ORIGINS
    p = urlsplit(got)
    assert "@" not in p.netloc
    assert "\\" not in got
    assert not any(c in got for c in "\t\n\r\x00 ")
    # what a browser would see: the text before the first "/", "?" or "#" after the scheme
    authority = got.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    assert authority.split(":")[0] in {"shop.example", "blog.example", "legacy.example"}
