"""Coupons at checkout: a single-use discount code per referred friend, and its redemption.

A campaign's coupon settings live in ``Campaign.rules["coupons"]`` (:class:`CouponConfig`:
provider, percent or fixed amount, currency, days until expiry, code prefix). Codes come
from the tenant's own shop, through its API (Stripe, Shopify: :mod:`._shops`, credentials
sealed per tenant), or from a pool of codes imported from a CSV file.

Issuing is idempotent and crash-safe: the code and its idempotency key are reserved in the
store (``pending``) and committed before the shop is asked; a retry, after a crash, a lost
answer or a :class:`~grapevine.errors.ShopUnavailable`, asks again with the same key and
code, so the shop never makes two. A rejection (:class:`~grapevine.errors.ShopRejected`)
removes the reservation. Asking twice for the same friend gives the same code.

A purchase carrying an issued code (``coupon_code`` of an event, the promotion code of a
Stripe checkout) is credited to the referrer whose friend got it (:func:`coupon_referral`)
and the code is marked redeemed (:func:`redeem_coupon`).

The workflows commit their own transactions (the shop is asked between two of them).
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine.errors import BadInput, Conflict, NotFound, ShopRejected
from grapevine.referrals._codes import new_code, normalize_code
from grapevine.referrals._email import normalize_email
from grapevine.referrals._lookup import load_campaign
from grapevine.referrals._shops import (
    CouponProvider,
    Discount,
    Retry,
    ShopifyDiscounts,
    StripeCoupons,
)
from grapevine.store import codes_repo, coupons_repo, events_repo, persons_repo
from grapevine.store._secretbox import SecretBox
from grapevine.store.coupons_models import PROVIDERS, Coupon, ShopConnection
from grapevine.store.models import Campaign, Reward

__all__ = [
    "COUPON_RULE",
    "CouponConfig",
    "IssuedCoupon",
    "PoolImport",
    "ShopInfo",
    "configure_coupons",
    "connect_shop",
    "coupon_referral",
    "import_pool",
    "issue_coupon",
    "issue_credit",
    "list_coupons",
    "redeem_coupon",
    "shop_provider",
]

COUPON_RULE = "coupons"
"""The key of ``Campaign.rules`` that holds the campaign's :class:`CouponConfig`."""

ProviderFactory = Callable[[ShopConnection, str], CouponProvider]


@dataclass(frozen=True)
class CouponConfig:
    """How a campaign hands out codes.

    Attributes
    ----------
    provider : {"stripe", "shopify", "pool"}
    kind : {"percent", "fixed"}
    amount : float
        Percent off (0-100] or the fixed amount in ``currency``.
    currency : str or None
        ISO 4217 code (needed for a fixed amount).
    expires_days : float or None
        Days from issue until the code expires (None: never).
    prefix : str
        Put before the random part of a drawn code (``FRIEND-7Q2KXM4P``).
    """

    provider: str
    kind: str = "percent"
    amount: float = 10.0
    currency: str | None = None
    expires_days: float | None = 30.0
    prefix: str = "FRIEND"

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise BadInput(
                f"provider must be one of {', '.join(PROVIDERS)}, not {self.provider!r}",
                field=f"rules.{COUPON_RULE}.provider",
            )
        if self.expires_days is not None and not 0 < float(self.expires_days) <= 3650:
            raise BadInput(
                "expires_days must lie in (0, 3650]", field=f"rules.{COUPON_RULE}.expires_days"
            )
        if not self.prefix.isalnum() or len(self.prefix) > 20:
            raise BadInput(
                "prefix must be 1-20 letters or digits", field=f"rules.{COUPON_RULE}.prefix"
            )
        try:
            self.discount(now=0.0)
        except BadInput as exc:
            raise BadInput(exc.message, field=f"rules.{COUPON_RULE}.{exc.field}") from None
        except ValueError as exc:  # InvalidParameter: the amount outside its range
            raise BadInput(str(exc), field=f"rules.{COUPON_RULE}.amount") from None

    def discount(self, *, now: float, name: str = "Referral discount") -> Discount:
        """The :class:`Discount` of a code issued at ``now``."""
        expires = None if self.expires_days is None else now + float(self.expires_days) * 86400
        return Discount(self.kind, float(self.amount), self.currency, expires, name)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, campaign: Campaign) -> CouponConfig:
        """The campaign's settings; :class:`Conflict` when it hands out no coupons."""
        given = (campaign.rules or {}).get(COUPON_RULE)
        if not isinstance(given, dict):
            raise Conflict(
                f"campaign {campaign.id} hands out no coupons: configure them first "
                "(`grapevine coupons configure`)",
                what="campaign",
                state="no coupons",
            )
        return cls(**given)


