"""The share page in the participant's language and the campaign's brand: catalogues,
Accept-Language negotiation, localised share texts, QR codes, Open Graph tags, brand colour
and logo under a strict CSP; the real service (uvicorn) and a real browser (chromium).
"""

from __future__ import annotations

import http.server
import io
import os
import re
import shutil
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import in_ci, skip_or_fail
from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import InvalidParameter
from grapevine.service import create_app
from grapevine.service._headers import PAGE_CSP
from grapevine.store import Store, tenants_repo
from grapevine.store.models import Campaign, Participant, Person, ReferralCode
from support import SECRETS_KEY, free_port, serve, tenant_webhook_secret

SALT = "i18n-test-salt"
CHROMIUM = os.environ.get("GRAPEVINE_CHROMIUM", "/usr/bin/chromium")
OFFER = {"referrer": {"kind": "fixed", "amount": 10}, "friend": {"kind": "percent", "amount": 20}}


# ============================================================================ catalogues
def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", rf.LANGUAGES)
def test_every_catalogue_has_every_text_with_the_same_placeholders(language: str) -> None:
    english, other = rf.messages("en"), rf.messages(language)
    assert set(other.texts) == set(english.texts)
    for key, text in english.texts.items():
        assert _placeholders(other.texts[key]) == _placeholders(text), (language, key)
        assert other.texts[key].strip() or key == "number.group", (language, key)
    if language != "en":  # translated, not copied (brand-free sentences differ)
        same = [k for k in english.texts if other.texts[k] == english.texts[k]]
        assert len(same) < len(english.texts) // 5, same


def test_an_unknown_language_has_no_catalogue() -> None:
    with pytest.raises(InvalidParameter, match="'language' parameter of messages"):
        rf.messages("fr")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Your friends get 20% off; you get 10.00 EUR for each friend who buys."),
        ("nl", "Je vrienden krijgen 20% korting; jij krijgt 10,00 EUR voor elke vriend die iets koopt."),  # noqa: E501
        ("de", "Deine Freunde bekommen 20 % Rabatt; du bekommst 10,00 EUR für jeden Freund, der etwas kauft."),  # noqa: E501
        ("sv", "Dina vänner får 20 % rabatt; du får 10,00 EUR för varje vän som handlar."),
    ],
)  # fmt: skip
def test_the_offer_in_each_language(language: str, expected: str) -> None:
    assert rf.offer_text(OFFER, "EUR", rf.messages(language)) == expected


def test_share_texts_speak_to_the_friend() -> None:
    sv = rf.share_texts(OFFER, "EUR", name="Bageriet", texts=rf.messages("sv"))
    assert sv.text == "Få 20 % rabatt hos Bageriet med min länk:"
    assert sv.subject == "20 % rabatt hos Bageriet, från mig"
    assert sv.email == "Hej!\n\nFå 20 % rabatt hos Bageriet med min länk:"
    fixed = {"friend": {"kind": "fixed", "amount": 1234.5}}
    de = rf.share_texts(fixed, "EUR", name="Laden", texts=rf.messages("de"))
    assert de.text == "Hol dir 1.234,50 EUR Rabatt bei Laden mit meinem Link:"
    assert rf.share_texts(None, None, name="Laden", texts=rf.messages("nl")).subject == (
        "Kijk eens bij Laden"
    )


# ============================================================================ negotiation
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),
        ("fr-CH, fr;q=0.9, de;q=0.7, *;q=0.5", "de"),
        ("en;q=0.1, sv;q=0.2", "sv"),
        ("de;q=0, en", "en"),  # q=0: not acceptable
        ("DE-at", "de"),
        ("sv;q=1.000, nl;q=1", "sv"),  # equal weights keep the header's order
        ("nl;q=1.5, de;q=0.5", "de"),  # an invalid q-value drops its range
        ("nl;q=abc, en;q=0.3", "en"),
        ("fr, es", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str | None) -> None:
    assert rf.negotiate_language(header) == expected


