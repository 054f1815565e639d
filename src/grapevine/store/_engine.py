"""Opening a store: the engine, its pragmas, and the schema migrations."""

from __future__ import annotations

import os
import re
from os import PathLike
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from grapevine.errors import SchemaOutOfDate, StoreError, StoreNotFound

__all__ = [
    "HEAD_REVISION",
    "current_revision",
    "database_url",
    "make_engine",
    "migrate",
    "require_store",
]

HEAD_REVISION = "0017"
_MIGRATIONS = Path(__file__).parent / "migrations"


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def database_url(value: str | PathLike[str]) -> str:
    """A database URL for ``value``: a URL as it is, a file path as the SQLite URL of that file.

    Anything without ``scheme://`` in front is a path (``~`` is expanded).

    Examples
    --------
    >>> database_url("shop.db")
    'sqlite:///shop.db'
    >>> database_url("/data/gv.db")
    'sqlite:////data/gv.db'
    >>> database_url("postgresql://gv@db.internal/gv")
    'postgresql://gv@db.internal/gv'
    """
    text_value = os.fspath(value)
    if _SCHEME.match(text_value) or not text_value.strip():
        return text_value
    return "sqlite:///" + os.path.expanduser(text_value)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise StoreError(
            f"not a database URL: {url!r}; give a SQLite file path (shop.db), "
            "sqlite:///shop.db or postgresql://user@host/database"
        ) from exc


def require_store(url: str | PathLike[str]) -> None:
    """Raise :class:`StoreNotFound` unless a Grapevine store is at ``url``; create nothing.

    A SQLite store must be an existing file (an in-memory database passes); a PostgreSQL
    database must be reachable and hold Grapevine's schema (its ``alembic_version`` table).
    Commands that only read call this first, so a mistyped path is reported instead of
    silently becoming a new, empty store.
    """
    parsed = _parse(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path in (None, "", ":memory:"):
            return
        assert path is not None
        if Path(path).is_dir():
            raise StoreNotFound(path, "a folder, not a SQLite file")
        if not Path(path).is_file():
            raise StoreNotFound(path, "the file does not exist")
        return
    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            found = inspect(conn).has_table("alembic_version")
    except OperationalError as exc:
        raise StoreError(f"cannot open {engine.url!r}: {exc.orig}") from exc
    finally:
        engine.dispose()
    if not found:
        raise StoreNotFound(
            parsed.render_as_string(hide_password=True), "the database holds no Grapevine schema"
        )


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite gets WAL, foreign keys and a busy timeout.

    A ``postgresql://`` URL is read as ``postgresql+psycopg://`` (psycopg 3); a plain file
    path is a SQLite file (see :func:`database_url`).
    """
    parsed = _parse(database_url(url))
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _stored_revision(engine: Engine) -> str | None:
    """The revision in ``alembic_version`` read with plain SQL (None: no such table)."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        raise StoreError(f"cannot open {engine.url!r}: {exc.orig}") from exc


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (Alembic ``upgrade``).

    A store already at :data:`HEAD_REVISION` is left alone without loading Alembic
    (which costs about 0.2 s of imports, on every command that opens the store).
    """
    if revision == "head" and _stored_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    cfg = _alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise StoreError(f"cannot migrate {engine.url!r}: {exc.orig}") from exc


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema down to ``revision`` (Alembic ``downgrade``)."""
    from alembic import command

    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open {engine.url!r}: {exc.orig}") from exc


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at the head revision."""
    rev = current_revision(engine)
    if rev != HEAD_REVISION:
        raise SchemaOutOfDate(
            f"the store at {engine.url!r} is at schema {rev or 'none'}, this Grapevine needs "
            f"{HEAD_REVISION}: run `grapevine migrate` (or open it with migrate=True)"
        )
