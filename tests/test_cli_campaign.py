"""``grapevine tenant``, ``apikey``, ``erase`` and ``campaign``, on a real store of each backend.

Run in-process with Typer's runner (the same Typer app as the installed script).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grapevine.cli.main import app
from grapevine.store import Store, campaigns_repo, codes_repo, events_repo, persons_repo
from grapevine.store import tenants_repo as tr

runner = CliRunner()


def cli(*args: str, db: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_tenant_and_key_lifecycle(store_url: str) -> None:
    code, out, _ = cli("tenant", "create", "acme", "--name", "Acme Inc", db=store_url)
    assert (code, out.strip()) == (0, "tenant acme (id 2) created")
    code, _, err = cli("tenant", "create", "acme", db=store_url)
    assert code == 1
    assert "exists" in err
    code, _, err = cli("tenant", "create", "Bad Slug", db=store_url)
    assert code == 1
    assert "'slug' parameter" in err

    code, out, err = cli("apikey", "create", "--tenant", "acme", "--role", "read", db=store_url)
    assert code == 0, err
    token = out.strip()
    assert "not shown again" in err
    assert token.startswith("gv_")
    code, _, err = cli("apikey", "create", "--tenant", "nope", "--role", "read", db=store_url)
    assert code == 1
    assert "no tenant 'nope' (known: default, acme)" in err
    code, _, err = cli("apikey", "create", "--tenant", "acme", "--role", "root", db=store_url)
    assert code == 2  # refused with the choices before anything runs
    assert "'root' is not one of 'admin', 'read', 'ingest'" in " ".join(err.split())

    code, out, _ = cli("apikey", "list", "--json", db=store_url)
    listed = json.loads(out)
    prefix = token.split("_")[1]
    assert [(k["prefix"], k["tenant"], k["role"]) for k in listed] == [(prefix, "acme", "read")]
    assert token.split("_", 2)[2] not in out

    with Store(store_url) as store:
        with Session(store.engine) as session:
            assert tr.authenticate(session, token=token) is not None
        assert cli("apikey", "revoke", prefix, db=store_url)[0] == 0
        with Session(store.engine) as session:
            assert tr.authenticate(session, token=token) is None
    code, _, err = cli("apikey", "revoke", "zzzzzzzz", db=store_url)
    assert code == 1
    assert "no API key" in err
    table = cli("apikey", "list", db=store_url)[1]
    assert prefix in table


OFFER_TOML = """
name = "spring"
goal = "more signups"
destinations = ["https://shop.example/welcome"]
window_days = 14
budget = 500
currency = "eur"

