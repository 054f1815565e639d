"""The spread page on a real server: the largest cascades, one tree, R(t), the forecast."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest

from conftest import BACKENDS
from dashboard_support import dashboard_server, signed_in
from grapevine.cascades import forest_from_posts, tree_metrics
from grapevine.store import Store
from spread_fixtures import chart_options, spread_site


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    with spread_site(request, tmp_path_factory, "spread") as found:
        yield found


@pytest.fixture(scope="module")
def client(site: tuple[str, Store]) -> Iterator[httpx.Client]:
    with signed_in(site[0], "ann") as c:
        yield c


@pytest.fixture(scope="module")
def metrics(site: tuple[str, Store]) -> list[dict]:
    """The library's own metrics of the store's trees: what the page must show."""
    posts = site[1].posts(platform="weibo")
    return tree_metrics(forest_from_posts(posts)).to_dict("records")


def test_the_page_shows_the_largest_cascades_and_the_largest_tree(
    client: httpx.Client, metrics: list[dict]
) -> None:
    r = client.get("/spread")
    assert r.status_code == 200, r.text[:500]
    html = r.text
    assert "Largest cascades of weibo" in html
    assert f"Cascade {metrics[0]['root']}" in html
    charts = chart_options(html)
    assert set(charts) == {"tree", "rt", "forecast"}
    nodes = charts["tree"]["series"][0]["data"]
    assert len(nodes) == metrics[0]["size"]  # 120 adopters: all drawn
    assert {n["category"] for n in nodes} == {"root", "organic", "viral"}
    assert len(charts["tree"]["series"][0]["links"]) == len(nodes) - 1
    assert charts["tree"]["series"][0]["roam"] is True
    r_t = next(s for s in charts["rt"]["series"] if s["name"] == "R(t)")
    assert any(v is not None for v in r_t["data"])
    assert any(line.get("yAxis") == 1 for line in r_t["markLine"]["data"])
    names = [s["name"] for s in charts["forecast"]["series"]]
    assert {"observed", "Bass fit", "90% band"} <= set(names)


def test_the_table_downloads_as_csv_with_the_library_metrics(
    client: httpx.Client, metrics: list[dict]
) -> None:
    r = client.get("/spread", params={"format": "csv", "table": "cascades"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["Root"] for row in rows] == [str(m["root"]) for m in metrics]
    assert [int(row["Size"]) for row in rows] == [m["size"] for m in metrics]
    assert [int(row["Depth"]) for row in rows] == [m["depth"] for m in metrics]
    assert float(rows[0]["Virality"]) == pytest.approx(metrics[0]["structural_virality"], 1e-3)
    assert all(int(row["Organic"]) + int(row["Viral"]) == int(row["Size"]) - 1 for row in rows)


def test_another_cascade_and_its_json(client: httpx.Client, metrics: list[dict]) -> None:
    second = str(metrics[1]["root"])
    r = client.get("/spread", params={"platform": "weibo", "root": second})
    assert r.status_code == 200
    assert f"Cascade {second}" in r.text
    data = client.get("/spread/data.json", params={"root": second}).json()
    assert data["root"] == second
    assert data["tree"]["size"] == metrics[1]["size"]
    assert data["tree"]["nodes"][0]["channel"] == "root"
    assert data["growth"]["series"]
    assert data["forecast"]["status"] in ("ok", "too young")
    assert len(data["cascades"]) == len(metrics)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"platform": "nowhere"}, "no cascades for platform"), ({"root": "x/y"}, "no cascade tree")],
)
def test_unknown_platform_or_root(client: httpx.Client, params: dict, message: str) -> None:
    r = client.get("/spread", params=params)
    assert r.status_code == 404
    assert message in r.text
    assert client.get("/spread/data.json", params=params).status_code == 404


def test_signed_out_goes_to_the_login(site: tuple[str, Store]) -> None:
    r = httpx.get(site[0] + "/spread", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_an_empty_store_says_what_to_import(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/empty.db"
    Store(url).close()
    with dashboard_server(url, dashboard_demo=True) as base:
        r = httpx.get(base + "/spread")
    assert r.status_code == 200
    assert "the store holds no cascades yet" in r.text
    assert "grapevine import cascades" in r.text


def test_warming_computes_what_the_first_views_show(site: tuple[str, Store]) -> None:
    from grapevine.dashboard._views import warm_pages

    done = warm_pages(site[1])
    assert done == [
        "cascades of weibo",
        "roles of weibo",
        "largest cascade of weibo",
        "people page of weibo",
    ]
