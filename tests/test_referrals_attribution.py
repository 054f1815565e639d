"""Attribution of a conversion to a referral code."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals import DEFAULT_WINDOW_SECONDS, Click, attribute

CLICKS = [Click("AAAA2222", 100.0), Click("BBBB3333", 500.0), Click("CCCC4444", 2000.0)]


@pytest.mark.parametrize(
    ("kwargs", "code", "source"),
    [
        ({}, "BBBB3333", "click"),
        ({"rule": "first"}, "AAAA2222", "click"),
        ({"window_seconds": 600}, "BBBB3333", "click"),
        ({"window_seconds": 600, "rule": "first"}, "BBBB3333", "click"),
        ({"window_seconds": 900, "rule": "first"}, "AAAA2222", "click"),  # boundary closed
        ({"window_seconds": 100}, None, None),
        ({"coupon_code": "dddd-5555"}, "DDDD5555", "coupon"),
        ({"coupon_code": "not a code!"}, "BBBB3333", "click"),
        ({"coupon_code": "DDDD5555", "valid_codes": ["AAAA2222", "BBBB3333"]}, "BBBB3333", "click"),
        ({"valid_codes": ["AAAA2222"]}, "AAAA2222", "click"),
        ({"existing_customer": True}, None, None),
        ({"existing_customer": True, "coupon_code": "DDDD5555"}, None, None),
    ],
)
def test_rules(kwargs: dict[str, object], code: str | None, source: str | None) -> None:
    got = attribute(CLICKS, 1000.0, **kwargs)  # type: ignore[arg-type]
    assert (got.code, got.source) == (code, source)
    assert got.reason


def test_click_at_conversion_time_counts_and_later_ones_do_not() -> None:
    assert attribute([("AAAA2222", 10.0), ("BBBB3333", 11.0)], 10.0).code == "AAAA2222"


def test_ties_in_time() -> None:
    clicks = [("AAAA2222", 5.0), ("BBBB3333", 5.0)]
    assert attribute(clicks, 10.0, rule="last").code == "BBBB3333"
    assert attribute(clicks, 10.0, rule="first").code == "AAAA2222"


def test_tuples_and_malformed_codes() -> None:
    got = attribute([("bad code 0", 9.0), ("aaaa-2222", 8.0)], 10.0)
    assert got.code == "AAAA2222"
    assert got.time == 8.0


def test_existing_customer_reason() -> None:
    assert "existing customer" in attribute(CLICKS, 1000.0, existing_customer=True).reason


def test_default_window_is_30_days() -> None:
    assert DEFAULT_WINDOW_SECONDS == 30 * 86400
    assert attribute([("AAAA2222", 0.0)], 30 * 86400.0).code == "AAAA2222"
    assert attribute([("AAAA2222", 0.0)], 30 * 86400.0 + 1).code is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"rule": "linear"}, InvalidParameter),
        ({"window_seconds": -1}, InvalidParameter),
        ({"window_seconds": math.nan}, InvalidParameter),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        attribute(CLICKS, 1000.0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1000", None])
def test_bad_times(bad: object) -> None:
    with pytest.raises(BadInput):
        attribute(CLICKS, bad)  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        attribute([("AAAA2222", bad)], 1000.0)  # type: ignore[list-item]


def test_bad_click_shape() -> None:
    with pytest.raises(InvalidParameter, match="clicks"):
        attribute([("AAAA2222",)], 1.0)  # type: ignore[list-item]


click_lists = st.lists(
    st.tuples(
        st.sampled_from(["AAAA2222", "BBBB3333", "CCCC4444"]), st.integers(0, 100).map(float)
    ),
    max_size=12,
)


@given(click_lists, st.integers(0, 100).map(float), st.integers(0, 100).map(float))
def test_property_matches_naive(
    clicks: list[tuple[str, float]], conv: float, window: float
) -> None:
    eligible = [(c, t) for c, t in clicks if conv - window <= t <= conv]
    last = attribute(clicks, conv, window_seconds=window)
    first = attribute(clicks, conv, window_seconds=window, rule="first")
    if not eligible:
        assert last.code is None
        assert first.code is None
        return
    t_last = max(t for _, t in eligible)
    t_first = min(t for _, t in eligible)
    assert last.time == t_last
    assert first.time == t_first
    assert last.code == [c for c, t in eligible if t == t_last][-1]
    assert first.code == next(c for c, t in eligible if t == t_first)
    # order of the history does not matter beyond ties
    assert attribute(sorted(clicks, key=lambda x: x[1]), conv, window_seconds=window).time == t_last
