"""Saved plans: queue, run with progress, save by name, list, compare; on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from grapevine.errors import BadInput, InvalidParameter
from grapevine.store import Store, import_file
from grapevine.store.plans_repo import (
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


def _edges(tmp_path: Path) -> Path:
    path = tmp_path / "g.txt"
    path.write_text("".join(f"0 {i}\n" for i in range(1, 8)) + "10 11\n10 12\n")
    return path


def _run(store: Store, request: PlanRequest) -> int:
    with store.engine.begin() as conn:
        plan_id = queue_plan(conn, request=request)
    run_plan(store.engine, plan_id=plan_id)
    return plan_id


def test_run_save_list_compare(store: Store, tmp_path: Path) -> None:
    import_file(store, "edges", _edges(tmp_path))
    first = _run(store, PlanRequest(k=1, probabilities="uniform", runs=20))
    second = _run(store, PlanRequest(mode="budget", budget=2.0, runs=20))
    with store.engine.begin() as conn:
        done = get_plan(conn, plan_id=first)
        assert done.status == "done"
        assert done.progress == 1.0
        assert done.plan is not None
        assert done.plan.seeds[0]["seed"] == "0"
        save_plan(conn, plan_id=first, name="one hub")
        save_plan(conn, plan_id=second, name="two for two")
        with pytest.raises(BadInput, match="exists already"):
            save_plan(conn, plan_id=second, name="one hub")
        assert [p.name for p in list_plans(conn, saved=True)] == ["two for two", "one hub"]
        side = compare_plans(conn, plan_ids=[first, second])
    assert [s["name"] for s in side] == ["one hub", "two for two"]
    assert side[0]["seeds"] == 1
    assert side[1]["spent"] <= 2.0
    assert side[0]["reach_by_step"][0]["mean"] == 1.0


def test_a_failed_plan_keeps_its_error(store: Store) -> None:
    plan_id = _run(store, PlanRequest(graph="store", k=3))  # the store has no ties
    with store.engine.begin() as conn:
        record = get_plan(conn, plan_id=plan_id)
        assert record.status == "failed"
        assert "no ties" in (record.error or "")
        with pytest.raises(BadInput, match="only a finished plan"):
            save_plan(conn, plan_id=plan_id, name="nope")
        with pytest.raises(BadInput, match="no result to compare"):
            compare_plans(conn, plan_ids=[plan_id])


def test_a_dead_runner_is_marked_interrupted(store: Store) -> None:
    from sqlalchemy import update

    from grapevine.store.plans_models import PlanRow
    from grapevine.store.plans_repo import _HOST

    with store.engine.begin() as conn:
        plan_id = queue_plan(conn, request=PlanRequest())
        conn.execute(
            update(PlanRow).where(PlanRow.id == plan_id).values(
                status="running", host=_HOST, pid=2**22 + 12345
            )
        )  # fmt: skip
        assert mark_interrupted(conn) == 1
        assert get_plan(conn, plan_id=plan_id).status == "interrupted"


def test_requests_are_checked() -> None:
    with pytest.raises(InvalidParameter, match="'model' parameter"):
        PlanRequest(model="sir").check()
    with pytest.raises(InvalidParameter, match="'budget' parameter"):
        PlanRequest(mode="budget").check()


def test_graph_files_must_lie_in_an_allowed_folder(tmp_path: Path) -> None:
    inside = tmp_path / "data"
    inside.mkdir()
    good = _edges(inside)
    assert resolve_graph(str(good), allowed=[inside]) == str(good.resolve())
    assert resolve_graph("store:twitter", allowed=[]) == "store:twitter"
    with pytest.raises(BadInput, match="inside an allowed folder"):
        resolve_graph(str(inside / ".." / "elsewhere.txt"), allowed=[inside])
    with pytest.raises(BadInput, match="no such file"):
        resolve_graph(str(inside / "missing.txt"), allowed=[inside])
