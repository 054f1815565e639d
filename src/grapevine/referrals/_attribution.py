"""Attribution: which referral code gets the credit for a conversion."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from grapevine._validation import check_choice, check_number
from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals._codes import normalize_code

__all__ = ["DEFAULT_WINDOW_SECONDS", "Attribution", "Click", "attribute"]

DEFAULT_WINDOW_SECONDS = 30 * 86400.0
"""The default look-back window: 30 days, the common referral-cookie lifetime."""

_RULES = ("last", "first")


@dataclass(frozen=True)
class Click:
    """A visitor's click on a referral link: the code and the time (Unix seconds)."""

    code: str
    time: float


@dataclass(frozen=True)
class Attribution:
    """The outcome of :func:`attribute`.

    Attributes
    ----------
    code : str or None
        The credited code (normalised), None when nobody is credited.
    source : {"click", "coupon"} or None
        What gave the credit.
    time : float or None
        The time of the credited click (None for a coupon or no credit).
    reason : str
        Why, in words.
    """

    code: str | None
    source: str | None
    time: float | None
    reason: str


def _time(value: object, what: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise BadInput(f"{what} must be Unix seconds, not {value!r}", field="time")
    t = float(value)
    if not math.isfinite(t):
        raise BadInput(f"{what} must be a finite time, not {value!r}", field="time")
    return t


def attribute(
    clicks: Iterable[Click | tuple[str, float]],
    conversion_time: float,
    *,
    rule: str = "last",
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    coupon_code: str | None = None,
    valid_codes: Collection[str] | None = None,
    existing_customer: bool = False,
) -> Attribution:
    """Credit one conversion to a referral code: last or first click in a window, or a coupon.

    Parameters
    ----------
    clicks : iterable of Click or (code, time)
        The visitor's clicks on referral links, in any order.
    conversion_time : float
        When the visitor converted (signed up or bought), Unix seconds.
    rule : {"last", "first"}
        Credit the latest or the earliest eligible click. Ties in time go to the click that
        comes later (``"last"``) or earlier (``"first"``) in ``clicks``.
    window_seconds : float
        A click is eligible when ``conversion_time - window_seconds <= time <=
        conversion_time`` (default 30 days).
    coupon_code : str, optional
        A code typed at checkout. A valid coupon wins over clicks: it is the visitor's own
        statement of who referred them.
    valid_codes : collection of str, optional
        The codes that exist (normalised); when given, clicks and coupons with other codes are
        ignored.
    existing_customer : bool
        When true nobody is credited: referral programmes reward new customers only.

    Returns
    -------
    Attribution

    Raises
    ------
    BadInput
        When a time is not a finite number.
    InvalidParameter
        When ``rule`` or ``window_seconds`` is out of range.

    Notes
    -----
    O(n) over the clicks. Malformed codes in clicks are skipped, not fatal: they come from
    URLs anyone can type.

    Examples
    --------
    >>> clicks = [("AAAA2222", 100.0), ("BBBB3333", 500.0), ("CCCC4444", 2000.0)]
    >>> attribute(clicks, 1000.0).code
    'BBBB3333'
    >>> attribute(clicks, 1000.0, rule="first").code
    'AAAA2222'
    >>> attribute(clicks, 1000.0, window_seconds=300).reason
    'no click in the 300 s before the conversion'
    >>> attribute(clicks, 1000.0, coupon_code="dddd-5555").source
    'coupon'
    """
    owner = "attribute"
    check_choice(rule, "rule", owner, _RULES)
    check_number(window_seconds, "window_seconds", owner, low=0)
    conv = _time(conversion_time, "conversion_time")
    allowed = None if valid_codes is None else {normalize_code(c) for c in valid_codes}
    if existing_customer:
        return Attribution(None, None, None, "existing customer: not eligible")
    if coupon_code is not None:
        try:
            coupon = normalize_code(coupon_code)
        except BadInput:
            coupon = None
        if coupon is not None and (allowed is None or coupon in allowed):
            return Attribution(coupon, "coupon", None, "coupon code used at conversion")
    lo = conv - float(window_seconds)
    best: tuple[str, float] | None = None
    for click in clicks:
        if isinstance(click, Click):
            raw, t_raw = click.code, click.time
        else:
            try:
                raw, t_raw = click
            except (TypeError, ValueError):
                raise InvalidParameter(
                    "clicks", owner, "an iterable of Click or (code, time)", click
                ) from None
        t = _time(t_raw, "a click time")
        if not lo <= t <= conv:
            continue
        try:
            code = normalize_code(raw)
        except BadInput:
            continue
        if allowed is not None and code not in allowed:
            continue
        if best is None or (t >= best[1] if rule == "last" else t < best[1]):
            best = (code, t)
    if best is None:
        return Attribution(
            None, None, None, f"no click in the {float(window_seconds):g} s before the conversion"
        )
    return Attribution(best[0], "click", best[1], f"{rule} click in the window")
