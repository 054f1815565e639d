"""``GET /``: the overview. Mentions, sentiment share and reach over time, the tenant's
referral conversions, the period's alerts with what grew behind each, the top stories."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grapevine import listening
from grapevine import referrals as rf
from grapevine.dashboard._access import DbSession, ViewerDep
from grapevine.dashboard._charts import SENTIMENT_COLORS, bar_chart, line_chart, pie_chart
from grapevine.dashboard._format import bin_label, clip, when
from grapevine.dashboard._period import period_of
from grapevine.dashboard._render import render
from grapevine.dashboard._tables import Table
from grapevine.dashboard._tenant import tenant_of
from grapevine.store import Store, tenants_repo

__all__ = ["alerts_table", "router", "stories_table"]

router = APIRouter(include_in_schema=False)


def _latest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _earliest(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def alerts_table(alerts: list[listening.BuzzAlert], *, name: str = "alerts") -> Table:
    """The alerts with what grew behind each (terms, authors, largest cascade)."""
    rows, links = [], []
    for alert in alerts:
        grew = alert.what_grew
        terms = ", ".join(t.term for t in grew.terms[:5])
        authors = ", ".join(f"{a.author} (+{a.growth:.0f})" for a in grew.authors[:3])
        cascade = grew.cascades[0] if grew.cascades else None
        rows.append(
            (
                when(alert.time),
                alert.rule,
                alert.series,
                int(alert.value),
                round(alert.expected, 1),
                round(alert.score, 1),
                terms,
                authors,
                (
                    f"{cascade.size} posts by {cascade.root_author or cascade.root}"
                    f" ({cascade.authors} authors)"
                    if cascade
                    else ""
                ),
                alert.why,
            )
        )
        query = {"rule": alert.rule, "from_ts": f"{alert.time:.0f}"}
        query["to_ts"] = f"{alert.time + 3600:.0f}"
        if alert.series == "negative":
            query["label"] = "negative"
        links.append("/listening/posts?" + urlencode(query))
    return Table(
        name,
        [
            "Hour (UTC)",
            "Rule",
            "Series",
            "Posts",
            "Expected",
            "Score",
            "Terms that grew",
            "Authors who grew",
            "Largest cascade",
            "Why",
        ],
        rows,
        caption="Alerts of the period and what grew",
        links={"Rule": links},
    )


def stories_table(stories: list[listening.Story], *, name: str = "stories") -> Table:
    """The stories that travelled furthest, each linked to its thread."""
    return Table(
        name,
        ["Posted (UTC)", "Author", "Post", "Rules", "Sentiment", "Spread", "Likes"],
        [
            (when(s.time), s.author, clip(s.text), ", ".join(s.rules), s.label, s.spread, s.likes)
            for s in stories
        ],
        caption="Top stories",
        links={"Post": [f"/listening/posts/{s.post_id}" for s in stories]},
    )


@router.get("/")
def overview(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """The overview page (or one of its tables as CSV)."""
    store: Store = request.app.state.store
    tenant = tenant_of(request, viewer, required=False)
    tenant_row = tenants_repo.find_tenant(session, slug=tenant) if tenant else None
    first, last = listening.mention_bounds(store)
    c_first = c_last = None
    if tenant_row is not None:
        c_first, c_last = rf.conversion_bounds(session, tenant_id=tenant_row.id)
    period = period_of(request, latest=_latest(last, c_last), earliest=_earliest(first, c_first))
    width = period.bin_seconds()
    summary = listening.listening_summary(
        store, since=period.start, until=period.end, bin_seconds=width
    )
    labels = [bin_label(b, width) for b in summary.bins]
    conversions = (
        rf.conversions_over_time(
            session,
            tenant_id=tenant_row.id,
            since=period.start,
            until=period.end,
            bin_seconds=width,
        )
        if tenant_row is not None
        else None
    )
    alerts = listening.buzz_alerts(store, since=period.start, until=period.end)
    stories = listening.top_stories(store, since=period.start, until=period.end, top=10)
    share = summary.sentiment_share()
    series_rows = [
        (
            labels[i],
            summary.mentions[i],
            *(summary.sentiment[label][i] for label in listening.SENTIMENT_LABELS),
            summary.reach[i],
            *(
                (conversions.signups[i], conversions.purchases[i], conversions.revenue[i])
                if conversions is not None
                else ()
            ),
        )
        for i in range(len(labels))
    ]
    series = Table(
        "series",
        [
            "Bin (UTC)",
            "Mentions",
            *(label.capitalize() for label in listening.SENTIMENT_LABELS),
            "Reach",
            *(("Signups", "Purchases", "Revenue") if conversions is not None else ()),
        ],
        series_rows,
        caption="Over time",
    )
    charts = {
        "mentions": line_chart(
            "mentions-chart",
            "Mentions over time, by sentiment",
            labels,
            {label: summary.sentiment[label] for label in listening.SENTIMENT_LABELS},
            stacked=True,
            area=True,
            colors=SENTIMENT_COLORS,
            title="Mentions by sentiment",
        ),
        "share": pie_chart(
            "share-chart",
            "Sentiment share of the period's mentions",
            {label: summary.sentiment_totals[label] for label in listening.SENTIMENT_LABELS},
            title="Sentiment share",
            colors=SENTIMENT_COLORS,
        ),
        "reach": line_chart(
            "reach-chart", "Reach over time", labels, {"reach": summary.reach}, title="Reach"
        ),
    }
    if conversions is not None:
        charts["conversions"] = bar_chart(
            "conversions-chart",
            f"Referral conversions of {tenant} over time",
            labels,
            {"signups": conversions.signups, "purchases": conversions.purchases},
            stacked=True,
            title=f"Referral conversions ({tenant})",
        )
    return render(
        request,
        "overview.html",
        {
            "summary": summary,
            "share": share,
            "conversions": conversions,
            "alerts": alerts,
            "charts": charts,
            "has_data": first is not None or c_first is not None,
        },
        viewer=viewer,
        active="overview",
        period=period,
        tenant=tenant,
        tables=[series, alerts_table(alerts), stories_table(stories)],
    )
