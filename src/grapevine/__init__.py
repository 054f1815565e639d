"""Grapevine: open-source word-of-mouth marketing analytics.

Listen to what is said, find the people whose word travels, run referral
campaigns, and measure, forecast and plan how a message spreads.

The top-level namespace is light: importing ``grapevine`` loads the error tree
only; ``Graph`` and ``read_edgelist`` (numpy, pandas) load on first access, and the
database layer, the web service and compiled kernels when first used
(``grapevine.store``, ``grapevine.service``).
"""

import typing as _typing

from grapevine.errors import (
    BadInput,
    GrapevineError,
    InvalidParameter,
    InvalidSignature,
    MissingDependency,
    NotConverged,
    SchemaOutOfDate,
    StoreError,
    UnknownPerson,
)

if _typing.TYPE_CHECKING:
    from grapevine.graph import Graph, read_edgelist

__version__ = "0.1.0"

# Loaded on first use, so that `import grapevine` (and `grapevine --version`) stays cheap:
# the graph brings numpy and pandas (about 0.3 s on a 2-core machine).
_LAZY = {"Graph": "grapevine.graph", "read_edgelist": "grapevine.graph"}

__all__ = [
    "BadInput",
    "GrapevineError",
    "Graph",
    "InvalidParameter",
    "InvalidSignature",
    "MissingDependency",
    "NotConverged",
    "SchemaOutOfDate",
    "StoreError",
    "UnknownPerson",
    "read_edgelist",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grapevine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
