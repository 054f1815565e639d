"""The dashboard in a real browser, against a real ``grapevine serve`` on the demo store.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package; without it
the tests are skipped with the reason (and fail under CI=true). The demo store is built once
per run by ``grapevine demo --no-serve`` (demo_support.py) and copied here, so the actions
below do not change what test_demo.py reads. A screenshot of every page goes to
``$GRAPEVINE_SCREENSHOTS`` (``make screenshots`` points it at docs/img) or to this run's
temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from conftest import in_ci, skip_or_fail
from demo_support import EXE, demo_store

CHROMIUM = Path(os.environ.get("GRAPEVINE_CHROMIUM", "/usr/bin/chromium"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


# ---------------------------------------------------------------------------- fixtures
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def grapevine_serve(url: str, *, demo: bool) -> Iterator[str]:
    """``grapevine serve`` in a subprocess on a free loopback port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "GRAPEVINE_DASHBOARD_DEMO": "1" if demo else "0",
        "GRAPEVINE_IP_SALT": "e2e-salt",
        "GRAPEVINE_RATE_LIMIT_PER_IP": "off",
    }
    proc = subprocess.Popen(
        [EXE, "serve", "--db", url, "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"grapevine serve did not start:\n{out[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the demo store for this module (its actions change it)."""
    db, _ = demo_store(tmp_path_factory)
    folder = tmp_path_factory.mktemp("e2e-store")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{db}{suffix}")
        if source.exists():
            shutil.copy(source, folder / f"demo.db{suffix}")
    return f"sqlite:///{folder / 'demo.db'}"


@pytest.fixture(scope="module")
def server(demo_copy: str) -> Iterator[str]:
    with grapevine_serve(demo_copy, demo=True) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)", mandatory=in_ci())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("GRAPEVINE_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _context(browser: Any, **options: Any) -> Any:
    context = browser.new_context(**options)
    # A cold page of a big store (the first roles or cascades of a platform) may take long
    # on a busy machine; the page benchmark measures the time, the tests only the outcome.
    context.set_default_timeout(180_000)
    context.set_default_navigation_timeout(180_000)
    return context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = _context(browser, viewport=DESKTOP)
    yield context.new_page()
    context.close()


def _scalar(url: str, sql: str, **params: object) -> Any:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def _campaign_id(url: str) -> int:
    return int(_scalar(url, "SELECT min(id) FROM campaigns"))


class Watch:
    """Console errors, failed requests and error answers of one page while it is open."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        self.page = page
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: page error: {exc}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.url}")


def _first_link(page: Any, pattern: str) -> str:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = [h for h in hrefs if re.fullmatch(pattern, h.split("?")[0])]
    assert found, f"no link like {pattern} on {page.url}"
    return str(found[0])


def _series_have_data(option: dict[str, Any]) -> bool:
    series = option.get("series") or []
    return any(s.get("data") or s.get("links") for s in series)


def _check_charts(page: Any) -> int:
    boxes = page.query_selector_all("[data-chart]")
    for box in boxes:
        name = box.get_attribute("id")
        block = page.query_selector(f"#{box.get_attribute('data-chart')}")
        assert block is not None, f"chart {name} has no data block"
        option = json.loads(block.text_content() or "{}")
        assert _series_have_data(option), f"chart {name} on {page.url} has no data"
        page.wait_for_function(
            "id => document.getElementById(id).querySelector('canvas, svg') !== null",
            arg=name,
            timeout=60_000,
        )
    return len(boxes)


def _pages(page: Any, base: str, url: str) -> list[tuple[str, str]]:
    """Every page of the dashboard, with the name of its screenshot."""
    campaign = _campaign_id(url)
    page.goto(f"{base}/inbox")
    item = _first_link(page, r"/inbox/\d+")
    page.goto(f"{base}/people")
    person = _first_link(page, r"/people/person")
    page.goto(f"{base}/planner")
    plan = _first_link(page, r"/planner/plan/\d+")
    return [
        ("overview", "/"),
        ("listening", "/listening"),
        ("inbox", "/inbox"),
        ("inbox-item", item),
        ("spread", "/spread"),
        ("people", "/people"),
        ("person", person),
        ("campaigns", "/campaigns"),
        ("campaign", f"/campaigns/{campaign}"),
        ("campaign-review", f"/campaigns/{campaign}/review"),
        ("campaign-new", "/campaigns/new"),
        ("planner", "/planner"),
        ("plan", plan),
    ]


# ---------------------------------------------------------------------------- pages
def test_every_page_renders_with_data_and_no_errors(
    page: Any, server: str, demo_copy: str, shots: Path
) -> None:
    watch = Watch(page)
    charts = 0
    for name, path in _pages(page, server, demo_copy):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.is_visible(), f"{path} has no heading"
        assert "Traceback" not in page.content()
        charts += _check_charts(page)
        page.screenshot(path=str(shots / f"{name}.png"))
    assert not watch.problems, "\n".join(watch.problems)
    assert charts >= 8, "the pages draw their charts"


def test_pages_are_usable_at_390px(browser: Any, server: str, demo_copy: str, shots: Path) -> None:
    context = _context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = Watch(page)
    try:
        for name, path in _pages(page, server, demo_copy):
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"] + 1, f"{path} is {width} px wide at 390 px"
            assert page.locator("nav[aria-label=Pages] a").first.is_visible()
            if name in ("overview", "campaign", "inbox"):
                page.screenshot(path=str(shots / f"{name}-phone.png"))
        assert not watch.problems, "\n".join(watch.problems)
    finally:
        context.close()


# ---------------------------------------------------------------------------- actions
def test_inbox_actions_change_the_store(page: Any, server: str, demo_copy: str) -> None:
    page.goto(f"{server}/inbox")
    item = _first_link(page, r"/inbox/\d+")
    item_id = int(item.split("?")[0].rsplit("/", 1)[1])
    page.goto(server + item)
    page.fill("#assignee", "webcare-anna")
    page.click("button:has-text('Assign')")
    page.wait_for_load_state("networkidle")
    assert _scalar(demo_copy, "SELECT assignee FROM inbox_items WHERE id = :i", i=item_id) == (
        "webcare-anna"
    )
    page.fill("#draft-text", "Sorry to hear that, we are on it.")
    page.click("button:has-text('Save draft')")
    page.wait_for_load_state("networkidle")
    assert "we are on it" in _scalar(
        demo_copy, "SELECT draft FROM inbox_items WHERE id = :i", i=item_id
    )
    page.fill("#resolve-note", "answered")
    page.click("button:has-text('Resolve')")
    page.wait_for_load_state("networkidle")
    assert _scalar(demo_copy, "SELECT status FROM inbox_items WHERE id = :i", i=item_id) == (
        "resolved"
    )
    audited = _scalar(demo_copy, "SELECT count(*) FROM inbox_audit WHERE item_id = :i", i=item_id)
    assert audited >= 3


def test_review_approve_and_reject_change_the_store(page: Any, server: str, demo_copy: str) -> None:
    campaign = _campaign_id(demo_copy)
    held = _scalar(
        demo_copy,
        "SELECT count(*) FROM risk_decisions WHERE campaign_id = :c AND outcome IS NULL",
        c=campaign,
    )
    page.goto(f"{server}/campaigns/{campaign}/review")
    first = page.locator("article.review-item").first
    assert first.locator("ul.reasons li").count() >= 1, "each held event shows its reasons"
    first.locator("button[value=approve]").click()
    page.wait_for_load_state("networkidle")
    assert "Approved" in page.locator(".flash").inner_text()
    page.locator("article.review-item").first.locator("button[value=reject]").click()
    page.wait_for_load_state("networkidle")
    assert "Rejected" in page.locator(".flash").inner_text()
    outcomes = dict(
        sa.create_engine(demo_copy)
        .connect()
        .execute(
            sa.text(
                "SELECT outcome, count(*) FROM risk_decisions WHERE campaign_id = :c "
                "AND outcome IS NOT NULL GROUP BY outcome"
            ),
            {"c": campaign},
        )
        .all()
    )
    assert outcomes == {"approve": 1, "reject": 1}
    still = _scalar(
        demo_copy,
        "SELECT count(*) FROM risk_decisions WHERE campaign_id = :c AND outcome IS NULL",
        c=campaign,
    )
    assert still == held - 2


def test_campaign_create_and_edit_round_trip(page: Any, server: str, demo_copy: str) -> None:
    page.goto(f"{server}/campaigns/new")
    page.fill("#f-name", "Spring friends")
    page.fill("#f-goal", "Bring a friend in spring")
    page.fill("#f-destinations", "https://shop.example/spring")
    page.fill("#f-referrer_amount", "12")
    page.fill("#f-friend_amount", "20")
    page.click("button:has-text('Create campaign')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+\?.*"))
    assert "Spring friends" in page.locator("h1").inner_text()
    new_id = int(re.search(r"/campaigns/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    offer = json.loads(_scalar(demo_copy, "SELECT offer FROM campaigns WHERE id = :i", i=new_id))
    assert offer["referrer"] == {"kind": "fixed", "amount": 12}
    page.click("a:has-text('Edit')")
    assert page.input_value("#f-referrer_amount") == "12"
    page.fill("#f-goal", "Bring two friends in spring")
    page.fill("#f-referrer_amount", "15")
    page.click("button:has-text('Save changes')")
    page.wait_for_url(re.compile(r".*/campaigns/\d+\?.*"))
    assert "Changes saved" in page.locator(".flash").inner_text()
    page.click("a:has-text('Edit')")
    assert page.input_value("#f-goal") == "Bring two friends in spring"
    assert page.input_value("#f-referrer_amount") == "15"
    # The workflow's validation, shown next to the field it names; nothing is saved.
    page.fill("#f-window_days", "1000")
    page.click("button:has-text('Save changes')")
    assert "window_days" in page.locator("#form-error").inner_text()
    assert _scalar(demo_copy, "SELECT goal FROM campaigns WHERE id = :i", i=new_id) == (
        "Bring two friends in spring"
    )


def test_the_planner_returns_a_plan(page: Any, server: str) -> None:
    page.goto(f"{server}/planner")
    page.select_option("#plan-graph", "store:ciao")
    page.fill("#plan-k", "5")
    page.fill("#plan-runs", "50")
    page.click("button:has-text('Plan')")
    page.wait_for_url(re.compile(r".*/planner/plan/\d+"))
    page.wait_for_selector("#table-seeds", timeout=120_000)
    assert page.locator("#table-seeds tbody tr").count() == 5


def test_the_login_wall_holds_outside_demo_mode(browser: Any, demo_copy: str, shots: Path) -> None:
    with grapevine_serve(demo_copy, demo=False) as base:
        context = _context(browser, viewport=DESKTOP)
        page = context.new_page()
        try:
            for path in ("/", "/campaigns", "/inbox", "/planner"):
                page.goto(base + path)
                assert "/login" in page.url, f"{path} is open without a login"
                assert page.locator("input[type=password]").is_visible()
            page.screenshot(path=str(shots / "login.png"))
        finally:
            context.close()
