"""The command line, run as a newcomer runs it: the installed `grapevine` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXE = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
    full_env.pop("GRAPEVINE_DATABASE_URL", None)
    return subprocess.run(
        [EXE, *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=300
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("import", "info", "demo", "serve", "migrate"):
        assert command in out.stdout
    sub = run("import", "--help", cwd=tmp_path)
    for fmt in ("higgs", "edges", "cascades", "netdiffuser", "persons", "ties", "posts"):
        assert fmt in sub.stdout


def test_version(tmp_path: Path) -> None:
    out = run("--version", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.startswith("grapevine ")


def test_import_then_info_then_reimport_adds_nothing(tmp_path: Path) -> None:
    edges = tmp_path / "edges.txt"
    edges.write_text("# a comment\n1 2\n2 3\n2 3\n3 3\n")
    db = f"sqlite:///{tmp_path / 's.db'}"
    first = run("import", "edges", str(edges), "--db", db, "--platform", "toy", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 self-loops dropped" in first.stdout
    assert "repeated pairs merged" in first.stdout
    again = run("import", "edges", str(edges), "--db", db, "--platform", "toy", cwd=tmp_path)
    assert "nothing new" in again.stdout
    info = json.loads(run("info", "--json", "--db", db, cwd=tmp_path).stdout)
    assert info["ties"] == [
        {"platform": "toy", "kind": "follows", "count": 2, "timed": 0, "first": None, "last": None}
    ]
    assert info["persons"] == [{"platform": "toy", "count": 3}]


def test_bad_row_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "activity.txt"
    bad.write_text("1 2 1341100972 RT\n3 4 notatime MT\n")
    out = run("import", "higgs", str(bad), "--db", f"sqlite:///{tmp_path / 'b.db'}", cwd=tmp_path)
    assert out.returncode == 1
    assert "activity.txt, line 2, field 'time'" in " ".join(out.stderr.split())


def test_default_database_is_a_file_in_the_working_directory(tmp_path: Path) -> None:
    out = run("migrate", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "grapevine.db").exists()


def test_cli_docs_are_the_current_help() -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "cli_docs.py"
    out = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


WEIBO = "\t".join(["77", "1", "1464739201", "4", "1:0 1/2:60 1/2/3:120 1/4:4000"]) + "\n"


def test_cascades_reach_and_forecast_commands(tmp_path: Path) -> None:
    cascades = tmp_path / "weibo.txt"
    cascades.write_text(WEIBO)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert run("import", "cascades", str(cascades), "--db", db, cwd=tmp_path).returncode == 0
    out = run("cascades", "--db", db, "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (row,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert (row["cascade"], row["size"], row["depth"], row["max_breadth"]) == ("77", 4, 2, 2)
    assert row["structural_virality"] == pytest.approx(10 / 6)
    plotted = run("cascades", "--db", db, "--plot", str(tmp_path / "plots"), cwd=tmp_path)
    assert plotted.returncode == 0, plotted.stderr
    assert (tmp_path / "plots" / "tree.svg").exists()
    assert (tmp_path / "plots" / "growth.png").read_bytes()[:4] == b"\x89PNG"
    reach = json.loads(run("reach", "77", "--db", db, "--json", cwd=tmp_path).stdout)
    assert (reach["organic"], reach["viral"], reach["paid"]) == (2, 1, 0)
    missing = run("reach", "nope", "--db", db, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no cascade 'nope'" in missing.stderr
    fc = run("forecast", str(cascades), "--at", "1h", "--json", cwd=tmp_path)
    assert fc.returncode == 0, fc.stderr
    (line,) = [json.loads(x) for x in fc.stdout.splitlines()]
    assert line["observed"] == 3
    assert line["actual_final"] == 4
    assert (line["model"], line["primary"], line["primary_status"]) == (
        "loglinear",
        "hawkes",
        "too young",
    )
    assert line["why"].startswith("cannot forecast yet")
    assert line["final_size"] == 3  # no older cascade to learn from: the observed floor
    assert line["interval"] == [3, None]
    bad = run("forecast", str(cascades), "--at", "soon", cwd=tmp_path)
    assert bad.returncode == 1
    assert "not a duration" in bad.stderr
