"""The HTTP service on a real uvicorn server over a real socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from grapevine.config import Settings
from grapevine.service import create_app
from support import api_key, auth


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'svc.db'}"


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    settings = Settings(database_url=db_url)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


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
