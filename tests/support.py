"""Small helpers shared by the test modules (imported by name; see conftest.py)."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def write_bytes(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def head_lines(source: Path, target: Path, n: int) -> Path:
    """The first ``n`` lines of a (possibly gzipped) text file, written uncompressed."""
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as fh, target.open("wb") as out:  # type: ignore[operator]
        for i, line in enumerate(fh):
            if i >= n:
                break
            out.write(line)
    return target


def table_counts(engine: sa.Engine, tables: Iterable[str] = ("persons", "ties", "posts")) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def import_runs(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source, format, status, rows_read, rows_new, message, sha256, "
                "finished_at FROM import_runs ORDER BY id"
            )
        ).mappings()
        return [dict(r) for r in rows]


def outcome(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` and return the exception it raised (None if none), with its traceback dropped.

    For asserting on code that should raise BadInput but may raise anything: the assertion
    message names what came instead (see :func:`describe`), and dropping the traceback keeps
    whatever the failed code had open (a leaked gzip file) from outliving the test.
    """
    caught: BaseException | None = None
    try:
        fn()
    except Exception as exc:
        caught = exc
        chain: BaseException | None = exc
        while chain is not None:
            chain.__traceback__ = None
            chain = chain.__cause__ or chain.__context__
    return caught


def describe(exc: BaseException | None) -> str:
    return "no exception" if exc is None else f"{type(exc).__name__}: {str(exc)[:300]}"


@contextmanager
def _tenant_session(store_or_url: object, tenant: str) -> Iterator[tuple[Any, int]]:
    """A session on ``store_or_url`` and the id of ``tenant`` (created when new); commits
    when the block ends without an error.

    ``store_or_url`` is a :class:`grapevine.store.Store` or a database URL (migrated when
    opened here, and closed again at the end).
    """
    from sqlalchemy.orm import Session

    from grapevine.store import Store, tenants_repo

    owned = not isinstance(store_or_url, Store)
    store = Store(str(store_or_url)) if owned else store_or_url
    assert isinstance(store, Store)
    try:
        with Session(store.engine) as session:
            row = tenants_repo.get_or_create_tenant(session, slug=tenant)
            yield session, row.id
            session.commit()
    finally:
        if owned:
            store.close()


def api_key(store_or_url: object, tenant: str = "acme", role: str = "admin") -> str:
    """A fresh API key (the whole ``gv_...`` token) of ``tenant`` with ``role``.

    Made directly through the repository: the tenant is created when new. ``store_or_url``
    is a :class:`grapevine.store.Store` or a database URL (migrated when opened here).
    Send it as ``Authorization: Bearer <key>`` (or ``X-API-Key``).
    """
    from grapevine.store import tenants_repo

    with _tenant_session(store_or_url, tenant) as (session, tenant_id):
        _, token = tenants_repo.create_key(session, tenant_id=tenant_id, role=role)
    return token


def auth(key: str) -> dict[str, str]:
    """The request headers that present ``key``."""
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    app: Any, *, startup_timeout: float = 30.0, port: int | None = None, **options: Any
) -> Iterator[str]:
    """Serve ``app`` (ASGI) with a real uvicorn server on a loopback port, in a thread.

    ``port`` is a free one when omitted (pass one to name it in the app's settings first,
    e.g. as ``public_url``); ``options`` go to ``uvicorn.Config`` (such as
    ``grapevine.service.server_options(settings)``, what ``grapevine serve`` passes).
    Yields the base URL; on exit the server stops gracefully (the app's lifespan shutdown
    runs, so a click writer drains).
    """
    import threading
    import time

    import uvicorn

    port = free_port() if port is None else port
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **options)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server stopped while starting"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def module_store_url(request: Any, tmp_path_factory: Any, name: str) -> Iterator[str]:
    """A URL to an empty database of the backend ``request.param`` for a module-scoped
    fixture (``params=BACKENDS``), where the function-scoped ``store_url`` cannot serve.

    ``"sqlite"``: a file in a fresh temporary folder named ``name``. ``"postgres"``: a fresh
    schema, dropped with everything in it when the block ends.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(name)}/{name}.db"
        return
    from conftest import postgres_schema

    with postgres_schema(request.getfixturevalue("postgres_admin")) as url:
        yield url


SECRETS_KEY = "test-secrets-key-0123456789abcdefghijklmnop"
"""A ``GRAPEVINE_SECRETS_KEY`` for test servers (it seals the tenants' webhook secrets)."""


def tenant_webhook_secret(
    store_or_url: object,
    secret: str,
    *,
    tenant: str = "acme",
    kind: str = "grapevine",
    overlap: float = 0.0,
) -> str:
    """Make ``secret`` the current ``kind`` webhook secret of ``tenant`` (created when new),
    sealed under :data:`SECRETS_KEY`, through the repository; returns the secret."""
    from grapevine.store import webhook_secrets_repo as secrets_repo

    with _tenant_session(store_or_url, tenant) as (session, tenant_id):
        secrets_repo.rotate_secret(
            session,
            tenant_id=tenant_id,
            kind=kind,
            box=secrets_repo.SecretBox(SECRETS_KEY),
            secret=secret,
            overlap=overlap,
        )
    return secret
