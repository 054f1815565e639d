"""Fraud decisions at conversion time and the review queue, end to end: a real uvicorn
server on a real store (SQLite and PostgreSQL), every rule through the HTTP API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from grapevine.cli.main import app as cli
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.referrals import mask_email, risk_rules, ua_class
from grapevine.service import create_app
from grapevine.store import Store
from grapevine.store.models import Campaign
from support import api_key, auth, serve

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
FIREFOX_NEWER = "Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0"
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 0,
}


class Api(httpx.Client):
    """A client of the test server that also knows the server's store."""

    store_url: str


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    """A client with an admin key of tenant acme, of a server on the store."""
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": "risk-salt",
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
        }
    )
    key = api_key(store_url)
    with (
        serve(create_app(settings)) as base,
        Api(base_url=base, timeout=30, headers=auth(key)) as client,
    ):
        client.store_url = store_url
        yield client


def _campaign(client: Api, **rules: Any) -> int:
    r = client.post(
        "/api/campaigns",
        json={"name": "spring", "offer": OFFER, "destinations": ["https://shop.example/"]},
    )
    assert r.status_code == 201, r.text
    cid = int(r.json()["id"])
    if rules:
        _set_rules(client, cid, **rules)
    return cid


def _set_rules(client: Api, cid: int, **rules: Any) -> None:
    # The fraud thresholds are edited like any campaign field (checked, audited).
    r = client.patch(f"/api/campaigns/{cid}", json=rules)
    assert r.status_code == 200, r.text
    assert all(r.json()[name] == value for name, value in rules.items())


