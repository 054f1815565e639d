"""Recording conversions: signups, purchases and refunds, with attribution and rewards.

:func:`record_event` is the one way a conversion enters the store, whichever door it came
through (``POST /api/events``, a signed merchant webhook, a Stripe event: see
:func:`record_stripe_checkout` and :func:`record_stripe_refund`, whose signatures the service
has checked). It is idempotent on the event's key, and purchases and refunds on their order
as well. A referred signup or purchase is assessed for fraud (:func:`~grapevine.referrals.
_risk.assess`); purchases and refunds replay the campaign's reward ledger.

The campaign's lifecycle: a conversion recorded while the campaign is paused, or after it
ended, is stored with a ``reward_note`` saying so and earns nothing; a refund always counts
(rewards earned before keep their lifecycle).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine.errors import BadInput
from grapevine.referrals._announce import announce_conversion
from grapevine.referrals._attribution import attribute
from grapevine.referrals._codes import normalize_code
from grapevine.referrals._coupons import coupon_referral, redeem_coupon
from grapevine.referrals._earned import EventReward, event_rewards
from grapevine.referrals._email import normalize_email
from grapevine.referrals._lookup import MAX_ID, event_times, load_campaign, window_seconds
from grapevine.referrals._risk import assess, update_rewards
from grapevine.store import campaigns_repo, codes_repo, coupons_repo, events_repo, persons_repo
from grapevine.store.models import Campaign, ReferralEvent

__all__ = [
    "COUPON_CHANNEL",
    "REFUND_EVENTS",
    "STRIPE_CAMPAIGN_KEY",
    "EventInput",
    "RecordedEvent",
    "StripeOutcome",
    "record_event",
    "record_stripe_checkout",
    "record_stripe_refund",
]

COUPON_CHANNEL = "coupon"
"""The ``channel`` of a conversion credited through a coupon code rather than a click."""

REFUND_EVENTS = frozenset({"charge.refunded", "refund.created"})
"""The Stripe event types recorded as refunds (full refunds only)."""

STRIPE_CAMPAIGN_KEY = "grapevine_campaign_id"
"""Checkout Session metadata key naming the campaign when ``client_reference_id`` is a
visitor id rather than a referral code."""

_NO_REWARD = {
    "paused": "recorded while the campaign was paused: no rewards",
    "ended": "recorded after the campaign ended: no rewards",
}


@dataclass(frozen=True)
class EventInput:
    """A conversion to record (the fields of ``POST /api/events``, already in their domains).

    ``kind`` is signup, purchase or refund; ``idempotency_key`` makes a retry harmless;
    ``email`` names the customer (signups and purchases); ``visitor_id`` is the attribution
    cookie; ``coupon_code`` a code typed at checkout; a purchase needs its ``order_id``, a
    refund the order it refunds. ``time`` is Unix seconds (default: now).
    """

    kind: str
    idempotency_key: str
    email: str | None = None
    visitor_id: str | None = None
    coupon_code: str | None = None
    order_id: str | None = None
    value: float | None = None
    currency: str | None = None
    time: float | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """A recorded conversion with what it earned; ``replayed`` when it had been recorded
    before (the first result, nothing changed). ``reward_note`` says why it earns nothing
    whatever the offer (a paused or ended campaign), else None."""

    event_id: int
    campaign_id: int
    kind: str
    person_id: int | None
    referrer_id: int | None
    code: str | None
    order_id: str | None
    value: float | None
    time: float
    rewards: tuple[EventReward, ...]
    replayed: bool
    reward_note: str | None = None


def _result(session: Session, event: ReferralEvent, *, replayed: bool) -> RecordedEvent:
    return RecordedEvent(
        event_id=event.id,
        campaign_id=event.campaign_id,
        kind=event.kind,
        person_id=event.person_id,
        referrer_id=event.referrer_id,
        code=event.code,
        order_id=event.order_id,
        value=event.value,
        time=event.time,
        rewards=event_rewards(
            session, campaign_id=event.campaign_id, event_key=event.idempotency_key
        ),
        replayed=replayed,
        reward_note=event.reward_note,
    )


def _person_id(session: Session, email: str | None) -> int:
    if not email or "@" not in email:
        raise BadInput("a signup or purchase needs the customer's e-mail", field="email")
    handle = normalize_email(email)
    return persons_repo.get_or_create_person(
        session, platform=persons_repo.EMAIL_PLATFORM, handle=handle
    ).id


def _attribute(
    session: Session, campaign: Campaign, body: EventInput, person: int, when: float
) -> tuple[int | None, str | None, str | None]:
    """``(referrer_id, code, channel)`` of a signup or purchase under the campaign's rule.

    The channel is the one of the credited click (its link's ``ch``), ``"coupon"`` for a
    coupon, and for a purchase with neither, the channel of the person's referred signup.
    A friend's discount code (:mod:`._coupons`) is credited to the referrer it was issued for.
    """
    issued = (
        coupon_referral(session, campaign_id=campaign.id, code=body.coupon_code)
        if body.coupon_code
        else None
    )
    if issued is not None:  # a typed code wins over clicks, as a referral code does
        return (issued[0], issued[1], COUPON_CHANNEL) if issued[0] != person else (None, None, None)
    visits = (
        events_repo.visitor_clicks(session, campaign_id=campaign.id, visitor_id=body.visitor_id)
        if body.visitor_id
        else []
    )
    clicks = [(code, t) for code, t, _ in visits]
    valid = {code for code, _ in clicks}
    if body.coupon_code:
        try:
            coupon: str | None = normalize_code(body.coupon_code)
        except BadInput:
            coupon = None
        row = None if coupon is None else codes_repo.find_code(session, code=coupon)
        if coupon is not None and row is not None and row.campaign_id == campaign.id:
            valid.add(coupon)
    found = attribute(
        clicks,
        when,
        rule=str((campaign.rules or {}).get("attribution", "last")),
        window_seconds=window_seconds(campaign),
        coupon_code=body.coupon_code,
        valid_codes=valid,
    )
    if found.code is not None:
        code_row = codes_repo.find_code(session, code=found.code)
        if code_row is not None and code_row.person_id != person:
            channel = COUPON_CHANNEL if found.source == "coupon" else None
            if found.source == "click":
                channel = next(
                    (ch for code, t, ch in visits if code == found.code and t == found.time), None
                )
            return code_row.person_id, found.code, channel
        return None, None, None  # self-referral: no credit
    if body.kind == "purchase":  # no click or coupon: the referrer of the signup, if any
        signup = events_repo.signup_referrer(session, campaign_id=campaign.id, person_id=person)
        if signup is not None and signup[0] != person:
            return signup
    return None, None, None


def _earlier(session: Session, campaign_id: int, body: EventInput) -> ReferralEvent | None:
    """The event this one repeats: the same key, or the same order's purchase or refund."""
    found = events_repo.find_event(
        session, campaign_id=campaign_id, idempotency_key=body.idempotency_key
    )
    if found is None and body.kind == "refund" and body.order_id:
        found = events_repo.refund_of_order(
            session, campaign_id=campaign_id, order_id=body.order_id
        )
    if found is None and body.kind == "purchase" and body.order_id:
        found = events_repo.purchase_for_order(
            session, campaign_id=campaign_id, order_id=body.order_id
        )
    return found


def record_event(
    session: Session,
    *,
    campaign_id: int,
    event: EventInput,
    tenant_id: int | None = None,
    salt: str | None = None,
    now: float | None = None,
) -> RecordedEvent:
    """Record one conversion event, update the rewards and commit.

    Parameters
    ----------
    session : Session
        Committed here on success, rolled back on a lost race.
    campaign_id : int
        The campaign; with ``tenant_id``, only a campaign of that tenant is found.
    event : EventInput
        The conversion.
    salt : str, optional
        The secret the device hashes were made with (the fraud checks compare them).
    now : float, optional
        The clock (default: ``time.time()``).

    Returns
    -------
    RecordedEvent
        With ``replayed`` true when the key (or, for a purchase or refund, the order) was
        recorded before: the first result, nothing changed. Two deliveries that race are
        decided by the unique indexes; the loser reads the winner's row.

    Raises
    ------
    CampaignNotFound
        No such campaign (for the tenant).
    BadInput
        ``time`` outside the campaign's range (:func:`event_times`), a purchase without an
        ``order_id``, a refund of no recorded purchase, a signup or purchase without an
        e-mail: naming the field.

    Notes
    -----
    A referred signup or purchase is assessed for fraud first: at or above the campaign's
    review threshold its rewards wait in the review queue. While the campaign is paused or
    after it ended, a signup or purchase is stored with its ``reward_note`` and earns nothing.
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    key = event.idempotency_key
    found = events_repo.find_event(session, campaign_id=campaign.id, idempotency_key=key)
    if found is not None:
        return _result(session, found, replayed=True)
    clock = time.time() if now is None else now
    when = clock if event.time is None else event.time
    problem = event_times(campaign).problem(when)
    if problem is not None:
        raise BadInput(problem, field="time")
    note: str | None = None
    if event.kind == "refund":
        if not event.order_id:
            raise BadInput("a refund needs the order_id of its purchase", field="order_id")
        purchase = events_repo.purchase_for_order(
            session, campaign_id=campaign.id, order_id=event.order_id
        )
        if purchase is None:
            raise BadInput(f"no purchase with order_id {event.order_id!r}", field="order_id")
        earlier = events_repo.refund_of_order(
            session, campaign_id=campaign.id, order_id=event.order_id
        )
        if earlier is not None:  # refunded already (another key): one refund per order
            return _result(session, earlier, replayed=True)
        person: int | None = purchase.person_id
        referrer, code, channel = purchase.referrer_id, purchase.code, purchase.channel
        value = event.value if event.value is not None else purchase.value
    else:
        if event.kind == "purchase":
            if not event.order_id:
                raise BadInput("a purchase needs an order_id", field="order_id")
            bought = events_repo.purchase_for_order(
                session, campaign_id=campaign.id, order_id=event.order_id
            )
            if bought is not None:  # recorded already (another key): one purchase per order
                return _result(session, bought, replayed=True)
        person = _person_id(session, event.email)
        referrer, code, channel = _attribute(session, campaign, event, person, when)
        value = event.value
        note = _NO_REWARD.get(campaign.status or "active")
    try:
        row = events_repo.add_event(
            session,
            campaign_id=campaign.id,
            kind=event.kind,
            time=when,
            code=code,
            referrer_id=referrer,
            person_id=person,
            value=value,
            currency=(event.currency or campaign.currency or "").upper() or None,
            idempotency_key=key,
            order_id=event.order_id,
            visitor_id=event.visitor_id,
            channel=channel,
            reward_note=note,
        )
        if event.kind in ("signup", "purchase"):
            assess(session, campaign=campaign, event=row, salt=salt, now=clock)
        if event.kind in ("purchase", "refund"):
            update_rewards(session, campaign=campaign, now=clock)
        if event.kind == "purchase" and event.coupon_code:  # a friend's code is used up
            redeem_coupon(
                session,
                campaign_id=campaign.id,
                code=event.coupon_code,
                order_id=event.order_id,
                now=when,
            )
        announce_conversion(session, campaign=campaign, event=row, now=clock)  # the outbox
        session.commit()
    except IntegrityError:
        session.rollback()
        found = _earlier(session, campaign.id, event)
        if found is None:
            raise
        return _result(session, found, replayed=True)
    return _result(session, row, replayed=False)


# ---------------------------------------------------------------------------- Stripe
@dataclass(frozen=True)
class StripeOutcome:
    """What a Stripe event did: the event recorded (or replayed), or why it was ignored."""

    event: RecordedEvent | None
    ignored: str | None = None

    @property
    def replayed(self) -> bool:
        """Whether the event had been recorded before."""
        return self.event is not None and self.event.replayed


def _campaign_of_tenant(session: Session, campaign_id: int, tenant_id: int) -> Campaign | None:
    if not 1 <= campaign_id <= MAX_ID:
        return None
    return campaigns_repo.find_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)


def record_stripe_checkout(
    session: Session,
    *,
    tenant_id: int,
    event_id: str,
    client_reference_id: str | None,
    metadata: Mapping[str, str] | None,
    email: str | None,
    order_id: str | None,
    amount_cents: int | None,
    currency: str | None,
    created: float | None,
    salt: str | None = None,
    promotion_codes: Sequence[str] = (),
) -> StripeOutcome:
    """A verified ``checkout.session.completed`` of ``tenant_id`` as a purchase (committed).

    A promotion code of the session (``promotion_codes``, Stripe's ``promo_...`` ids) that
    was issued to a referred friend (:mod:`._coupons`) names the campaign and is credited
    to that friend's referrer, before anything else.

    ``client_reference_id`` is a referral code of the tenant's campaigns (credited like a
    coupon) or the visitor id of the attribution cookie (then ``metadata`` names the campaign
    under :data:`STRIPE_CAMPAIGN_KEY`). Anything else, or another tenant's code or campaign,
    is ignored (with the reason). The Stripe event id is the idempotency key
    (``stripe:{event_id}``): Stripe's redeliveries are recorded once.
    """
    reference = client_reference_id or ""
    meta = metadata or {}
    campaign: Campaign | None = None
    coupon = visitor = None
    try:
        code_row = codes_repo.find_code(session, code=normalize_code(reference))
    except BadInput:
        code_row = None
    if code_row is not None:
        campaign = _campaign_of_tenant(session, code_row.campaign_id, tenant_id)
        coupon = code_row.code
    for promo in promotion_codes:  # a friend's discount code wins
        issued = coupons_repo.find_coupon_by_external_id(session, external_id=promo)
        if issued is None:
            continue
        of_tenant = _campaign_of_tenant(session, issued.campaign_id, tenant_id)
        if of_tenant is not None:
            campaign, coupon = of_tenant, issued.code
            break
    if campaign is None and re.fullmatch(r"[0-9]{1,19}", meta.get(STRIPE_CAMPAIGN_KEY, "")):
        campaign = _campaign_of_tenant(session, int(meta[STRIPE_CAMPAIGN_KEY]), tenant_id)
        coupon, visitor = None, reference[:64] or None
    if campaign is None:
        return StripeOutcome(None, "no referral code or campaign on the session")
    recorded = record_event(
        session,
        campaign_id=campaign.id,
        event=EventInput(
            kind="purchase",
            idempotency_key=f"stripe:{event_id}",
            email=email,
            visitor_id=visitor,
            coupon_code=coupon,
            order_id=order_id or f"stripe:{event_id}",
            value=None if amount_cents is None else amount_cents / 100.0,
            currency=(currency or "").upper() or None,
            time=created,
        ),
        salt=salt,
    )
    return StripeOutcome(recorded)


def record_stripe_refund(
    session: Session,
    *,
    tenant_id: int,
    event_id: str,
    kind: str,
    intent: str | None,
    refunded: bool | None,
    amount_cents: int | None,
    created: float | None,
    salt: str | None = None,
) -> StripeOutcome:
    """A verified Stripe refund (``charge.refunded`` or ``refund.created``, see
    :data:`REFUND_EVENTS`) of an order of ``tenant_id``'s campaigns, as a refund (committed).

    The payment intent is the purchase's ``order_id``; its rewards turn void (in their
    hold) or clawed back. A partial refund is ignored (the ledger refunds whole orders), and
    so is a second refund of one order (Stripe sends both event types for one refund).
    """
    if not intent:
        return StripeOutcome(None, "no payment_intent on the refund")
    purchases = [
        p
        for p in events_repo.purchases_of_order(session, order_id=intent)
        if _campaign_of_tenant(session, p.campaign_id, tenant_id) is not None
    ]
    if not purchases:
        return StripeOutcome(None, f"no purchase with order_id {intent!r}")
    purchase = purchases[0]
    if kind == "charge.refunded":
        full = refunded is True
    else:
        paid = purchase.value
        full = amount_cents is not None and paid is not None and amount_cents >= round(paid * 100)
    if not full:
        return StripeOutcome(None, "partial refund (rewards follow whole orders)")
    key = f"stripe:{event_id}"
    cid = purchase.campaign_id
    replay = events_repo.find_event(session, campaign_id=cid, idempotency_key=key)
    earlier = events_repo.refund_of_order(session, campaign_id=cid, order_id=intent)
    if replay is None and earlier is not None:
        return StripeOutcome(None, f"order {intent!r} already refunded")
    recorded = record_event(
        session,
        campaign_id=cid,
        event=EventInput(kind="refund", idempotency_key=key, order_id=intent, time=created),
        salt=salt,
    )
    return StripeOutcome(recorded)
