"""The referral workflows of grapevine.referrals, on a real store of each backend.

Campaign creation and edits, enrolment, conversions with attribution and rewards, the Stripe
purchase and refund workflow, the review queue and erasure: called the way the API, the CLI
and the dashboard call them (a session and keyword-only arguments, dataclasses back, the
project's errors raised).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.errors import BadInput, CampaignNotFound, Conflict, NotFound
from grapevine.store import Store, campaigns_repo, events_repo, tenants_repo

SALT = "test-salt"
T0 = 1_800_000_000.0
ALLOW = ["https://shop.example/welcome"]
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 0,
}


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with Session(store.engine) as s:
        yield s


def _tenant(session: Session, slug: str = "acme") -> int:
    tenant = tenants_repo.get_or_create_tenant(session, slug=slug)
    session.commit()
    return tenant.id


def _campaign(session: Session, tenant_id: int, name: str = "spring", **extra: object) -> int:
    view = rf.create_campaign(
        session,
        tenant_id=tenant_id,
        document={"name": name, "destinations": ALLOW, "offer": OFFER, **extra},
        actor="test",
        now=T0,
    )
    session.commit()
    return view.id


# ---------------------------------------------------------------------------- campaigns
def test_create_returns_a_frozen_view_with_defaults(session: Session) -> None:
    tid = _tenant(session)
    view = rf.create_campaign(
        session,
        tenant_id=tid,
        document={"name": "spring", "destinations": ALLOW, "currency": "eur"},
        default_window_days=14,
    )
    assert (view.status, view.window_days, view.attribution, view.currency) == (
        "active",
        14.0,
        "last",
        "EUR",
    )
    assert view.risk == rf.RiskRules()  # the default thresholds
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.name = "x"  # type: ignore[misc]


def test_a_name_is_unique_within_a_tenant_only(session: Session) -> None:
    acme, bolt = _tenant(session, "acme"), _tenant(session, "bolt")
    _campaign(session, acme)
    _campaign(session, bolt)  # another tenant's names are not looked at
    with pytest.raises(Conflict) as caught:
        _campaign(session, acme)
    assert (caught.value.what, caught.value.state) == ("campaign", "exists")


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"destinations": ALLOW}, "name"),
        ({"name": "n"}, "destinations"),
        ({"name": "n", "destinations": ["ftp://x.example"]}, "destinations"),
        ({"name": "n", "destinations": ALLOW, "window_days": 0}, "window_days"),
        ({"name": "n", "destinations": ALLOW, "window_days": 401}, "window_days"),
        ({"name": "n", "destinations": ALLOW, "attribution": "middle"}, "attribution"),
        ({"name": "n", "destinations": ALLOW, "budget": 1e300}, "budget"),
        ({"name": "n", "destinations": ALLOW, "currency": "EURO"}, "currency"),
        ({"name": "n\x00", "destinations": ALLOW}, "name"),
        ({"name": "n", "destinations": ALLOW, "offer": {"referrer": 3}}, "offer"),
        ({"name": "n", "destinations": ALLOW, "review_threshold": "none"}, "review_threshold"),
        ({"name": "n", "destinations": ALLOW, "velocity_limit": 1}, "velocity_limit"),
        ({"name": "n", "destinations": ALLOW, "ip_window_seconds": -1}, "ip_window_seconds"),
        (
            {"name": "n", "destinations": ALLOW, "velocity_window_seconds": 0},
            "velocity_window_seconds",
        ),
        ({"name": "n", "destinations": ALLOW, "event_time_range": [5, 1]}, "event_time_range"),
        ({"name": "n", "destinations": ALLOW, "colour": "red"}, "colour"),
    ],
)
def test_every_field_is_checked_and_named(
    session: Session, document: dict[str, object], field: str
) -> None:
    tid = _tenant(session)
    with pytest.raises(BadInput) as caught:
        rf.create_campaign(session, tenant_id=tid, document=document)
    assert caught.value.field is not None
    assert caught.value.field.split(".")[0] == field
    assert rf.list_campaigns(session, tenant_id=tid) == []


def test_another_tenants_campaign_is_not_found(session: Session) -> None:
    acme, bolt = _tenant(session, "acme"), _tenant(session, "bolt")
    cid = _campaign(session, acme)
    assert rf.get_campaign(session, campaign_id=cid, tenant_id=acme).id == cid
    for ref in (cid, 999_999, 2**64):
        with pytest.raises(CampaignNotFound):
            rf.get_campaign(session, campaign_id=ref, tenant_id=bolt)
    with pytest.raises(NotFound):
        rf.get_campaign(session, name="spring", tenant_id=bolt)
    assert rf.get_campaign(session, name="spring", tenant_id=acme).id == cid


def test_list_campaigns_filters_by_status(session: Session) -> None:
    tid = _tenant(session)
    a, b = _campaign(session, tid, "a"), _campaign(session, tid, "b")
    rf.pause_campaign(session, campaign_id=b)
    session.commit()
    assert [c.id for c in rf.list_campaigns(session, tenant_id=tid)] == [a, b]
    assert [c.id for c in rf.list_campaigns(session, tenant_id=tid, status="paused")] == [b]


# ---------------------------------------------------------------------------- edits
def test_an_edit_is_checked_like_a_creation_and_audited(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    view = rf.update_campaign(
        session,
        campaign_id=cid,
        changes={"goal": "more friends", "velocity_limit": 3, "review_threshold": "high"},
        actor="ann",
        now=T0 + 5,
    )
    session.commit()
    assert view.goal == "more friends"
    assert (view.risk.velocity_limit, view.risk.review_threshold) == (3, "high")
    assert rf.risk_rules(campaigns_repo.find_campaign(session, campaign_id=cid)) == view.risk  # type: ignore[arg-type]
    with pytest.raises(BadInput) as caught:
        rf.update_campaign(session, campaign_id=cid, changes={"velocity_limit": 1})
    assert caught.value.field == "velocity_limit"
    assert "[2, inf)" in str(caught.value)
    trail = rf.campaign_audit(session, campaign_id=cid)
    assert [e.action for e in trail] == ["create", "edit"]
    assert trail[1].actor == "ann"
    assert trail[1].changes["velocity_limit"] == [None, 3]
    assert trail[1].changes["goal"] == [None, "more friends"]


def test_an_edit_that_changes_nothing_writes_nothing(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    view = rf.update_campaign(session, campaign_id=cid, changes={"name": "spring"})
    assert view.changed is False
    assert [e.action for e in rf.campaign_audit(session, campaign_id=cid)] == ["create"]


def test_an_edit_keeps_rules_it_does_not_know(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    row = campaigns_repo.find_campaign(session, campaign_id=cid)
    assert row is not None
    row.rules = {**(row.rules or {}), "landing": "https://shop.example/over"}
    session.commit()
    rf.update_campaign(session, campaign_id=cid, changes={"window_days": 7})
    session.commit()
    session.refresh(row)
    assert row.rules is not None
    assert row.rules["landing"] == "https://shop.example/over"
    assert row.rules["window_days"] == 7.0


def test_renaming_onto_another_campaign_is_a_conflict(session: Session) -> None:
    tid = _tenant(session)
    _campaign(session, tid, "a")
    b = _campaign(session, tid, "b")
    with pytest.raises(Conflict):
        rf.update_campaign(session, campaign_id=b, changes={"name": "a"})


def test_the_offer_is_frozen_once_there_are_rewards(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    code = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT).code
    session.commit()
    rf.record_event(
        session,
        campaign_id=cid,
        event=rf.EventInput(
            "purchase", "p1", email="bob@x.org", coupon_code=code, order_id="o1", value=40
        ),
        now=T0,
    )
    new_offer = {**OFFER, "friend": {"kind": "fixed", "amount": 50}}
    with pytest.raises(Conflict) as caught:
        rf.update_campaign(session, campaign_id=cid, changes={"offer": new_offer})
    assert caught.value.state == "has rewards"
    rf.update_campaign(session, campaign_id=cid, changes={"goal": "still editable"})


# ---------------------------------------------------------------------------- enrolment
def test_enrolment_is_idempotent_on_the_normalised_email(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    first = rf.enrol(session, campaign_id=cid, email="Ann.Smith+x@gmail.com", salt=SALT)
    again = rf.enrol(session, campaign_id=cid, email="annsmith@gmail.com", salt=SALT)
    assert (first.created, again.created) == (True, False)
    assert first.code == again.code
    assert first.email == "annsmith@gmail.com"


@pytest.mark.parametrize(
    ("email", "field"), [("no-at-sign", "email"), ("a\x00@x.org", "email"), ("\ud800@x", "email")]
)
def test_enrolment_refuses_bad_text(session: Session, email: str, field: str) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    with pytest.raises(BadInput) as caught:
        rf.enrol(session, campaign_id=cid, email=email, salt=SALT)
    assert caught.value.field == field


def test_enrolment_needs_the_tenants_campaign(session: Session) -> None:
    acme, bolt = _tenant(session, "acme"), _tenant(session, "bolt")
    cid = _campaign(session, acme)
    with pytest.raises(CampaignNotFound):
        rf.enrol(session, campaign_id=cid, tenant_id=bolt, email="a@x.org", salt=SALT)


# ---------------------------------------------------------------------------- events
def _purchase(key: str, email: str, order: str, code: str | None = None) -> rf.EventInput:
    return rf.EventInput("purchase", key, email=email, coupon_code=code, order_id=order, value=40)


def test_a_referred_purchase_earns_both_sides_and_a_retry_changes_nothing(
    session: Session,
) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    code = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT).code
    session.commit()
    got = rf.record_event(
        session, campaign_id=cid, event=_purchase("p1", "bob@x.org", "o1", code), now=T0
    )
    assert got.replayed is False
    assert got.code == code
    assert got.reward_note is None
    assert sorted((r.role, r.amount) for r in got.rewards) == [("friend", 5.0), ("referrer", 10.0)]
    again = rf.record_event(
        session, campaign_id=cid, event=_purchase("p1", "bob@x.org", "o1", code), now=T0
    )
    assert again.replayed is True
    assert again.event_id == got.event_id
    other_key = rf.record_event(
        session, campaign_id=cid, event=_purchase("p2", "bob@x.org", "o1", code), now=T0
    )
    assert other_key.replayed is True
    assert other_key.event_id == got.event_id  # one per order
    refund = rf.record_event(
        session, campaign_id=cid, event=rf.EventInput("refund", "r1", order_id="o1"), now=T0 + 1
    )
    assert {r.status for r in refund.rewards} == set()  # a refund earns nothing itself
    after = rf.record_event(
        session, campaign_id=cid, event=_purchase("p1", "bob@x.org", "o1", code), now=T0 + 2
    )
    assert {r.status for r in after.rewards} == {"clawed_back"}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (rf.EventInput("purchase", "k", email="b@x.org"), "order_id"),
        (rf.EventInput("signup", "k"), "email"),
        (rf.EventInput("refund", "k", order_id="nope"), "order_id"),
        (rf.EventInput("signup", "k", email="b@x.org", time=1.0), "time"),
    ],
)
def test_a_bad_event_names_its_field_and_stores_nothing(
    session: Session, event: rf.EventInput, field: str
) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    with pytest.raises(BadInput) as caught:
        rf.record_event(session, campaign_id=cid, event=event)
    assert caught.value.field == field
    session.rollback()
    assert events_repo.find_event(session, campaign_id=cid, idempotency_key="k") is None


def test_a_self_referral_earns_no_credit(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    code = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT).code
    session.commit()
    got = rf.record_event(
        session, campaign_id=cid, event=_purchase("p1", "ann@x.org", "o1", code), now=T0
    )
    assert (got.referrer_id, got.code, got.rewards) == (None, None, ())


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keys=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6))
def test_recording_any_sequence_twice_gives_the_same_events(
    session: Session, keys: list[str]
) -> None:
    tid = _tenant(session)
    name = f"h{len(rf.list_campaigns(session, tenant_id=tid))}"
    cid = _campaign(session, tid, name)
    first = {
        k: rf.record_event(
            session,
            campaign_id=cid,
            event=rf.EventInput("signup", k, email=f"{k}@x.org"),
            now=T0,
        ).event_id
        for k in keys
    }
    for k in keys:
        again = rf.record_event(
            session, campaign_id=cid, event=rf.EventInput("signup", k, email=f"{k}@x.org")
        )
        assert again.replayed
        assert again.event_id == first[k]


# ---------------------------------------------------------------------------- Stripe
def test_stripe_checkout_and_refund_credit_only_the_verified_tenant(session: Session) -> None:
    acme, bolt = _tenant(session, "acme"), _tenant(session, "bolt")
    cid = _campaign(session, acme)
    code = rf.enrol(session, campaign_id=cid, email="ann@x.org", salt=SALT).code
    session.commit()
    common = {
        "event_id": "evt_1",
        "client_reference_id": code,
        "metadata": None,
        "email": "bob@x.org",
        "order_id": "pi_1",
        "amount_cents": 4000,
        "currency": "eur",
        "created": T0,
    }
    foreign = rf.record_stripe_checkout(session, tenant_id=bolt, **common)  # type: ignore[arg-type]
    assert foreign.event is None
    assert foreign.ignored
    done = rf.record_stripe_checkout(session, tenant_id=acme, **common)  # type: ignore[arg-type]
    assert done.event is not None
    assert done.event.value == 40.0
    assert not done.replayed
    again = rf.record_stripe_checkout(session, tenant_id=acme, **common)  # type: ignore[arg-type]
    assert again.replayed
    partial = rf.record_stripe_refund(
        session,
        tenant_id=acme,
        event_id="evt_2",
        kind="refund.created",
        intent="pi_1",
        refunded=None,
        amount_cents=100,
        created=T0 + 1,
    )
    assert partial.event is None
    assert "partial" in str(partial.ignored)
    full = rf.record_stripe_refund(
        session,
        tenant_id=acme,
        event_id="evt_3",
        kind="charge.refunded",
        intent="pi_1",
        refunded=True,
        amount_cents=4000,
        created=T0 + 2,
    )
    assert full.event is not None
    assert full.event.kind == "refund"
    second = rf.record_stripe_refund(
        session,
        tenant_id=acme,
        event_id="evt_4",
        kind="refund.created",
        intent="pi_1",
        refunded=None,
        amount_cents=4000,
        created=T0 + 3,
    )
    assert second.event is None
    assert "already refunded" in str(second.ignored)


# ---------------------------------------------------------------------------- review
def test_review_queue_and_decisions(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid, review_threshold="low")
    code = rf.enrol(
        session, campaign_id=cid, email="ann@x.org", salt=SALT, device_id="phone-1"
    ).code
    session.commit()
    # The friend shares the referrer's device: a self-referral signal, held for review.
    rf.enrol(session, campaign_id=cid, email="bob@x.org", salt=SALT, device_id="phone-1")
    session.commit()
    rf.record_event(
        session, campaign_id=cid, event=_purchase("p1", "bob@x.org", "o1", code), salt=SALT
    )
    held = rf.review_entries(session, campaign_id=cid)
    assert [e.event_key for e in held] == ["p1"]
    assert held[0].friend == "b***@x.org"
    with pytest.raises(NotFound):
        rf.decide(session, campaign_id=cid, event_key="nope", outcome="approve", reviewer="r")
    decision = rf.decide(
        session, campaign_id=cid, event_key="p1", outcome="reject", reviewer="rita", note="ring"
    )
    session.commit()
    assert decision.changed
    assert {r.status for r in decision.rewards} == {"void"}
    again = rf.decide(session, campaign_id=cid, event_key="p1", outcome="reject", reviewer="x")
    assert again.changed is False
    assert again.reviewer == "rita"
    with pytest.raises(Conflict):
        rf.decide(session, campaign_id=cid, event_key="p1", outcome="approve", reviewer="x")
    assert rf.review_entries(session, campaign_id=cid) == []


# ---------------------------------------------------------------------------- erasure
def test_erasure_by_email_and_unknown_people(session: Session) -> None:
    tid = _tenant(session)
    cid = _campaign(session, tid)
    rf.enrol(session, campaign_id=cid, email="zoe@x.org", salt=SALT)
    session.commit()
    done = rf.erase(session, tenant_id=tid, ref="ZOE@x.org", by="test", salt=SALT)
    session.commit()
    assert done.counts["participants"] == 1
    with pytest.raises(NotFound) as caught_missing:
        rf.erase(session, tenant_id=tid, ref="zoe@x.org", by="test", salt=SALT)
    assert caught_missing.value.what == "person"
    with pytest.raises(NotFound):
        rf.erase(session, tenant_id=tid, ref=str(2**70), by="test", salt=SALT)
    with pytest.raises(BadInput) as caught:
        rf.erase(session, tenant_id=tid, ref="not a reference", by="test", salt=SALT)
    assert caught.value.field == "ref"
