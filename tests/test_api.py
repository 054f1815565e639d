"""The public surface: exactly __all__, and a light ``import grapevine``."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import grapevine


def test_public_namespace_is_exactly_all() -> None:
    public = {
        name
        for name in dir(grapevine)
        if not name.startswith("_") and not isinstance(getattr(grapevine, name), types.ModuleType)
    }
    assert public == set(grapevine.__all__)
    assert len(grapevine.__all__) == len(set(grapevine.__all__))


def test_graph_loads_on_first_access_and_is_the_graph_class() -> None:
    code = (
        "import sys, grapevine\n"
        "before = 'pandas' in sys.modules\n"
        "from grapevine.graph import Graph\n"
        "print(before, grapevine.Graph is Graph, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Graf'"):
        grapevine.Graf  # noqa: B018


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
