"""The store: SQLAlchemy 2 models, Alembic migrations, bulk writes and table exports.

SQLite (a file in the working directory) is the embedded default;
PostgreSQL through ``GRAPEVINE_DATABASE_URL=postgresql://...`` (psycopg 3).
"""

from grapevine.store._engine import (
    HEAD_REVISION,
    check_schema,
    current_revision,
    downgrade,
    make_engine,
    migrate,
)
from grapevine.store._import import FORMATS, import_file
from grapevine.store._store import ImportReport, Store
from grapevine.store._write import WriteResult, write_batch

__all__ = [
    "FORMATS",
    "HEAD_REVISION",
    "ImportReport",
    "Store",
    "WriteResult",
    "check_schema",
    "current_revision",
    "downgrade",
    "import_file",
    "make_engine",
    "migrate",
    "write_batch",
]
