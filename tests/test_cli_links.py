"""``grapevine tenant landing`` and ``grapevine campaign misses`` (Typer's runner, in-process),
against misses recorded by a real server."""

from __future__ import annotations

import json

import httpx
from typer.testing import CliRunner

from grapevine.cli.main import app
from grapevine.config import Settings
from grapevine.service import create_app
from support import serve
from test_edges import TENANT_LANDING, _world

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_landing_page_and_misses_from_the_command_line(store_url: str) -> None:
    made = _world(store_url, landing=False)
    db = ("--db", store_url, "--tenant", "acme")
    assert cli("tenant", "landing", *db) == (0, "tenant acme has no landing page\n", "")
    code, _, err = cli("tenant", "landing", "ftp://shop.example/", *db)
    assert code == 1
    assert "absolute http(s) URL" in err
    code, out, _ = cli("tenant", "landing", TENANT_LANDING, *db)
    assert code == 0
    assert TENANT_LANDING in out
    assert cli("tenant", "landing", *db)[1] == TENANT_LANDING + "\n"
    settings = Settings.model_validate({"database_url": store_url, "ip_salt": "s"})
    with serve(create_app(settings)) as base, httpx.Client(base_url=base) as client:
        for path in ("/r/DSABX234", "/r/DSABX234", "/r/ENDED234", "/r/ZZZZ2222"):
            client.get(path, follow_redirects=False)
    # The server has stopped: its counts were written as it shut down.
    code, out, _ = cli("campaign", "misses", *db, "--json")
    assert code == 0
    found = json.loads(out)
    assert found["totals"] == {"unknown": 0, "disabled": 2, "ended": 1}
    assert found["by_campaign"] == {
        str(made["plain"]["id"]): {"disabled": 2},
        str(made["over"]["id"]): {"ended": 1},
    }
    code, out, _ = cli("campaign", "misses", "--db", store_url, "--tenant", "acme")
    assert code == 0
    assert "Link misses" in out
    code, out, _ = cli("campaign", "misses", "--db", store_url, "--json")  # tenant default
    assert json.loads(out)["totals"]["unknown"] == 1
    code, _, _ = cli("tenant", "landing", "--clear", *db)
    assert code == 0
    assert cli("tenant", "landing", *db)[1] == "tenant acme has no landing page\n"
