"""Parameter checks that word their errors one way everywhere, and the domains of the
values that enter the system (the HTTP API's schemas and the file importers use the same
:class:`Domain` objects and :func:`text_problem`).

=================  ========================================================================
domain             what it admits
=================  ========================================================================
``TIME``           Unix seconds of 1900-01-01 to 2100-01-01 (UTC), finite: every stored time
``EVENT_TIME``     Unix seconds of 2000-01-01 to 2100-01-01: a referral event's default
                   (a campaign's ``rules.event_time_range`` may set another range in ``TIME``)
``MONEY``          0 to 10^12 units of a currency, finite: every order value, budget, reward
``CENTS``          0 to 10^14 cents (an integer): the amounts of a payment provider's events
``COUNT``          whole numbers 0 to 2^53: followers, likes, views (exact in a double)
``WEIGHT``         any finite number: a tie's weight (signed networks have negative ones)
text               any Unicode text without NUL and without unpaired surrogates
=================  ========================================================================

A NUL cannot be stored in PostgreSQL text or JSON; an unpaired surrogate cannot be encoded as
UTF-8 at all. Both are refused wherever text comes in, with the field named.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from grapevine.errors import InvalidParameter

__all__ = [
    "CENTS",
    "COUNT",
    "EVENT_TIME",
    "MONEY",
    "TIME",
    "WEIGHT",
    "Domain",
    "check_choice",
    "check_number",
    "text_problem",
]


def check_number(
    value: object,
    name: str,
    owner: str,
    *,
    kind: type = numbers.Real,
    low: float = -math.inf,
    high: float = math.inf,
    low_closed: bool = True,
    high_closed: bool = True,
) -> None:
    """Raise :class:`InvalidParameter` unless ``value`` is a number in the interval.

    >>> check_number(0, "k", "IMM", kind=numbers.Integral, low=1)
    Traceback (most recent call last):
    ...
    grapevine.errors.InvalidParameter: The 'k' parameter of IMM must be an int in the range
    [1, inf). Got 0 instead.
    """
    kind_name = "an int" if kind is numbers.Integral else "a float"
    lo = "[" if low_closed else "("
    hi = "]" if high_closed and math.isfinite(high) else ")"
    expected = f"{kind_name} in the range {lo}{_fmt(low)}, {_fmt(high)}{hi}"
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = not math.isnan(v)
        ok = ok and (v >= low if low_closed else v > low)
        ok = ok and (v <= high if high_closed else v < high)
    if not ok:
        raise InvalidParameter(name, owner, expected, value)


def check_choice(value: object, name: str, owner: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidParameter` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidParameter(name, owner, "one of " + ", ".join(map(repr, choices)), value)


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Domain:
    """A set of admissible numbers: finite, of ``kind``, in ``[low, high]`` (or ``[low,
    high)`` when ``high_closed`` is false).

    >>> MONEY.problem(1e308)
    'must be a float in the range [0, 1000000000000]. Got 1e+308 instead.'
    >>> EVENT_TIME.contains(1796663000.0), EVENT_TIME.contains(1796663000000000.0)
    (True, False)
    """

    low: float
    high: float
    kind: type = numbers.Real
    high_closed: bool = True
    note: str = ""

    @property
    def expected(self) -> str:
        """The domain in words: ``a float in the range [0, 1000000000000]``."""
        kind_name = "an int" if self.kind is numbers.Integral else "a float"
        lo = "[" if math.isfinite(self.low) else "("
        hi = "]" if self.high_closed and math.isfinite(self.high) else ")"
        note = f" ({self.note})" if self.note else ""
        return f"{kind_name} in the range {lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}{note}"

    def contains(self, value: object) -> bool:
        """Whether ``value`` is a number (not a bool) inside the domain."""
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return False
        try:
            v = float(value)
        except OverflowError:  # an int past the doubles
            return False
        if not math.isfinite(v) or v < self.low:
            return False
        if not (v <= self.high if self.high_closed else v < self.high):
            return False
        return self.kind is not numbers.Integral or v.is_integer()

    def problem(self, value: object) -> str | None:
        """None when ``value`` is inside, else ``"must be <expected>. Got <value> instead."``"""
        if self.contains(value):
            return None
        return f"must be {self.expected}. Got {value!r} instead."

    def check(self, value: object, name: str, owner: str) -> None:
        """Raise :class:`InvalidParameter` unless ``value`` is inside."""
        if not self.contains(value):
            raise InvalidParameter(name, owner, self.expected, value)

    def within(self, low: float, high: float, note: str = "") -> Domain:
        """The part of this domain from ``low`` to ``high`` (a campaign's own time range)."""
        return Domain(max(low, self.low), min(high, self.high), self.kind, self.high_closed, note)


TIME = Domain(-2208988800.0, 4102444800.0, high_closed=False, note="years 1900-2099, UTC")
"""Every time stored: Unix seconds from 1900-01-01 to 2100-01-01 (UTC)."""

EVENT_TIME = Domain(946684800.0, 4102444800.0, high_closed=False, note="years 2000-2099, UTC")
"""The default time range of a referral event: 2000-01-01 to 2100-01-01 (UTC)."""

MONEY = Domain(0.0, 1e12)
"""An order value, budget or reward: 0 to 10^12 units of the currency. Every amount, and the
sum of up to 90 such amounts, stays exact to the cent in a double."""

CENTS = Domain(0, 10**14, kind=numbers.Integral)
"""An amount in cents (a payment provider's ``amount_total``): ``MONEY`` times 100."""

COUNT = Domain(0, 2**53, kind=numbers.Integral)
"""A counter (followers, likes, views): a whole number that a double holds exactly."""

WEIGHT = Domain(-math.inf, math.inf)
"""A tie's weight: any finite number."""


def text_problem(text: str) -> str | None:
    """None for text that every store keeps, else what is wrong with it.

    >>> text_problem("ok"), text_problem("a\\x00b"), text_problem("\\ud800")
    (None, 'contains a NUL character', 'contains an unpaired surrogate (character 1)')
    """
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains an unpaired surrogate (character {exc.start + 1})"
    return None
