"""The command line's error boundary, run as newcomers get things wrong.

Every command of the typer app is found by walking it (a new command is covered without
touching this file) and run with a missing file, a folder, an empty file, a Latin-1 file and
a wrong option: none may end in a traceback, and a missing file or a folder is named in a
one-line message. Read-only commands refuse a store that does not exist.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from grapevine.cli._options import (
    CascadeFormat,
    DiffusionModel,
    InboxStatus,
    SentimentLabel,
    SentimentLanguage,
    TieKind,
)
from grapevine.cli.main import app
from grapevine.errors import StoreError, StoreNotFound
from grapevine.store import Store, database_url, import_file, require_store

runner = CliRunner()

# `serve` runs until stopped and `demo` reads no file of the user's: both have their own tests.
NOT_RUN = {"serve", "demo"}
# The commands that may create the store they are given; every other one only reads it.
CREATES = {
    "migrate",
    "import higgs",
    "import edges",
    "import cascades",
    "import netdiffuser",
    "import persons",
    "import ties",
    "import posts",
    "listen add-feed",
    "listen add-mastodon",
    "listen add-hackernews",
    "listen add-bluesky",
    "listen add-reddit",
    "listen add-x",
    "listen add-rule",
    "listen import",
    "campaign create",
    "tenant create",
    "apikey create",
}
EXTRA = {"listen run": ["--once"]}  # without it, it listens until stopped


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            if getattr(cmd, "invoke_without_command", False):
                yield " ".join(path), cmd
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), cmd

    yield from walk(typer.main.get_command(app), [])


COMMANDS = dict(_commands())
RUN = sorted(name for name in COMMANDS if name not in NOT_RUN)


def _bare(annotation: Any) -> Any:
    """``X`` of ``X | None`` and of ``list[X]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _bare(inner)
    if origin is list:
        return _bare(typing.get_args(annotation)[0])
    return annotation


def _kind(param: Any) -> Any:
    return _bare(param.type_descriptor.annotation)


def _choices(param: Any) -> tuple[str, ...] | None:
    t = _kind(param)
    if typing.get_origin(t) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(t))
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return tuple(str(m.value) for m in t)
    return None


def _filler(param: Any) -> str:
    choices = _choices(param)
    if choices:
        return choices[0]
    return {int: "1", float: "1"}.get(_kind(param), "x")


