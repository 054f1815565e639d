"""The HTTP service on a real uvicorn server over a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grapevine.config import Settings
from grapevine.service import create_app
from support import api_key, auth, serve


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'svc.db'}"


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    with serve(create_app(Settings(database_url=db_url))) as base:
        yield base


def test_health_and_summary(server: str, db_url: str) -> None:
    with httpx.Client(base_url=server) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert client.get("/api/summary").status_code == 401
        key = api_key(db_url)
        summary = client.get("/api/summary", headers=auth(key)).json()
        assert "url" not in summary  # the database URL may hold a password
        assert summary["persons"] == []
        assert summary["campaigns"] == 0
        openapi = client.get("/openapi.json").json()
        assert "/api/summary" in openapi["paths"]
