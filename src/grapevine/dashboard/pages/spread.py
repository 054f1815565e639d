"""The spread page: the largest cascades, one cascade's tree, its R(t) and its forecast.

``GET /spread?platform=P&root=R`` shows the ``platform``'s largest cascades (size, depth,
structural virality, organic and viral adopters) and the tree of ``root`` (default: the
largest) laid out radially, its R(t) with the credible interval and tipping moment, and the
Bass forecast with its band. ``GET /spread/data.json`` answers the same figures as JSON;
``?format=csv&table=cascades`` the table as CSV.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from grapevine.dashboard._access import ViewerDep
from grapevine.dashboard._render import html_error, render, url_with
from grapevine.dashboard._spread_charts import band_chart, rt_chart, tree_chart
from grapevine.dashboard._tables import Table
from grapevine.dashboard._views import CASCADE_COLUMNS, spread_view
from grapevine.errors import BadInput
from grapevine.store import Store

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _query(request: Request, name: str) -> str | None:
    return request.query_params.get(name) or None


@router.get("/spread")
def spread_page(request: Request, viewer: ViewerDep) -> Response:
    platform, root = _query(request, "platform"), _query(request, "root")
    try:
        view = spread_view(_store(request), platform=platform, root=root)
    except BadInput as exc:
        if platform is None and root is None:  # an empty store: say what is missing
            return render(request, "spread.html", {"view": None, "problem": str(exc)},
                          viewer=viewer, active="spread")  # fmt: skip
        return html_error(request, 404, str(exc))
    links = [url_with(request, platform=view.platform, root=r) for r in view.roots]
    caption = f"Largest cascades of {view.platform}"
    table = Table(
        "cascades", CASCADE_COLUMNS, view.cascades, caption=caption, links={"Root": links}
    )
    charts = {"tree": tree_chart("tree", view.tree)}
    if view.growth is not None:
        charts["rt"] = rt_chart("rt", view.growth)
    if view.forecast is not None:
        charts["forecast"] = band_chart("forecast", view.forecast)
    return render(
        request,
        "spread.html",
        {"view": view, "charts": charts, "problem": None},
        viewer=viewer,
        active="spread",
        tables=[table],
    )


@router.get("/spread/data.json")
def spread_data(request: Request, viewer: ViewerDep) -> Response:
    try:
        view = spread_view(
            _store(request), platform=_query(request, "platform"), root=_query(request, "root")
        )
    except BadInput as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse(view.to_dict())
