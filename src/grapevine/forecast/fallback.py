"""Forecasts that always answer: SEISMIC or Hawkes first, else the log-linear regression.

SEISMIC and the Hawkes process forecast a cascade from its own events, and refuse honestly
when those cannot support a forecast: too few events ("too young"), a process that is still
exploding ("supercritical"), a fit that did not converge. :func:`forecast_with_fallback` keeps
their answer where there is one and otherwise asks :class:`~grapevine.forecast.loglinear.
LogLinear`, fitted on the *older* cascades of the same collection: only cascades that started
strictly before the one being forecast and whose reference age was reached within the data.
So no forecast ever learns from a later cascade.

Each :class:`Answer` says which model answered (``"seismic"``, ``"hawkes"`` or
``"loglinear"``) and, when the primary model did not, why (its ``"cannot forecast yet: ..."``
message).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grapevine._validation import check_number
from grapevine.errors import BadInput, GrapevineError, InvalidParameter
from grapevine.forecast._result import Forecast
from grapevine.forecast.loglinear import LEVEL, MODEL, LogLinear
from grapevine.forecast.seismic import N_STAR

__all__ = ["HISTORY", "PRIMARIES", "Answer", "Primary", "forecast_with_fallback"]

Primary = Literal["hawkes", "seismic", "none"]
#: The models that may answer first; ``"none"`` asks the log-linear regression for every cascade.
PRIMARIES: tuple[Primary, ...] = ("hawkes", "seismic", "none")
FloatArray = NDArray[np.float64]
#: How many of the most recent older complete cascades the regression learns from by default.
HISTORY = 300


@dataclass(frozen=True)
class Answer:
    """One cascade's forecast and which model gave it.

    Attributes
    ----------
    cascade : str
        The cascade's id.
    start : float
        When its first event happened (the clock of the input, e.g. Unix seconds).
    forecast : Forecast
        The forecast that answered: the primary's when its status is ``"ok"``, else the
        log-linear regression's.
    primary : Forecast or None
        What the primary model said (the same object as ``forecast`` when it answered);
        None when the primary was ``"none"``.
    model : str
        ``"seismic"``, ``"hawkes"`` or ``"loglinear"``.
    """

    cascade: str
    start: float
    forecast: Forecast
    primary: Forecast | None
    model: str

    @property
    def why(self) -> str:
        """Why the primary model did not answer (its message), or ``""`` when it did."""
        if self.primary is None or self.primary is self.forecast:
            return ""
        return self.primary.message


def forecast_with_fallback(
    cascades: Iterable[tuple[str, float, ArrayLike]],
    at: float,
    *,
    primary: Primary = "hawkes",
    reference: float = math.inf,
    known_until: float | None = None,
    level: float = LEVEL,
    calibration: float = 0.5,
    fit_slope: bool = False,
    degree: float | None = None,
    random_state: int = 0,
    only: Iterable[str] | None = None,
    history: int | None = HISTORY,
) -> list[Answer]:
    """Forecast every cascade from its first ``at`` seconds, falling back where the primary cannot.

    Parameters
    ----------
    cascades : iterable of (id, start, times)
        Each cascade: its id, the time of its first event on a common clock (e.g. Unix
        seconds), and its event times in seconds since that first event (the original post,
        at 0, included; any order).
    at : float
        Observation age: each cascade is seen up to ``at`` seconds after its first event.
    primary : {"hawkes", "seismic", "none"}, default "hawkes"
        The model asked first, from the cascade's own events (marks or degrees all set to
        ``degree``); ``"none"`` uses the log-linear regression for every cascade.
    reference : float, default inf
        The age whose count is forecast: ``inf`` for the final size (every event of the
        cascade in the data); finite for the count at ``reference`` seconds (SEISMIC then
        forecasts that horizon; the Hawkes process forecasts the final size only).
    known_until : float, optional
        End of the data, on the clock of ``start`` (default: the latest event of all the
        cascades). An older cascade trains the regression only if ``start + reference <=
        known_until``; with ``reference = inf`` every older cascade counts as complete (the
        data is treated as an archive of finished cascades).
    level : float, default 0.9
        Coverage of the log-linear regression's conformal interval.
    calibration : float, default 0.5
        Share of the older cascades (the most recent) that calibrate that interval.
    fit_slope : bool, default False
        Fit a free slope on the log scale (see :class:`~grapevine.forecast.loglinear.LogLinear`).
    degree : float, optional
        Follower count given to every event (SEISMIC's degrees, Hawkes' marks). By default
        the neutral value of each model: SEISMIC's ``n_star`` (100; with every degree equal
        to it, the forecast does not depend on the constant) and 1 for the Hawkes marks.
    random_state : int, default 0
        Seeds the Hawkes fits and simulations.
    only : iterable of str, optional
        Forecast only these cascades (the others still serve as history); default: all.
    history : int or None, default 300
        Learn from at most this many older complete cascades, the most recent ones; None:
        all of them. Platforms drift: on the Twitter cascades of the shared data, growth from
        1 h to 3 days fell from x7.5 to x1.3 (median) within six days, and learning from all
        older cascades over-forecast by 324 % (median) where the latest 300 gave 71 %
        (docs/forecast-fallback.md).

    Returns
    -------
    list of Answer
        One per forecast cascade, in input order. Every answer has a finite point forecast.
        A cascade with no older complete cascade to learn from gets the log-linear floor:
        the observed count, with the interval ``[observed, inf)``, and a message saying so.

    Raises
    ------
    BadInput
        When a cascade has no event, a negative or non-finite time, or ids repeat.
    InvalidParameter
        When ``at``, ``reference``, ``primary``, ``level``, ``calibration`` or ``degree`` is
        out of its domain.

    Notes
    -----
    The training set of a cascade is the set of cascades with an earlier start that are
    complete; sorted by start, it is a prefix, so the whole run costs :math:`O(n^2)` in the
    number of cascades for the regressions (microseconds each) plus one primary fit per
    cascade (milliseconds to seconds, see the primary's docs). Counts include the original
    post.

    References
    ----------
    .. [1] G. Szabo, B. A. Huberman. "Predicting the popularity of online content."
       Communications of the ACM 53(8), 2010.

    Examples
    --------
    Four cascades (starts 0, 100, 200, 300 s); the Hawkes process needs 50 events, so the
    regression answers, learning growth x2 from the older ones:

    >>> cascades = [
    ...     ("a", 0.0, [0, 10, 5000, 6000]),
    ...     ("b", 100.0, [0, 20, 30, 4000, 4500, 5000]),
    ...     ("c", 200.0, [0, 5, 7000]),
    ...     ("d", 300.0, [0, 1, 2, 3]),
    ... ]
    >>> answers = forecast_with_fallback(cascades, at=60)
    >>> [(a.cascade, a.model, round(a.forecast.final_size, 3)) for a in answers]
    [('a', 'loglinear', 2.0), ('b', 'loglinear', 6.0), ('c', 'loglinear', 4.0),
     ('d', 'loglinear', 8.0)]
    >>> answers[0].forecast.message
    'no older complete cascade to learn from: the observed count is a floor'
    >>> answers[3].why
    'cannot forecast yet: only 4 events observed, need at least 50'
    """
    owner = "forecast_with_fallback"
    check_number(at, "at", owner, low=0, high_closed=False)
    given: object = reference
    if not (isinstance(given, (int, float)) and not isinstance(given, bool) and given > 0):
        raise InvalidParameter("reference", owner, "a float in the range (0, inf]", reference)
    if primary not in PRIMARIES:
        raise InvalidParameter("primary", owner, f"one of {list(PRIMARIES)}", primary)
    if degree is None:
        degree = N_STAR if primary == "seismic" else 1.0
    check_number(degree, "degree", owner, low=0, high_closed=False)
    LogLinear(level=level, calibration=calibration, fit_slope=fit_slope)._check_params()
    if history is not None:
        check_number(history, "history", owner, kind=numbers.Integral, low=1)
    at, reference = float(at), float(reference)
    if reference < at:
        raise InvalidParameter("reference", owner, f"a float in the range [{at:g}, inf]", reference)

    ids, starts, times = _materialise(cascades)
    n = len(ids)
    if n == 0:
        return []
    ends = np.array([s + t[-1] for s, t in zip(starts, times, strict=True)])
    until = float(ends.max()) if known_until is None else float(known_until)
    observed = np.array([np.searchsorted(t, at, side="right") for t in times], dtype=np.float64)
    at_ref = np.array(
        [np.searchsorted(t, reference, side="right") for t in times], dtype=np.float64
    )
    complete = starts + reference <= until if math.isfinite(reference) else np.ones(n, bool)
    order = np.argsort(starts, kind="stable")
    sorted_starts = starts[order]

    wanted = None if only is None else {str(c) for c in only}
    answers: list[Answer] = []
    for i in range(n):
        if wanted is not None and ids[i] not in wanted:
            continue
        first: Forecast | None = None
        if primary != "none":
            first = _primary(primary, times[i], at, reference, degree, random_state)
            if first.ok:
                answers.append(Answer(ids[i], float(starts[i]), first, first, primary))
                continue
        # older = started strictly before: a prefix of the cascades sorted by start
        older = order[: int(np.searchsorted(sorted_starts, starts[i], side="left"))]
        train = older[complete[older]]
        if history is not None:
            train = train[max(0, len(train) - history) :]
        fc = _loglinear(observed[train], at_ref[train], observed[i], level, calibration, fit_slope)
        answers.append(Answer(ids[i], float(starts[i]), fc, first, MODEL))
    return answers


def _primary(
    primary: Primary,
    t: FloatArray,
    at: float,
    reference: float,
    degree: float,
    random_state: int,
) -> Forecast:
    marks = np.full(len(t), degree)
    name = "seismic" if primary == "seismic" else "hawkes-powerlaw"
    try:
        if primary == "seismic":
            from grapevine.forecast.seismic import seismic_forecast

            horizon = reference - at if math.isfinite(reference) else math.inf
            if horizon <= 0:
                horizon = math.inf
            return seismic_forecast(t, marks, at=at, horizon=horizon)
        from grapevine.forecast.hawkes import hawkes_forecast

        return hawkes_forecast(t, marks, at=at, random_state=random_state)
    except GrapevineError as exc:
        observed = int(np.searchsorted(t, at, side="right"))
        return Forecast.cannot(name, "not converged", str(exc), observed=observed)


def _loglinear(
    x: FloatArray,
    y: FloatArray,
    new: float,
    level: float,
    calibration: float,
    fit_slope: bool,
) -> Forecast:
    if len(x) == 0:
        note = "no older complete cascade to learn from: the observed count is a floor"
        params = {"n_fit": 0.0, "n_calibration": 0.0}
        floor = float(new)
        return Forecast(MODEL, "ok", floor, (floor, math.inf), level, int(new), note, params)
    model = LogLinear(level=level, calibration=calibration, fit_slope=fit_slope)
    return model.fit(x, y).forecast(new)


def _materialise(
    cascades: Iterable[tuple[str, float, ArrayLike]],
) -> tuple[list[str], FloatArray, list[FloatArray]]:
    ids: list[str] = []
    starts: list[float] = []
    times: list[FloatArray] = []
    seen: set[str] = set()
    for cid, start, t in cascades:
        name = str(cid)
        if name in seen:
            raise BadInput(f"cascade {name!r} is given twice", field="cascade")
        seen.add(name)
        arr = np.sort(np.asarray(t, dtype=np.float64).ravel())
        if len(arr) == 0:
            raise BadInput(f"cascade {name!r} has no event", field="times")
        if not np.all(np.isfinite(arr)) or arr[0] < 0 or not math.isfinite(float(start)):
            raise BadInput(
                f"cascade {name!r}: times must be finite seconds since its first event (>= 0)",
                field="times",
            )
        ids.append(name)
        starts.append(float(start))
        times.append(arr)
    return ids, np.asarray(starts, dtype=np.float64), times
