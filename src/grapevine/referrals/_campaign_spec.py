"""What a campaign is made of, checked the same way whoever sends it (API, CLI, dashboard).

A campaign document is a flat mapping (the body of ``POST /api/campaigns``)::

    name, goal, offer, destinations, window_days, attribution, budget, currency,
    review_threshold, ip_window_seconds, velocity_limit, velocity_window_seconds,
    event_time_range, page

``page`` is the share page and link settings (language, branding, UTM tags, link preview,
landing page), checked by :meth:`grapevine.referrals.PageSettings.from_dict`.

:func:`check_campaign` checks a whole document and returns it normalised; an edit is the
stored document with the changes applied, checked again in full, so an edit accepts and
refuses exactly what a creation does. Every refusal is a :class:`~grapevine.errors.BadInput`
naming the field (dotted inside the offer: ``offer.referrer.amount``) and what it must be.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grapevine._validation import MONEY, TIME, check_choice, check_number, text_problem
from grapevine.errors import BadInput, GrapevineError, InvalidParameter
from grapevine.referrals._fraud import RISK_LEVELS
from grapevine.referrals._page import PageSettings
from grapevine.referrals._redirects import resolve_destination
from grapevine.referrals._rewards import Offer

__all__ = [
    "CAMPAIGN_FIELDS",
    "RISK_FIELDS",
    "RULE_FIELDS",
    "RiskRules",
    "check_campaign",
    "split_document",
]

RISK_FIELDS = ("review_threshold", "ip_window_seconds", "velocity_limit", "velocity_window_seconds")
"""The per-campaign fraud thresholds (:class:`grapevine.referrals.RiskRules`)."""

RULE_FIELDS = (
    "destinations",
    "window_days",
    "attribution",
    *RISK_FIELDS,
    "event_time_range",
    "page",
    "conversion_event",
)
"""The fields kept in ``Campaign.rules``."""

CAMPAIGN_FIELDS = ("name", "goal", "offer", "budget", "currency", *RULE_FIELDS)
"""Every field of a campaign document."""


@dataclass(frozen=True)
class RiskRules:
    """The campaign's fraud settings (``Campaign.rules``; defaults in brackets).

    ``review_threshold`` [medium]: the lowest risk level held for review, one of low,
    medium, high; ``ip_window_seconds`` [86400], in [0, inf): how close in time two
    sightings on one network must be; ``velocity_limit`` [10], an int in [2, inf), and
    ``velocity_window_seconds`` [3600], in (0, inf): that many conversions credited to one
    referrer within the window make a burst. A value outside is an
    :class:`~grapevine.errors.InvalidParameter` naming it.
    """

    review_threshold: str = "medium"
    ip_window_seconds: float = 86400.0
    velocity_limit: int = 10
    velocity_window_seconds: float = 3600.0

    def __post_init__(self) -> None:
        owner = "campaign rules"
        check_choice(self.review_threshold, "review_threshold", owner, RISK_LEVELS[1:])
        check_number(self.ip_window_seconds, "ip_window_seconds", owner, low=0)
        check_number(self.velocity_limit, "velocity_limit", owner, kind=numbers.Integral, low=2)
        check_number(
            self.velocity_window_seconds, "velocity_window_seconds", owner, low=0, low_closed=False
        )


_MAX_WINDOW_DAYS = 400.0
_MAX_DESTINATIONS = 100
_MAX_DEPTH = 32


def _text(value: object, field: str, *, low: int = 0, high: int, optional: bool) -> str | None:
    if value is None:
        if optional:
            return None
        raise BadInput("is required", field=field)
    if not isinstance(value, str):
        raise BadInput(f"must be a string. Got {value!r} instead.", field=field)
    problem = text_problem(value)
    if problem is not None:
        raise BadInput(problem, field=field)
    if not low <= len(value) <= high:
        raise BadInput(
            f"must have {low} to {high} characters. Got {len(value)} instead.", field=field
        )
    return value


def _json(value: object, field: str, depth: int = 0) -> None:
    """Storable JSON: texts without NUL or unpaired surrogates, finite numbers, shallow."""
    if depth > _MAX_DEPTH:
        raise BadInput(f"nests deeper than {_MAX_DEPTH} levels", field=field)
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise BadInput(problem, field=field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadInput(f"must be a finite number. Got {value!r} instead.", field=field)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _json(item, f"{field}.{i}", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or text_problem(key) is not None:
                raise BadInput(f"has a key that is not storable text: {key!r}", field=field)
            _json(item, f"{field}.{key}", depth + 1)
    elif value is not None and not isinstance(value, bool | numbers.Real):
        raise BadInput(f"is not JSON: {value!r}", field=field)


def _offer(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadInput(
            f"must be an object (Offer.from_dict). Got {value!r} instead.", field="offer"
        )
    _json(value, "offer")
    try:
        Offer.from_dict(value)
    except BadInput as exc:
        field = f"offer.{exc.field}" if exc.field not in (None, "offer") else "offer"
        raise BadInput(exc.message, field=field) from None
    except InvalidParameter as exc:
        raise BadInput(str(exc), field=f"offer.{exc.name}") from None
    except GrapevineError as exc:
        raise BadInput(str(exc), field="offer") from None
    return dict(value)


def _destinations(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadInput(
            "must be a list of 1 to 100 absolute http(s) URLs (the first is the default)",
            field="destinations",
        )
    if len(value) > _MAX_DESTINATIONS:
        raise BadInput(f"has {len(value)} URLs; at most {_MAX_DESTINATIONS}", field="destinations")
    urls = [
        str(_text(url, f"destinations.{i}", high=2048, optional=False))
        for i, url in enumerate(value)
    ]
    try:
        resolve_destination(urls)
    except BadInput as exc:
        raise BadInput(exc.message, field="destinations") from None
    except GrapevineError as exc:
        raise BadInput(str(exc), field="destinations") from None
    return urls


def _number(value: object, field: str, *, low: float, high: float, low_closed: bool) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    ok = ok and math.isfinite(v) and (v >= low if low_closed else v > low) and v <= high
    if not ok:
        lo = "[" if low_closed else "("
        raise BadInput(
            f"must be a float in the range {lo}{low:g}, {high:g}]. Got {value!r} instead.",
            field=field,
        )
    return v


def _risk(values: Mapping[str, Any]) -> dict[str, Any]:
    given = {k: values[k] for k in RISK_FIELDS if values.get(k) is not None}
    try:
        RiskRules(**given)
    except InvalidParameter as exc:
        raise BadInput(str(exc), field=exc.name) from None
    return given


def _time_range(value: object) -> list[float] | None:
    if value is None:
        return None
    pair = list(value) if isinstance(value, list | tuple) else []
    ok = len(pair) == 2 and all(TIME.contains(v) or v == TIME.high for v in pair)
    if not (ok and pair[0] < pair[1]):
        raise BadInput(
            f"must be [earliest, latest) Unix seconds inside {TIME.expected}; got {value!r}",
            field="event_time_range",
        )
    return [float(pair[0]), float(pair[1])]


def _page(value: object, destinations: Any) -> dict[str, Any] | None:
    """The share page settings (:class:`~grapevine.referrals.PageSettings`), normalised."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        _json(dict(value), "page")
    return PageSettings.from_dict(value, destinations=destinations).to_dict()  # type: ignore[arg-type]


