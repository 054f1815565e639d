"""``grapevine campaign init``: the commented example campaign file, and the round trip
init -> create (CLI, in-process with Typer's runner) -> the campaign's share page settings
in force on the short links (a real server)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from grapevine import referrals as rf
from grapevine.cli._campaign import read_campaign_file
from grapevine.cli._campaign_init import CAMPAIGN_TEMPLATE
from grapevine.cli.main import app
from grapevine.config import Settings
from grapevine.service import create_app
from support import api_key, auth, serve

runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_a_file_that_create_accepts_as_it_is(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "spring.toml"
    code, out, _ = cli("campaign", "init", str(path))
    assert code == 0, out
    assert "grapevine campaign create --file" in out
    text = path.read_text(encoding="utf-8")
    assert "grapevine campaign create --file spring.toml" in text
    code, out, err = cli("campaign", "create", "--file", str(path), "--db", store_url, "--json")
    assert code == 0, err
    created = json.loads(out)
    expected = tomllib.loads(text)
    assert created["name"] == expected["name"]
    assert created["destinations"] == expected["destinations"]
    assert created["offer"]["friend"] == expected["offer"]["friend"]
    page = rf.PageSettings.stored(created["page"])
    assert page == rf.PageSettings.from_dict(
        expected["page"], destinations=expected["destinations"]
    )
    assert page.utm.enabled
    assert page.color == "#2e7d32"


def test_every_field_of_the_template_is_commented() -> None:
    """Each setting says what it does: a comment on its line or just above it."""
    lines = CAMPAIGN_TEMPLATE.splitlines()
    for before, line in zip(["", *lines], lines, strict=False):
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line or before.lstrip().startswith("#"), line


def test_init_refuses_to_overwrite_and_other_suffixes(tmp_path: Path) -> None:
    path = tmp_path / "campaign.toml"
    path.write_text("mine", encoding="utf-8")
    code, _, err = cli("campaign", "init", str(path))
    assert code == 1
    assert "exists" in err
    assert path.read_text(encoding="utf-8") == "mine"
    assert cli("campaign", "init", str(path), "--force")[0] == 0
    assert path.read_text(encoding="utf-8").startswith("# A Grapevine referral campaign")
    code, _, err = cli("campaign", "init", str(tmp_path / "campaign.json"))
    assert code == 1
    assert "TOML" in err


def test_a_bad_page_setting_is_named_by_cli_and_api(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    cli("campaign", "init", str(path))
    path.write_text(
        path.read_text(encoding="utf-8").replace('color = "#2e7d32"', 'color = "green"'),
        encoding="utf-8",
    )
    code, _, err = cli("campaign", "create", "--file", str(path), "--db", store_url)
    assert code == 1
    assert "page.color" in err
    assert "#rgb or #rrggbb" in err
    key = api_key(store_url, "acme", "admin")
    settings = Settings.model_validate({"database_url": store_url, "ip_salt": "s"})
    document = read_campaign_file(path)
    with serve(create_app(settings)) as base, httpx.Client(base_url=base, headers=auth(key)) as c:
        r = c.post("/api/campaigns", json=document)
        assert r.status_code == 422
        assert "page.color" in r.text
        document["page"]["color"] = "#abc"
        r = c.post("/api/campaigns", json=document)
        assert r.status_code == 201, r.text
        assert r.json()["page"]["color"] == "#aabbcc"
        cid = r.json()["id"]
        # An edit replaces the page settings, checked like a creation.
        r = c.patch(f"/api/campaigns/{cid}", json={"page": {"logo_url": "https://evil.example/x"}})
        assert r.status_code == 422
        assert "page.logo_url" in r.text
        r = c.patch(f"/api/campaigns/{cid}", json={"page": {"language": "sv"}})
        assert r.status_code == 200, r.text
        assert r.json()["page"]["language"] == "sv"
        assert r.json()["page"]["utm"]["enabled"] is False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_init_help_is_listed(backend: str) -> None:
    code, out, _ = cli("campaign", "--help")
    assert code == 0
    assert "init" in out


def test_the_guide_shows_the_file_init_writes() -> None:
    """docs/referrals.md's example campaign file is the template, so the two cannot drift."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "referrals.md").read_text("utf-8")
    section = docs.split("## The campaign file", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert example == CAMPAIGN_TEMPLATE.format(filename="campaign.toml")
    assert tomllib.loads(example)["page"]["utm"]["source"] == "grapevine"
