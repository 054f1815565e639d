"""The campaign lifecycle (active, paused, ended) and participant listings, on each backend:
the workflows, the API adapters (a real server over a socket) and the CLI adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grapevine import referrals as rf
from grapevine.cli.main import app as cli_app
from grapevine.config import Settings
from grapevine.errors import BadInput, CampaignClosed, CampaignNotFound
from grapevine.service import create_app
from grapevine.store import Store, events_repo, tenants_repo
from support import api_key, auth, serve

SALT = "test-salt"
T0 = 1_800_000_000.0
ALLOW = ["https://shop.example/welcome"]
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 3600,
}


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with Session(store.engine) as s:
        yield s


def _setup(session: Session) -> tuple[int, int, str]:
    """``(tenant id, campaign id, Ann's code)``: an active campaign with one referrer."""
    tid = tenants_repo.get_or_create_tenant(session, slug="acme").id
    cid = rf.create_campaign(
        session, tenant_id=tid, document={"name": "spring", "destinations": ALLOW, "offer": OFFER}
    ).id
    code = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT).code
    session.commit()
    return tid, cid, code


def _buy(session: Session, cid: int, n: int, code: str, *, now: float) -> rf.RecordedEvent:
    return rf.record_event(
        session,
        campaign_id=cid,
        event=rf.EventInput(
            "purchase", f"p{n}", email=f"f{n}@x.org", coupon_code=code, order_id=f"o{n}", value=40
        ),
        now=now,
    )


# ---------------------------------------------------------------------------- workflows
def test_paused_no_enrolment_no_rewards_then_resume(session: Session) -> None:
    _, cid, code = _setup(session)
    before = _buy(session, cid, 1, code, now=T0)
    assert len(before.rewards) == 2
    paused = rf.pause_campaign(session, campaign_id=cid, actor="ops", now=T0 + 10)
    session.commit()
    assert (paused.status, paused.paused_at, paused.changed) == ("paused", T0 + 10, True)
    with pytest.raises(CampaignClosed) as caught:
        rf.enrol(session, campaign_id=cid, email="new@x.org", salt=SALT)
    assert (caught.value.campaign_id, caught.value.status) == (cid, "paused")
    session.rollback()
    again = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT)  # enrolled before
    assert again.code == code
    during = _buy(session, cid, 2, code, now=T0 + 20)
    assert during.rewards == ()
    assert during.reward_note is not None
    assert "paused" in during.reward_note
    assert during.referrer_id is not None  # recorded and attributed, only unrewarded
    unchanged = _buy(session, cid, 1, code, now=T0 + 21)  # the earlier rewards stand
    assert {r.status for r in unchanged.rewards} == {"pending"}
    resumed = rf.resume_campaign(session, campaign_id=cid, now=T0 + 30)
    session.commit()
    assert (resumed.status, resumed.paused_at) == ("active", None)
    after = _buy(session, cid, 3, code, now=T0 + 40)
    assert len(after.rewards) == 2
    assert after.reward_note is None
    trail = rf.campaign_audit(session, campaign_id=cid)
    assert [(e.action, e.changes.get("status")) for e in trail] == [
        ("create", None),
        ("pause", ["active", "paused"]),
        ("resume", ["paused", "active"]),
    ]
    assert trail[1].actor == "ops"


