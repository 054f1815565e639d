"""Listening connectors against a local server replaying real response shapes (no live network).

Feeds (RSS 2.0, Atom 1.0, RDF; conditional GET; malformed and half-broken feeds), Mastodon
through Mastodon.py (timelines, hashtag, search, mentions; Link-header paging; boosts and
replies; 429 with rate-limit headers; 401), the X/Twitter and Mastodon archives.
"""

from __future__ import annotations

import json
import socket
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grapevine.connectors as connectors
from grapevine.connectors import (
    FeedSource,
    FetchResult,
    ListenedPost,
    MastodonSource,
    Source,
    html_to_text,
    read_mastodon_outbox,
    read_twitter_archive,
)
from grapevine.connectors.feeds import parse_feed
from grapevine.connectors.mastodon import status_to_posts
from grapevine.errors import BadInput, InvalidParameter, SourceFailed
from listening_server import FIXTURES, VALID_TOKEN, ReplayServer, Reply, rate_limited

ARCHIVES = FIXTURES / "archives"


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[ReplayServer]:
    with ReplayServer() as srv:
        yield srv


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------- interface
def test_sources_satisfy_the_protocol(server: ReplayServer) -> None:
    with (
        FeedSource(server.url + "/feeds/atom.xml") as feed,
        MastodonSource(server.url) as masto,
    ):
        assert isinstance(feed, Source)
        assert isinstance(masto, Source)
        assert (feed.kind, masto.kind) == ("rss", "mastodon")
        assert masto.name.startswith("mastodon:127.0.0.1:")
        assert masto.name.endswith(":public")


def test_connectors_public_names_resolve() -> None:
    for name in connectors.__all__:
        assert hasattr(connectors, name), name


def test_source_failed_keeps_its_context() -> None:
    err = SourceFailed(
        "https://x.example/feed", "rate_limited", retry_after=30.0, detail="HTTP 429"
    )
    assert (err.source, err.reason, err.retry_after) == (
        "https://x.example/feed",
        "rate_limited",
        30,
    )
    assert str(err) == (
        "Source 'https://x.example/feed' failed: rate_limited (HTTP 429); retry after 30 s."
    )


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello&nbsp;<b>world</b></p><p>again</p>", "Hello world again"),
        ("a<br>b<br/>c", "a b c"),
        ("x<script>alert(1)</script>y<style>p{}</style>", "xy"),
        ("Caf&#233; &amp; th&eacute; 😀 東京", "Café & thé 😀 東京"),
        ("I <3 you", "I <3 you"),
        ("   \n\t ", ""),
        ("", ""),
        ("cafe\u0301", "café"),  # NFC
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_html_to_text_never_fails_and_is_collapsed(markup: str) -> None:
    out = html_to_text(markup)
    assert out == out.strip()
    assert "  " not in out
    assert "\n" not in out


# ---------------------------------------------------------------------------- feeds
@pytest.mark.parametrize(
    ("name", "n", "first_author", "language"),
    [
        ("atom.xml", 3, "Marieke de Vries", "nl"),
        ("rss2.xml", 3, "feed", "en-us"),
        ("rdf.xml", 1, "Uwe Schäfer", "de"),
    ],
)
def test_feed_formats(
    server: ReplayServer, name: str, n: int, first_author: str, language: str
) -> None:
    with FeedSource(f"{server.url}/feeds/{name}") as src:
        result = src.fetch(None)
    assert len(result.posts) == n
    assert result.warnings == ()
    times = [p.time for p in result.posts]
    assert times == sorted(times)  # oldest first
    newest = result.posts[-1]
    assert newest.platform == "rss"
    assert newest.source == f"{server.url}/feeds/{name}"
    assert newest.language == language
    if first_author != "feed":
        assert newest.author == first_author
    for post in result.posts:
        assert "<" not in post.text.replace("<3", "")
        assert post.external_id


