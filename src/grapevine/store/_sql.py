"""Small helpers shared by the repository modules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["CHUNK", "chunks"]

CHUNK = 500
"""Ids or hashes per ``IN (...)`` list (far below every backend's parameter limit)."""


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    """The distinct ``values``, sorted, in lists of at most :data:`CHUNK`.

    >>> [len(c) for c in chunks(range(1200))]
    [500, 500, 200]
    """
    items = sorted(set(values))
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]
