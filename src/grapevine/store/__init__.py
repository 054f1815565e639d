"""The store: SQLAlchemy 2 models, Alembic migrations, bulk writes and table exports.

SQLite (a file in the working directory) is the embedded default;
PostgreSQL through ``GRAPEVINE_DATABASE_URL=postgresql://...`` (psycopg 3).
"""

from typing import TYPE_CHECKING

from grapevine.store._engine import (
    HEAD_REVISION,
    check_schema,
    current_revision,
    database_url,
    downgrade,
    make_engine,
    migrate,
    require_store,
)
from grapevine.store._store import ImportReport, Store

if TYPE_CHECKING:
    from grapevine.store._import import FORMATS, import_file
    from grapevine.store._write import WriteResult, write_batch

# The importers and the bulk writer bring pandas: they load on first use, so that opening
# the store (``grapevine campaign list``, ``grapevine info``) does not pay for them.
_LAZY = {
    "FORMATS": "grapevine.store._import",
    "import_file": "grapevine.store._import",
    "WriteResult": "grapevine.store._write",
    "write_batch": "grapevine.store._write",
}

__all__ = [
    "FORMATS",
    "HEAD_REVISION",
    "ImportReport",
    "Store",
    "WriteResult",
    "check_schema",
    "current_revision",
    "database_url",
    "downgrade",
    "import_file",
    "make_engine",
    "migrate",
    "require_store",
    "write_batch",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grapevine.store' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
