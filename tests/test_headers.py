"""The service's edge: security headers, the public origin, trusted proxies, page and link limits.

Everything runs against a real uvicorn server configured as ``grapevine serve`` configures it
(:func:`grapevine.service.server_options`), on SQLite; the browser test drives Debian's
chromium with Playwright (marked slow; skipped without chromium, except in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.service import create_app, server_options
from grapevine.service._errors import UNHANDLED_DETAIL
from grapevine.service._headers import API_CSP, HSTS, PAGE_CSP
from support import SECRETS_KEY, api_key, auth, free_port, serve, tenant_webhook_secret

SALT = "edge-salt"
SECRET = "edge-webhook-secret"  # tenant acme's `grapevine` secret: it signs the snippet
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
OFFER = {"referrer": {"kind": "fixed", "amount": 10}, "friend": {"kind": "percent", "amount": 20}}
CHROMIUM = os.environ.get("GRAPEVINE_CHROMIUM", "/usr/bin/chromium")
EVIL = "evil.example"
OFF = {
    "rate_limit_per_key": "off",
    "rate_limit_per_ip": "off",
    "rate_limit_redirect_per_ip": "off",
    "rate_limit_redirect_per_code": "off",
    "rate_limit_pages_per_ip": "off",
    "rate_limit_pages_per_token": "off",
}


def _settings(url: str, **extra: Any) -> Settings:
    return Settings.model_validate(
        {"database_url": url, "ip_salt": SALT, "secrets_key": SECRETS_KEY, **OFF, **extra}
    )


def _bug() -> None:
    raise RuntimeError("a bug in a route")


def _serve(settings: Settings, port: int | None = None) -> AbstractContextManager[str]:
    """The app as `grapevine serve` runs it (proxy headers, server header), with one more
    route, ``GET /bug``, whose exception no handler answers."""
    app = create_app(settings)
    app.add_api_route("/bug", _bug, include_in_schema=False)
    return serve(app, port=port, **server_options(settings))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/edge.db"


@pytest.fixture
def server(db: str) -> Iterator[str]:
    """Limits off, no public URL: links fall back to the settings' host and port."""
    port = free_port()
    with _serve(_settings(db, port=port), port=port) as base:
        yield base


def _enrolled(base: str, db: str, email: str = "ann@example.com") -> dict[str, Any]:
    """A campaign of tenant acme and a participant, enrolled through the thank-you snippet
    signed with acme's own webhook secret (link, page)."""
    tenant_webhook_secret(db, SECRET)
    with httpx.Client(base_url=base, headers=auth(api_key(db)), timeout=10) as c:
        body = {"name": f"c-{email}", "offer": OFFER, "destinations": ["https://shop.example/"]}
        r = c.post("/api/campaigns", json=body)
        assert r.status_code == 201, r.text
        cid = int(r.json()["id"])
        ts = int(time.time())
        form = {
            "campaign": str(cid),
            "email": email,
            "ts": str(ts),
            "sig": rf.embed_signature(SECRET, cid, email, ts),
        }
        r = c.post("/embed/enrol", data=form)
        assert r.status_code == 200, r.text
        return {"cid": cid, **r.json()}


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


