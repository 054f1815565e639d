"""The people page: connectors, mavens and salesmen with the reason for each score.

``GET /people?platform=P`` lists the top people of each role (score, reason, what it rests
on); ``GET /people/person?platform=P&id=X`` shows one person's roles, community and
neighbourhood network (two hops, sampled when large; ``&colour=role`` colours it by role
instead of community). Downloads: every table as CSV (``?format=csv&table=NAME``), all
roles as ``/people/roles.csv``, the network as ``/people/network.gexf`` and a person's
neighbourhood as ``/people/person.gexf`` (Gephi), with scores, ranks and communities.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grapevine.dashboard._access import ViewerDep
from grapevine.dashboard._render import html_error, render
from grapevine.dashboard._spread_charts import network_chart
from grapevine.dashboard._tables import Table, csv_text
from grapevine.dashboard._views import (
    ROLE_COLUMNS,
    neighbourhood_gexf,
    network_gexf,
    people_view,
    person_view,
)
from grapevine.errors import BadInput
from grapevine.store import Store
from grapevine.store.analysis_repo import store_people

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_PLURAL = {"connector": "Connectors", "maven": "Mavens", "salesman": "Salesmen"}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _query(request: Request, name: str) -> str | None:
    return request.query_params.get(name) or None


def _person_url(platform: str, person: str) -> str:
    from urllib.parse import urlencode

    return "/people/person?" + urlencode({"platform": platform, "id": person})


@router.get("/people")
def people_page(request: Request, viewer: ViewerDep) -> Response:
    platform = _query(request, "platform")
    try:
        view = people_view(_store(request), platform=platform)
    except BadInput as exc:
        if platform is None:
            return render(request, "people.html", {"view": None, "problem": str(exc)},
                          viewer=viewer, active="people")  # fmt: skip
        return html_error(request, 404, str(exc))
    tables = [
        Table(
            f"{role}s",
            ROLE_COLUMNS,
            rows,
            caption=f"Top {_PLURAL[role].lower()}",
            links={"Person": [_person_url(view.platform, str(r[1])) for r in rows]},
        )
        for role, rows in view.top.items()
    ]
    return render(
        request,
        "people.html",
        {"view": view, "problem": None, "roles": list(view.top), "plural": _PLURAL},
        viewer=viewer,
        active="people",
        tables=tables,
    )


def _gexf(write: Callable[[str], None], filename: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="grapevine-gexf-") as folder:
        path = Path(folder) / filename
        write(str(path))
        body = path.read_bytes()
    return Response(
        body,
        media_type="application/gexf+xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/people/network.gexf")
def network_download(request: Request, viewer: ViewerDep, platform: str) -> Response:
    try:
        return _gexf(
            lambda path: network_gexf(_store(request), platform=platform, path=path),
            f"{platform}-network.gexf",
        )
    except BadInput as exc:
        return html_error(request, 404, str(exc))


@router.get("/people/roles.csv")
def roles_download(request: Request, viewer: ViewerDep, platform: str) -> Response:
    try:
        roles = store_people(_store(request), platform).roles
    except BadInput as exc:
        return html_error(request, 404, str(exc))
    rows = list(roles.itertuples(index=False, name=None))
    table = Table("roles", list(roles.columns), rows)
    return Response(
        csv_text(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{platform}-roles.csv"'},
    )


@router.get("/people/person")
def person_page(request: Request, viewer: ViewerDep, platform: str, id: str) -> Response:
    colour = "role" if request.query_params.get("colour") == "role" else "community"
    try:
        view = person_view(_store(request), platform=platform, person=id)
    except BadInput as exc:
        return html_error(request, 404, str(exc))
    shown = len(view.nodes)
    label = (
        f"Network of {view.person}: {view.first_hop:,} people one step away and "
        f"{view.second_hop:,} two steps away"
        + (f", {shown:,} drawn (a sample)" if view.sampled else "")
        + f"; coloured by {colour}"
    )
    chart = network_chart("network", label, view.nodes, view.links, colour_by=colour)
    roles = Table(
        "roles",
        ["Role", "Score", "Rank", "Order", "Why", "Rests on"],
        [
            [r["role"], r["score"], r["rank"], r["order"], r["reason"], r["data"]]
            for r in view.roles
        ],
        caption=f"Roles of {view.person}",
    )
    neighbours = Table(
        "neighbourhood",
        ["Person", "Steps away", "Best role", "Community", "Score"],
        [[n["id"], n["hop"], n["role"], n["community"], n["score"]] for n in view.nodes],
        caption="People drawn",
        links={"Person": [_person_url(platform, n["id"]) for n in view.nodes]},
    )
    return render(
        request,
        "person.html",
        {"view": view, "chart": chart, "colour": colour},
        viewer=viewer,
        active="people",
        tables=[roles, neighbours],
    )


@router.get("/people/person.gexf")
def person_download(request: Request, viewer: ViewerDep, platform: str, id: str) -> Response:
    try:
        return _gexf(
            lambda path: neighbourhood_gexf(
                _store(request), platform=platform, person=id, path=path
            ),
            "neighbourhood.gexf",
        )
    except BadInput as exc:
        return html_error(request, 404, str(exc))
