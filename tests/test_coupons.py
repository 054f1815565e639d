"""Coupons at checkout: shop connections, issuing through Stripe, Shopify and code pools,
and redemption crediting the referrer. Real stores (SQLite, PostgreSQL), real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, Conflict, NotFound, ShopRejected, ShopUnavailable
from grapevine.referrals import _coupons as coupons
from grapevine.referrals._enrolment import enrol
from grapevine.referrals._events import EventInput, record_event
from grapevine.referrals._shops import Retry
from grapevine.store import Store, campaigns_repo, coupons_repo, tenants_repo
from grapevine.store._secretbox import SecretBox
from grapevine.store.models import Campaign
from shop_servers import ShopifyServer, StripeServer, running
from support import SECRETS_KEY

FAST = Retry(attempts=3, backoff=0.0, sleep=lambda s: None)
BOX = SecretBox(SECRETS_KEY)
OFFER = {
    "referrer": {"kind": "fixed", "amount": 10},
    "friend": {"kind": "percent", "amount": 15},
    "hold_seconds": 0,
}


@dataclass
class Shop:
    session: Session
    campaign: Campaign
    ann_code: str


def _setup(session: Session, name: str = "spring") -> Shop:
    tenant = tenants_repo.get_or_create_tenant(session, slug="acme")
    campaign = campaigns_repo.create_campaign(
        session,
        tenant_id=tenant.id,
        name=name,
        goal=None,
        offer=OFFER,
        rules={"window_days": 30, "attribution": "last"},
        currency="EUR",
    )
    ann = enrol(session, campaign_id=campaign.id, email="ann@example.org", salt="s" * 32)
    session.commit()
    return Shop(session, campaign, ann.code)


@pytest.fixture
def shop(store: Store) -> Iterator[Shop]:
    with Session(store.engine, expire_on_commit=False) as session:
        yield _setup(session)


def test_credentials_are_sealed_per_tenant(shop: Shop) -> None:
    info = coupons.connect_shop(
        shop.session,
        tenant_id=shop.campaign.tenant_id,
        provider="stripe",
        secret="sk_test_abcdef123456",
        box=BOX,
    )
    assert info.hint == "3456"
    stored = shop.session.execute(sa.text("SELECT sealed FROM shop_connections")).scalar_one()
    assert "sk_test" not in stored
    row = coupons_repo.find_connection(
        shop.session, tenant_id=shop.campaign.tenant_id, provider="stripe"
    )
    assert row is not None
    assert coupons_repo.open_credential(row, box=BOX) == "sk_test_abcdef123456"
    with pytest.raises(BadInput, match="shop's domain"):
        coupons.connect_shop(
            shop.session,
            tenant_id=shop.campaign.tenant_id,
            provider="shopify",
            secret="shpat_12345678",
            box=BOX,
        )


def test_configure_takes_the_offer_and_checks_fields(shop: Shop) -> None:
    config = coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "pool"}
    )
    assert (config.kind, config.amount, config.currency) == ("percent", 15, "EUR")
    assert shop.campaign.rules["coupons"]["provider"] == "pool"
    assert shop.campaign.rules["window_days"] == 30  # the other rules stay
    with pytest.raises(BadInput) as caught:
        coupons.configure_coupons(
            shop.session, campaign_id=shop.campaign.id, settings={"provider": "paypal"}
        )
    assert caught.value.field == "rules.coupons.provider"
    with pytest.raises(BadInput) as caught:
        coupons.configure_coupons(
            shop.session,
            campaign_id=shop.campaign.id,
            settings={"provider": "pool", "kind": "percent", "amount": 120},
        )
    assert caught.value.field == "rules.coupons.amount"


def _stripe_campaign(shop: Shop, url: str) -> None:
    coupons.connect_shop(
        shop.session,
        tenant_id=shop.campaign.tenant_id,
        provider="stripe",
        secret="sk_test_123",
        box=BOX,
        base_url=url,
    )
    coupons.configure_coupons(
        shop.session,
        campaign_id=shop.campaign.id,
        settings={"provider": "stripe", "expires_days": 7},
    )


def test_stripe_issue_is_once_per_friend(shop: Shop) -> None:
    server = StripeServer(secret="sk_test_123")
    with running(server) as url:
        _stripe_campaign(shop, url)
        first = coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            retry=FAST,
            email="Bob@Example.org",
            referral_code=shop.ann_code,
            now=1_800_000_000.0,
        )
        again = coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            retry=FAST,
            email="bob@example.org",
            referral_code=shop.ann_code,
        )
        cal = coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            retry=FAST,
            email="cal@example.org",
            referral_code=shop.ann_code,
        )
    assert first.code.startswith("FRIEND-")
    assert (first.status, first.replayed) == ("issued", False)
    assert (again.code, again.replayed) == (first.code, True)
    assert cal.code != first.code
    assert len(server.coupons) == 1  # one coupon per offer
    assert [p["code"] for p in server.promotion_codes.values()] == [first.code, cal.code]
    coupon = next(iter(server.coupons.values()))
    assert coupon["percent_off"] == "15"
    promo = next(iter(server.promotion_codes.values()))
    assert promo["expires_at"] == 1_800_000_000 + 7 * 86400
    assert promo["max_redemptions"] == 1


def test_a_lost_answer_is_retried_without_a_second_code(shop: Shop) -> None:
    server = StripeServer(secret="sk_test_123")
    with running(server) as url:
        _stripe_campaign(shop, url)
        server.fail("/v1/promotion_codes", "drop", "drop", "drop")  # every attempt lost
        with pytest.raises(ShopUnavailable):
            coupons.issue_coupon(
                shop.session,
                campaign_id=shop.campaign.id,
                box=BOX,
                retry=FAST,
                email="bob@example.org",
                referral_code=shop.ann_code,
            )
        pending = coupons_repo.list_coupons(shop.session, campaign_id=shop.campaign.id)
        assert [c.status for c in pending] == ["pending"]
        issued = coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            retry=FAST,
            email="bob@example.org",
            referral_code=shop.ann_code,
        )
    assert issued.code == pending[0].code
    assert len(server.promotion_codes) == 1  # the shop made it once
    keys = {r.headers["idempotency-key"] for r in server.requests if "promotion" in r.path}
    assert len(keys) == 1


def test_a_rejection_names_the_shop_message_and_leaves_nothing(shop: Shop) -> None:
    server = StripeServer(secret="sk_test_123")
    with running(server) as url:
        coupons.connect_shop(
            shop.session,
            tenant_id=shop.campaign.tenant_id,
            provider="stripe",
            secret="sk_test_wrong",
            box=BOX,
            base_url=url,
        )
        coupons.configure_coupons(
            shop.session, campaign_id=shop.campaign.id, settings={"provider": "stripe"}
        )
        with pytest.raises(ShopRejected, match="Invalid API Key") as caught:
            coupons.issue_coupon(
                shop.session,
                campaign_id=shop.campaign.id,
                box=BOX,
                retry=FAST,
                email="bob@example.org",
                referral_code=shop.ann_code,
            )
    assert caught.value.status == 401
    assert coupons_repo.list_coupons(shop.session, campaign_id=shop.campaign.id) == []


def test_shopify_issue_through_throttling(shop: Shop) -> None:
    server = ShopifyServer(secret="shpat_abc")
    with running(server) as url:
        coupons.connect_shop(
            shop.session,
            tenant_id=shop.campaign.tenant_id,
            provider="shopify",
            secret="shpat_abc",
            box=BOX,
            shop="acme.myshopify.com",
            base_url=url,
        )
        coupons.configure_coupons(
            shop.session,
            campaign_id=shop.campaign.id,
            settings={"provider": "shopify", "kind": "fixed", "amount": 5},
        )
        server.fail("/admin/api/2024-10/graphql.json", "throttled", "500")
        issued = coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            retry=FAST,
            email="bob@example.org",
            referral_code=shop.ann_code,
        )
    node = server.discounts[issued.code]
    assert node["input"]["customerGets"]["value"]["discountAmount"]["amount"] == "5.00"
    assert issued.referrer_id is not None


def test_no_connection_is_not_found(shop: Shop) -> None:
    coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "shopify"}
    )
    with pytest.raises(NotFound, match="grapevine shop connect shopify"):
        coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            box=BOX,
            email="bob@example.org",
            referral_code=shop.ann_code,
        )


def test_issue_needs_a_friend_and_a_referrer(shop: Shop) -> None:
    coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "pool"}
    )
    with pytest.raises(BadInput, match="e-mail or visitor"):
        coupons.issue_coupon(
            shop.session, campaign_id=shop.campaign.id, referral_code=shop.ann_code
        )
    with pytest.raises(BadInput, match="no referrer"):
        coupons.issue_coupon(shop.session, campaign_id=shop.campaign.id, email="bob@example.org")
    with pytest.raises(BadInput, match="own referral code"):
        coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            email="ann@example.org",
            referral_code=shop.ann_code,
        )


# ---------------------------------------------------------------------------- pools
def _pool_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codes.csv"
    path.write_text(text)
    return path


def test_pool_import_hands_out_one_code_per_friend(shop: Shop, tmp_path: Path) -> None:
    coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "pool"}
    )
    result = coupons.import_pool(
        shop.session,
        campaign_id=shop.campaign.id,
        path=_pool_file(tmp_path, "code,note\nspring-a,x\nSPRING-B,y\n\nspring-c,z\n"),
    )
    assert (result.added, result.available) == (3, 3)
    bob = coupons.issue_coupon(
        shop.session,
        campaign_id=shop.campaign.id,
        email="bob@example.org",
        referral_code=shop.ann_code,
    )
    visitor = coupons.issue_coupon(
        shop.session, campaign_id=shop.campaign.id, visitor_id="v-123", referral_code=shop.ann_code
    )
    again = coupons.issue_coupon(
        shop.session, campaign_id=shop.campaign.id, email="BOB@example.org"
    )
    assert (bob.code, visitor.code) == ("SPRING-A", "SPRING-B")
    assert again.code == "SPRING-A"
    _, counts = coupons.list_coupons(shop.session, campaign_id=shop.campaign.id)
    assert counts == {"available": 1, "issued": 2}
    coupons.issue_coupon(
        shop.session,
        campaign_id=shop.campaign.id,
        email="cal@example.org",
        referral_code=shop.ann_code,
    )
    with pytest.raises(Conflict, match=r"pool of campaign .* is empty"):
        coupons.issue_coupon(
            shop.session,
            campaign_id=shop.campaign.id,
            email="dee@example.org",
            referral_code=shop.ann_code,
        )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("code\nA-1\nB 2\n", 3, "without spaces"),
        ("A-1\nB-2\na-1\n", 3, "also on line 1"),
        ("code\nEXISTS-1\n", 2, "in the campaign's codes already"),
    ],
)
def test_a_bad_pool_file_names_the_line_and_adds_nothing(
    shop: Shop, tmp_path: Path, text: str, line: int, message: str
) -> None:
    coupons.import_pool(
        shop.session, campaign_id=shop.campaign.id, path=_pool_file(tmp_path, "exists-1\n")
    )
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(BadInput, match=message) as caught:
        coupons.import_pool(shop.session, campaign_id=shop.campaign.id, path=path)
    assert (caught.value.file, caught.value.line) == (str(path), line)
    _, counts = coupons.list_coupons(shop.session, campaign_id=shop.campaign.id)
    assert counts == {"available": 1}


@pytest.fixture(scope="module")
def pool_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('pool')}/p.db") as store:
        yield store


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200))
def test_any_pool_file_imports_or_is_refused_whole(
    pool_store: Store, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    with Session(pool_store.engine, expire_on_commit=False) as session:
        shop = _setup(session, name=f"c{uuid.uuid4().hex}")
        path = tmp_path_factory.mktemp("file") / "codes.csv"
        path.write_bytes(data)
        try:
            result = coupons.import_pool(session, campaign_id=shop.campaign.id, path=path)
        except BadInput:
            assert coupons_repo.coupon_counts(session, campaign_id=shop.campaign.id) == {}
        else:
            counts = coupons_repo.coupon_counts(session, campaign_id=shop.campaign.id)
            assert counts == {"available": result.added}


def test_redemption_is_once_and_names_the_referrer(shop: Shop, tmp_path: Path) -> None:
    coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "pool"}
    )
    coupons.import_pool(
        shop.session, campaign_id=shop.campaign.id, path=_pool_file(tmp_path, "Z-1\n")
    )
    issued = coupons.issue_coupon(
        shop.session,
        campaign_id=shop.campaign.id,
        email="bob@example.org",
        referral_code=shop.ann_code,
    )
    found = coupons.coupon_referral(shop.session, campaign_id=shop.campaign.id, code="z-1")
    assert found == (issued.referrer_id, shop.ann_code, "Z-1")
    assert coupons.redeem_coupon(
        shop.session, campaign_id=shop.campaign.id, code="z-1", order_id="o1", now=5.0
    )
    assert not coupons.redeem_coupon(
        shop.session, campaign_id=shop.campaign.id, code="Z-1", order_id="o2", now=6.0
    )
    row = coupons_repo.find_coupon(shop.session, campaign_id=shop.campaign.id, code="Z-1")
    assert row is not None
    assert (row.status, row.order_id) == ("redeemed", "o1")
    assert coupons.coupon_referral(shop.session, campaign_id=shop.campaign.id, code="NOPE") is None


def test_a_purchase_with_the_code_credits_the_referrer(shop: Shop, tmp_path: Path) -> None:
    coupons.configure_coupons(
        shop.session, campaign_id=shop.campaign.id, settings={"provider": "pool"}
    )
    coupons.import_pool(
        shop.session, campaign_id=shop.campaign.id, path=_pool_file(tmp_path, "SAVE-1\nSAVE-2\n")
    )
    issued = coupons.issue_coupon(
        shop.session,
        campaign_id=shop.campaign.id,
        email="bob@example.org",
        referral_code=shop.ann_code,
    )
    recorded = record_event(
        shop.session,
        campaign_id=shop.campaign.id,
        event=EventInput(
            kind="purchase",
            idempotency_key="p1",
            email="bob@example.org",
            coupon_code="save-1",
            order_id="o-1",
            value=80.0,
        ),
    )
    assert recorded.referrer_id == issued.referrer_id
    assert recorded.code == shop.ann_code
    row = coupons_repo.find_coupon(shop.session, campaign_id=shop.campaign.id, code="SAVE-1")
    assert row is not None
    assert (row.status, row.order_id) == ("redeemed", "o-1")
    roles = sorted((r.role, r.amount) for r in recorded.rewards)
    assert roles == [("friend", 12.0), ("referrer", 10.0)]
    # An unissued pool code credits no one and stays in the pool.
    other = record_event(
        shop.session,
        campaign_id=shop.campaign.id,
        event=EventInput(
            kind="purchase",
            idempotency_key="p2",
            email="cal@example.org",
            coupon_code="SAVE-2",
            order_id="o-2",
            value=80.0,
        ),
    )
    assert other.referrer_id is None
    _, counts = coupons.list_coupons(shop.session, campaign_id=shop.campaign.id)
    assert counts == {"available": 1, "redeemed": 1}
