"""The planner page: choose seeds on a graph in the background, watch, save, compare.

``GET /planner`` shows the form (a graph of the store or an edge-list file inside the data
folder; ``k`` seeds, a budget with costs, or partial discounts; the diffusion model), the
recent runs and the saved plans. ``POST /planner/run`` queues a run
(:func:`grapevine.store.plans_repo.queue_plan`) and hands it to a background thread
(:func:`~grapevine.store.plans_repo.run_plan`, which writes its progress to the run's row);
``GET /planner/plan/{id}`` polls that row with htmx until the plan is done, then shows the
seeds with their marginal gains and the reach by round with its band. ``POST
/planner/plan/{id}/save`` names it; ``GET /planner/compare?id=1&id=2`` puts saved plans
side by side. ``GET /planner/plan/{id}/data.json`` answers the plan as JSON.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine

from grapevine.dashboard._access import DbSession, Editor, ViewerDep, settings_of
from grapevine.dashboard._render import html_error, render
from grapevine.dashboard._spread_charts import compare_chart, gains_chart, reach_chart, when_text
from grapevine.dashboard._tables import Table
from grapevine.errors import BadInput, InvalidParameter
from grapevine.store import Store
from grapevine.store.analysis_repo import network_sources
from grapevine.store.plans_repo import (
    PLAN_OPTIONS,
    PlanRecord,
    PlanRequest,
    compare_plans,
    get_plan,
    list_plans,
    mark_interrupted,
    queue_plan,
    resolve_graph,
    run_plan,
    save_plan,
)

__all__ = ["router", "submit"]

router = APIRouter(include_in_schema=False)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
MAX_RUNS = 5_000
"""Most Monte-Carlo runs the form accepts."""


def submit(engine: Engine, plan_id: int) -> None:
    """Run a queued plan on the planner's background thread (one plan at a time)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grapevine-planner")
        _pool.submit(run_plan, engine, plan_id=plan_id)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runs_table(records: list[PlanRecord], name: str, caption: str) -> Table:
    rows = [
        [r.id, r.name or "", r.graph, r.request.mode, r.status, round(100 * r.progress),
         when_text(r.created_at),
         None if r.plan is None else round(r.plan.simulated["mean"], 1)]
        for r in records
    ]  # fmt: skip
    return Table(
        name,
        ["Plan", "Name", "Graph", "Mode", "Status", "Progress %", "Asked (UTC)", "Mean reach"],
        rows,
        caption=caption,
        links={"Plan": [f"/planner/plan/{r.id}" for r in records]},
    )


