"""The parts of a Stripe event that Grapevine reads, checked before anything is done.

A validly signed event is still parsed as untrusted input: every field read has a type and
a domain (``amount_total`` an integer number of cents in ``CENTS``, texts without NUL or
unpaired surrogates, objects where objects are expected). An event that does not fit is a
422 naming the field (``data.object.amount_total``), never a 5xx that Stripe would retry for
days. Fields Grapevine does not read are ignored, whatever their shape.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grapevine._validation import CENTS, TIME
from grapevine.service._domains import Text, in_domain

__all__ = ["CheckoutSession", "Refund", "StripeEvent", "checkout_session", "parse_event", "refund"]


Cents = Annotated[int, Field(strict=True), in_domain(CENTS)]
UnixTime = Annotated[int, Field(strict=True), in_domain(TIME)]
_STRICT = ConfigDict(extra="ignore", strict=True)


class _Data(BaseModel):
    model_config = _STRICT

    object: dict[str, Any]


class StripeEvent(BaseModel):
    """An event's envelope: ``id``, ``type``, ``created`` and ``data.object``."""

    model_config = _STRICT

    id: Text = Field(min_length=1, max_length=190)  # stripe:{id} is the idempotency key
    type: Text = Field(max_length=255)
    created: UnixTime | None = None
    data: _Data


class _Details(BaseModel):
    model_config = _STRICT

    email: Text | None = Field(default=None, max_length=320)


class _Expanded(BaseModel):
    model_config = _STRICT

    id: Text = Field(max_length=255)


class _Discount(BaseModel):
    model_config = _STRICT

    promotion_code: Annotated[Text, Field(max_length=255)] | _Expanded | None = None


class CheckoutSession(BaseModel):
    """The fields of a ``checkout.session.completed`` object that make a purchase."""

    model_config = _STRICT

    id: Text | None = Field(default=None, max_length=255)
    client_reference_id: Text | None = Field(default=None, max_length=200)
    metadata: dict[str, Text] | None = None
    customer_details: _Details | None = None
    customer_email: Text | None = Field(default=None, max_length=320)
    amount_total: Cents | None = None
    currency: Text | None = Field(default=None, max_length=3)
    payment_intent: Annotated[Text, Field(max_length=255)] | _Expanded | None = None
    discounts: list[_Discount] | None = Field(default=None, max_length=20)

    @property
    def intent(self) -> str | None:
        """The payment intent's id (expanded or not): the purchase's ``order_id``."""
        pi = self.payment_intent
        return pi.id if isinstance(pi, _Expanded) else pi

    @property
    def promotion_codes(self) -> list[str]:
        """The ids of the promotion codes applied at checkout (``promo_...``)."""
        codes = (d.promotion_code for d in self.discounts or ())
        return [c.id if isinstance(c, _Expanded) else c for c in codes if c]


class Refund(BaseModel):
    """The fields of a Charge (``charge.refunded``) or Refund (``refund.created``) read."""

    model_config = _STRICT

    payment_intent: Annotated[Text, Field(max_length=255)] | _Expanded | None = None
    refunded: bool | None = None
    amount: Cents | None = None

    @property
    def intent(self) -> str | None:
        """The refunded payment intent's id (the purchase's ``order_id``)."""
        pi = self.payment_intent
        return pi.id if isinstance(pi, _Expanded) else pi


def _refuse(exc: ValidationError, prefix: tuple[str, ...]) -> RequestValidationError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    for e in errors:
        e["loc"] = ("body", *prefix, *e["loc"])
    return RequestValidationError(errors)


def parse_event(raw: bytes) -> StripeEvent:
    """The envelope of a Stripe event (JSON bytes); 422 naming the field otherwise."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "not a Stripe event (not JSON)", "type": "json_invalid"}]
        ) from None
    try:
        return StripeEvent.model_validate(data)
    except ValidationError as exc:
        raise _refuse(exc, ()) from None


def checkout_session(obj: dict[str, Any]) -> CheckoutSession:
    """``data.object`` of a ``checkout.session.completed`` event; 422 naming the field."""
    try:
        return CheckoutSession.model_validate(obj)
    except ValidationError as exc:
        raise _refuse(exc, ("data", "object")) from None


def refund(obj: dict[str, Any]) -> Refund:
    """``data.object`` of a refund event; 422 naming the field."""
    try:
        return Refund.model_validate(obj)
    except ValidationError as exc:
        raise _refuse(exc, ("data", "object")) from None
