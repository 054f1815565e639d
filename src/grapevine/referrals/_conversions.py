"""Referral conversions over time: a tenant's signups, purchases and revenue per bin.

A conversion is a ``signup`` or a ``purchase`` referral event of one of the tenant's
campaigns (held, rewarded or not: what happened, not what was paid); revenue is the sum of
the purchases' values, in whatever currencies the shop sent (one currency per tenant is
the usual case). Refunds are not subtracted here: the campaign pages show them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grapevine._validation import check_number

__all__ = ["ConversionSeries", "conversion_bounds", "conversions_over_time"]


@dataclass(frozen=True)
class ConversionSeries:
    """Signups, purchases and revenue per bin of ``bins`` (bin starts, Unix seconds)."""

    since: float
    until: float
    bin_seconds: float
    bins: tuple[float, ...]
    signups: tuple[int, ...]
    purchases: tuple[int, ...]
    revenue: tuple[float, ...]

    @property
    def total_signups(self) -> int:
        return sum(self.signups)

    @property
    def total_purchases(self) -> int:
        return sum(self.purchases)

    @property
    def total_revenue(self) -> float:
        return float(sum(self.revenue))


def _bins(since: float, until: float, width: float) -> list[float]:
    if until <= since:
        return []
    lo = math.floor(since / width) * width
    return [lo + k * width for k in range(max(1, math.ceil((until - lo) / width)))]


def conversions_over_time(
    session: Session,
    *,
    tenant_id: int,
    since: float,
    until: float,
    bin_seconds: float = 86_400.0,
) -> ConversionSeries:
    """The tenant's conversions of ``[since, until)`` in bins of ``bin_seconds`` (aligned on
    UTC multiples of the width, as :func:`grapevine.listening.time_bins`).

    Examples
    --------
    >>> _bins(90_000.0, 200_000.0, 86_400.0)
    [86400.0, 172800.0]
    """
    from grapevine.store import activity_repo

    check_number(bin_seconds, "bin_seconds", "conversions_over_time", low=0, low_closed=False)
    bins = _bins(since, until, bin_seconds)
    n = len(bins)
    signups, purchases, revenue = [0] * n, [0] * n, [0.0] * n
    rows = activity_repo.conversion_rows(
        session.connection(), tenant_id=tenant_id, since=since, until=until
    )
    for row in rows:
        k = min(n - 1, int((row["time"] - bins[0]) // bin_seconds))
        if row["kind"] == "signup":
            signups[k] += 1
        else:
            purchases[k] += 1
            revenue[k] += float(row["value"] or 0.0)
    return ConversionSeries(
        since, until, bin_seconds, tuple(bins), tuple(signups), tuple(purchases), tuple(revenue)
    )


def conversion_bounds(session: Session, *, tenant_id: int) -> tuple[float | None, float | None]:
    """The time of the tenant's first and last conversion (None, None when none)."""
    from grapevine.store import activity_repo

    return activity_repo.conversion_bounds(session.connection(), tenant_id=tenant_id)
