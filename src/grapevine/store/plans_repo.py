"""The planner's runs and saved plans: queue a plan, run it with progress, save, list, compare.

Row functions take a :class:`~sqlalchemy.Connection` and keyword arguments and never commit
(the caller owns the transaction). :func:`run_plan` is the one that does work: given an
engine and a queued plan's id it loads the graph, runs
:func:`grapevine.influence.plan_seeds` and writes the progress, the result or the error in
their own short transactions, so that a page polling the row sees them as they happen and a
crash leaves the row ``running`` with a pid that :func:`mark_interrupted` recognises.

The graph of a plan is ``"store"`` (all the store's ties), ``"store:PLATFORM"`` (one
platform's) or the path of an edge-list file, which must lie inside one of the folders
the caller allows (:func:`resolve_graph`).
"""

from __future__ import annotations

import os
import socket
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select, update

from grapevine.errors import BadInput, GrapevineError, InvalidParameter
from grapevine.store.plans_models import PlanRow

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.graph import Graph
    from grapevine.influence import SeedPlan

__all__ = [
    "PLAN_OPTIONS",
    "PlanRecord",
    "PlanRequest",
    "compare_plans",
    "get_plan",
    "list_plans",
    "load_plan_graph",
    "mark_interrupted",
    "queue_plan",
    "resolve_graph",
    "run_plan",
    "save_plan",
]

_HOST = socket.gethostname()
_TABLE = PlanRow.__table__

#: The choices of a plan request, with their allowed values where they are a fixed set.
PLAN_OPTIONS: dict[str, tuple[str, ...]] = {
    "mode": ("k", "budget", "discount"),
    "model": ("ic", "lt"),
    "probabilities": ("wc", "trivalency", "uniform"),
    "costs": ("uniform", "degree"),
    "curve": ("concave", "linear", "sqrt"),
}


@dataclass(frozen=True)
class PlanRequest:
    """What to plan: a graph and the choices :func:`grapevine.influence.plan_seeds` takes.

    ``graph`` is ``"store"``, ``"store:PLATFORM"`` or a file path; ``costs`` is
    ``"uniform"`` (1 each) or ``"degree"`` (1 + out-degree) for a budget; ``discount_levels``
    the discount grid of the discount mode.
    """

    graph: str = "store"
    mode: str = "k"
    k: int = 10
    budget: float | None = None
    costs: str = "uniform"
    discount_levels: tuple[float, ...] | None = None
    curve: str = "concave"
    model: str = "ic"
    probabilities: str = "wc"
    epsilon: float = 0.2
    runs: int = 500
    steps: int = 6
    random_state: int = 0

    def check(self) -> None:
        """Raise :class:`InvalidParameter` for a choice outside :data:`PLAN_OPTIONS`."""
        for name, allowed in PLAN_OPTIONS.items():
            value = getattr(self, name)
            if value not in allowed:
                raise InvalidParameter(
                    name, "plan", "one of " + ", ".join(map(repr, allowed)), value
                )
        if self.mode != "k" and (self.budget is None or not self.budget > 0):
            raise InvalidParameter("budget", "plan", "a number above 0", self.budget)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if out["discount_levels"] is not None:
            out["discount_levels"] = list(out["discount_levels"])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanRequest:
        data = dict(data)
        if data.get("discount_levels") is not None:
            data["discount_levels"] = tuple(data["discount_levels"])
        return cls(**data)


@dataclass(frozen=True)
class PlanRecord:
    """A plan run as stored: its request, state and (when done) the plan."""

    id: int
    name: str | None
    graph: str
    request: PlanRequest
    status: str
    progress: float
    message: str | None
    plan: SeedPlan | None
    error: str | None
    created_at: float
    finished_at: float | None
    saved_at: float | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "interrupted")


def _record(row: Any) -> PlanRecord:
    plan = None
    if row.result is not None:
        from grapevine.influence import SeedPlan

        plan = SeedPlan.from_dict(row.result)
    return PlanRecord(
        id=row.id,
        name=row.name,
        graph=row.graph,
        request=PlanRequest.from_dict(row.params),
        status=row.status,
        progress=row.progress,
        message=row.message,
        plan=plan,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        saved_at=row.saved_at,
    )


# ----------------------------------------------------------------------------- graphs
def resolve_graph(text: str, *, allowed: Sequence[Path]) -> str:
    """``"store"``, ``"store:PLATFORM"``, or the resolved path of a file inside ``allowed``.

    Raises
    ------
    BadInput
        When the path is outside every allowed folder (links and ``..`` resolved first) or
        is not a file.
    """
    text = text.strip()
    if text == "store" or text.startswith("store:"):
        return text
    if not text:
        raise BadInput("give a graph: 'store', 'store:PLATFORM' or a file path", field="graph")
    path = Path(text).expanduser().resolve()
    roots = [Path(a).expanduser().resolve() for a in allowed]
    if not any(path.is_relative_to(root) for root in roots):
        shown = ", ".join(str(r) for r in roots) or "(none)"
        raise BadInput(
            f"the graph file must lie inside an allowed folder ({shown})",
            file=str(path),
            field="graph",
        )
    if not path.is_file():
        raise BadInput("no such file", file=str(path), field="graph")
    return str(path)


def load_plan_graph(engine: Engine, graph: str) -> Graph:
    """The graph a plan names: the store's ties (of one platform) or an edge-list file."""
    if graph == "store" or graph.startswith("store:"):
        from grapevine.store._store import Store

        platform = graph.partition(":")[2] or None
        return Store(engine=engine, migrate=False).graph(platform=platform)
    from grapevine.graph import Graph

    return Graph.from_edgelist(graph)


