"""The referral workflows announce through the outbox: welcome on enrolment, friend joined,
referral converted and reward earned, each once, e-mailed (in the participant's language)
and POSTed to the tenant's webhooks. Real store, SMTP server and HTTP receiver."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from grapevine import outbound as ob
from grapevine import referrals as rf
from grapevine.store import Store, tenants_repo
from grapevine.store.models import Campaign
from outbound_support import http_receiver, smtp_server
from support import SECRETS_KEY

T0 = 1_800_000_000.0
SALT = "referral-outbox-salt-0123456789"
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 0,
}


def test_enrolment_signup_and_purchase_are_announced(store: Store) -> None:
    with http_receiver() as rx:
        with Session(store.engine) as s:
            tid = tenants_repo.get_or_create_tenant(s, slug="acme").id
            campaign = Campaign(
                tenant_id=tid,
                name="Frühling",
                offer=OFFER,
                currency="EUR",
                rules={"language": "de", "window_days": 30},
            )
            s.add(campaign)
            s.flush()
            ob.add_endpoint(
                s,
                tenant_id=tid,
                kind="webhook",
                target=rx.url,
                secrets_key=SECRETS_KEY,
                allow_private=True,
            )
            ann = rf.enrol(s, campaign_id=campaign.id, email="ann@example.com", salt=SALT, now=T0)
            s.commit()
            rf.enrol(s, campaign_id=campaign.id, email="ann@example.com", salt=SALT, now=T0 + 1)
            s.commit()  # enrolled again: no second welcome
            cid = campaign.id
        with Session(store.engine) as s:
            for kind, key in (("signup", "s1"), ("purchase", "p1"), ("purchase", "p1")):
                rf.record_event(
                    s,
                    campaign_id=cid,
                    event=rf.EventInput(
                        kind=kind,
                        idempotency_key=key,
                        email="bo@example.com",
                        coupon_code=ann.code,
                        order_id="o1" if kind == "purchase" else None,
                        value=40.0 if kind == "purchase" else None,
                        time=T0 + 10,
                    ),
                    salt=SALT,
                    now=T0 + 10,
                )
        with Session(store.engine) as s:
            events = Counter(
                (d.message.event, d.message.channel) for d in ob.list_messages(s, tenant_id=tid)
            )
        assert events == {
            ("participant.enrolled", "email"): 1,
            ("friend.joined", "email"): 1,
            ("referral.converted", "webhook"): 2,
            ("reward.earned", "email"): 1,  # the referrer is a participant; the friend is not
            ("reward.earned", "webhook"): 2,
        }
        config = ob.OutboundConfig(
            smtp=None,
            mail_from="hello@shop.example",
            public_origin="https://go.shop.example",
            token_secret=SALT,
            secrets_key=SECRETS_KEY,
        )
        with smtp_server() as (smtp, box):
            config = ob.OutboundConfig(**{**config.__dict__, "smtp": ob.parse_smtp_url(smtp)})
            report = ob.deliver_due(lambda: Session(store.engine), now=T0 + 20, config=config)
        assert report.delivered == 7
    welcome, _joined, _earned = sorted(box.messages, key=lambda m: str(m["X-Grapevine-Event"]))[
        ::-1
    ][:3]
    by_event = {m["X-Grapevine-Event"]: m for m in box.messages}
    welcome = by_event["participant.enrolled"]
    assert welcome["Subject"] == "Dein persönlicher Link für Frühling"
    text = welcome.get_body(("plain",)).get_content()
    assert f"https://go.shop.example/r/{ann.code}" in text
    assert "https://go.shop.example/p/" in text
    assert "macht jetzt über deinen Link bei Frühling mit" in (
        by_event["friend.joined"].get_body(("plain",)).get_content()
    )
    assert by_event["reward.earned"]["Subject"] == "Du hast eine Belohnung verdient: EUR 10,00"
    posted = Counter(r.json()["event"] for r in rx.requests)
    assert posted == {"referral.converted": 2, "reward.earned": 2}
    amounts = sorted(
        r.json()["data"]["amount"] for r in rx.requests if r.json()["event"] == "reward.earned"
    )
    assert amounts == [5.0, 10.0]


def test_a_reward_released_from_review_is_announced_once(store: Store) -> None:
    with Session(store.engine) as s:
        tid = tenants_repo.get_or_create_tenant(s, slug="acme").id
        cid = rf.create_campaign(
            s,
            tenant_id=tid,
            document={
                "name": "spring",
                "destinations": ["https://shop.example/welcome"],
                "offer": OFFER,
                "review_threshold": "low",
            },
            actor="test",
            now=T0,
        ).id
        ob.add_endpoint(
            s,
            tenant_id=tid,
            kind="webhook",
            target="https://hooks.example/grapevine",
            secrets_key=SECRETS_KEY,
        )
        ann = rf.enrol(s, campaign_id=cid, email="ann@x.org", salt=SALT, device_id="phone-1")
        s.commit()
        # The friend shares the referrer's device: held for review, nothing earned yet.
        rf.enrol(s, campaign_id=cid, email="bob@x.org", salt=SALT, device_id="phone-1")
        s.commit()
        purchase = rf.EventInput(
            "purchase", "p1", email="bob@x.org", coupon_code=ann.code, order_id="o1", value=40
        )
        rf.record_event(s, campaign_id=cid, event=purchase, salt=SALT, now=T0 + 10)
        s.commit()
        assert [e.event_key for e in rf.review_entries(s, campaign_id=cid)] == ["p1"]

        def earned() -> Counter[tuple[str, object]]:
            return Counter(
                (d.message.channel, d.payload["role"])
                for d in ob.list_messages(s, tenant_id=tid, event="reward.earned")
            )

        assert earned() == {}
        decision = rf.decide(
            s, campaign_id=cid, event_key="p1", outcome="approve", reviewer="rita", now=T0 + 20
        )
        s.commit()
        assert decision.changed
        assert earned() == {
            ("webhook", "referrer"): 1,
            ("webhook", "friend"): 1,
            ("email", "referrer"): 1,
            ("email", "friend"): 1,  # both are participants
        }
        again = rf.decide(s, campaign_id=cid, event_key="p1", outcome="approve", reviewer="x")
        s.commit()
        assert again.changed is False
        # Recomputing the rewards (another event of the campaign) announces nothing twice.
        rf.record_event(s, campaign_id=cid, event=purchase, salt=SALT, now=T0 + 30)
        s.commit()
        assert earned() == {
            ("webhook", "referrer"): 1,
            ("webhook", "friend"): 1,
            ("email", "referrer"): 1,
            ("email", "friend"): 1,  # both are participants
        }


def test_a_rejected_reward_is_not_announced(store: Store) -> None:
    with Session(store.engine) as s:
        tid = tenants_repo.get_or_create_tenant(s, slug="acme").id
        cid = rf.create_campaign(
            s,
            tenant_id=tid,
            document={
                "name": "spring",
                "destinations": ["https://shop.example/welcome"],
                "offer": OFFER,
                "review_threshold": "low",
            },
            actor="test",
            now=T0,
        ).id
        ann = rf.enrol(s, campaign_id=cid, email="ann@x.org", salt=SALT, device_id="phone-1")
        rf.enrol(s, campaign_id=cid, email="bob@x.org", salt=SALT, device_id="phone-1")
        s.commit()
        purchase = rf.EventInput(
            "purchase", "p1", email="bob@x.org", coupon_code=ann.code, order_id="o1", value=40
        )
        rf.record_event(s, campaign_id=cid, event=purchase, salt=SALT, now=T0 + 10)
        rf.decide(s, campaign_id=cid, event_key="p1", outcome="reject", reviewer="rita")
        s.commit()
        assert ob.list_messages(s, tenant_id=tid, event="reward.earned") == []
