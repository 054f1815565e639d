"""The dashboard's skeleton on a real server: the layout, the pickers, the charts' data
blocks, the CSV downloads, the vendored scripts, the strict CSP, HTML error pages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import BACKENDS
from dashboard_support import (
    NOW,
    add_user,
    dashboard_server,
    fill_conversions,
    fill_listening,
    signed_in,
)
from grapevine import listening
from grapevine.dashboard import NAV, PAGE_MODULES
from grapevine.dashboard._period import period_of_dates
from grapevine.store import Store
from support import module_store_url

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "src/grapevine/dashboard/static/vendor"
PAGES = ["/", "/listening", "/listening/posts", "/inbox", "/inbox?status=all"]
_JSON_BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Store]]:
    """One server per backend for the module, on a store with listening data and
    conversions, and an editor "ann" of tenant acme: (base URL, store)."""
    with module_store_url(request, tmp_path_factory, "dash") as url:
        store = Store(url)
        try:
            fill_listening(store)
            fill_conversions(store)
            add_user(store, "ann")
            with dashboard_server(url) as base:
                yield base, store
        finally:
            store.close()


@pytest.fixture(scope="module")
def client(site: tuple[str, Store]) -> Iterator[httpx.Client]:
    """Signed in as ann."""
    with signed_in(site[0], "ann") as c:
        yield c


def test_every_page_renders_in_the_layout(client: httpx.Client) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in r.headers["content-security-policy"]
        html = r.text
        for item in NAV:  # every page of the product is in the navigation
            assert f'href="{item.path}"' in html
            assert item.label in html
        assert 'aria-current="page"' in html
        assert not _INLINE_SCRIPT.search(html), f"{path} has an inline script"
        assert ' style="' not in html, f"{path} has an inline style"
        assert "ann" in html
        assert "Sign out" in html


def test_charts_are_json_data_blocks(client: httpx.Client) -> None:
    html = client.get("/").text
    blocks = dict(_JSON_BLOCK.findall(html))
    assert {"mentions-chart-data", "share-chart-data", "reach-chart-data"} <= set(blocks)
    for block_id in blocks:
        assert f'data-chart="{block_id}"' in html  # the element the script draws it into
    share = json.loads(blocks["share-chart-data"])
    parts = {d["name"]: d["value"] for d in share["series"][0]["data"]}
    assert set(parts) == set(listening.SENTIMENT_LABELS)
    assert sum(parts.values()) > 0


def test_csv_downloads_keep_the_page_query(client: httpx.Client) -> None:
    html = client.get("/listening?preset=all").text
    assert "/listening?preset=all&amp;format=csv&amp;table=rules" in html
    r = client.get("/listening?preset=all&format=csv&table=rules")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="rules.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["Rule", "Mentions"]
    counts = {name: int(n) for name, n in rows[1:]}
    assert counts["leak"] == 24 + 1  # the burst and the reply that says "leak" ("leaks": no)
    assert counts["brewly"] > counts["leak"]


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/", "series"),
        ("/", "alerts"),
        ("/", "stories"),
        ("/listening", "authors"),
        ("/listening", "terms"),
        ("/listening", "languages"),
        ("/listening", "sentiment"),
        ("/listening", "alerts"),
        ("/listening/posts", "posts"),
        ("/inbox", "inbox"),
        ("/inbox", "response_times"),
    ],
)
def test_every_table_downloads(client: httpx.Client, path: str, table: str) -> None:
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}preset=all&format=csv&table={table}")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(r.text)))
    assert len(header) >= 2


def test_unknown_table_is_404(client: httpx.Client) -> None:
    r = client.get("/listening?format=csv&table=nope")
    assert r.status_code == 404
    assert "no table &#39;nope&#39; on this page" in r.text


def test_period_picker_presets_and_dates(client: httpx.Client) -> None:
    def mentions(query: str) -> int:
        r = client.get(f"/listening/posts?{query}&format=csv&table=posts")
        assert r.status_code == 200, r.text
        return len(list(csv.reader(io.StringIO(r.text)))) - 1

    everything, day = mentions("preset=all"), mentions("preset=24h")
    # The burst, its two replies and the six quiet posts of the 24 hours before the newest.
    assert day == 24 + 2 + 6
    assert everything > day
    # Explicit dates win over the preset; the last day counts whole.
    first = period_of_dates("2023-11-14", "2023-11-14")
    assert first.start <= NOW - 2 * 3600 < first.end
    assert mentions("from=2023-11-14&to=2023-11-14&preset=7d") >= 24


def test_bad_period_is_an_html_error_naming_the_field(client: httpx.Client) -> None:
    r = client.get("/listening?from=2023-13-45")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "field &#39;from&#39;" in r.text
    assert "YYYY-MM-DD" in r.text
    r = client.get("/listening?preset=fortnight")
    assert r.status_code == 400
    assert "preset" in r.text


def test_tenant_picker_lists_the_viewers_tenants(site: tuple[str, Store]) -> None:
    add_user(site[1], "bea", tenant="acme", role="viewer")
    add_user(site[1], "bea", tenant="globex", role="viewer")
    with signed_in(site[0], "bea") as client:
        html = client.get("/").text
        assert '<option value="acme" selected>' in html
        assert '<option value="globex">' in html
        assert client.get("/?tenant=globex").status_code == 200
        r = client.get("/?tenant=initech")
        assert r.status_code == 403
        assert "no role in tenant" in r.text


def test_api_json_errors_stay_json(client: httpx.Client) -> None:
    r = client.get("/api/campaigns")  # no key: the API's own 401, in its JSON shape
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")


def test_vendored_scripts_are_served_and_match_their_provenance(client: httpx.Client) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts/vendor_js.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    for name in ("htmx.min.js", "echarts.min.js", "dashboard.js", "dashboard.css"):
        path = f"/assets/vendor/{name}" if name.endswith(".min.js") else f"/assets/{name}"
        r = client.get(path)
        assert r.status_code == 200, path
        if name.endswith(".min.js"):
            assert r.content == (VENDOR / name).read_bytes()
    provenance = (VENDOR / "PROVENANCE.txt").read_text()
    digest = hashlib.sha256((VENDOR / "echarts.min.js").read_bytes()).hexdigest()
    assert f"echarts.min.js <- dist/echarts.min.js sha256 {digest}" in provenance
    assert "echarts-LICENSE.txt" in provenance
    assert "htmx-LICENSE.txt" in provenance


def test_page_modules_each_have_a_router() -> None:
    import importlib

    from fastapi import APIRouter

    for name in PAGE_MODULES:
        assert isinstance(importlib.import_module(name).router, APIRouter)


def test_public_namespace_is_exactly_all() -> None:
    import types

    import grapevine.dashboard as dashboard

    public = {
        name
        for name, value in vars(dashboard).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(dashboard.__all__)
    assert len(dashboard.__all__) == len(set(dashboard.__all__))
