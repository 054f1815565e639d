"""The campaign figures from the rollups: K-factor with the campaign's conversion event,
cohorts, cycle time, the reason of every missing figure, the leaderboard and a
participant's own figures; through the API on a real server and the CLI."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.cascades import k_factor, viral_cycle_time
from grapevine.config import Settings
from grapevine.errors import BadInput, InvalidParameter
from grapevine.service import create_app
from grapevine.service._clicks import Click, insert_clicks
from grapevine.store import Store
from grapevine.store.codes_repo import get_or_create_participant
from grapevine.store.events_repo import add_event
from support import api_key, auth, serve
from test_rollups import T0, new_campaign, people

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _reference(events: list[tuple[str, int | None, int | None, float]]) -> dict[str, Any]:
    """The figures of :mod:`grapevine.cascades` over the raw events (the old way)."""
    frame = pd.DataFrame(
        [(None if r is None else str(r), None if p is None else str(p), k, t)
         for k, r, p, t in events],
        columns=["referrer", "person", "kind", "time"],
    )  # fmt: skip
    cohorts = {}
    for name, cohort in (("generation", "generation"), ("week", "W")):
        table = k_factor(frame, cohort=cohort)
        cohorts[name] = [
            (str(row.cohort), int(row.adopters), int(row.invitations), int(row.signups))
            for row in table.itertuples(index=False)
            if not pd.isna(row.cohort)  # referrers with no signup of their own: no cohort
        ]
    return {
        "k": float(k_factor(frame)["k"].iloc[0]),
        "cycle": viral_cycle_time(frame).median,
        **cohorts,
    }


_signup_stream = st.lists(
    st.tuples(
        st.sampled_from(["signup", "signup", "share", "click"]),
        st.one_of(st.none(), st.integers(0, 5)),
        st.integers(0, 5),
        st.floats(T0, T0 + 30 * 86400, allow_nan=False).map(lambda t: round(t)),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=_signup_stream)
def test_k_from_rollups_equals_k_factor_over_the_events(
    store: Store, stream: list[tuple[str, int | None, int, float]]
) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        who = people(session)
        events: list[tuple[str, int | None, int | None, float]] = []
        for n, (kind, ref, person, t) in enumerate(stream):
            referrer = None if ref is None else who[ref]
            if kind == "click":
                if referrer is None:
                    continue
                row = Click(campaign, "C", referrer, t, f"v{n}", "browser", click_id=f"c{n}")
                insert_clicks(session.connection(), [row.row("")])
                events.append(("click", referrer, None, t))
                continue
            pid = who[person] if kind == "signup" else None
            add_event(
                session,
                campaign_id=campaign,
                kind=kind,
                time=t,
                referrer_id=referrer,
                person_id=pid,
                idempotency_key=f"e{n}",
            )
            events.append((kind, referrer, pid, t))
        session.commit()
        try:
            want = _reference(events)
        except BadInput:  # the referral links form a cycle: k_factor refuses them
            assume(False)
        got = rf.campaign_stats(session, campaign_id=campaign)
    assert got.conversion_event == "signup"
    if math.isnan(want["k"]):
        assert got.k_factor is None
    else:
        assert got.k_factor == pytest.approx(want["k"])
    gens = [(c.cohort, c.adopters, c.invitations, c.signups) for c in got.k_by_generation]
    assert gens == want["generation"]
    weeks = [(c.cohort, c.adopters, c.invitations, c.signups) for c in got.k_by_week]
    assert weeks == want["week"]
    if math.isnan(want["cycle"]):
        assert got.cycle_time_median_s is None
        assert "cycle_time_median_s" in got.reasons
    else:
        assert got.cycle_time_median_s == pytest.approx(want["cycle"])


def test_k_counts_purchases_when_the_campaign_converts_on_them(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session, {"conversion_event": "purchase"})
        ann, bob, cat, dan = people(session, 4)
        insert_clicks(
            session.connection(),
            [Click(campaign, "A", ann, T0 + i, f"v{i}", "browser", click_id=f"c{i}").row("")
             for i in range(4)],
        )  # fmt: skip
        for n, (who, t, value) in enumerate([(bob, 100, 30.0), (cat, 200, 20.0), (bob, 300, 5.0)]):
            add_event(session, campaign_id=campaign, kind="purchase", time=T0 + t,
                      referrer_id=ann, person_id=who, value=value, order_id=f"o{n}",
                      idempotency_key=f"p{n}")  # fmt: skip
        add_event(session, campaign_id=campaign, kind="purchase", time=T0 + 400,
                  person_id=dan, value=9.0, order_id="o9", idempotency_key="p9")  # fmt: skip
        add_event(session, campaign_id=campaign, kind="refund", time=T0 + 500,
                  referrer_id=ann, person_id=cat, value=20.0, order_id="o1",
                  idempotency_key="r1")  # fmt: skip
        session.commit()
        got = rf.campaign_stats(session, campaign_id=campaign)
    # Adopters: ann (referrer), bob, cat, dan (customers); ann brought bob and cat.
    assert got.conversion_event == "purchase"
    assert got.k_factor == pytest.approx(2 / 4)
    assert (got.purchases, got.referred_purchases, got.refunds) == (4, 3, 1)
    assert (got.revenue, got.refunded) == (64.0, 20.0)
    assert got.clicks == {"human": 4, "bot": 0, "preview": 0}
    assert got.visitors == 4
    assert got.invitation_kind == "click"
    assert [(c.cohort, c.adopters, c.conversions) for c in got.k_by_generation] == [
        ("0", 2, 2),
        ("1", 2, 0),
    ]
    assert got.cycle_time_median_s is None  # ann never bought
    assert got.reasons["cycle_time_median_s"] == (
        "no referred purchase whose referrer's own purchase is known"
    )


def test_a_bad_conversion_event_is_refused_naming_the_rule(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session, {"conversion_event": "visit"})
        with pytest.raises(BadInput, match="must be 'signup' or 'purchase'") as caught:
            rf.campaign_stats(session, campaign_id=campaign)
    assert caught.value.field == "rules.conversion_event"
    with pytest.raises(BadInput, match="conversion_event"):
        rf.check_campaign(
            {"name": "x", "destinations": ["https://a.example/"], "conversion_event": "visit"},
            default_window_days=30,
        )


def test_every_missing_figure_says_why(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        got = rf.campaign_stats(session, campaign_id=campaign)
    assert got.k_factor is None
    assert got.cycle_time_median_s is None
    assert got.cycle_time_days is None
    assert got.projected_customers == []
    assert set(got.reasons) == {
        "k_factor",
        "cycle_time_median_s",
        "cycle_time_days",
        "projected_customers",
    }
    assert got.reasons["cycle_time_median_s"] == "no referred signup yet"
    assert got.reasons["projected_customers"].startswith("needs the K-factor")


def test_events_out_of_range_are_counted_apart(store: Store) -> None:
    with Session(store.engine) as session:
        _, campaign = new_campaign(session)
        ann, bob = people(session, 2)
        add_event(session, campaign_id=campaign, kind="signup", time=5e9, referrer_id=ann,
                  person_id=bob, idempotency_key="late")  # fmt: skip
        session.commit()
        got = rf.campaign_stats(session, campaign_id=campaign)
    assert got.signups == 0
    assert got.excluded_events == {"time outside years 1900-2099, UTC": 1}


def _busy_campaign(session: Session) -> tuple[int, list[int]]:
    _, campaign = new_campaign(session)
    who = people(session, 4)
    ann, bob, cat, dan = who
    clicks = [Click(campaign, "A", ann, T0 + i, f"a{i}", "browser", click_id=f"a{i}", channel="x")
              for i in range(5)]  # fmt: skip
    clicks += [Click(campaign, "B", bob, T0 + i, f"b{i}", "bot", click_id=f"b{i}")
               for i in range(3)]  # fmt: skip
    insert_clicks(session.connection(), [c.row("") for c in clicks])
    for n, (ref, person) in enumerate([(ann, bob), (ann, cat), (bob, dan)]):
        add_event(session, campaign_id=campaign, kind="signup", time=T0 + 10 + n,
                  referrer_id=ref, person_id=person, idempotency_key=f"s{n}")  # fmt: skip
    add_event(session, campaign_id=campaign, kind="purchase", time=T0 + 50, referrer_id=bob,
              person_id=dan, value=40.0, order_id="o1", idempotency_key="p1")  # fmt: skip
    session.commit()
    return campaign, who


def test_the_leaderboard_ranks_referrers(store: Store) -> None:
    with Session(store.engine) as session:
        campaign, (ann, bob, _, _) = _busy_campaign(session)
        by_signups = rf.leaderboard(session, campaign_id=campaign)
        by_revenue = rf.leaderboard(session, campaign_id=campaign, by="revenue", limit=1)
        with pytest.raises(InvalidParameter, match="'by' parameter of leaderboard"):
            rf.leaderboard(session, campaign_id=campaign, by="luck")
        with pytest.raises(InvalidParameter, match="'limit'"):
            rf.leaderboard(session, campaign_id=campaign, limit=0)
    assert [(e.rank, e.person_id, e.signups, e.clicks) for e in by_signups] == [
        (1, ann, 2, 5),
        (2, bob, 1, 0),
    ]
    assert [(e.person_id, e.revenue, e.customers) for e in by_revenue] == [(bob, 40.0, 1)]


def test_participant_stats_come_from_the_rollups(store: Store) -> None:
    with Session(store.engine) as session:
        campaign, (ann, _, _, _) = _busy_campaign(session)
        participant, _ = get_or_create_participant(
            session, campaign_id=campaign, person_id=ann, email="ann@x.example", now=T0
        )
        session.commit()
        got = rf.participant_stats(session, participant_id=participant.id)
        assert rf.participant_stats(session, participant_id=10**9) is None
    assert got is not None
    assert (got.clicks, got.signups, got.purchases, got.generation) == (5, 2, 0, 0)
    assert got.clicks_by_channel == {"x": 5}


# ---------------------------------------------------------------------------- API and CLI
@pytest.fixture
def client(store_url: str) -> Iterator[httpx.Client]:
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "rate_limit_per_key": "off",
            "rate_limit_per_ip": "off",
            "ip_salt": "test-salt",
        }
    )
    with serve(create_app(settings)) as base:
        key = api_key(store_url)
        with httpx.Client(base_url=base, timeout=10, headers=auth(key)) as c:
            yield c


def test_stats_and_leaderboard_over_http(client: httpx.Client) -> None:
    body = {
        "name": "shop",
        "destinations": ["https://shop.example/"],
        "conversion_event": "purchase",
    }
    r = client.post("/api/campaigns", json=body)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    ann = client.post(f"/api/campaigns/{cid}/participants", json={"email": "ann@x.org"}).json()
    for n in range(3):  # three browsers click Ann's link (the click writer's path)
        with httpx.Client(base_url=str(client.base_url)) as browser:
            hit = browser.get(f"/r/{ann['code']}", headers={"User-Agent": BROWSER})
            assert hit.status_code == 307
            visitor = hit.cookies["gv_vid"]
        buy = {"campaign_id": cid, "kind": "purchase", "idempotency_key": f"p{n}",
               "email": f"friend{n}@x.org", "order_id": f"o{n}", "value": 10.0,
               "visitor_id": visitor}  # fmt: skip
        assert client.post("/api/events", json=buy).status_code == 200
    stats = client.get(f"/api/campaigns/{cid}/stats").json()
    assert stats["conversion_event"] == "purchase"
    assert (stats["clicks"]["human"], stats["visitors"]) == (3, 3)
    assert (stats["purchases"], stats["referred_purchases"], stats["revenue"]) == (3, 3, 30.0)
    assert stats["k_factor"] == pytest.approx(3 / 4)  # Ann and her three customers
    assert stats["reasons"]["cycle_time_median_s"].startswith("no referred purchase whose")
    board = client.get(f"/api/campaigns/{cid}/leaderboard", params={"by": "customers"}).json()
    assert [(e["person_id"], e["customers"], e["email"]) for e in board["entries"]] == [
        (ann["person_id"], 3, "ann@x.org")
    ]
    assert client.get(f"/api/campaigns/{cid}/leaderboard?by=luck").status_code == 422
    assert client.get(f"/api/campaigns/{cid + 1000}/leaderboard").status_code == 404


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from grapevine.cli.main import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.stdout


def test_cli_stats_rebuild_and_leaderboard(store: Store, store_url: str) -> None:
    with Session(store.engine) as session:
        campaign, (ann, _, _, _) = _busy_campaign(session)
        tenant = session.scalar(
            text("SELECT t.slug FROM tenants t JOIN campaigns c ON c.tenant_id = t.id "
                 "WHERE c.id = :c"),
            {"c": campaign},
        )  # fmt: skip
    db = ["--db", store_url, "--tenant", str(tenant)]
    code, out = _cli("campaign", "stats", str(campaign), "--rebuild", "--json", *db)
    assert code == 0, out
    got = json.loads(out)
    assert got["rebuilt"]["referrer_rollups"] == 4
    assert (got["signups"], got["clicks"]["human"], got["clicks"]["bot"]) == (3, 5, 3)
    code, out = _cli("campaign", "leaderboard", str(campaign), "--by", "clicks", "--format",
                     "json", *db)  # fmt: skip
    assert code == 0, out
    assert [e["person_id"] for e in json.loads(out)] == [ann]
    code, out = _cli("campaign", "stats", str(campaign), *db)
    assert code == 0, out
    assert "K-factor (signups)" in out
    assert _cli("campaign", "leaderboard", str(campaign), "--by", "luck", *db)[0] == 2