[offer]
referrer = { kind = "fixed", amount = 10 }
friend = { kind = "percent", amount = 20 }
"""


def test_campaign_create_list_show(store_url: str, tmp_path: Path) -> None:
    cli("tenant", "create", "acme", db=store_url)
    toml = tmp_path / "spring.toml"
    toml.write_text(OFFER_TOML)
    code, out, err = cli(
        "campaign", "create", "--tenant", "acme", "--file", str(toml), "--json", db=store_url
    )
    assert code == 0, err
    made = json.loads(out)
    assert (made["name"], made["window_days"], made["currency"]) == ("spring", 14.0, "EUR")
    assert made["offer"]["friend"] == {"kind": "percent", "amount": 20}

    # An offer-only JSON file, with the rest as options.
    offer = tmp_path / "offer.json"
    offer.write_text(
        json.dumps(
            {"referrer": {"kind": "fixed", "amount": 5}, "friend": {"kind": "fixed", "amount": 5}}
        )
    )
    code, out, err = cli(
        "campaign", "create", "--tenant", "acme", "--file", str(offer), "--name", "autumn",
        "--destination", "https://shop.example/", db=store_url,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli("campaign", "create", "--tenant", "acme", "--file", str(toml), db=store_url)
    assert code == 1
    assert "has a campaign named 'spring'" in err

    code, out, _ = cli("campaign", "list", "--tenant", "acme", "--json", db=store_url)
    assert [c["name"] for c in json.loads(out)] == ["spring", "autumn"]
    assert cli("campaign", "list", "--json", db=store_url)[1].strip() == "[]"  # default tenant
    assert "spring" in cli("campaign", "list", "--tenant", "acme", db=store_url)[1]

    # Figures: Ann's link is clicked by a person and a bot; Bob signs up through it.
    with Store(store_url) as store, Session(store.engine) as session:
        email = persons_repo.EMAIL_PLATFORM
        ann = persons_repo.get_or_create_person(session, platform=email, handle="ann@x.org")
        bob = persons_repo.get_or_create_person(session, platform=email, handle="bob@x.org")
        now = time.time()
        codes_repo.get_or_create_participant(
            session, campaign_id=made["id"], person_id=ann.id, email="ann@x.org", now=now
        )
        for i, (kind, traffic, person) in enumerate(
            [("click", "browser", None), ("click", "bot", None), ("signup", None, bob.id)]
        ):
            events_repo.add_event(
                session,
                campaign_id=made["id"],
                kind=kind,
                time=now + i,
                traffic=traffic,
                referrer_id=ann.id,
                person_id=person,
                idempotency_key=f"e{i}",
            )
        session.commit()
    code, out, err = cli("campaign", "show", "spring", "--tenant", "acme", "--json", db=store_url)
    assert code == 0, err
    shown = json.loads(out)
    stats = shown["stats"]
    assert shown["campaign"]["goal"] == "more signups"
    assert stats["participants"] == 1
    assert stats["clicks"] == {"human": 1, "bot": 1, "preview": 0}
    assert (stats["signups"], stats["referred_signups"]) == (1, 1)
    assert stats["k_factor"] == pytest.approx(0.5)
    text = cli("campaign", "show", str(made["id"]), "--tenant", "acme", db=store_url)[1]
    assert "K-factor: 0.500" in text
    assert "clicks (human)" in text
    code, _, err = cli("campaign", "show", "spring", db=store_url)  # not the default tenant's
    assert code == 1
    assert "has no campaign 'spring'" in err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ('{"name": "x", "destinations": []}', ".json", "field 'destinations'"),
        ('{"name": "x", "destinations": ["ftp://x.example"]}', ".json", "field 'destinations'"),
        ('{"name": "x", "destination": ["https://a.example"]}', ".json",
         "field 'destination': unknown field"),
        (
            '{"name": "x", "destinations": ["https://a.example"], "window_days": -1}',
            ".json",
            "field 'window_days'",
        ),
        ('name = "x"\ndestinations = ["https://a.example"]\noffer = {referrer = 3}\n', ".toml",
         "field 'offer"),
        ('{"name": "x",\n "destinations": [}', ".json", "line 2"),
        ('name = = "x"', ".toml", "not TOML"),
        ("[1, 2]", ".json", "one object"),
    ],
)  # fmt: skip
def test_campaign_file_errors_name_the_file_and_field(
    store_url: str, tmp_path: Path, content: str, suffix: str, expected: str
) -> None:
    path = tmp_path / f"c{suffix}"
    path.write_text(content)
    code, _, err = cli("campaign", "create", "--file", str(path), db=store_url)
    assert code == 1
    flat = " ".join(err.split())
    assert str(path) in flat
    assert expected in flat


def test_erase_from_the_command_line(store_url: str) -> None:
    cli("tenant", "create", "acme", db=store_url)
    with Store(store_url) as store, Session(store.engine) as session:
        tenant = tr.find_tenant(session, slug="acme")
        assert tenant is not None
        campaign = campaigns_repo.create_campaign(
            session, tenant_id=tenant.id, name="c", goal=None, offer=None, rules={}
        )
        person = persons_repo.get_or_create_person(
            session, platform=persons_repo.EMAIL_PLATFORM, handle="zoe@x.org"
        )
        codes_repo.get_or_create_participant(
            session, campaign_id=campaign.id, person_id=person.id, email="zoe@x.org", now=1.0
        )
        session.commit()
    code, out, err = cli("erase", "Zoe@X.org", "--tenant", "acme", db=store_url)
    assert code == 0, err
    assert "participants 1" in out
    assert "person_deleted 1" in out
    with Store(store_url) as store, store.engine.connect() as conn:
        emails = conn.execute(sa.text("SELECT email FROM participants")).scalars().all()
        handles = conn.execute(sa.text("SELECT handle FROM persons")).scalars().all()
    assert "zoe@x.org" not in [*emails, *handles]
    code, _, err = cli("erase", "zoe@x.org", "--tenant", "acme", db=store_url)
    assert code == 1
    assert "no data on" in err
