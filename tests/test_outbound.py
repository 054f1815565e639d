"""The outbox and its dispatcher, against real components: SQLite and PostgreSQL, an SMTP
server (aiosmtpd) and HTTP receivers (http.server) that check the signatures."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from grapevine import outbound as ob
from grapevine.errors import BadInput, InvalidParameter, NotFound
from grapevine.referrals import verify_webhook
from grapevine.store import Store
from grapevine.store.models import Participant
from grapevine.store.outbound_models import OutboundMessage
from outbound_support import http_receiver, make_participant, smtp_server
from support import SECRETS_KEY

T0 = 1_800_000_000.0
SALT = "unsubscribe-test-salt-0123456789"


def config(smtp_url: str | None = None) -> ob.OutboundConfig:
    return ob.OutboundConfig(
        smtp=ob.parse_smtp_url(smtp_url) if smtp_url else None,
        mail_from="Shop <hello@shop.example>",
        public_origin="https://go.shop.example",
        token_secret=SALT,
        secrets_key=SECRETS_KEY,
        http_timeout=5.0,
    )


def factory(store: Store) -> Callable[[], Session]:
    return lambda: Session(store.engine)


def statuses(store: Store) -> list[str]:
    with Session(store.engine) as s:
        return list(s.scalars(sa.select(OutboundMessage.status).order_by(OutboundMessage.id)))


# ----------------------------------------------------------------------------- the outbox
def test_a_message_exists_iff_its_transaction_commits(store: Store) -> None:
    with Session(store.engine) as s:
        _, _, pid = make_participant(s)
        s.commit()
    with Session(store.engine) as s:
        ids = ob.emit(
            s, tenant_id=1, event="reward.earned", payload={"amount": 5}, participant_id=pid
        )
        assert len(ids) == 1
        s.rollback()  # the business change failed: its message goes with it
    assert statuses(store) == []
    with Session(store.engine) as s:
        ob.emit(s, tenant_id=1, event="reward.earned", payload={"amount": 5}, participant_id=pid)
        s.commit()
    assert statuses(store) == ["pending"]


def test_emit_with_a_key_queues_once(store: Store) -> None:
    with Session(store.engine) as s:
        tid, _, pid = make_participant(s)
        first = ob.emit(
            s, tenant_id=tid, event="reward.earned", payload={}, participant_id=pid, key="r1"
        )
        again = ob.emit(
            s, tenant_id=tid, event="reward.earned", payload={}, participant_id=pid, key="r1"
        )
        other = ob.emit(
            s, tenant_id=tid, event="reward.paid", payload={}, participant_id=pid, key="r1"
        )
        s.commit()
    assert len(first) == 1
    assert again == []
    assert len(other) == 1
    assert statuses(store) == ["pending", "pending"]


def test_emit_refuses_bad_input(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as s:
        with pytest.raises(InvalidParameter, match="'event' parameter of emit"):
            ob.emit(s, tenant_id=1, event="reward.won", payload={})
        with pytest.raises(InvalidParameter, match="'payload' parameter"):
            ob.emit(s, tenant_id=1, event="reward.paid", payload={"x": {1, 2}})
        with pytest.raises(NotFound, match="participant 99"):
            ob.emit(s, tenant_id=1, event="reward.paid", payload={}, participant_id=99)


def test_non_participant_events_send_no_mail(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as s:
        tid, _, pid = make_participant(s)
        assert (
            ob.emit(s, tenant_id=tid, event="referral.converted", payload={}, participant_id=pid)
            == []
        )


# ----------------------------------------------------------------------------- e-mail
@pytest.mark.parametrize(
    ("participant_lang", "campaign_lang", "expected", "subject"),
    [
        ("nl", "de", "nl", "Je persoonlijke link voor Spring"),
        (None, "de", "de", "Dein persönlicher Link für Spring"),
        ("sv-SE", None, "sv", "Din personliga länk för Spring"),
        (None, None, "en", "Your personal link for Spring"),
        ("fr", "it", "en", "Your personal link for Spring"),
    ],
)
def test_welcome_mail_in_the_participants_language(
    sqlite_store: Store,
    participant_lang: str | None,
    campaign_lang: str | None,
    expected: str,
    subject: str,
) -> None:
    with smtp_server() as (url, box):
        with Session(sqlite_store.engine) as s:
            tid, _, pid = make_participant(
                s, language=participant_lang, campaign_language=campaign_lang
            )
            ob.emit(
                s,
                tenant_id=tid,
                event="participant.enrolled",
                participant_id=pid,
                payload={"share_url": "https://go.shop.example/r/ANN1"},
                now=T0,
            )
            s.commit()
        report = ob.deliver_due(factory(sqlite_store), now=T0, config=config(url))
        assert report.delivered == 1
    (mail,) = box.messages
    assert mail["Subject"] == subject
    assert mail["To"] == "ann@example.com"
    assert mail["Content-Language"] == expected
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "https://go.shop.example/r/ANN1" in text
    assert 'href="https://go.shop.example/r/ANN1"' in html
    assert f'<html lang="{expected}">' in html
    unsub = mail["List-Unsubscribe"]
    assert unsub.startswith("<https://go.shop.example/u/")
    assert unsub.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsub[1:-1] in text
    assert unsub[1:-1] in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["You earned EUR 12.50 in Spring.", "Your reward of EUR 12.50 has been paid"]),
        (
            "nl",
            ["Je hebt EUR 12,50 verdiend bij Spring.", "Je beloning van EUR 12,50 is uitbetaald"],
        ),
        ("de", ["Du hast bei Spring EUR 12,50 verdient.", "Deine Belohnung von EUR 12,50 wurde"]),
        ("sv", ["Du har tjänat EUR 12,50 i Spring.", "Din belöning på EUR 12,50 har betalats ut"]),
    ],
)
def test_reward_mails_in_four_languages(sqlite_store: Store, lang: str, words: list[str]) -> None:
    with smtp_server() as (url, box):
        with Session(sqlite_store.engine) as s:
            tid, _, pid = make_participant(s, language=lang)
            for event in ("reward.earned", "reward.paid", "friend.joined"):
                ob.emit(
                    s,
                    tenant_id=tid,
                    event=event,
                    participant_id=pid,
                    now=T0,
                    payload={"amount": 12.5, "friend_name": "Bo"},
                )
            s.commit()
        assert ob.deliver_due(factory(sqlite_store), now=T0, config=config(url)).delivered == 3
    earned, paid, friend = box.messages
    assert words[0] in earned.get_body(("plain",)).get_content()
    assert paid["Subject"].startswith(words[1])
    assert "Bo" in friend.get_body(("plain",)).get_content()
    assert {m["Content-Language"] for m in box.messages} == {lang}


def test_unsubscribe_stops_the_participant_mail(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as s:
        tid, _, pid = make_participant(s, language="de")
        _, _, other = make_participant(s, campaign="Summer")  # same person, same tenant
        ob.emit(s, tenant_id=tid, event="reward.earned", payload={}, participant_id=other)
        s.commit()
    token = ob.unsubscribe_token(pid, SALT)
    with Session(sqlite_store.engine) as s:
        state = ob.unsubscribe_state(s, token=token, secret=SALT)
        assert (state.unsubscribed, state.language, state.campaign_name) == (False, "de", "Spring")
        done = ob.unsubscribe(s, token=token, secret=SALT, now=T0)
        s.commit()
    assert done.unsubscribed
    assert done.unsubscribed_at == T0
    with Session(sqlite_store.engine) as s:
        again = ob.unsubscribe(s, token=token, secret=SALT, now=T0 + 60)
        assert again.unsubscribed_at == T0  # idempotent: the first time is kept
        assert s.get(Participant, other).unsubscribed_at == T0
        assert ob.emit(s, tenant_id=tid, event="reward.paid", payload={}, participant_id=pid) == []
        s.commit()
    # The message queued before the unsubscribe is skipped, not sent.
    with smtp_server() as (url, box):
        report = ob.deliver_due(factory(sqlite_store), now=T0 + 120, config=config(url))
    assert (report.skipped, box.messages) == (1, [])
    with pytest.raises(BadInput, match="token"):
        ob.read_unsubscribe_token(token[:-2] + "xx", SALT)
    with pytest.raises(BadInput, match="token"):
        ob.read_unsubscribe_token(token, "another-salt")


def test_mail_waits_while_smtp_is_not_set(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as s:
        tid, _, pid = make_participant(s)
        ob.emit(s, tenant_id=tid, event="reward.paid", payload={}, participant_id=pid, now=T0)
        s.commit()
    report = ob.deliver_due(
        factory(sqlite_store), now=T0, config=config(None), rng=random.Random(1)
    )
    assert report.retried == 1
    with Session(sqlite_store.engine) as s:
        (detail,) = ob.list_messages(s, tenant_id=tid)
    assert detail.message.status == "pending"
    assert "GRAPEVINE_SMTP_URL is not set" in (detail.attempts[0].error or "")
    with smtp_server() as (url, box):
        later = detail.message.next_try_at
        assert later is not None
        assert T0 + 30 <= later <= T0 + 60
        assert ob.deliver_due(factory(sqlite_store), now=later, config=config(url)).delivered == 1
    assert len(box.messages) == 1


# ----------------------------------------------------------------------------- webhooks
def test_signed_webhook_retried_with_backoff_until_it_succeeds(store: Store) -> None:
    with http_receiver([500, 503]) as rx, Session(store.engine) as s:
        tid, cid, _ = make_participant(s)
        new = ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target=rx.url + "/hooks",
            secrets_key=SECRETS_KEY,
            allow_private=True,
        )
        assert new.secret is not None
        assert new.secret.startswith("whsec_")
        ob.emit(
            s,
            tenant_id=tid,
            event="reward.earned",
            campaign_id=cid,
            now=T0,
            payload={"amount": 10.0, "reward_id": 7},
        )
        s.commit()
        rng = random.Random(3)
        now = T0
        for expected in ("retried", "retried", "delivered"):
            report = ob.deliver_due(factory(store), now=now, config=config(), rng=rng)
            assert getattr(report, expected) == 1
            (detail,) = [
                d for d in ob.list_messages(s, tenant_id=tid) if d.message.channel == "webhook"
            ]
            s.expire_all()
            if expected == "retried":
                wait = (detail.message.next_try_at or 0) - now
                n = detail.message.attempts
                full = ob.BACKOFF_BASE * 2 ** (n - 1)
                assert full / 2 <= wait <= full  # exponential, with jitter
                assert (
                    ob.deliver_due(factory(store), now=now + wait - 1, config=config()).claimed == 0
                )
                now += wait
        assert [a.status_code for a in detail.attempts] == [500, 503, 200]
        assert [a.ok for a in detail.attempts] == [False, False, True]
        assert all(a.latency_ms >= 0 for a in detail.attempts)
        assert detail.message.status == "delivered"
    assert len(rx.requests) == 3
    for i, req in enumerate(rx.requests, start=1):
        assert req.path == "/hooks"
        assert req.headers["X-Grapevine-Event"] == "reward.earned"
        assert req.headers["X-Grapevine-Attempt"] == str(i)
        verify_webhook(req.body, req.headers["X-Grapevine-Signature"], new.secret)
        doc = req.json()
        assert doc["event"] == "reward.earned"
        assert doc["data"] == {"amount": 10.0, "reward_id": 7}
        assert doc["campaign_id"] == cid
        assert doc["id"] == req.headers["X-Grapevine-Delivery"]
    with pytest.raises(Exception, match="signature"):
        verify_webhook(
            rx.requests[0].body, rx.requests[0].headers["X-Grapevine-Signature"], "whsec_wrong"
        )


def test_webhook_fails_after_its_attempts_and_redeliver_tries_again(sqlite_store: Store) -> None:
    store = sqlite_store
    with http_receiver([500] * 8) as rx, Session(store.engine) as s:
        tid, _, _ = make_participant(s)
        ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target=rx.url,
            secrets_key=SECRETS_KEY,
            events=["referral.converted"],
            allow_private=True,
        )
        (mid,) = ob.emit(
            s, tenant_id=tid, event="referral.converted", payload={"order": "A1"}, now=T0
        )
        s.commit()
        now = T0
        for _ in range(ob.MAX_ATTEMPTS["webhook"]):
            ob.deliver_due(factory(store), now=now, config=config())
            now += ob.BACKOFF_CAP + 1
        detail = ob.message_detail(s, tenant_id=tid, message_id=mid)
        assert detail.message.status == "failed"
        assert detail.message.attempts == 8
        assert detail.message.last_error == "HTTP 500: receiver says no"
        assert ob.deliver_due(factory(store), now=now + 10**6, config=config()).claimed == 0
        again = ob.redeliver(
            factory(store), tenant_id=tid, message_id=mid, now=now, config=config()
        )
        assert again.message.status == "delivered"
        assert again.attempts[-1].manual
        assert again.attempts[-1].status_code == 200
        with pytest.raises(NotFound):
            ob.redeliver(factory(store), tenant_id=tid + 1, message_id=mid, config=config())
    assert len(rx.requests) == 9


def test_removed_endpoint_gets_nothing(sqlite_store: Store) -> None:
    with http_receiver() as rx, Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        ep = ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target=rx.url,
            secrets_key=SECRETS_KEY,
            allow_private=True,
        ).endpoint
        ob.emit(s, tenant_id=tid, event="reward.paid", payload={})
        ob.remove_endpoint(s, tenant_id=tid, endpoint_id=ep.id)
        assert ob.emit(s, tenant_id=tid, event="reward.paid", payload={}) == []
        s.commit()
        assert ob.deliver_due(factory(sqlite_store), config=config()).claimed == 0
        assert ob.list_endpoints(s, tenant_id=tid) == []
        assert ob.list_endpoints(s, tenant_id=tid, include_removed=True)[0].removed_at is not None
    assert rx.requests == []
    assert statuses(sqlite_store) == ["skipped"]


@pytest.mark.parametrize(
    ("kind", "target", "problem"),
    [
        ("webhook", "ftp://hooks.example.com/x", "absolute http or https URL"),
        ("webhook", "http://127.0.0.1:9/x", "public address"),
        ("webhook", "http://169.254.169.254/latest", "public address"),
        ("slack", "http://hooks.slack.com/services/x", "https URL"),
        ("email", "not-an-address", "e-mail address"),
        ("pager", "https://x.example", "'kind' parameter"),
    ],
)
def test_endpoint_validation(sqlite_store: Store, kind: str, target: str, problem: str) -> None:
    with Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        with pytest.raises(InvalidParameter, match=problem):
            ob.add_endpoint(s, tenant_id=tid, kind=kind, target=target, secrets_key=SECRETS_KEY)


def test_endpoint_secrets_are_sealed(sqlite_store: Store) -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    with Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        slack = ob.add_endpoint(s, tenant_id=tid, kind="slack", target=url, secrets_key=SECRETS_KEY)
        hook = ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target="https://shop.example/h",
            secrets_key=SECRETS_KEY,
            secret="whsec_given_secret_123",
        )
        s.commit()
        with pytest.raises(InvalidParameter, match="GRAPEVINE_SECRETS_KEY"):
            ob.add_endpoint(
                s, tenant_id=tid, kind="webhook", target="https://a.example", secrets_key=None
            )
    assert slack.endpoint.target == "https://hooks.slack.com/…"
    assert slack.secret is None
    assert hook.secret == "whsec_given_secret_123"
    assert hook.endpoint.hint == "_123"
    with sqlite_store.engine.connect() as conn:
        dump = json.dumps(
            [list(r) for r in conn.execute(sa.text("SELECT * FROM outbound_endpoints"))]
        )
    assert "XXXXSECRET" not in dump
    assert "whsec_given" not in dump


# ----------------------------------------------------------------------------- alerts
ALERT = {
    "rule": "brand",
    "series": "negative",
    "time": T0,
    "value": 42.0,
    "expected": 6.0,
    "why": "7 times the usual negative mentions for Tuesday 14:00",
    "explanation": "Top terms: leak (30 posts, was 2).",
    "link": "https://gv.shop.example/listen/alerts?rule=brand",
}


def test_alert_goes_to_every_channel_in_its_shape(sqlite_store: Store) -> None:
    with http_receiver() as rx, smtp_server() as (smtp, box), Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        for kind in ("slack", "teams", "mattermost"):
            ob.add_endpoint(
                s,
                tenant_id=tid,
                kind=kind,
                target=f"{rx.url}/{kind}",
                secrets_key=SECRETS_KEY,
                allow_private=True,
            )
        ob.add_endpoint(
            s, tenant_id=tid, kind="email", target="team@shop.example", secrets_key=None
        )
        ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target=f"{rx.url}/webhook",
            secrets_key=SECRETS_KEY,
            events=["alert.raised"],
            allow_private=True,
        )
        ids = ob.emit(s, tenant_id=tid, event="alert.raised", payload=ALERT, key="brand:negative:1")
        assert len(ids) == 5
        assert (
            ob.emit(s, tenant_id=tid, event="alert.raised", payload=ALERT, key="brand:negative:1")
            == []
        )
        # chat channels carry alerts only
        assert ob.emit(s, tenant_id=tid, event="reward.paid", payload={}) == []
        s.commit()
        assert ob.deliver_due(factory(sqlite_store), config=config(smtp)).delivered == 5
    got = {r.path.strip("/"): r.json() for r in rx.requests}
    slack = got["slack"]
    assert ALERT["why"] in slack["text"]
    kinds = [b["type"] for b in slack["blocks"]]
    assert kinds[:2] == ["header", "section"]
    assert "actions" in kinds
    assert slack["blocks"][-2]["elements"][0]["url"] == ALERT["link"]
    teams = got["teams"]
    assert teams["type"] == "message"
    (att,) = teams["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert any(b.get("text") == ALERT["explanation"] for b in card["body"])
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Open in Grapevine",
        "url": ALERT["link"],
    }
    mm = got["mattermost"]
    assert mm["username"] == "Grapevine"
    assert ALERT["why"] in mm["text"]
    assert f"]({ALERT['link']})" in mm["text"]
    assert got["webhook"]["data"] == ALERT
    (mail,) = box.messages
    assert mail["Subject"] == "Alert: brand (negative)"
    assert "Top terms: leak" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe"] is None  # the team's own channel


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        (None, "Alert: brand (negative)", ["Rule: brand", "Hour: 2027-01-15", "What grew:"]),
        ("en", "Alert: brand (negative)", ["Count: 42.0 (expected 6.0)", "Open: https://"]),
        ("nl", "Melding: brand (negative)", ["Regel: brand", "Uur: 2027-01-15", "Wat groeide:"]),
        ("de-AT", "Alarm: brand (negative)", ["Reihe: negative", "Anzahl: 42.0 (erwartet 6.0)"]),
        ("sv", "Larm: brand (negative)", ["Timme: 2027-01-15", "Vad som växte:", "Öppna: https"]),
    ],
)
def test_alert_mails_in_the_channels_language(
    sqlite_store: Store, language: str | None, subject: str, words: list[str]
) -> None:
    with smtp_server() as (smtp, box), Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        ep = ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="email",
            target="team@shop.example",
            secrets_key=None,
            language=language,
        )
        assert ep.endpoint.language == (None if language is None else language[:2])
        ob.emit(s, tenant_id=tid, event="alert.raised", payload=ALERT, key="brand:negative:1")
        s.commit()
        assert ob.deliver_due(factory(sqlite_store), config=config(smtp)).delivered == 1
    (mail,) = box.messages
    assert mail["Subject"] == subject
    assert mail["Content-Language"] == (language or "en")[:2]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for word in words:
        assert word in text
    assert ALERT["why"] in text  # the detector's own words, as they are
    assert ALERT["explanation"] in text
    assert f'<html lang="{(language or "en")[:2]}">' in html
    assert f'href="{ALERT["link"]}"' in html


def test_an_alert_channel_in_an_unknown_language_is_refused(sqlite_store: Store) -> None:
    with Session(sqlite_store.engine) as s:
        tid, _, _ = make_participant(s)
        with pytest.raises(InvalidParameter, match="language"):
            ob.add_endpoint(
                s,
                tenant_id=tid,
                kind="email",
                target="team@shop.example",
                secrets_key=None,
                language="fr",
            )


# ----------------------------------------------------------------------------- concurrency
@pytest.mark.postgres
def test_two_dispatchers_never_deliver_the_same_message(postgres_schema_url: str) -> None:
    # FOR UPDATE SKIP LOCKED: PostgreSQL (SQLite has one writer at a time)
    with Store(postgres_schema_url) as store:
        _two_dispatchers(store)


def _two_dispatchers(store: Store) -> None:
    n = 120
    with http_receiver(delay=0.002) as rx:
        with Session(store.engine) as s:
            tid, _, _ = make_participant(s)
            ob.add_endpoint(
                s,
                tenant_id=tid,
                kind="webhook",
                target=rx.url,
                secrets_key=SECRETS_KEY,
                allow_private=True,
            )
            for i in range(n):
                ob.emit(s, tenant_id=tid, event="reward.paid", payload={"i": i}, now=T0)
            s.commit()
        claimed: list[int] = []
        start = threading.Barrier(2)

        def run() -> None:
            start.wait()
            while (r := ob.deliver_due(factory(store), now=T0, limit=7, config=config())).claimed:
                claimed.append(r.claimed)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    deliveries = Counter(r.headers["X-Grapevine-Delivery"] for r in rx.requests)
    assert len(deliveries) == n
    assert set(deliveries.values()) == {1}
    assert sum(claimed) == n
    assert statuses(store) == ["delivered"] * n


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_the_models_match_the_migration(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from grapevine.store.models import Base

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [str(d) for d in compare_metadata(context, Base.metadata)]
    assert [d for d in diff if "outbound" in d or "'participants'" in d] == []


def test_public_namespace_is_all() -> None:
    public = {n for n in dir(ob) if not n.startswith("_")}
    assert public == set(ob.__all__)


# ----------------------------------------------------------------------------- properties
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["reward.earned", "reward.paid", "referral.converted"]),
            st.sampled_from(["k1", "k2", "k3", None]),
        ),
        max_size=12,
    ),
    st.booleans(),
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_emit_queues_one_message_per_event_key_and_channel(
    sqlite_store: Store, calls: list[tuple[str, str | None]], commit: bool
) -> None:
    with Session(sqlite_store.engine) as s:
        s.execute(sa.delete(OutboundMessage))
        s.commit()
        tid, _, pid = make_participant(s, email=f"{uuid.uuid4().hex}@example.com")
        for event, key in calls:
            ob.emit(s, tenant_id=tid, event=event, payload={}, participant_id=pid, key=key)
        if commit:
            s.commit()
        else:
            s.rollback()
    mailed = {"reward.earned", "reward.paid"}
    keyed = {(e, k) for e, k in calls if k is not None and e in mailed}
    unkeyed = sum(1 for e, k in calls if k is None and e in mailed)
    assert len(statuses(sqlite_store)) == (len(keyed) + unkeyed if commit else 0)


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=2**32 - 1))
def test_backoff_grows_with_jitter_and_stays_under_the_cap(attempt: int, seed: int) -> None:
    wait = ob.backoff(attempt, random.Random(seed))
    full = min(ob.BACKOFF_CAP, ob.BACKOFF_BASE * 2.0 ** (attempt - 1))
    assert full / 2 <= wait <= full
