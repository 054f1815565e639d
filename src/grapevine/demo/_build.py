"""Build the demo store: every capability of Grapevine on real data, in one store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from grapevine.demo._data import HIGGS, WEIBO, data_file
from grapevine.store import Store, import_file

__all__ = ["DEMO_TENANT", "DemoStep", "DemoStore", "build_demo"]

DEMO_TENANT = "default"
"""The tenant that owns the demo's campaign: the installation's own (every store has it),
which the CLI and the dashboard show first."""

SEEDS = 20
"""The size of the seed plan the campaign starts from."""


@dataclass(frozen=True)
class DemoStep:
    """One step of the build: what it put in the store, from which data, what of it is
    simulated (None: nothing), its counts and how long it took."""

    name: str
    data: str
    simulated: str | None
    counts: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class DemoStore:
    """The demo store that :func:`build_demo` built: its steps, the campaign and the plan."""

    url: str
    steps: tuple[DemoStep, ...]
    campaign_id: int | None = None
    plan_id: int | None = None
    notes: tuple[str, ...] = field(default=())


def build_demo(
    store: Store,
    *,
    now: float | None = None,
    random_state: int = 0,
    on_step: Callable[[DemoStep], None] | None = None,
) -> DemoStore:
    """Fill an empty ``store`` with the demo: every capability on real data.

    Steps, each from data shipped in the package (src/grapevine/data/PROVENANCE.md):

    1. the Higgs boson rumour on Twitter (SNAP, first 80 hours): retweets, mentions, replies;
    2. 30 Sina Weibo cascades with their true reshare trees (DeepHawkes sample);
    3. the Ciao trust network and its influencer roles (stored in ``attributes["roles"]``);
    4. listening: real labelled posts in four languages through the real pipeline (rules,
       language, sentiment, inbox), with simulated authors and times;
    5. a referral campaign simulated on the Ciao network with the library's Independent
       Cascade model: people enrol, click, sign up, buy and are refunded through the real
       workflows, and a few fraudulent sign-ups land in the review queue;
    6. the seed plan the campaign started from, saved (when the store has saved plans).

    Parameters
    ----------
    store : Store
        An empty store (a fresh SQLite file or PostgreSQL schema).
    now : float, optional
        Unix seconds the simulated parts end at (default: the clock).
    random_state : int
        Same value, same simulated data (relative to ``now``).
    on_step : callable, optional
        Called with each :class:`DemoStep` as it finishes (progress).

    Returns
    -------
    DemoStore
    """
    from grapevine.demo import _campaign, _listening, _network

    now = time.time() if now is None else float(now)
    steps: list[DemoStep] = []

    def done(step: DemoStep) -> None:
        steps.append(step)
        if on_step is not None:
            on_step(step)

    t = time.perf_counter()
    with data_file(HIGGS) as path:
        report = import_file(store, "higgs", path, platform="higgs")
    done(
        DemoStep(
            "Higgs boson rumour on Twitter, 1-4 July 2012",
            "SNAP Higgs Twitter (De Domenico et al. 2013), first 80 hours",
            None,
            {"people": report.new.get("persons", 0), "actions": report.new.get("ties", 0)},
            time.perf_counter() - t,
        )
    )
    t = time.perf_counter()
    with data_file(WEIBO) as path:
        report = import_file(store, "cascades", path, platform="weibo")
    done(
        DemoStep(
            "Sina Weibo cascades with their reshare trees, June 2016",
            "DeepHawkes Weibo sample (Cao et al. 2017) via CasFlow",
            None,
            {"cascades": 30, "reshares": report.new.get("posts", 0)},
            time.perf_counter() - t,
        )
    )
    t = time.perf_counter()
    heard = _listening.listening_demo(store, now=now, random_state=random_state)
    done(
        DemoStep(
            "Listening: posts, watch rules, sentiment, webcare inbox",
            "TweetEval, UMSAB (XLM-T), Dutch political and Swedish sentiment sets",
            "authors, times, threads and a negative-buzz episode are simulated; texts real",
            {"posts": heard.posts, "matched": heard.matched, "inbox": heard.inbox},
            time.perf_counter() - t,
        )
    )
    t = time.perf_counter()
    ties = _network.import_network(store)
    graph = _network.influence_graph(store)
    plan_id, seeds = _network.saved_plan(store, k=SEEDS, random_state=random_state)
    done(
        DemoStep(
            "Seed plan on the Ciao trust network (saved)",
            "Ciao trust graph; the planner's k-seed plan, checked by simulation",
            None,
            {"seeds": len(seeds), "trust ties": ties},
            time.perf_counter() - t,
        )
    )
    t = time.perf_counter()
    run, trace = _campaign.campaign_demo(
        store, graph, seeds, now=now, tenant=DEMO_TENANT, random_state=random_state
    )
    done(
        DemoStep(
            "Referral campaign on the Ciao trust network",
            "Ciao trust graph (Tang, Gao, Liu 2012); Independent Cascade, weighted cascade",
            "who refers whom (one IC run from the plan's seeds), delays, channels, purchases, "
            "refunds and a few fraudulent sign-ups are simulated; every event goes through "
            "the real referral workflows",
            {
                "participants": run.participants,
                "clicks": run.clicks,
                "signups": run.signups,
                "purchases": run.purchases,
                "refunds": run.refunds,
                "held for review": run.held_for_review,
            },
            time.perf_counter() - t,
        )
    )
    t = time.perf_counter()
    roles = _network.store_roles(
        store, conversions=_campaign.conversions(trace), random_state=random_state
    )
    done(
        DemoStep(
            "Influencer roles of the Ciao members",
            "connectors from the trust graph; salesmen from the campaign's conversions",
            "the conversions the salesman scores rest on (the simulated campaign's)",
            {"people": roles.people},
            time.perf_counter() - t,
        )
    )
    return DemoStore(
        url=store.url, steps=tuple(steps), campaign_id=run.campaign_id, plan_id=plan_id
    )
