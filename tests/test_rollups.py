"""The referral rollups: kept current by every write, equal to a rebuild from the events.

A random stream of clicks (through the click writer's insert), shares, signups, purchases,
refunds, rewards and erasures, with re-sent events, late events and times outside the
stored range, leaves exactly the rollups that :func:`rebuild_rollups` computes from the
events, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine.service._clicks import Click, insert_clicks
from grapevine.store import Store
from grapevine.store.campaigns_repo import create_campaign
from grapevine.store.erasure_repo import erase_person
from grapevine.store.events_repo import add_event
from grapevine.store.models import Person, Reward, Tenant
from grapevine.store.persons_repo import get_or_create_person
from grapevine.store.rollups_rebuild import rebuild_rollups
from grapevine.store.rollups_repo import day_of

T0 = 1_800_000_000.0
PEOPLE = 6

_COUNTERS = {
    "referral_rollups": 4,
    "referrer_channel_rollups": 3,
    "reward_rollups": 2,
}


def new_campaign(session: Session, rules: dict[str, Any] | None = None) -> tuple[int, int]:
    """A fresh tenant and campaign: ``(tenant_id, campaign_id)``."""
    tenant = Tenant(slug=f"t-{uuid.uuid4().hex[:10]}", name="t", created_at=0.0)
    session.add(tenant)
    session.flush()
    campaign = create_campaign(
        session,
        tenant_id=tenant.id,
        name="c",
        goal=None,
        offer=None,
        rules={"destinations": ["https://shop.example/"], "window_days": 30, **(rules or {})},
    )
    return tenant.id, campaign.id


def people(session: Session, n: int = PEOPLE) -> list[int]:
    tag = uuid.uuid4().hex[:8]
    return [
        get_or_create_person(session, platform="email", handle=f"p{i}-{tag}@x.example").id
        for i in range(n)
    ]


def snapshot(session: Session, campaign_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The campaign's rollups as sorted rows: rounded amounts, rows of zeros left out."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in (*_COUNTERS, "referrer_rollups"):
        rows = []
        for row in session.execute(
            text(f"SELECT * FROM {table} WHERE campaign_id = :c"), {"c": campaign_id}
        ):
            values = tuple(round(v, 4) if isinstance(v, float) else v for v in row)
            keys = _COUNTERS.get(table)
            if keys is not None and not any(values[keys:]):
                continue
            rows.append(values)
        out[table] = sorted(rows, key=repr)
    return out


# ---------------------------------------------------------------------------- the stream
_times = st.one_of(
    st.floats(T0 - 5 * 86400, T0 + 10 * 86400, allow_nan=False).map(lambda t: round(t, 1)),
    st.sampled_from([T0, T0 + 86400.0, 5e9]),  # a day boundary, and a time out of range
)
_person = st.integers(0, PEOPLE - 1)
_maybe_person = st.one_of(st.none(), _person)
_channel = st.sampled_from([None, "x", "email", "coupon"])
_key = st.integers(0, 12).map(lambda i: f"k{i}")  # a small pool: re-sent events

_click = st.fixed_dictionaries(
    {
        "op": st.just("clicks"),
        "clicks": st.lists(
            st.fixed_dictionaries(
                {
                    "time": _times,
                    "referrer": _person,
                    "traffic": st.sampled_from(["browser", "browser", "bot", "preview"]),
                    "visitor": st.sampled_from(["v0", "v1", "v2", "v3"]),
                    "channel": _channel,
                    "key": st.integers(0, 8).map(lambda i: f"c{i}"),
                }
            ),
            min_size=1,
            max_size=6,
        ),
    }
)
_event = st.fixed_dictionaries(
    {
        "op": st.just("event"),
        "kind": st.sampled_from(["signup", "signup", "purchase", "refund", "share"]),
        "time": _times,
        "referrer": _maybe_person,
        "person": _person,
        "channel": _channel,
        "value": st.sampled_from([None, 10.0, 25.5]),
        "order": st.integers(0, 4).map(lambda i: f"o{i}"),
        "key": _key,
        "visitor": st.sampled_from([None, "v0", "v1"]),  # what an erasure forgets
    }
)
_reward = st.fixed_dictionaries(
    {
        "op": st.just("reward"),
        "person": _maybe_person,
        "status": st.sampled_from(["pending", "granted", "review"]),
        "amount": st.sampled_from([5.0, 7.25, -1.0]),
    }
)
_change = st.fixed_dictionaries(
    {
        "op": st.just("void"),
        "which": st.integers(0, 10),
        "status": st.sampled_from(["void", "clawed_back", "granted"]),
    }
)
_erase = st.fixed_dictionaries({"op": st.just("erase"), "person": _person})
_stream = st.lists(st.one_of(_click, _event, _event, _event, _reward, _change, _erase), max_size=25)


def play(session: Session, tenant: int, campaign: int, who: list[int], stream: list[Any]) -> None:
    """Write the stream as the service would: each step in a savepoint, a duplicate (the
    unique indexes) rolled back like a re-sent request."""
    rewards: list[int] = []
    for n, step in enumerate(stream):
        if step["op"] == "clicks":
            rows = [
                Click(
                    campaign_id=campaign,
                    code="CODE",
                    referrer_id=who[c["referrer"]],
                    time=c["time"],
                    visitor_id=c["visitor"],
                    traffic=c["traffic"],
                    channel=c["channel"],
                    click_id=c["key"],
                ).row("")
                for c in step["clicks"]
            ]
            insert_clicks(session.connection(), rows)
        elif step["op"] == "event":
            referrer = None if step["referrer"] is None else who[step["referrer"]]
            fields: dict[str, Any] = {
                "referrer_id": referrer,
                "idempotency_key": step["key"],
                "channel": step["channel"],
            }
            if step["kind"] != "share":
                fields["person_id"] = who[step["person"]]
                fields["visitor_id"] = step["visitor"]
            if step["kind"] in ("purchase", "refund"):
                fields.update(value=step["value"], order_id=step["order"])
            try:
                with session.begin_nested():
                    kind, when = step["kind"], step["time"]
                    add_event(session, campaign_id=campaign, kind=kind, time=when, **fields)
            except IntegrityError:
                pass  # re-sent: the first one stands
        elif step["op"] == "reward":
            reward = Reward(
                campaign_id=campaign,
                reward_key=f"r{n}",
                event_key=f"e{n}",
                person_id=None if step["person"] is None else who[step["person"]],
                role="referrer",
                amount=step["amount"],
                order_id=f"o{n}",
                earned_at=T0,
                available_at=T0,
                status=step["status"],
                reason="test",
            )
            session.add(reward)
            session.flush()
            rewards.append(reward.id)
        elif step["op"] == "void" and rewards:
            row = session.get(Reward, rewards[step["which"] % len(rewards)])
            assert row is not None
            row.status = step["status"]
            session.flush()
        elif step["op"] == "erase":
            person = session.get(Person, who[step["person"]])
            if person is not None and person.platform == "email":
                erase_person(
                    session,
                    tenant_id=tenant,
                    person_id=person.id,
                    ref_hash=uuid.uuid4().hex,
                    by="test",
                    now=time.time(),
                )
                # The erased person is a tombstone now: later events name the tombstone.
                who[step["person"]] = int(
                    session.scalars(
                        select(Person.id)
                        .where(Person.platform == "erased")
                        .order_by(Person.id.desc())
                        .limit(1)
                    ).one()
                )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=_stream)
def test_incremental_rollups_equal_a_rebuild(store: Store, stream: list[Any]) -> None:
    with Session(store.engine) as session:
        tenant, campaign = new_campaign(session)
        who = people(session)
        play(session, tenant, campaign, who, stream)
        session.commit()
        kept = snapshot(session, campaign)
        rebuild_rollups(session, campaign_id=campaign)
        session.commit()
        assert snapshot(session, campaign) == kept


def test_a_rolled_back_write_leaves_no_trace(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        who = people(session, 2)
        session.commit()
        add_event(
            session,
            campaign_id=campaign,
            kind="signup",
            time=T0,
            referrer_id=who[0],
            person_id=who[1],
            idempotency_key="s1",
        )
        session.rollback()
        assert snapshot(session, campaign) == {
            "referral_rollups": [],
            "referrer_channel_rollups": [],
            "reward_rollups": [],
            "referrer_rollups": [],
        }


def test_a_late_signup_moves_a_subtree_to_its_generation(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        a, b, c = people(session, 3)
        # b refers c (b is a root for now), a friend of c clicks c's link.
        add_event(session, campaign_id=campaign, kind="signup", time=T0 + 100,
                  referrer_id=b, person_id=c, idempotency_key="1")  # fmt: skip
        insert_clicks(
            session.connection(),
            [Click(campaign, "C", c, T0 + 200, "v1", "browser", click_id="k").row("")],
        )
        gens: dict[int, int | None] = dict(
            session.execute(
                text("SELECT person_id, generation FROM referrer_rollups WHERE campaign_id=:c"),
                {"c": campaign},
            ).all()
        )
        assert gens == {b: 0, c: 1}
        # Late: b had signed up earlier, referred by a. b, c move down a generation.
        add_event(session, campaign_id=campaign, kind="signup", time=T0,
                  referrer_id=a, person_id=b, idempotency_key="2")  # fmt: skip
        gens = dict(
            session.execute(
                text("SELECT person_id, generation FROM referrer_rollups WHERE campaign_id=:c"),
                {"c": campaign},
            ).all()
        )
        assert gens == {a: 0, b: 1, c: 2}
        clicks = session.execute(
            text(
                "SELECT generation, clicks_human, visitors FROM referral_rollups "
                "WHERE campaign_id=:c AND clicks_human > 0"
            ),
            {"c": campaign},
        ).all()
        assert [tuple(r) for r in clicks] == [(2, 1, 1)]
        kept = snapshot(session, campaign)
        rebuild_rollups(session, campaign_id=campaign)
        assert snapshot(session, campaign) == kept


def test_a_referral_cycle_has_no_generation(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        a, b = people(session, 2)
        add_event(session, campaign_id=campaign, kind="signup", time=T0,
                  referrer_id=b, person_id=a, idempotency_key="1")  # fmt: skip
        add_event(session, campaign_id=campaign, kind="signup", time=T0 + 5,
                  referrer_id=a, person_id=b, idempotency_key="2")  # fmt: skip
        gens = session.execute(
            text("SELECT generation FROM referrer_rollups WHERE campaign_id=:c"),
            {"c": campaign},
        ).scalars()
        assert list(gens) == [None, None]
        kept = snapshot(session, campaign)
        rebuild_rollups(session, campaign_id=campaign)
        assert snapshot(session, campaign) == kept


@pytest.mark.parametrize(
    ("t", "day"),
    [
        (0.0, 0),
        (86399.9, 0),
        (86400.0, 1),
        (-0.5, -1),
        (-2208988800.0, -25567),
        (5e9, -(2**31)),
        (math.nan, -(2**31)),
    ],
)
def test_days_are_utc_days_since_the_epoch(t: float, day: int) -> None:
    assert day_of(t) == day
