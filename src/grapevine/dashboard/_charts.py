"""Charts of the dashboard: Apache ECharts options built here, drawn by a static script.

The page's HTML carries each chart's option as a ``<script type="application/json">`` data
block (which the strict Content-Security-Policy allows: it is data, not code);
``static/dashboard.js`` finds every ``[data-chart]`` element, reads its block and draws it
with the vendored ECharts. The ``chart`` macro of ``_macros.html`` writes both, plus a
text alternative for screen readers. Options are plain JSON: no formatter functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["SENTIMENT_COLORS", "Chart", "bar_chart", "line_chart", "pie_chart"]

_PALETTE = ["#2f6f4f", "#c0504d", "#4f81bd", "#9bbb59", "#8064a2", "#f79646", "#4bacc6"]


@dataclass(frozen=True)
class Chart:
    """One chart: an element id (unique on the page), a label for screen readers and the
    ECharts option."""

    id: str
    label: str
    option: dict[str, Any]


SENTIMENT_COLORS = {
    "negative": "#c0504d",
    "neutral": "#8c8c8c",
    "positive": "#2f6f4f",
    "unscored": "#d9c36a",
}
"""The colours of the sentiment labels, the same on every chart."""


def _color(colors: Mapping[str, str] | None, name: str) -> dict[str, Any]:
    if colors and name in colors:
        return {"itemStyle": {"color": colors[name]}, "lineStyle": {"color": colors[name]}}
    return {}


def _base(title: str | None) -> dict[str, Any]:
    option: dict[str, Any] = {
        "color": _PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "top": 40, "bottom": 40, "containLabel": True},
        "animation": False,
    }
    if title:
        option["title"] = {"text": title, "textStyle": {"fontSize": 14}}
    return option


def line_chart(
    id: str,
    label: str,
    x: Sequence[Any],
    series: Mapping[str, Sequence[float | int | None]],
    *,
    title: str | None = None,
    stacked: bool = False,
    area: bool = False,
    y_name: str | None = None,
    colors: Mapping[str, str] | None = None,
) -> Chart:
    """A line chart over ``x`` (dates as strings, numbers) with one line per series.

    >>> c = line_chart("m", "Mentions", ["2024-01-01"], {"mentions": [3]})
    >>> c.option["series"][0]["data"]
    [3]
    """
    option = _base(title)
    option["legend"] = {"bottom": 0, "type": "scroll"}
    option["xAxis"] = {"type": "category", "data": list(x), "boundaryGap": False}
    option["yAxis"] = {"type": "value", "name": y_name} if y_name else {"type": "value"}
    option["series"] = [
        {
            "name": name,
            "type": "line",
            "data": list(values),
            "showSymbol": len(x) <= 40,
            **({"stack": "total"} if stacked else {}),
            **({"areaStyle": _color(colors, name).get("itemStyle", {})} if area else {}),
            **_color(colors, name),
        }
        for name, values in series.items()
    ]
    return Chart(id, label, option)


def bar_chart(
    id: str,
    label: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | int | None]],
    *,
    title: str | None = None,
    horizontal: bool = False,
    stacked: bool = False,
) -> Chart:
    """Bars per category, one bar group per series (stacked when asked)."""
    option = _base(title)
    option["legend"] = {"bottom": 0, "type": "scroll"}
    category_axis = {"type": "category", "data": list(categories)}
    value_axis = {"type": "value"}
    option["xAxis"], option["yAxis"] = (
        (value_axis, {**category_axis, "inverse": True})
        if horizontal
        else (category_axis, value_axis)
    )
    option["series"] = [
        {"name": name, "type": "bar", "data": list(values), **({"stack": "t"} if stacked else {})}
        for name, values in series.items()
    ]
    return Chart(id, label, option)


def pie_chart(
    id: str,
    label: str,
    parts: Mapping[str, float | int],
    *,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
) -> Chart:
    """Shares of a whole (a donut)."""
    option = _base(title)
    option["tooltip"] = {"trigger": "item"}
    option["legend"] = {"bottom": 0}
    option["series"] = [
        {
            "type": "pie",
            "radius": ["40%", "70%"],
            "data": [
                {"name": name, "value": value, **_color(colors, name)}
                for name, value in parts.items()
            ],
        }
    ]
    return Chart(id, label, option)