def _join(client: httpx.Client, cid: int, email: str, **extra: str) -> dict[str, Any]:
    r = client.post(f"/api/campaigns/{cid}/participants", json={"email": email, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _click(client: httpx.Client, code: str, ua: str = FIREFOX) -> str:
    """A human click on the link from a fresh browser: its visitor id."""
    with httpx.Client(base_url=str(client.base_url)) as browser:
        r = browser.get(f"/r/{code}", headers={"User-Agent": ua})
        assert r.status_code == 307, r.text
        return str(r.cookies["gv_vid"])


def _event(client: httpx.Client, cid: int, key: str, email: str, **extra: Any) -> dict[str, Any]:
    body = {"campaign_id": cid, "kind": "purchase", "idempotency_key": key, "email": email}
    if extra.get("kind", "purchase") == "purchase":
        body.update(order_id=f"o-{key}", value=50.0)
    body.update(extra)
    r = client.post("/api/events", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _statuses(event: dict[str, Any]) -> dict[str, str]:
    return {r["role"]: r["status"] for r in event["rewards"]}


def _queue(client: httpx.Client, cid: int) -> list[dict[str, Any]]:
    r = client.get(f"/api/campaigns/{cid}/review")
    assert r.status_code == 200, r.text
    return list(r.json())


def _review(
    client: httpx.Client, cid: int, key: str, outcome: str, note: str = ""
) -> httpx.Response:
    return client.post(
        f"/api/campaigns/{cid}/review/{key}", json={"outcome": outcome, "note": note}
    )


# ============================================================================ the rules
def test_a_clean_referral_is_granted_without_review(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org", device_id="ann-phone", payout_account="IBAN-A")
    _join(api, cid, "bob@example.net", device_id="bob-laptop", payout_account="IBAN-B")
    visitor = _click(api, ann["code"])
    got = _event(api, cid, "p1", "bob@example.net", visitor_id=visitor)
    assert got["referrer_id"] == ann["person_id"]
    assert _statuses(got) == {"friend": "granted", "referrer": "granted"}
    assert _queue(api, cid) == []


def test_email_variants_are_one_person_and_get_no_credit(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "Ann.Lee@gmail.com")
    # Case, dots and a plus-tag at Google's other domain: the same normalised address.
    got = _event(api, cid, "p1", "annlee+promo@GoogleMail.com", coupon_code=ann["code"])
    assert (got["person_id"], got["referrer_id"], got["rewards"]) == (ann["person_id"], None, [])
    assert _queue(api, cid) == []


@pytest.mark.parametrize(
    ("friend", "ann_extra", "friend_extra", "risk", "reason"),
    [
        ("bob@example.net", {"device_id": "d-1"}, {"device_id": "d-1"}, "high", "same device"),
        (
            "bob@10minutemail.com",
            {},
            {},
            "medium",
            "friend's e-mail is at a disposable domain",
        ),
    ],
    ids=["same-device", "disposable-domain"],
)
def test_suspicious_referral_is_held_with_its_reason(
    api: Api,
    friend: str,
    ann_extra: dict[str, str],
    friend_extra: dict[str, str],
    risk: str,
    reason: str,
) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org", **ann_extra)
    if friend_extra:
        _join(api, cid, friend, **friend_extra)
    got = _event(api, cid, "p1", friend, coupon_code=ann["code"])
    assert _statuses(got) == {"friend": "review", "referrer": "review"}
    [item] = _queue(api, cid)
    assert (item["event_key"], item["risk"], item["amount"]) == ("p1", risk, 15.0)
    assert reason in item["reasons"]
    assert item["friend"] == mask_email(friend)
    assert "@" in item["friend"]
    assert item["referrer"] == "a***@example.org"


def test_same_network_and_browser_within_the_window_is_held(api: Api) -> None:
    cid = _campaign(api)
    zed = _join(api, cid, "zed@example.org")
    ann = _join(api, cid, "ann@example.org")
    # Ann arrived through Zed's link from this machine (127.0.0.1, Firefox on Linux)...
    ann_cookie = _click(api, zed["code"])
    _event(api, cid, "s-ann", "ann@example.org", kind="signup", visitor_id=ann_cookie)
    # ...and "Bob" clicks Ann's link from the same network and browser, one update later.
    bob_cookie = _click(api, ann["code"], ua=FIREFOX_NEWER)
    got = _event(api, cid, "p-bob", "bob@example.net", visitor_id=bob_cookie)
    assert got["referrer_id"] == ann["person_id"]
    assert _statuses(got) == {"friend": "review", "referrer": "review"}
    [item] = _queue(api, cid)
    assert item["risk"] == "medium"
    assert any(r.startswith("same network and user agent within") for r in item["reasons"])


def test_same_network_outside_the_window_is_not_held(api: Api) -> None:
    cid = _campaign(api, ip_window_seconds=0)
    zed = _join(api, cid, "zed@example.org")
    ann = _join(api, cid, "ann@example.org")
    ann_cookie = _click(api, zed["code"])
    _event(api, cid, "s-ann", "ann@example.org", kind="signup", visitor_id=ann_cookie)
    time.sleep(0.01)  # the clicks are then at least 10 ms apart: outside a 0 s window
    bob_cookie = _click(api, ann["code"])
    got = _event(api, cid, "p-bob", "bob@example.net", visitor_id=bob_cookie)
    assert _statuses(got) == {"friend": "granted", "referrer": "granted"}


def test_a_velocity_burst_holds_the_conversion_that_makes_it(api: Api) -> None:
    cid = _campaign(api, velocity_limit=3, velocity_window_seconds=3600)
    ann = _join(api, cid, "ann@example.org")
    t0 = time.time() - 100
    got = [
        _event(api, cid, f"p{i}", f"friend{i}@example.net", coupon_code=ann["code"], time=t0 + i)
        for i in range(3)
    ]
    assert [_statuses(g)["referrer"] for g in got] == ["granted", "granted", "review"]
    [item] = _queue(api, cid)
    assert item["event_key"] == "p2"
    assert item["reasons"] == ["referrer's conversions: 3 events in 2 s (limit 3 per 3600 s)"]


def test_a_ring_of_three_accounts_sharing_a_payout_account(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org", payout_account="NL91ABNA0417164300")
    _join(api, cid, "cat@example.org", payout_account="NL91ABNA0417164300")
    _join(api, cid, "dan@example.org", payout_account="NL91ABNA0417164300")
    got = _event(api, cid, "p-dan", "dan@example.org", coupon_code=ann["code"])
    assert _statuses(got) == {"friend": "review", "referrer": "review"}
    [item] = _queue(api, cid)
    assert item["risk"] == "high"
    assert "same payout account" in item["reasons"]
    assert "ring of linked accounts: 3 accounts share payout" in item["reasons"]


def test_a_ring_links_accounts_through_a_third_one(api: Api) -> None:
    # Ann and Dan share nothing; Cat shares Ann's payout account and Dan's device.
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org", payout_account="IBAN-1")
    _join(api, cid, "cat@example.org", payout_account="IBAN-1", device_id="d-7")
    _join(api, cid, "dan@example.org", device_id="d-7")
    _event(api, cid, "p-dan", "dan@example.org", coupon_code=ann["code"])
    [item] = _queue(api, cid)
    assert item["reasons"] == [
        "ring of linked accounts: 3 accounts share device, payout",
        "ring of linked accounts: 1 referrals inside the ring",
    ]


# ============================================================================ the review
def test_approve_grants_and_reject_voids_idempotently(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org", device_id="d-1")
    _join(api, cid, "bob@example.net", device_id="d-1")
    _join(api, cid, "cy@example.net", device_id="d-1")
    _event(api, cid, "p-bob", "bob@example.net", coupon_code=ann["code"])
    _event(api, cid, "p-cy", "cy@example.net", coupon_code=ann["code"])
    assert [i["event_key"] for i in _queue(api, cid)] == ["p-bob", "p-cy"]

    ok = _review(api, cid, "p-bob", "approve", "known customer")
    assert ok.status_code == 200, ok.text
    assert {r["status"] for r in ok.json()["rewards"]} == {"granted"}
    assert ok.json()["replayed"] is False
    assert ok.json()["reviewer"].startswith("api key ")
    again = _review(api, cid, "p-bob", "approve")
    assert again.json()["replayed"] is True
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["note"] == "known customer"  # the first decision stands
    assert _review(api, cid, "p-bob", "reject").status_code == 409  # a review is final

    no = _review(api, cid, "p-cy", "reject", "same phone as the referrer")
    assert no.status_code == 200, no.text
    assert {r["status"] for r in no.json()["rewards"]} == {"void"}
    assert _queue(api, cid) == []
    stats = api.get(f"/api/campaigns/{cid}/stats").json()["rewards"]
    assert stats["granted"] == {"count": 2, "amount": 15.0}
    assert stats["void"] == {"count": 2, "amount": 15.0}
    # The reason of a rejected reward names the reviewer and the note (the audit).
    with Store(api.store_url) as store, store.engine.connect() as conn:
        reasons = conn.execute(
            sa.text("SELECT reason FROM rewards WHERE event_key = 'p-cy'")
        ).scalars()
        assert all("rejected in review by api key" in r and "same phone" in r for r in reasons)


def test_review_errors_and_roles(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org")
    _event(api, cid, "p-clean", "bob@example.net", coupon_code=ann["code"])
    assert _review(api, cid, "p-clean", "approve").status_code == 409  # not held
    assert _review(api, cid, "nope", "approve").status_code == 404
    assert _review(api, cid, "p-clean", "maybe").status_code == 422
    _event(api, cid, "p-bad", "eve@10minutemail.com", coupon_code=ann["code"])
    read = api_key(api.store_url, role="read")
    with httpx.Client(base_url=str(api.base_url), headers=auth(read)) as reader:
        assert [i["event_key"] for i in reader.get(f"/api/campaigns/{cid}/review").json()] == [
            "p-bad"
        ]
        r = reader.post(f"/api/campaigns/{cid}/review/p-bad", json={"outcome": "approve"})
        assert r.status_code == 403


def test_the_review_queue_belongs_to_its_tenant(api: Api) -> None:
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org")
    _event(api, cid, "p-bad", "eve@10minutemail.com", coupon_code=ann["code"])
    other = api_key(api.store_url, tenant="globex")
    with httpx.Client(base_url=str(api.base_url), headers=auth(other)) as globex:
        assert globex.get(f"/api/campaigns/{cid}/review").status_code == 404
        r = globex.post(f"/api/campaigns/{cid}/review/p-bad", json={"outcome": "approve"})
        assert r.status_code == 404
    assert [i["event_key"] for i in _queue(api, cid)] == ["p-bad"]  # untouched


def test_a_lower_threshold_holds_more(api: Api) -> None:
    cid = _campaign(api, review_threshold="high")
    ann = _join(api, cid, "ann@example.org")
    got = _event(api, cid, "p1", "eve@10minutemail.com", coupon_code=ann["code"])
    assert _statuses(got) == {"friend": "granted", "referrer": "granted"}  # medium < high
    _set_rules(api, cid, review_threshold="low")
    got = _event(api, cid, "p2", "fay@10minutemail.com", coupon_code=ann["code"])
    assert _statuses(got)["referrer"] == "review"


# ============================================================================ the CLI
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cli_lists_approves_and_rejects(api: Api) -> None:
    url = api.store_url
    cid = _campaign(api)
    ann = _join(api, cid, "ann@example.org")
    _event(api, cid, "p-1", "eve@10minutemail.com", coupon_code=ann["code"])
    _event(api, cid, "p-2", "fay@10minutemail.com", coupon_code=ann["code"])
    runner = CliRunner()
    base = ["--db", url, "--tenant", "acme"]
    listed = runner.invoke(cli, ["review", "list", str(cid), *base, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["event_key"] for i in json.loads(listed.output)] == ["p-1", "p-2"]
    ok = runner.invoke(cli, ["review", "approve", str(cid), "p-1", *base, "--by", "lee"])
    assert ok.exit_code == 0, ok.output
    assert "approved by lee" in ok.output
    assert "granted" in ok.output
    no = runner.invoke(cli, ["review", "reject", str(cid), "p-2", *base, "--note", "burner"])
    assert no.exit_code == 0, no.output
    assert "void" in no.output
    clash = runner.invoke(cli, ["review", "approve", str(cid), "p-2", *base])
    assert clash.exit_code == 1
    assert "a review is final" in clash.output
    assert runner.invoke(cli, ["review", "list", str(cid), *base]).output.startswith("nothing")
    other = runner.invoke(cli, ["review", "list", str(cid), "--db", url, "--tenant", "nobody"])
    assert other.exit_code == 1


# ============================================================================ the pieces
def test_bad_rules_name_the_field() -> None:
    campaign = Campaign(name="x", rules={"review_threshold": "none"})
    with pytest.raises(BadInput) as caught:
        risk_rules(campaign)
    assert caught.value.field == "rules.review_threshold"


@given(st.text(max_size=200))
def test_ua_class_never_raises_and_is_short(ua: str) -> None:
    got = ua_class(ua)
    assert got is None or (0 < len(got) <= 32)


@given(st.emails())
def test_masked_emails_keep_only_the_first_letter_and_the_domain(email: str) -> None:
    masked = mask_email(email)
    assert masked is not None
    assert masked.endswith("@" + email.rpartition("@")[2])
    assert masked[0] == email[0]