@dataclass(frozen=True)
class IssuedCoupon:
    """A code as the shells show it."""

    code: str
    campaign_id: int
    provider: str
    status: str
    purpose: str | None
    referrer_id: int | None
    person_id: int | None
    kind: str | None
    amount: float | None
    currency: str | None
    expires_at: float | None
    issued_at: float | None
    redeemed_at: float | None
    order_id: str | None
    replayed: bool = False

    @classmethod
    def of(cls, row: Coupon, *, replayed: bool = False) -> IssuedCoupon:
        return cls(
            code=row.code,
            campaign_id=row.campaign_id,
            provider=row.provider,
            status=row.status,
            purpose=row.purpose,
            referrer_id=row.referrer_id,
            person_id=row.person_id,
            kind=row.kind,
            amount=row.amount,
            currency=row.currency,
            expires_at=row.expires_at,
            issued_at=row.issued_at,
            redeemed_at=row.redeemed_at,
            order_id=row.order_id,
            replayed=replayed,
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PoolImport:
    """What a pool import added, and how many codes the pool has left."""

    campaign_id: int
    file: str
    added: int
    available: int


@dataclass(frozen=True)
class ShopInfo:
    """A shop connection as listings show it: never the credential."""

    tenant_id: int
    provider: str
    shop: str | None
    base_url: str | None
    hint: str
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ---------------------------------------------------------------------------- settings
def configure_coupons(
    session: Session, *, campaign_id: int, tenant_id: int | None = None, settings: dict[str, Any]
) -> CouponConfig:
    """Validate and store the campaign's coupon settings (committed).

    A missing ``kind``/``amount`` is taken from the offer's friend incentive, a missing
    ``currency`` from the campaign.
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    given = dict(settings)
    friend = (campaign.offer or {}).get("friend") or {}
    if "kind" not in given and friend.get("kind") in ("percent", "fixed"):
        given["kind"], given["amount"] = friend["kind"], friend.get("amount", 10.0)
    given.setdefault("currency", campaign.currency)
    if given.get("currency"):
        given["currency"] = str(given["currency"]).upper()
    unknown = set(given) - set(CouponConfig.__dataclass_fields__)
    if unknown:
        raise BadInput(f"unknown setting {sorted(unknown)[0]!r}", field=f"rules.{COUPON_RULE}")
    config = CouponConfig(**given)
    campaign.rules = {**(campaign.rules or {}), COUPON_RULE: config.as_dict()}
    session.commit()
    return config


def connect_shop(
    session: Session,
    *,
    tenant_id: int,
    provider: str,
    secret: str,
    box: SecretBox,
    shop: str | None = None,
    base_url: str | None = None,
    webhook_secret: str | None = None,
    by: str | None = None,
) -> ShopInfo:
    """Store the tenant's Stripe secret key or Shopify access token, sealed (committed).

    Shopify needs the shop's domain (``example.myshopify.com``); ``webhook_secret`` (the
    app's client secret) verifies the shop's order webhooks
    (:func:`~grapevine.referrals._shop_orders.record_shopify_order`).
    """
    if provider == "shopify" and not shop:
        raise BadInput("a Shopify connection needs the shop's domain", field="shop")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise BadInput("base_url must be an http(s) URL", field="base_url")
    row = coupons_repo.save_connection(
        session,
        tenant_id=tenant_id,
        provider=provider,
        secret=secret,
        box=box,
        shop=shop,
        base_url=base_url,
        webhook_secret=webhook_secret,
        by=by,
    )
    session.commit()
    return ShopInfo(row.tenant_id, row.provider, row.shop, row.base_url, row.hint, row.created_at)


def shop_provider(
    session: Session,
    *,
    tenant_id: int,
    provider: str,
    box: SecretBox,
    retry: Retry | None = None,
) -> CouponProvider:
    """The tenant's shop as a :class:`CouponProvider` (close it after use)."""
    row = coupons_repo.find_connection(session, tenant_id=tenant_id, provider=provider)
    if row is None:
        raise NotFound(
            "shop connection",
            provider,
            f"the tenant has no {provider} connection: `grapevine shop connect {provider}`",
        )
    secret = coupons_repo.open_credential(row, box=box)
    if provider == "stripe":
        return StripeCoupons(secret, base_url=row.base_url, retry=retry)
    return ShopifyDiscounts(secret, shop=str(row.shop), base_url=row.base_url, retry=retry)


# ---------------------------------------------------------------------------- pools
def import_pool(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    path: str | Path | None = None,
    data: bytes | None = None,
    name: str | None = None,
) -> PoolImport:
    """Import a CSV of codes into the campaign's pool, all or nothing (committed).

    The codes come from the file at ``path``, or from ``data`` (an upload, called ``name``
    in errors). One code per line, in the first column (or the column named ``code`` when
    the first line is a header). A malformed code, a code twice in the file and a code the
    campaign has already are :class:`BadInput` naming the file and line; nothing is added
    then.
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    name = name or str(path)
    try:
        raw = Path(path).read_bytes() if data is None and path is not None else data or b""
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the file: {exc}", file=name) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise BadInput(f"not a CSV file: {exc}", file=name) from None
    column, start = 0, 0
    if rows and any(cell.strip().lower() == "code" for cell in rows[0]):
        column = [c.strip().lower() for c in rows[0]].index("code")
        start = 1
    codes = []
    for i, row in enumerate(rows[start:], start=start + 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if column >= len(row):
            raise BadInput("no code on this line", file=name, line=i, field="code")
        codes.append((i, row[column]))
    if not codes:
        raise BadInput("no codes in the file", file=name)
    config = (campaign.rules or {}).get(COUPON_RULE) or {}
    try:
        added = coupons_repo.add_pool_codes(
            session,
            campaign_id=campaign.id,
            codes=codes,
            file=name,
            kind=config.get("kind"),
            amount=config.get("amount"),
            currency=config.get("currency"),
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    left = coupons_repo.coupon_counts(session, campaign_id=campaign.id).get("available", 0)
    return PoolImport(campaign.id, name, added, left)


# ---------------------------------------------------------------------------- issuing
def _holder(email: str | None, visitor_id: str | None) -> str:
    if email:
        if "@" not in email:
            raise BadInput("not an e-mail address", field="email")
        return f"email:{normalize_email(email)}"
    if visitor_id:
        return f"visitor:{visitor_id[:64]}"
    raise BadInput("a friend's coupon needs their e-mail or visitor id", field="email")


def _referrer(
    session: Session, campaign: Campaign, referral_code: str | None, person_id: int | None
) -> tuple[int, str | None]:
    if referral_code:
        row = codes_repo.find_code(session, code=normalize_code(referral_code))
        if row is None or row.campaign_id != campaign.id:
            raise BadInput(
                f"no referral code {referral_code!r} in campaign {campaign.id}",
                field="referral_code",
            )
        return row.person_id, row.code
    if person_id is not None:
        signup = events_repo.signup_referrer(session, campaign_id=campaign.id, person_id=person_id)
        if signup is not None:
            return signup[0], signup[1]
    raise BadInput(
        "no referrer: give the referral code the friend arrived with", field="referral_code"
    )


def _shop_code(prefix: str) -> str:
    return f"{prefix.upper()}-{new_code(length=8)}"


def _offer_id(
    session: Session, campaign: Campaign, shop: CouponProvider, discount: Discount
) -> str | None:
    fingerprint = discount.fingerprint()
    known = coupons_repo.find_offer(
        session, campaign_id=campaign.id, provider=shop.name, fingerprint=fingerprint
    )
    if known is not None:
        return known.external_id
    key = f"gv-offer-{campaign.id}-{fingerprint}"
    made = shop.create_offer(discount=discount, idempotency_key=key)
    if made is None:
        return None
    try:
        coupons_repo.save_offer(
            session,
            campaign_id=campaign.id,
            provider=shop.name,
            fingerprint=fingerprint,
            external_id=made,
        )
        session.commit()
    except IntegrityError:  # a concurrent issue saved it first (same key: same coupon)
        session.rollback()
    return made


def _issue_through_shop(
    session: Session,
    *,
    campaign: Campaign,
    config: CouponConfig,
    holder: str,
    values: dict[str, Any],
    discount: Discount,
    shop: CouponProvider,
    now: float,
) -> IssuedCoupon:
    row = coupons_repo.find_holder_coupon(session, campaign_id=campaign.id, holder=holder)
    if row is not None and row.status != "pending":
        return IssuedCoupon.of(row, replayed=True)
    if row is None:
        try:
            row = coupons_repo.reserve_coupon(
                session,
                campaign_id=campaign.id,
                provider=config.provider,
                code=_shop_code(config.prefix),
                holder=holder,
                idempotency_key=f"gv-coupon-{uuid.uuid4().hex}",
                kind=discount.kind,
                amount=discount.amount,
                currency=discount.currency,
                expires_at=discount.expires_at,
                **values,
            )
            session.commit()
        except IntegrityError:  # a concurrent request reserved it: use that one
            session.rollback()
            row = coupons_repo.find_holder_coupon(session, campaign_id=campaign.id, holder=holder)
            if row is None:
                raise
            if row.status != "pending":
                return IssuedCoupon.of(row, replayed=True)
    # The reservation fixes the code, the key and the expiry: a retry asks for the same.
    discount = Discount(
        discount.kind, discount.amount, discount.currency, row.expires_at, discount.name
    )
    try:
        offer = _offer_id(session, campaign, shop, discount)
        made = shop.create_code(
            code=row.code,
            discount=discount,
            idempotency_key=str(row.idempotency_key),
            offer_id=offer,
        )
    except ShopRejected:
        session.delete(row)  # nothing was made: the next request starts afresh
        session.commit()
        raise
    coupons_repo.mark_issued(session, coupon=row, external_id=made.external_id, now=now)
    session.commit()
    return IssuedCoupon.of(row)


def issue_coupon(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    email: str | None = None,
    visitor_id: str | None = None,
    referral_code: str | None = None,
    box: SecretBox | None = None,
    retry: Retry | None = None,
    now: float | None = None,
) -> IssuedCoupon:
    """Give a referred friend their single-use code (the same one when asked again).

    Parameters
    ----------
    campaign : Campaign
        With coupon settings (:func:`configure_coupons`).
    email, visitor_id : str, optional
        Who the friend is: their e-mail (at signup) or the attribution cookie's visitor id
        (on arrival). One is needed.
    referral_code : str, optional
        The referral code the friend arrived with; without it, the referrer of the friend's
        referred signup.
    box : SecretBox
        Opens the tenant's shop credential (not needed for a pool).

    Raises
    ------
    BadInput
        No friend named, no referrer, a self-referral.
    Conflict
        No coupon settings, or an empty pool.
    NotFound
        The tenant has no connection to the campaign's shop.
    ShopRejected, ShopUnavailable
        The shop refused, or did not answer after the retries (then asking again is safe).
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    when = time.time() if now is None else now
    config = CouponConfig.of(campaign)
    holder = _holder(email, visitor_id)
    person_id = None
    if email:
        person_id = persons_repo.get_or_create_person(
            session, platform=persons_repo.EMAIL_PLATFORM, handle=normalize_email(email)
        ).id
    known = coupons_repo.find_holder_coupon(session, campaign_id=campaign.id, holder=holder)
    if known is not None and known.status != "pending":
        session.commit()
        return IssuedCoupon.of(known, replayed=True)
    if known is not None and known.referrer_id is not None:  # reserved, the shop unconfirmed
        referrer_id, code = known.referrer_id, known.referral_code
    else:
        referrer_id, code = _referrer(session, campaign, referral_code, person_id)
    if person_id is not None and referrer_id == person_id:
        raise BadInput("a friend cannot use their own referral code", field="referral_code")
    values = {
        "purpose": "friend",
        "person_id": person_id,
        "referrer_id": referrer_id,
        "referral_code": code,
    }
    if config.provider == "pool":
        try:
            row = coupons_repo.draw_from_pool(
                session, campaign_id=campaign.id, holder=holder, now=when, **values
            )
            if row is None:
                session.rollback()
                raise Conflict(
                    f"the code pool of campaign {campaign.id} is empty: import more codes",
                    what="coupon pool",
                    state="empty",
                )
            session.commit()
        except IntegrityError:  # the same friend, concurrently: theirs is the one
            session.rollback()
            again = coupons_repo.find_holder_coupon(session, campaign_id=campaign.id, holder=holder)
            if again is None:
                raise
            return IssuedCoupon.of(again, replayed=True)
        return IssuedCoupon.of(row)
    if box is None:
        raise BadInput("GRAPEVINE_SECRETS_KEY is needed to open the shop credential")
    discount = config.discount(now=when, name=f"{campaign.name} referral"[:40])
    shop = shop_provider(
        session, tenant_id=campaign.tenant_id, provider=config.provider, box=box, retry=retry
    )
    try:
        return _issue_through_shop(
            session,
            campaign=campaign,
            config=config,
            holder=holder,
            values=values,
            discount=discount,
            shop=shop,
            now=when,
        )
    finally:
        shop.close()


def issue_credit(
    session: Session,
    *,
    campaign: Campaign,
    reward: Reward,
    box: SecretBox,
    retry: Retry | None = None,
    now: float | None = None,
) -> IssuedCoupon:
    """Store credit: a fixed-amount code worth ``reward.amount`` for the reward's person,
    through the campaign's shop (the same code when asked again for the reward). It expires
    after a year, or never when the campaign's codes never expire."""
    config = CouponConfig.of(campaign)
    if config.provider == "pool":
        raise Conflict(
            "store credit needs a shop (stripe or shopify): a pool's codes have a fixed worth",
            what="campaign",
            state="pool",
        )
    currency = campaign.currency or config.currency
    if not currency:
        raise BadInput("store credit needs the campaign's currency", field="currency")
    when = time.time() if now is None else now
    discount = Discount(
        "fixed",
        float(reward.amount),
        currency.upper(),
        None if config.expires_days is None else when + 365 * 86400.0,
        f"{campaign.name} store credit"[:40],
    )
    values = {"purpose": "credit", "person_id": reward.person_id, "reward_id": reward.id}
    shop = shop_provider(
        session, tenant_id=campaign.tenant_id, provider=config.provider, box=box, retry=retry
    )
    try:
        return _issue_through_shop(
            session,
            campaign=campaign,
            config=config,
            holder=f"reward:{reward.id}",
            values=values,
            discount=discount,
            shop=shop,
            now=when,
        )
    finally:
        shop.close()


def list_coupons(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> tuple[list[IssuedCoupon], dict[str, int]]:
    """The campaign's codes (of one status) and the count of each status."""
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    rows = coupons_repo.list_coupons(session, campaign_id=campaign.id, status=status, limit=limit)
    counts = coupons_repo.coupon_counts(session, campaign_id=campaign.id)
    return [IssuedCoupon.of(r) for r in rows], counts


# ---------------------------------------------------------------------------- redemption
def coupon_referral(
    session: Session, *, campaign_id: int, code: str | None = None, external_id: str | None = None
) -> tuple[int, str | None, str] | None:
    """``(referrer_id, referral_code, coupon code)`` of a friend's issued code of the
    campaign, named by its code or by the shop's id of it (a Stripe ``promo_...``); None
    when it is not one."""
    row = None
    if code:
        row = coupons_repo.find_coupon(session, campaign_id=campaign_id, code=code)
    elif external_id:
        row = coupons_repo.find_coupon_by_external_id(session, external_id=external_id)
        if row is not None and row.campaign_id != campaign_id:
            row = None
    if row is None or row.purpose != "friend" or row.referrer_id is None:
        return None
    if row.status not in ("issued", "redeemed"):
        return None
    return row.referrer_id, row.referral_code, row.code


def redeem_coupon(
    session: Session, *, campaign_id: int, code: str, order_id: str | None, now: float
) -> bool:
    """Mark the campaign's issued code redeemed by ``order_id`` (flushed, not committed);
    False when it is not an issued code (unknown, or redeemed already)."""
    row = coupons_repo.find_coupon(session, campaign_id=campaign_id, code=code)
    if row is None:
        return False
    return coupons_repo.mark_redeemed(session, coupon=row, order_id=order_id, now=now)
