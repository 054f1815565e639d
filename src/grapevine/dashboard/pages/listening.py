"""The listening pages.

- ``GET /listening``: volume by rule and by language, sentiment over time, top authors and
  terms, each alert with what grew; every figure links to the posts behind it.
- ``GET /listening/posts``: the matched posts behind a figure (filters ``rule``, ``label``,
  ``language``, ``author``, ``term``; the period, or ``from_ts``/``to_ts`` in Unix
  seconds for an alert's hour).
- ``GET /listening/posts/{post_id}``: one post in its thread.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from grapevine import listening
from grapevine.dashboard._access import DbSession, ViewerDep
from grapevine.dashboard._charts import SENTIMENT_COLORS, bar_chart, line_chart
from grapevine.dashboard._format import bin_label, clip, when
from grapevine.dashboard._period import Period, period_of
from grapevine.dashboard._render import render
from grapevine.dashboard._tables import Table
from grapevine.dashboard.pages.overview import alerts_table
from grapevine.errors import NotFound
from grapevine.store import Store, listening_repo

__all__ = ["posts_table", "router"]

router = APIRouter(include_in_schema=False)

_FILTERS = ("rule", "label", "language", "author", "term")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _period(request: Request, store: Store) -> Period:
    first, last = listening.mention_bounds(store)
    return period_of(request, latest=last, earliest=first)


def _posts_link(period: Period, **filters: str) -> str:
    query = {"from": period.from_text, "to": period.to_text, **filters}
    return "/listening/posts?" + urlencode(query)


def _rules(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [r["name"] for r in listening_repo.list_rules(conn)]


@router.get("/listening")
def listening_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """The listening page (or one of its tables as CSV)."""
    store = _store(request)
    period = _period(request, store)
    rules = _rules(store)
    rule = request.query_params.get("rule") or None
    if rule is not None and rule not in rules:
        raise HTTPException(404, f"no watch rule named {rule!r}")
    width = period.bin_seconds()
    summary = listening.listening_summary(
        store, since=period.start, until=period.end, bin_seconds=width, rule=rule, top=15
    )
    alerts = listening.buzz_alerts(store, rule=rule, since=period.start, until=period.end)
    labels = [bin_label(b, width) for b in summary.bins]
    scope = {"rule": rule} if rule else {}
    tables = [
        Table(
            "rules",
            ["Rule", "Mentions"],
            list(summary.rule_totals.items()),
            caption="Volume by rule",
            links={"Rule": [_posts_link(period, rule=r) for r in summary.rule_totals]},
        ),
        Table(
            "languages",
            ["Language", "Mentions"],
            list(summary.language_totals.items()),
            caption="Volume by language",
            links={
                "Language": [
                    _posts_link(period, language=lang, **scope) for lang in summary.language_totals
                ]
            },
        ),
        Table(
            "authors",
            ["Author", "Mentions", "Negative", "Followers"],
            [(a.author, a.posts, a.negative, a.followers) for a in summary.top_authors],
            caption="Top authors",
            links={
                "Author": [
                    _posts_link(period, author=a.author, **scope) for a in summary.top_authors
                ]
            },
        ),
        Table(
            "terms",
            ["Term", "Mentions"],
            [(t.term, t.posts) for t in summary.top_terms],
            caption="Top terms",
            links={"Term": [_posts_link(period, term=t.term, **scope) for t in summary.top_terms]},
        ),
        Table(
            "sentiment",
            ["Bin (UTC)", *(s.capitalize() for s in listening.SENTIMENT_LABELS)],
            [
                (labels[i], *(summary.sentiment[s][i] for s in listening.SENTIMENT_LABELS))
                for i in range(len(labels))
            ],
            caption="Sentiment over time",
        ),
        alerts_table(alerts),
    ]
    charts = {
        "rules": line_chart(
            "rules-chart",
            "Mentions over time by rule",
            labels,
            summary.by_rule,
            title="Volume by rule",
        ),
        "sentiment": line_chart(
            "sentiment-chart",
            "Mentions over time by sentiment",
            labels,
            {s: summary.sentiment[s] for s in listening.SENTIMENT_LABELS},
            stacked=True,
            area=True,
            colors=SENTIMENT_COLORS,
            title="Sentiment over time",
        ),
        "languages": bar_chart(
            "languages-chart",
            "Mentions by language",
            list(summary.language_totals),
            {"mentions": list(summary.language_totals.values())},
            title="Volume by language",
        ),
    }
    return render(
        request,
        "listening.html",
        {"summary": summary, "charts": charts, "rules": rules, "rule": rule, "alerts": alerts},
        viewer=viewer,
        active="listening",
        period=period,
        tables=tables,
    )


def posts_table(posts: list[dict[str, Any]], *, name: str = "posts") -> Table:
    """Posts, newest first, each linked to its thread."""
    return Table(
        name,
        ["Posted (UTC)", "Author", "Post", "Rules", "Language", "Sentiment", "Followers"],
        [
            (
                when(p["time"]),
                p["author"],
                clip(p["text"], 200),
                ", ".join(p["rules"]),
                p["language"] or "",
                p["label"],
                p["author_followers"],
            )
            for p in posts
        ],
        caption="Posts",
        links={"Post": [f"/listening/posts/{p['post_id']}" for p in posts]},
    )


def _epoch(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise HTTPException(400, f"{name} must be Unix seconds, got {raw!r}") from None


@router.get("/listening/posts")
def posts_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """The matched posts behind a figure (or them as CSV)."""
    store = _store(request)
    period = _period(request, store)
    since = _epoch(request, "from_ts")
    until = _epoch(request, "to_ts")
    filters = {k: request.query_params[k] for k in _FILTERS if request.query_params.get(k)}
    posts = listening.mention_posts(
        store,
        since=period.start if since is None else since,
        until=period.end if until is None else until,
        limit=500,
        **filters,
    )
    window = (
        f"{when(since)} – {when(until)}"
        if since is not None and until is not None
        else period.label()
    )
    return render(
        request,
        "posts.html",
        {"filters": filters, "window": window, "count": len(posts)},
        viewer=viewer,
        active="listening",
        period=period if since is None else None,
        tables=[posts_table(posts)],
    )


@router.get("/listening/posts/{post_id}")
def post_page(request: Request, post_id: int, session: DbSession, viewer: ViewerDep) -> Response:
    """One post in its thread (the posts it answers, its replies and reshares)."""
    store = _store(request)
    try:
        thread = listening.post_thread(store, post_id=post_id)
    except NotFound:
        raise HTTPException(404, f"no post {post_id}") from None
    rows = [
        *({**p, "depth": -(len(thread.ancestors) - i)} for i, p in enumerate(thread.ancestors)),
        {**thread.post, "depth": 0},
        *thread.replies,
    ]
    table = Table(
        "thread",
        ["Level", "Posted (UTC)", "Author", "Post", "Sentiment", "Reshares", "Replies"],
        [
            (
                r["depth"],
                when(r["time"]),
                r["author"],
                clip(r["text"], 280),
                r["label"] or "unscored",
                r["reshares"],
                r["replies"],
            )
            for r in rows
        ],
        caption="Thread",
        links={"Post": [f"/listening/posts/{r['post_id']}" for r in rows]},
    )
    return render(
        request,
        "post.html",
        {"thread": thread, "when": when},
        viewer=viewer,
        active="listening",
        tables=[table],
    )
