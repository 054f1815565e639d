"""Seed costs for budgeted plans: named schemes and cost files."""

from __future__ import annotations

from pathlib import Path

import pytest

from grapevine.errors import BadInput, InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import BudgetedIMM, read_seed_costs, scheme_costs

GRAPH = Graph.from_edges([("hub", "a"), ("hub", "b"), ("hub", "c"), ("a", "b")])


def costs_by_label(values: object) -> dict[str, float]:
    return dict(zip(GRAPH.ids.tolist(), list(values), strict=True))  # type: ignore[call-overload]


def test_schemes() -> None:
    assert set(scheme_costs(GRAPH, "uniform").tolist()) == {1.0}
    assert costs_by_label(scheme_costs(GRAPH, "degree")) == {"hub": 4, "a": 2, "b": 1, "c": 1}
    with pytest.raises(InvalidParameter, match="'scheme' parameter of scheme_costs"):
        scheme_costs(GRAPH, "followers")


@pytest.mark.parametrize(
    "text",
    [
        "# id cost\nhub 5\na 1\n\nb 2\nc 0\n",
        "id,cost\nhub,5\na,1\nb,2\nc,0\n",
        "cost,name,id\n0,x,c\n2,y,b\n1,z,a\n5,w,hub\n",  # columns in any order
        "hub 5\na 1\nb 2\nc 0\nstranger 9\n",  # people not in the graph are ignored
    ],
)
def test_both_layouts_give_every_person_their_cost(tmp_path: Path, text: str) -> None:
    path = tmp_path / "costs.txt"
    path.write_text(text)
    assert costs_by_label(read_seed_costs(GRAPH, path)) == {"hub": 5, "a": 1, "b": 2, "c": 0}


def test_the_default_fills_the_people_left_out(tmp_path: Path) -> None:
    path = tmp_path / "costs.txt"
    path.write_text("hub 5\n")
    assert costs_by_label(read_seed_costs(GRAPH, path, default=0.5)) == {
        "hub": 5, "a": 0.5, "b": 0.5, "c": 0.5,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("hub 3\na -1\n", 2, "cost", "a cost must be a finite number >= 0"),
        ("hub 3\na cheap\n", 2, "cost", "'cheap' is not a number"),
        ("hub 3\na nan\n", 2, "cost", "a cost must be a finite number"),
        ("hub 3\na\n", 2, "cost", "expected 'id cost', got 1 fields"),
        ("hub 3\na 1 2\n", 2, None, "expected 'id cost', got 3 fields"),
        ("hub 3\nhub 2\n", 2, None, "'hub' is given a cost twice"),
        ("id,price\nhub,3\n", 1, "cost", "needs a header with columns id and cost"),
        ("id,cost\nhub\n", 2, "cost", "missing value"),
        ("hub 3\n", None, "cost", "3 of 4 people have no cost \\(first: 'a', 'b', 'c'\\)"),
        ("# nothing\n", None, None, "lists no costs"),
    ],
)
def test_bad_cost_files_name_the_file_line_and_field(
    tmp_path: Path, text: str, line: int | None, field: str | None, message: str
) -> None:
    path = tmp_path / "costs.txt"
    path.write_text(text)
    with pytest.raises(BadInput, match=message) as info:
        read_seed_costs(GRAPH, path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        read_seed_costs(GRAPH, tmp_path / "none.txt")


def test_file_costs_drive_a_budgeted_plan(tmp_path: Path) -> None:
    path = tmp_path / "costs.txt"
    path.write_text("hub 10\na 1\nb 1\nc 1\n")
    costs = read_seed_costs(GRAPH, path)
    est = BudgetedIMM(2, costs, probabilities=1.0, random_state=0).fit(GRAPH)
    assert "hub" not in est.seeds_.tolist()  # too dear for a budget of 2
    assert est.cost_ <= 2
