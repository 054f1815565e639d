"""The period picker: ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` or ``?preset=7d`` on any page.

A preset counts back from the latest data the page shows (the newest post, the newest
referral event), not from the clock, so a store of last year's posts still opens on its
own last month; a page passes that instant as ``latest``. Explicit dates win over a
preset; ``to`` includes its whole day (UTC).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from starlette.requests import Request

from grapevine.errors import BadInput

__all__ = ["DEFAULT_PRESET", "PRESETS", "Period", "period_of", "period_of_dates"]

PRESETS = {"24h": 1.0, "7d": 7.0, "30d": 30.0, "90d": 90.0, "365d": 365.0, "all": None}
"""Preset name -> days back (None: everything)."""

DEFAULT_PRESET = "30d"
DAY = 86400.0


@dataclass(frozen=True)
class Period:
    """A half-open window ``[start, end)`` in epoch seconds, as the picker chose it."""

    start: float
    end: float
    preset: str | None
    from_text: str
    to_text: str

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def label(self) -> str:
        """How the page names the window: ``2024-01-01 – 2024-01-31``."""
        return f"{self.from_text} – {self.to_text}"

    def bin_seconds(self) -> float:
        """A bin width for time series over this window: hours up to 3 days, else days.

        >>> period_of_dates("2024-01-01", "2024-01-02").bin_seconds()
        3600.0
        """
        return 3600.0 if self.seconds <= 3 * DAY else DAY


def _date(text: str, field: str) -> float:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"expected a date YYYY-MM-DD, got {text!r}", field=field) from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _text(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


def period_of_dates(from_text: str, to_text: str) -> Period:
    """The period from the first instant of ``from_text`` to the end of ``to_text``.

    Raises
    ------
    BadInput
        A date that is not YYYY-MM-DD, or ``to`` before ``from``.
    """
    start = _date(from_text, "from")
    end = _date(to_text, "to") + DAY
    if end <= start:
        raise BadInput(f"'to' ({to_text}) is before 'from' ({from_text})", field="to")
    return Period(start, end, None, from_text, to_text)


def period_of(request: Request, *, latest: float | None, earliest: float | None = None) -> Period:
    """The period the request's query asks for (``from``/``to``, else ``preset``, else
    :data:`DEFAULT_PRESET`), presets counted back from ``latest`` (now when None).

    ``earliest`` (the oldest data) is the start of ``preset=all``.

    Raises
    ------
    BadInput
        A malformed date or an unknown preset (naming the field).
    """
    query = request.query_params
    from_text, to_text = query.get("from", "").strip(), query.get("to", "").strip()
    if from_text or to_text:
        anchor = latest if latest is not None else time.time()
        return period_of_dates(from_text or _text(anchor - 30 * DAY), to_text or _text(anchor))
    preset = query.get("preset", DEFAULT_PRESET) or DEFAULT_PRESET
    if preset not in PRESETS:
        raise BadInput(f"expected one of {', '.join(PRESETS)}, got {preset!r}", field="preset")
    end = (latest if latest is not None else time.time()) + 1.0  # the latest is inside
    days = PRESETS[preset]
    if days is None:
        start = min(earliest, end - DAY) if earliest is not None else 0.0
    else:
        start = end - days * DAY
    return Period(start, end, preset, _text(start), _text(end - 1.0))
