"""How the pages write times and texts in tables and labels (UTC, ISO-like)."""

from __future__ import annotations

import datetime as dt

__all__ = ["bin_label", "clip", "when"]


def when(at: float | None) -> str:
    """``2024-05-01 13:05`` (UTC), or an empty string.

    >>> when(0.0)
    '1970-01-01 00:00'
    """
    if at is None:
        return ""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M")


def bin_label(start: float, width: float) -> str:
    """A bin's label: the date for day bins, date and hour for shorter ones.

    >>> bin_label(0.0, 86400.0), bin_label(3600.0, 3600.0)
    ('1970-01-01', '1970-01-01 01:00')
    """
    stamp = dt.datetime.fromtimestamp(start, dt.UTC)
    return stamp.strftime("%Y-%m-%d") if width >= 86400 else stamp.strftime("%Y-%m-%d %H:%M")


def clip(text: str | None, length: int = 140) -> str:
    """``text`` on one line, cut at ``length`` characters with an ellipsis.

    >>> clip("a\\nb" + "c" * 200, 5)
    'a bc…'
    """
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"
