"""The domains of ``grapevine._validation`` as pydantic ``Annotated`` types for the API's bodies.

``Text``: any string without NUL or unpaired surrogates; ``EventTime``: a finite time in
``TIME`` (a campaign narrows it to its own range, by default ``EVENT_TIME``); ``Money``: a
finite amount in ``MONEY``; ``Json``: a JSON value whose strings are ``Text``, whose numbers are
finite and that nests at most 32 levels. A value outside is a 422 naming the field, worded as
``The 'time' field must be a float in the range [...). Got ... instead.`` The OpenAPI schema
carries the bounds (``minimum``, ``maximum``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from grapevine._validation import MONEY, TIME, Domain, text_problem

__all__ = [
    "EventTime",
    "Json",
    "JsonObject",
    "Money",
    "Text",
    "check_json",
    "check_text",
    "in_domain",
]

MAX_DEPTH = 32
"""How deeply a JSON value of a request (a campaign's offer) may nest."""


def check_text(value: str) -> str:
    """``value`` when it holds no NUL and no unpaired surrogate; a validation error otherwise."""
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError("text", "The text " + problem + ".")
    return value


def in_domain(domain: Domain) -> AfterValidator:
    """A pydantic validator passing a number (int or float) in ``domain`` through unchanged;
    outside, a validation error worded ``The value must be ... Got ... instead.``"""

    def check(value: float) -> float:
        problem = domain.problem(value)
        if problem is not None:
            raise PydanticCustomError("domain", "The value " + problem)
        return value

    return AfterValidator(check)


def check_json(value: Any, depth: int = 0) -> Any:
    """``value`` when every string in it is storable text, every number finite and it nests
    at most :data:`MAX_DEPTH` levels; a validation error otherwise."""
    if depth > MAX_DEPTH:
        raise PydanticCustomError("json", f"The value nests deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("json", f"The value must be a finite number. Got {value!r}.")
    elif isinstance(value, list):
        for item in value:
            check_json(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(str(key))
            check_json(item, depth + 1)
    return value


Text = Annotated[str, AfterValidator(check_text)]
"""A string without NUL and without unpaired surrogates."""

EventTime = Annotated[
    float,
    Field(
        description="Unix seconds (UTC) of years 1900-2099.",
        json_schema_extra={"minimum": TIME.low, "exclusiveMaximum": TIME.high},
    ),
    in_domain(TIME),
]
"""A time in ``TIME``: finite Unix seconds of the years 1900-2099."""

Money = Annotated[
    float,
    Field(
        description="0 to 10^12 units of the currency.",
        json_schema_extra={"minimum": MONEY.low, "maximum": MONEY.high},
    ),
    in_domain(MONEY),
]
"""An amount in ``MONEY``: finite, 0 to 10^12 units of the currency."""

Json = Annotated[Any, AfterValidator(check_json)]
"""Any JSON value with storable text, finite numbers and at most 32 levels."""

JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
"""A JSON object with storable text, finite numbers and at most 32 levels."""
