"""The outbound HTTP surface on a real server (uvicorn): endpoints, the delivery log,
redeliver, the unsubscribe page and RFC 8058 one-click, and the background dispatcher."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy.orm import Session

from grapevine import outbound as ob
from grapevine.config import Settings
from grapevine.service import create_app
from grapevine.store import Store
from outbound_support import Mailbox, http_receiver, make_participant, smtp_server
from support import SECRETS_KEY, api_key, auth, serve

SALT = "outbound-api-salt-0123456789abcdef"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Mailbox]]:
    with smtp_server() as pair:
        yield pair


def _settings(store_url: str, smtp_url: str, poll: float) -> Settings:
    return Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": SALT,
            "secrets_key": SECRETS_KEY,
            "smtp_url": smtp_url,
            "mail_from": "Shop <hello@shop.example>",
            "outbound_poll_seconds": poll,
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
            "rate_limit_pages_per_ip": "off",
            "rate_limit_pages_per_token": "off",
        }
    )


@pytest.fixture
def client(store_url: str, smtp: tuple[str, Mailbox]) -> Iterator[httpx.Client]:
    key = api_key(store_url)
    with (
        serve(create_app(_settings(store_url, smtp[0], 0))) as base,
        httpx.Client(base_url=base, timeout=30, headers=auth(key)) as c,
    ):
        yield c


def test_endpoints_are_managed_per_tenant(client: httpx.Client, store_url: str) -> None:
    made = client.post(
        "/api/outbound/endpoints",
        json={"kind": "webhook", "target": "https://shop.example/hooks", "events": ["reward.paid"]},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["reward.paid"]
    listed = client.get("/api/outbound/endpoints").json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["hint"] == body["secret"][-4:]
    # another tenant sees nothing and cannot remove it
    other = auth(api_key(store_url, "bolt"))
    assert client.get("/api/outbound/endpoints", headers=other).json() == []
    gone = client.delete(f"/api/outbound/endpoints/{body['id']}", headers=other)
    assert gone.status_code == 404
    # bad input names the field
    bad = client.post(
        "/api/outbound/endpoints", json={"kind": "webhook", "target": "http://10.0.0.5/x"}
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "url"
    bad = client.post(
        "/api/outbound/endpoints",
        json={"kind": "slack", "target": "https://hooks.slack.com/x", "events": ["reward.paid"]},
    )
    assert bad.status_code == 422
    assert "alert.raised" in bad.json()["detail"]
    read_only = auth(api_key(store_url, "acme", role="read"))
    assert client.get("/api/outbound/endpoints", headers=read_only).status_code == 403
    removed = client.delete(f"/api/outbound/endpoints/{body['id']}")
    assert removed.status_code == 200
    assert removed.json()["removed_at"] is not None
    assert client.get("/api/outbound/endpoints").json() == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("DELETE", f"/api/outbound/endpoints/{2**70}", None, "endpoint_id"),
        ("GET", "/api/outbound/messages/0", None, "message_id"),
        ("POST", f"/api/outbound/messages/{2**63}/redeliver", None, "message_id"),
        ("GET", f"/api/outbound/messages?before_id={2**64}", None, "before_id"),
        ("GET", "/api/outbound/messages?endpoint_id=-1", None, "endpoint_id"),
        ("GET", "/api/outbound/messages?event=a%00b", None, "event"),
        (
            "POST",
            "/api/outbound/endpoints",
            {"kind": "email", "target": "team@shop.example", "description": "a\x00b"},
            "description",
        ),
        (
            "POST",
            "/api/outbound/endpoints",
            {"kind": "webhook", "target": "https://shop.example/h", "events": ["\ud800"]},
            "events.0",
        ),
        (
            "POST",
            "/api/outbound/endpoints",
            {"kind": "email", "target": "team@shop.example", "language": "fr"},
            "language",
        ),
    ],
)
def test_out_of_domain_input_is_a_422_naming_the_field(
    client: httpx.Client, method: str, path: str, body: object, field: str
) -> None:
    raw = None if body is None else json.dumps(body).encode()
    headers = {} if raw is None else {"content-type": "application/json"}
    r = client.request(method, path, content=raw, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]
    assert r.json()["field"] == field


def test_delivery_log_and_redeliver(client: httpx.Client, store_url: str) -> None:
    with http_receiver([500]) as rx:
        with Store(store_url) as store, Session(store.engine) as s:
            tid, cid, _ = make_participant(s)
            ob.add_endpoint(
                s,
                tenant_id=tid,
                kind="webhook",
                target=rx.url,
                secrets_key=SECRETS_KEY,
                allow_private=True,
            )
            (mid,) = ob.emit(
                s, tenant_id=tid, event="reward.paid", payload={"amount": 3}, campaign_id=cid
            )
            s.commit()
            cfg = ob.OutboundConfig.from_settings(_settings(store_url, "smtp://127.0.0.1:1", 0))
            assert ob.deliver_due(lambda: Session(store.engine), config=cfg).retried == 1
        log = client.get("/api/outbound/messages", params={"status": "pending"}).json()
        assert [m["id"] for m in log] == [mid]
        (attempt,) = log[0]["log"]
        assert attempt["status_code"] == 500
        assert attempt["ok"] is False
        assert attempt["error"] == "HTTP 500: receiver says no"
        assert attempt["latency_ms"] >= 0
        assert log[0]["next_try_at"] > attempt["at"]
        again = client.post(f"/api/outbound/messages/{mid}/redeliver")
        assert again.status_code == 200, again.text
        detail = again.json()
        assert detail["status"] == "delivered"
        assert [a["status_code"] for a in detail["log"]] == [500, 200]
        assert detail["log"][-1]["manual"] is True
        assert client.get(f"/api/outbound/messages/{mid}").json()["payload"] == {"amount": 3}
        other = auth(api_key(store_url, "bolt"))
        assert client.get(f"/api/outbound/messages/{mid}", headers=other).status_code == 404
        assert (
            client.post(f"/api/outbound/messages/{mid}/redeliver", headers=other).status_code == 404
        )
        assert client.get("/api/outbound/messages", params={"status": "lost"}).status_code == 422
    assert len(rx.requests) == 2


def _mail_for(
    store_url: str, smtp: tuple[str, Mailbox], language: str
) -> tuple[EmailMessage, int, int]:
    with Store(store_url) as store:
        with Session(store.engine) as s:
            tid, _, pid = make_participant(s, language=language)
            ob.emit(
                s,
                tenant_id=tid,
                event="participant.enrolled",
                participant_id=pid,
                payload={"share_url": "https://go.shop.example/r/X"},
            )
            s.commit()
        cfg = ob.OutboundConfig.from_settings(_settings(store_url, smtp[0], 0))
        assert ob.deliver_due(lambda: Session(store.engine), config=cfg).delivered == 1
    return smtp[1].messages[-1], tid, pid


def test_one_click_unsubscribe(
    client: httpx.Client, store_url: str, smtp: tuple[str, Mailbox]
) -> None:
    mail, tid, pid = _mail_for(store_url, smtp, "nl")
    link = mail["List-Unsubscribe"].strip("<>")
    path = httpx.URL(link).path
    page = client.get(path)
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "Geen e-mails meer ontvangen over Spring?" in page.text
    assert f'action="{path}"' in page.text
    # a GET changes nothing (link scanners); the mail client's one-click POST does
    assert "Geen e-mails meer" in client.get(path).text
    done = client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "Je bent afgemeld" in done.text
    assert "Je bent afgemeld" in client.get(path).text
    assert client.post(path).status_code == 200  # again: still unsubscribed
    with Store(store_url) as store, Session(store.engine) as s:
        assert ob.emit(s, tenant_id=tid, event="reward.paid", payload={}, participant_id=pid) == []
    invalid = client.get(path[:-3] + "abc")
    assert invalid.status_code == 404
    assert "not valid" in invalid.text


def test_the_service_delivers_in_the_background(store_url: str, smtp: tuple[str, Mailbox]) -> None:
    with Store(store_url) as store, Session(store.engine) as s:
        tid, _, pid = make_participant(s, language="sv")
        ob.emit(s, tenant_id=tid, event="reward.paid", participant_id=pid, payload={"amount": 5})
        s.commit()
    with serve(create_app(_settings(store_url, smtp[0], 0.2))):
        deadline = time.monotonic() + 20
        while not smtp[1].messages and time.monotonic() < deadline:
            time.sleep(0.05)
    (mail,) = smtp[1].messages
    assert mail["Subject"] == "Din belöning på EUR 5,00 har betalats ut"
