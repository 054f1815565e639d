"""The one result type of every final-size forecast: :class:`Forecast`.

Each forecasting model (Hawkes, Bass, SEISMIC) returns a :class:`Forecast`, so a caller (the
CLI, the dashboard, an alert rule) can show any of them the same way: a point, an interval at a
stated level, and a status saying whether the point can be trusted at all.

Statuses
--------
``"ok"``
    ``final_size`` and ``interval`` are finite. ``message`` may carry a note (for example that
    a fallback prior was used), or is empty.
``"supercritical"``
    The fitted process is expected to grow without bound (branching factor ``n* >= 1``):
    there is no finite final size to forecast yet.
``"too young"``
    Too little has been observed to fit the model (fewer events or periods than the model's
    documented minimum).
``"not converged"``
    The fit stopped before its tolerance; its parameters are reported but not used.

When the status is not ``"ok"``, ``final_size`` and both ends of ``interval`` are NaN and
``message`` starts with ``"cannot forecast yet: "`` (see :meth:`Forecast.cannot`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["STATUSES", "Forecast", "Status"]

Status = Literal["ok", "supercritical", "too young", "not converged"]
STATUSES: tuple[Status, ...] = ("ok", "supercritical", "too young", "not converged")
CANNOT = "cannot forecast yet: "


@dataclass(frozen=True)
class Forecast:
    """A forecast of the final size of a cascade or of the number of adopters.

    Parameters
    ----------
    model : str
        Which model made it (``"hawkes-powerlaw"``, ``"bass"``, ``"seismic"``).
    status : {"ok", "supercritical", "too young", "not converged"}
        Whether the point below is a forecast at all (module docstring).
    final_size : float
        The expected final count (events, reshares, adopters), observed ones included; NaN
        unless ``status == "ok"``.
    interval : tuple of float
        ``(lo, hi)``, the interval at ``level`` around ``final_size``; each model documents how
        it is made (simulation, delta method). NaN unless ``status == "ok"``.
    level : float
        The coverage the interval is meant to have, in (0, 1), e.g. 0.9 for 5th-95th percentile.
    observed : int
        The count observed when the forecast was made (a floor for ``final_size``).
    message : str
        Why there is no forecast (``"cannot forecast yet: ..."``), or a note; may be empty.
    params : dict of str to float
        The model's fitted parameters and derived quantities (``{"kappa": ..., "n_star": ...}``).

    Examples
    --------
    >>> f = Forecast.cannot("hawkes-powerlaw", "too young", "only 3 events", observed=3)
    >>> f.ok, f.message
    (False, 'cannot forecast yet: only 3 events')
    >>> Forecast("bass", "ok", 120.0, (110.0, 130.0), 0.9, 100).ok
    True
    """

    model: str
    status: Status
    final_size: float
    interval: tuple[float, float]
    level: float
    observed: int
    message: str = ""
    params: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        """True when ``final_size`` is a forecast (``status == "ok"``)."""
        return self.status == "ok"

    @classmethod
    def cannot(
        cls,
        model: str,
        status: Status,
        reason: str,
        *,
        observed: int,
        level: float = 0.9,
        params: dict[str, float] | None = None,
    ) -> Forecast:
        """A forecast that is not one: NaN point and interval, ``"cannot forecast yet: reason"``."""
        if status == "ok":
            raise ValueError("a forecast that cannot be made needs a status other than 'ok'")
        nan = math.nan
        return cls(
            model=model,
            status=status,
            final_size=nan,
            interval=(nan, nan),
            level=level,
            observed=observed,
            message=CANNOT + reason,
            params=dict(params or {}),
        )
