"""The campaign form: its fields as text, and the campaign document they make.

The form only turns text into the document's types (a number that does not parse is
passed on as the text, so the workflow's check names the field and what it must be); every
rule is the workflow's (:func:`grapevine.referrals.check_campaign`). Parts of the offer the
form does not show (tiers, caps, the budget inside the offer) are kept as they were.
"""

from __future__ import annotations

from typing import Any

from grapevine import referrals as rf

__all__ = ["EMPTY_FORM", "FIELD_OF", "form_document", "form_of"]

_DAY = 86_400.0

EMPTY_FORM: dict[str, str] = {
    "name": "",
    "goal": "",
    "destinations": "",
    "window_days": "30",
    "attribution": "last",
    "budget": "",
    "currency": "EUR",
    "referrer_kind": "fixed",
    "referrer_amount": "10",
    "friend_kind": "percent",
    "friend_amount": "10",
    "friend_max": "",
    "hold_days": "14",
    "review_threshold": "medium",
    "velocity_limit": "10",
}
"""A new campaign's form, with sensible defaults."""

FIELD_OF: dict[str, str] = {
    "offer.referrer.kind": "referrer_kind",
    "offer.referrer.amount": "referrer_amount",
    "offer.referrer": "referrer_amount",
    "offer.friend.kind": "friend_kind",
    "offer.friend.amount": "friend_amount",
    "offer.friend.max_amount": "friend_max",
    "offer.friend": "friend_amount",
    "offer.hold_seconds": "hold_days",
}
"""Which form field a document field's refusal points at (the others are the same name)."""


def _number(text: str | None) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text  # the workflow says what it must be
    return int(value) if value.is_integer() and "." not in text else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_document(form: dict[str, str], *, base: rf.CampaignView | None) -> dict[str, Any]:
    """The campaign document of a submitted form (``base``: the campaign being edited)."""
    offer: dict[str, Any] = dict(base.offer or {}) if base is not None else {}
    for side in ("referrer", "friend"):
        amount = _number(form.get(f"{side}_amount"))
        incentive = dict(offer.get(side) or {})
        incentive["kind"] = form.get(f"{side}_kind", "fixed")
        incentive["amount"] = amount
        if side == "friend":
            cap = _number(form.get("friend_max"))
            if cap is None:
                incentive.pop("max_amount", None)
            else:
                incentive["max_amount"] = cap
        offer[side] = incentive
    hold = _number(form.get("hold_days"))
    if isinstance(hold, int | float):
        offer["hold_seconds"] = hold * _DAY
    elif hold is not None:
        offer["hold_seconds"] = hold
    lines = (form.get("destinations") or "").splitlines()
    return {
        "name": (form.get("name") or "").strip(),
        "goal": (form.get("goal") or "").strip() or None,
        "offer": offer,
        "destinations": [line.strip() for line in lines if line.strip()],
        "window_days": _number(form.get("window_days")),
        "attribution": form.get("attribution") or "last",
        "budget": _number(form.get("budget")),
        "currency": (form.get("currency") or "").strip().upper() or None,
        "review_threshold": form.get("review_threshold") or None,
        "velocity_limit": _number(form.get("velocity_limit")),
    }


def form_of(campaign: rf.CampaignView) -> dict[str, str]:
    """The form of a stored campaign."""
    offer = campaign.offer or {}
    referrer, friend = offer.get("referrer") or {}, offer.get("friend") or {}
    hold = offer.get("hold_seconds")
    return {
        "name": campaign.name,
        "goal": campaign.goal or "",
        "destinations": "\n".join(campaign.destinations),
        "window_days": _text(campaign.window_days),
        "attribution": campaign.attribution,
        "budget": _text(campaign.budget),
        "currency": campaign.currency or "",
        "referrer_kind": str(referrer.get("kind", "fixed")),
        "referrer_amount": _text(referrer.get("amount")),
        "friend_kind": str(friend.get("kind", "percent")),
        "friend_amount": _text(friend.get("amount")),
        "friend_max": _text(friend.get("max_amount")),
        "hold_days": _text(None if hold is None else float(hold) / _DAY),
        "review_threshold": campaign.risk.review_threshold,
        "velocity_limit": _text(campaign.risk.velocity_limit),
    }
