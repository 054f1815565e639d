"""The campaign pages against a real server: list, create and edit with the workflow's
validation, lifecycle, figures and CSV, the review queue, and who may change what.

A small store is filled through the referral workflows (enrol, record_event); the pages are
read over HTTP with a signed-in client (dashboard_support.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session

from dashboard_support import add_user, csrf_of, dashboard_server, signed_in
from grapevine import referrals as rf
from grapevine.store import Store, tenants_repo

T0 = 1_790_000_000.0
DOC = {
    "name": "Bring a friend",
    "destinations": ["https://shop.example/"],
    "offer": {
        "referrer": {"kind": "fixed", "amount": 10},
        "friend": {"kind": "percent", "amount": 10},
        "tiers": [{"referrals": 3, "bonus": 5}],
    },
    "currency": "EUR",
}


def _fill(store: Store) -> int:
    """One campaign: a referrer, three friends who click and sign up, two who buy, and a
    friend at a throw-away address whose purchase is held for review."""
    with Session(store.engine, expire_on_commit=False) as session:
        tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
        campaign = rf.create_campaign(session, tenant_id=tenant.id, document=DOC, now=T0)
        anna = rf.enrol(session, campaign_id=campaign.id, email="anna@shop.example", salt="s")
        session.commit()
        from grapevine.store.models import ReferralEvent

        friends = ["bob@mail.example", "cy@mail.example", "dee@mail.example", "x1@mailinator.com"]
        for i, email in enumerate(friends):
            t = T0 + 3600 * (i + 1)
            session.add(
                ReferralEvent(
                    campaign_id=campaign.id, kind="click", time=t, code=anna.code,
                    referrer_id=anna.person_id, idempotency_key=f"c{i}",
                    visitor_id=f"v{i}", traffic="browser", channel="whatsapp",
                )
            )  # fmt: skip
            session.commit()
            rf.record_event(
                session,
                campaign_id=campaign.id,
                event=rf.EventInput(
                    "signup", f"s{i}", email=email, visitor_id=f"v{i}", time=t + 60
                ),
                salt="s",
                now=t + 60,
            )
            if i % 2 == 1:
                rf.record_event(
                    session,
                    campaign_id=campaign.id,
                    event=rf.EventInput(
                        "purchase", f"p{i}", email=email, visitor_id=f"v{i}",
                        order_id=f"o{i}", value=40.0, time=t + 120,
                    ),
                    salt="s",
                    now=t + 120,
                )  # fmt: skip
        return int(campaign.id)


@pytest.fixture
def site(store: Store) -> Iterator[tuple[str, int, Store]]:
    campaign_id = _fill(store)
    add_user(store, "ed", tenant="acme", role="editor")
    add_user(store, "vi", tenant="acme", role="viewer")
    with dashboard_server(store.url) as base:
        yield base, campaign_id, store


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf_of(page), **data}, follow_redirects=False)


def test_the_list_and_the_campaign_page_show_the_workflow_figures(
    site: tuple[str, int, Store],
) -> None:
    base, campaign_id, _ = site
    with signed_in(base, "vi") as client:
        listing = client.get("/campaigns?tenant=acme")
        assert listing.status_code == 200
        assert "Bring a friend" in listing.text
        assert f"/campaigns/{campaign_id}?tenant=acme" in listing.text
        assert "New campaign" not in listing.text  # a viewer cannot create
        page = client.get(f"/campaigns/{campaign_id}?tenant=acme")
        assert page.status_code == 200
        stats = None
        with Session(site[2].engine) as session:
            stats = rf.campaign_stats(session, campaign_id=campaign_id)
        assert stats.signups == 4
        for chart in ("funnel-chart", "rewards-chart", "generations-chart", "cohorts-chart"):
            assert f'id="{chart}-data"' in page.text
        funnel = client.get(f"/campaigns/{campaign_id}?tenant=acme&format=csv&table=funnel")
        rows = list(csv.DictReader(io.StringIO(funnel.text)))
        assert rows == [
            {
                "Channel": "whatsapp",
                "Clicks": "4",
                "Sign-ups": "4",
                "Purchases": str(stats.channels["whatsapp"]["purchases"]),
                "Sign-ups per click": "1",
            }
        ]
        board = client.get(f"/campaigns/{campaign_id}?tenant=acme&format=csv&table=leaderboard")
        assert "anna@shop.example" in board.text
        assert "Pause" not in page.text  # no lifecycle buttons for a viewer


def test_create_refuses_what_the_api_refuses_naming_the_field(
    site: tuple[str, int, Store],
) -> None:
    base, _, store = site
    with signed_in(base, "ed") as client:
        form = client.get("/campaigns/new?tenant=acme")
        good = {
            "name": "Summer",
            "destinations": "https://shop.example/summer",
            "window_days": "30",
            "attribution": "last",
            "currency": "eur",
            "referrer_kind": "fixed",
            "referrer_amount": "5",
            "friend_kind": "percent",
            "friend_amount": "10",
            "hold_days": "14",
            "review_threshold": "medium",
            "velocity_limit": "10",
        }
        for field, value, named in (
            ("window_days", "1000", "window_days"),
            ("window_days", "soon", "window_days"),
            ("destinations", "javascript:alert(1)", "destinations"),
            ("friend_kind", "gift", "offer"),
            ("velocity_limit", "1", "velocity_limit"),
            ("name", "", "name"),
        ):
            refused = _post(
                client, "/campaigns/new?tenant=acme", form.text, **{**good, field: value}
            )
            assert refused.status_code == 422, (field, value)
            message = re.search(r'id="form-error">(.*?)</p>', refused.text, re.S)
            assert message is not None
            assert named in message.group(1), (field, value, message.group(1))
        made = _post(client, "/campaigns/new?tenant=acme", form.text, **good)
        assert made.status_code == 303
        new_id = int(re.search(r"/campaigns/(\d+)", made.headers["location"]).group(1))  # type: ignore[union-attr]
    with Session(store.engine) as session:
        view = rf.get_campaign(session, campaign_id=new_id)
    assert view.currency == "EUR"
    assert view.offer is not None
    assert view.offer["referrer"] == {"kind": "fixed", "amount": 5}
    assert view.offer["hold_seconds"] == 14 * 86_400


def _form_fields(html: str) -> dict[str, str]:
    fields = dict(re.findall(r'name="(\w+)" type="\w+" value="([^"]*)"', html))
    fields.update(
        re.findall(
            r'<select id="f-\w+" name="(\w+)">.*?<option value="([^"]*)" selected', html, re.S
        )
    )
    fields["destinations"] = re.search(r'name="destinations"[^>]*>([^<]*)<', html).group(1)  # type: ignore[union-attr]
    fields.pop("csrf_token", None)
    return fields


def test_an_edit_is_checked_like_the_api_and_audited(site: tuple[str, int, Store]) -> None:
    base, campaign_id, store = site
    with signed_in(base, "ed") as client:
        form = client.get(f"/campaigns/{campaign_id}/edit?tenant=acme")
        assert 'value="Bring a friend"' in form.text
        fields = _form_fields(form.text)
        path = f"/campaigns/{campaign_id}/edit?tenant=acme"
        saved = _post(client, path, form.text, **{**fields, "goal": "More friends"})
        assert saved.status_code == 303, re.findall(r'id="form-error">(.*?)</p>', saved.text)
        assert "done=saved" in saved.headers["location"]
        again = _post(client, path, form.text, **{**fields, "goal": "More friends"})
        assert "done=unchanged" in again.headers["location"]
        # The campaign has rewards: the workflow refuses a new offer, and the page says so.
        refused = _post(client, path, form.text, **{**fields, "referrer_amount": "12"})
        assert refused.status_code == 422
        assert "cannot change" in refused.text
    with Session(store.engine) as session:
        view = rf.get_campaign(session, campaign_id=campaign_id)
        audit = rf.campaign_audit(session, campaign_id=campaign_id)
    assert view.goal == "More friends"
    assert view.offer is not None
    assert view.offer["referrer"]["amount"] == 10
    assert [a.actor for a in audit][-1] == "dashboard ed"


def test_an_offer_edit_keeps_what_the_form_does_not_show(site: tuple[str, int, Store]) -> None:
    base, _, store = site
    with Session(store.engine) as session:
        tenant = tenants_repo.find_tenant(session, slug="acme")
        assert tenant is not None
        fresh = rf.create_campaign(
            session, tenant_id=tenant.id, document={**DOC, "name": "No rewards yet"}
        )
        session.commit()
    with signed_in(base, "ed") as client:
        form = client.get(f"/campaigns/{fresh.id}/edit?tenant=acme")
        fields = {**_form_fields(form.text), "referrer_amount": "12", "hold_days": "7"}
        saved = _post(client, f"/campaigns/{fresh.id}/edit?tenant=acme", form.text, **fields)
        assert saved.status_code == 303, re.findall(r'id="form-error">(.*?)</p>', saved.text)
    with Session(store.engine) as session:
        view = rf.get_campaign(session, campaign_id=fresh.id)
    assert view.offer is not None
    assert view.offer["referrer"] == {"kind": "fixed", "amount": 12}
    assert view.offer["hold_seconds"] == 7 * 86_400
    assert view.offer["tiers"] == [{"referrals": 3, "bonus": 5}]  # not on the form: kept


def test_pause_resume_end_and_the_viewer_cannot(site: tuple[str, int, Store]) -> None:
    base, campaign_id, store = site
    with signed_in(base, "vi") as client:
        page = client.get(f"/campaigns/{campaign_id}?tenant=acme")
        refused = _post(client, f"/campaigns/{campaign_id}/pause?tenant=acme", page.text)
        assert refused.status_code == 403
    with signed_in(base, "ed") as client:
        page = client.get(f"/campaigns/{campaign_id}?tenant=acme")
        for action, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
            done = _post(client, f"/campaigns/{campaign_id}/{action}?tenant=acme", page.text)
            assert done.status_code == 303
            with Session(store.engine) as session:
                assert rf.get_campaign(session, campaign_id=campaign_id).status == status
        after = _post(client, f"/campaigns/{campaign_id}/resume?tenant=acme", page.text)
        assert after.status_code == 409  # ending is final: the refusal is shown, not hidden
        assert 'role="alert"' in after.text
        assert "ended" in after.text


def test_the_review_queue_approves_and_rejects(site: tuple[str, int, Store]) -> None:
    base, campaign_id, store = site
    with Session(store.engine) as session:
        held = rf.review_entries(session, campaign_id=campaign_id)
    assert held, "the throw-away address is held"
    with signed_in(base, "ed") as client:
        page = client.get(f"/campaigns/{campaign_id}/review?tenant=acme")
        assert "disposable" in page.text
        key = held[0].event_key
        done = _post(
            client, f"/campaigns/{campaign_id}/review?tenant=acme", page.text,
            event_key=key, outcome="reject", note="throw-away address",
        )  # fmt: skip
        assert "done=reject" in done.headers["location"]
        twice = _post(
            client, f"/campaigns/{campaign_id}/review?tenant=acme", page.text,
            event_key=key, outcome="approve",
        )  # fmt: skip
        assert twice.status_code == 409  # a review is final
        assert "already reject" in twice.text
    with Session(store.engine) as session:
        left = {e.event_key for e in rf.review_entries(session, campaign_id=campaign_id)}
    assert key not in left


def test_another_tenant_is_refused(site: tuple[str, int, Store]) -> None:
    base, campaign_id, store = site
    with Session(store.engine) as session:
        tenants_repo.get_or_create_tenant(session, slug="other")
        session.commit()
    add_user(store, "ot", tenant="other", role="admin")
    with signed_in(base, "ot") as client:
        assert client.get("/campaigns?tenant=acme").status_code == 403
        assert client.get(f"/campaigns/{campaign_id}?tenant=other").status_code == 404
