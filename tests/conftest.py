"""Shared fixtures: the real-data folder and stores on SQLite and PostgreSQL.

Real data
    ``data_dir`` is ``$GRAPEVINE_DATA_DIR`` or ``<project root>/../shared/data``.
    When it is missing, tests that use it are skipped with a visible reason,
    except in CI (``CI=true``) where they fail: the data is mandatory there.
    Every test that uses ``data_dir`` carries the ``shared_data`` marker (added
    here automatically when a test forgets it).

Stores
    ``store`` (and ``store_url``) run each test once on SQLite (a fresh file in
    ``tmp_path``) and once on PostgreSQL (a fresh schema ``gv_test_<random>``,
    dropped afterwards). PostgreSQL comes from ``$GRAPEVINE_TEST_POSTGRES_URL``
    (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); when it
    cannot be reached the PostgreSQL variants are skipped with one reason,
    unless ``GRAPEVINE_REQUIRE_POSTGRES=1`` or ``CI=true``, where they fail.
    The PostgreSQL variants carry the ``postgres`` marker.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from grapevine.store import Store

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# --import-mode=importlib does not put tests/ on sys.path; the helper modules here
# (naive.py) are imported by name.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Graph caches of read-only files (the shared data) go to a folder of this run, not to the
# user's ~/.cache/grapevine; subprocesses (the CLI tests) inherit it.
_CACHE_DIR = tempfile.mkdtemp(prefix="grapevine-test-cache-")
os.environ["GRAPEVINE_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)


# ---------------------------------------------------------------------------- environment
def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def in_ci() -> bool:
    """True on a CI runner (``CI=true``): real data and PostgreSQL are mandatory there."""
    return _truthy(os.environ.get("CI"))


def shared_data_path() -> Path:
    """Where the real datasets are expected (whether or not they are there)."""
    env = os.environ.get("GRAPEVINE_DATA_DIR")
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "data"


def skip_or_fail(reason: str, *, mandatory: bool, why_mandatory: str = "CI=true") -> None:
    """Skip with ``reason``, or fail with it where the resource is mandatory."""
    if mandatory:
        pytest.fail(f"{reason} -- but it is mandatory here ({why_mandatory})", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------- real data
@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data folder (``../shared/data``); skip (fail in CI) when absent."""
    path = shared_data_path()
    if not (path / "README.md").is_file():
        skip_or_fail(
            "../shared/data not found: real-data tests skipped "
            f"(looked in {path}; set GRAPEVINE_DATA_DIR to override)",
            mandatory=in_ci(),
        )
    return path


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that reads the real data is a shared_data test, marked or not, so that
    # `-m "not shared_data"` deselects it.
    for item in items:
        if "data_dir" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "shared_data"
        ):
            item.add_marker(pytest.mark.shared_data)


# ---------------------------------------------------------------------------- PostgreSQL
def postgres_url() -> str:
    return os.environ.get("GRAPEVINE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_mandatory() -> bool:
    return in_ci() or _truthy(os.environ.get("GRAPEVINE_REQUIRE_POSTGRES"))


@cache
def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    engine = sa.create_engine(
        postgres_url(), poolclass=NullPool, connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver or network error means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()
    return None


def _require_postgres() -> None:
    problem = _postgres_problem()
    if problem is not None:
        shown = make_url(postgres_url()).render_as_string(hide_password=True)
        skip_or_fail(
            f"PostgreSQL not reachable at {shown}: store tests on PostgreSQL skipped ({problem})",
            mandatory=_postgres_mandatory(),
            why_mandatory="CI=true or GRAPEVINE_REQUIRE_POSTGRES=1",
        )


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An engine on the test database for creating and dropping schemas."""
    _require_postgres()
    engine = sa.create_engine(postgres_url(), poolclass=NullPool)
    yield engine
    engine.dispose()


def _with_search_path(url: str, schema: str) -> str:
    parsed = make_url(url)
    query = dict(parsed.query)
    query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(admin: sa.Engine) -> Iterator[str]:
    """A URL whose connections work in a fresh schema, dropped when the block ends."""
    schema = f"gv_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(postgres_url(), schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def postgres_schema_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A URL whose connections work in a fresh schema, dropped after the test."""
    with postgres_schema(postgres_admin) as url:
        yield url


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: "sqlite" or "postgres"."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of ``backend`` (nothing created in it yet)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/t.db"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty :class:`Store` on each backend; its engine is disposed after."""
    s = Store(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty SQLite store (for tests that need only one backend)."""
    s = Store(f"sqlite:///{tmp_path}/t.db")
    try:
        yield s
    finally:
        s.close()
