"""Parameter checks that word their errors one way everywhere."""

from __future__ import annotations

import math
import numbers

from grapevine.errors import InvalidParameter

__all__ = ["check_choice", "check_number"]


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