def test_atom_entry_details(server: ReplayServer) -> None:
    with FeedSource(server.url + "/feeds/atom.xml") as src:
        posts = {p.external_id: p for p in src.fetch(None).posts}
    post = posts["tag:koffieblog.example,2026:post-412"]
    assert post.text == (
        "Waarom de nieuwe Brewly mij teleurstelt De Brewly X2 lekt na twee weken — en de "
        "klantenservice reageert niet. 😠 Wie heeft hetzelfde probleem? #brewly"
    )  # HTML stripped, script dropped, entities and emoji kept
    assert post.url == "https://koffieblog.example/2026/11/brewly-teleurstelling/"
    assert post.time == 1795167000.0  # 2026-11-20T09:30:00Z
    mixed = posts["tag:koffieblog.example,2026:post-409"]
    assert "東京ロースト" in mixed.text
    assert mixed.language == "en"
    assert mixed.time == 1795006800.0  # +01:00 converted to UTC
    empty = posts["tag:koffieblog.example,2026:post-401"]
    assert empty.text == ""


def test_rss_author_falls_back_to_the_feed_host(server: ReplayServer) -> None:
    with FeedSource(server.url + "/feeds/rss2.xml") as src:
        posts = src.fetch(None).posts
    weekly = next(p for p in posts if p.url and p.url.endswith("weekly-links/"))
    assert weekly.author == "127.0.0.1"
    assert weekly.author_name is None
    review = next(p for p in posts if p.external_id == "https://dailygrind.example/?p=2231")
    assert review.author == "Sam Ortiz"
    assert "two leaked within a week" in review.text  # content:encoded preferred to description


def test_feed_refetch_is_conditional_and_yields_no_duplicates(fresh_server: ReplayServer) -> None:
    url = fresh_server.url + "/feeds/rss2.xml"
    with FeedSource(url) as src:
        first = src.fetch(None)
        second = src.fetch(first.cursor)
        assert second.posts == []
        assert second.cursor == first.cursor
        # the conditional GET was answered 304
        _, _, headers = fresh_server.requests_to("/feeds/rss2.xml")[-1]
        assert headers["if-none-match"].startswith('"')
        # a new entry appears: only it comes back
        xml = fresh_server.feeds["rss2.xml"].decode()
        new_item = (
            "<item><title>Brewly X2 fix is out</title><guid>https://dailygrind.example/?p=2240"
            "</guid><pubDate>Sat, 21 Nov 2026 10:00:00 +0000</pubDate></item>"
        )
        fresh_server.feeds["rss2.xml"] = xml.replace("<item>", new_item + "<item>", 1).encode()
        third = src.fetch(second.cursor)
        assert [p.external_id for p in third.posts] == ["https://dailygrind.example/?p=2240"]
        # and a fetch that fails keeps nothing half-done: the same cursor works after it
        fresh_server.script("/feeds/rss2.xml", *[Reply(503)] * 4)
        with FeedSource(url, backoff=0.0) as other, pytest.raises(SourceFailed) as info:
            other.fetch(third.cursor)
        assert info.value.reason == "http_503"
        assert src.fetch(third.cursor).posts == []


def test_feed_limit_keeps_the_rest_for_the_next_fetch(server: ReplayServer) -> None:
    with FeedSource(server.url + "/feeds/atom.xml") as src:
        a = src.fetch(None, limit=2)
        b = src.fetch(a.cursor, limit=2)
        c = src.fetch(b.cursor, limit=2)
    assert len(a.posts) == 2
    assert len(b.posts) == 1
    assert c.posts == []
    ids = [p.external_id for p in a.posts + b.posts]
    assert len(set(ids)) == 3
    assert "etag" not in json.loads(a.cursor or "{}")  # truncated: must download again


def test_malformed_feed_fails_naming_the_url(server: ReplayServer) -> None:
    url = server.url + "/feeds/malformed.xml"
    with FeedSource(url) as src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "malformed"
    assert info.value.source == url
    assert url in str(info.value)


def test_half_broken_feed_keeps_its_entries_with_a_warning(server: ReplayServer) -> None:
    with FeedSource(server.url + "/feeds/bozo_with_entries.xml") as src:
        result = src.fetch(None)
    assert [p.text for p in result.posts] == [
        "Brewly support finally answered They are sending a new tank & a voucher."
    ]
    assert len(result.warnings) == 1
    assert "entries read anyway" in result.warnings[0]