def test_ended_is_final_and_earned_rewards_keep_their_lifecycle(session: Session) -> None:
    _, cid, code = _setup(session)
    earned = _buy(session, cid, 1, code, now=T0)
    assert {r.status for r in earned.rewards} == {"pending"}
    ended = rf.end_campaign(session, campaign_id=cid, now=T0 + 10)
    session.commit()
    assert (ended.status, ended.ended_at) == ("ended", T0 + 10)
    with pytest.raises(CampaignClosed):
        rf.enrol(session, campaign_id=cid, email="new@x.org", salt=SALT)
    session.rollback()
    late = _buy(session, cid, 2, code, now=T0 + 20)
    assert late.rewards == ()
    assert late.reward_note is not None
    assert "ended" in late.reward_note
    # A refund of the unrewarded order is recorded too; the ledger replays at that moment,
    # and the earlier rewards have left their hold (an hour) as they would have anyway.
    refund = rf.record_event(
        session, campaign_id=cid, event=rf.EventInput("refund", "r2", order_id="o2"), now=T0 + 7200
    )
    assert refund.kind == "refund"
    later = _buy(session, cid, 1, code, now=T0 + 7300)
    assert later.replayed
    assert {r.status for r in later.rewards} == {"granted"}
    with pytest.raises(CampaignClosed):
        rf.resume_campaign(session, campaign_id=cid)
    with pytest.raises(CampaignClosed):
        rf.pause_campaign(session, campaign_id=cid)
    with pytest.raises(CampaignClosed):
        rf.update_campaign(session, campaign_id=cid, changes={"goal": "x"})
    assert rf.end_campaign(session, campaign_id=cid).changed is False


def test_a_refund_after_the_end_claws_back(session: Session) -> None:
    _, cid, code = _setup(session)
    _buy(session, cid, 1, code, now=T0)
    rf.end_campaign(session, campaign_id=cid, now=T0 + 10)
    session.commit()
    rf.record_event(
        session,
        campaign_id=cid,
        event=rf.EventInput("refund", "r1", order_id="o1"),
        now=T0 + 7200,
    )
    rewards = {r.status for r in _buy(session, cid, 1, code, now=T0 + 7300).rewards}
    assert rewards == {"clawed_back"}  # granted after the hold, refunded after the end


def test_pausing_twice_changes_nothing(session: Session) -> None:
    _, cid, _ = _setup(session)
    rf.pause_campaign(session, campaign_id=cid, now=T0)
    assert rf.pause_campaign(session, campaign_id=cid, now=T0 + 5).changed is False
    assert rf.resume_campaign(session, campaign_id=cid).changed is True
    assert rf.resume_campaign(session, campaign_id=cid).changed is False
    assert [e.action for e in rf.campaign_audit(session, campaign_id=cid)] == [
        "create",
        "pause",
        "resume",
    ]


_MOVES = {"pause": rf.pause_campaign, "resume": rf.resume_campaign, "end": rf.end_campaign}
_NEXT = {
    ("active", "pause"): "paused",
    ("paused", "resume"): "active",
    ("active", "end"): "ended",
    ("paused", "end"): "ended",
}


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(st.sampled_from(sorted(_MOVES)), max_size=8))
def test_the_status_follows_the_state_machine(session: Session, actions: list[str]) -> None:
    tid = tenants_repo.get_or_create_tenant(session, slug="acme").id
    name = f"c{len(rf.list_campaigns(session, tenant_id=tid))}"
    cid = rf.create_campaign(
        session, tenant_id=tid, document={"name": name, "destinations": ALLOW}
    ).id
    status = "active"
    for action in actions:
        expected = _NEXT.get((status, action), status)
        refused = status == "ended" and action != "end"
        try:
            view = _MOVES[action](session, campaign_id=cid)
        except CampaignClosed:
            assert refused
            continue
        assert not refused
        assert view.status == expected
        assert view.changed == (expected != status)
        status = expected
    session.commit()
    assert rf.get_campaign(session, campaign_id=cid).status == status


