"""The people page on a real server: roles with reasons, a person's network, CSV and GEXF."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from conftest import BACKENDS
from dashboard_support import signed_in
from grapevine.roles import influencer_roles
from grapevine.store import Store
from spread_fixtures import chart_options, spread_site

GEXF = "{http://gexf.net/1.3}"


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    with spread_site(request, tmp_path_factory, "people") as found:
        yield found


@pytest.fixture(scope="module")
def client(site: tuple[str, Store]) -> Iterator[httpx.Client]:
    with signed_in(site[0], "ann") as c:
        yield c


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_roles_with_their_reasons(client: httpx.Client, site: tuple[str, Store]) -> None:
    r = client.get("/people")
    assert r.status_code == 200, r.text[:500]
    assert "Top connectors" in r.text
    assert "Top mavens" in r.text
    assert "Salesmen need conversions" in r.text  # no conversions in the store: says so
    connectors = _csv(client.get("/people", params={"format": "csv", "table": "connectors"}))
    # the bridges between the three groups lead, as the library ranks them
    graph = site[1].graph(platform="weibo")
    want = influencer_roles(graph, random_state=0).sort_values("connector_order")
    assert [row["Person"] for row in connectors[:3]] == want["id"].head(3).astype(str).tolist()
    assert connectors[0]["Person"] in {"u0", "u50", "u100"}
    assert "communit" in connectors[0]["Why"]
    mavens = _csv(client.get("/people", params={"format": "csv", "table": "mavens"}))
    assert mavens
    assert all("cascades" in row["Rests on"] for row in mavens)
    assert f'href="/people/person?platform=weibo&amp;id={connectors[0]["Person"]}"' in r.text


def test_a_persons_page_and_network(client: httpx.Client) -> None:
    r = client.get("/people/person", params={"platform": "weibo", "id": "u0"})
    assert r.status_code == 200, r.text[:500]
    assert "<h1>u0</h1>" in r.text
    network = chart_options(r.text)["network"]
    nodes = network["series"][0]["data"]
    assert nodes[0]["name"] == "u0"
    assert len(nodes) <= 120
    assert network["series"][0]["links"]
    assert network["legend"]["data"][0].startswith("community")
    by_role = chart_options(
        client.get(
            "/people/person", params={"platform": "weibo", "id": "u0", "colour": "role"}
        ).text
    )["network"]
    assert by_role["legend"]["data"] == ["connector", "maven", "salesman", "none"]
    roles = _csv(
        client.get(
            "/people/person",
            params={"platform": "weibo", "id": "u0", "format": "csv", "table": "roles"},
        )
    )
    assert [row["Role"] for row in roles] == ["connector", "maven", "salesman"]
    assert roles[2]["Rests on"].startswith("no data")


def test_downloads(client: httpx.Client, site: tuple[str, Store]) -> None:
    graph = site[1].graph(platform="weibo")
    r = client.get("/people/network.gexf", params={"platform": "weibo"})
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    root = ET.fromstring(r.content)
    assert len(root.findall(f".//{GEXF}node")) == graph.n_nodes
    assert len(root.findall(f".//{GEXF}edge")) == graph.n_edges
    titles = {a.get("title") for a in root.findall(f".//{GEXF}attribute")}
    assert {"connector", "maven", "salesman", "community", "connector_rank"} <= titles
    every = _csv(client.get("/people/roles.csv", params={"platform": "weibo"}))
    assert len(every) == graph.n_nodes
    assert {"connector", "connector_reason", "maven", "salesman"} <= set(every[0])
    sub = ET.fromstring(
        client.get("/people/person.gexf", params={"platform": "weibo", "id": "u0"}).content
    )
    labels = [n.get("label") for n in sub.findall(f".//{GEXF}node")]
    assert "u0" in labels
    assert "hop" in {a.get("title") for a in sub.findall(f".//{GEXF}attribute")}


@pytest.mark.parametrize(
    "path",
    ["/people?platform=nowhere", "/people/person?platform=weibo&id=nobody",
     "/people/network.gexf?platform=nowhere"],
)  # fmt: skip
def test_unknown_network_or_person(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