def test_feed_retries_a_429_honouring_retry_after(fresh_server: ReplayServer) -> None:
    sleeps: list[float] = []
    fresh_server.script("/feeds/atom.xml", Reply(429, headers={"Retry-After": "2"}))
    with FeedSource(fresh_server.url + "/feeds/atom.xml", sleep=sleeps.append) as src:
        assert len(src.fetch(None).posts) == 3
    assert sleeps == [2.0]


def test_feed_gives_up_after_its_retries(fresh_server: ReplayServer) -> None:
    sleeps: list[float] = []
    fresh_server.script("/feeds/atom.xml", *[Reply(429, headers={"Retry-After": "60"})] * 3)
    src = FeedSource(
        fresh_server.url + "/feeds/atom.xml",
        retries=2,
        backoff=1.0,
        max_wait=10,
        sleep=sleeps.append,
    )
    with src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "rate_limited"
    assert info.value.retry_after == 60.0
    assert sleeps == [10.0, 10.0]  # capped by max_wait


@pytest.mark.parametrize(
    ("status", "reason", "calls"),
    [
        (401, "unauthorized", 1),
        (403, "unauthorized", 1),
        (404, "http_404", 1),
        (500, "http_500", 3),
    ],
)
def test_feed_http_errors(fresh_server: ReplayServer, status: int, reason: str, calls: int) -> None:
    fresh_server.script("/feeds/atom.xml", *[Reply(status)] * 3)
    with (
        FeedSource(fresh_server.url + "/feeds/atom.xml", retries=2, backoff=0.0) as src,
        pytest.raises(SourceFailed) as info,
    ):
        src.fetch(None)
    assert info.value.reason == reason
    assert len(fresh_server.requests_to("/feeds/atom.xml")) == calls


def test_feed_network_error() -> None:
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{_closed_port()}/feed.xml"
    src = FeedSource(url, retries=2, backoff=0.25, sleep=sleeps.append)
    with src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "network"
    assert sleeps == [0.25, 0.5]


def test_feed_uses_a_given_client(server: ReplayServer) -> None:
    with httpx.Client() as client:
        src = FeedSource(server.url + "/feeds/rdf.xml", client=client)
        assert len(src.fetch(None).posts) == 1
        src.close()  # does not close a client it did not make
        assert not client.is_closed


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"url": "ftp://x.example/feed"}, "url"),
        ({"url": "http://x.example/feed", "retries": -1}, "retries"),
        ({"url": "http://x.example/feed", "timeout": 0}, "timeout"),
    ],
)
def test_feed_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        FeedSource(**kwargs)  # type: ignore[arg-type]
    assert info.value.name == name


def test_feed_rejects_a_foreign_cursor(server: ReplayServer) -> None:
    with FeedSource(server.url + "/feeds/atom.xml") as src, pytest.raises(InvalidParameter):
        src.fetch("113500000000000012")


@given(st.binary(max_size=300))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_parse_or_fail_as_malformed(data: bytes) -> None:
    try:
        posts, _ = parse_feed(data, "https://x.example/feed")
    except SourceFailed as exc:
        reason = exc.reason
    else:
        reason = "parsed"
        assert all(isinstance(p, ListenedPost) for p in posts)
    assert reason in ("parsed", "malformed")


# ---------------------------------------------------------------------------- mastodon
def test_mastodon_public_first_fetch_is_the_newest_page(server: ReplayServer) -> None:
    with MastodonSource(server.url) as src:
        result = src.fetch(None, limit=5)
    assert result.cursor == "113500000000000012"
    # five statuses; the boost adds the boosted original
    assert len(result.posts) == 6
    assert [p.time for p in result.posts if p.author != "noor@mastodon.nl"] == sorted(
        p.time for p in result.posts if p.author != "noor@mastodon.nl"
    )


def test_mastodon_paging_resumes_from_the_cursor(server: ReplayServer) -> None:
    with MastodonSource(server.url) as src:
        everything = src.fetch("113500000000000000")
    with MastodonSource(server.url) as src:
        a = src.fetch("113500000000000000", limit=4)
        b = src.fetch(a.cursor, limit=4)
        c = src.fetch(b.cursor, limit=40)
        d = src.fetch(c.cursor)
    assert (a.cursor, b.cursor, c.cursor, d.cursor) == (
        "113500000000000004",
        "113500000000000008",
        "113500000000000012",
        "113500000000000012",
    )
    assert d.posts == []
    ids = [p.external_id for p in a.posts + b.posts + c.posts]
    assert len(ids) == len(set(ids))  # no duplicates across fetches
    assert set(ids) == {p.external_id for p in everything.posts}
    assert len(everything.posts) == 13  # 12 statuses and the boosted original


