"""Charts of the spread, people and planner pages (and the report), from library figures.

Each function turns one library result (:class:`~grapevine.cascades.TreeLayout`,
:class:`~grapevine.cascades.Growth`, :class:`~grapevine.forecast.AdoptionBand`, a
:class:`~grapevine.graph.Neighbourhood` with roles, a :class:`~grapevine.influence.SeedPlan`)
into an ECharts option: plain JSON, no functions, drawn by ``static/dashboard.js`` on a page
and by the report's own script offline. Nothing is computed here but the drawing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from grapevine.dashboard._charts import Chart

__all__ = [
    "ROLE_COLOURS",
    "band_chart",
    "compare_chart",
    "gains_chart",
    "network_chart",
    "reach_chart",
    "rt_chart",
    "tree_chart",
    "when_text",
]

_GREEN, _RED, _BLUE, _GREY = "#2f6f4f", "#c0504d", "#4f81bd", "#9a9a9a"
#: Colour of each role in the network views (and of people with none).
ROLE_COLOURS = {"connector": _BLUE, "maven": "#8064a2", "salesman": "#f79646", "none": _GREY}
_COMMUNITY_COLOURS = ["#4f81bd", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646",
                      "#2f6f4f", "#d4a017", "#7f6084", "#1f77b4"]  # fmt: skip


def when_text(t: float | None) -> str:
    """``2012-07-04 08:00`` (UTC), or ``-``."""
    if t is None or not math.isfinite(t):
        return "-"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _axis_time(t: float, step: float) -> str:
    fmt = "%Y-%m-%d" if step >= 86400 else "%m-%d %H:%M"
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime(fmt)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _band_series(
    name: str, lower: Sequence[float | None], upper: Sequence[float | None], stack: str
) -> list[dict[str, Any]]:
    """A shaded band: the lower line (invisible) and the width stacked on it."""
    width = [
        None if lo is None or hi is None else max(hi - lo, 0.0)
        for lo, hi in zip(lower, upper, strict=True)
    ]
    common = {"type": "line", "stack": stack, "symbol": "none", "lineStyle": {"opacity": 0}}
    return [
        {**common, "name": f"{name} lower", "data": list(lower), "tooltip": {"show": False}},
        {**common, "name": name, "data": width, "areaStyle": {"opacity": 0.25}},
    ]


def tree_chart(chart_id: str, layout: dict[str, Any]) -> Chart:
    """One cascade tree (:meth:`TreeLayout.to_dict`): radial, zoomable, coloured by the
    adopter's age, the root a square, organic adopters circles, viral ones triangles."""
    nodes = layout["nodes"]
    ages = [n["age"] for n in nodes if n["age"] is not None]
    top = max(ages) / 3600.0 if ages else 1.0
    symbol = {"root": "rect", "organic": "circle", "viral": "triangle"}
    size = 6 if len(nodes) > 200 else 9
    data = [
        {
            "name": str(n["id"]),
            "x": n["x"],
            "y": n["y"],
            "value": None if n["age"] is None else round(n["age"] / 3600.0, 3),
            "symbol": symbol[n["channel"]],
            "symbolSize": size * 2 if n["channel"] == "root" else size,
            "category": n["channel"],
        }
        for n in nodes
    ]
    links = [{"source": i, "target": n["parent"]} for i, n in enumerate(nodes) if n["parent"] >= 0]
    option = {
        "animation": False,
        "tooltip": {"trigger": "item"},
        "legend": {
            "bottom": 0,
            "data": [{"name": c, "icon": symbol[c]} for c in ("root", "organic", "viral")],
            "itemStyle": {"color": _GREY},
        },
        "visualMap": {
            "type": "continuous",
            "min": 0,
            "max": round(max(top, 1e-3), 3),
            "text": ["late (h)", "early"],
            "inRange": {"color": ["#1a9850", "#fee08b", "#d73027"]},
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "top": 0,
            "seriesIndex": 0,
        },
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "data": data,
                "links": links,
                "categories": [{"name": "root"}, {"name": "organic"}, {"name": "viral"}],
                "lineStyle": {"color": "#bbbbbb", "width": 0.6},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }
    label = (
        f"Cascade tree of {layout['root']}: {layout['size']:,} adopters"
        + (f", the first {layout['shown']:,} shown" if layout["shown"] < layout["size"] else "")
        + "; colour is hours after the first post, squares the root, circles organic "
        "adopters, triangles viral ones"
    )
    return Chart(chart_id, label, option)