# ---------------------------------------------------------------------------- participants
def test_participants_search_and_paging(session: Session) -> None:
    _, cid, _ = _setup(session)
    for n in range(7):
        rf.enrol(session, campaign_id=cid, email=f"bob{n}@x.org", salt=SALT)
    rf.enrol(session, campaign_id=cid, email="bo_b@x.org", salt=SALT)
    session.commit()
    page = rf.list_participants(session, campaign_id=cid, limit=3)
    assert page.total == 9
    assert [p.email for p in page.items] == ["ann@x.org", "bob0@x.org", "bob1@x.org"]
    seen = [p.email for p in page.items]
    while page.next_cursor is not None:
        page = rf.list_participants(session, campaign_id=cid, limit=3, cursor=page.next_cursor)
        seen += [p.email for p in page.items]
    assert len(seen) == len(set(seen)) == 9
    found = rf.list_participants(session, campaign_id=cid, search="BOB", limit=50)
    assert (found.total, found.next_cursor) == (7, None)
    assert all(p.code for p in found.items)
    literal = rf.list_participants(session, campaign_id=cid, search="bo_")  # _ is no wildcard
    assert [p.email for p in literal.items] == ["bo_b@x.org"]
    for bad, field in (({"limit": 0}, "limit"), ({"cursor": "x"}, "cursor")):
        with pytest.raises(BadInput) as caught:
            rf.list_participants(session, campaign_id=cid, **bad)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(CampaignNotFound):
        rf.list_participants(session, campaign_id=cid, tenant_id=cid + 1000)


# ---------------------------------------------------------------------------- API
@pytest.fixture
def client(store_url: str) -> Iterator[httpx.Client]:
    config = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": SALT,
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
        }
    )
    key = api_key(store_url)
    with (
        serve(create_app(config)) as base,
        httpx.Client(base_url=base, timeout=30, headers=auth(key)) as c,
    ):
        yield c