def test_mastodon_status_mapping(server: ReplayServer) -> None:
    with MastodonSource(server.url) as src:
        posts = {p.external_id: p for p in src.fetch("0").posts}
    emma = posts["https://fosstodon.org/users/emma/statuses/113500000123456789"]
    assert emma.author == "emma@fosstodon.org"
    assert emma.author_name == "Emma :verified:"
    assert emma.author_followers == 2048
    assert emma.text == "@brewly my X2 leaks water all over the counter! 😡 Not happy."
    assert (emma.likes, emma.reshares, emma.replies) == (9, 2, 1)
    assert emma.url == "https://fosstodon.org/@emma/113500000123456789"
    assert emma.time == 1795165200.0
    # a local account's acct gets its instance
    brand = posts["https://social.example/users/brewly/statuses/113500000000000008"]
    assert brand.author == "brewly@social.example"
    assert brand.text.endswith("A fix ships Monday & we'll replace leaking units.")
    # a reply points at its parent's URI
    assert brand.parent_external_id == emma.external_id
    carla = posts["https://social.example/users/carla/statuses/113500000000000012"]
    assert carla.parent_external_id == brand.external_id
    # a boost is a reshare of the boosted status, which is returned too
    boost = posts["https://mastodon.online/users/dave/statuses/113500000000000011/activity"]
    original = posts["https://mastodon.nl/users/noor/statuses/113499876543210987"]
    assert boost.parent_external_id == original.external_id
    assert boost.author == "dave@mastodon.online"
    assert boost.text == original.text
    # a content warning is part of the text
    rant = posts["https://social.example/users/carla/statuses/113500000000000006"]
    assert rant.text == "CW: coffee rant My Brewly leaks again & again. Third time this month."
    # mixed scripts, emoji, an empty (media only) status, an unsupported language
    assert posts["https://mstdn.jp/users/yuki/statuses/113500000000000010"].language == "ja"
    assert (
        "قهوة رائعة" in posts["https://social.example/users/omar/statuses/113500000000000009"].text
    )
    media = posts["https://social.example/users/kim/statuses/113500000000000007"]
    assert media.text == ""
    assert media.language is None
    assert media.author_name == "Kim <script>"
    assert (
        posts["https://esperanto.masto.host/users/ludo/statuses/113500000000000002"].language
        == "eo"
    )


def test_mastodon_unknown_parent_falls_back_to_host_and_id(server: ReplayServer) -> None:
    with MastodonSource(server.url) as src:
        posts = src.fetch("113500000000000003", limit=1).posts
    assert posts[0].parent_external_id == f"{src.host}:113400000000000000"


def test_mastodon_parent_outside_the_page_is_looked_up(fresh_server: ReplayServer) -> None:
    with MastodonSource(fresh_server.url) as src:
        posts = src.fetch("113500000000000011", limit=1).posts  # carla's reply only
    assert posts[0].parent_external_id == (
        "https://social.example/users/brewly/statuses/113500000000000008"
    )
    assert fresh_server.requests_to("/api/v1/statuses/113500000000000008")
    with MastodonSource(fresh_server.url, resolve_parents=False) as src:
        posts = src.fetch("113500000000000011", limit=1).posts
    assert posts[0].parent_external_id == f"{src.host}:113500000000000008"


def test_mastodon_local_timeline(server: ReplayServer) -> None:
    with MastodonSource(server.url, timeline="local") as src:
        posts = src.fetch("0").posts
    assert {p.author for p in posts} == {
        "brewly@social.example",
        "carla@social.example",
        "kim@social.example",
        "omar@social.example",
    }
    assert len(posts) == 6


def test_any_tweets_js_bytes_read_or_raise_bad_input(tmp_path: Path) -> None:
    @given(st.binary(max_size=200).map(lambda b: b"window.YTD.tweets.part0 = " + b))
    @settings(max_examples=60, deadline=None)
    def check(data: bytes) -> None:
        path = tmp_path / "tweets.js"
        path.write_bytes(data)
        try:
            posts = read_twitter_archive(path, author="me")
        except BadInput:
            return
        assert all(p.author == "me" for p in posts)

    check()


