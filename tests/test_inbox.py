"""The webcare inbox: priority and its parts, the actions and their audit trail, sending
through Mastodon (the local replay server), first-response figures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.connectors import ListenedPost
from grapevine.errors import BadInput, InvalidParameter
from grapevine.listening import (
    Listener,
    PriorityWeights,
    approve,
    assign,
    draft,
    inbox_items,
    priority,
    resolve,
    response_stats,
    send,
)
from grapevine.store import Store
from grapevine.store import listening_repo as repo
from listening_server import VALID_TOKEN, ReplayServer

NOW = 1_700_000_000.0
HOUR = 3600.0


# ============================================================================ priority
def test_priority_worked_example() -> None:
    p = priority(
        p_negative=0.9, followers=10_000, reshares=20, replies=5, posted_at=NOW - HOUR, now=NOW
    )
    assert p.negativity == 0.9
    assert p.influence == pytest.approx(math.log1p(10_000) / math.log1p(1e6))
    assert p.velocity == pytest.approx(25 / 35)  # 25 per hour against the reference 10
    assert p.recency == pytest.approx(2 ** (-1 / 6))
    want = 0.40 * 0.9 + 0.25 * p.influence + 0.20 * p.velocity + 0.15 * p.recency
    assert p.score == pytest.approx(want)
    assert set(p.parts()) == {"negativity", "influence", "velocity", "recency"}


@pytest.mark.parametrize(
    ("kwargs", "part", "value"),
    [
        ({"p_negative": None}, "negativity", 1 / 3),  # unscored: neither pushed nor buried
        ({"followers": None}, "influence", 0.0),
        ({"followers": 10**9}, "influence", 1.0),  # capped
        ({"influence": 0.42, "followers": 10**9}, "influence", 0.42),  # a stored score wins
        ({"posted_at": None}, "recency", 1.0),
        ({"children": 30, "reshares": 1}, "velocity", 30 / 40),  # reshares found in the store
    ],
)
def test_priority_parts(kwargs: dict, part: str, value: float) -> None:
    base: dict = {"p_negative": 0.5, "followers": 100, "posted_at": NOW - HOUR, "now": NOW}
    base.update(kwargs)
    assert getattr(priority(**base), part) == pytest.approx(value)


@settings(max_examples=200, deadline=None)
@given(
    neg=st.one_of(st.none(), st.floats(0, 1)),
    followers=st.one_of(st.none(), st.integers(0, 10**10)),
    shares=st.integers(0, 10**6),
    age=st.floats(0, 1e7),
    weights=st.tuples(*(st.floats(0, 10) for _ in range(4))).filter(lambda w: sum(w) > 0.01),
)
def test_priority_is_in_unit_interval_and_monotone(
    neg: float | None, followers: int | None, shares: int, age: float, weights: tuple
) -> None:
    w = PriorityWeights(*weights)
    kw = {"followers": followers, "reshares": shares, "now": NOW, "weights": w}
    p = priority(p_negative=neg, posted_at=NOW - age, **kw)
    assert 0.0 <= p.score <= 1.0
    assert all(0.0 <= v <= 1.0 for v in p.parts().values())
    # More negative, or newer, never lowers the priority.
    worse = priority(p_negative=1.0, posted_at=NOW - age, **kw)
    newer = priority(p_negative=neg, posted_at=NOW - age / 2, **kw)
    assert worse.score >= p.score - 1e-12 if neg is not None else True
    assert newer.recency >= p.recency


@pytest.mark.parametrize(
    "weights",
    [
        PriorityWeights(0, 0, 0, 0),
        PriorityWeights(negativity=-1),
        PriorityWeights(half_life_hours=0),
        PriorityWeights(followers_ref=1),
    ],
)
def test_bad_weights(weights: PriorityWeights) -> None:
    with pytest.raises(InvalidParameter):
        priority(p_negative=0.5, followers=1, posted_at=NOW, now=NOW, weights=weights)


# ============================================================================ actions
class Outbox:
    """A source with a reply API that keeps what it was asked to post (as Mastodon would)."""

    name = "outbox"

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    def reply(self, external_id: str, text: str) -> str:
        self.posted.append((external_id, text))
        return f"reply-{len(self.posted)}"


def _fill(store: Store) -> list[int]:
    with store.engine.begin() as conn:
        repo.add_rule(conn, name="brewly", query="brewly inbox:all", now=NOW)
        sid = repo.add_source(conn, kind="rss", name="feed", config={"url": "http://x"}, now=NOW)
    Listener(store, clock=lambda: NOW).ingest(
        [
            ListenedPost(
                "rss",
                "a",
                "ann",
                NOW - 600,
                "Brewly broke again, worst machine ever",
                author_followers=50_000,
                reshares=40,
            ),
            ListenedPost("rss", "b", "bob", NOW - 5 * HOUR, "Brewly is okay I guess"),
            ListenedPost("rss", "c", "cid", NOW - 60, "I love my new Brewly, great coffee"),
        ],
        source_id=sid,
        cursor="c1",
    )
    return [i["id"] for i in inbox_items(store, now=NOW)]


def test_inbox_lists_by_priority_with_parts(store: Store) -> None:
    ids = _fill(store)
    items = inbox_items(store, now=NOW)
    assert len(items) == 3
    assert items[0]["external_id"] == "a"  # negative, influential, shared fast, recent
    scores = [i["priority"] for i in items]
    assert scores == sorted(scores, reverse=True)
    for i in items:
        parts = [i[k] for k in ("negativity", "influence", "velocity", "recency")]
        assert all(0 <= v <= 1 for v in parts)
        assert i["status"] == "new"
    # Later, recency has decayed: the same items score lower.
    later = {i["id"]: i["priority"] for i in inbox_items(store, now=NOW + 48 * HOUR)}
    assert all(later[i["id"]] < i["priority"] for i in items)
    assert sorted(ids) == sorted(later)


def test_the_life_of_an_item_and_its_audit_trail(store: Store) -> None:
    item = _fill(store)[0]
    assert assign(store, item, "eve", actor="lead", now=NOW + 60)["status"] == "assigned"
    assert draft(store, item, "Sorry! DM us?", actor="eve", now=NOW + 120)["status"] == "drafted"
    assert approve(store, item, actor="lead", now=NOW + 180)["status"] == "approved"
    outbox = Outbox()
    sent = send(store, item, actor="eve", source=outbox, now=NOW + 240)
    assert (sent["status"], sent["send_mode"], sent["reply_external_id"]) == (
        "sent", "api", "reply-1")  # fmt: skip
    assert outbox.posted == [("a", "Sorry! DM us?")]
    assert sent["first_response_at"] == NOW + 240
    assert (
        resolve(store, item, actor="eve", note="customer happy", now=NOW + 300)["status"]
        == "resolved"
    )
    with store.engine.connect() as conn:
        trail = repo.audit_trail(conn, item_id=item)
    assert [(a["actor"], a["action"], a["at"]) for a in trail] == [
        ("lead", "assign", NOW + 60),
        ("eve", "draft", NOW + 120),
        ("lead", "approve", NOW + 180),
        ("eve", "send", NOW + 240),
        ("eve", "resolve", NOW + 300),
    ]
    assert trail[3]["detail"] == "sent through outbox: reply-1"
    assert trail[4]["detail"] == "customer happy"


@pytest.mark.parametrize(
    ("steps", "action", "error"),
    [
        ([], "approve", InvalidParameter),  # nothing drafted
        ([], "send", InvalidParameter),  # not approved
        (["draft"], "send", InvalidParameter),
        (["draft", "approve", "send", "resolve"], "draft", InvalidParameter),  # closed
        (["resolve"], "resolve", InvalidParameter),
    ],
)
def test_actions_out_of_order_are_refused(
    store: Store, steps: list[str], action: str, error: type[Exception]
) -> None:
    item = _fill(store)[0]
    do = {
        "draft": lambda: draft(store, item, "hi", actor="x"),
        "approve": lambda: approve(store, item, actor="x"),
        "send": lambda: send(store, item, actor="x", source=Outbox()),
        "resolve": lambda: resolve(store, item, actor="x"),
    }
    for s in steps:
        do[s]()
    with pytest.raises(error, match=f"item {item} is"):
        do[action]()


def test_redrafting_an_approved_reply_needs_approval_again(store: Store) -> None:
    item = _fill(store)[0]
    draft(store, item, "v1", actor="eve")
    approve(store, item, actor="lead")
    assert draft(store, item, "v2", actor="eve")["status"] == "drafted"
    with pytest.raises(InvalidParameter):
        send(store, item, actor="eve")


def test_bad_action_arguments(store: Store) -> None:
    item = _fill(store)[0]
    with pytest.raises(BadInput, match="no inbox item 999"):
        assign(store, 999, "eve", actor="lead")
    with pytest.raises(InvalidParameter, match="'assignee'"):
        assign(store, item, " ", actor="lead")
    with pytest.raises(InvalidParameter, match="'actor'"):
        assign(store, item, "eve", actor="")
    with pytest.raises(InvalidParameter, match="'text'"):
        draft(store, item, "", actor="eve")


def test_response_stats(store: Store) -> None:
    a, b, c = _fill(store)
    for item, who, minutes in ((a, "eve", 10), (b, "eve", 30), (c, "sam", 5)):
        assign(store, item, who, actor="lead", now=NOW)
        draft(store, item, "thanks", actor=who, now=NOW)
        approve(store, item, actor="lead", now=NOW)
        send(store, item, actor=who, source=Outbox(), now=NOW + 60 * minutes)
    stats = response_stats(store)
    assert stats["overall"]["answered"] == 3
    assert stats["overall"]["median_s"] == 600.0
    assert stats["overall"]["p90_s"] == pytest.approx(1800 - 0.2 * 1200)  # numpy's linear p90
    assert stats["per_assignee"]["eve"] == {"answered": 2, "median_s": 1200.0, "p90_s": 1680.0}
    assert stats["per_assignee"]["sam"]["median_s"] == 300.0
    assert stats["by_status"] == {"sent": 3}
    assert stats["open"] == 0


def test_an_item_without_a_reply_api_is_not_sent_nor_counted(store: Store) -> None:
    """An RSS post cannot be answered from here: send refuses and nothing changes."""
    item = _fill(store)[0]
    draft(store, item, "Sorry! DM us?", actor="eve", now=NOW)
    approve(store, item, actor="lead", now=NOW)
    with pytest.raises(BadInput, match=f"inbox item {item} came from rss, which has no reply"):
        send(store, item, actor="eve", now=NOW + 60)
    [listed] = [i for i in inbox_items(store, now=NOW) if i["id"] == item]
    assert (listed["status"], listed["send_mode"], listed["first_response_at"]) == (
        "approved", None, None)  # fmt: skip
    resolve(store, item, actor="eve", note="answered on the platform", now=NOW + 120)
    stats = response_stats(store)
    assert stats["overall"]["answered"] == 0
    assert stats["resolved_without_reply"] == 1
    with store.engine.connect() as conn:
        actions = [a["action"] for a in repo.audit_trail(conn, item_id=item)]
    assert actions == ["draft", "approve", "resolve"]


def test_inbox_items_refuses_an_unknown_status(store: Store) -> None:
    with pytest.raises(InvalidParameter, match="statuses among"):
        inbox_items(store, statuses=["open"])


def test_response_stats_of_an_empty_inbox(store: Store) -> None:
    stats = response_stats(store)
    assert stats["items"] == 0
    assert stats["overall"] == {"answered": 0, "median_s": None, "p90_s": None}


def test_influence_from_a_stored_score(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO persons (platform, handle, attributes) VALUES "
            "('rss', 'star', '{\"influence\": 0.9}')"
        )
        repo.add_rule(conn, name="brewly", query="brewly inbox:all", now=NOW)
    Listener(store, clock=lambda: NOW).ingest(
        [ListenedPost("rss", "s", "star", NOW, "Brewly", author_followers=3)]
    )
    [item] = inbox_items(store, now=NOW)
    assert item["influence"] == pytest.approx(0.9)


# ============================================================================ Mastodon
def test_send_through_mastodon_replay_server(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GV_TEST_MASTODON_TOKEN", VALID_TOKEN)
    with ReplayServer() as srv:
        with store.engine.begin() as conn:
            repo.add_rule(conn, name="brewly", query="brewly inbox:all", now=NOW)
            repo.add_source(
                conn,
                kind="mastodon",
                name="brand",
                config={
                    "api_base_url": srv.url,
                    "timeline": "public",
                    "token_env": "GV_TEST_MASTODON_TOKEN",
                },
                now=NOW,
            )
        listener = Listener(store, clock=lambda: NOW)
        [report] = listener.run_once()
        assert report.status == "ok", report.error
        items = inbox_items(store, now=NOW)
        assert items, "the fixture statuses mention Brewly"
        leak = next(i for i in items if "leaks again" in (i["text"] or ""))
        assert leak["author"] == "carla@social.example" or leak["author"].startswith("carla")
        draft(store, leak["id"], "So sorry to hear that! Could you DM us?", actor="eve")
        approve(store, leak["id"], actor="lead")
        sent = send(store, leak["id"], actor="eve", now=NOW + 900)
        posted = list(srv.posted)
    assert sent["status"] == "sent"
    assert sent["send_mode"] == "api"
    assert sent["reply_external_id"].startswith("https://social.example/users/brewly/statuses/")
    assert [p["in_reply_to_id"] for p in posted] == ["113500000000000006"]
    assert response_stats(store)["overall"]["median_s"] == 900.0