def rt_chart(chart_id: str, growth: dict[str, Any]) -> Chart:
    """R(t) with its credible interval (:meth:`Growth.to_dict`), the line R = 1 and the
    tipping moment."""
    rows = growth["series"]
    step = growth["step"]
    x = [_axis_time(r["time"], step) for r in rows]
    mean = [None if r["r_mean"] is None else round(r["r_mean"], 3) for r in rows]
    lower = [None if r["r_lower"] is None else round(r["r_lower"], 3) for r in rows]
    upper = [None if r["r_upper"] is None else round(r["r_upper"], 3) for r in rows]
    mark_lines: list[dict[str, Any]] = [{"yAxis": 1, "name": "R = 1"}]
    if growth["tipped_at"] is not None:
        mark_lines.append({"xAxis": _axis_time(growth["tipped_at"], step), "name": "tipped"})
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": ["R(t)", "95% interval"]},
        "grid": {"left": 48, "right": 16, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": x, "boundaryGap": False},
        "yAxis": {"type": "value", "name": "R"},
        "series": [
            *_band_series("95% interval", lower, upper, "rt"),
            {
                "name": "R(t)",
                "type": "line",
                "data": mean,
                "showSymbol": False,
                "color": _GREEN,
                "markLine": {
                    "symbol": "none",
                    "label": {"formatter": "{b}"},
                    "lineStyle": {"color": _RED, "type": "dashed"},
                    "data": mark_lines,
                },
            },
        ],
    }
    tipped = (
        f"tipped at {when_text(growth['tipped_at'])} UTC"
        if growth["tipped_at"] is not None
        else "did not tip"
    )
    return Chart(
        chart_id, f"R(t) per {_duration(step)} bin with its 95% interval; {tipped}", option
    )


def band_chart(chart_id: str, band: dict[str, Any]) -> Chart:
    """Observed cumulative adoptions, the Bass fit and its band (:meth:`AdoptionBand.to_dict`)."""
    rows = band["rows"]
    x = [_duration(r["age"]) for r in rows]
    lower = [None if r["lower"] is None else round(r["lower"], 2) for r in rows]
    upper = [None if r["upper"] is None else round(r["upper"], 2) for r in rows]
    level = round(100 * band["level"])
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": ["observed", "Bass fit", f"{level}% band"]},
        "grid": {"left": 48, "right": 16, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": x, "boundaryGap": False, "name": "age"},
        "yAxis": {"type": "value", "name": "adopters"},
        "series": [
            *_band_series(f"{level}% band", lower, upper, "band"),
            {
                "name": "Bass fit",
                "type": "line",
                "data": [None if r["fitted"] is None else round(r["fitted"], 2) for r in rows],
                "showSymbol": False,
                "color": _BLUE,
                "lineStyle": {"type": "dashed"},
            },
            {
                "name": "observed",
                "type": "line",
                "data": [r["observed"] for r in rows],
                "showSymbol": False,
                "color": _GREEN,
                "markLine": {
                    "symbol": "none",
                    "lineStyle": {"color": _GREY, "type": "dotted"},
                    "data": [{"xAxis": _nearest(x, rows, band["at"]), "name": "forecast made"}],
                },
            },
        ],
    }
    if band["final_size"] is not None:
        lo, hi = band["interval"]
        verdict = f"forecast final size {band['final_size']:,.0f}" + (
            f" ({level}% interval {lo:,.0f} to {hi:,.0f})"
            if lo is not None and hi is not None
            else ""
        )
    else:
        verdict = band["message"] or "no forecast"
    return Chart(chart_id, f"Adoptions with the Bass forecast and its band; {verdict}", option)


def _nearest(x: list[str], rows: list[dict[str, Any]], age: float) -> str:
    best = min(range(len(rows)), key=lambda i: abs(rows[i]["age"] - age))
    return x[best]


