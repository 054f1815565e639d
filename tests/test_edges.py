"""Friendly edges of the short link: landing pages for links that cannot refer, misses
counted per reason, UTM tags on destinations, link-preview cards; the pure functions behind
them and the real service (uvicorn in a thread, SQLite and PostgreSQL).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput, InvalidParameter
from grapevine.service import create_app
from grapevine.store import Store, tenants_repo
from grapevine.store.models import Campaign, Participant, Person, ReferralCode, ReferralEvent
from grapevine.store.sharing_models import LinkMiss
from support import api_key, auth, serve

SALT = "edges-test-salt"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GLOBAL_LANDING = "https://grapevine.example/welcome"
TENANT_LANDING = "https://shop.example/referrals-closed"
ENDED_LANDING = "https://shop.example/spring-is-over"
SHOP = "https://shop.example/welcome"


# ============================================================================ UTM tags
@pytest.mark.parametrize(
    ("url", "content", "expected"),
    [
        (
            "https://shop.example/?ref=K7MP",
            "whatsapp",
            "https://shop.example/?ref=K7MP&utm_source=gv&utm_medium=referral"
            "&utm_campaign=spring&utm_content=whatsapp",
        ),
        (  # the shop's own source and campaign stay; the missing tags are added
            "https://shop.example/p?utm_source=newsletter&utm_campaign=may#top",
            None,
            "https://shop.example/p?utm_source=newsletter&utm_campaign=may&utm_medium=referral#top",
        ),
        (  # a fully tagged destination is left exactly as it is
            "https://shop.example/?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d",
            "x",
            "https://shop.example/?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d",
        ),
        (  # an empty utm_content is the shop's too
            "https://shop.example/?utm_content=",
            "email",
            "https://shop.example/?utm_content=&utm_source=gv&utm_medium=referral"
            "&utm_campaign=spring",
        ),
    ],
)
def test_add_utm_adds_only_the_missing_tags(url: str, content: str | None, expected: str) -> None:
    assert rf.add_utm(url, source="gv", campaign="spring", content=content) == expected


_KEYS = st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "utm_content", "ref", "q"])
_VALUES = st.text(alphabet="abc xyz&=#%/?+é", max_size=6)


@given(st.lists(st.tuples(_KEYS, _VALUES), max_size=6), st.sampled_from([None, *rf.CHANNELS]))
def test_add_utm_never_changes_what_the_url_has(
    pairs: list[tuple[str, str]], channel: str | None
) -> None:
    base = rf.add_params("https://shop.example/landing", None)
    url = base + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
    url = rf.add_params(url, {})  # the query as the redirect would build it
    tagged = rf.add_utm(url, source="grapevine", campaign="spring", content=channel)
    before = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    after = parse_qsl(urlsplit(tagged).query, keep_blank_values=True)
    assert after[: len(before)] == before  # nothing of the shop's changed or moved
    added = dict(after[len(before) :])
    present = {k for k, _ in before}
    assert not set(added) & present  # nothing the URL had is added again
    wanted = {"utm_source", "utm_medium", "utm_campaign"} | ({"utm_content"} if channel else set())
    assert set(added) == wanted - present
    assert rf.add_utm(tagged, source="other", campaign="x", content=channel) == tagged


# ============================================================================ landing pages
@pytest.mark.parametrize(
    ("reason", "given_", "expected"),
    [
        ("ended", {"campaign_landing": "L", "campaign_default": "D", "global_landing": "G"}, "L"),
        ("ended", {"campaign_default": "D", "tenant_landing": "T"}, "D"),
        ("disabled", {"campaign_landing": "L", "tenant_landing": "T", "global_landing": "G"}, "T"),
        ("disabled", {"campaign_default": "D", "global_landing": "G"}, "G"),
        ("disabled", {"campaign_default": "D"}, None),
        ("unknown", {"tenant_landing": "T", "global_landing": "G"}, "G"),
        ("unknown", {}, None),
    ],
)
def test_miss_destination(reason: str, given_: dict[str, str], expected: str | None) -> None:
    assert rf.miss_destination(reason, **given_) == expected


def test_miss_destination_refuses_an_unknown_reason() -> None:
    with pytest.raises(InvalidParameter, match="'reason' parameter of miss_destination"):
        rf.miss_destination("expired")


# ============================================================================ page settings
@pytest.mark.parametrize(
    ("page", "field"),
    [
        ({"color": "red"}, "page.color"),
        ({"color": "#12345"}, "page.color"),
        ({"color": "#ggg"}, "page.color"),
        ({"language": "fr"}, "page.language"),
        ({"logo_url": "https://evil.example/logo.png"}, "page.logo_url"),
        ({"logo_url": "javascript:alert(1)"}, "page.logo_url"),
        ({"logo_url": "https://shop.example@evil.example/x.png"}, "page.logo_url"),
        ({"logo_allowlist": "https://cdn.example"}, "page.logo_allowlist"),
        ({"landing_url": "//evil.example"}, "page.landing_url"),
        ({"display_name": "x" * 81}, "page.display_name"),
        ({"utm": {"source": "has space"}}, "page.utm.source"),
        ({"utm": {"term": "x"}}, "page.utm.term"),
        ({"utm": "yes"}, "page.utm"),
        ({"preview": {"image": "ftp://x.example/a.png"}}, "page.preview.image"),
        ({"colour": "#fff"}, "page.colour"),
    ],
)
def test_page_settings_name_the_field_at_fault(page: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInput) as caught:
        rf.PageSettings.from_dict(page, destinations=[SHOP])
    assert caught.value.field == field


def test_page_settings_normalise_and_round_trip() -> None:
    page = rf.PageSettings.from_dict(
        {
            "language": "NL",
            "display_name": " Bakkerij Jansen ",
            "color": "#C0A",
            "logo_url": "https://SHOP.example/logo.svg",
            "landing_url": ENDED_LANDING,
            "utm": {"source": "newsletter-friends", "campaign": "lente"},
            "preview": {"title": "Lente!", "image": "https://shop.example/og.png"},
        },
        destinations=[SHOP],
    )
    assert (page.language, page.display_name, page.color) == ("nl", "Bakkerij Jansen", "#cc00aa")
    assert page.utm == rf.Utm(enabled=True, source="newsletter-friends", campaign="lente")
    assert rf.PageSettings.from_dict(page.to_dict(), destinations=[SHOP]) == page
    assert rf.PageSettings.stored(page.to_dict()) == page
    assert rf.PageSettings.from_dict(None) == rf.PageSettings()
    assert not rf.PageSettings().utm.enabled  # no tags unless asked for
    assert rf.PageSettings.from_dict({"utm": True}).utm == rf.Utm(enabled=True)


def test_the_logo_comes_from_the_allowlist_or_the_destinations() -> None:
    cdn = {"logo_allowlist": ["https://cdn.example"], "logo_url": "https://cdn.example/l.png"}
    page = rf.PageSettings.from_dict(cdn, destinations=[SHOP])
    assert page.logo_allowed([SHOP]) == "https://cdn.example/l.png"
    with pytest.raises(BadInput, match="logo_allowlist"):  # an explicit list replaces
        rf.PageSettings.from_dict(
            {**cdn, "logo_url": "https://shop.example/l.png"}, destinations=[SHOP]
        )
    own = rf.PageSettings.from_dict({"logo_url": "https://shop.example/l.png"}, destinations=[SHOP])
    assert own.logo_allowed([SHOP]) == "https://shop.example/l.png"
    assert own.logo_allowed(["https://other.example/"]) is None  # destinations changed since


# ============================================================================ the service
def _world(url: str, *, landing: bool = True) -> dict[str, Any]:
    """Tenant acme with four campaigns and a code in each, made straight in the store:
    spring (active; UTM tags, a preview card), paused, over (ended, with a landing page),
    plain (active, no page settings) with a disabled code as well."""
    now = time.time()
    page = {
        "language": "de",
        "utm": {"source": "grapevine", "campaign": "spring"},
        "preview": {
            "title": "Spring at the shop",
            "description": "20% off for friends",
            "image": "https://shop.example/og.png",
        },
    }
    store = Store(url)
    try:
        with Session(store.engine) as session:
            tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
            if landing:
                rf.set_landing_page(session, tenant_id=tenant.id, url=TENANT_LANDING)
            out: dict[str, Any] = {"tenant_id": tenant.id}
            specs = [
                ("spring", "active", page, "SPRNG234"),
                ("paused", "paused", None, "PAUSE234"),
                ("over", "ended", {"landing_url": ENDED_LANDING}, "ENDED234"),
                ("plain", "active", None, "PRSNT234"),
            ]
            for name, status, settings, code in specs:
                rules: dict[str, Any] = {
                    "destinations": [SHOP, "https://blog.example/"],
                    "window_days": 30.0,
                    "attribution": "last",
                }
                if settings is not None:
                    rules["page"] = rf.PageSettings.from_dict(
                        settings, destinations=rules["destinations"]
                    ).to_dict()
                campaign = Campaign(tenant_id=tenant.id, name=name, status=status, rules=rules)
                person = Person(platform="email", handle=f"{name}@example.com")
                session.add_all([campaign, person])
                session.flush()
                session.add(
                    ReferralCode(
                        code=code, campaign_id=campaign.id, person_id=person.id, created_at=now
                    )
                )
                out[name] = {"id": campaign.id, "code": code, "person_id": person.id}
            session.add(
                ReferralCode(
                    code="DSABX234",
                    campaign_id=out["plain"]["id"],
                    person_id=out["plain"]["person_id"],
                    created_at=now - 10,
                    disabled_at=now - 5,
                )
            )
            session.commit()
    finally:
        store.close()
    return out


def _settings(url: str, **extra: Any) -> Settings:
    return Settings.model_validate(
        {"database_url": url, "ip_salt": SALT, "public_url": "https://go.shop.example", **extra}
    )


@pytest.fixture
def world(store_url: str) -> Iterator[tuple[httpx.Client, dict[str, Any], str]]:
    made = _world(store_url)
    key = api_key(store_url, "acme", "read")
    with _client(_settings(store_url, landing_url=GLOBAL_LANDING), key) as client:
        yield client, made, store_url


@contextmanager
def _client(settings: Settings, key: str | None = None) -> Iterator[httpx.Client]:
    """A real server of ``settings`` and a client of it (presenting ``key``)."""
    headers = auth(key) if key else {}
    with (
        serve(create_app(settings)) as base,
        httpx.Client(base_url=base, headers=headers, timeout=10) as client,
    ):
        yield client


def _clicks(url: str) -> list[tuple[str | None, str | None, str]]:
    store = Store(url, create=False)
    try:
        with Session(store.engine) as session:
            rows = session.execute(
                select(ReferralEvent.code, ReferralEvent.channel, ReferralEvent.traffic).where(
                    ReferralEvent.kind == "click"
                )
            ).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        store.close()


def _get(client: httpx.Client, path: str, **headers: str) -> Any:
    return client.get(path, headers={"User-Agent": BROWSER, **headers}, follow_redirects=False)


def test_an_active_link_redirects_with_utm_tags(world: Any) -> None:
    client, made, url = world
    code = made["spring"]["code"]
    r = _get(client, f"/r/{code}?ch=whatsapp")
    assert r.status_code == 307
    assert r.headers["location"] == (
        f"{SHOP}?ref={code}&utm_source=grapevine&utm_medium=referral&utm_campaign=spring"
        "&utm_content=whatsapp"
    )
    assert "gv_vid=" in r.headers["set-cookie"]
    # The shop's own tags on a page the link asks for are kept.
    r = _get(client, f"/r/{code}", **{})
    assert r.headers["location"].endswith("&utm_campaign=spring")  # no channel, no content
    r = client.get(
        f"/r/{code}",
        params={"to": "/sale?utm_source=newsletter"},
        headers={"User-Agent": BROWSER},
        follow_redirects=False,
    )
    query = dict(parse_qsl(urlsplit(r.headers["location"]).query))
    assert query["utm_source"] == "newsletter"
    assert query["utm_medium"] == "referral"
    # A campaign without page settings adds no tags (as before they existed).
    plain = made["plain"]["code"]
    assert _get(client, f"/r/{plain}").headers["location"] == f"{SHOP}?ref={plain}"
    client.get("/api/link-misses")  # waits for the clicks (a route that reads them)
    assert (code, "whatsapp", "browser") in _clicks(url)


def test_a_paused_campaign_still_redirects(world: Any) -> None:
    client, made, _ = world
    code = made["paused"]["code"]
    r = _get(client, f"/r/{code}")
    assert r.status_code == 307
    assert r.headers["location"] == f"{SHOP}?ref={code}"


@pytest.mark.parametrize(
    ("path", "where", "reason"),
    [
        ("/r/ENDED234", ENDED_LANDING, "ended"),
        ("/r/DSABX234", TENANT_LANDING, "disabled"),
        ("/r/ZZZZ2222", GLOBAL_LANDING, "unknown"),
        ("/r/not-a-code-0OI1", GLOBAL_LANDING, "unknown"),
    ],
)
def test_links_that_cannot_refer_go_to_a_landing_page(
    world: Any, path: str, where: str, reason: str
) -> None:
    client, made, url = world
    r = _get(client, path, Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 307
    assert r.headers["location"] == where  # no ref, no tags: nobody is credited
    assert "set-cookie" not in r.headers
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    misses = client.get("/api/link-misses").json()
    assert misses["totals"][reason] == (0 if reason == "unknown" else 1)  # acme is not default
    assert _clicks(url) == []  # a miss is not a click
    if reason != "unknown":
        campaign = made["over" if reason == "ended" else "plain"]["id"]
        assert misses["by_campaign"][str(campaign)] == {reason: 1}


def test_api_clients_asking_for_json_get_the_error_shape(world: Any) -> None:
    client, _, _ = world
    r = _get(client, "/r/ZZZZ2222", Accept="application/json")
    assert r.status_code == 404
    assert r.json()["detail"] == "unknown referral code"
    r = _get(client, "/r/ENDED234", Accept="application/json")
    assert r.status_code == 410
    assert r.json()["error"]
    # A browser's Accept (HTML and anything) is not an API client.
    assert _get(client, "/r/ENDED234", Accept="text/html,*/*").status_code == 307


def test_unknown_codes_are_counted_for_the_installation(store_url: str) -> None:
    _world(store_url)
    key = api_key(store_url, "default", "read")
    with _client(_settings(store_url), key) as client:  # no GRAPEVINE_LANDING_URL
        for _ in range(3):
            r = _get(client, "/r/ZZZZ2222", **{"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
            assert r.status_code == 404
            assert r.headers["content-type"].startswith("text/html")
            assert "Den här värvningslänken fungerar inte längre" in r.text
            assert '<html lang="sv">' in r.text
            assert "style-src 'self'" in r.headers["content-security-policy"]
        assert (
            "Dieser Empfehlungslink"
            in _get(client, "/r/ZZZZ2222", **{"Accept-Language": "de"}).text
        )
        r = _get(client, "/r/DSABX234")  # acme's landing page is kept for acme's codes
        assert r.headers["location"] == TENANT_LANDING
        misses = client.get("/api/link-misses").json()
        assert misses["totals"] == {"unknown": 4, "disabled": 0, "ended": 0}  # default's view
    store = Store(store_url, create=False)
    try:
        with Session(store.engine) as session:  # one row per day, reason and campaign
            rows = session.scalars(select(LinkMiss).order_by(LinkMiss.reason)).all()
            assert [(m.reason, m.count, m.campaign_id is None) for m in rows] == [
                ("disabled", 1, False),
                ("unknown", 4, True),
            ]
    finally:
        store.close()


def test_link_preview_crawlers_get_the_campaign_card(world: Any) -> None:
    client, made, url = world
    code = made["spring"]["code"]
    r = _get(client, f"/r/{code}?ch=x", **{"User-Agent": "Twitterbot/1.0"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<meta property="og:title" content="Spring at the shop">' in html
    assert '<meta property="og:description" content="20% off for friends">' in html
    assert '<meta property="og:image" content="https://shop.example/og.png">' in html
    assert f'<meta property="og:url" content="https://go.shop.example/r/{code}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<html lang="de">' in html  # the campaign's language
    assert "set-cookie" not in r.headers
    # People are redirected as ever; a campaign without a card redirects crawlers too.
    assert _get(client, f"/r/{code}").status_code == 307
    plain = made["plain"]["code"]
    assert _get(client, f"/r/{plain}", **{"User-Agent": "Twitterbot/1.0"}).status_code == 307
    client.get("/api/link-misses")
    assert (code, "x", "preview") in _clicks(url)  # recorded, as a preview


def test_the_tenant_sets_its_landing_page(store_url: str) -> None:
    made = _world(store_url, landing=False)
    admin = api_key(store_url, "acme", "admin")
    with _client(_settings(store_url, link_cache_seconds=0), admin) as client:
        assert client.get("/api/tenant/landing").json() == {"url": None}
        assert _get(client, "/r/DSABX234").status_code == 404  # nowhere to go yet
        bad = client.put("/api/tenant/landing", json={"url": "javascript:alert(1)"})
        assert bad.status_code == 422
        assert "url" in bad.text
        r = client.put("/api/tenant/landing", json={"url": TENANT_LANDING})
        assert r.json() == {"url": TENANT_LANDING}
        assert _get(client, "/r/DSABX234").headers["location"] == TENANT_LANDING
        r = client.get("/api/link-misses", params={"campaign_id": made["plain"]["id"]})
        assert r.json()["totals"]["disabled"] == 2
        assert client.put("/api/tenant/landing", json={"url": None}).json() == {"url": None}
        reader = api_key(store_url, "acme", "read")
        r = client.put("/api/tenant/landing", json={"url": SHOP}, headers=auth(reader))
        assert r.status_code == 403


def test_a_participant_of_an_ended_campaign_keeps_no_referral_path(store_url: str) -> None:
    """The page of an ended campaign still shows; its link now goes to the landing page."""
    made = _world(store_url)
    store = Store(store_url, create=False)
    try:
        with Session(store.engine) as session:
            participant = Participant(
                campaign_id=made["over"]["id"],
                person_id=made["over"]["person_id"],
                email="over@example.com",
                created_at=time.time(),
            )
            session.add(participant)
            session.commit()
            pid = participant.id
    finally:
        store.close()
    with _client(_settings(store_url)) as client:
        page = client.get(f"/p/{rf.page_token(pid, SALT)}")
        assert page.status_code == 200
        assert "ENDED234" in page.text
        assert _get(client, "/r/ENDED234").headers["location"] == ENDED_LANDING