def test_mastodon_hashtag_search_and_mentions(server: ReplayServer) -> None:
    with MastodonSource(server.url, timeline="hashtag:#brewly") as src:
        tagged = src.fetch(None)
    assert [p.author for p in tagged.posts] == ["yuki@mstdn.jp"]
    with MastodonSource(server.url, access_token=VALID_TOKEN, timeline="search:leaks") as src:
        found = src.fetch(None)
        assert found.cursor == "113500000000000006"
        assert src.fetch(found.cursor).posts == []
    assert {p.author for p in found.posts} == {"emma@fosstodon.org", "carla@social.example"}
    with MastodonSource(server.url, access_token=VALID_TOKEN, timeline="mentions") as src:
        mentions = src.fetch(None)
    assert mentions.cursor == "34975862"  # notification ids page the mentions
    assert [p.author for p in mentions.posts] == ["emma@fosstodon.org", "carla@social.example"]


def test_mastodon_rate_limit_waits_for_the_reset_then_succeeds(fresh_server: ReplayServer) -> None:
    sleeps: list[float] = []
    fresh_server.script("/api/v1/timelines/public", rate_limited(reset_in=20))
    with MastodonSource(fresh_server.url, sleep=sleeps.append) as src:
        result = src.fetch(None)
    assert len(result.posts) > 0
    assert len(sleeps) == 1
    assert 18 <= sleeps[0] <= 22


def test_mastodon_rate_limit_exhausted_keeps_the_cursor(fresh_server: ReplayServer) -> None:
    sleeps: list[float] = []
    fresh_server.script(
        "/api/v1/timelines/public", *[rate_limited(reset_in=30, retry_after="45")] * 3
    )
    with MastodonSource(fresh_server.url, retries=2, max_wait=5, sleep=sleeps.append) as src:
        with pytest.raises(SourceFailed) as info:
            src.fetch("113500000000000008")
        assert info.value.reason == "rate_limited"
        assert info.value.retry_after == 45.0  # Retry-After wins when present
        assert sleeps == [5.0, 5.0]
        # the same cursor resumes with nothing lost
        result = src.fetch("113500000000000008")
    assert [p.external_id.rsplit("/", 2)[-2:] for p in result.posts][-1] == [
        "statuses",
        "113500000000000012",
    ]


def test_mastodon_401_fails_at_once(fresh_server: ReplayServer) -> None:
    sleeps: list[float] = []
    src = MastodonSource(fresh_server.url, access_token="expired", sleep=sleeps.append)
    with src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "unauthorized"
    assert sleeps == []
    assert "access token is invalid" in str(info.value)
    assert len(fresh_server.requests_to("/api/v1/timelines/public")) == 1


def test_mastodon_server_errors_and_network(fresh_server: ReplayServer) -> None:
    fresh_server.script("/api/v1/timelines/public", Reply(502, b"<html>bad gateway</html>"))
    with MastodonSource(fresh_server.url, backoff=0.0) as src:
        assert len(src.fetch(None).posts) > 0  # retried once
    fresh_server.script("/api/v1/timelines/public", Reply(200, b"<html>oops</html>"))
    with MastodonSource(fresh_server.url) as src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "malformed"
    url = f"http://127.0.0.1:{_closed_port()}"
    with MastodonSource(url, retries=1, backoff=0.0) as src, pytest.raises(SourceFailed) as info:
        src.fetch(None)
    assert info.value.reason == "network"


