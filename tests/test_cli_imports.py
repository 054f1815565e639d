"""The command line starts light: parsing loads no web framework, database layer or kernels."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import grapevine.cli

CLI_DIR = Path(grapevine.cli.__file__).parent
HEAVY = ("fastapi", "starlette", "uvicorn", "numba", "sqlalchemy", "alembic", "pandas", "numpy")

# Runs the CLI in a fresh interpreter and prints, at exit, which heavy packages it loaded.
PROBE = """
import atexit, json, sys
heavy = set(json.loads(sys.argv[1]))
atexit.register(lambda: print("LOADED", json.dumps(sorted(
    {m.split(".")[0] for m in sys.modules} & heavy
    | {m for m in sys.modules if m.startswith(("grapevine.service", "grapevine.store"))}
))))
sys.argv = ["grapevine", *sys.argv[2:]]
from grapevine.cli.main import main
main()
"""


def loaded_by(*args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("LOADED "))
    return list(json.loads(line.removeprefix("LOADED ")))


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = (
        "import json, sys, grapevine.cli.main\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize(
    "args", [["--version"], ["--help"], ["import", "--help"], ["campaign", "--help"]]
)
def test_parsing_only_commands_load_nothing_heavy(args: list[str]) -> None:
    assert loaded_by(*args) == []


def test_campaign_list_opens_the_store_without_the_web_service(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    subprocess.run([sys.executable, "-m", "grapevine.cli.main", "migrate", "--db", db], check=True)
    loaded = loaded_by("campaign", "list", "--db", db)
    assert "grapevine.store" in loaded  # it did read the store
    assert not {"fastapi", "starlette", "uvicorn", "numba", "pandas", "alembic"} & set(loaded)
    assert not [m for m in loaded if m.startswith("grapevine.service")]


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Modules imported at module level, outside ``if TYPE_CHECKING:`` blocks."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            names.extend(_module_level_imports(ast.Module(body=node.body, type_ignores=[])))
    return names


WEB = ("fastapi", "starlette", "uvicorn", "grapevine.service")


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_cli_module_imports_the_web_service_at_module_level(path: Path) -> None:
    # The command modules main.py imports lazily may load numpy or pandas at their top;
    # none may load the web service: the commands that need its code import it inside.
    imported = _module_level_imports(ast.parse(path.read_text(encoding="utf-8")))
    offending = [name for name in imported if name == WEB or name.startswith(WEB)]
    assert offending == [], f"{path.name} imports {offending} at module level"


def _every_import(tree: ast.Module) -> list[str]:
    """Every module imported anywhere in the file (inside functions too)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_only_serve_reaches_the_web_service(path: Path) -> None:
    # Every command but `serve` calls the workflows of grapevine.referrals; only main.py
    # (where `serve` lives) may import the service, and only grapevine.service itself.
    imported = _every_import(ast.parse(path.read_text(encoding="utf-8")))
    web = [name for name in imported if name == WEB or name.startswith(WEB)]
    allowed = {"grapevine.service", "uvicorn"} if path.name == "main.py" else set()
    assert set(web) <= allowed, f"{path.name} imports {sorted(set(web) - allowed)}"
