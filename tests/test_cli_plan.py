"""`grapevine plan` and `grapevine simulate` on edge-list files and on a store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grapevine.cli.main import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    edges = ["hub a", "hub b", "hub c", "hub d", "a e", "x y", "y z"]
    (tmp_path / "g.txt").write_text("\n".join(edges) + "\n")
    (tmp_path / "p.txt").write_text("\n".join(f"{e} 1.0" for e in edges) + "\n")
    (tmp_path / "seeds.txt").write_text("hub\n\n# a comment\nx\n")
    (tmp_path / "bad_seeds.txt").write_text("hub\nnobody\n")
    return tmp_path


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_plan_json(files: Path) -> None:
    code, out = invoke(
        "plan", files / "g.txt", "--k", "2", "--probabilities", files / "p.txt",
        "--runs", "50", "--steps", "2", "--json", "--random-state", "1", "--algorithm", "imm",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert [s["seed"] for s in data["seeds"]] == ["hub", "x"]
    assert [s["marginal_gain"] for s in data["seeds"]] == pytest.approx([6, 3], rel=0.05)
    assert data["spread"] == pytest.approx(9, rel=0.05)
    assert [r["mean"] for r in data["reach_by_step"]] == [2.0, 7.0, 9.0]
    assert data["reach_by_step"][1]["p5"] == data["reach_by_step"][1]["p95"] == 7.0
    assert data["n_rr_sets"] >= 100_000
    assert 0 < data["approximation"] < 1


def test_plan_table(files: Path) -> None:
    code, out = invoke("plan", files / "g.txt", "--k", "1", "--runs", "20", "--random-state", "3")
    assert code == 0, out
    assert "hub" in out
    assert "Reach by round" in out
    assert "95th" in out


def test_plan_lt_with_a_float(files: Path) -> None:
    code, out = invoke(
        "plan", files / "g.txt", "--k", "1", "--model", "lt", "--probabilities", "0.2",
        "--runs", "10", "--json", "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["seeds"][0]["seed"] == "hub"


def test_simulate_json(files: Path) -> None:
    code, out = invoke(
        "simulate", files / "g.txt", "--seeds", files / "seeds.txt",
        "--probabilities", "1", "--runs", "30", "--json",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["seeds"] == 2
    assert data["mean"] == 9.0
    assert data["distribution"] == {"9": 30}


def test_simulate_text(files: Path) -> None:
    code, out = invoke("simulate", files / "g.txt", "--seeds", files / "seeds.txt", "--runs", "5")
    assert code == 0, out
    assert "mean reach" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "{d}/g.txt", "--k", "99"], "'k' parameter of plan"),
        (["plan", "{d}/missing.txt"], "no such file"),
        (["plan", "{d}/g.txt", "--k", "1", "--probabilities", "often"], "--probabilities must be"),
        (["plan", "{d}/g.txt", "--k", "1", "--probabilities", "{d}/g.txt"], "third column"),
        (["simulate", "{d}/g.txt", "--seeds", "{d}/bad_seeds.txt"], "nobody"),
        (["simulate", "{d}/g.txt", "--seeds", "{d}/none.txt"], "no such file"),
    ],
)
def test_errors(files: Path, args: list[str], message: str) -> None:
    code, out = invoke(*[a.format(d=files) for a in args])
    assert code == 1
    assert "error:" in out
    assert message in " ".join(out.split())


def test_probability_file_with_an_unknown_arc(files: Path) -> None:
    (files / "q.txt").write_text("hub a 0.5\na hub 0.5\n")
    code, out = invoke("plan", files / "g.txt", "--k", "1", "--probabilities", files / "q.txt")
    assert code == 1
    assert "not in the graph" in " ".join(out.split())


def test_plan_from_the_store(files: Path) -> None:
    db = f"sqlite:///{files / 'g.db'}"
    code, out = invoke("import", "edges", files / "g.txt", "--db", db)
    assert code == 0, out
    code, out = invoke(
        "plan", "--db", db, "--k", "1", "--probabilities", "1", "--runs", "5", "--json",
        "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["seeds"][0]["seed"] == "hub"


# ------------------------------------------------------------------ budgets and discounts
COSTS = "hub 3\na 1\nb 1\nc 1\nd 1\ne 1\nx 1\ny 1\nz 1\n"


def test_plan_budget_json_with_a_cost_file_and_the_tipping_curve(files: Path) -> None:
    (files / "c.txt").write_text("# id cost\n" + COSTS)
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "4", "--costs", files / "c.txt",
        "--probabilities", "1", "--runs", "20", "--steps", "1", "--json", "--random-state", "1",
        "--tipping", "--tipping-points", "4",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert {s["seed"]: s["cost"] for s in data["seeds"]} == {"x": 1, "a": 1, "d": 1, "c": 1}
    assert data["spent"] == 4.0 <= data["budget"]
    assert data["strategy"] == "greedy"
    assert data["simulated"]["mean"] == 7.0
    assert [r["mean"] for r in data["reach_by_step"]] == [4.0, 6.0]
    curve = data["tipping"]
    assert [p["budget"] for p in curve["points"]] == [0, 1, 2, 3, 4]
    assert [round(p["reach"]) for p in curve["points"]] == [0, 3, 5, 6, 7]
    assert curve["tipping_budget"] is None


def test_plan_budget_table_with_a_csv_and_a_plot(files: Path) -> None:
    csv_rows = "\n".join(f"{line.split()[0]},{line.split()[1]}" for line in COSTS.splitlines())
    (files / "c.csv").write_text("cost,id\n".replace("cost,id", "id,cost") + csv_rows + "\n")
    png = files / "curve.png"
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "3", "--costs", files / "c.csv", "--runs", "10",
        "--random-state", "2", "--tipping", "--plot", png,
    )  # fmt: skip
    assert code == 0, out
    text = " ".join(out.split())
    assert "cost" in text
    assert "total" in text
    assert "Reach against budget" in text
    assert "no tipping point" in text  # reach 0, 3, 5, 6, 7: it only flattens
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_plan_budget_uniform_and_degree_costs(files: Path) -> None:
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "2", "--probabilities", "1", "--runs", "5",
        "--json", "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    assert [s["seed"] for s in json.loads(out)["seeds"]] == ["hub", "x"]
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "5", "--costs", "degree", "--probabilities", "1",
        "--runs", "5", "--json", "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    out_degree = {"hub": 4, "a": 1, "x": 1, "y": 1}
    for s in data["seeds"]:
        assert s["cost"] == 1 + out_degree.get(s["seed"], 0)
    assert data["spent"] <= 5


def test_plan_budget_default_cost(files: Path) -> None:
    (files / "c.txt").write_text("hub 3\nnobody 2\n")
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "1", "--costs", files / "c.txt",
        "--default-cost", "1", "--probabilities", "1", "--runs", "5", "--json",
        "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["seeds"][0]["seed"] == "x"


def test_plan_discounts_json(files: Path) -> None:
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "2", "--discount", "concave", "--levels",
        "0.25,0.5,1", "--probabilities", "0.5", "--runs", "200", "--steps", "2", "--json",
        "--random-state", "1",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert sum(d["discount"] for d in data["discounts"]) == data["spent"] <= 2
    assert all(d["discount"] in (0.25, 0.5, 1.0) for d in data["discounts"])
    assert data["spread"] >= data["full_discount_spread"] - 0.1
    assert len(data["reach_by_step"]) == 3  # rounds 0 (who took the offer), 1, 2
    assert data["reach_by_step"][0]["mean"] == pytest.approx(data["expected_seeds"], rel=0.2)


def test_plan_discounts_table(files: Path) -> None:
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "1", "--discount", "sqrt", "--runs", "20",
        "--random-state", "1",
    )  # fmt: skip
    assert code == 0, out
    assert "discount" in out
    assert "takes it" in out


def test_plan_learned_probabilities(files: Path) -> None:
    (files / "casc.txt").write_text("hub a 1.0 e 2.0\nhub b 1.0\nx y 3.0 z 4.0\nhub c 5.0\n")
    code, out = invoke(
        "plan", files / "g.txt", "--k", "1", "--probabilities", "learned", "--cascades",
        files / "casc.txt", "--runs", "20", "--json", "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    # learned (Bernoulli): hub -> a, b, c 1/3 each, hub -> d 0, x -> y -> z 1; under
    # weighted cascade hub would reach 6 for sure
    assert data["seeds"][0]["seed"] == "x"
    assert data["simulated"]["mean"] == 3.0
    code, out = invoke(
        "plan", files / "g.txt", "--budget", "1", "--probabilities", "learned", "--learner",
        "em", "--cascades", files / "casc.txt", "--runs", "20", "--json", "--random-state", "0",
    )  # fmt: skip
    assert code == 0, out


@pytest.mark.parametrize(
    ("cost_file", "message"),
    [
        ("hub 3\na -1\n", "line 2, field 'cost': a cost must be a finite number >= 0"),
        ("hub 3\na cheap\n", "line 2, field 'cost': 'cheap' is not a number"),
        ("hub 3\na inf\n", "field 'cost'"),
        ("hub 3\na\n", "line 2, field 'cost': expected 'id cost', got 1 fields"),
        ("hub 3\nhub 2\n", "line 2: 'hub' is given a cost twice"),
        ("id,price\nhub,3\n", "field 'cost': a CSV cost file needs a header"),
        ("id,cost\nhub\n", "line 2, field 'cost': missing value"),
        ("hub 3\na 1\n", "field 'cost': 7 of 9 people have no cost (first: 'b', 'c', 'd'"),
        ("", "lists no costs"),
    ],
)
def test_cost_file_errors(files: Path, cost_file: str, message: str) -> None:
    (files / "c.txt").write_text(cost_file)
    code, out = invoke("plan", files / "g.txt", "--budget", "5", "--costs", files / "c.txt")
    assert code == 1
    text = " ".join(out.split())
    assert "error:" in text
    assert message in text
    assert "c.txt" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0.5"], "'budget' parameter of plan must be at least the cheapest cost"),
        (["--budget", "0.05", "--discount", "linear"], "at least the smallest discount level"),
        (["--costs", "degree"], "--costs needs --budget"),
        (["--tipping"], "--tipping needs --budget"),
        (["--discount", "linear"], "--discount needs --budget"),
        (["--budget", "1", "--costs", "cheap"], "--costs must be uniform, degree or a cost file"),
        (["--budget", "1", "--discount", "linear", "--levels", "0.5,x"], "--levels must be"),
        (["--budget", "1", "--discount", "linear", "--levels", ","], "--levels must be"),
        (["--budget", "1", "--discount", "linear", "--levels", "0.5,2"], "'levels' parameter"),
        (["--budget", "1", "--discount", "linear", "--tipping"], "does not combine"),
        (["--probabilities", "learned"], "--probabilities learned needs --cascades"),
        (["--probabilities", "learned", "--cascades", "{d}/none.txt"], "no such file"),
        (["--k", "1", "--probabilities", "1.5"], "'probabilities' parameter"),
    ],
)
def test_budget_errors(files: Path, args: list[str], message: str) -> None:
    code, out = invoke("plan", files / "g.txt", "--runs", "5", *[a.format(d=files) for a in args])
    assert code == 1
    assert "error:" in out
    assert message in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "1", "--discount", "cubic"], "'cubic' is not one of 'linear', 'concave'"),
        (["--k", "1", "--model", "sir"], "'sir' is not one of 'ic', 'lt'"),
        (["--k", "1", "--algorithm", "greedy"], "'greedy' is not one of 'opimc', 'imm'"),
    ],
)
def test_a_value_outside_the_choices_is_refused_with_them(
    files: Path, args: list[str], message: str
) -> None:
    code, out = invoke("plan", files / "g.txt", *args)
    assert code == 2
    assert message in " ".join(out.replace("│", " ").split())


def test_plan_on_a_store_without_ties(files: Path) -> None:
    """A store without ties is an error naming it (an edge-list file cannot be empty either)."""
    from grapevine.store import Store

    db = f"sqlite:///{files / 'empty.db'}"
    with Store(db):
        pass
    code, out = invoke("plan", "--db", db, "--k", "1", "--json")
    assert code == 1
    assert "no ties in the store" in " ".join(out.split())


@pytest.mark.slow
def test_plan_discounts_with_probabilities_learned_on_android(data_dir: Path) -> None:
    android = data_dir / "cascades" / "android"
    code, out = invoke(
        "plan", android / "graph.txt", "--budget", "3", "--discount", "concave",
        "--probabilities", "learned", "--cascades", android / "train.txt", "--runs", "200",
        "--steps", "1", "--json", "--random-state", "1",
    )  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["spent"] <= 3
    assert data["spread"] >= data["full_discount_spread"]
    assert data["simulated"]["mean"] == pytest.approx(data["validation_spread"], rel=0.15)
