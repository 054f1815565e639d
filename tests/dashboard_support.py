"""Helpers of the dashboard tests: a real server, users, a signed-in httpx client.

``dashboard_server(url, **settings)`` serves :func:`grapevine.service.create_app` with a
real uvicorn on a loopback port (so demo mode, which needs a loopback client, can be tested
too); ``signed_in(base, username, password)`` is an httpx client past the login form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session

from grapevine.config import Settings
from grapevine.service import create_app
from grapevine.store import Store, dashboard_repo, tenants_repo
from support import serve

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def dashboard_server(database_url: str, **settings: Any) -> Iterator[str]:
    """The service (with its dashboard) on a real server; yields the base URL."""
    values = {
        "database_url": database_url,
        "rate_limit_per_key": "off",
        "rate_limit_per_ip": "off",
        **settings,
    }
    with serve(create_app(Settings.model_validate(values))) as base:
        yield base


def add_user(
    store: Store,
    username: str,
    *,
    tenant: str = "acme",
    role: str = "editor",
    password: str = PASSWORD,
) -> None:
    """A dashboard user with ``role`` in ``tenant`` (created when missing)."""
    with Session(store.engine) as session:
        tenants_repo.get_or_create_tenant(session, slug=tenant)
        dashboard_repo.add_user(
            session, username=username, password=password, tenant=tenant, role=role
        )
        session.commit()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = _CSRF.search(html)
    assert match is not None, "no csrf_token in the page"
    return match.group(1)


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign ``client`` in through the form; the answer to the POST (not followed)."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )


@contextmanager
def signed_in(base: str, username: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """An httpx client of ``base`` signed in as ``username``."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = login(client, username, password)
        assert response.status_code == 303, response.text
        yield client


# ---------------------------------------------------------------------------- data
NOW = 1_700_000_000.0
"""The clock of the filled store: the newest post is two hours before it."""
HOUR = 3600.0
DAY = 86_400.0
BURST_AT = NOW - 2 * HOUR


def fill_listening(store: Store) -> None:
    """A small listening store through the library's own pipeline: two watch rules, nine
    quiet days of one post every three hours, then a burst of 24 complaints about a leak in
    one hour (an alert), and a reply thread under the first complaint. Every matched post
    lands in the inbox."""
    from grapevine.connectors import ListenedPost
    from grapevine.listening import Listener
    from grapevine.store import listening_repo

    with store.engine.begin() as conn:
        listening_repo.add_rule(conn, name="brewly", query="brewly inbox:all", now=NOW - 10 * DAY)
        listening_repo.add_rule(
            conn, name="leak", query="leak OR leaking inbox:all", now=NOW - 10 * DAY
        )
        source = listening_repo.add_source(
            conn, kind="rss", name="feed", config={"url": "http://feed.example"}, now=NOW
        )
    start = NOW - 9 * DAY
    posts = [
        ListenedPost(
            "rss",
            f"q{h}",
            f"fan{h % 7}",
            start + h * HOUR,
            f"My Brewly makes a lovely espresso this morning, great coffee {h}",
            author_followers=100 + h,
            language="en",
        )
        for h in range(0, 9 * 24 - 6, 3)
    ]
    posts += [
        ListenedPost(
            "rss",
            f"b{i}",
            f"angry{i % 4}",
            BURST_AT + i * 60,
            f"My Brewly machine started leaking and flooded the kitchen, terrible {i}",
            author_followers=1000 * (i + 1),
            reshares=3 * i,
            language="en",
        )
        for i in range(24)
    ]
    posts += [
        ListenedPost(
            "rss",
            "r1",
            "support",
            BURST_AT + 30 * 60,
            "@angry0 Sorry about the Brewly leak, we are on it",
            parent_external_id="b0",
            language="en",
        ),
        ListenedPost(
            "rss",
            "r2",
            "angry0",
            BURST_AT + 40 * 60,
            "@support thanks, the Brewly still leaks though",
            parent_external_id="r1",
            language="en",
        ),
    ]
    Listener(store, clock=lambda: NOW).ingest(posts, source_id=source, cursor="c1")


def fill_conversions(store: Store, tenant: str = "acme") -> None:
    """A campaign of ``tenant`` with three signups and two purchases (40 and 60) on the
    last two days of the listening data."""
    from grapevine.store import campaigns_repo, events_repo

    with Session(store.engine) as session:
        row = tenants_repo.get_or_create_tenant(session, slug=tenant)
        campaign = campaigns_repo.create_campaign(
            session, tenant_id=row.id, name="spring", goal=None, offer=None, rules={}
        )
        for i, (kind, at, value) in enumerate(
            [
                ("signup", NOW - DAY - HOUR, None),
                ("signup", NOW - DAY, None),
                ("purchase", NOW - DAY + HOUR, 40.0),
                ("signup", NOW - 3 * HOUR, None),
                ("purchase", NOW - 2 * HOUR, 60.0),
                ("click", NOW - 2 * HOUR, None),
            ]
        ):
            events_repo.add_event(
                session,
                campaign_id=campaign.id,
                kind=kind,
                time=at,
                value=value,
                idempotency_key=f"e{i}",
            )
        session.commit()