def test_mastodon_reply_posts_once_per_idempotency_key(fresh_server: ReplayServer) -> None:
    emma = "https://fosstodon.org/users/emma/statuses/113500000123456789"
    with MastodonSource(fresh_server.url, access_token=VALID_TOKEN, timeline="mentions") as src:
        first = src.reply(emma, "Sorry Emma, a new tank is on its way.")
        again = src.reply(emma, "Sorry Emma, a new tank is on its way.")
        other = src.reply(f"{src.host}:113500000000000009", "Thanks Omar ☕")
    assert first == again != other
    assert len(fresh_server.posted) == 2
    assert fresh_server.posted[0]["in_reply_to_id"] == "113500000000000005"
    assert fresh_server.posted[1]["in_reply_to_id"] == "113500000000000009"
    _, _, headers = fresh_server.requests_to("/api/v1/statuses")[0]
    assert len(headers["idempotency-key"]) == 64
    with MastodonSource(fresh_server.url, access_token=VALID_TOKEN) as src:
        with pytest.raises(SourceFailed) as info:
            src.reply("https://nowhere.example/statuses/1", "hi")
        assert info.value.reason == "http_404"
        with pytest.raises(InvalidParameter):
            src.reply(emma, "   ")
    with MastodonSource(fresh_server.url) as src, pytest.raises(SourceFailed) as info:
        src.reply(f"{src.host}:113500000000000009", "no token")
    assert info.value.reason == "unauthorized"


def test_mastodon_instance(server: ReplayServer) -> None:
    with MastodonSource(server.url) as src:
        info = src.instance()
    assert info["version"] == "4.2.10"
    assert info["uri"] == "social.example"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"api_base_url": "social.example"}, "api_base_url"),
        ({"api_base_url": "https://social.example", "timeline": "home"}, "timeline"),
        ({"api_base_url": "https://social.example", "timeline": "hashtag:"}, "timeline"),
        ({"api_base_url": "https://social.example", "timeline": "mentions"}, "access_token"),
        ({"api_base_url": "https://social.example", "timeline": "search:x"}, "access_token"),
    ],
)
def test_mastodon_parameters(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        MastodonSource(**kwargs)  # type: ignore[arg-type]
    assert info.value.name == name


def test_status_to_posts_on_a_plain_json_status() -> None:
    statuses = json.loads((FIXTURES / "mastodon" / "statuses.json").read_text("utf-8"))
    posts = status_to_posts(statuses[1], host="social.example", source="s")
    assert [p.author for p in posts] == ["noor@mastodon.nl", "dave@mastodon.online"]
    assert posts[0].time == 1795122251.0
    reply = status_to_posts(statuses[0], host="social.example")[0]
    assert reply.parent_external_id == "social.example:113500000000000008"


def test_fetch_result_is_plain_data() -> None:
    result = FetchResult([], None)
    assert result.warnings == ()
    assert result.cursor is None


# ---------------------------------------------------------------------------- archives
def test_twitter_archive_tweets_js() -> None:
    posts = read_twitter_archive(ARCHIVES / "twitter" / "data" / "tweets.js")
    assert [p.external_id for p in posts] == [
        "1857000000000000001",
        "1858901234567890123",
        "1858909999999999999",
    ]
    assert {p.author for p in posts} == {"samortiz"}  # from account.js next to it
    review = posts[1]
    assert review.text == (
        "New review: the X2 makes great espresso but #Brewly, the tank leaks & that's a "
        "<dealbreaker>"
    )
    assert (review.likes, review.reshares, review.language) == (12, 4, "en")
    assert review.time == 1795172400.0
    assert posts[2].parent_external_id == "1858905555555555555"
    assert posts[0].language is None  # "und"


def test_twitter_archive_zip(tmp_path: Path) -> None:
    archive = tmp_path / "twitter-2026-11-21.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("tweets.js", "account.js"):
            zf.write(ARCHIVES / "twitter" / "data" / name, f"data/{name}")
        zf.writestr("data/like.js", "window.YTD.like.part0 = []")
    posts = read_twitter_archive(archive)
    assert len(posts) == 3
    assert posts[0].source == f"{archive}!data/tweets.js"
    assert read_twitter_archive(archive, author="other")[0].author == "other"


@pytest.mark.parametrize(
    ("name", "field", "line"),
    [
        ("tweets_bad_time.js", "[1].tweet.created_at", None),
        ("tweets_not_js.js", None, 1),
    ],
)
def test_twitter_archive_bad_items(name: str, field: str | None, line: int | None) -> None:
    with pytest.raises(BadInput) as info:
        read_twitter_archive(ARCHIVES / "twitter" / name, author="x")
    assert info.value.file == str(ARCHIVES / "twitter" / name)
    assert (info.value.field, info.value.line) == (field, line)


def test_twitter_archive_needs_an_author(tmp_path: Path) -> None:
    lone = tmp_path / "tweets.js"
    lone.write_text("window.YTD.tweets.part0 = []")
    with pytest.raises(BadInput, match="pass author="):
        read_twitter_archive(lone)
    assert read_twitter_archive(lone, author="me") == []
    broken = tmp_path / "t.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("data/account.js", "window.YTD.account.part0 = []")
    with pytest.raises(BadInput, match=r"no data/tweets\.js"):
        read_twitter_archive(broken)


def test_mastodon_outbox() -> None:
    posts = read_mastodon_outbox(ARCHIVES / "mastodon" / "outbox.json")
    assert len(posts) == 3  # the Like is skipped
    note, reply, boost = posts
    assert note.author == "noor@mastodon.nl"
    assert note.author_name == "Noor"
    assert note.text == "Mijn Brewly X2 lekt. Iemand anders ook? #brewly"
    assert note.language == "nl"
    assert note.time == 1795122251.0
    assert (
        reply.parent_external_id == "https://fosstodon.org/users/emma/statuses/113500000123456789"
    )
    assert reply.text == "koffie @emma Bij mij ook! 😩"
    assert boost.text == ""
    assert boost.parent_external_id == (
        "https://social.example/users/brewly/statuses/113500000000000008"
    )
    assert boost.external_id.endswith("/activity")


def test_mastodon_export_zip_without_actor(tmp_path: Path) -> None:
    archive = tmp_path / "archive-20261121.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ARCHIVES / "mastodon" / "outbox.json", "outbox.json")
    posts = read_mastodon_outbox(archive)
    assert {p.author for p in posts} == {"noor@mastodon.nl"}  # from the actor URL
    assert {p.author_name for p in posts} == {None}
    assert {p.author for p in read_mastodon_outbox(archive, author="n@x.example")} == {
        "n@x.example"
    }


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"type": "OrderedCollection"}', None),
        ('{"orderedItems": [1]}', "orderedItems[0]"),
        (
            '{"orderedItems": [{"type": "Create", "actor": "https://a.example/users/a"}]}',
            "orderedItems[0].object",
        ),
        (
            '{"orderedItems": [{"type": "Announce", "id": "x", "actor": "https://a.example/users/a",'
            ' "published": "2026-01-01T00:00:00Z"}]}',
            "orderedItems[0].object",
        ),
        (
            '{"orderedItems": [{"type": "Create", "actor": 3, "object": {}}]}',
            "orderedItems[0].actor",
        ),
    ],
)
def test_mastodon_outbox_bad_items(tmp_path: Path, content: str, field: str | None) -> None:
    path = tmp_path / "outbox.json"
    path.write_text(content)
    with pytest.raises(BadInput) as info:
        read_mastodon_outbox(path)
    assert info.value.file == str(path)
    assert info.value.field == field