def _args(name: str, *, path: Path | None, db: str | None, only: str | None = None) -> list[str]:
    """An invocation of ``name``: required paths and the path parameter ``only`` are
    ``path``; other required parameters get a plain value; ``--db`` is ``db``."""
    cmd = COMMANDS[name]
    args: list[str] = name.split()
    for param in cmd.params:
        is_path = _kind(param) is Path
        wanted = is_path and path is not None and (param.required or param.name == only)
        if param.param_type_name == "argument":
            if wanted:
                args.append(str(path))
            elif param.required:
                args.append(_filler(param))
        elif param.name == "db" and db is not None and not is_path:
            args += ["--db", db]
        elif wanted:
            args += [param.opts[0], str(path)]
        elif param.required:
            args += [param.opts[0], _filler(param)]
    return args + EXTRA.get(name, [])


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), (
        f"grapevine {' '.join(args)} ended in a traceback: {exc!r}\n{result.output}"
    )
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        assert result.output.strip(), f"grapevine {' '.join(args)} failed without a word"
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture(scope="module")
def store_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store with a few ties, so that the options working on them are reached."""
    root = tmp_path_factory.mktemp("store")
    (root / "ties.txt").write_text("1 2\n2 3\n3 1\n")
    with Store(f"sqlite:///{root / 'store.db'}") as store:
        import_file(store, "edges", root / "ties.txt")
    return root / "store.db"


@pytest.fixture
def files(tmp_path: Path, store_db: Path) -> dict[str, Path]:
    """The mistakes, fresh for each test (an output option may overwrite one)."""
    (tmp_path / "a folder").mkdir()
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "latin1.csv").write_bytes(
        b"timestamp,value,text\n2026-01-01 00:00:00,3,caf\xe9 cr\xe8me\n"
    )
    return {
        "missing": tmp_path / "no such file.csv",
        "folder": tmp_path / "a folder",
        "empty": tmp_path / "empty.csv",
        "latin1": tmp_path / "latin1.csv",
        "db": store_db,
    }


def _path_params(name: str) -> list[Any]:
    return [p for p in COMMANDS[name].params if _kind(p) is Path and p.name != "db"]


PATH_PARAMS = [(name, p.name) for name in RUN for p in _path_params(name)]


def test_the_walk_finds_every_command() -> None:
    assert {"info", "alerts", "sentiment", "import edges", "inbox", "inbox send"} <= set(COMMANDS)
    assert len(RUN) >= 40
    assert len(PATH_PARAMS) >= 20
    stale = (CREATES | NOT_RUN | set(EXTRA)) - set(COMMANDS)
    assert not stale, f"no such commands any more: {stale}"


@pytest.mark.parametrize("case", ["missing", "folder"])
@pytest.mark.parametrize(("name", "param"), PATH_PARAMS)
def test_a_missing_file_or_a_folder_is_named_in_one_line(
    name: str, param: str, case: str, files: dict[str, Path]
) -> None:
    bad = files[case]
    code, out = _run(_args(name, path=bad, db=str(files["db"]), only=param))
    (info,) = [p for p in COMMANDS[name].params if p.name == param]
    if info.param_type_name == "argument":  # every path argument of this CLI is read
        assert code == 1, out
        assert out.startswith(f"error: {bad}"), out
    elif code != 0:
        # The file named, or the option refused for another reason (--plot needs --budget).
        assert out.startswith("error:") or "Invalid value" in out, out


@pytest.mark.parametrize("case", ["empty", "latin1"])
@pytest.mark.parametrize(("name", "param"), PATH_PARAMS)
def test_an_empty_or_latin1_file_never_gives_a_traceback(
    name: str, param: str, case: str, files: dict[str, Path]
) -> None:
    bad = files[case]
    code, out = _run(_args(name, path=bad, db=str(files["db"]), only=param))
    if code == 1 and "UTF-8" in out:
        assert str(bad) in out, out


@pytest.mark.parametrize("name", RUN)
def test_a_wrong_option_is_refused_with_the_choices(name: str, files: dict[str, Path]) -> None:
    base = _args(name, path=files["empty"], db=str(files["db"]))
    code, out = _run([*base, "--no-such-option"])
    assert code == 2
    assert "No such option" in out
    for param in COMMANDS[name].params:
        choices = _choices(param)
        if param.param_type_name != "option":
            continue
        if choices:
            code, out = _run([*base, param.opts[0], "nonsense"])
            assert code == 2, out
            assert "'nonsense' is not one of" in out
            assert all(f"'{c}'" in out for c in choices), out
        elif _kind(param) in (int, float):
            code, out = _run([*base, param.opts[0], "lots"])
            assert code == 2, out
            assert f"Invalid value for '{param.opts[0]}'" in out


@pytest.mark.parametrize(
    "name", sorted(n for n in RUN if "db" in {p.name for p in COMMANDS[n].params})
)
def test_read_only_commands_refuse_a_store_that_does_not_exist(
    name: str, tmp_path: Path, files: dict[str, Path]
) -> None:
    absent = tmp_path / "tpyo.db"
    # Only required paths: commands that read a file *or* the store are asked for the store.
    code, out = _run(_args(name, path=files["empty"], db=str(absent)))
    if name in CREATES:
        assert "no store at" not in out
        return
    assert code != 0, out
    assert not absent.exists()
    if "no store at" in out:  # else refused before the store was opened (a missing setting)
        assert f"no store at {absent} (the file does not exist)" in out
        assert f"grapevine migrate --db {absent}" in out


def test_the_choices_are_the_library_s_own() -> None:
    from grapevine._vocabulary import TIE_KINDS
    from grapevine.connectors.cascades import CASCADE_FORMATS
    from grapevine.store.listening_models import INBOX_STATUSES
    from grapevine.text import LABELS, SentimentModel

    assert typing.get_args(TieKind) == TIE_KINDS
    assert typing.get_args(CascadeFormat) == ("auto", *CASCADE_FORMATS)
    assert typing.get_args(DiffusionModel) == ("ic", "lt")
    assert typing.get_args(SentimentLabel) == LABELS
    assert tuple(s.value for s in InboxStatus) == INBOX_STATUSES
    for mode in ("fast", "accurate"):
        languages = SentimentModel.load(mode=mode).supported_languages
        assert typing.get_args(SentimentLanguage) == languages


# ---------------------------------------------------------------------------- as people run it
EXE = shutil.which("grapevine", path=str(Path(sys.executable).parent)) or "grapevine"


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("GRAPEVINE_DATABASE_URL", None)
    return subprocess.run(
        [EXE, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_the_installed_script_says_one_line_per_mistake(tmp_path: Path) -> None:
    (tmp_path / "series").mkdir()
    expected = {
        ("alerts", "series"): "error: series: is a folder; give a file",
        ("info", "--db", f"sqlite:///{tmp_path}/tpyo.db"): f"error: no store at {tmp_path}/tpyo.db",
        # psycopg's message spans two lines: the boundary folds it into one
        ("info", "--db", "postgresql://127.0.0.1:1/x"): "error: cannot open postgresql",
    }
    for args, message in expected.items():
        out = _script(*args, cwd=tmp_path)
        assert out.returncode == 1, out.stderr
        assert out.stdout == ""
        (line,) = out.stderr.splitlines()  # one line, however long, and no traceback
        assert line.startswith(message), line
    assert not (tmp_path / "tpyo.db").exists()


# ---------------------------------------------------------------------------- each surprise
def test_alerts_names_a_missing_a_folder_and_a_latin1_file(tmp_path: Path) -> None:
    (tmp_path / "series").mkdir()
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"timestamp,value\n2026-01-01 00:00:00,caf\xe9\n")
    for path, message in (
        (tmp_path / "nofile.csv", "no such file or folder; check the path"),
        (tmp_path / "series", "is a folder; give a file"),
        (latin1, "not valid UTF-8 text; save it as UTF-8"),
    ):
        code, out = _run(["alerts", str(path)])
        assert code == 1
        assert out == f"error: {path}: {message}"


def test_cascades_plot_into_a_file_is_refused(tmp_path: Path, store_db: Path) -> None:
    existing = tmp_path / "plots.png"
    existing.write_bytes(b"not a folder")
    code, out = _run(["cascades", "--db", str(store_db), "--plot", str(existing)])
    assert code == 1
    assert out.startswith(f"error: {existing}: --plot takes a folder to write the plots into")
    assert existing.read_bytes() == b"not a folder"


def test_db_takes_a_plain_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "edges.txt").write_text("1 2\n2 3\n")
    code, out = _run(["import", "edges", "edges.txt", "--db", "shop.db"])
    assert code == 0, out
    assert (tmp_path / "shop.db").is_file()
    code, out = _run(["info", "--json", "--db", str(tmp_path / "shop.db")])
    assert code == 0, out
    assert '"kind": "follows", "count": 2' in out


def test_info_in_a_fresh_folder_says_how_to_create_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRAPEVINE_DATABASE_URL", raising=False)
    from grapevine.config import get_settings

    get_settings.cache_clear()
    try:
        code, out = _run(["info"])
    finally:
        get_settings.cache_clear()
    assert code == 1
    assert out == (
        "error: no store at grapevine.db (the file does not exist): check the path, or create "
        "one there with `grapevine migrate --db grapevine.db` (an import creates it too)"
    )
    assert not (tmp_path / "grapevine.db").exists()
    assert _run(["migrate"])[0] == 0
    assert _run(["info"])[0] == 0


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("shop.db", "sqlite:///shop.db"),
        ("/data/gv.db", "sqlite:////data/gv.db"),
        ("sqlite:///shop.db", "sqlite:///shop.db"),
        ("postgresql://gv@db/gv", "postgresql://gv@db/gv"),
    ],
)
def test_database_url_reads_a_path_as_a_sqlite_file(value: str, url: str) -> None:
    assert database_url(value) == url


def test_a_bad_url_says_what_is_accepted() -> None:
    with pytest.raises(StoreError, match=r"give a SQLite file path \(shop.db\), sqlite:///"):
        Store("postgresql://gv@db:port/gv")


def test_require_store_creates_nothing(store_url: str, tmp_path: Path) -> None:
    """A store to read must exist: on SQLite the file, on PostgreSQL the schema."""
    with pytest.raises(StoreNotFound, match="no store at") as info:
        Store(store_url, create=False)
    if store_url.startswith("sqlite"):
        assert info.value.where == f"{tmp_path}/t.db"
        assert not (tmp_path / "t.db").exists()
    else:
        assert "holds no Grapevine schema" in str(info.value)
    Store(store_url).close()  # created
    require_store(store_url)
    Store(store_url, create=False).close()
