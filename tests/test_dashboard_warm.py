"""A freshly started server computes the spread and people pages' figures before anyone asks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import BACKENDS
from dashboard_support import signed_in
from grapevine.store import Store
from grapevine.store.analysis_repo import cached, cascade_sources, store_cascades
from spread_fixtures import spread_site


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    with spread_site(request, tmp_path_factory, "warm") as found:
        yield found


def _wait_for_warming() -> None:
    for thread in threading.enumerate():
        if thread.name == "grapevine-dashboard-warm":
            thread.join(timeout=300)
            assert not thread.is_alive()


def _never() -> Any:
    raise AssertionError("computed on request: the start-up did not compute it ahead")


def test_the_start_up_fills_the_cache_before_the_first_view(site: tuple[str, Store]) -> None:
    base, store = site
    _wait_for_warming()
    # no page has been asked for yet: all of this must come from the cache
    assert [s.platform for s in cascade_sources(store)] == ["weibo"]
    largest = str(store_cascades(store, "weibo").summary["root"].iloc[0])
    layout, growth, _, forecast, _ = cached(store, ("spread-figures", "weibo", largest), _never)
    assert str(layout["root"]) == largest
    assert growth is not None
    assert forecast is not None
    people = cached(store, ("people", "weibo", 0), _never)
    assert people.graph.n_nodes > 0
    top = cached(store, ("people-view", "weibo", 20), _never)
    assert top.top["connector"]
    with signed_in(base, "ann") as client:
        r = client.get("/spread")
        assert r.status_code == 200
        assert f"Cascade {largest}" in r.text
        assert client.get("/people").status_code == 200


def test_a_failed_warm_up_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from grapevine.dashboard._app import _warm

    empty = Store(f"sqlite:///{tmp_path}/broken.db")
    with empty.engine.begin() as conn:
        conn.execute(text("DROP TABLE posts"))  # what the spread page reads first
    try:
        with caplog.at_level(logging.WARNING, logger="grapevine.dashboard._app"):
            _warm(empty)  # the pages compute on request instead
    finally:
        empty.close()
    assert "warming the dashboard's figures stopped" in caplog.text
