"""The demo store: ``grapevine demo --no-serve`` builds one store with every capability.

The store is built once per run (demo_support.py) by the real command; the tests read it
with the library. The simulations it uses are checked on their own: reproducible, and a
referral trace always respects cause and effect (Hypothesis).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from demo_support import EXE, demo_store
from grapevine.demo import DEMO_TENANT, build_demo
from grapevine.demo._data import labelled_posts
from grapevine.demo._listening import BURST_RULE, PLATFORM, RULES, simulate_posts
from grapevine.demo._trace import referral_trace
from grapevine.graph import Graph
from grapevine.store import Store, tenants_repo

NOW = 1_796_000_000.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return demo_store(tmp_path_factory)


@pytest.fixture(scope="module")
def demo_db(demo: tuple[Path, str]) -> Store:
    with Store(f"sqlite:///{demo[0]}", create=False) as store:
        yield store


def _scalar(store: Store, sql: str, **params: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


def test_the_command_says_what_it_built_and_what_is_simulated(demo: tuple[Path, str]) -> None:
    out = demo[1]
    for step in ("Higgs", "Weibo", "Ciao trust network", "Listening", "Referral campaign"):
        assert step in out
    assert "simulated" in out
    assert "Largest retweet cascades" in out


def test_info_reads_the_demo_store(demo: tuple[Path, str]) -> None:
    done = subprocess.run(
        [EXE, "info", "--json", "--db", f"sqlite:///{demo[0]}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    kinds = {(r["platform"], r["kind"]) for r in json.loads(done.stdout)["ties"]}
    assert {("higgs", "retweeted"), ("higgs", "mentioned"), ("higgs", "replied")} <= kinds
    assert ("ciao", "trusts") in kinds


def test_every_source_is_in_the_store(demo_db: Store) -> None:
    summary = demo_db.summary()
    persons = {p["platform"]: p["count"] for p in summary["persons"]}
    assert persons["higgs"] > 90_000
    assert persons["ciao"] > 2_000
    ties = {(t["platform"], t["kind"]): t["count"] for t in summary["ties"]}
    assert ties[("higgs", "retweeted")] == 111_104
    assert ties[("ciao", "trusts")] == 57_545
    posts = {p["platform"]: p for p in summary["posts"]}
    assert posts["weibo"]["cascades"] == 30
    assert posts["weibo"]["with_parent"] > 7_000  # the true reshare trees
    assert posts[PLATFORM]["count"] > 6_000


def test_influencer_roles_are_stored_with_their_reasons(demo_db: Store) -> None:
    with demo_db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT attributes FROM persons WHERE platform = 'ciao'")
        ).scalars()
        roles = [(json.loads(r) if isinstance(r, str) else r)["roles"] for r in rows]
    assert len(roles) > 2_000
    top = min(roles, key=lambda r: r["connector_rank"])
    assert top["connector"] > 0
    assert top["connector_reason"]
    salesmen = [r for r in roles if not r["salesman_data"].startswith(("no data", "not enough"))]
    assert salesmen, "the campaign's conversions give some salesman scores"


def test_listening_finds_the_negative_episode(demo_db: Store) -> None:
    from grapevine.listening import buzz_alerts, inbox_items

    newest = _scalar(demo_db, "SELECT max(time) FROM posts WHERE platform = :p", p=PLATFORM)
    alerts = buzz_alerts(demo_db, rule=BURST_RULE)
    # The episode is two days before the build (the newest post is minutes before it).
    episode = [
        a
        for a in alerts
        if a.series == "negative" and newest - 3 * 86_400 <= a.time <= newest - 86_400
    ]
    assert episode, [(a.series, a.time, a.value) for a in alerts]
    assert max(a.value for a in episode) >= 4
    assert inbox_items(demo_db), "matched posts wait in the webcare inbox"
    with demo_db.engine.connect() as conn:
        rules = conn.execute(sa.text("SELECT name FROM watch_rules")).scalars().all()
    assert set(rules) == set(RULES)


def test_the_campaign_ran_through_the_workflows(demo_db: Store) -> None:
    from grapevine.referrals import review_entries

    with demo_db.engine.connect() as conn:
        kinds = dict(
            conn.execute(sa.text("SELECT kind, count(*) FROM referral_events GROUP BY kind")).all()
        )
        channels = conn.execute(
            sa.text("SELECT DISTINCT channel FROM referral_events WHERE kind = 'click'")
        ).scalars()
        assert len(set(channels)) >= 5
    assert kinds["click"] > kinds["signup"] > kinds["purchase"] > kinds["refund"] > 0
    assert _scalar(demo_db, "SELECT count(*) FROM rewards") > 0
    with Session(demo_db.engine) as session:
        tenant = tenants_repo.find_tenant(session, slug=DEMO_TENANT)
        assert tenant is not None
        campaign_id = _scalar(demo_db, "SELECT id FROM campaigns WHERE tenant_id = :t", t=tenant.id)
        held = review_entries(session, campaign_id=campaign_id)
    assert held, "the simulated cheats wait in the review queue"
    assert all(entry.reasons for entry in held)


# ---------------------------------------------------------------------------- simulations
def test_simulated_posts_are_reproducible_and_labelled() -> None:
    texts = labelled_posts()[:400]
    a, b0, b1 = simulate_posts(texts, now=NOW, random_state=3)
    b, _, _ = simulate_posts(texts, now=NOW, random_state=3)
    assert a == b
    assert all(p.platform == PLATFORM and "simulated" in (p.url or "") for p in a)
    times = np.array([p.time for p in a])
    assert times.max() < NOW
    assert times.min() >= NOW - 21 * 86_400
    assert NOW - 3 * 86_400 < b0 < b1 < NOW
    parents = {p.external_id: p.time for p in a}
    assert all(parents[p.parent_external_id] <= p.time for p in a if p.parent_external_id)


def _small_graph(seed: int, n: int) -> Graph:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, size=4 * n)
    dst = rng.integers(0, n, size=4 * n)
    keep = src != dst
    return Graph.from_arrays(src[keep], dst[keep])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60), k=st.integers(1, 4))
def test_a_referral_trace_respects_cause_and_effect(seed: int, n: int, k: int) -> None:
    graph = _small_graph(seed, n)
    seeds = list(graph.ids[:k])
    end = NOW + 30 * 86_400
    trace = referral_trace(graph, seeds, start=NOW, end=end, random_state=seed)
    again = referral_trace(graph, seeds, start=NOW, end=end, random_state=seed)
    assert trace.equals(again)
    signed = trace[trace["signup_time"].notna()]
    assert Counter(signed["person"]).most_common(1)[0][1] == 1  # one sign-up a person
    signup_at = dict(zip(signed["person"], signed["signup_time"], strict=True))
    for row in trace.itertuples(index=False):
        if row.generation == 0:
            assert row.referrer is None or row.referrer != row.referrer
            continue
        assert signup_at[row.referrer] < row.click_time  # shared only after joining
        assert row.click_time < end
        if row.signup_time == row.signup_time:
            assert row.click_time < row.signup_time
        if row.purchase_time == row.purchase_time:
            assert row.signup_time < row.purchase_time < end
        if row.refund_time == row.refund_time:
            assert row.purchase_time < row.refund_time < end


@pytest.mark.slow
@pytest.mark.postgres
def test_the_same_demo_builds_on_postgresql(postgres_schema_url: str, demo_db: Store) -> None:
    with Store(postgres_schema_url) as store:
        built = build_demo(store)
        pg = {
            kind: _scalar(store, "SELECT count(*) FROM referral_events WHERE kind = :k", k=kind)
            for kind in ("click", "signup", "purchase", "refund")
        }
        posts = _scalar(store, "SELECT count(*) FROM posts")
    lite = {
        kind: _scalar(demo_db, "SELECT count(*) FROM referral_events WHERE kind = :k", k=kind)
        for kind in ("click", "signup", "purchase", "refund")
    }
    assert pg == lite
    assert posts == _scalar(demo_db, "SELECT count(*) FROM posts")
    assert next(s.name for s in built.steps).startswith("Higgs")


def test_the_public_namespace_is_all() -> None:
    import grapevine.demo as package

    assert {n for n in dir(package) if not n.startswith("_")} == set(package.__all__)