def network_chart(
    chart_id: str,
    label: str,
    nodes: list[dict[str, Any]],
    links: list[tuple[int, int]],
    *,
    colour_by: str = "community",
) -> Chart:
    """A person's neighbourhood as a force-laid graph. ``nodes``: ``id``, ``hop``, ``role``
    (the person's best role or ``"none"``), ``community`` and ``score`` (0 to 1, sizes the
    dot); coloured by community (the ten largest, others grey) or by role."""
    if colour_by == "role":
        names = list(ROLE_COLOURS)
        colours = [ROLE_COLOURS[n] for n in names]
        category = {name: i for i, name in enumerate(names)}
        cat_of = [category[n["role"]] for n in nodes]
    else:
        counts: dict[Any, int] = {}
        for n in nodes:
            counts[n["community"]] = counts.get(n["community"], 0) + 1
        largest = sorted(counts, key=lambda c: (-counts[c], str(c)))[: len(_COMMUNITY_COLOURS)]
        names = [f"community {c}" for c in largest] + ["other"]
        colours = [*_COMMUNITY_COLOURS[: len(largest)], _GREY]
        index = {c: i for i, c in enumerate(largest)}
        cat_of = [index.get(n["community"], len(largest)) for n in nodes]
    data = [
        {
            "name": str(n["id"]),
            "category": cat_of[i],
            "symbolSize": 28 if n["hop"] == 0 else 8 + 14 * float(n["score"]),
            "value": n["role"],
        }
        for i, n in enumerate(nodes)
    ]
    option = {
        "animation": False,
        "color": colours,
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0, "type": "scroll", "data": names},
        "series": [
            {
                "type": "graph",
                "layout": "force",
                "force": {"repulsion": 60, "edgeLength": [20, 60], "gravity": 0.1},
                "roam": True,
                "draggable": True,
                "data": data,
                "links": [{"source": s, "target": t} for s, t in links],
                "categories": [{"name": n} for n in names],
                "lineStyle": {"color": "#bbbbbb", "width": 0.6, "opacity": 0.7},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }
    return Chart(chart_id, label, option)


def reach_chart(chart_id: str, plan: dict[str, Any]) -> Chart:
    """Reach after each diffusion round: the mean with its 5th to 95th percentile band."""
    rows = plan["reach_by_step"]
    x = [f"round {r['step']}" for r in rows]
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": ["mean reach", "5th to 95th percentile"]},
        "grid": {"left": 48, "right": 16, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": x, "boundaryGap": False},
        "yAxis": {"type": "value", "name": "people"},
        "series": [
            *_band_series(
                "5th to 95th percentile", [r["p5"] for r in rows], [r["p95"] for r in rows], "r"
            ),
            {
                "name": "mean reach",
                "type": "line",
                "data": [round(r["mean"], 2) for r in rows],
                "color": _GREEN,
            },
        ],
    }
    sim = plan["simulated"]
    return Chart(
        chart_id,
        f"Reach by round over {sim['runs']:,} simulations: mean {sim['mean']:,.1f}, "
        f"5th to 95th percentile {sim['p5']:,.0f} to {sim['p95']:,.0f}",
        option,
    )


def gains_chart(chart_id: str, plan: dict[str, Any]) -> Chart:
    """Each seed's marginal gain (bars) and the expected reach so far (line), in pick order."""
    seeds = plan["seeds"]
    x = [str(s["seed"]) for s in seeds]
    series: list[dict[str, Any]] = []
    if seeds and "marginal_gain" in seeds[0]:
        series.append(
            {
                "name": "marginal gain",
                "type": "bar",
                "data": [round(s["marginal_gain"], 2) for s in seeds],
                "color": _BLUE,
            }
        )
    series.append(
        {
            "name": "expected reach so far"
            if plan["mode"] != "discount"
            else "expected takers so far",
            "type": "line",
            "data": [round(s["cumulative"], 2) for s in seeds],
            "color": _GREEN,
        }
    )
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 48, "right": 16, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": x, "name": "seed"},
        "yAxis": {"type": "value"},
        "series": series,
    }
    return Chart(chart_id, f"{len(seeds)} seeds in pick order with their gains", option)


def compare_chart(chart_id: str, plans: list[dict[str, Any]]) -> Chart:
    """Mean reach by round of several plans (:func:`grapevine.store.plans_repo.compare_plans`),
    each with its 5th and 95th percentiles as thin lines."""
    longest = max((len(p["reach_by_step"]) for p in plans), default=0)
    x = [f"round {i}" for i in range(longest)]
    series: list[dict[str, Any]] = []
    palette = _COMMUNITY_COLOURS
    for i, plan in enumerate(plans):
        colour = palette[i % len(palette)]
        rows = plan["reach_by_step"]
        series.append(
            {"name": plan["name"], "type": "line", "color": colour,
             "data": [round(r["mean"], 2) for r in rows]}
        )  # fmt: skip
        for key in ("p5", "p95"):
            series.append(
                {
                    "name": plan["name"],
                    "type": "line",
                    "color": colour,
                    "showSymbol": False,
                    "lineStyle": {"type": "dotted", "width": 1},
                    "data": [r[key] for r in rows],
                    "tooltip": {"show": False},
                }
            )
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": [p["name"] for p in plans]},
        "grid": {"left": 48, "right": 16, "top": 30, "bottom": 50, "containLabel": True},
        "xAxis": {"type": "category", "data": x, "boundaryGap": False},
        "yAxis": {"type": "value", "name": "people"},
        "series": series,
    }
    return Chart(
        chart_id,
        "Reach by round of "
        + ", ".join(f"{p['name']} (mean {p['simulated']['mean']:,.1f})" for p in plans)
        + "; dotted lines are the 5th and 95th percentiles",
        option,
    )
