"""Input checks shared by the forecasting models."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grapevine.errors import BadInput

FloatArray = NDArray[np.float64]


def float_pair(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[FloatArray, FloatArray]:
    """Two parallel 1-d float arrays, or :class:`BadInput` naming them.

    >>> float_pair([1, 2], [3, 4], ("t", "y"))[1].tolist()
    [3.0, 4.0]
    """
    first, second = names
    try:
        x = np.asarray(a, dtype=np.float64)
        y = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{first} and {second} must be numbers ({exc})") from None
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise BadInput(
            f"{first} and {second} must be 1-d and of one length, got shapes {x.shape} and "
            f"{y.shape}"
        )
    return x, y


def as_floats(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as a 1-d float array (a scalar becomes one element), or :class:`BadInput`.

    The error names ``name`` as its field.

    >>> as_floats(3, "degree").tolist()
    [3.0]
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{name} must be numbers ({exc})", field=name) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise BadInput(f"{name} must be one-dimensional, got shape {arr.shape}", field=name)
    return arr
