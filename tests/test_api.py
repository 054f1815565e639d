"""The public surface: exactly __all__, and a light ``import grapevine``."""

from __future__ import annotations

import subprocess
import sys
import types

import grapevine


def test_public_namespace_is_exactly_all() -> None:
    public = {
        name
        for name, value in vars(grapevine).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(grapevine.__all__)
    assert len(grapevine.__all__) == len(set(grapevine.__all__))


def test_import_grapevine_loads_no_server_database_or_compiled_kernels() -> None:
    code = (
        "import sys, grapevine\n"
        "heavy = [m for m in ('fastapi', 'sqlalchemy', 'alembic', 'uvicorn', 'numba', 'typer',"
        " 'networkx') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_subpackage_has_an_all_that_resolves() -> None:
    import importlib

    for name in (
        "graph",
        "connectors",
        "store",
        "cascades",
        "forecast",
        "roles",
        "text",
        "service",
    ):
        module = importlib.import_module(f"grapevine.{name}")
        for symbol in module.__all__:
            assert hasattr(module, symbol), f"grapevine.{name}.{symbol}"
