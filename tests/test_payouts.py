"""Payouts: approve, export (generic, PayPal, Wise), import results, store credit, audit.
Real stores (SQLite, PostgreSQL); store credit through a Stripe replay server."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, Conflict
from grapevine.referrals import _coupons as coupons
from grapevine.referrals import _payouts as payouts
from grapevine.referrals._enrolment import enrol
from grapevine.referrals._events import EventInput, record_event
from grapevine.referrals._shops import Retry
from grapevine.store import Store, campaigns_repo, tenants_repo
from grapevine.store._secretbox import SecretBox
from grapevine.store.models import Reward
from grapevine.store.payouts_models import PayoutTransition
from shop_servers import StripeServer, running
from support import SECRETS_KEY

BOX = SecretBox(SECRETS_KEY)
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "fixed", "amount": 5},
    "hold_seconds": 100,
}
T0 = 1_900_000_000.0  # the purchases' time; their hold ends 100 s later
LATER = T0 + 1000


@dataclass
class Programme:
    session: Session
    campaign_id: int
    tenant_id: int
    ann_code: str

    def buy(self, key: str, email: str, *, value: float = 50.0) -> None:
        record_event(
            self.session,
            campaign_id=self.campaign_id,
            event=EventInput(
                kind="purchase",
                idempotency_key=key,
                email=email,
                coupon_code=self.ann_code,
                order_id=f"o-{key}",
                value=value,
                time=T0,
            ),
            now=T0,
        )

    def rewards(self) -> dict[str, Reward]:
        rows = self.session.scalars(sa.select(Reward).order_by(Reward.id)).all()
        return {f"{r.event_key}:{r.role}": r for r in rows}


@pytest.fixture
def programme(store: Store) -> Iterator[Programme]:
    with Session(store.engine, expire_on_commit=False) as session:
        tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
        campaign = campaigns_repo.create_campaign(
            session,
            tenant_id=tenant.id,
            name="spring",
            goal=None,
            offer=OFFER,
            rules={"window_days": 30, "attribution": "last"},
            currency="EUR",
        )
        ann = enrol(session, campaign_id=campaign.id, email="ann@example.org", salt="s" * 32)
        session.commit()
        p = Programme(session, campaign.id, tenant.id, ann.code)
        p.buy("p1", "bob@example.org")
        p.buy("p2", "cal@example.org")
        yield p


def _approve(
    p: Programme, *, reward_ids: list[int] | None = None, roles: list[str] | None = None
) -> payouts.ApproveResult:
    return payouts.approve_rewards(
        p.session,
        campaign_id=p.campaign_id,
        by="ops",
        now=LATER,
        reward_ids=reward_ids,
        roles=roles,
    )


def _export(
    p: Programme, fmt: str = "generic", batch_id: int | None = None
) -> payouts.ExportResult:
    return payouts.export_payouts(
        p.session, campaign_id=p.campaign_id, format=fmt, by="ops", now=LATER, batch_id=batch_id
    )


def _import(p: Programme, path: Path) -> payouts.ImportResult:
    return payouts.import_results(
        p.session, campaign_id=p.campaign_id, path=path, by="ops", now=LATER + 10
    )


def test_only_granted_rewards_are_approved(programme: Programme) -> None:
    p = programme
    early = payouts.approve_rewards(p.session, campaign_id=p.campaign_id, by="ops", now=T0 + 1)
    assert early.approved == ()  # still in their hold
    listed = [r.id for r in p.rewards().values()]
    held = payouts.approve_rewards(
        p.session, campaign_id=p.campaign_id, by="ops", now=T0 + 1, reward_ids=listed[:1]
    )
    assert held.skipped[0][1].startswith("in its hold until")
    result = _approve(p, roles=["referrer"])
    rewards = p.rewards()
    assert sorted(result.approved) == sorted([rewards["p1:referrer"].id, rewards["p2:referrer"].id])
    again = _approve(p, roles=["referrer"])
    assert again.approved == ()  # nothing changes the second time
    states = {
        r.reward_id: r.state
        for r in payouts.list_payouts(p.session, campaign_id=p.campaign_id, now=LATER)
    }
    assert states[rewards["p1:referrer"].id] == "approved"
    assert states[rewards["p1:friend"].id] == "granted"


def test_fraud_holds_and_void_rewards_cannot_be_approved(programme: Programme) -> None:
    p = programme
    record_event(
        p.session,
        campaign_id=p.campaign_id,
        event=EventInput(kind="refund", idempotency_key="r1", order_id="o-p1", time=T0 + 5),
        now=T0 + 5,
    )
    rewards = p.rewards()
    result = _approve(p, reward_ids=[rewards["p1:referrer"].id, 999_999])
    assert result.approved == ()
    assert dict(result.skipped) == {
        rewards["p1:referrer"].id: "void",
        999_999: "no such reward in the campaign",
    }
    rewards["p2:referrer"].status = "review"  # as the fraud checks hold it
    p.session.commit()
    result = _approve(p, reward_ids=[rewards["p2:referrer"].id])
    assert result.skipped == ((rewards["p2:referrer"].id, "held for fraud review"),)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_formats(programme: Programme) -> None:
    p = programme
    _approve(p, roles=["referrer"])
    generic = _export(p)
    rewards = p.rewards()
    ids = [rewards["p1:referrer"].id, rewards["p2:referrer"].id]
    rows = _rows(generic.content)
    assert rows[0][:7] == [
        "reference",
        "reward_id",
        "person_id",
        "email",
        "role",
        "amount",
        "currency",
    ]
    assert [r[0] for r in rows[1:]] == [f"GV-{generic.batch_id}-{i}" for i in ids]
    assert {r[3] for r in rows[1:]} == {"ann@example.org"}
    assert (generic.count, generic.total, generic.currency) == (2, 20.0, "EUR")
    paypal = _rows(_export(p, "paypal", batch_id=generic.batch_id).content)
    assert paypal[0] == [
        "ann@example.org",
        "10.00",
        "EUR",
        f"GV-{generic.batch_id}-{ids[0]}",
        "spring: referral reward",
        "PAYPAL",
    ]
    wise = _rows(_export(p, "wise", batch_id=generic.batch_id).content)
    assert wise[0] == [
        "name",
        "recipientEmail",
        "paymentReference",
        "receiverType",
        "amountCurrency",
        "amount",
        "sourceCurrency",
        "targetCurrency",
    ]
    assert wise[1][1:] == [
        "ann@example.org",
        f"GV-{generic.batch_id}-{ids[0]}",
        "PERSON",
        "target",
        "10.00",
        "EUR",
        "EUR",
    ]
    with pytest.raises(Conflict, match="no approved rewards"):
        _export(p)  # every approved one is in the batch now


def test_import_marks_paid_and_failed_once(programme: Programme, tmp_path: Path) -> None:
    p = programme
    _approve(p, roles=["referrer"])
    batch = _export(p, "paypal")
    rewards = p.rewards()
    a, b = rewards["p1:referrer"].id, rewards["p2:referrer"].id
    result_file = tmp_path / "paypal-result.csv"
    result_file.write_text(
        "Transaction ID,Recipient,Amount,Currency,Customer ID,Status\n"
        f"7XY1,ann@example.org,10.00,EUR,GV-{batch.batch_id}-{a},Completed\n"
        f"7XY2,ann@example.org,10.00,EUR,GV-{batch.batch_id}-{b},Returned\n"
    )
    first = _import(p, result_file)
    assert (first.paid, first.failed) == ((a,), (b,))
    again = _import(p, result_file)
    assert (again.paid, again.failed) == ((), ())
    assert dict(again.unchanged) == {a: "paid already", b: "failed already"}
    trail = payouts.payout_audit(p.session, campaign_id=p.campaign_id, reward_id=a)
    assert [(t.from_state, t.to_state, t.by) for t in trail] == [
        ("ledger", "approved", "ops"),
        ("approved", "exported", "ops"),
        ("exported", "paid", "ops"),
    ]
    assert trail[-1].batch_id == batch.batch_id
    assert trail[-1].note == f"{result_file} line 2: completed"
    paid = next(
        r for r in payouts.list_payouts(p.session, campaign_id=p.campaign_id) if r.reward_id == a
    )
    assert (paid.state, paid.reference) == ("paid", "7XY1")
    # A failed payout can be approved again and goes out in the next batch.
    assert _approve(p, reward_ids=[b]).approved == (b,)
    assert _export(p).count == 1
    # The reward.paid message is queued once, in the transaction that paid it.
    events = p.session.execute(
        sa.text("SELECT count(*) FROM outbound_messages WHERE event = 'reward.paid'")
    ).scalar_one()
    assert events == 1  # ann's e-mail, once, though the file was imported twice


def test_a_reward_is_paid_at_most_once_in_the_database(programme: Programme) -> None:
    p = programme
    _approve(p, roles=["referrer"])
    reward = p.rewards()["p1:referrer"]
    for _ in range(2):
        p.session.add(
            PayoutTransition(
                reward_id=reward.id,
                campaign_id=p.campaign_id,
                from_state="exported",
                to_state="paid",
                at=LATER,
            )
        )
    with pytest.raises(IntegrityError):
        p.session.flush()
    p.session.rollback()


@pytest.mark.parametrize(
    ("bad", "line", "message"),
    [
        ("GV-1-x,paid", 3, "not a payout reference"),
        ("GV-99-1,paid", 3, "was not exported in batch 99"),
        (None, 1, "no reference column"),
    ],
)
def test_a_bad_result_file_names_the_line_and_changes_nothing(
    programme: Programme, tmp_path: Path, bad: str | None, line: int, message: str
) -> None:
    p = programme
    _approve(p, roles=["referrer"])
    batch = _export(p)
    reward = p.rewards()["p1:referrer"].id
    good = f"GV-{batch.batch_id}-{reward},paid"
    path = tmp_path / "result.csv"
    path.write_text(f"reference,status\n{good}\n{bad}\n" if bad else f"ref,state\n{good}\n")
    with pytest.raises(BadInput, match=message) as caught:
        _import(p, path)
    assert (caught.value.file, caught.value.line) == (str(path), line)
    states = {
        r.reward_id: r.state for r in payouts.list_payouts(p.session, campaign_id=p.campaign_id)
    }
    assert states[reward] == "exported"  # the good line was not applied either


def test_store_credit_pays_with_a_coupon_once(programme: Programme) -> None:
    p = programme
    server = StripeServer(secret="sk_test_123")
    fast = Retry(attempts=3, backoff=0.0, sleep=lambda s: None)
    with running(server) as url:
        coupons.connect_shop(
            p.session,
            tenant_id=p.tenant_id,
            provider="stripe",
            secret="sk_test_123",
            box=BOX,
            base_url=url,
        )
        coupons.configure_coupons(
            p.session, campaign_id=p.campaign_id, settings={"provider": "stripe"}
        )
        _approve(p, roles=["referrer"])
        server.fail("/v1/promotion_codes", "500")
        paid = payouts.pay_with_credit(
            p.session, campaign_id=p.campaign_id, box=BOX, by="ops", retry=fast, now=LATER
        )
        with pytest.raises(Conflict, match="no approved rewards"):
            payouts.pay_with_credit(
                p.session, campaign_id=p.campaign_id, box=BOX, by="ops", retry=fast, now=LATER
            )
    rewards = p.rewards()
    assert set(paid.paid) == {rewards["p1:referrer"].id, rewards["p2:referrer"].id}
    assert len(server.promotion_codes) == 2
    amounts = {c.get("amount_off") for c in server.coupons.values()}
    assert amounts == {"1000"}  # 10.00 EUR in cents
    rows = {r.reward_id: r for r in payouts.list_payouts(p.session, campaign_id=p.campaign_id)}
    assert rows[rewards["p1:referrer"].id].state == "paid"
    assert rows[rewards["p1:referrer"].id].reference == paid.paid[rewards["p1:referrer"].id]


def test_review_rejection_after_approval_fails_the_export(programme: Programme) -> None:
    p = programme
    _approve(p, roles=["referrer"])
    reward = p.rewards()["p1:referrer"]
    reward.status = "clawed_back"  # refunded after the approval
    p.session.commit()
    batch = _export(p)
    assert batch.count == 1
    assert batch.skipped == ((reward.id, "the ledger has it clawed_back now"),)
    states = {
        r.reward_id: r.state for r in payouts.list_payouts(p.session, campaign_id=p.campaign_id)
    }
    assert states[reward.id] == "failed"


def test_revisions_0011_and_0012_go_down_and_up(store_url: str) -> None:
    from grapevine.store import current_revision, downgrade, make_engine, migrate

    engine = make_engine(store_url)
    try:
        migrate(engine)
        downgrade(engine, "0010")
        names = set(sa.inspect(engine).get_table_names())
        assert not names & {
            "coupons",
            "coupon_offers",
            "shop_connections",
            "reward_payouts",
            "payout_batches",
            "payout_transitions",
        }
        migrate(engine)
        assert current_revision(engine) == "0017"
        assert {"coupons", "reward_payouts"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
