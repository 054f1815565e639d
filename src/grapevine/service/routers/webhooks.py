"""``/webhooks``: signed events from the merchant (Grapevine's HMAC) and from Stripe.

The raw body is verified byte for byte before it is parsed; a bad signature is a 400 that
names the reason (:class:`grapevine.errors.InvalidSignature`, handled in ``app.py``).

No API key: the signature is the authentication. Each tenant has its own secrets
(``service/_webhook_secrets.py``): a secret verifies events of its own tenant's campaigns
only, and a Stripe event credits only campaigns, codes and orders of the tenant whose secret
verified it. The per-IP rate limit applies.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.service import _stripe
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service._domains import Text
from grapevine.service._webhook_secrets import campaign_secrets, verify_stripe_tenant
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


@router.post("/stripe")
def stripe_webhook(
    raw: RawBodyDep,
    request: Request,
    settings: SettingsDep,
    cache: ReplayCacheDep,
    session: SessionDep,
) -> dict[str, Any]:
    """A Stripe event verified with any tenant's Stripe secret (each tenant's in turn; the
    deprecated ``GRAPEVINE_STRIPE_WEBHOOK_SECRET`` counts as tenant ``default``'s); it may
    credit only that tenant's campaigns. As ``/webhooks/stripe/{tenant}`` otherwise."""
    return _stripe_event(raw, request, settings, cache, session, tenant=None)


@router.post("/stripe/{tenant}")
def stripe_tenant_webhook(
    tenant: Annotated[Text, Path(max_length=255)],
    raw: RawBodyDep,
    request: Request,
    settings: SettingsDep,
    cache: ReplayCacheDep,
    session: SessionDep,
) -> dict[str, Any]:
    """A Stripe event for ``tenant``, verified with that tenant's Stripe endpoint secrets
    (``grapevine tenant webhook-secret rotate --kind stripe``). Stripe
    ``checkout.session.completed`` events become purchases, full refunds (``charge.refunded``,
    ``refund.created``) refunds, of this tenant's campaigns only (an event naming another
    tenant's code, campaign or order is answered 200 ``ignored``)."""
    return _stripe_event(raw, request, settings, cache, session, tenant=tenant)


def _stripe_event(
    raw: bytes,
    request: Request,
    settings: Settings,
    cache: rf.ReplayCache,
    session: Session,
    *,
    tenant: str | None,
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
    tenant_id = verify_stripe_tenant(
        session,
        settings,
        payload=raw,
        header=request.headers.get("stripe-signature", ""),
        cache=cache,
        tenant=tenant,
    )
    # Signed is not well formed: every field read is checked (service/_stripe.py), a 422
    # naming the field otherwise (never a 5xx, which Stripe would retry for days).
    event = _stripe.parse_event(raw)
    kind, obj, event_id = event.type, event.data.object, event.id
    if kind in REFUND_EVENTS:
        return _stripe_refund(
            session, event_id, kind, obj, event.created, settings, tenant_id=tenant_id
        )
    if kind != "checkout.session.completed":
        return {"received": True, "ignored": f"event type {kind}"}
    checkout = _stripe.checkout_session(obj)
    reference = checkout.client_reference_id or ""
    metadata = checkout.metadata or {}
    campaign_id: int | None = None
    coupon = visitor = None
    try:
        code_row = repo.find_code(session, code=rf.normalize_code(reference))
    except BadInput:
        code_row = None
    if code_row is not None and _of_tenant(session, code_row.campaign_id, tenant_id):
        campaign_id, coupon = code_row.campaign_id, code_row.code
    elif re.fullmatch(r"[0-9]{1,19}", metadata.get(STRIPE_CAMPAIGN_KEY, "")):
        campaign_id, visitor = int(metadata[STRIPE_CAMPAIGN_KEY]), reference[:64] or None
    if campaign_id is None or not _of_tenant(session, campaign_id, tenant_id):
        return {"received": True, "ignored": "no referral code or campaign on the session"}
    campaign = load_campaign(session, campaign_id)
    details, amount = checkout.customer_details, checkout.amount_total
    body = EventBody(
        kind="purchase",
        idempotency_key=f"stripe:{event_id}",
        email=(details.email if details else None) or checkout.customer_email,
        visitor_id=visitor,
        coupon_code=coupon,
        order_id=checkout.intent or checkout.id or f"stripe:{event_id}",
        value=None if amount is None else amount / 100.0,
        currency=(checkout.currency or "").upper() or None,
        time=None if event.created is None else float(event.created),
    )
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    return {"received": True, "replayed": replayed, "event": result.model_dump()}


def _of_tenant(session: Session, campaign_id: int, tenant_id: int) -> bool:
    """Whether ``campaign_id`` is a campaign of ``tenant_id`` (whose secret verified)."""
    return (
        1 <= campaign_id <= 2**63 - 1
        and repo.find_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id) is not None
    )


def _stripe_refund(
    session: Session,
    event_id: str,
    kind: str,
    obj: dict[str, Any],
    created: int | None,
    settings: Settings,
    *,
    tenant_id: int,
) -> dict[str, Any]:
    """A Stripe refund (a Charge of ``charge.refunded``, a Refund of ``refund.created``) of
    an order of ``tenant_id``'s campaigns."""
    refund = _stripe.refund(obj)
    intent = refund.intent
    if not intent:
        return {"received": True, "ignored": "no payment_intent on the refund"}
    purchases = [
        p
        for p in repo.purchases_of_order(session, order_id=str(intent))
        if _of_tenant(session, p.campaign_id, tenant_id)
    ]
    if not purchases:
        return {"received": True, "ignored": f"no purchase with order_id {intent!r}"}
    purchase = purchases[0]
    key = f"stripe:{event_id}"
    if kind == "charge.refunded":
        full = refund.refunded is True
    else:
        amount, paid = refund.amount, purchase.value
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
        time=None if created is None else float(created),
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
    ``X-Grapevine-Signature`` (:func:`grapevine.referrals.sign_webhook`) under a secret of
    the campaign's tenant (during a rotation, the old one too); replays refused."""
    secrets = campaign_secrets(session, settings, campaign_id=campaign_id)
    rf.verify_webhook(
        raw, request.headers.get(rf.SIGNATURE_HEADER, ""), secrets, replay_cache=cache
    )
    try:
        body = EventBody.model_validate_json(raw)
    except ValidationError as exc:
        # Without the input (the raw bytes) and the context (an exception object): neither
        # is JSON, and the client is owed a 422 that names the field, not a 500.
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        for e in errors:
            e["loc"] = ("body", *e["loc"])
        raise RequestValidationError(errors) from None
    campaign = load_campaign(session, campaign_id)
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    if replayed:
        response.headers[REPLAY_HEADER] = "true"
    return result
