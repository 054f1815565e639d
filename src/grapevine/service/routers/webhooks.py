"""``/webhooks``: signed events from the merchant (Grapevine's HMAC) and from Stripe.

The raw body is verified byte for byte before it is parsed; a bad signature is a 400 that
names the reason (:class:`grapevine.errors.InvalidSignature`, handled in ``app.py``).

No API key: the signature is the authentication, and the secrets belong to the installation,
not to a tenant (whoever holds one can post events to any tenant's campaign). The per-IP
rate limit applies.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service.deps import RawBodyDep, ReplayCacheDep, SessionDep, SettingsDep
from grapevine.service.routers.campaigns import load_campaign
from grapevine.service.routers.events import REPLAY_HEADER, record_event, salt_of
from grapevine.service.schemas import EventBody, EventPublic
from grapevine.store import referrals_repo as repo

__all__ = ["REFUND_EVENTS", "STRIPE_CAMPAIGN_KEY", "router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=LIMIT_RESPONSES)

REFUND_EVENTS = frozenset({"charge.refunded", "refund.created"})
"""The Stripe event types recorded as refunds (full refunds only)."""

STRIPE_CAMPAIGN_KEY = "grapevine_campaign_id"
"""Checkout Session metadata key naming the campaign when ``client_reference_id`` is a
visitor id rather than a referral code."""


def _secret(value: Any, name: str) -> str:
    if value is None or not value.get_secret_value():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"set {name} to accept webhooks")
    secret: str = value.get_secret_value()
    return secret


@router.post("/stripe")
def stripe_webhook(
    raw: RawBodyDep,
    request: Request,
    settings: SettingsDep,
    cache: ReplayCacheDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Stripe ``checkout.session.completed`` events become purchases, full refunds
    (``charge.refunded``, ``refund.created``) refunds.

    ``client_reference_id`` is a referral code (credited like a coupon) or the visitor id of
    the attribution cookie (then ``metadata.grapevine_campaign_id`` names the campaign). A
    refund names the payment intent, which is the purchase's ``order_id``; its rewards turn
    void (in their hold) or clawed back. Partial refunds are ignored (the ledger refunds
    whole orders), and so is a second refund of one order (Stripe sends both event types
    for one refund). The event id is the idempotency key: Stripe's redeliveries are recorded
    once.
    """
    secret = _secret(settings.stripe_webhook_secret, "GRAPEVINE_STRIPE_WEBHOOK_SECRET")
    rf.verify_stripe_signature(
        raw, request.headers.get("stripe-signature", ""), secret, replay_cache=cache
    )
    try:
        event = json.loads(raw)
        kind = event["type"]
        obj = event["data"]["object"]
        event_id = str(event["id"])
    except (ValueError, KeyError, TypeError):
        raise BadInput("not a Stripe event", field="body") from None
    if kind in REFUND_EVENTS:
        return _stripe_refund(session, event_id, kind, obj, event.get("created"), settings)
    if kind != "checkout.session.completed":
        return {"received": True, "ignored": f"event type {kind}"}
    reference = obj.get("client_reference_id") or ""
    metadata = obj.get("metadata") or {}
    campaign_id: int | None = None
    coupon = visitor = None
    try:
        code_row = repo.find_code(session, code=rf.normalize_code(reference))
    except BadInput:
        code_row = None
    if code_row is not None:
        campaign_id, coupon = code_row.campaign_id, code_row.code
    elif str(metadata.get(STRIPE_CAMPAIGN_KEY, "")).isdigit():
        campaign_id, visitor = int(metadata[STRIPE_CAMPAIGN_KEY]), reference[:64] or None
    if campaign_id is None:
        return {"received": True, "ignored": "no referral code or campaign on the session"}
    campaign = load_campaign(session, campaign_id)
    details = obj.get("customer_details") or {}
    amount = obj.get("amount_total")
    body = EventBody(
        kind="purchase",
        idempotency_key=f"stripe:{event_id}",
        email=details.get("email") or obj.get("customer_email"),
        visitor_id=visitor,
        coupon_code=coupon,
        order_id=str(obj.get("payment_intent") or obj.get("id")),
        value=None if amount is None else amount / 100.0,
        currency=(obj.get("currency") or "").upper() or None,
        time=float(event["created"]) if isinstance(event.get("created"), int) else None,
    )
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    return {"received": True, "replayed": replayed, "event": result.model_dump()}


def _cents(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _stripe_refund(
    session: Session,
    event_id: str,
    kind: str,
    obj: Any,
    created: Any,
    settings: Settings,
) -> dict[str, Any]:
    """A Stripe refund (a Charge of ``charge.refunded``, a Refund of ``refund.created``)."""
    if not isinstance(obj, dict):
        raise BadInput("not a Stripe event", field="data.object")
    intent = obj.get("payment_intent")
    if not intent:
        return {"received": True, "ignored": "no payment_intent on the refund"}
    purchases = repo.purchases_of_order(session, order_id=str(intent))
    if not purchases:
        return {"received": True, "ignored": f"no purchase with order_id {intent!r}"}
    purchase = purchases[0]
    key = f"stripe:{event_id}"
    if kind == "charge.refunded":
        full = obj.get("refunded") is True
    else:
        amount, paid = _cents(obj.get("amount")), purchase.value
        full = amount is not None and paid is not None and amount >= round(paid * 100)
    if not full:
        return {"received": True, "ignored": "partial refund (rewards follow whole orders)"}
    campaign = load_campaign(session, purchase.campaign_id)
    replay = repo.find_event(session, campaign_id=campaign.id, idempotency_key=key)
    earlier = repo.refund_of_order(session, campaign_id=campaign.id, order_id=str(intent))
    if replay is None and earlier is not None:
        return {"received": True, "ignored": f"order {intent!r} already refunded"}
    body = EventBody(
        kind="refund",
        idempotency_key=key,
        order_id=str(intent),
        time=float(created) if isinstance(created, int) else None,
    )
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    return {"received": True, "replayed": replayed, "event": result.model_dump()}


@router.post("/{campaign_id}")
def campaign_webhook(
    campaign_id: int,
    raw: RawBodyDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
    cache: ReplayCacheDep,
    session: SessionDep,
) -> EventPublic:
    """An event body (as ``POST /api/events``, without ``campaign_id``) signed with
    ``X-Grapevine-Signature`` (:func:`grapevine.referrals.sign_webhook`); replays refused."""
    secret = _secret(settings.webhook_secret, "GRAPEVINE_WEBHOOK_SECRET")
    rf.verify_webhook(raw, request.headers.get(rf.SIGNATURE_HEADER, ""), secret, replay_cache=cache)
    try:
        body = EventBody.model_validate_json(raw)
    except ValidationError as exc:
        # Without the input (the raw bytes) and the context (an exception object): neither
        # is JSON, and the client is owed a 422 that names the field, not a 500.
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        raise HTTPException(422, errors) from None
    campaign = load_campaign(session, campaign_id)
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    if replayed:
        response.headers[REPLAY_HEADER] = "true"
    return result