@given(st.text(max_size=300))
def test_any_header_parses_without_raising(header: str) -> None:
    ranges = rf.parse_accept_language(header)
    weights = [q for _, q in ranges]
    assert weights == sorted(weights, reverse=True)
    assert all(0 < q <= 1 for q in weights)
    assert rf.choose_language(accept_language=header) in rf.LANGUAGES


_TAGS = st.sampled_from(["en", "nl", "de", "sv", "fr", "nl-BE", "de-CH", "es", "*"])
_Q = st.integers(min_value=0, max_value=1000).map(lambda n: f"{n / 1000:.3f}")


@given(st.lists(st.tuples(_TAGS, _Q), min_size=1, max_size=6))
def test_the_heaviest_supported_language_wins(ranges: list[tuple[str, str]]) -> None:
    header = ", ".join(f"{tag};q={q}" for tag, q in ranges)
    best: tuple[float, int, str] | None = None
    for i, (tag, q) in enumerate(ranges):
        primary = tag.split("-")[0].lower()
        if float(q) > 0 and primary in rf.LANGUAGES:
            candidate = (-float(q), i, primary)
            best = candidate if best is None or candidate < best else best
    assert rf.negotiate_language(header) == (None if best is None else best[2])


def test_the_participant_then_the_browser_then_the_campaign_then_english() -> None:
    assert rf.choose_language(participant="sv", accept_language="de", campaign="nl") == "sv"
    assert rf.choose_language(participant="fr", accept_language="de", campaign="nl") == "de"
    assert rf.choose_language(participant=None, accept_language="fr", campaign="nl") == "nl"
    assert rf.choose_language(accept_language="fr", campaign="it") == "en"


# ============================================================================ the page
def _participants(url: str, page: dict[str, Any] | None) -> dict[str, Any]:
    """A campaign with ``page`` settings and two participants: one without a language of
    their own, one whose language is Swedish."""
    store = Store(url)
    try:
        with Session(store.engine) as session:
            tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
            rules: dict[str, Any] = {
                "destinations": ["https://shop.example/welcome"],
                "window_days": 30.0,
                "attribution": "last",
            }
            if page is not None:
                rules["page"] = rf.PageSettings.from_dict(
                    page, destinations=rules["destinations"]
                ).to_dict()
            campaign = Campaign(
                tenant_id=tenant.id, name="spring", offer=OFFER, currency="EUR", rules=rules
            )
            session.add(campaign)
            session.flush()
            out: dict[str, Any] = {}
            for name, code, language in (("ann", "ANNCD234", None), ("sven", "SVENC234", "sv")):
                person = Person(platform="email", handle=f"{name}@example.com")
                session.add(person)
                session.flush()
                session.add(
                    ReferralCode(
                        code=code, campaign_id=campaign.id, person_id=person.id, created_at=0
                    )
                )
                participant = Participant(
                    campaign_id=campaign.id,
                    person_id=person.id,
                    email=f"{name}@example.com",
                    created_at=time.time(),
                    language=language,
                )
                session.add(participant)
                session.flush()
                out[name] = {"token": rf.page_token(participant.id, SALT), "code": code}
            session.commit()
            return out
    finally:
        store.close()


@contextmanager
def _server(url: str, port: int | None = None) -> Iterator[str]:
    port = port or free_port()
    settings = Settings.model_validate(
        {"database_url": url, "ip_salt": SALT, "public_url": f"http://127.0.0.1:{port}"}
    )
    with serve(create_app(settings), port=port) as base:
        yield base


BRANDED = {
    "language": "nl",
    "display_name": "Bakkerij Jansen",
    "color": "#C0392B",
    "logo_url": "https://shop.example/logo.png",
    "preview": {"title": "Lente bij Jansen", "image": "https://shop.example/og.png"},
}


@pytest.fixture
def site(store_url: str) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    people = _participants(store_url, BRANDED)
    with _server(store_url) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield client, people


