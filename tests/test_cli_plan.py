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
        "--runs", "50", "--steps", "2", "--json", "--random-state", "1",
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
        (["plan", "{d}/g.txt", "--k", "1", "--model", "sir"], "'model' parameter"),
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