def test_mastodon_outbox_bad_fixture_names_the_item() -> None:
    path = ARCHIVES / "mastodon" / "outbox_bad.json"
    with pytest.raises(BadInput) as info:
        read_mastodon_outbox(path)
    assert info.value.field == "orderedItems[1].object.published"


def test_archives_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    path.write_text('{"orderedItems": [\n  {"type": "Create",}\n]}')
    with pytest.raises(BadInput) as info:
        read_mastodon_outbox(path)
    assert info.value.line == 2
    bad_zip = tmp_path / "x.zip"
    bad_zip.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BadInput):
        read_mastodon_outbox(bad_zip)


@given(st.binary(max_size=200))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_outbox_bytes_read_or_raise_bad_input(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "outbox.json"
    path.write_bytes(data)
    try:
        posts = read_mastodon_outbox(path)
    except BadInput:
        return
    assert all(isinstance(p, ListenedPost) for p in posts)


def test_duplicates_across_sources_share_the_natural_key(server: ReplayServer) -> None:
    """The same status from the API and from the export has one (platform, external_id)."""
    with MastodonSource(server.url) as src:
        api = {(p.platform, p.external_id) for p in src.fetch("0").posts}
    export = {
        (p.platform, p.external_id)
        for p in read_mastodon_outbox(ARCHIVES / "mastodon" / "outbox.json")
    }
    assert (
        "mastodon",
        "https://mastodon.nl/users/noor/statuses/113499876543210987",
    ) in api & export
