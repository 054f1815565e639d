"""The README's short tour runs as written, so it cannot drift from the command line.

Every line of the ```bash block under "A short tour" runs, in order, against one temporary
store, with ``../shared/data/...`` pointed at the shared data and the files the tour
assumes the reader has (``my-export.jsonl``, ``posts.txt``, ``spring.toml``) written first.
A line fails on a non-zero exit or a traceback. Lines that need a network or a running
server are skipped by the explicit list below, each with its reason; a skip that matches no
line of the tour fails too, so the list cannot go stale either.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXE = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"

SKIP = {
    "grapevine serve": "starts the HTTP server, which runs until stopped (tests/test_service.py)",
    "grapevine listen add-feed": "a feed on the network (tests/test_cli_listen.py serves one)",
    "grapevine listen run": "fetches the feeds over the network (tests/test_cli_listen.py)",
    "grapevine plan big-graph.txt": "a Dask scheduler at dask-host (tests/test_distributed.py)",
}

# The files the tour takes the reader to have.
READER_FILES = {
    "my-export.jsonl": (
        '{"id": "109", "author": "anna", "time": "2024-05-01T10:00:00Z", "text": "Love it", '
        '"language": "en"}\n'
        '{"id": "110", "author": "bram", "time": 1714558200, "parent": "109", '
        '"text": "Zeker!", "language": "nl"}\n'
    ),
    "posts.txt": (
        "The new card is great, setting it up took two minutes\n"
        "Third outage this week, I am done with this bank\n"
        "De app werkt eindelijk weer\n"
    ),
    "spring.toml": (
        'name = "spring"\n'
        'destinations = ["https://shop.example/welcome"]\n'
        "window_days = 14\n"
        "[offer]\n"
        'referrer = { kind = "fixed", amount = 10 }\n'
        'friend = { kind = "percent", amount = 20 }\n'
    ),
}


def tour_lines(readme: Path = README) -> list[str]:
    """The commands of the tour's bash block, continuation lines joined."""
    text = readme.read_text(encoding="utf-8")
    after = text.split("## A short tour", 1)[1]
    block = after.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def commands_of(line: str, data: Path) -> list[list[str]]:
    """The argv of each command of a line (``a && b`` is two), with data paths resolved."""
    tokens = shlex.split(line, comments=True)
    prefix = "../shared/data/"
    tokens = [str(data / t[len(prefix) :]) if t.startswith(prefix) else t for t in tokens]
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token == "&&":
            commands.append([])
        else:
            commands[-1].append(token)
    return commands


def skip_reason(line: str) -> str | None:
    return next((why for start, why in SKIP.items() if line.startswith(start)), None)


def test_the_tour_parses_into_grapevine_commands() -> None:
    lines = tour_lines()
    assert len(lines) >= 15
    for line in lines:
        for argv in commands_of(line, Path("/data")):
            assert argv[0] == "grapevine", line


def test_every_skip_matches_a_line_of_the_tour() -> None:
    lines = tour_lines()
    stale = [start for start in SKIP if not any(line.startswith(start) for line in lines)]
    assert stale == []


@pytest.mark.slow
def test_every_command_of_the_tour_runs(data_dir: Path, tmp_path: Path) -> None:
    for name, content in READER_FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    env = {**os.environ, "COLUMNS": "120"}
    env["GRAPEVINE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'tour.db'}"
    failures: list[str] = []
    ran: list[str] = []
    for line in tour_lines():
        if skip_reason(line) is not None:
            continue
        for argv in commands_of(line, data_dir):
            started = time.perf_counter()
            out = subprocess.run(
                [EXE, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                timeout=600,
            )  # fmt: skip
            ran.append(f"{time.perf_counter() - started:6.1f} s  {shlex.join(argv)}")
            if out.returncode != 0 or "Traceback" in out.stdout + out.stderr:
                failures.append(
                    f"{line}\n  exit {out.returncode}\n  stderr: {out.stderr[-1500:]}"
                    f"\n  stdout: {out.stdout[-500:]}"
                )
    print("\n".join(ran))  # shown with -s or -rP: what ran and how long it took
    assert failures == [], "\n\n".join(failures)
