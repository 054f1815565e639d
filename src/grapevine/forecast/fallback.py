"""Forecasts that always answer: SEISMIC or Hawkes first, else the log-linear regression.

SEISMIC and the Hawkes process forecast a cascade from its own events, and refuse honestly
when those cannot support a forecast: too few events ("too young"), a process that is still
exploding ("supercritical"), a fit that did not converge. :func:`forecast_with_fallback` keeps
their answer where there is one and otherwise asks :class:`~grapevine.forecast.loglinear.
LogLinear`, fitted on the *older* cascades of the same collection, and only on what was
observable when the forecast is made: a cascade started at ``start`` is forecast at ``start +
at``, and an older cascade teaches it only if its own reference age had passed by then
(``start_j + reference <= start + at``, and within the data). No forecast learns from a later
cascade, nor from a count that did not exist yet at its forecast time. The final size is never
known at a finite time, so the regression needs a finite reference age (24 h by default).

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

__all__ = ["HISTORY", "PRIMARIES", "REFERENCE", "Answer", "Primary", "forecast_with_fallback"]

Primary = Literal["hawkes", "seismic", "none"]
#: The models that may answer first; ``"none"`` asks the log-linear regression for every cascade.
PRIMARIES: tuple[Primary, ...] = ("hawkes", "seismic", "none")
FloatArray = NDArray[np.float64]
#: How many of the most recent usable older cascades the regression learns from by default.
HISTORY = 300
#: Default reference age (seconds): the count 24 h after the first event is forecast.
REFERENCE = 86400.0
#: What a forecast without usable history says (the log-linear floor).
NO_HISTORY = (
    "no older cascade had reached the reference age by this forecast's time: the observed "
    "count is a floor"
)


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
    reference: float = REFERENCE,
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
    reference : float, default 86400 (24 h)
        The age whose count is forecast, in seconds, finite and at least ``at``. SEISMIC
        forecasts that horizon; the Hawkes process forecasts the final size only (at least
        the count at ``reference``). It must be finite because the regression learns the
        count at ``reference`` of older cascades, and only a count already reached at the
        forecast's time is known then; a final size never is.
    known_until : float, optional
        End of the data, on the clock of ``start`` (default: the latest event of all the
        cascades). The forecast of cascade i is made at ``start_i + at``; an older cascade j
        trains it only if ``start_j + reference <= min(start_i + at, known_until)``: its
        count at the reference age existed at the forecast's time and lies within the data.
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
        Learn from at most this many usable older cascades, the most recent ones; None: all
        of them. Platforms drift: on the Twitter cascades of the shared data, growth from 1 h
        to 3 days fell from x7.0 to x1.3 (median) within six days; from 1 h, the 300 most
        recent usable cascades over-forecast the later ones by 408 % (median), all of them by
        507 % (``benchmarks/forecast_fallback.py``, docs/forecast-fallback.md).

    Returns
    -------
    list of Answer
        One per forecast cascade, in input order. Every answer has a finite point forecast.
        A cascade with no usable older cascade gets the log-linear floor: model
        ``"loglinear"`` with ``n_fit = 0``, the observed count as forecast, the interval
        ``[observed, inf)``, and a message saying so.

    Raises
    ------
    BadInput
        When a cascade has no event, a negative or non-finite time, or ids repeat.
    InvalidParameter
        When ``at``, ``reference`` (not finite, or below ``at``), ``primary``, ``level``,
        ``calibration`` or ``degree`` is out of its domain.

    Notes
    -----
    The training set of cascade i is the set of cascades with an earlier start whose
    reference age had passed at ``start_i + at`` (and within ``known_until``); sorted by
    start, it is a prefix, so the whole run costs :math:`O(n^2)` in the number of cascades
    for the regressions (microseconds each) plus one primary fit per cascade (milliseconds
    to seconds, see the primary's docs). Since ``reference >= at``, each training cascade's
    count at ``at`` was known at that time too. Counts include the original post.

    References
    ----------
    .. [1] G. Szabo, B. A. Huberman. "Predicting the popularity of online content."
       Communications of the ACM 53(8), 2010.

    Examples
    --------
    Four cascades started 1000 s apart, forecast from their first minute to their count at
    10 min. The Hawkes process needs 50 events, so the regression answers. Cascade ``a`` has
    no older cascade; ``b`` is forecast at 1060 s, when ``a`` had reached 10 min (at 600 s)
    and grown x1.5 between the two ages, so ``b`` gets 3 x 1.5:

    >>> cascades = [
    ...     ("a", 0.0, [0, 10, 500, 6000]),
    ...     ("b", 1000.0, [0, 20, 30, 400, 4500, 5000]),
    ...     ("c", 2000.0, [0, 5, 300]),
    ...     ("d", 3000.0, [0, 1, 2, 3]),
    ... ]
    >>> answers = forecast_with_fallback(cascades, at=60, reference=600)
    >>> [(a.cascade, a.model, round(a.forecast.final_size, 3)) for a in answers]
    [('a', 'loglinear', 2.0), ('b', 'loglinear', 4.5), ('c', 'loglinear', 3.0),
     ('d', 'loglinear', 6.0)]
    >>> answers[0].forecast.params["n_fit"], answers[0].forecast.interval
    (0.0, (2.0, inf))
    >>> answers[3].why
    'cannot forecast yet: only 4 events observed, need at least 50'
    """
    owner = "forecast_with_fallback"
    check_number(at, "at", owner, low=0, high_closed=False)
    given: object = reference
    if not (isinstance(given, (int, float)) and not isinstance(given, bool) and given > 0):
        raise InvalidParameter("reference", owner, "a float in the range (0, inf)", reference)
    if primary not in PRIMARIES:
        raise InvalidParameter("primary", owner, f"one of {list(PRIMARIES)}", primary)
    if degree is None:
        degree = N_STAR if primary == "seismic" else 1.0
    check_number(degree, "degree", owner, low=0, high_closed=False)
    LogLinear(level=level, calibration=calibration, fit_slope=fit_slope)._check_params()
    if history is not None:
        check_number(history, "history", owner, kind=numbers.Integral, low=1)
    at, reference = float(at), float(reference)
    if reference < at or not math.isfinite(reference):
        # a final size (inf) is never known when a forecast is made: learning it would use
        # counts from after the forecast's time
        raise InvalidParameter("reference", owner, f"a float in the range [{at:g}, inf)", reference)

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
    order = np.argsort(starts, kind="stable")
    sorted_starts = starts[order]
    # when each cascade's count at the reference age became known, in start order
    sorted_known = sorted_starts + reference

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
        # usable = started strictly before, with the count at the reference age known at the
        # forecast's time (start_i + at) and within the data: both prefixes in start order
        now = min(until, float(starts[i]) + at)
        n_older = int(np.searchsorted(sorted_starts, starts[i], side="left"))
        n_known = int(np.searchsorted(sorted_known, now, side="right"))
        train = order[: min(n_older, n_known)]
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
        note = NO_HISTORY
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
