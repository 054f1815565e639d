"""The store's cascades and roles as analysis inputs, cached per data version."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grapevine.cascades import forest_from_posts, tree_metrics
from grapevine.errors import BadInput
from grapevine.store import Store, import_file
from grapevine.store.analysis_repo import (
    cached,
    cascade_sources,
    clear_cache,
    data_version,
    network_sources,
    store_cascades,
    store_people,
    warm,
)
from spread_fixtures import fill


def test_sources_cascades_and_people(store: Store, tmp_path: Path) -> None:
    assert cascade_sources(store) == []
    assert network_sources(store) == []
    with pytest.raises(BadInput, match="no cascades in the store for platform 'weibo'"):
        store_cascades(store, "weibo")
    fill(store, tmp_path)
    [source] = cascade_sources(store)
    assert (source.platform, source.kind, source.count) == ("weibo", "posts", 479)
    assert [(s.platform, s.kind) for s in network_sources(store)] == [("weibo", "ties")]
    data = store_cascades(store, "weibo")
    want = tree_metrics(forest_from_posts(store.posts(platform="weibo")))
    assert data.summary["size"].tolist() == want["size"].tolist()
    assert data.source == "posts with parent links"
    people = store_people(store, "weibo")
    assert len(people.roles) == people.graph.n_nodes == len(people.community)
    assert people.roles.sort_values("connector_order")["id"].iloc[0] in {"u0", "u50", "u100"}


def test_retweets_make_star_trees(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "higgs.txt"
    path.write_text("2 1 100 RT\n3 1 160 RT\n4 1 200 RT\n5 2 300 RT\n")
    import_file(store, "higgs", path)
    [source] = cascade_sources(store)
    assert source.kind == "retweets"
    data = store_cascades(store, source.platform)
    assert data.source == "retweets (star trees)"
    assert data.summary["size"].tolist() == [4, 2]


def test_the_cache_follows_the_data(store: Store, tmp_path: Path) -> None:
    clear_cache()
    calls = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    assert cached(store, ("x",), build) == 1
    assert cached(store, ("x",), build) == 1  # the same data: computed once
    before = data_version(store)
    path = tmp_path / "e.txt"
    path.write_text("a b\nb c\n")
    import_file(store, "edges", path)
    assert data_version(store) != before
    assert cached(store, ("x",), build) == 2  # new data: computed again


def test_concurrent_callers_wait_for_one_build(store: Store) -> None:
    clear_cache()
    started = threading.Event()
    release = threading.Event()
    calls = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(10)
        return "done"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cached(store, ("y",), slow)))
               for _ in range(3)]  # fmt: skip
    threads[0].start()
    started.wait(10)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert results == ["done"] * 3
    assert len(calls) == 1


def test_warm_computes_every_platform(store: Store, tmp_path: Path) -> None:
    fill(store, tmp_path)
    assert warm(store) == ["cascades of weibo", "roles of weibo"]


def test_roles_stored_with_the_people_are_used(store: Store, tmp_path: Path) -> None:
    import pandas as pd

    from grapevine.connectors import Batch
    from grapevine.roles import ROLES, influencer_roles

    fill(store, tmp_path)
    graph = store.graph(platform="weibo")
    scored = influencer_roles(graph, random_state=0)
    keep = [f"{r}{s}" for r in ROLES for s in ("", "_rank", "_reason", "_data")]
    records = scored[["id", *keep]].to_dict("records")
    for r in records:  # as if salesmen had been scored from a campaign's conversions
        r["salesman_reason"] = f"lift of {r['id']}"
    persons = pd.DataFrame(
        {
            "handle": [str(r["id"]) for r in records],
            "display_name": None,
            "followers": None,
            "attributes": [
                {"roles": {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()
                           if k != "id"}} for r in records
            ],
        }
    )  # fmt: skip
    store.write(Batch(platform="weibo", rows=len(persons), persons=persons))
    people = store_people(store, "weibo")
    assert people.origin == "stored with the people"
    assert people.roles["salesman_reason"].iloc[0].startswith("lift of")
    for role in ROLES:
        orders = people.roles[f"{role}_order"].to_numpy()
        assert sorted(orders.tolist()) == list(range(1, len(orders) + 1))
    best = people.roles.sort_values("connector_order")["id"].iloc[0]
    assert best == scored.sort_values("connector_rank", kind="stable")["id"].iloc[0]
