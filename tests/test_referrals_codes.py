"""Referral codes and short-link paths."""

from __future__ import annotations

import math
import random
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.errors import BadInput, InvalidParameter
from grapevine.referrals import (
    CODE_ALPHABET,
    code_space_bits,
    format_code,
    new_code,
    normalize_code,
    referral_path,
)

codes = st.text(alphabet=CODE_ALPHABET, min_size=1, max_size=16)


def test_alphabet_has_no_ambiguous_symbols() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 31
    assert CODE_ALPHABET.upper() == CODE_ALPHABET


@pytest.mark.parametrize("length", [7, 8, 12, 20])
def test_new_code_length_and_alphabet(length: int) -> None:
    for rng in (None, secrets, random.Random(3)):
        code = new_code(rng, length)
        assert len(code) == length
        assert set(code) <= set(CODE_ALPHABET)


def test_new_code_default_is_unpredictable() -> None:
    drawn = {new_code() for _ in range(2000)}
    assert len(drawn) == 2000  # 2000 draws out of 8.5e11: a repeat means a broken RNG


def test_new_code_uses_every_symbol() -> None:
    assert set("".join(new_code(length=32) for _ in range(200))) == set(CODE_ALPHABET)


def test_seeded_rng_is_reproducible() -> None:
    assert new_code(random.Random(7)) == new_code(random.Random(7))


@pytest.mark.parametrize(
    ("length", "min_bits", "ok"),
    [(6, 32, False), (7, 32, True), (8, 40, False), (9, 40, True), (1, 0, True)],
)
def test_space_check(length: int, min_bits: float, ok: bool) -> None:
    assert (code_space_bits(length) >= min_bits) == ok
    if ok:
        assert len(new_code(length=length, min_bits=min_bits)) == length
    else:
        with pytest.raises(InvalidParameter, match="'length' parameter of new_code"):
            new_code(length=length, min_bits=min_bits)


def test_code_space_bits() -> None:
    assert code_space_bits(8) == pytest.approx(8 * math.log2(31))
    assert 2 ** code_space_bits(8) == pytest.approx(31**8)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_length(bad: object) -> None:
    with pytest.raises(InvalidParameter):
        new_code(length=bad)  # type: ignore[arg-type]


def test_bad_rng() -> None:
    with pytest.raises(InvalidParameter, match="'rng'"):
        new_code(object())


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("K7MPQ2ZX", "K7MPQ2ZX"),
        ("k7mp-q2zx", "K7MPQ2ZX"),
        ("  K7MP Q2ZX\n", "K7MPQ2ZX"),
        ("k7mp_q2zx", "K7MPQ2ZX"),
        ("k7mp.q2zx", "K7MPQ2ZX"),
        ("K7MP--Q2ZX", "K7MPQ2ZX"),
        ("k7mp/q2zx", "K7MPQ2ZX"),
    ],
)
def test_normalize_code(typed: str, code: str) -> None:
    assert normalize_code(typed) == code


@pytest.mark.parametrize(
    "bad", ["", "   ", "--", "K0MP", "KOMP", "K1MP", "KIMP", "KLMP", "K7M$", "ÄBCD", "K7MP%2F"]
)
def test_normalize_code_rejects(bad: str) -> None:
    with pytest.raises(BadInput) as info:
        normalize_code(bad)
    assert info.value.field == "code"


def test_normalize_code_rejects_non_strings() -> None:
    with pytest.raises(BadInput):
        normalize_code(12345678)  # type: ignore[arg-type]


@given(codes, st.sampled_from(["-", " ", "_", "."]), st.booleans())
def test_normalize_undoes_formatting(code: str, sep: str, lower: bool) -> None:
    shown = format_code(code).replace("-", sep)
    assert normalize_code(shown.lower() if lower else shown) == code
    assert normalize_code(normalize_code(code)) == code


@given(codes)
def test_referral_path(code: str) -> None:
    path = referral_path(code.lower())
    assert path == f"/r/{code}"
    assert path.count("/") == 2


@settings(max_examples=200)
@given(st.text(max_size=20))
def test_normalize_any_text_gives_a_code_or_bad_input(text: str) -> None:
    try:
        code = normalize_code(text)
    except BadInput:
        return
    assert code
    assert set(code) <= set(CODE_ALPHABET)


def test_format_code_groups() -> None:
    assert format_code("ABCDEFGHJ", group=3) == "ABC-DEF-GHJ"
    assert format_code("ABCDE") == "ABCD-E"