def test_the_api_edits_pauses_resumes_and_ends(client: httpx.Client, store_url: str) -> None:
    made = client.post(
        "/api/campaigns", json={"name": "spring", "destinations": ALLOW, "offer": OFFER}
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert made.json()["status"] == "active"
    edited = client.patch(f"/api/campaigns/{cid}", json={"velocity_limit": 4, "goal": "g"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["velocity_limit"], edited.json()["goal"]) == (4, "g")
    bad = client.patch(f"/api/campaigns/{cid}", json={"velocity_limit": 1})
    assert bad.status_code == 422
    assert bad.json()["field"] == "velocity_limit"
    unknown = client.patch(f"/api/campaigns/{cid}", json={"colour": "red"})
    assert unknown.status_code == 422
    code = client.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"})
    assert code.status_code == 200, code.text
    paused = client.post(f"/api/campaigns/{cid}/pause")
    assert paused.json()["status"] == "paused"
    refused = client.post(f"/api/campaigns/{cid}/participants", json={"email": "new@x.org"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "CampaignClosed"
    # Links keep working while paused: the click goes to the destination and is counted.
    link = httpx.get(f"{client.base_url}/r/{code.json()['code']}", follow_redirects=False)
    assert link.status_code in (302, 303, 307)
    assert link.headers["location"].startswith(ALLOW[0])
    event = client.post(
        "/api/events",
        json={
            "campaign_id": cid,
            "kind": "purchase",
            "idempotency_key": "p1",
            "email": "bob@x.org",
            "coupon_code": code.json()["code"],
            "order_id": "o1",
            "value": 40,
        },
    )
    assert event.status_code == 200, event.text
    assert event.json()["rewards"] == []
    assert "paused" in event.json()["reward_note"]
    assert client.post(f"/api/campaigns/{cid}/resume").json()["status"] == "active"
    assert client.post(f"/api/campaigns/{cid}/end").json()["status"] == "ended"
    final = client.post(f"/api/campaigns/{cid}/resume")
    assert final.status_code == 409
    assert final.json()["error"] == "CampaignClosed"
    other = api_key(store_url, "bolt")
    hidden = client.post(f"/api/campaigns/{cid}/pause", headers=auth(other))
    assert hidden.status_code == 404
    assert hidden.json()["error"] == "NotFound"
    reader = api_key(store_url, "acme", role="read")
    assert client.post(f"/api/campaigns/{cid}/end", headers=auth(reader)).status_code == 403
    with Store(store_url) as store, Session(store.engine) as session:
        stored = events_repo.find_event(session, campaign_id=cid, idempotency_key="p1")
        assert stored is not None
        assert stored.reward_note is not None


def test_the_api_lists_participants(client: httpx.Client) -> None:
    cid = client.post("/api/campaigns", json={"name": "s", "destinations": ALLOW}).json()["id"]
    for n in range(5):
        client.post(f"/api/campaigns/{cid}/participants", json={"email": f"p{n}@x.org"})
    first = client.get(f"/api/campaigns/{cid}/participants", params={"limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (len(body["items"]), body["total"]) == (2, 5)
    second = client.get(
        f"/api/campaigns/{cid}/participants", params={"limit": 2, "cursor": body["next_cursor"]}
    ).json()
    assert [i["email"] for i in second["items"]] == ["p2@x.org", "p3@x.org"]
    searched = client.get(f"/api/campaigns/{cid}/participants", params={"q": "P4"}).json()
    assert [i["email"] for i in searched["items"]] == ["p4@x.org"]
    too_many = client.get(f"/api/campaigns/{cid}/participants", params={"limit": 501})
    assert too_many.status_code == 422
    bad_cursor = client.get(f"/api/campaigns/{cid}/participants", params={"cursor": "abc"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["field"] == "cursor"


# ---------------------------------------------------------------------------- CLI
runner = CliRunner()


def _cli(*args: str, db: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, [*args, "--db", db], env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_edits_and_moves_campaigns(store_url: str) -> None:
    code, _, err = _cli(
        "campaign", "create", "--name", "spring", "--destination", ALLOW[0], db=store_url
    )
    assert code == 0, err
    code, out, err = _cli(
        "campaign",
        "edit",
        "spring",
        "--set",
        "review_threshold=high",
        "--set",
        "velocity_limit=5",
        "--json",
        db=store_url,
    )
    assert code == 0, err
    assert (json.loads(out)["review_threshold"], json.loads(out)["velocity_limit"]) == ("high", 5)
    code, _, err = _cli("campaign", "edit", "spring", "--set", "velocity_limit=1", db=store_url)
    assert code == 1
    assert "field 'velocity_limit'" in " ".join(err.split())
    assert "[2, inf)" in " ".join(err.split())
    code, out, err = _cli("campaign", "pause", "spring", db=store_url)
    assert code == 0, err
    assert "paused" in out
    assert "already paused" in _cli("campaign", "pause", "spring", db=store_url)[1]
    assert _cli("campaign", "resume", "spring", db=store_url)[0] == 0
    assert _cli("campaign", "end", "spring", db=store_url)[0] == 0
    code, _, err = _cli("campaign", "resume", "spring", db=store_url)
    assert code == 1
    assert "has ended" in err
    code, out, _ = _cli("campaign", "list", "--format", "json", db=store_url)
    assert json.loads(out)[0]["status"] == "ended"
    code, _, err = _cli("campaign", "pause", "nope", db=store_url)
    assert code == 1
    assert "has no campaign 'nope'" in err


def test_the_cli_lists_participants(store_url: str) -> None:
    _cli("campaign", "create", "--name", "s", "--destination", ALLOW[0], db=store_url)
    with Store(store_url) as store, Session(store.engine) as session:
        tid = tenants_repo.get_or_create_tenant(session, slug="default").id
        cid = rf.get_campaign(session, name="s", tenant_id=tid).id
        for email in ("ann@x.org", "bob@x.org", "bea@x.org"):
            rf.enrol(session, campaign_id=cid, email=email, salt=SALT)
        session.commit()
    code, out, err = _cli(
        "campaign", "participants", "s", "--search", "b", "--format", "json", db=store_url
    )
    assert code == 0, err
    assert [p["email"] for p in json.loads(out)] == ["bob@x.org", "bea@x.org"]
    code, out, err = _cli(
        "campaign", "participants", "s", "--limit", "1", "--format", "csv", db=store_url
    )
    assert code == 0, err
    assert out.splitlines()[0].startswith("participant_id,")
    assert len(out.splitlines()) == 2
    assert "more: --cursor" in err
