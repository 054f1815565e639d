"""Alembic environment: runs on the connection Grapevine hands it (or the settings' URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from grapevine.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from grapevine.config import get_settings

        url = get_settings().database_url
    engine = create_engine(url)
    with engine.connect() as conn:
        _run_on(conn)
    engine.dispose()


if context.is_offline_mode():  # pragma: no cover
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
