"""The participant page, the thank-you snippet and the share links: domain, HTTP and browser.

The browser tests drive Debian's chromium (``/usr/bin/chromium``) with Playwright against a
real uvicorn server; no browser is downloaded. Without chromium they skip, except in CI.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import in_ci, skip_or_fail
from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.service import create_app
from support import SECRETS_KEY, api_key, free_port, outcome, serve, tenant_webhook_secret

SALT = "page-test-salt"
WEBHOOK_SECRET = "whsec_pages_test"  # tenant acme's own `grapevine` secret
LEGACY_SECRET = "whsec_pages_installation"  # GRAPEVINE_WEBHOOK_SECRET: tenant default's
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 20},
    "hold_seconds": 0,
}
CHROMIUM = os.environ.get("GRAPEVINE_CHROMIUM", "/usr/bin/chromium")


# ============================================================================ domain
def test_share_links_tag_every_channel() -> None:
    links = rf.share_links("https://gv.example/r/ABCD-EFGH", text="20% off at Shop")
    assert set(links) == set(rf.CHANNELS)
    for channel, url in links.items():
        assert f"ch={channel}" in unquote(url), channel
    assert links["copy"] == "https://gv.example/r/ABCD-EFGH?ch=copy"
    fb = parse_qs(urlsplit(links["facebook"]).query)["u"][0]
    assert fb == "https://gv.example/r/ABCD-EFGH?ch=facebook"
    assert links["email"].startswith("mailto:?subject=20%25%20off%20at%20Shop&body=")


def test_channel_link_replaces_an_earlier_channel_and_refuses_unknown_ones() -> None:
    assert rf.channel_link("https://g.example/r/A?ch=x&to=y", "email") == (
        "https://g.example/r/A?to=y&ch=email"
    )
    with pytest.raises(ValueError, match="unknown channel 'myspace'"):
        rf.channel_link("https://g.example/r/A", "myspace")


@given(st.integers(min_value=0, max_value=2**62), st.text(min_size=1, max_size=40))
def test_page_tokens_round_trip(participant: int, secret: str) -> None:
    assert rf.read_page_token(rf.page_token(participant, secret), secret) == participant


@given(st.integers(min_value=0, max_value=10**9), st.data())
def test_a_changed_token_is_refused(participant: int, data: st.DataObject) -> None:
    token = rf.page_token(participant, SALT)
    i = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from("AZaz09-_.x"))
    forged = token[:i] + replacement + token[i + 1 :]
    if forged == token:
        return
    err = outcome(lambda: rf.read_page_token(forged, SALT))
    assert isinstance(err, BadInput), err
    assert err.field == "token"


def test_tokens_of_another_secret_and_expired_tokens_are_refused() -> None:
    token = rf.page_token(7, SALT)
    with pytest.raises(BadInput, match="not valid"):
        rf.read_page_token(token, "another secret")
    late = rf.page_token(7, SALT, expires_at=1_000)
    assert rf.read_page_token(late, SALT, now=999) == 7
    with pytest.raises(BadInput, match="expired"):
        rf.read_page_token(late, SALT, now=1_001)
    with pytest.raises(BadInput, match="not a participant page token"):
        rf.read_page_token("p1.abc", SALT)


# ============================================================================ HTTP
@pytest.fixture
def server(store_url: str) -> Iterator[str]:
    """A real server on each backend, whose links name its own port (public_url); tenant
    acme (the tenant of :func:`support.api_key`) signs its snippets with its own secret."""
    port = free_port()
    tenant_webhook_secret(store_url, WEBHOOK_SECRET)
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": SALT,
            "secrets_key": SECRETS_KEY,
            "webhook_secret": LEGACY_SECRET,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    with serve(create_app(settings), port=port) as base:
        yield base


@pytest.fixture
def client(server: str, store_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {api_key(store_url)}"}
    with httpx.Client(base_url=server, headers=headers, timeout=10) as c:
        yield c


def _campaign(client: httpx.Client) -> int:
    body = {
        "name": "spring",
        "offer": OFFER,
        "destinations": ["https://shop.example/welcome"],
        "currency": "EUR",
    }
    r = client.post("/api/campaigns", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _enrol(
    client: httpx.Client, cid: int, email: str, secret: str = WEBHOOK_SECRET, **change: Any
) -> httpx.Response:
    ts = int(time.time())
    form = {
        "campaign": str(cid),
        "email": email,
        "ts": str(ts),
        "sig": rf.embed_signature(secret, cid, email, ts),
    }
    form.update({k: str(v) for k, v in change.items()})
    return client.post("/embed/enrol", data=form, headers={"Origin": "https://shop.example"})


def test_snippet_enrols_once_and_answers_any_origin(client: httpx.Client) -> None:
    cid = _campaign(client)
    first = _enrol(client, cid, "Ann.Smith+shop@gmail.com")
    assert first.status_code == 200, first.text
    assert first.headers["access-control-allow-origin"] == "*"
    body = first.json()
    assert body["created"] is True
    assert body["link"].endswith(rf.referral_path(body["code"]))
    headline = "Your friends get 20% off; you get 10.00 EUR for each friend who buys."
    assert body["headline"] == headline
    again = _enrol(client, cid, "annsmith@gmail.com").json()  # the same person, normalised
    assert (again["created"], again["code"], again["page"]) == (False, body["code"], body["page"])


def test_snippet_refuses_forged_stale_and_unknown(client: httpx.Client) -> None:
    cid = _campaign(client)
    forged = _enrol(client, cid, "a@example.com", sig="0" * 64)
    assert forged.status_code == 403
    assert forged.json()["detail"] == "the snippet's signature does not match"
    stale = int(time.time()) - 3 * 86400
    sig = rf.embed_signature(WEBHOOK_SECRET, cid, "a@example.com", stale)
    r = _enrol(client, cid, "a@example.com", ts=stale, sig=sig)
    assert r.status_code == 403
    assert "expired" in r.json()["detail"]
    ts = int(time.time())
    sig = rf.embed_signature(WEBHOOK_SECRET, 999, "a@example.com", ts)
    unknown = _enrol(client, 999, "a@example.com", ts=ts, sig=sig)  # as a wrong signature
    assert (unknown.status_code, unknown.json()["detail"]) == (403, forged.json()["detail"])
    r = _enrol(client, cid, "a@example.com", campaign="x")
    assert r.status_code == 422
    assert "campaign" in r.text


def test_snippet_verifies_with_the_campaign_tenants_own_secrets(
    client: httpx.Client, store_url: str
) -> None:
    cid = _campaign(client)  # tenant acme's
    bravo = tenant_webhook_secret(store_url, "whsec_bravo_0123456789", tenant="bravo")
    for secret in (bravo, LEGACY_SECRET):  # another tenant's, the installation's
        refused = _enrol(client, cid, "bea@example.com", secret=secret)
        assert refused.status_code == 403, refused.text
        assert refused.json()["detail"] == "the snippet's signature does not match"
    assert _enrol(client, cid, "bea@example.com").json()["created"] is True  # none recorded
    # Rotation: during the overlap the previous secret and the new one both enrol.
    tenant_webhook_secret(store_url, "whsec_pages_rotated", overlap=3600)
    for n, secret in enumerate((WEBHOOK_SECRET, "whsec_pages_rotated")):
        r = _enrol(client, cid, f"c{n}@example.com", secret=secret)
        assert (r.status_code, r.json()["created"]) == (200, True), r.text
    # A campaign of tenant default (from before tenants) still takes the installation secret.
    with httpx.Client(
        base_url=str(client.base_url),
        headers={"Authorization": f"Bearer {api_key(store_url, tenant='default')}"},
        timeout=10,
    ) as default:
        legacy_cid = _campaign(default)
        assert _enrol(client, legacy_cid, "d@example.com", secret=WEBHOOK_SECRET).status_code == 403
        assert _enrol(client, legacy_cid, "d@example.com", secret=LEGACY_SECRET).status_code == 200


def test_participant_page_shows_link_code_share_links_and_referrals(
    client: httpx.Client,
) -> None:
    cid = _campaign(client)
    joined = _enrol(client, cid, "ann@example.com").json()
    page = client.get(joined["page"])
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert joined["code"] in html
    assert "Your friends get 20% off" in html
    for channel in ("whatsapp", "facebook", "x", "linkedin", "mastodon", "email"):
        assert f'data-testid="share-{channel}"' in html
    # A human click through the WhatsApp link, a bot, and a signup of a friend.
    link = rf.channel_link(joined["link"], "whatsapp")
    assert client.get(link, headers={"User-Agent": BROWSER}).status_code == 307
    client.get(link, headers={"User-Agent": "Twitterbot/1.0"})
    r = client.post(
        "/api/events",
        json={
            "campaign_id": cid,
            "kind": "signup",
            "idempotency_key": "s-1",
            "email": "bob@example.com",
            "coupon_code": joined["code"],
        },
    )
    assert r.status_code in (200, 201), r.text
    stats = client.get(joined["page"] + "/stats").text
    assert 'data-testid="clicks">1<' in stats  # the bot is not a referral
    assert 'data-testid="signups">1<' in stats


def test_bad_and_expired_page_tokens_get_a_plain_page(client: httpx.Client) -> None:
    r = client.get("/p/not-a-token")
    assert r.status_code == 404
    assert "not valid" in r.text
    r = client.get(f"/p/{rf.page_token(10**6, SALT)}")  # signed, but nobody
    assert r.status_code == 404
    r = client.get(f"/p/{rf.page_token(1, SALT, expires_at=time.time() - 1)}")
    assert r.status_code == 410
    assert "expired" in r.text


# ============================================================================ browser
@pytest.fixture
def chromium() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        skip_or_fail(
            f"no chromium at {CHROMIUM} (apt-get install chromium)",
            mandatory=in_ci(),
        )
    return CHROMIUM


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[str]:
    """A shop on another origin, serving its thank-you page from ``tmp_path``."""
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path), **k
    )

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    httpd = Quiet(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[assignment]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_browser_thank_you_snippet_then_participant_page(
    client: httpx.Client, server: str, shop: str, tmp_path: Path, chromium: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    cid = _campaign(client)
    ts = int(time.time())
    email = "carla@example.com"
    sig = rf.embed_signature(WEBHOOK_SECRET, cid, email, ts)
    (tmp_path / "thanks.html").write_text(
        "<!doctype html><title>Thanks</title><h1>Thank you for your order</h1>"
        '<div id="referral"></div>'
        f'<script src="{server}/embed.js" async data-campaign="{cid}" data-email="{email}" '
        f'data-ts="{ts}" data-signature="{sig}" data-target="#referral"></script>'
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{shop}/thanks.html")
            box = page.locator("[data-grapevine=box]")
            expect(box).to_be_visible(timeout=15_000)
            link = page.locator("[data-grapevine=link]").input_value()
            assert "/r/" in link
            assert link.endswith("ch=copy")
            hrefs = page.locator("[data-grapevine=share] a").evaluate_all(
                "els => els.map(e => e.href)"
            )
            assert any("wa.me" in h and "ch%3Dwhatsapp" in h for h in hrefs)
            # Follow to the participant page; a friend signs up; htmx refreshes the figures.
            page.locator("[data-grapevine=page]").click()
            expect(page.get_by_test_id("code")).to_be_visible()
            code = page.get_by_test_id("code").inner_text()
            expect(page.get_by_test_id("signups")).to_have_text("0")
            page.get_by_test_id("copy").click()  # a share by copying the link (a beacon)
            expect(page.get_by_test_id("copy")).to_have_text("Copied")
            r = client.post(
                "/api/events",
                json={
                    "campaign_id": cid,
                    "kind": "signup",
                    "idempotency_key": "browser-1",
                    "email": "dave@example.com",
                    "coupon_code": code,
                },
            )
            assert r.status_code in (200, 201), r.text
            page.get_by_test_id("refresh").click()
            expect(page.get_by_test_id("signups")).to_have_text("1")
            page.screenshot(path=str(tmp_path / "participant.png"))
            stats = client.get(f"/api/campaigns/{cid}/stats").json()
            assert stats["channels"]["copy"]["shares"] == 1
        finally:
            browser.close()


def test_the_funnel_is_counted_per_share_channel(client: httpx.Client) -> None:
    cid = _campaign(client)
    joined = _enrol(client, cid, "erin@example.com").json()
    links = rf.share_links(joined["link"], text="hi")
    # A friend clicks the WhatsApp link in a browser and signs up with the cookie it set;
    # a preview bot fetches the X link; someone opens the link with an unknown channel.
    with httpx.Client(timeout=10) as friend:
        assert (
            friend.get(
                rf.channel_link(joined["link"], "whatsapp"), headers={"User-Agent": BROWSER}
            ).status_code
            == 307
        )
        visitor = friend.cookies.get("gv_vid")
    client.get(rf.channel_link(joined["link"], "x"), headers={"User-Agent": "Twitterbot/1.0"})
    client.get(joined["link"] + "?ch=myspace", headers={"User-Agent": BROWSER})
    assert "wa.me" in links["whatsapp"]
    event = {"campaign_id": cid, "kind": "signup", "idempotency_key": "w-1"}
    r = client.post(
        "/api/events", json={**event, "email": "fay@example.com", "visitor_id": visitor}
    )
    assert r.status_code in (200, 201), r.text
    r = client.post(
        "/api/events",
        json={
            **event,
            "idempotency_key": "c-1",
            "email": "gus@example.com",
            "coupon_code": joined["code"],
        },
    )
    assert r.status_code in (200, 201), r.text
    share = joined["page"] + "/share"
    assert client.post(share, params={"ch": "whatsapp"}).status_code == 204
    assert client.post(share, params={"ch": "myspace"}).status_code == 422
    assert client.post("/p/not-a-token/share", params={"ch": "x"}).status_code == 404
    stats = client.get(f"/api/campaigns/{cid}/stats").json()
    assert stats["channels"] == {
        "coupon": {"shares": 0, "clicks": 0, "signups": 1, "purchases": 0},
        "direct": {"shares": 0, "clicks": 1, "signups": 0, "purchases": 0},
        "whatsapp": {"shares": 1, "clicks": 1, "signups": 1, "purchases": 0},
    }
    # The viral loop: erin (generation 0) referred two friends (generation 1).
    assert stats["tree_depth"] == 1
    gens = {g["cohort"]: (g["adopters"], g["signups"]) for g in stats["k_by_generation"]}
    assert gens == {"0": (1, 2), "1": (2, 0)}
    assert stats["k_factor"] == pytest.approx(2 / 3)
    assert len(stats["k_by_week"]) >= 1
    page = client.get(joined["page"] + "/stats").text
    assert "whatsapp 1" in page
