"""``grapevine report``: one self-contained HTML file with the dashboard's charts and data."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import BACKENDS, in_ci
from grapevine.dashboard._report import report_period, write_report
from grapevine.errors import BadInput
from grapevine.store import Store
from spread_fixtures import JSON_BLOCK, START, fill
from support import module_store_url

_URL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
_LINK_TAG = re.compile(r"<link\b", re.I)
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=", re.I)


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    with module_store_url(request, tmp_path_factory, "report") as url:
        s = Store(url)
        try:
            fill(s, tmp_path_factory.mktemp("report-files"))
            yield s
        finally:
            s.close()


@pytest.fixture(scope="module")
def report_file(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report-out") / "report.html"
    write_report(store, out)
    return out


def test_the_report_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    assert not _URL_ATTR.search(html), "a src or href points at another host"
    assert not _LINK_TAG.search(html), "a stylesheet or other resource is linked"
    assert not _EXTERNAL_SCRIPT.search(html), "a script is loaded from a file"
    assert "echarts" in html
    assert "Apache" in html  # the library is inlined with its licence header
    assert len(html) > 500_000


def test_every_chart_has_its_data_inline(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    blocks = dict(JSON_BLOCK.findall(html))
    boxes = re.findall(r'data-chart="([^"]+)"', html)
    assert boxes
    assert set(boxes) == set(blocks)
    for key in boxes:
        option = json.loads(blocks[key])
        assert option["series"], key
        assert any(s.get("data") for s in option["series"]), key
    ids = {key.removesuffix("-data") for key in boxes}
    assert {"report-tree-weibo", "report-rt-weibo", "report-forecast-weibo",
            "report-network-weibo"} <= ids  # fmt: skip


def test_the_sections(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    for title in ("Overview", "Spread: weibo", "People: weibo", "Largest cascades",
                  "Top connectors", "Top mavens"):  # fmt: skip
        assert title in html, title
    assert "No mentions in this period." in html  # the store holds no listening data


def test_the_period() -> None:
    day = 86400.0
    week = report_period("7d", latest=START, earliest=None)
    assert (week.end, week.seconds) == (START + 1, 7 * day)
    everything = report_period(None, latest=START, earliest=START - 30 * day)
    assert everything.start == START - 30 * day
    dates = report_period("2016-07-01..2016-07-03", latest=None, earliest=None)
    assert (dates.from_text, dates.to_text) == ("2016-07-01", "2016-07-03")
    with pytest.raises(BadInput, match="expected one of 24h"):
        report_period("fortnight", latest=None, earliest=None)


def test_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    with Store(url) as store:
        fill(store, tmp_path)
    out = tmp_path / "mail.html"
    exe = [sys.executable, "-m", "grapevine.cli.main"]
    done = subprocess.run(
        [*exe, "report", "--db", url, "--out", str(out), "--period", "30d"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    bad = subprocess.run(
        [*exe, "report", "--db", url, "--out", str(out), "--period", "soon"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "field 'period'" in bad.stderr


def test_the_charts_draw_offline(report_file: Path) -> None:
    """Chromium opens the file with the network cut off and draws every chart."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if in_ci():
            pytest.fail("chromium is mandatory in CI")
        pytest.skip("no /usr/bin/chromium: the offline drawing test is skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            errors: list[str] = []
            requests: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_file.as_uri())
            page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length > 0")
            boxes = page.locator("[data-chart]").count()
            drawn = page.locator("[data-chart] canvas").count()
        finally:
            browser.close()
    assert errors == []
    assert requests == [report_file.as_uri()]
    assert drawn >= boxes > 0
