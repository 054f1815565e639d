"""The planner on a real server: a plan runs in the background with progress, is saved,
compared; bad choices are refused with the field named; viewers cannot run plans."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import BACKENDS
from dashboard_support import csrf_of, signed_in
from grapevine.store import Store
from spread_fixtures import chart_options, spread_site, write_network


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store, Path]]:
    data = tmp_path_factory.mktemp("planner-data")
    write_network(data / "net.txt")
    with spread_site(request, tmp_path_factory, "planner", data_dir=str(data)) as (base, store):
        yield base, store, data


@pytest.fixture(scope="module")
def client(site: tuple[str, Store, Path]) -> Iterator[httpx.Client]:
    with signed_in(site[0], "ann") as c:
        yield c


def _run(client: httpx.Client, **fields: str) -> str:
    token = csrf_of(client.get("/planner").text)
    r = client.post("/planner/run", data={"csrf_token": token, **fields}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return r.headers["location"]


def _wait(client: httpx.Client, plan: str) -> None:
    """Poll the progress fragment as the page does, until it asks for a refresh."""
    seen = []
    for _ in range(600):
        r = client.get(plan + "/progress", headers={"HX-Request": "true"})
        if r.status_code == 204:
            assert r.headers["hx-refresh"] == "true"
            return
        assert r.status_code == 200
        assert 'hx-trigger="every 1s"' in r.text
        seen.append(r.text)
        time.sleep(0.2)
    pytest.fail(f"the plan did not finish: {seen[-1:]}")


def test_run_save_and_compare(client: httpx.Client, site: tuple[str, Store, Path]) -> None:
    first = _run(client, graph="store:weibo", mode="k", k="3", runs="100")
    page = client.get(first)
    assert page.status_code == 200
    _wait(client, first)
    page = client.get(first)
    assert "Seeds in pick order" in page.text
    charts = chart_options(page.text)
    assert set(charts) == {"gains", "reach"}
    data = client.get(first + "/data.json").json()
    assert data["status"] == "done"
    seeds = data["plan"]["seeds"]
    assert len(seeds) == 3
    gains = [s["marginal_gain"] for s in seeds]
    assert gains == sorted(gains, reverse=True)  # greedy picks: gains never grow
    by_round = data["plan"]["reach_by_step"]
    assert by_round[0]["mean"] == 3.0
    assert all(r["p5"] <= r["mean"] <= r["p95"] for r in by_round)
    token = csrf_of(page.text)
    r = client.post(first + "/save", data={"csrf_token": token, "name": "three seeds"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303

    net = str(site[2] / "net.txt")
    second = _run(client, graph="file", graph_file=net, mode="budget", budget="4",
                  costs="degree", runs="100")  # fmt: skip
    _wait(client, second)
    data2 = client.get(second + "/data.json").json()
    assert data2["status"] == "done"
    assert data2["plan"]["spent"] <= 4.0
    assert all("cost" in s for s in data2["plan"]["seeds"])
    r = client.post(second + "/save", data={"csrf_token": token, "name": "three seeds"})
    assert r.status_code == 400
    assert "exists already" in r.text
    client.post(second + "/save", data={"csrf_token": token, "name": "a budget of four"})

    listing = client.get("/planner").text
    assert "three seeds" in listing
    assert "a budget of four" in listing
    ids = [first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]]
    compare = client.get("/planner/compare", params=[("id", i) for i in ids])
    assert compare.status_code == 200
    chart = chart_options(compare.text)["compare"]
    assert chart["legend"]["data"] == ["three seeds", "a budget of four"]
    runs = client.get("/planner", params={"format": "csv", "table": "runs"}).text
    assert "three seeds" in runs


def test_discounts(client: httpx.Client) -> None:
    plan = _run(client, graph="store:weibo", mode="discount", budget="2", levels="0.5,1",
                runs="50")  # fmt: skip
    _wait(client, plan)
    data = client.get(plan + "/data.json").json()
    assert data["status"] == "done", data
    assert data["plan"]["spent"] <= 2.0 + 1e-9
    assert {s["discount"] for s in data["plan"]["seeds"]} <= {0.5, 1.0}
    assert "Discount" in client.get(plan).text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "budget", "budget": ""}, "&#39;budget&#39; parameter"),
        ({"model": "sir"}, "&#39;model&#39; parameter"),
        ({"runs": "99999"}, "&#39;runs&#39; parameter"),
        ({"graph": "file", "graph_file": "/etc/passwd"}, "inside an allowed folder"),
        ({"k": "many"}, "expected a number"),
    ],
)
def test_bad_choices_are_refused(client: httpx.Client, fields: dict, message: str) -> None:
    token = csrf_of(client.get("/planner").text)
    r = client.post("/planner/run", data={"csrf_token": token, "graph": "store:weibo", **fields})
    assert r.status_code == 400
    assert message in r.text


def test_a_plan_that_fails_says_why(client: httpx.Client) -> None:
    plan = _run(client, graph="store:nowhere", mode="k", k="2", runs="10")
    _wait(client, plan)
    data = client.get(plan + "/data.json").json()
    assert data["status"] == "failed"
    assert "no ties" in data["error"]
    assert "no ties" in client.get(plan).text


def test_viewers_cannot_plan_and_forms_need_the_token(
    site: tuple[str, Store, Path], client: httpx.Client
) -> None:
    with signed_in(site[0], "vic") as viewer:
        token = csrf_of(viewer.get("/planner").text)
        r = viewer.post("/planner/run", data={"csrf_token": token, "graph": "store:weibo"})
        assert r.status_code == 403
    assert client.post("/planner/run", data={"graph": "store:weibo"}).status_code == 403
    assert client.get("/planner/plan/999999").status_code == 404