# ----------------------------------------------------------------------------- rows
def queue_plan(conn: Connection, *, request: PlanRequest, now: float | None = None) -> int:
    """Write a ``queued`` run of ``request`` (already resolved and checked); its id."""
    request.check()
    result = conn.execute(
        insert(PlanRow).values(
            graph=request.graph,
            params=request.to_dict(),
            status="queued",
            progress=0.0,
            message="waiting to start",
            created_at=_time.time() if now is None else now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_plan(conn: Connection, *, plan_id: int) -> PlanRecord:
    """One run by id.

    Raises
    ------
    BadInput
        When there is no such plan.
    """
    row = conn.execute(select(_TABLE).where(_TABLE.c.id == plan_id)).first()
    if row is None:
        raise BadInput(f"no plan {plan_id}", field="plan")
    return _record(row)


def list_plans(conn: Connection, *, saved: bool = False, limit: int = 50) -> list[PlanRecord]:
    """The most recent runs first (only the saved ones with ``saved``)."""
    query = select(_TABLE).order_by(_TABLE.c.id.desc()).limit(limit)
    if saved:
        query = query.where(_TABLE.c.name.is_not(None))
    return [_record(r) for r in conn.execute(query)]


def save_plan(conn: Connection, *, plan_id: int, name: str, now: float | None = None) -> None:
    """Give a finished plan a unique ``name``.

    Raises
    ------
    BadInput
        When the plan is not done, the name is empty or longer than 255 characters, or
        another plan has it.
    """
    name = name.strip()
    if not name or len(name) > 255:
        raise BadInput("a plan's name has 1 to 255 characters", field="name")
    record = get_plan(conn, plan_id=plan_id)
    if record.status != "done":
        raise BadInput(f"plan {plan_id} is {record.status}: only a finished plan can be saved")
    clash = conn.execute(
        select(PlanRow.id).where(PlanRow.name == name, PlanRow.id != plan_id)
    ).first()
    if clash is not None:
        raise BadInput(f"a plan named {name!r} exists already", field="name")
    conn.execute(
        update(PlanRow)
        .where(PlanRow.id == plan_id)
        .values(name=name, saved_at=_time.time() if now is None else now)
    )


def compare_plans(conn: Connection, *, plan_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Side by side: per finished plan its name, choices, seeds, expected and simulated reach,
    the reach by round (with its band) and the spend."""
    out = []
    for plan_id in plan_ids:
        record = get_plan(conn, plan_id=plan_id)
        if record.plan is None:
            raise BadInput(f"plan {plan_id} is {record.status}: it has no result to compare")
        plan = record.plan
        out.append(
            {
                "id": record.id,
                "name": record.name or f"plan {record.id}",
                "graph": record.graph,
                "mode": plan.mode,
                "seeds": len(plan.seeds),
                "spent": plan.spent,
                "spread": plan.spread,
                "simulated": plan.simulated,
                "reach_by_step": plan.reach_by_step,
                "seed_list": [row["seed"] for row in plan.seeds],
            }
        )
    return out


def _set(engine: Engine, plan_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(PlanRow).where(PlanRow.id == plan_id).values(**values))


def mark_interrupted(conn: Connection) -> int:
    """Mark ``queued`` or ``running`` rows of this host whose process is gone; how many."""
    from grapevine.store._store import _alive

    rows = conn.execute(
        select(PlanRow.id, PlanRow.pid, PlanRow.host).where(
            PlanRow.status.in_(("queued", "running"))
        )
    ).all()
    gone = [r.id for r in rows if r.host == _HOST and r.pid is not None and not _alive(r.pid)]
    if gone:
        conn.execute(
            update(PlanRow)
            .where(PlanRow.id.in_(gone))
            .values(status="interrupted", message="its process ended before it finished")
        )
    return len(gone)


def run_plan(engine: Engine, *, plan_id: int) -> PlanRecord:
    """Run a queued plan, writing its progress as it goes; the finished record.

    A failure of the plan (bad graph, invalid choice) ends the row ``failed`` with the
    error's message, and is not raised: the row is the answer.
    """
    from grapevine.influence import plan_seeds, scheme_costs

    with engine.connect() as conn:
        request = get_plan(conn, plan_id=plan_id).request
    _set(
        engine, plan_id, status="running", started_at=_time.time(), progress=0.01,
        message="loading the graph", host=_HOST, pid=os.getpid(),
    )  # fmt: skip

    def progress(fraction: float, message: str) -> None:
        _set(engine, plan_id, progress=float(fraction), message=message)

    try:
        graph = load_plan_graph(engine, request.graph)
        plan = plan_seeds(
            graph,
            mode=request.mode,
            k=min(request.k, graph.n_nodes),
            budget=request.budget,
            costs=scheme_costs(graph, request.costs) if request.mode == "budget" else None,
            levels=request.discount_levels,
            curve=request.curve,
            model=request.model,
            probabilities=request.probabilities,
            epsilon=request.epsilon,
            runs=request.runs,
            steps=request.steps,
            random_state=request.random_state,
            progress=progress,
        )
    except (GrapevineError, ValueError, OSError) as exc:
        _set(
            engine, plan_id, status="failed", error=str(exc), message="failed",
            finished_at=_time.time(),
        )  # fmt: skip
    else:
        _set(
            engine, plan_id, status="done", result=plan.to_dict(), progress=1.0, message="done",
            finished_at=_time.time(),
        )  # fmt: skip
    with engine.connect() as conn:
        return get_plan(conn, plan_id=plan_id)