class _Assets(HTMLParser):
    """The scripts and stylesheets an HTML page loads, its inline scripts and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            if attr.get("src"):
                self.loads.append(str(attr["src"]))
            else:
                self._in_script = True
        if tag == "link" and "stylesheet" in (attr.get("rel") or ""):
            self.loads.append(str(attr.get("href")))

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _assets(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


# ============================================================================ headers
def _answers(base: str, db: str) -> dict[str, httpx.Response]:
    """One answer of each kind the service gives."""
    joined = _enrolled(base, db)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as c:
        return {
            "json": c.get("/health"),
            "json 404": c.get("/api/nothing-here"),
            "json 401": c.get("/api/campaigns"),
            "redirect": c.get(_path(joined["link"]), headers={"User-Agent": BROWSER}),
            "page": c.get(_path(joined["page"])),
            "page fragment": c.get(_path(joined["page"]) + "/stats"),
            "error page": c.get("/p/not-a-token"),
            "docs": c.get("/docs"),
            "openapi": c.get("/openapi.json"),
            "static": c.get("/static/style.css"),
            "snippet": c.get("/embed.js"),
            "bug 500": c.get("/bug"),
        }


@pytest.fixture
def answers(server: str, db: str) -> dict[str, httpx.Response]:
    return _answers(server, db)


def test_every_answer_forbids_sniffing(answers: dict[str, httpx.Response]) -> None:
    for kind, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", kind


def test_every_answer_forbids_framing(answers: dict[str, httpx.Response]) -> None:
    for kind, r in answers.items():
        assert r.headers.get("x-frame-options") == "DENY", kind
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], kind


def test_every_answer_sends_no_referrer(answers: dict[str, httpx.Response]) -> None:
    for kind, r in answers.items():
        assert r.headers.get("referrer-policy") == "no-referrer", kind


def test_html_pages_get_the_strict_policy_and_the_rest_allows_nothing(
    answers: dict[str, httpx.Response],
) -> None:
    html = {"page", "page fragment", "error page", "docs"}
    for kind, r in answers.items():
        is_html = r.headers.get("content-type", "").startswith("text/html")
        assert is_html == (kind in html), kind
        assert r.headers["content-security-policy"] == (PAGE_CSP if is_html else API_CSP), kind
    policy = dict(
        (part.split()[0], part.split()[1:]) for part in PAGE_CSP.split("; ") if part.strip()
    )
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert policy["style-src"] == ["'self'"]


def test_only_the_snippet_may_be_loaded_by_other_sites(
    answers: dict[str, httpx.Response],
) -> None:
    for kind, r in answers.items():
        want = "cross-origin" if kind == "snippet" else "same-origin"
        assert r.headers.get("cross-origin-resource-policy") == want, kind
    assert answers["snippet"].headers["access-control-allow-origin"] == "*"
    assert answers["snippet"].headers["content-type"].startswith("text/javascript")


def test_no_hsts_over_plain_http_and_no_server_header(
    answers: dict[str, httpx.Response],
) -> None:
    for kind, r in answers.items():
        assert "strict-transport-security" not in r.headers, kind
        assert "server" not in r.headers, kind  # uvicorn does not announce itself


def test_an_unhandled_exception_is_a_500_in_the_error_shape_with_the_headers(
    answers: dict[str, httpx.Response], caplog: pytest.LogCaptureFixture
) -> None:
    r = answers["bug 500"]
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    assert r.json() == {"error": "InternalServerError", "detail": UNHANDLED_DETAIL, "errors": []}
    assert "a bug in a route" not in r.text  # the client learns nothing of the failure
    setup = caplog.get_records("setup")  # the answers were asked for by the fixture
    logged = [rec for rec in setup if rec.name == "grapevine.service"]
    assert [rec.getMessage() for rec in logged] == ["unhandled error in GET /bug"]
    assert logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == "a bug in a route"


def test_hsts_when_the_public_url_is_https(db: str) -> None:
    with _serve(_settings(db, public_url="https://go.shop.example")) as base:
        r = httpx.get(f"{base}/health")
        bug = httpx.get(f"{base}/bug")
    assert r.headers["strict-transport-security"] == HSTS
    assert (bug.status_code, bug.headers["strict-transport-security"]) == (500, HSTS)


def test_hsts_when_a_trusted_proxy_says_https(db: str) -> None:
    with _serve(_settings(db, forwarded_allow_ips="127.0.0.1")) as base:
        https = httpx.get(f"{base}/health", headers={"X-Forwarded-Proto": "https"})
        bug = httpx.get(f"{base}/bug", headers={"X-Forwarded-Proto": "https"})
        plain = httpx.get(f"{base}/health")
    assert https.headers["strict-transport-security"] == HSTS
    assert bug.headers["strict-transport-security"] == HSTS
    assert "strict-transport-security" not in plain.headers


def test_html_pages_load_nothing_from_elsewhere_and_inline_no_script(
    answers: dict[str, httpx.Response],
) -> None:
    for kind in ("page", "error page", "docs"):
        found = _assets(answers[kind].text)
        assert found.loads, kind  # the parser sees the page's assets
        for url in found.loads:
            assert url.startswith("/static/"), (kind, url)
            assert not re.match(r"(?i)^(https?:)?//", url), (kind, url)
        assert found.inline_scripts == 0, kind
        assert found.handlers == [], kind


def test_the_docs_assets_are_served_from_the_package(server: str) -> None:
    docs = _assets(httpx.get(f"{server}/docs").text)
    assert set(docs.loads) == {
        "/static/swagger-ui.css",
        "/static/swagger-ui-bundle.js",
        "/static/swagger-init.js",
    }
    for url in docs.loads:
        r = httpx.get(server + url)
        assert r.status_code == 200, url
        assert len(r.content) > 100, url
    assert httpx.get(f"{server}/redoc").status_code == 404  # ReDoc would load a CDN script


# ============================================================================ public origin
def _everything_with_host(base: str, db: str, host: str) -> list[httpx.Response]:
    """Every route that builds a URL, asked with ``Host: host``."""
    key = api_key(db)
    joined = _enrolled(base, db)
    code, page = joined["code"], _path(joined["page"])
    h = {"Host": host}
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as c:
        ts = int(time.time())
        form = {
            "campaign": str(joined["cid"]),
            "email": "bea@example.com",
            "ts": str(ts),
            "sig": rf.embed_signature(SECRET, joined["cid"], "bea@example.com", ts),
        }
        return [
            c.get(f"/r/{code}/", headers=h),
            c.get(f"/r/{code}/?ch=whatsapp", headers=h),
            c.get(f"/r/{code}", headers={**h, "User-Agent": BROWSER}),
            c.get("/api/campaigns/", headers={**h, **auth(key)}),
            c.post(
                f"/api/campaigns/{joined['cid']}/participants",
                json={"email": "cid@example.com"},
                headers={**h, **auth(key)},
            ),
            c.post("/embed/enrol", data=form, headers=h),
            c.get(page, headers=h),
            c.get(page + "/stats", headers=h),
            c.get("/p/not-a-token", headers=h),
            c.get("/docs", headers=h),
            c.get("/openapi.json", headers=h),
        ]


def test_the_host_header_never_reaches_a_link_or_a_redirect(server: str, db: str) -> None:
    answers = _everything_with_host(server, db, EVIL)
    port = httpx.URL(server).port
    for r in answers:
        assert r.status_code < 500, r.text
        assert EVIL not in r.headers.get("location", ""), r.request.url
        assert EVIL not in r.text, r.request.url
    slash, channel = answers[0], answers[1]
    assert slash.status_code == 307
    assert slash.headers["location"] == f"http://127.0.0.1:{port}/r/{_code(answers)}"
    assert channel.headers["location"].endswith("?ch=whatsapp")
    participant = answers[4].json()
    assert participant["link"] == f"http://127.0.0.1:{port}/r/{participant['code']}"


def _code(answers: list[httpx.Response]) -> str:
    return str(answers[0].request.url.path).split("/")[2]


def test_links_start_with_the_public_url(db: str) -> None:
    public = "https://go.shop.example"
    with _serve(_settings(db, public_url=public)) as base:
        answers = _everything_with_host(base, db, EVIL)
    for r in answers:
        assert EVIL not in r.headers.get("location", "") + r.text, r.request.url
    assert answers[0].headers["location"].startswith(f"{public}/r/")
    assert answers[4].json()["link"].startswith(f"{public}/r/")
    enrolled = answers[5].json()
    assert enrolled["page"].startswith(f"{public}/p/")
    assert enrolled["share"]["copy"].startswith(f"{public}/r/")
    # Under an https public URL the attribution cookie is Secure, on plain-http requests too.
    assert "Secure" in answers[2].headers["set-cookie"]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("public_url", "go.shop.example", "must be an http(s) origin"),
        ("public_url", "https://go.shop.example/path", "without a path"),
        ("public_url", "ftp://go.shop.example", "must be an http(s) origin"),
        ("forwarded_allow_ips", "10.0.0.1,proxy.lan", "Got 'proxy.lan' instead"),
        ("rate_limit_redirect_per_ip", "fast", "'RATE' or 'RATE,BURST'"),
        ("rate_limit_pages_per_token", "1,0", "'RATE' or 'RATE,BURST'"),
    ],
)
def test_bad_edge_settings_are_named(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(says)) as caught:
        Settings.model_validate({field: value})
    assert f"GRAPEVINE_{field.upper()}" in str(caught.value)


# ============================================================================ trusted proxies
def _statuses(base: str, n: int, *, forwarded: bool) -> list[int]:
    with httpx.Client(base_url=base, timeout=10) as c:
        return [
            c.post(
                "/webhooks/stripe",
                content=b"{}",
                headers={"X-Forwarded-For": f"203.0.113.{i}"} if forwarded else {},
            ).status_code
            for i in range(n)
        ]


def test_rotating_x_forwarded_for_does_not_escape_the_per_ip_limit(db: str) -> None:
    limited = _settings(db, rate_limit_per_ip="0.01,3")
    with _serve(limited) as base:
        got = _statuses(base, 6, forwarded=True)
    assert got.count(429) == 3  # one bucket: the TCP peer's, whatever the header says


def test_a_named_proxy_is_believed(db: str) -> None:
    limited = _settings(db, rate_limit_per_ip="0.01,3", forwarded_allow_ips="127.0.0.1")
    with _serve(limited) as base:
        rotated = _statuses(base, 6, forwarded=True)
        direct = _statuses(base, 4, forwarded=False)
    assert 429 not in rotated  # six clients behind the proxy, one request each
    assert direct.count(429) == 1  # the proxy's own address has its bucket


def test_a_proxy_not_named_is_not_believed(db: str) -> None:
    limited = _settings(db, rate_limit_per_ip="0.01,3", forwarded_allow_ips="10.9.8.7")
    with _serve(limited) as base:
        got = _statuses(base, 6, forwarded=True)
    assert got.count(429) == 3


# ============================================================================ page and link limits
def _shares(db: str) -> int:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            q = "SELECT count(*) FROM referral_events WHERE kind = 'share'"
            return int(conn.execute(sa.text(q)).scalar_one())
    finally:
        engine.dispose()


def _clicks(db: str) -> int:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            q = "SELECT count(*) FROM referral_events WHERE kind = 'click'"
            return int(conn.execute(sa.text(q)).scalar_one())
    finally:
        engine.dispose()


def test_share_beacons_over_the_limit_are_429_and_not_recorded(db: str) -> None:
    limited = _settings(db, rate_limit_pages_per_token="0.01,5")
    with _serve(limited) as base:
        page = _path(_enrolled(base, db)["page"])
        with httpx.Client(base_url=base, timeout=10) as c:
            got = [c.post(f"{page}/share?ch=whatsapp") for _ in range(30)]
    assert [r.status_code for r in got].count(204) == 5
    refused = [r for r in got if r.status_code == 429]
    assert len(refused) == 25
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert "this page" in refused[0].json()["detail"]
    assert _shares(db) == 5


def test_300_beacons_at_the_default_limits_record_a_burst_not_300(db: str) -> None:
    defaults = Settings()
    limits = {name: getattr(defaults, name) for name in OFF}
    assert limits["rate_limit_pages_per_token"] == "1,20"
    with _serve(_settings(db, **limits)) as base:
        page = _path(_enrolled(base, db)["page"])
        with httpx.Client(base_url=base, timeout=10) as c:
            started = time.monotonic()
            got = [c.post(f"{page}/share?ch=whatsapp").status_code for _ in range(300)]
            elapsed = time.monotonic() - started
    recorded = _shares(db)
    assert got.count(204) == recorded
    # The burst of 20, plus one a second refilled while the 300 were sent.
    assert 20 <= recorded <= 20 + int(elapsed) + 1


def test_a_page_token_is_limited_whatever_the_address(db: str) -> None:
    # Clients behind a trusted proxy, each with its own address, share the token's bucket.
    limited = _settings(db, rate_limit_pages_per_token="0.01,4", forwarded_allow_ips="127.0.0.1")
    with _serve(limited) as base:
        page = _path(_enrolled(base, db)["page"])
        with httpx.Client(base_url=base, timeout=10) as c:
            got = [
                c.post(
                    f"{page}/share?ch=x", headers={"X-Forwarded-For": f"198.51.100.{i}"}
                ).status_code
                for i in range(10)
            ]
    assert got.count(204) == 4
    assert _shares(db) == 4


def test_pages_are_limited_per_address(db: str) -> None:
    limited = _settings(db, rate_limit_pages_per_ip="0.01,3")
    with _serve(limited) as base, httpx.Client(base_url=base, timeout=10) as c:
        got = [c.get(f"/p/not-a-token-{i}").status_code for i in range(5)]
        assert got == [404, 404, 404, 429, 429]
        r = c.get("/embed.js")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/health").status_code == 200  # other routes keep their own limits


def test_short_links_are_limited_per_address(db: str) -> None:
    with _serve(_settings(db)) as base:  # limits off to set up
        code = _enrolled(base, db)["code"]
    limited = _settings(db, rate_limit_redirect_per_ip="0.01,4")
    with _serve(limited) as base, httpx.Client(base_url=base, timeout=10) as c:
        got = [c.get(f"/r/{code}", headers={"User-Agent": BROWSER}) for _ in range(6)]
        guesses = c.get("/r/ZZZZ2222")  # guessing codes spends the same bucket
    assert [r.status_code for r in got] == [307] * 4 + [429] * 2
    assert int(got[-1].headers["retry-after"]) >= 1
    assert "client address" in got[-1].json()["detail"]
    assert guesses.status_code == 429
    assert _clicks(db) == 4  # a refused request is no click


def test_a_short_link_is_limited_whatever_the_address(db: str) -> None:
    with _serve(_settings(db)) as base:
        code = _enrolled(base, db)["code"]
    limited = _settings(db, rate_limit_redirect_per_code="0.01,3", forwarded_allow_ips="127.0.0.1")
    with _serve(limited) as base, httpx.Client(base_url=base, timeout=10) as c:
        got = [
            c.get(
                f"/r/{code}",
                headers={"User-Agent": BROWSER, "X-Forwarded-For": f"192.0.2.{i}"},
            )
            for i in range(5)
        ]
        other = c.get("/r/ZZZZ2222")  # another code has its own bucket: 404, not 429
    assert [r.status_code for r in got] == [307, 307, 307, 429, 429]
    assert "referral code" in got[-1].json()["detail"]
    assert other.status_code == 404
    assert _clicks(db) == 3


# ============================================================================ grapevine serve
@contextmanager
def _grapevine_serve(db: str, *args: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "GRAPEVINE_IP_SALT": SALT,
        "GRAPEVINE_RATE_LIMIT_PER_IP": "0.01,2",
        "GRAPEVINE_FORWARDED_ALLOW_IPS": "",
        "GRAPEVINE_PUBLIC_URL": "",
    }
    exe = Path(sys.executable).with_name("grapevine")
    cmd = [str(exe), "serve", "--db", db, "--port", str(port), "--no-access-log", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "grapevine serve did not start"
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.slow
def test_grapevine_serve_believes_only_the_named_proxies(db: str) -> None:
    with _grapevine_serve(db) as base:
        r = httpx.get(f"{base}/health")
        assert "server" not in r.headers
        assert _statuses(base, 4, forwarded=True).count(429) == 2  # one bucket of 2
    with _grapevine_serve(db, "--forwarded-allow-ips", "127.0.0.1") as base:
        assert 429 not in _statuses(base, 4, forwarded=True)


def test_grapevine_serve_names_a_bad_public_url(db: str) -> None:
    from typer.testing import CliRunner

    from grapevine.cli.main import app

    got = CliRunner().invoke(app, ["serve", "--db", db, "--public-url", "go.shop.example/x"])
    assert got.exit_code == 1
    assert "GRAPEVINE_PUBLIC_URL must be an http(s) origin" in got.output


# ============================================================================ browser
@pytest.mark.slow
def test_the_pages_run_under_their_policy_in_a_browser(db: str) -> None:
    """No CSP violation on the participant page (copy, share beacon, htmx refresh) or /docs."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no chromium at {CHROMIUM}")
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    settings = _settings(db, public_url=f"http://127.0.0.1:{port}")
    with _serve(settings, port=port) as base, sync_playwright() as p:
        joined = _enrolled(base, db)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => console.error("
                "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
            )
            page.goto(joined["page"])
            page.get_by_test_id("copy").click()
            expect(page.get_by_test_id("copy")).to_have_text("Copied")
            page.get_by_test_id("refresh").click()
            expect(page.get_by_test_id("clicks")).to_have_text("0")
            page.goto(f"{base}/docs")
            expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
            assert page.locator(".opblock").count() > 10
            assert problems == []
        finally:
            browser.close()
    assert _shares(db) == 1  # the Copy button's beacon, under connect-src 'self'
