"""The demo's network step: the Ciao trust graph and the influencer roles of its members.

Roles are scored with :func:`grapevine.roles.influencer_roles` (connectors from the graph;
salesmen from the referral campaign's exposures and conversions when given) and kept in
each person's ``attributes["roles"]``: the scores, ranks and the one-line reasons, so a page
can show them without scoring the graph again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from grapevine.connectors import Batch
from grapevine.demo._data import CIAO, data_file
from grapevine.graph import Graph
from grapevine.roles import ROLES, influencer_roles
from grapevine.store import Store, import_file

__all__ = [
    "PLATFORM",
    "RoleSummary",
    "import_network",
    "influence_graph",
    "saved_plan",
    "store_roles",
]

PLATFORM = "ciao"
"""The platform of the trust graph's members (Ciao user ids as handles)."""

PLAN_NAME = "Campaign seeds: Ciao trust network, 20 people"
"""The name of the demo's saved plan."""


@dataclass(frozen=True)
class RoleSummary:
    """The people scored and the top three of each role (handles)."""

    people: int
    top: dict[str, list[str]]


def import_network(store: Store) -> int:
    """Import the shipped Ciao trust graph (ties of kind ``trusts``); the ties written."""
    with data_file(CIAO) as path:
        report = import_file(store, "edges", path, platform=PLATFORM, kind="trusts")
    return int(report.new.get("ties", 0))


def influence_graph(store: Store) -> Graph:
    """The trust graph as the store gives it to the planner (``store:ciao``). Nearly every
    trust tie of this set is returned (27,708 of the 57,544 ties are one half of a
    reciprocated pair), so a recommendation travels both ways along most arcs."""
    return store.graph(platform=PLATFORM)


def saved_plan(store: Store, *, k: int, random_state: int = 0) -> tuple[int, list[object]]:
    """Plan ``k`` seeds on the trust graph with the planner's own run (IMM-class seeds,
    checked by simulation), save the plan, and return its id and the seeds."""
    from grapevine.errors import GrapevineError
    from grapevine.store import plans_repo

    request = plans_repo.PlanRequest(
        graph=f"store:{PLATFORM}", mode="k", k=k, runs=200, random_state=random_state
    )
    with store.engine.begin() as conn:
        plan_id = plans_repo.queue_plan(conn, request=request)
    record = plans_repo.run_plan(store.engine, plan_id=plan_id)
    if record.plan is None:
        raise GrapevineError(f"the demo's seed plan failed: {record.error}")
    with store.engine.begin() as conn:
        plans_repo.save_plan(conn, plan_id=plan_id, name=PLAN_NAME)
    return plan_id, [s["seed"] for s in record.plan.seeds]


def store_roles(
    store: Store, *, conversions: pd.DataFrame | None = None, random_state: int = 0
) -> RoleSummary:
    """Score every member of the trust graph and store the roles in their attributes."""
    graph = store.graph(platform=PLATFORM)
    roles = influencer_roles(graph, conversions=conversions, random_state=random_state)
    keep = [f"{r}{s}" for r in ROLES for s in ("", "_rank", "_reason", "_data")]
    records = roles[["id", *keep]].to_dict("records")
    persons = pd.DataFrame(
        {
            "handle": [str(r["id"]) for r in records],
            "display_name": None,
            "followers": None,
            "attributes": [{"roles": {k: _plain(r[k]) for k in keep}} for r in records],
        }
    )
    store.write(Batch(platform=PLATFORM, rows=len(persons), persons=persons))
    top = {
        role: [str(x) for x in roles.sort_values(f"{role}_order")["id"].head(3)] for role in ROLES
    }
    return RoleSummary(len(records), top)


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value