def test_the_page_speaks_the_browsers_language(site: Any) -> None:
    client, people = site
    token = people["ann"]["token"]
    r = client.get(f"/p/{token}", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert r.status_code == 200
    assert r.headers["vary"] == "Accept-Language"
    html = r.text
    assert '<html lang="de">' in html
    assert "Dein Link" in html
    assert "Deine Freunde bekommen 20 % Rabatt; du bekommst 10,00 EUR" in html
    assert ">Kopieren<" in html
    assert 'data-copied="Kopiert"' in html
    assert ">E-Mail<" in html
    # The share messages are German too, and still tagged with their channel.
    whatsapp = re.search(r'data-testid="share-whatsapp" href="([^"]+)"', html)
    assert whatsapp is not None
    text = parse_qs(urlsplit(whatsapp.group(1).replace("&amp;", "&")).query)["text"][0]
    assert text.startswith("Hol dir 20 % Rabatt bei Bakkerij Jansen mit meinem Link: http")
    assert text.endswith(f"/r/{people['ann']['code']}?ch=whatsapp")
    email = re.search(r'data-testid="share-email" href="([^"]+)"', html)
    assert email is not None
    assert unquote(email.group(1)).startswith("mailto:?subject=20 % Rabatt bei Bakkerij Jansen")
    # The figures, refreshed by htmx, follow the same header.
    stats = client.get(f"/p/{token}/stats", headers={"Accept-Language": "de"}).text
    assert "Deine Empfehlungen" in stats
    assert "Noch keine Prämien" in stats


def test_the_participants_own_language_wins_then_the_campaigns(site: Any) -> None:
    client, people = site
    sven = client.get(f"/p/{people['sven']['token']}", headers={"Accept-Language": "de"}).text
    assert '<html lang="sv">' in sven
    assert "Din länk" in sven
    ann = client.get(f"/p/{people['ann']['token']}", headers={"Accept-Language": "fr"}).text
    assert '<html lang="nl">' in ann  # no French: the campaign's Dutch
    assert "Jouw link" in ann
    bad = client.get("/p/p1.forged.0.token", headers={"Accept-Language": "sv"})
    assert bad.status_code == 404
    assert "Den här länken är inte giltig" in bad.text


def test_the_page_wears_the_brand_under_a_strict_csp(site: Any) -> None:
    client, people = site
    r = client.get(f"/p/{people['ann']['token']}")
    html = r.text
    assert 'data-testid="name">Bakkerij Jansen<' in html
    assert '<img class="logo" data-testid="logo" src="https://shop.example/logo.png"' in html
    assert '<link rel="stylesheet" href="/brand/c0392b.css">' in html
    csp = r.headers["content-security-policy"]
    assert csp == PAGE_CSP.replace(
        "img-src 'self' data:", "img-src 'self' data: https://shop.example"
    )
    assert "unsafe-inline" not in csp
    assert "style=" not in html  # no inline style anywhere
    css = client.get("/brand/c0392b.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent: #c0392b" in css.text
    assert "--on-accent: #ffffff" in css.text  # white reads best on that red
    assert "--on-accent: #000000" in client.get("/brand/ffeb3b.css").text
    assert client.get("/brand/C0392B.css").status_code == 404
    assert client.get("/brand/red.css").status_code == 404


def test_open_graph_and_twitter_tags(site: Any) -> None:
    client, people = site
    html = client.get(f"/p/{people['ann']['token']}").text
    code = people["ann"]["code"]
    assert '<meta property="og:title" content="Lente bij Jansen">' in html
    assert '<meta property="og:image" content="https://shop.example/og.png">' in html
    assert '<meta property="og:locale" content="nl_NL">' in html
    assert re.search(rf'<meta property="og:url" content="http://[^"]+/r/{code}\?ch=copy">', html)
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    # The description falls back on the offer, in the page's language.
    assert '<meta property="og:description" content="Je vrienden krijgen 20% korting' in html


def test_the_qr_code_carries_the_participants_link(site: Any) -> None:
    client, people = site
    token, code = people["ann"]["token"], people["ann"]["code"]
    html = client.get(f"/p/{token}").text
    assert f'<img data-testid="qr" src="/p/{token}/qr.svg"' in html
    svg = client.get(f"/p/{token}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    link = f"{str(client.base_url).rstrip('/')}/r/{code}?ch=qr"
    expected = io.BytesIO()
    segno.make(link, error="m").save(expected, kind="svg", scale=6, border=2, xmldecl=False)
    assert svg.content == expected.getvalue()  # the same symbol as segno makes for the link
    png = client.get(f"/p/{token}/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get("/p/p1.forged.0.token/qr.svg").status_code == 404
    # A scan is a click on channel qr.
    r = client.get(f"/r/{code}?ch=qr", follow_redirects=False)
    assert r.status_code == 307


def test_the_snippet_answers_in_the_buyers_language(store_url: str) -> None:
    _participants(store_url, {"language": "sv"})
    secret = tenant_webhook_secret(store_url, "whsec_i18n_snippet")
    port = free_port()
    settings = Settings.model_validate(
        {
            "database_url": store_url,
            "ip_salt": SALT,
            "secrets_key": SECRETS_KEY,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    with serve(create_app(settings), port=port) as base, httpx.Client(base_url=base) as client:
        campaign = _campaign_id(store_url)
        answers = {}
        for language in ("nl", "fr"):  # Dutch asked for; French falls back on Swedish
            email = f"buyer-{language}@example.com"
            ts = int(time.time())
            form = {
                "campaign": str(campaign),
                "email": email,
                "ts": str(ts),
                "sig": rf.embed_signature(secret, campaign, email, ts),
            }
            r = client.post("/embed/enrol", data=form, headers={"Accept-Language": language})
            assert r.status_code == 200, r.text
            answers[language] = r.json()
    nl, sv = answers["nl"], answers["fr"]
    assert nl["language"] == "nl"
    assert nl["headline"].startswith("Je vrienden krijgen 20% korting")
    assert nl["texts"]["copy"] == "Kopiëren"
    assert nl["labels"]["email"] == "E-mail"
    assert sv["language"] == "sv"
    assert sv["texts"]["copied"] == "Kopierad"
    assert sv["labels"]["email"] == "E-post"
    body = parse_qs(urlsplit(sv["share"]["email"]).query)["body"][0]
    assert body.startswith("Hej!\n\nFå 20 % rabatt hos spring med min länk:\n\nhttp")


def _campaign_id(url: str) -> int:
    store = Store(url, create=False)
    try:
        with Session(store.engine) as session:
            return int(session.scalars(select(Campaign.id)).one())
    finally:
        store.close()


# ============================================================================ browser
@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        skip_or_fail(f"chromium not found at {CHROMIUM}", mandatory=in_ci())
    pytest.importorskip("playwright.sync_api")
    return CHROMIUM


@contextmanager
def _logo_server() -> Iterator[str]:
    """The shop's own site, serving its logo (a 1x1 PNG) from another origin."""
    png = segno.make("logo")
    body = io.BytesIO()
    png.save(body, kind="png", scale=4)
    data = body.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_browser_renders_the_branded_page_without_csp_violations(
    store_url: str, chromium_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    with _logo_server() as shop:
        page_settings = {
            "display_name": "Bageriet",
            "color": "#1a237e",
            "logo_url": f"{shop}/logo.png",
            "logo_allowlist": [shop],
        }
        people = _participants(store_url, page_settings)
        with _server(store_url) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
            try:
                context = browser.new_context(locale="sv-SE")
                page = context.new_page()
                problems: list[str] = []
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
                )
                page.goto(f"{base}/p/{people['ann']['token']}")
                page.wait_for_load_state("networkidle")
                assert page.locator("html").get_attribute("lang") == "sv"
                assert page.get_by_test_id("name").inner_text() == "Bageriet"
                colour = page.get_by_test_id("name").evaluate("e => getComputedStyle(e).color")
                assert colour == "rgb(26, 35, 126)"  # the brand colour, from /brand/1a237e.css
                for image in ("logo", "qr"):
                    width = page.get_by_test_id(image).evaluate("e => e.naturalWidth")
                    assert width > 0, image  # loaded under the page's CSP
                page.get_by_test_id("copy").click()
                assert page.get_by_test_id("copy").inner_text() == "Kopierad"
                assert not [p for p in problems if "Content Security Policy" in p], problems
            finally:
                browser.close()
