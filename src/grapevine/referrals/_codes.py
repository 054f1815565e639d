"""Referral codes: unguessable, easy to read aloud and type, and their short link path."""

from __future__ import annotations

import math
import numbers
import re
import secrets
from typing import Any, Protocol

from grapevine._validation import check_number
from grapevine.errors import BadInput, InvalidParameter

__all__ = [
    "CODE_ALPHABET",
    "code_space_bits",
    "format_code",
    "new_code",
    "normalize_code",
    "referral_path",
]

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""The 31 symbols of a code: digits and upper-case letters less 0, O, 1, I and L.

The letters and digits that look or sound alike in common fonts (0/O, 1/I/L) are gone, so
every code can be read from a screen, a receipt or a phone call without a second guess.
"""

_SEPARATORS = re.compile(r"[\s\-_.·/]+")


class _Chooser(Protocol):
    def choice(self, seq: str, /) -> str: ...


def code_space_bits(length: int) -> float:
    """The entropy in bits of a random code of ``length`` symbols: length * log2(31).

    >>> round(code_space_bits(8), 2)
    39.63
    """
    check_number(length, "length", "code_space_bits", kind=numbers.Integral, low=1)
    return int(length) * math.log2(len(CODE_ALPHABET))


def new_code(rng: Any = None, length: int = 8, *, min_bits: float = 32.0) -> str:
    """Draw a new referral or coupon code of ``length`` symbols from :data:`CODE_ALPHABET`.

    Parameters
    ----------
    rng : None, the :mod:`secrets` module, or an object with ``choice(seq)``
        Where the randomness comes from. None (the default) and :mod:`secrets` use the
        operating system's CSPRNG; a seeded :class:`random.Random` is for tests only (its
        codes are guessable).
    length : int
        Number of symbols (>= 1).
    min_bits : float
        The smallest code space accepted, in bits (default 32: about 4.3e9 codes).

    Returns
    -------
    str
        The code, upper case, without separators (see :func:`format_code` to display it).

    Raises
    ------
    InvalidParameter
        When ``length`` is not an int >= 1, or gives fewer than ``min_bits`` bits.

    Notes
    -----
    8 symbols give 31^8 = 8.5e11 codes (39.6 bits). Collisions with codes already issued
    are the store's to catch (a unique index); at n issued codes a fresh draw collides with
    probability n / 31^length. Guessing is bounded by rate-limiting lookups, not by the code.

    Examples
    --------
    >>> import random
    >>> new_code(random.Random(1))
    '6MWUT4A5'
    >>> len(new_code()), set(new_code(length=12)) <= set(CODE_ALPHABET)
    (8, True)
    """
    owner = "new_code"
    check_number(length, "length", owner, kind=numbers.Integral, low=1)
    check_number(min_bits, "min_bits", owner, low=0)
    bits = code_space_bits(int(length))
    if bits < float(min_bits):
        need = math.ceil(float(min_bits) / math.log2(len(CODE_ALPHABET)))
        raise InvalidParameter(
            "length", owner, f"an int in the range [{need}, inf) for {min_bits} bits", length
        )
    chooser: _Chooser = secrets if rng is None else rng
    if not callable(getattr(chooser, "choice", None)):
        raise InvalidParameter(
            "rng", owner, "None, the secrets module or an object with choice()", rng
        )
    return "".join(chooser.choice(CODE_ALPHABET) for _ in range(int(length)))


def normalize_code(text: str) -> str:
    """The canonical form of a code as someone typed it: upper case, no separators.

    Spaces, hyphens, underscores, dots and slashes are dropped and letters upper-cased, so
    ``"abcd-efgh"``, ``" ABCD EFGH "`` and ``"abcd.efgh"`` are all ``"ABCDEFGH"``.

    Raises
    ------
    BadInput
        When the text is empty or holds a symbol outside :data:`CODE_ALPHABET` (including the
        ambiguous 0, O, 1, I, L: a code never contains them, so no guess is made).

    Examples
    --------
    >>> normalize_code(" k7mp-q2zx ")
    'K7MPQ2ZX'
    >>> normalize_code("K0MP")
    Traceback (most recent call last):
    ...
    grapevine.errors.BadInput: field 'code': '0' cannot appear in a code
    """
    if not isinstance(text, str):
        raise BadInput(f"a code must be a string, not {type(text).__name__}", field="code")
    code = _SEPARATORS.sub("", text).upper()
    if not code:
        raise BadInput("empty code", field="code")
    for ch in code:
        if ch not in CODE_ALPHABET:
            raise BadInput(f"{ch!r} cannot appear in a code", field="code")
    return code


def format_code(code: str, group: int = 4) -> str:
    """Display a code in hyphen-separated groups (``normalize_code`` undoes it).

    >>> format_code("k7mpq2zx")
    'K7MP-Q2ZX'
    """
    check_number(group, "group", "format_code", kind=numbers.Integral, low=1)
    c = normalize_code(code)
    g = int(group)
    return "-".join(c[i : i + g] for i in range(0, len(c), g))


def referral_path(code: str) -> str:
    """The personal short-link path of a code, ``/r/{code}`` (code normalised).

    >>> referral_path("k7mp-q2zx")
    '/r/K7MPQ2ZX'
    """
    return f"/r/{normalize_code(code)}"
