"""``grapevine outbound`` and ``grapevine listen alerts --notify``: the CLI over a real store,
a real HTTP receiver and a real SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grapevine import outbound as ob
from grapevine.cli.main import app
from grapevine.config import get_settings
from grapevine.store import Store
from outbound_support import http_receiver, make_participant, smtp_server
from support import SECRETS_KEY

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("GRAPEVINE_SECRETS_KEY", SECRETS_KEY)
    monkeypatch.setenv("GRAPEVINE_IP_SALT", "cli-salt-0123456789abcdef")
    monkeypatch.setenv("GRAPEVINE_MAIL_FROM", "hello@shop.example")
    get_settings.cache_clear()
    with Store(url) as store, Session(store.engine) as s:
        make_participant(s)
        s.commit()
    yield url
    get_settings.cache_clear()


def acme(url: str) -> int:
    from grapevine.store import tenants_repo

    with Store(url) as store, Session(store.engine) as s:
        row = tenants_repo.find_tenant(s, slug="acme")
        assert row is not None
        return row.id


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_endpoints_deliver_log_redeliver(env: str) -> None:
    with http_receiver([502]) as rx:
        code, out, err = run(
            "outbound",
            "endpoints",
            "add",
            "--tenant",
            "acme",
            "--kind",
            "webhook",
            "--target",
            rx.url,
            "--event",
            "reward.paid",
            "--allow-private",
            "--db",
            env,
        )
        assert code == 0, err
        secret = out.strip()
        assert secret.startswith("whsec_")
        assert "not shown again" in err
        code, out, _ = run(
            "outbound", "endpoints", "list", "--tenant", "acme", "--json", "--db", env
        )
        (ep,) = json.loads(out)
        assert ep["target"] == rx.url
        assert ep["events"] == ["reward.paid"]
        with Store(env) as store, Session(store.engine) as s:
            (mid,) = ob.emit(s, tenant_id=acme(env), event="reward.paid", payload={"amount": 1})
            s.commit()
        code, out, _ = run("outbound", "deliver", "--db", env)
        assert code == 0
        assert "claimed 1: delivered 0, retried 1" in out
        code, out, _ = run("outbound", "log", "--tenant", "acme", "--db", env)
        assert f"#{mid} reward.paid webhook to endpoint {ep['id']}: pending after 1/8" in out
        assert "failed 502" in out
        code, out, _ = run("outbound", "redeliver", str(mid), "--tenant", "acme", "--db", env)
        assert code == 0
        assert out.strip() == f"message {mid}: delivered (200)"
        code, out, _ = run("outbound", "log", "--tenant", "acme", "--json", "--db", env)
        (msg,) = json.loads(out)
        assert [a["status_code"] for a in msg["log"]] == [502, 200]
        assert msg["log"][1]["manual"] is True
        code, out, _ = run(
            "outbound", "endpoints", "remove", str(ep["id"]), "--tenant", "acme", "--db", env
        )
        assert (code, out.strip()) == (0, f"endpoint {ep['id']} removed")
    code, _, err = run("outbound", "redeliver", "999", "--tenant", "acme", "--db", env)
    assert code == 1
    assert "no outbound message 999" in err
    code, _, err = run(
        "outbound",
        "endpoints",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "slack",
        "--target",
        "http://hooks.slack.com/x",
        "--db",
        env,
    )
    assert code == 1
    assert "https URL" in err


def test_listen_alerts_notify_sends_each_alert_once(env: str, tmp_path: Path) -> None:
    from grapevine.listening import BuzzAlert, raise_alerts

    alert = BuzzAlert(
        rule="brand",
        series="negative",
        time=1_800_000_000.0,
        value=40.0,
        expected=4.0,
        score=9.1,
        why="10 times the usual",
        window_posts=40,
        baseline_posts=300,
        what_grew=None,
    )
    with smtp_server() as (smtp, box), Store(env) as store:
        with Session(store.engine) as s:
            ob.add_endpoint(
                s, tenant_id=acme(env), kind="email", target="team@shop.example", secrets_key=None
            )
            first = raise_alerts(
                s, tenant_id=acme(env), alerts=[alert], origin="https://gv.example"
            )
            again = raise_alerts(
                s, tenant_id=acme(env), alerts=[alert], origin="https://gv.example"
            )
            s.commit()
        assert len(first) == 1
        assert again == []
        cfg = ob.OutboundConfig(
            smtp=ob.parse_smtp_url(smtp),
            mail_from="gv@shop.example",
            public_origin="https://gv.example",
            token_secret=None,
            secrets_key=None,
        )
        assert ob.deliver_due(lambda: Session(store.engine), config=cfg).delivered == 1
    (mail,) = box.messages
    assert mail["Subject"] == "Alert: brand (negative)"
    assert "https://gv.example/listening?rule=brand" in mail.get_body(("plain",)).get_content()
    # The CLI flag runs the same workflow on the store's alerts (none in an empty store).
    code, _, err = run("listen", "alerts", "--notify", "acme", "--db", env)
    assert code == 0, err
    assert "0 alert messages queued for tenant acme" in err