def _form_page(
    request: Request, session: DbSession, viewer: Any, *, error: str | None = None,
    values: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    conn = session.connection()
    mark_interrupted(conn)
    session.commit()
    conn = session.connection()
    recent = list_plans(conn, limit=20)
    saved = list_plans(conn, saved=True, limit=50)
    graphs = [f"store:{s.platform}" for s in network_sources(_store(request))]
    return render(
        request,
        "planner.html",
        {
            "graphs": graphs,
            "options": PLAN_OPTIONS,
            "saved": saved,
            "error": error,
            "values": values or {},
            "data_dir": str(settings_of(request).data_dir),
        },
        viewer=viewer,
        active="planner",
        tables=[_runs_table(recent, "runs", "Recent runs")],
        status_code=status_code,
    )


@router.get("/planner")
def planner_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    return _form_page(request, session, viewer)


def _float(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise BadInput(f"expected a number, got {text!r}", field=field) from None


def _levels(text: str) -> tuple[float, ...] | None:
    if not text.strip():
        return None
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise BadInput(
            f"expected discount levels like 0.1,0.2,0.5, got {text!r}", field="levels"
        ) from None


@router.post("/planner/run")
def planner_run(
    request: Request,
    session: DbSession,
    viewer: Editor,
    graph: Annotated[str, Form()] = "store",
    graph_file: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "k",
    k: Annotated[str, Form()] = "10",
    budget: Annotated[str, Form()] = "",
    costs: Annotated[str, Form()] = "uniform",
    levels: Annotated[str, Form()] = "",
    curve: Annotated[str, Form()] = "concave",
    model: Annotated[str, Form()] = "ic",
    probabilities: Annotated[str, Form()] = "wc",
    runs: Annotated[str, Form()] = "500",
) -> Response:
    values = dict(graph=graph, graph_file=graph_file, mode=mode, k=k, budget=budget,
                  costs=costs, levels=levels, curve=curve, model=model,
                  probabilities=probabilities, runs=runs)  # fmt: skip
    try:
        source = resolve_graph(
            graph_file if graph == "file" else graph, allowed=[settings_of(request).data_dir]
        )
        n_runs = int(_float(runs, "runs") or 500)
        if not 1 <= n_runs <= MAX_RUNS:
            raise InvalidParameter("runs", "plan", f"an int in the range [1, {MAX_RUNS}]", runs)
        n_seeds = int(_float(k, "k") or 10)
        if n_seeds < 1:
            raise InvalidParameter("k", "plan", "an int in the range [1, inf)", k)
        request_ = PlanRequest(
            graph=source, mode=mode, k=n_seeds, budget=_float(budget, "budget"), costs=costs,
            discount_levels=_levels(levels), curve=curve, model=model,
            probabilities=probabilities, runs=n_runs,
        )  # fmt: skip
        plan_id = queue_plan(session.connection(), request=request_)
        session.commit()
    except (BadInput, InvalidParameter) as exc:
        session.rollback()
        return _form_page(request, session, viewer, error=str(exc), values=values,
                          status_code=400)  # fmt: skip
    submit(_store(request).engine, plan_id)
    return RedirectResponse(f"/planner/plan/{plan_id}", status_code=303)


def _plan_tables(record: PlanRecord) -> list[Table]:
    if record.plan is None:
        return []
    seeds = record.plan.seeds
    if record.plan.mode == "discount":
        columns = ["#", "Seed", "Discount", "Takes it", "Expected takers so far"]
        rows = [[i, s["seed"], s["discount"], round(s["probability"], 3),
                 round(s["cumulative"], 2)] for i, s in enumerate(seeds, 1)]  # fmt: skip
    else:
        columns = ["#", "Seed", "Marginal gain", "Expected reach so far"]
        rows = [[i, s["seed"], round(s["marginal_gain"], 2), round(s["cumulative"], 2)]
                for i, s in enumerate(seeds, 1)]  # fmt: skip
        if record.plan.mode == "budget":
            columns.insert(2, "Cost")
            for row, s in zip(rows, seeds, strict=True):
                row.insert(2, s["cost"])
    reach = Table(
        "reach",
        ["Round", "Mean", "5th percentile", "95th percentile"],
        [[r["step"], round(r["mean"], 2), r["p5"], r["p95"]] for r in record.plan.reach_by_step],
        caption="Reach by round",
    )
    return [Table("seeds", columns, rows, caption="Seeds in pick order"), reach]


def _record(session: DbSession, plan_id: int) -> PlanRecord | None:
    try:
        return get_plan(session.connection(), plan_id=plan_id)
    except BadInput:
        return None


@router.get("/planner/plan/{plan_id}")
def plan_page(request: Request, session: DbSession, viewer: ViewerDep, plan_id: int) -> Response:
    record = _record(session, plan_id)
    if record is None:
        return html_error(request, 404, f"no plan {plan_id}")
    charts = {}
    if record.plan is not None:
        data = record.plan.to_dict()
        charts = {"gains": gains_chart("gains", data), "reach": reach_chart("reach", data)}
    return render(
        request,
        "plan.html",
        {"record": record, "charts": charts, "error": None},
        viewer=viewer,
        active="planner",
        tables=_plan_tables(record),
    )


@router.get("/planner/plan/{plan_id}/progress")
def plan_progress(
    request: Request, session: DbSession, viewer: ViewerDep, plan_id: int
) -> Response:
    record = _record(session, plan_id)
    if record is None:
        return html_error(request, 404, f"no plan {plan_id}")
    if record.finished:  # htmx reloads the page, which now shows the result
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return render(request, "_plan_progress.html", {"record": record}, viewer=viewer)


@router.get("/planner/plan/{plan_id}/data.json")
def plan_json(request: Request, session: DbSession, viewer: ViewerDep, plan_id: int) -> Response:
    record = _record(session, plan_id)
    if record is None:
        return JSONResponse({"error": f"no plan {plan_id}"}, status_code=404)
    return JSONResponse(
        {
            "id": record.id,
            "name": record.name,
            "graph": record.graph,
            "request": record.request.to_dict(),
            "status": record.status,
            "progress": record.progress,
            "message": record.message,
            "error": record.error,
            "plan": None if record.plan is None else record.plan.to_dict(),
        }
    )


@router.post("/planner/plan/{plan_id}/save")
def plan_save(
    request: Request,
    session: DbSession,
    viewer: Editor,
    plan_id: int,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        save_plan(session.connection(), plan_id=plan_id, name=name)
        session.commit()
    except BadInput as exc:
        session.rollback()
        record = _record(session, plan_id)
        if record is None:
            return html_error(request, 404, f"no plan {plan_id}")
        charts = {}
        if record.plan is not None:
            data = record.plan.to_dict()
            charts = {"gains": gains_chart("gains", data), "reach": reach_chart("reach", data)}
        return render(
            request, "plan.html", {"record": record, "charts": charts, "error": str(exc)},
            viewer=viewer, active="planner", tables=_plan_tables(record), status_code=400,
        )  # fmt: skip
    return RedirectResponse(f"/planner/plan/{plan_id}", status_code=303)


@router.get("/planner/compare")
def plan_compare(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    try:
        ids = [int(x) for x in request.query_params.getlist("id")]
    except ValueError:
        return html_error(request, 400, "plan ids are numbers")
    if not ids:
        return html_error(request, 400, "pick at least one plan to compare")
    try:
        plans = compare_plans(session.connection(), plan_ids=ids)
    except BadInput as exc:
        return html_error(request, 404, str(exc))
    table = Table(
        "comparison",
        ["Plan", "Mode", "Graph", "Seeds", "Spent", "Expected reach", "Mean simulated",
         "5th percentile", "95th percentile", "Seed list"],
        [[p["name"], p["mode"], p["graph"], p["seeds"], round(p["spent"], 3),
          round(p["spread"], 1), round(p["simulated"]["mean"], 1), p["simulated"]["p5"],
          p["simulated"]["p95"], " ".join(map(str, p["seed_list"]))] for p in plans],
        caption="Plans side by side",
        links={"Plan": [f"/planner/plan/{p['id']}" for p in plans]},
    )  # fmt: skip
    return render(
        request,
        "plan_compare.html",
        {"chart": compare_chart("compare", plans)},
        viewer=viewer,
        active="planner",
        tables=[table],
    )
