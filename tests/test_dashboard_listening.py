"""The overview, listening and inbox pages on a real server: what they show is what the
library computes, the click-throughs lead to the posts behind a figure, and the inbox's
actions change the store and write the audit trail."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from conftest import BACKENDS
from dashboard_support import (
    BURST_AT,
    add_user,
    csrf_of,
    dashboard_server,
    fill_conversions,
    fill_listening,
    signed_in,
)
from grapevine import listening
from grapevine.dashboard._period import period_of_dates
from grapevine.dashboard.pages.inbox import PAGE_SIZE
from grapevine.store import Store
from support import module_store_url


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    """(base URL, store): listening data, conversions of acme, editor "ann"."""
    with module_store_url(request, tmp_path_factory, "dashlisten") as url:
        store = Store(url)
        try:
            fill_listening(store)
            fill_conversions(store)
            add_user(store, "ann")
            with dashboard_server(url) as base:
                yield base, store
        finally:
            store.close()


@pytest.fixture(scope="module")
def client(site: tuple[str, Store]) -> Iterator[httpx.Client]:
    with signed_in(site[0], "ann") as c:
        yield c


def _csv(client: httpx.Client, url: str) -> list[dict[str, str]]:
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    return list(csv.DictReader(io.StringIO(r.text)))


# ---------------------------------------------------------------------------- overview
def test_overview_shows_the_librarys_figures(client: httpx.Client, site: tuple[str, Store]) -> None:
    store = site[1]
    period = period_of_dates("2023-11-08", "2023-11-14")
    query = "from=2023-11-08&to=2023-11-14"
    summary = listening.listening_summary(
        store, since=period.start, until=period.end, bin_seconds=86_400.0
    )
    rows = _csv(client, f"/?{query}&format=csv&table=series")
    assert [int(r["Mentions"]) for r in rows] == list(summary.mentions)
    assert [int(r["Negative"]) for r in rows] == list(summary.sentiment["negative"])
    assert [int(r["Reach"]) for r in rows] == list(summary.reach)
    # The tenant's conversions, day by day: 2 signups and a purchase of 40 on the 13th, a
    # signup and a purchase of 60 on the 14th; the click is not a conversion.
    by_day = {r["Bin (UTC)"]: r for r in rows}
    assert (by_day["2023-11-13"]["Signups"], by_day["2023-11-13"]["Purchases"]) == ("2", "1")
    assert (by_day["2023-11-14"]["Signups"], by_day["2023-11-14"]["Revenue"]) == ("1", "60")
    html = client.get(f"/?{query}").text
    assert "Conversions" in html
    assert "3 signups · 2 purchases" in html
    assert f"{summary.total:,}" in html


def test_overview_alerts_say_what_grew_and_link_to_the_posts(client: httpx.Client) -> None:
    alerts = _csv(client, "/?preset=all&format=csv&table=alerts")
    burst = [a for a in alerts if a["Rule"] == "brewly" and a["Series"] == "mentions"]
    assert burst, alerts
    assert "leaking" in burst[0]["Terms that grew"] or "kitchen" in burst[0]["Terms that grew"]
    assert "angry" in burst[0]["Authors who grew"]
    html = client.get("/?preset=all").text
    link = re.search(r'href="(/listening/posts\?rule=brewly&amp;from_ts=\d+&amp;to_ts=\d+)"', html)
    assert link is not None
    posts = _csv(client, link.group(1).replace("&amp;", "&") + "&format=csv&table=posts")
    assert len(posts) >= 24
    assert all("Brewly" in p["Post"] for p in posts)


def test_overview_top_stories_travelled_furthest(client: httpx.Client) -> None:
    stories = _csv(client, "/?preset=all&format=csv&table=stories")
    spreads = [int(s["Spread"]) for s in stories]
    assert spreads == sorted(spreads, reverse=True)
    assert stories[0]["Author"].startswith("angry")
    assert spreads[0] == 3 * 23


def test_overview_without_data_says_how_to_get_some(tmp_path: object, store_url: str) -> None:
    empty = Store(store_url)
    add_user(empty, "ann")
    empty.close()
    with dashboard_server(store_url) as base, signed_in(base, "ann") as client:
        html = client.get("/").text
        assert "grapevine demo" in html
        assert "no matched posts" in html


# ---------------------------------------------------------------------------- listening
def test_listening_volume_by_rule_language_authors_terms(client: httpx.Client) -> None:
    authors = _csv(client, "/listening?preset=all&format=csv&table=authors")
    # Seven fans wrote ten posts each, four angry customers six complaints each.
    counts = {a["Author"]: (int(a["Mentions"]), int(a["Negative"])) for a in authors}
    assert authors[0]["Author"].startswith("fan")
    assert counts[authors[0]["Author"]][0] == 10
    assert all(counts[f"angry{i}"][0] in (6, 7) for i in range(4))  # angry0 replied too
    assert sum(counts[f"angry{i}"][1] for i in range(4)) > 0
    languages = _csv(client, "/listening?preset=all&format=csv&table=languages")
    assert [r["Language"] for r in languages] == ["en"]
    terms = [r["Term"] for r in _csv(client, "/listening?preset=all&format=csv&table=terms")]
    assert "brewly" in terms
    sentiment = _csv(client, "/listening?preset=all&format=csv&table=sentiment")
    total = sum(
        int(r[k]) for r in sentiment for k in ("Negative", "Neutral", "Positive", "Unscored")
    )
    rules = {
        r["Rule"]: int(r["Mentions"])
        for r in _csv(client, "/listening?preset=all&format=csv&table=rules")
    }
    assert total == rules["brewly"]  # every post names Brewly; "leak" ones too


def test_listening_filters_by_rule(client: httpx.Client) -> None:
    html = client.get("/listening?preset=all&rule=leak").text
    assert '<option value="leak" selected>' in html
    rules = _csv(client, "/listening?preset=all&rule=leak&format=csv&table=rules")
    assert [r["Rule"] for r in rules] == ["leak"]
    assert client.get("/listening?rule=nope").status_code == 404


def test_click_through_from_a_figure_to_its_posts(client: httpx.Client) -> None:
    html = client.get("/listening?preset=all").text
    link = re.search(r'href="(/listening/posts\?[^"]*author=angry1[^"]*)"', html)
    assert link is not None
    posts = _csv(client, link.group(1).replace("&amp;", "&") + "&format=csv&table=posts")
    assert posts
    assert {p["Author"] for p in posts} == {"angry1"}
    by_term = _csv(client, "/listening/posts?preset=all&term=kitchen&format=csv&table=posts")
    assert len(by_term) == 24
    assert all("kitchen" in p["Post"] for p in by_term)


def test_a_post_in_its_thread(client: httpx.Client, site: tuple[str, Store]) -> None:
    with site[1].engine.connect() as conn:
        ids = dict(
            conn.execute(
                sa.text("SELECT external_id, id FROM posts WHERE external_id IN ('b0', 'r1', 'r2')")
            ).all()
        )
    rows = _csv(client, f"/listening/posts/{ids['r1']}?format=csv&table=thread")
    assert [(r["Level"], r["Author"]) for r in rows] == [
        ("-1", "angry0"),
        ("0", "support"),
        ("1", "angry0"),
    ]
    html = client.get(f"/listening/posts/{ids['r1']}").text
    assert "Sorry about the Brewly leak" in html
    assert client.get("/listening/posts/999999").status_code == 404


# ---------------------------------------------------------------------------- inbox
def test_inbox_ranks_by_priority_with_its_parts(client: httpx.Client) -> None:
    rows = _csv(client, "/inbox?format=csv&table=inbox")
    priorities = [float(r["Priority"]) for r in rows]
    assert priorities == sorted(priorities, reverse=True)
    for r in rows[:5]:
        parts = [float(r[k]) for k in ("Negativity", "Influence", "Velocity", "Recency")]
        assert all(0.0 <= p <= 1.0 for p in parts)
        weighted = 0.40 * parts[0] + 0.25 * parts[1] + 0.20 * parts[2] + 0.15 * parts[3]
        assert float(r["Priority"]) == pytest.approx(weighted, abs=0.01)  # parts are rounded
    assert client.get("/inbox?status=bogus").status_code == 400


def test_inbox_shows_a_page_of_items_and_the_csv_all(client: httpx.Client) -> None:
    rows = _csv(client, "/inbox?status=all&format=csv&table=inbox")
    html = client.get("/inbox?status=all").text
    shown = re.findall(r'href="/inbox/(\d+)"', html)
    assert len(shown) == min(PAGE_SIZE, len(rows)) > 0
    assert ("Next page" in html) == (len(rows) > PAGE_SIZE)
    last = -(-len(rows) // PAGE_SIZE)
    html = client.get(f"/inbox?status=all&page={last + 1}").text
    assert "Nothing waits in the inbox." in html
    assert re.search(r'href="/inbox/\d+"', html) is None
    for bad in ("0", "-1", "two"):
        assert client.get(f"/inbox?page={bad}").status_code == 400


def test_inbox_actions_change_the_store_and_the_audit_trail(
    client: httpx.Client, site: tuple[str, Store]
) -> None:
    store = site[1]
    item = int(_first_item(client))

    def post(action: str, **data: str) -> httpx.Response:
        token = csrf_of(client.get(f"/inbox/{item}").text)
        return client.post(
            f"/inbox/{item}/{action}", data={**data, "csrf_token": token}, follow_redirects=False
        )

    def state() -> tuple[str, str | None, str | None]:
        with store.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT status, assignee, draft FROM inbox_items WHERE id = :i"),
                {"i": item},
            ).one()
        return row[0], row[1], row[2]

    assert post("assign", assignee="bo").headers["location"] == f"/inbox/{item}?done=assign"
    assert state() == ("assigned", "bo", None)
    r = post("approve")  # nothing drafted yet
    assert r.status_code == 409
    assert "drafted" in r.text
    post("draft", text="Sorry to hear that, we will send a new seal today.")
    assert state()[0] == "drafted"
    post("approve")
    assert state()[0] == "approved"
    r = post("send")  # a feed has no reply API: nothing is sent
    assert r.status_code == 409
    assert "no reply API" in r.text
    assert state()[0] == "approved"
    post("resolve", note="answered on the platform")
    assert state()[0] == "resolved"
    audit = _csv(client, f"/inbox/{item}?format=csv&table=audit")
    assert [(a["Who"], a["Action"]) for a in audit] == [
        ("ann", "assign"),
        ("ann", "draft"),
        ("ann", "approve"),
        ("ann", "resolve"),
    ]
    assert audit[-1]["Detail"] == "answered on the platform"
    stats = _csv(client, "/inbox?format=csv&table=response_times")
    assert stats[0]["Assignee"] == "everyone"
    html = client.get("/inbox?status=resolved").text
    assert f'href="/inbox/{item}"' in html
    assert client.post(f"/inbox/{item}/explode", data={"csrf_token": "x"}).status_code == 403
    token = csrf_of(client.get(f"/inbox/{item}").text)
    assert client.post(f"/inbox/{item}/explode", data={"csrf_token": token}).status_code == 404
    assert client.get("/inbox/999999").status_code == 404


def _first_item(client: httpx.Client) -> str:
    html = client.get("/inbox").text
    match = re.search(r'href="/inbox/(\d+)"', html)
    assert match is not None
    return match.group(1)


def test_the_burst_tops_the_inbox(client: httpx.Client, site: tuple[str, Store]) -> None:
    rows = _csv(client, "/inbox?status=all&format=csv&table=inbox")
    assert "leaking" in rows[0]["Post"] or "leak" in rows[0]["Post"]
    assert BURST_AT > 0
