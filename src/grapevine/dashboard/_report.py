"""``grapevine report``: the dashboard's overview, spread, people and campaign figures in one file.

:func:`build_report` renders one self-contained HTML page: the charts are the same ECharts
options the pages draw (built by the same figure functions), their data inline as JSON
blocks, and the vendored ECharts library and a few lines that draw them inlined too, so the
file opens offline, in a mail client's browser or from a USB stick, and loads nothing from
anywhere. Tables carry no links (there is no server behind a file).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from grapevine import __version__
from grapevine.dashboard._charts import Chart, line_chart, pie_chart
from grapevine.dashboard._format import bin_label
from grapevine.dashboard._period import DAY, PRESETS, Period, period_of_dates
from grapevine.dashboard._render import STATIC_DIR, templates
from grapevine.dashboard._spread_charts import band_chart, network_chart, rt_chart, tree_chart
from grapevine.dashboard._tables import Table
from grapevine.dashboard._views import (
    CASCADE_COLUMNS,
    ROLE_COLUMNS,
    people_view,
    person_view,
    spread_view,
)
from grapevine.errors import BadInput
from grapevine.store import Store

__all__ = ["Report", "build_report", "report_period", "write_report"]

_PLURAL = {"connector": "connectors", "maven": "mavens", "salesman": "salesmen"}


def _text(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


def report_period(text: str | None, *, latest: float | None, earliest: float | None) -> Period:
    """The report's period from ``--period``: a preset (``24h``, ``7d``, ``30d``, ``90d``,
    ``365d``, ``all``) counted back from ``latest`` (the newest data), or
    ``YYYY-MM-DD..YYYY-MM-DD``. None means ``all``.

    Raises
    ------
    BadInput
        Neither a preset nor a date range.
    """
    text = (text or "all").strip()
    if ".." in text:
        first, _, last = text.partition("..")
        return period_of_dates(first.strip(), last.strip())
    if text not in PRESETS:
        raise BadInput(
            f"expected one of {', '.join(PRESETS)} or FROM..TO dates (YYYY-MM-DD), got {text!r}",
            field="period",
        )
    end = (latest if latest is not None else time.time()) + 1.0
    days = PRESETS[text]
    if days is None:
        start = min(earliest, end - DAY) if earliest is not None else end - DAY
    else:
        start = end - days * DAY
    return Period(start, end, text, _text(start), _text(end - 1.0))


@dataclass
class Section:
    """One part of the report: a title, figures, charts, tables and notes."""

    key: str
    title: str
    figures: list[tuple[str, Any, str | None]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The report's sections and when and of what it was made."""

    period: Period
    generated_at: float
    store: str
    sections: list[Section]

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


def _overview(store: Store, period: Period) -> Section:
    from grapevine import listening

    section = Section("overview", "Overview")
    width = period.bin_seconds()
    summary = listening.listening_summary(
        store, since=period.start, until=period.end, bin_seconds=width
    )
    labels = [bin_label(b, width) for b in summary.bins]
    if not summary.total:
        section.notes.append("No mentions in this period.")
        return section
    section.figures += [
        ("Mentions", summary.total, None),
        ("Reach", summary.reach_total, "followers of the authors"),
    ]
    section.charts += [
        line_chart(
            "report-mentions", "Mentions over time, by sentiment", labels,
            {label: summary.sentiment[label] for label in listening.SENTIMENT_LABELS},
            stacked=True, area=True, title="Mentions by sentiment",
        ),
        pie_chart(
            "report-share", "Sentiment share of the period's mentions",
            {label: summary.sentiment_totals[label] for label in listening.SENTIMENT_LABELS},
            title="Sentiment share",
        ),
        line_chart("report-reach", "Reach over time", labels, {"reach": summary.reach},
                   title="Reach"),
    ]  # fmt: skip
    alerts = listening.buzz_alerts(store, since=period.start, until=period.end)
    section.tables.append(
        Table(
            "alerts",
            ["Hour (UTC)", "Rule", "Series", "Posts", "Expected", "Why"],
            [[bin_label(a.time, 3600.0), a.rule, a.series, int(a.value), round(a.expected, 1),
              a.why] for a in alerts[:20]],
            caption="Alerts",
        )
    )  # fmt: skip
    stories = listening.top_stories(store, since=period.start, until=period.end, top=10)
    section.tables.append(
        Table(
            "stories",
            ["Author", "Time (UTC)", "Sentiment", "Spread", "Text"],
            [[s.author, bin_label(s.time, 60.0), s.label, s.spread, (s.text or "")[:140]]
             for s in stories],
            caption="Top stories",
        )
    )  # fmt: skip
    return section


