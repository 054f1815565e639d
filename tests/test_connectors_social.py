"""Hacker News, Bluesky and Reddit sources against a local server that answers in the
platforms' documented shapes (tests/social_server.py): cursors, paging, rate limits,
retries, sign-in, replies, malformed answers, and a listening run that stores their posts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grapevine.connectors import Source
from grapevine.connectors.bluesky import BlueskySource
from grapevine.connectors.hackernews import HackerNewsSource
from grapevine.connectors.reddit import RedditSource
from grapevine.connectors.social import social_source
from grapevine.connectors.x import XSource
from grapevine.errors import BadInput, InvalidParameter, SourceFailed
from grapevine.store import Store
from listening_server import Reply
from social_server import (
    BSKY_HANDLE,
    BSKY_PASSWORD,
    REDDIT_ID,
    REDDIT_PASSWORD,
    REDDIT_SECRET,
    REDDIT_USER,
    T0,
    X_APP_TOKEN,
    X_USER_TOKEN,
    SocialServer,
    bsky_view,
    hn_hit,
    reddit_thing,
    x_tweet,
)


@pytest.fixture
def srv() -> Iterator[SocialServer]:
    with SocialServer() as server:
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def drain(source: Source, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    """Fetch until a fetch returns nothing; the ids in order and the last cursor."""
    out: list[str] = []
    for _ in range(100):
        result = source.fetch(cursor, limit=limit)
        times = [p.time for p in result.posts]
        assert times == sorted(times)  # type: ignore[type-var]
        out += [p.external_id for p in result.posts]
        cursor = result.cursor
        if not result.posts:
            return out, cursor
    raise AssertionError("did not settle")


# ---------------------------------------------------------------------------- Hacker News
def test_hn_pages_forward_from_its_cursor_without_duplicates(srv: SocialServer) -> None:
    srv.hn = [hn_hit(n, T0 + n) for n in range(1, 6)]
    srv.hn += [hn_hit(n, T0 + 3, comment_on=1) for n in range(10, 14)]  # same second
    with HackerNewsSource(base_url=srv.url, sleep=Sleeps()) as hn:
        first = hn.fetch(None, limit=3)
        assert [p.external_id for p in first.posts] == ["13", "4", "5"]  # newest, oldest first
        assert first.posts[1].url == "https://news.ycombinator.com/item?id=4"
        assert first.posts[-1].text.startswith("Show HN: Grapevine story 5 https://")
        assert first.posts[-1].likes == 5
        assert first.posts[-1].platform == "hackernews"
        assert hn.fetch(first.cursor).posts == []  # nothing new
        srv.hn += [hn_hit(20, T0 + 5, comment_on=3), hn_hit(21, T0 + 9, comment_on=20)]
        srv.hn += [hn_hit(n, T0 + 7) for n in range(30, 35)]
        ids, _ = drain(hn, first.cursor, 2)  # small pages: resumes across many fetches
    assert ids == ["20", "30", "31", "32", "33", "34", "21"]
    comment = next(h for h in srv.hn if h["objectID"] == "21")
    assert comment["parent_id"] == 20
    calls = srv.requests_to("/api/v1/search_by_date")
    assert "numericFilters=created_at_i%3E%3D" in calls[-1][1]
    assert "tags=%28story%2Ccomment%29" in calls[0][1]


def test_hn_comment_mapping_and_query(srv: SocialServer) -> None:
    srv.hn = [
        hn_hit(1, T0, text="Grapevine launch"),
        hn_hit(2, T0 + 1, comment_on=1, text="<p>Tried <i>grapevine</i> &amp; it works</p>"),
        hn_hit(3, T0 + 2, text="Unrelated"),
    ]
    with HackerNewsSource("grapevine", tags="comment", base_url=srv.url) as hn:
        posts = hn.fetch(None).posts
    assert [(p.external_id, p.text, p.parent_external_id) for p in posts] == [
        ("2", "Tried grapevine & it works", "1")
    ]


def test_hn_rate_limit_and_server_errors_are_retried(srv: SocialServer) -> None:
    srv.hn = [hn_hit(1, T0)]
    srv.script(
        "/api/v1/search_by_date",
        Reply(429, b'{"message":"Too many requests"}', {"Retry-After": "12"}),
        Reply(503, b"busy"),
        Reply(0, drop=True),
    )
    sleeps = Sleeps()
    with HackerNewsSource(base_url=srv.url, sleep=sleeps, retries=3) as hn:
        assert [p.external_id for p in hn.fetch(None).posts] == ["1"]
    assert sleeps[0] == 12.0  # the server's Retry-After beats the backoff
    assert sleeps[1:] == [1.0, 2.0]


def test_hn_failure_keeps_the_cursor_valid_and_names_the_platform(srv: SocialServer) -> None:
    srv.hn = [hn_hit(1, T0)]
    with HackerNewsSource(base_url=srv.url, sleep=Sleeps(), retries=1) as hn:
        cursor = hn.fetch(None).cursor
        srv.script("/api/v1/search_by_date", Reply(502, b""), Reply(502, b""))
        with pytest.raises(SourceFailed) as err:
            hn.fetch(cursor)
        assert err.value.reason == "http_502"
        assert "Hacker News" in err.value.detail
        srv.hn.append(hn_hit(2, T0 + 1))
        assert [p.external_id for p in hn.fetch(cursor).posts] == ["2"]


def test_hn_malformed_answers_name_the_field(srv: SocialServer) -> None:
    srv.script(
        "/api/v1/search_by_date",
        Reply(200, json.dumps({"hits": [{"objectID": "1"}]}), {"Content-Type": "application/json"}),
        Reply(200, "<html>", {"Content-Type": "text/html"}),
    )
    with HackerNewsSource(base_url=srv.url) as hn:
        with pytest.raises(SourceFailed, match="created_at_i") as err:
            hn.fetch(None)
        assert err.value.reason == "malformed"
        with pytest.raises(SourceFailed, match="not JSON"):
            hn.fetch(None)
        with pytest.raises(InvalidParameter, match="cursor"):
            hn.fetch('{"after": "x"}')
    with pytest.raises(InvalidParameter, match="tags"):
        HackerNewsSource(tags="jobs!")
    assert not hasattr(HackerNewsSource(), "reply")  # read only


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    times=st.lists(st.integers(0, 20), min_size=0, max_size=25),
    later=st.lists(st.integers(0, 30), min_size=0, max_size=25),
    limit=st.integers(2, 7),
)
def test_hn_every_item_arrives_once_whatever_the_timing(
    srv: SocialServer, times: list[int], later: list[int], limit: int
) -> None:
    srv.hn = [hn_hit(i + 1, T0 + t) for i, t in enumerate(times)]
    with HackerNewsSource(base_url=srv.url) as hn:
        first = hn.fetch(None, limit=limit)
        cursor = first.cursor
        top = max(times, default=-1)
        # later items are never older than what was already there (the API only grows)
        srv.hn += [hn_hit(1000 + i, T0 + max(top, 0) + t) for i, t in enumerate(later)]
        ids, _ = drain(hn, cursor, limit)
    got = [p.external_id for p in first.posts] + ids
    assert len(got) == len(set(got))
    expected = {str(1000 + i) for i in range(len(later))}
    if first.posts:  # everything at or after the first fetch's newest arrives
        newest = max(p.time for p in first.posts if p.time is not None)
        expected |= {h["objectID"] for h in srv.hn if h["created_at_i"] >= newest}
    assert expected <= set(got)


# ---------------------------------------------------------------------------- Bluesky
def test_bluesky_public_search_pages_and_resumes(srv: SocialServer) -> None:
    srv.bsky_requires_auth = False
    srv.bsky = [bsky_view(n, T0 + 10 * n) for n in range(1, 151)]
    with BlueskySource("grapevine", base_url=srv.url) as bs:
        first = bs.fetch(None, limit=5)
        assert len(first.posts) == 5
        post = first.posts[-1]
        assert post.platform == "bluesky"
        assert post.external_id.startswith("at://")
        assert post.author == "fan0.bsky.social"
        assert post.language == "en"
        assert post.url == "https://bsky.app/profile/fan0.bsky.social/post/3k00000000150"
        srv.bsky += [bsky_view(n, T0 + 10 * n) for n in range(151, 400)]
        srv.bsky.append(bsky_view(999, T0 + 5000, reply_to=srv.bsky[0]["uri"]))
        result = bs.fetch(first.cursor, limit=300)
    assert len(result.posts) == 250  # 249 + the reply, across three pages of 100
    assert result.posts[0].external_id == srv.bsky[150]["uri"]
    reply = next(p for p in result.posts if p.external_id.endswith("3k00000000999"))
    assert reply.parent_external_id == srv.bsky[0]["uri"]
    calls = srv.requests_to("/xrpc/app.bsky.feed.searchPosts")
    assert "sort=latest" in calls[0][1]
    assert "since=" in calls[-1][1]
    assert "cursor=" in calls[-1][1]


def test_bluesky_signs_in_and_signs_in_again_when_the_token_expires(srv: SocialServer) -> None:
    srv.bsky = [bsky_view(n, T0 + n) for n in range(1, 4)]
    with BlueskySource(
        "grapevine", identifier=BSKY_HANDLE, password=BSKY_PASSWORD, base_url=srv.url
    ) as bs:
        cursor = bs.fetch(None).cursor
        srv.expire_tokens()
        srv.bsky.append(bsky_view(4, T0 + 4))
        assert len(bs.fetch(cursor).posts) == 1
    assert len(srv.requests_to("/xrpc/com.atproto.server.createSession")) == 2
    with (
        BlueskySource("grapevine", base_url=srv.url) as anonymous,
        pytest.raises(SourceFailed) as err,
    ):
        anonymous.fetch(None)
    assert err.value.reason == "unauthorized"
    assert "AuthMissing" in err.value.detail
    with (
        BlueskySource(
            "grapevine", identifier=BSKY_HANDLE, password="wrong", base_url=srv.url
        ) as bad,
        pytest.raises(SourceFailed, match="Invalid identifier or password"),
    ):
        bad.fetch(None)


def test_bluesky_replies_name_the_thread_root_and_parent(srv: SocialServer) -> None:
    root = bsky_view(1, T0)
    child = bsky_view(2, T0 + 5, reply_to=root["uri"])
    srv.bsky = [root, child]
    srv.bsky_requires_auth = False
    with BlueskySource(
        "grapevine", identifier=BSKY_HANDLE, password=BSKY_PASSWORD, base_url=srv.url
    ) as bs:
        bs.fetch(None)
        uri = bs.reply(child["uri"], "Thanks for trying it!")
    record = srv.bsky_records[uri]
    assert record["text"] == "Thanks for trying it!"
    assert record["reply"]["parent"] == {"uri": child["uri"], "cid": child["cid"]}
    assert record["reply"]["root"]["uri"] == root["uri"]
    with BlueskySource(
        "grapevine", identifier=BSKY_HANDLE, password=BSKY_PASSWORD, base_url=srv.url
    ) as fresh:  # an unknown parent is looked up with getPosts
        uri2 = fresh.reply(root["uri"], "Hello")
        with pytest.raises(SourceFailed) as err:
            fresh.reply("at://did:plc:x/app.bsky.feed.post/none", "Hello")
        assert err.value.reason == "http_404"
        with pytest.raises(InvalidParameter, match="300"):
            fresh.reply(root["uri"], "x" * 301)
    assert srv.bsky_records[uri2]["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert len(srv.requests_to("/xrpc/app.bsky.feed.getPosts")) == 2
    with pytest.raises(InvalidParameter, match="identifier"):
        BlueskySource("grapevine", base_url=srv.url).reply(root["uri"], "hi")


def test_bluesky_waits_for_ratelimit_reset(srv: SocialServer) -> None:
    srv.bsky_requires_auth = False
    srv.bsky = [bsky_view(n, T0 + n) for n in range(1, 4)]
    reset = str(int(__import__("time").time()) + 40)
    srv.script(
        "/xrpc/app.bsky.feed.searchPosts",
        Reply(
            429,
            b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}',
            {
                "Content-Type": "application/json",
                "ratelimit-remaining": "0",
                "ratelimit-reset": reset,
            },
        ),
    )
    sleeps = Sleeps()
    srv.rate_remaining = 0  # the answer says the window is used up: the next call waits too
    with BlueskySource("grapevine", base_url=srv.url, sleep=sleeps) as bs:
        first = bs.fetch(None)
        bs.fetch(first.cursor)
    assert 35 <= sleeps[0] <= 40  # until ratelimit-reset
    assert 4 <= sleeps[1] <= 7  # the window reset of the successful answer


def test_bluesky_malformed_post_names_the_field(srv: SocialServer) -> None:
    srv.bsky_requires_auth = False
    bad = bsky_view(1, T0)
    bad["record"]["createdAt"] = "yesterday"
    srv.bsky = [bad]
    with (
        BlueskySource("grapevine", base_url=srv.url) as bs,
        pytest.raises(SourceFailed, match=r"posts\[0\].*record.createdAt") as err,
    ):
        bs.fetch(None)
    assert err.value.reason == "malformed"
    assert "Bluesky" in str(err.value)


# ---------------------------------------------------------------------------- Reddit
def reddit(srv: SocialServer, listing: str, **kw: object) -> RedditSource:
    return RedditSource(
        listing,
        client_id=REDDIT_ID,
        client_secret=REDDIT_SECRET,
        base_url=srv.url,
        auth_url=srv.url,
        **kw,  # type: ignore[arg-type]
    )


def test_reddit_listings_page_back_to_the_cursor(srv: SocialServer) -> None:
    srv.reddit["new"] = [reddit_thing(n, T0 + n) for n in range(1, 131)]
    srv.reddit["new"] += [reddit_thing(n, T0 + n, sub="other") for n in range(500, 505)]
    with reddit(srv, "new:r/grapevine") as rd:
        first = rd.fetch(None, limit=10)
        assert [p.external_id for p in first.posts][-1] == "t3_p130"
        assert first.posts[0].text == "Anyone tried grapevine? (121) Looking for opinions."
        assert first.posts[0].url == "https://www.reddit.com/r/grapevine/comments/p121/anyone/"
        srv.reddit["new"] += [reddit_thing(n, T0 + n) for n in range(131, 331)]
        ids, _ = drain(rd, first.cursor, 150)
    assert ids == [f"t3_p{n}" for n in range(131, 331)]
    tokens = srv.requests_to("/api/v1/access_token")
    assert len(tokens) == 1  # one app-only token, reused
    assert all(
        r[2]["authorization"].startswith("bearer ") for r in srv.requests_to("/r/grapevine/new")
    )


def test_reddit_search_and_comments(srv: SocialServer) -> None:
    srv.reddit["new"] = [reddit_thing(1, T0), reddit_thing(2, T0 + 1, sub="coffee")]
    srv.reddit["comments"] = [reddit_thing(3, T0 + 2, comment_on="t3_p1")]
    with reddit(srv, "search:grapevine") as rd:
        assert [p.external_id for p in rd.fetch(None).posts] == ["t3_p1", "t3_p2"]
    with reddit(srv, "comments:grapevine") as rd:
        (comment,) = rd.fetch(None).posts
    assert comment.external_id == "t1_c3"
    assert comment.parent_external_id == "t3_p1"
    assert comment.text == "grapevine worked for us (3)"
    assert comment.likes == 3
    assert "sort=new" in srv.requests_to("/search")[0][1]


def test_reddit_rate_limit_headers(srv: SocialServer) -> None:
    srv.reddit["new"] = [reddit_thing(1, T0)]
    srv.script(
        "/r/grapevine/new",
        Reply(
            429,
            b'{"message": "Too Many Requests", "error": 429}',
            {
                "Content-Type": "application/json",
                "X-Ratelimit-Remaining": "0",
                "X-Ratelimit-Reset": "42",
            },
        ),
    )
    sleeps = Sleeps()
    with reddit(srv, "new:grapevine", sleep=sleeps) as rd:
        assert len(rd.fetch(None).posts) == 1
    assert sleeps == [42.0]
    srv.script("/r/grapevine/new", *[Reply(429, b"{}", {"X-Ratelimit-Reset": "5"})] * 2)
    with (
        reddit(srv, "new:grapevine", sleep=Sleeps(), retries=1) as rd,
        pytest.raises(SourceFailed) as err,
    ):
        rd.fetch(None)
    assert err.value.reason == "rate_limited"
    assert err.value.retry_after == 5.0


def test_reddit_credentials_and_replies(srv: SocialServer) -> None:
    srv.reddit["new"] = [reddit_thing(1, T0)]
    with (
        RedditSource(
            "new:grapevine",
            client_id=REDDIT_ID,
            client_secret="nope",
            base_url=srv.url,
            auth_url=srv.url,
        ) as bad,
        pytest.raises(SourceFailed) as err,
    ):
        bad.fetch(None)
    assert err.value.reason == "unauthorized"
    assert "Reddit" in err.value.detail
    with (
        reddit(srv, "new:grapevine", username=REDDIT_USER, password="wrong") as wrong,
        pytest.raises(SourceFailed, match="invalid_grant"),
    ):
        wrong.fetch(None)
    with (
        reddit(srv, "new:grapevine") as app_only,
        pytest.raises(InvalidParameter, match="username"),
    ):
        app_only.reply("t3_p1", "Thanks!")
    with reddit(srv, "new:grapevine", username=REDDIT_USER, password=REDDIT_PASSWORD) as rd:
        assert rd.reply("t3_p1", "Thanks for the mention!") == "t1_r0"
        srv.reddit_locked.add("t3_p9")
        with pytest.raises(SourceFailed, match="THREAD_LOCKED"):
            rd.reply("t3_p9", "Hello")
        with pytest.raises(InvalidParameter, match="fullname"):
            rd.reply("p1", "Hello")
    assert srv.reddit_comments[0] == {
        "api_type": "json",
        "thing_id": "t3_p1",
        "text": "Thanks for the mention!",
    }


def test_reddit_refuses_bad_listings() -> None:
    for listing in ("hot:grapevine", "new:", "new:a/b", "search:  "):
        with pytest.raises(InvalidParameter, match="listing"):
            RedditSource(listing, client_id="a", client_secret="b")


# ---------------------------------------------------------------------------- X
def test_x_recent_search_pages_with_since_id_and_next_token(srv: SocialServer) -> None:
    srv.x = [x_tweet(n, T0 + n) for n in range(1, 31)]
    with XSource("grapevine", bearer_token=X_APP_TOKEN, base_url=srv.url) as xs:
        first = xs.fetch(None, limit=5)
        assert len(first.posts) == 5
        newest = first.posts[-1]
        assert newest.platform == "twitter"
        assert newest.external_id == srv.x[-1]["id"]
        assert newest.text == "grapevine & friends 30"  # X escapes &, < and >
        assert newest.author == "xuser0"
        assert newest.author_followers == 0
        assert newest.url == f"https://x.com/xuser0/status/{newest.external_id}"
        assert first.cursor == newest.external_id
        srv.x += [x_tweet(n, T0 + n) for n in range(31, 281)]
        srv.x.append(x_tweet(281, T0 + 281, reply_to=srv.x[0]["id"]))
        ids, _ = drain(xs, first.cursor, 120)
    assert ids == [t["id"] for t in srv.x[30:]]
    calls = srv.requests_to("/2/tweets/search/recent")
    assert "since_id=" in calls[-1][1]
    assert "max_results=10&" in calls[0][1]  # the API's smallest page for a first fetch of 5
    assert any("next_token=" in c[1] for c in calls)


def test_x_rate_limit_errors_and_replies(srv: SocialServer) -> None:
    srv.x = [x_tweet(1, T0)]
    reset = str(int(__import__("time").time()) + 60)
    srv.script(
        "/2/tweets/search/recent",
        Reply(
            429,
            b'{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank",'
            b'"status":429}',
            {"content-type": "application/json", "x-rate-limit-reset": reset},
        ),
    )
    sleeps = Sleeps()
    with XSource("grapevine", bearer_token=X_APP_TOKEN, base_url=srv.url, sleep=sleeps) as xs:
        (post,) = xs.fetch(None).posts
        with pytest.raises(InvalidParameter, match="can_reply"):
            xs.reply(post.external_id, "Thanks!")
    assert 55 <= sleeps[0] <= 60
    with (
        XSource("grapevine", bearer_token="wrong", base_url=srv.url) as bad,
        pytest.raises(SourceFailed, match="Unauthorized"),
    ):
        bad.fetch(None)
    with XSource("grapevine", bearer_token=X_USER_TOKEN, can_reply=True, base_url=srv.url) as user:
        reply_id = user.reply(post.external_id, "Thanks!")
    assert reply_id.isdigit()
    assert srv.x_posted == [
        {"text": "Thanks!", "reply": {"in_reply_to_tweet_id": post.external_id}}
    ]
    with (
        XSource(
            "grapevine", bearer_token=X_APP_TOKEN, can_reply=True, base_url=srv.url
        ) as app_only,
        pytest.raises(SourceFailed, match="Unsupported Authentication") as err,
    ):
        app_only.reply(post.external_id, "Thanks!")
    assert err.value.reason == "unauthorized"


# ---------------------------------------------------------------------------- wiring
def test_stored_configs_build_sources_and_name_missing_secrets() -> None:
    env = {"BSKY_PW": BSKY_PASSWORD, "RD_SECRET": "s"}
    hn = social_source("hackernews", {"query": "grapevine"}, env)
    assert isinstance(hn, HackerNewsSource)
    bs = social_source(
        "bluesky", {"query": "x", "identifier": BSKY_HANDLE, "password_env": "BSKY_PW"}, env
    )
    assert isinstance(bs, BlueskySource)
    assert bs.identifier == BSKY_HANDLE
    rd = social_source(
        "reddit", {"listing": "new:x", "client_id": "i", "secret_env": "RD_SECRET"}, env
    )
    assert isinstance(rd, RedditSource)
    with pytest.raises(BadInput, match="MISSING is not set") as err:
        social_source(
            "reddit", {"listing": "new:x", "client_id": "i", "secret_env": "MISSING"}, env
        )
    assert err.value.field == "secret_env"
    xs = social_source("x", {"query": "brewly", "token_env": "RD_SECRET"}, env)
    assert isinstance(xs, XSource)
    with pytest.raises(BadInput) as err:
        social_source("hackernews", {"query": "x", "token": "t"}, env)
    assert err.value.field == "token"
    with pytest.raises(BadInput) as err:
        social_source("bluesky", {"query": ""}, env)
    assert err.value.field == "query"


def test_a_listening_run_stores_posts_from_all_three(
    srv: SocialServer, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grapevine.listening import Listener
    from grapevine.store import listening_repo

    srv.bsky_requires_auth = False
    srv.hn = [hn_hit(1, T0, text="Grapevine on HN")]
    srv.bsky = [bsky_view(1, T0)]
    srv.reddit["new"] = [reddit_thing(1, T0)]
    monkeypatch.setenv("GV_TEST_RD_SECRET", REDDIT_SECRET)
    store = sqlite_store
    configs = {
        "hackernews": {"query": "grapevine", "base_url": srv.url},
        "bluesky": {"query": "grapevine", "base_url": srv.url},
        "reddit": {
            "listing": "new:grapevine",
            "client_id": REDDIT_ID,
            "secret_env": "GV_TEST_RD_SECRET",
            "base_url": srv.url,
            "auth_url": srv.url,
        },
    }
    with store.engine.begin() as conn:
        for kind, cfg in configs.items():
            listening_repo.add_source(conn, kind=kind, name=kind, config=cfg, now=0.0)
    with Listener(store) as listener:
        reports = {r.name: r for r in listener.run_once()}
        again = {r.name: r for r in listener.run_once(force=True)}
    assert {k: (r.status, r.fetched) for k, r in reports.items()} == {
        "hackernews": ("ok", 1),
        "bluesky": ("ok", 1),
        "reddit": ("ok", 1),
    }
    assert all(r.fetched == 0 for r in again.values())  # the stored cursors resumed


def test_the_command_line_registers_and_runs_them(srv: SocialServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grapevine.cli.main import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path}/cli.db"
    env = {"GV_RD_SECRET": REDDIT_SECRET, "GV_X_TOKEN": X_APP_TOKEN}
    srv.hn = [hn_hit(1, T0, text="Grapevine on HN")]
    srv.reddit["new"] = [reddit_thing(1, T0)]
    srv.x = [x_tweet(1, T0)]

    def call(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["listen", *args, "--db", db], env=env)
        return result.exit_code, result.output

    code, out = call("add-hackernews", "grapevine", "--base-url", srv.url, "--json")
    assert code == 0, out
    assert json.loads(out)["kind"] == "hackernews"
    code, out = call(
        "add-reddit",
        "new:grapevine",
        "--client-id",
        REDDIT_ID,
        "--secret-env",
        "GV_RD_SECRET",
        "--base-url",
        srv.url,
        "--auth-url",
        srv.url,
        "--json",
    )
    assert code == 0, out
    assert REDDIT_SECRET not in out  # only the variable's name is stored
    code, out = call("add-x", "grapevine", "--token-env", "GV_X_TOKEN", "--base-url", srv.url)
    assert code == 0, out
    code, out = call("add-bluesky", "grapevine", "--identifier", BSKY_HANDLE)
    assert code != 0
    assert "password_env" in out
    code, out = call(
        "add-reddit", "hot:grapevine", "--client-id", "x", "--secret-env", "GV_RD_SECRET"
    )
    assert code != 0
    assert "listing" in out
    code, out = call("run", "--once", "--json")
    assert code == 0, out
    runs = {r["kind"]: r for r in json.loads(out)}
    assert runs["hackernews"]["fetched"] == 1
    assert runs["reddit"]["fetched"] == 1
    assert runs["x"]["fetched"] == 1


def test_the_inbox_answers_through_stored_bluesky_and_reddit_sources(
    srv: SocialServer, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grapevine.listening import Listener, approve, draft, inbox_items, send
    from grapevine.store import listening_repo

    srv.bsky = [bsky_view(1, T0)]
    srv.reddit["new"] = [reddit_thing(1, T0)]
    srv.hn = [hn_hit(1, T0, text="Grapevine on HN")]
    monkeypatch.setenv("GV_T_BSKY", BSKY_PASSWORD)
    monkeypatch.setenv("GV_T_RD_SECRET", REDDIT_SECRET)
    monkeypatch.setenv("GV_T_RD_PASSWORD", REDDIT_PASSWORD)
    configs = {
        "hackernews": {"query": "grapevine", "base_url": srv.url},
        "bluesky": {
            "query": "grapevine",
            "identifier": BSKY_HANDLE,
            "password_env": "GV_T_BSKY",
            "base_url": srv.url,
        },
        "reddit": {
            "listing": "new:grapevine",
            "client_id": REDDIT_ID,
            "secret_env": "GV_T_RD_SECRET",
            "username": REDDIT_USER,
            "password_env": "GV_T_RD_PASSWORD",
            "base_url": srv.url,
            "auth_url": srv.url,
        },
    }
    with sqlite_store.engine.begin() as conn:
        listening_repo.add_rule(conn, name="gv", query="grapevine inbox:all", now=0.0)
        for kind, cfg in configs.items():
            listening_repo.add_source(conn, kind=kind, name=kind, config=cfg, now=0.0)
    with Listener(sqlite_store) as listener:
        assert all(r.status == "ok" for r in listener.run_once())
    items = {i["platform"]: i for i in inbox_items(sqlite_store)}
    assert set(items) == {"hackernews", "bluesky", "reddit"}
    for platform in ("bluesky", "reddit", "hackernews"):
        item_id = items[platform]["id"]
        draft(sqlite_store, item_id, "Thanks for trying grapevine!", actor="eve")
        approve(sqlite_store, item_id, actor="lead")
    sent = send(sqlite_store, items["bluesky"]["id"], actor="eve")
    assert sent["status"] == "sent"
    (record,) = srv.bsky_records.values()
    assert record["reply"]["parent"]["uri"] == srv.bsky[0]["uri"]  # found through getPosts
    assert send(sqlite_store, items["reddit"]["id"], actor="eve")["status"] == "sent"
    assert srv.reddit_comments[0]["thing_id"] == "t3_p1"
    with pytest.raises(BadInput, match="no reply API"):
        send(sqlite_store, items["hackernews"]["id"], actor="eve")
