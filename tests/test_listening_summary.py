"""The listening figures of a period (volume, reach, sentiment, rules, languages, authors,
terms), the top stories, the posts behind a figure and a post's thread; and the referral
conversions over time that the overview shows beside them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from dashboard_support import BURST_AT, DAY, HOUR, NOW, fill_conversions, fill_listening
from grapevine import listening
from grapevine import referrals as rf
from grapevine.errors import InvalidParameter, NotFound
from grapevine.store import Store, tenants_repo


def _row(post: int, rule: str, t: float, **extra: object) -> dict[str, object]:
    base = {
        "rule": rule,
        "post_id": post,
        "time": t,
        "author": f"a{post % 3}",
        "author_followers": 10 * post,
        "text": f"word{post % 2} common",
        "language": "en",
        "label": "negative" if post % 2 else "positive",
    }
    base.update(extra)
    return base


def test_time_bins_align_on_utc_multiples() -> None:
    assert listening.time_bins(0.0, 86_400.0, 3600.0)[:2] == [0.0, 3600.0]
    assert len(listening.time_bins(0.0, 86_400.0, 3600.0)) == 24
    assert listening.time_bins(5.0, 5.0, 3600.0) == []
    with pytest.raises(InvalidParameter, match="'width'"):
        listening.time_bins(0.0, 1.0, 0.0)


def test_summary_worked_example() -> None:
    rows = [
        _row(1, "brand", 100.0),
        _row(1, "outage", 100.0),  # the same post, a second rule
        _row(2, "brand", 4000.0, author_followers=None, language=None, label=None),
        _row(3, "brand", 90_000.0, label="unscored"),
        _row(4, "brand", 200_000.0),  # outside the period
    ]
    s = listening.summarize_mentions(rows, since=0.0, until=172_800.0, top=2)
    assert s.total == 3
    assert s.mentions == (2, 1)
    assert s.reach == (10, 30)  # unknown followers count as none
    assert s.by_rule == {"brand": (2, 1), "outage": (1, 0)}
    assert s.rule_totals == {"brand": 3, "outage": 1}
    assert s.language_totals == {"en": 2, "unknown": 1}
    assert s.sentiment_totals == {"negative": 1, "neutral": 0, "positive": 0, "unscored": 2}
    assert s.sentiment_share()["negative"] == pytest.approx(1 / 3)
    assert [(a.author, a.posts, a.negative) for a in s.top_authors] == [("a1", 1, 1), ("a0", 1, 0)]
    assert s.top_terms[0] == listening.TermCount("common", 3)


rows_strategy = st.lists(
    st.builds(
        _row,
        post=st.integers(1, 30),
        rule=st.sampled_from(["r1", "r2", "r3"]),
        t=st.floats(-1000.0, 5 * 86_400.0),
        label=st.sampled_from(["negative", "neutral", "positive", "unscored", None]),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, width=st.sampled_from([3600.0, 86_400.0]))
def test_summary_properties(rows: list[dict[str, object]], width: float) -> None:
    # A post keeps one time and one label (as the store has them): its first row's.
    first: dict[object, dict[str, object]] = {}
    for r in rows:
        kept = first.setdefault(r["post_id"], r)
        r["time"], r["label"] = kept["time"], kept["label"]
    since, until = 0.0, 4 * 86_400.0
    s = listening.summarize_mentions(rows, since=since, until=until, bin_seconds=width)
    inside = {r["post_id"] for r in rows if since <= r["time"] < until}  # type: ignore[operator]
    assert s.total == len(inside) == sum(s.mentions)
    assert sum(s.sentiment_totals.values()) == s.total
    assert all(sum(v) == s.sentiment_totals[k] for k, v in s.sentiment.items())
    assert sum(s.rule_totals.values()) >= s.total  # a post may match several rules
    assert all(t <= s.total for t in s.rule_totals.values())
    assert len(s.bins) == len(s.mentions) == len(s.reach)
    if s.total:
        assert sum(s.sentiment_share().values()) == pytest.approx(1.0)
    # The order of the rows does not matter.
    again = listening.summarize_mentions(
        list(reversed(rows)), since=since, until=until, bin_seconds=width
    )
    assert (again.mentions, again.rule_totals, again.sentiment_totals) == (
        s.mentions,
        s.rule_totals,
        s.sentiment_totals,
    )


@pytest.fixture
def filled(store: Store) -> Store:
    fill_listening(store)
    return store


def test_store_summary_and_bounds(filled: Store) -> None:
    first, last = listening.mention_bounds(filled)
    assert first == NOW - 9 * DAY
    assert last == BURST_AT + 40 * 60
    s = listening.listening_summary(filled, since=BURST_AT, until=BURST_AT + HOUR, bin_seconds=HOUR)
    assert s.total == 24 + 2
    assert s.rule_totals == {"brewly": 26, "leak": 25}
    posts = listening.mention_posts(filled, since=BURST_AT, until=BURST_AT + HOUR)
    assert s.reach_total == sum(p["author_followers"] or 0 for p in posts) > 0
    only_leak = listening.listening_summary(filled, since=0.0, until=NOW, rule="leak")
    assert only_leak.total == 25
    assert set(only_leak.rule_totals) == {"leak"}


def test_mention_posts_filters(filled: Store) -> None:
    everything = listening.mention_posts(filled, since=0.0, until=NOW)
    assert [p["time"] for p in everything] == sorted((p["time"] for p in everything), reverse=True)
    burst = listening.mention_posts(filled, since=0.0, until=NOW, term="kitchen")
    assert len(burst) == 24
    assert all(set(p["rules"]) == {"brewly", "leak"} for p in burst)
    assert {
        p["author"] for p in listening.mention_posts(filled, since=0.0, until=NOW, author="angry2")
    } == {"angry2"}
    assert listening.mention_posts(filled, since=0.0, until=NOW, language="fr") == []
    assert len(listening.mention_posts(filled, since=0.0, until=NOW, limit=5)) == 5
    with pytest.raises(InvalidParameter):
        listening.mention_posts(filled, since=0.0, until=NOW, limit=0)


def test_top_stories_rank_by_spread(filled: Store) -> None:
    stories = listening.top_stories(filled, since=0.0, until=NOW, top=3)
    assert [s.external_id for s in stories] == ["b23", "b22", "b21"]
    assert stories[0].spread == 3 * 23
    assert set(stories[0].rules) == {"brewly", "leak"}
    # A post's stored replies count when they outnumber its own counters.
    b0 = listening.top_stories(filled, since=BURST_AT, until=BURST_AT + 1, top=1)[0]
    assert b0.external_id == "b0"
    assert b0.spread == 1


def test_post_thread_walks_up_and_down(filled: Store) -> None:
    with filled.engine.connect() as conn:
        from sqlalchemy import text

        ids = dict(conn.execute(text("SELECT external_id, id FROM posts")).all())
    thread = listening.post_thread(filled, post_id=ids["r1"])
    assert [p["external_id"] for p in thread.ancestors] == ["b0"]
    assert thread.post["external_id"] == "r1"
    assert [(p["external_id"], p["depth"]) for p in thread.replies] == [("r2", 1)]
    root = listening.post_thread(filled, post_id=ids["b0"], max_depth=1)
    assert [p["external_id"] for p in root.replies] == ["r1"]
    with pytest.raises(NotFound):
        listening.post_thread(filled, post_id=10**9)


def test_conversions_over_time(store: Store) -> None:
    fill_conversions(store)
    with Session(store.engine) as session:
        tenant = tenants_repo.find_tenant(session, slug="acme")
        assert tenant is not None
        series = rf.conversions_over_time(
            session, tenant_id=tenant.id, since=NOW - 2 * DAY, until=NOW, bin_seconds=DAY
        )
        assert series.total_signups == 3
        assert series.total_purchases == 2
        assert series.total_revenue == 100.0
        assert sum(series.signups) == 3
        assert len(series.bins) == len(series.revenue)
        assert rf.conversion_bounds(session, tenant_id=tenant.id) == (
            NOW - DAY - HOUR,
            NOW - 2 * HOUR,
        )
        other = tenants_repo.create_tenant(session, slug="globex")
        empty = rf.conversions_over_time(session, tenant_id=other.id, since=0.0, until=NOW)
        assert empty.total_signups == 0
        assert rf.conversion_bounds(session, tenant_id=other.id) == (None, None)