def _spread(store: Store) -> list[Section]:
    from grapevine.store.analysis_repo import cascade_sources

    out = []
    for source in cascade_sources(store)[:3]:
        view = spread_view(store, platform=source.platform, top=10)
        section = Section(f"spread-{source.platform}", f"Spread: {source.platform}")
        section.figures += [
            ("Cascades", view.n_trees, f"trees from {view.source}"),
            ("Adoptions", view.n_adoptions, None),
        ]
        section.tables.append(
            Table("cascades", CASCADE_COLUMNS, view.cascades, caption="Largest cascades")
        )
        key = source.platform.replace(" ", "-")
        section.charts.append(tree_chart(f"report-tree-{key}", view.tree))
        if view.growth is not None:
            section.charts.append(rt_chart(f"report-rt-{key}", view.growth))
        if view.forecast is not None:
            section.charts.append(band_chart(f"report-forecast-{key}", view.forecast))
        section.notes += [f"The tree, R(t) and forecast are of cascade {view.root}.", *view.notes]
        out.append(section)
    return out


def _people(store: Store) -> list[Section]:
    from grapevine.store.analysis_repo import network_sources

    out = []
    networks = network_sources(store)
    # Roles stored with the people are read; scoring a large network takes minutes, so
    # without stored roles only the largest network is scored.
    for source in [s for s in networks if s.roles_stored][:3] or networks[:1]:
        view = people_view(store, platform=source.platform, top=10)
        section = Section(f"people-{source.platform}", f"People: {source.platform}")
        section.figures += [("People", view.n_people, None), ("Arcs", view.n_ties, None)]
        for role, rows in view.top.items():
            section.tables.append(
                Table(f"{role}s", ROLE_COLUMNS, rows, caption=f"Top {_PLURAL[role]}")
            )
            if role in view.missing:
                section.notes.append(f"{_PLURAL[role].capitalize()} need {view.missing[role]}.")
        best = view.top.get("connector") or next((r for r in view.top.values() if r), [])
        if best:
            person = person_view(store, platform=source.platform, person=str(best[0][1]))
            key = source.platform.replace(" ", "-")
            section.charts.append(
                network_chart(
                    f"report-network-{key}",
                    f"Network around {person.person}, coloured by community",
                    person.nodes,
                    person.links,
                )
            )
        out.append(section)
    return out


def _campaigns(store: Store) -> list[Section]:
    from grapevine import referrals as rf
    from grapevine.dashboard.pages._campaign_figures import campaign_figures
    from grapevine.store import tenants_repo

    out = []
    with Session(store.engine) as session:
        for tenant in tenants_repo.list_tenants(session):
            for campaign in rf.list_campaigns(session, tenant_id=tenant.id):
                figures = campaign_figures(session, campaign, tenant=tenant.slug)
                section = Section(
                    f"campaign-{campaign.id}", f"Campaign: {campaign.name} ({tenant.slug})"
                )
                section.figures += [(label, value, note) for label, value, note in figures.figures]
                section.charts += [
                    Chart(f"report-c{campaign.id}-{c.id}", c.label, c.option)
                    for c in figures.charts.values()
                ]
                section.tables += figures.tables
                section.notes += [f"{name}: {why}" for name, why in figures.reasons]
                out.append(section)
    return out


def _bounds(store: Store) -> tuple[float | None, float | None]:
    from grapevine import listening

    return listening.mention_bounds(store)


def build_report(store: Store, *, period: str | None = None) -> Report:
    """Gather the report's sections from ``store``: the overview of ``period`` (see
    :func:`report_period`), the spread of the three platforms with most cascade data, the
    people of up to three networks whose people carry stored roles (else of the largest
    network), and every campaign; a part without data says so."""
    first, last = _bounds(store)
    window = report_period(period, latest=last, earliest=first)
    sections = [_overview(store, window), *_spread(store), *_people(store), *_campaigns(store)]
    shown = make_url(store.url).render_as_string(hide_password=True)
    return Report(window, time.time(), shown, sections)


def render_report(report: Report) -> str:
    """The report as one HTML page with ECharts and the data inline."""
    echarts = (STATIC_DIR / "vendor" / "echarts.min.js").read_text(encoding="utf-8")
    template = templates.env.get_template("report.html")
    return template.render(
        report=report,
        echarts=echarts.replace("</script", "<\\/script"),
        version=__version__,
        when=lambda t: dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_report(store: Store, out: str | Path, *, period: str | None = None) -> Report:
    """Build the report of ``store`` and write it to ``out`` (UTF-8 HTML)."""
    report = build_report(store, period=period)
    Path(out).write_text(render_report(report), encoding="utf-8")
    return report