def check_campaign(document: Mapping[str, Any], *, default_window_days: float) -> dict[str, Any]:
    """The campaign document checked and normalised (currency upper-case, defaults filled).

    ``default_window_days`` stands in for a missing ``window_days``.

    >>> doc = check_campaign({"name": "spring", "destinations": ["https://shop.example/"]},
    ...                      default_window_days=30)
    >>> doc["window_days"], doc["attribution"], doc["review_threshold"]
    (30.0, 'last', None)
    >>> check_campaign({"name": "x", "destinations": ["https://a.example/"],
    ...                 "velocity_limit": 1}, default_window_days=30)
    Traceback (most recent call last):
    ...
    grapevine.errors.BadInput: field 'velocity_limit': The 'velocity_limit' parameter of campaign rules must be an int in the range [2, inf). Got 1 instead.

    Raises
    ------
    BadInput
        An unknown field, a missing one, or a value outside its domain: naming the field.
    """  # noqa: E501
    if not isinstance(document, Mapping):
        raise BadInput("a campaign is one object (a table)")
    for key in document:
        if key not in CAMPAIGN_FIELDS:
            raise BadInput(
                f"unknown field; a campaign has {', '.join(CAMPAIGN_FIELDS)}", field=str(key)
            )
    name = _text(document.get("name"), "name", low=1, high=255, optional=False)
    window = document.get("window_days")
    currency = _text(document.get("currency"), "currency", low=3, high=3, optional=True)
    attribution = document.get("attribution") or "last"
    if attribution not in ("last", "first"):
        raise BadInput(
            f"must be 'last' or 'first'. Got {attribution!r} instead.", field="attribution"
        )
    conversion = document.get("conversion_event") or "signup"
    if conversion not in ("signup", "purchase"):  # what K counts (grapevine.referrals._stats)
        raise BadInput(
            f"must be 'signup' or 'purchase'. Got {conversion!r} instead.",
            field="conversion_event",
        )
    budget = document.get("budget")
    if budget is not None and not MONEY.contains(budget):
        raise BadInput(str(MONEY.problem(budget)), field="budget")
    risk = _risk(document)
    return {
        "name": name,
        "goal": _text(document.get("goal"), "goal", high=1000, optional=True),
        "offer": _offer(document.get("offer")),
        "budget": None if budget is None else float(budget),
        "currency": None if currency is None else currency.upper(),
        "destinations": _destinations(document.get("destinations")),
        "window_days": _number(
            default_window_days if window is None else window,
            "window_days",
            low=0.0,
            high=_MAX_WINDOW_DAYS,
            low_closed=False,
        ),
        "attribution": attribution,
        **{k: risk.get(k) for k in RISK_FIELDS},
        "event_time_range": _time_range(document.get("event_time_range")),
        # After destinations (checked above): a logo must come from one of their origins.
        "page": _page(document.get("page"), document.get("destinations")),
        "conversion_event": conversion,
    }


def split_document(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checked document as ``(columns, rules)``: the campaign's own columns and what goes
    in ``Campaign.rules`` (fields left unset are not stored).

    >>> split_document({"name": "n", "window_days": 30.0, "velocity_limit": None})
    ({'name': 'n'}, {'window_days': 30.0})
    """
    columns = {k: v for k, v in document.items() if k not in RULE_FIELDS}
    rules = {k: v for k, v in document.items() if k in RULE_FIELDS and v is not None}
    return columns, rules
