"""The shop providers against local replay servers: real HTTP, the documented shapes, faults."""

from __future__ import annotations

import pytest

from grapevine.errors import BadInput, ShopRejected, ShopUnavailable
from grapevine.referrals._shops import Discount, Retry, ShopifyDiscounts, StripeCoupons
from shop_servers import ShopifyServer, StripeServer, running

FAST = Retry(attempts=4, backoff=0.0, sleep=lambda s: None)
TEN = Discount("percent", 10, name="Friends of Ann")
FIVE_EUR = Discount("fixed", 5, currency="EUR", expires_at=2_000_000_000)


@pytest.fixture
def stripe() -> StripeServer:
    return StripeServer(secret="sk_test_123")


@pytest.fixture
def shopify() -> ShopifyServer:
    return ShopifyServer(secret="shpat_abc")


def test_stripe_coupon_then_single_use_promotion_code(
    stripe: StripeServer, request: pytest.FixtureRequest
) -> None:
    with running(stripe) as url:
        shop = StripeCoupons("sk_test_123", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        coupon = shop.create_offer(discount=FIVE_EUR, idempotency_key="offer-1")
        issued = shop.create_code(
            code="ANN-7Q2K", discount=FIVE_EUR, idempotency_key="k1", offer_id=coupon
        )
    assert stripe.coupons[coupon]["amount_off"] == "500"
    assert stripe.coupons[coupon]["currency"] == "eur"
    promo = stripe.promotion_codes[issued.external_id]
    assert (promo["code"], promo["max_redemptions"], promo["expires_at"]) == (
        "ANN-7Q2K",
        1,
        2_000_000_000,
    )
    sent = stripe.requests[-1]
    assert sent.headers["idempotency-key"] == "k1"
    assert sent.headers["stripe-version"] == "2024-06-20"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("fault", ["429", "500", "drop"])
def test_stripe_retries_with_the_same_key_and_makes_one_code(
    stripe: StripeServer, fault: str, request: pytest.FixtureRequest
) -> None:
    with running(stripe) as url:
        shop = StripeCoupons("sk_test_123", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        coupon = shop.create_offer(discount=TEN, idempotency_key="offer-1")
        stripe.fail("/v1/promotion_codes", fault)
        issued = shop.create_code(code="BOB-1", discount=TEN, idempotency_key="k2", offer_id=coupon)
    assert len(stripe.promotion_codes) == 1
    assert issued.external_id in stripe.promotion_codes
    keys = [r.headers["idempotency-key"] for r in stripe.requests if r.path.endswith("codes")]
    assert keys == ["k2"] * len(keys)
    assert len(keys) == (1 if fault != "drop" else 2)  # a 429/500 is answered before handle()


def test_stripe_rejection_names_the_message_and_field(
    stripe: StripeServer, request: pytest.FixtureRequest
) -> None:
    with running(stripe) as url:
        shop = StripeCoupons("sk_test_123", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        with pytest.raises(ShopRejected) as caught:
            shop.create_code(code="X", discount=TEN, idempotency_key="k", offer_id="co_missing")
    assert caught.value.field == "coupon"
    assert caught.value.code == "resource_missing"
    assert "No such coupon" in str(caught.value)


def test_stripe_wrong_key_is_rejected(stripe: StripeServer, request: pytest.FixtureRequest) -> None:
    with running(stripe) as url:
        shop = StripeCoupons("sk_wrong", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        with pytest.raises(ShopRejected, match="Invalid API Key") as caught:
            shop.create_offer(discount=TEN, idempotency_key="o")
    assert caught.value.status == 401


def test_stripe_gives_up_after_the_retries(
    stripe: StripeServer, request: pytest.FixtureRequest
) -> None:
    waits: list[float] = []
    retry = Retry(attempts=3, backoff=0.25, sleep=waits.append)
    with running(stripe) as url:
        shop = StripeCoupons("sk_test_123", base_url=url, retry=retry)
        request.addfinalizer(shop.close)
        stripe.fail("/v1/coupons", "500", "500", "500")
        with pytest.raises(ShopUnavailable) as caught:
            shop.create_offer(discount=TEN, idempotency_key="o")
    assert (caught.value.reason, caught.value.attempts) == ("http_500", 3)
    assert waits == [0.25, 0.5]  # exponential backoff between the attempts
    assert stripe.coupons == {}


def test_network_error_is_unavailable(request: pytest.FixtureRequest) -> None:
    from support import free_port

    shop = StripeCoupons("sk", base_url=f"http://127.0.0.1:{free_port()}", retry=FAST)

    request.addfinalizer(shop.close)
    with pytest.raises(ShopUnavailable) as caught:
        shop.create_offer(discount=TEN, idempotency_key="o")
    assert caught.value.reason == "network"


def test_shopify_discount_code(shopify: ShopifyServer, request: pytest.FixtureRequest) -> None:
    with running(shopify) as url:
        shop = ShopifyDiscounts("shpat_abc", shop="acme.myshopify.com", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        issued = shop.create_code(code="ANN-1", discount=TEN, idempotency_key="k", offer_id=None)
    node = shopify.discounts["ANN-1"]
    assert issued.external_id == node["id"]
    basic = node["input"]
    assert basic["usageLimit"] == 1
    assert basic["customerGets"]["value"] == {"percentage": 0.1}
    assert shopify.requests[0].headers["x-shopify-access-token"] == "shpat_abc"


@pytest.mark.parametrize("fault", ["429", "500", "throttled", "drop"])
def test_shopify_retries_and_makes_one_code(
    shopify: ShopifyServer, fault: str, request: pytest.FixtureRequest
) -> None:
    path = "/admin/api/2024-10/graphql.json"
    with running(shopify) as url:
        shop = ShopifyDiscounts("shpat_abc", shop="acme.myshopify.com", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        shopify.fail(path, fault)
        issued = shop.create_code(
            code="CAL-9", discount=FIVE_EUR, idempotency_key="k", offer_id=None
        )
    assert list(shopify.discounts) == ["CAL-9"]
    assert issued.external_id == shopify.discounts["CAL-9"]["id"]
    amount = shopify.discounts["CAL-9"]["input"]["customerGets"]["value"]["discountAmount"]
    assert amount == {"amount": "5.00", "appliesOnEachItem": False}


def test_shopify_code_taken_is_read_back(
    shopify: ShopifyServer, request: pytest.FixtureRequest
) -> None:
    """A retry whose first attempt went through finds its code TAKEN and reads it back."""
    with running(shopify) as url:
        shop = ShopifyDiscounts("shpat_abc", shop="acme.myshopify.com", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        shopify.discounts["TAKEN-1"] = {"id": "gid://shopify/DiscountCodeNode/99", "input": {}}
        issued = shop.create_code(code="TAKEN-1", discount=TEN, idempotency_key="k", offer_id=None)
    assert issued.external_id == "gid://shopify/DiscountCodeNode/99"
    assert len(shopify.discounts) == 1


def test_shopify_user_errors_name_the_field(
    shopify: ShopifyServer, request: pytest.FixtureRequest
) -> None:
    with running(shopify) as url:
        shop = ShopifyDiscounts("shpat_abc", shop="acme.myshopify.com", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        with pytest.raises(ShopRejected) as caught:
            shop.create_code(code="", discount=TEN, idempotency_key="k", offer_id=None)
    assert caught.value.field == "basicCodeDiscount.code"
    assert caught.value.code == "BLANK"
    assert "blank" in caught.value.message
    assert shopify.discounts == {}


def test_shopify_wrong_token_is_rejected(
    shopify: ShopifyServer, request: pytest.FixtureRequest
) -> None:
    with running(shopify) as url:
        shop = ShopifyDiscounts("shpat_no", shop="acme.myshopify.com", base_url=url, retry=FAST)
        request.addfinalizer(shop.close)
        with pytest.raises(ShopRejected, match="Invalid API key") as caught:
            shop.create_code(code="A", discount=TEN, idempotency_key="k", offer_id=None)
    assert caught.value.status == 401


def test_a_fixed_discount_needs_a_currency() -> None:
    with pytest.raises(BadInput, match="currency"):
        Discount("fixed", 5)
