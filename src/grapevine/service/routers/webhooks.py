"""``/webhooks``: signed events from the merchant (Grapevine's HMAC) and from Stripe.

The raw body is verified byte for byte before it is parsed; a bad signature is a 400 that
names the reason (:class:`grapevine.errors.InvalidSignature`, handled in ``app.py``).

No API key: the signature is the authentication. Each tenant has its own secrets
(``service/_webhook_secrets.py``): a secret verifies events of its own tenant's campaigns
only, and a Stripe event credits only campaigns, codes and orders of the tenant whose secret
verified it. The per-IP rate limit applies.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.service import _stripe
from grapevine.service._auth import LIMIT_RESPONSES
from grapevine.service._domains import Text
from grapevine.service._webhook_secrets import campaign_secrets, verify_stripe_tenant
from grapevine.service.deps import (
    REPLAY_HEADER,
    RawBodyDep,
    ReplayCacheDep,
    SessionDep,
    SettingsDep,
    ip_salt_of,
)
from grapevine.service.schemas import EventBody, EventPublic

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=LIMIT_RESPONSES)


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
    kind, obj, created = event.type, event.data.object, event.created
    salt = ip_salt_of(settings)
    if kind in rf.REFUND_EVENTS:
        refund = _stripe.refund(obj)
        outcome = rf.record_stripe_refund(
            session,
            tenant_id=tenant_id,
            event_id=event.id,
            kind=kind,
            intent=refund.intent,
            refunded=refund.refunded,
            amount_cents=refund.amount,
            created=None if created is None else float(created),
            salt=salt,
        )
    elif kind == "checkout.session.completed":
        checkout = _stripe.checkout_session(obj)
        details = checkout.customer_details
        outcome = rf.record_stripe_checkout(
            session,
            tenant_id=tenant_id,
            event_id=event.id,
            client_reference_id=checkout.client_reference_id,
            metadata=checkout.metadata,
            email=(details.email if details else None) or checkout.customer_email,
            order_id=checkout.intent or checkout.id,
            amount_cents=checkout.amount_total,
            currency=checkout.currency,
            created=None if created is None else float(created),
            salt=salt,
            promotion_codes=checkout.promotion_codes,
        )
    else:
        return {"received": True, "ignored": f"event type {kind}"}
    if outcome.event is None:
        return {"received": True, "ignored": outcome.ignored}
    return {
        "received": True,
        "replayed": outcome.replayed,
        "event": EventPublic.of(outcome.event).model_dump(),
    }


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
    result = rf.record_event(
        session, campaign_id=campaign_id, event=body.to_input(), salt=ip_salt_of(settings)
    )
    if result.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return EventPublic.of(result)
