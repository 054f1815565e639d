"""`grapevine listen ...` and `grapevine inbox ...` on a real SQLite store (and the replay
server for `listen run`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grapevine.cli.main import app
from listening_server import VALID_TOKEN, ReplayServer

runner = CliRunner()


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], env=env)
    return result.exit_code, result.output


def ok_json(*args: str | Path, env: dict[str, str] | None = None) -> object:
    code, out = invoke(*args, "--json", env=env)
    assert code == 0, out
    return json.loads(out)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/listen.db"


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "1",
            "author": "ann",
            "time": "2026-11-20T10:00:00Z",
            "text": "My Brewly leaks again, terrible machine",
            "reshares": 12,
        },
        {
            "id": "2",
            "author": "bob",
            "time": "2026-11-20T11:00:00Z",
            "text": "Brewly koffie is prima vandaag, echt lekker",
        },
        {"id": "3", "author": "cid", "time": "2026-11-20T12:00:00Z", "text": "nothing to see"},
        {
            "id": "1",
            "author": "ann",
            "time": "2026-11-20T10:00:00Z",
            "text": "My Brewly leaks again, terrible machine",
        },
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_webcare_flow_from_the_command_line(db: str, posts_file: Path) -> None:
    rule = ok_json("listen", "add-rule", "brewly", "brewly OR #brewly inbox:all", "--db", db)
    assert rule == {
        "id": 1,
        "name": "brewly",
        "query": "brewly OR #brewly inbox:all",
        "grouping": "brewly OR #brewly",
    }
    report = ok_json("listen", "import", posts_file, "--format", "jsonl", "--db", db)
    assert isinstance(report, dict)
    assert (report["received"], report["duplicates"], report["stored"], report["matched"]) == (
        4,
        1,
        3,
        2,
    )
    status = ok_json("listen", "status", "--db", db)
    assert isinstance(status, dict)
    assert status["rules"][0]["matches"] == 2

    items = ok_json("inbox", "--db", db)
    assert isinstance(items, list)
    assert len(items) == 2
    top = items[0]
    assert top["external_id"] == "1"
    for part in ("priority", "negativity", "influence", "velocity", "recency"):
        assert 0 <= top[part] <= 1
    item = str(top["id"])
    steps = [
        ("assign", item, "eve"),
        ("draft", item, "Sorry to hear that, we will replace it."),
        ("approve", item),
    ]
    for step in steps:
        out = ok_json("inbox", *step, "--by", "lead", "--db", db)
        assert isinstance(out, dict)
    assert out["status"] == "approved"
    # A post from a file has no reply API: nothing is sent, and nothing counts as sent.
    code, text = invoke("inbox", "send", item, "--by", "eve", "--db", db)
    assert code == 1
    assert f"inbox item {item} came from generic, which has no reply API" in " ".join(text.split())
    assert f"grapevine inbox resolve {item}" in text
    note = ("--note", "answered on the platform")
    code, text = invoke("inbox", "resolve", item, "--by", "eve", *note, "--db", db)
    assert code == 0
    assert "resolved" in text
    audit = ok_json("inbox", "audit", item, "--db", db)
    assert [a["action"] for a in audit] == ["assign", "draft", "approve", "resolve"]  # type: ignore[index, union-attr]
    stats = ok_json("inbox", "stats", "--db", db)
    assert isinstance(stats, dict)
    assert stats["overall"]["answered"] == 0
    assert stats["resolved_without_reply"] == 1
    # The open inbox no longer lists the resolved item; --status shows it.
    assert [i["id"] for i in ok_json("inbox", "--db", db)] == [items[1]["id"]]  # type: ignore[union-attr]
    resolved = ok_json("inbox", "--status", "resolved", "--db", db)
    assert [i["id"] for i in resolved] == [top["id"]]  # type: ignore[union-attr]


@pytest.mark.slow
def test_tables_render(db: str, posts_file: Path, tmp_path: Path) -> None:
    """The installed script, in a wide terminal, as a person runs it."""
    exe = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}

    def run(*args: str | Path) -> str:
        done = subprocess.run(
            [exe, *map(str, args), "--db", db],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("listen", "add-rule", "brewly", "brewly")
    assert "imported 4 posts: 3 new, 1 duplicates" in run(
        "listen", "import", posts_file, "--format", "jsonl"
    )
    out = run("inbox")
    assert "priority" in out
    assert "leaks again" in out
    assert "negative (en)" in out
    out = run("listen", "status")
    assert "Watch rules" in out
    assert "brewly" in out
    assert "First response" in run("inbox", "stats")
    assert "no alerts" in run("listen", "alerts")


def test_a_correction_from_the_command_line(db: str, posts_file: Path) -> None:
    invoke("listen", "add-rule", "brewly", "brewly inbox:all", "--db", db)
    invoke("listen", "import", posts_file, "--format", "jsonl", "--db", db)
    [item] = [i for i in ok_json("inbox", "--db", db) if i["external_id"] == "2"]  # type: ignore[union-attr]
    out = ok_json(
        "listen", "correct", "negative", "--post", str(item["post_id"]), "--by", "eve", "--db", db
    )
    assert out == {"label": "negative", "relabelled": 1}
    [item] = [i for i in ok_json("inbox", "--db", db) if i["external_id"] == "2"]  # type: ignore[union-attr]
    assert (item["label"], item["negativity"]) == ("negative", 1.0)
    # The id the inbox lists (an item's, not its post's) works with --item.
    out = ok_json("listen", "correct", "positive", "--item", str(item["id"]), "--db", db)
    assert out == {"label": "positive", "relabelled": 1}
    [item] = [i for i in ok_json("inbox", "--db", db) if i["external_id"] == "2"]  # type: ignore[union-attr]
    assert (item["label"], item["negativity"]) == ("positive", 0.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("listen", "add-rule", "bad", '"unclosed'), "position"),
        (("listen", "add-feed", "ftp://example.com/feed"), "http(s) URL"),
        (("listen", "add-mastodon", "https://m.example", "--timeline", "search:x"), "token"),
        (("listen", "import", "missing.jsonl", "--format", "jsonl"), "missing.jsonl"),
        (("inbox", "approve", "7"), "no inbox item 7"),
        (("listen", "correct", "negative", "--item", "7"), "no inbox item 7"),
        (("listen", "correct", "negative"), "exactly one"),
    ],
)
def test_errors_are_one_clear_line(db: str, args: tuple[str, ...], message: str) -> None:
    assert invoke("migrate", "--db", db)[0] == 0
    code, out = invoke(*args, "--db", db)
    assert code == 1
    assert "error:" in out
    assert message in " ".join(out.split())
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("inbox", "--status", "open"), "'new', 'assigned', 'drafted', 'approved', 'sent'"),
        (("listen", "import", "x.jsonl", "--format", "xml"), "'jsonl', 'csv', 'twitter-archive'"),
        (("listen", "correct", "angry", "--text", "x"), "'negative', 'neutral', 'positive'"),
    ],
)
def test_a_value_outside_the_choices_is_refused_with_them(
    db: str, args: tuple[str, ...], choices: str
) -> None:
    code, out = invoke(*args, "--db", db)
    assert code == 2
    assert choices in " ".join(out.replace("│", " ").split())


def test_the_inbox_refuses_a_store_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "tpyo.db"
    code, out = invoke("inbox", "--db", f"sqlite:///{typo}")
    assert code == 1
    assert f"no store at {typo} (the file does not exist)" in " ".join(out.split())
    assert not typo.exists()


def test_mastodon_mentions_without_a_token_says_how_to_give_one(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ("listen", "add-mastodon", "https://m.example", "--timeline", "mentions")
    code, out = invoke(*base, "--db", db)
    assert code == 1
    assert "'mentions' timeline needs an access token" in " ".join(out.split())
    assert "--token-env NAME" in out
    monkeypatch.delenv("GV_UNSET_TOKEN", raising=False)
    code, out = invoke(*base, "--token-env", "GV_UNSET_TOKEN", "--db", db)
    assert code == 1
    assert "the environment variable GV_UNSET_TOKEN is not set" in " ".join(out.split())


def test_a_bad_line_is_named(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "1", "author": "a", "text": "x"}\n{"id": "2", "author": "b", "likes": -1}\n'
    )
    code, out = invoke("listen", "import", bad, "--format", "jsonl", "--db", db)
    assert code == 1
    # the console may wrap the message at a space or inside the long temporary path
    assert "bad.jsonl," in out.replace("\n", "")
    assert "line 2, field 'likes'" in " ".join(out.split())


def test_sources_and_a_run_against_the_replay_server(db: str) -> None:
    env = {"GV_CLI_TOKEN": VALID_TOKEN}
    with ReplayServer() as srv:
        feed = ok_json(
            "listen", "add-feed", f"{srv.url}/feeds/rss2.xml", "--name", "blog", "--db", db
        )
        assert feed["kind"] == "rss"  # type: ignore[index]
        ok_json("listen", "add-feed", f"{srv.url}/feeds/malformed.xml", "--db", db)
        masto = ok_json(
            "listen",
            "add-mastodon",
            srv.url,
            "--timeline",
            "hashtag:brewly",
            "--token-env",
            "GV_CLI_TOKEN",
            "--db",
            db,
        )
        assert masto["config"]["token_env"] == "GV_CLI_TOKEN"  # type: ignore[index]
        assert VALID_TOKEN not in json.dumps(masto)  # the token itself is never stored
        code, out = invoke(
            "listen", "add-feed", f"{srv.url}/feeds/rss2.xml", "--name", "blog", "--db", db
        )
        assert code == 1
        assert "not yet registered" in " ".join(out.split())
        ok_json("listen", "add-rule", "brewly", "brewly", "--db", db)
        code, out = invoke("listen", "run", "--once", "--json", "--db", db, env=env)
    assert code == 2, out  # one source failed
    runs = {r["name"]: r for r in json.loads(out)}
    assert runs["blog"]["status"] == "ok"
    assert runs["blog"]["fetched"] > 0
    failed = next(r for r in runs.values() if r["status"] == "failing")
    assert "malformed" in failed["error"]
    masto_run = next(r for r in runs.values() if r["name"].startswith("mastodon:"))
    assert masto_run["status"] == "ok"
    assert masto_run["matched"] > 0
    status = ok_json("listen", "status", "--db", db)
    rows = {s["name"]: s for s in status["sources"]}  # type: ignore[index]
    assert rows["blog"]["cursor"]
    assert rows["blog"]["failures"] == 0
    bad = next(s for s in rows.values() if s["status"] == "failing")
    assert bad["failures"] == 1
    assert bad["cursor"] is None
    assert "malformed" in bad["last_error"]
