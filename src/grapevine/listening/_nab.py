"""Numenta Anomaly Benchmark (NAB) scoring of alerts against labelled anomaly windows.

The scoring follows the NAB v1.x scorer (``nab/sweeper.py`` of numenta/NAB), which is what
produced the published scoreboard, re-implemented here from its documented behaviour:

* the first ``min(floor(0.15 n), 750)`` rows are a probation period and are not scored;
* inside a window of ``w`` rows ending at row ``r``, a detection at row ``i`` sits at
  ``y = -(r - i + 1) / w`` (``-1`` at the first row of the window, just below ``0`` at the last)
  and earns ``A_TP * sigma(y) / sigma(-1)`` with the scaled sigmoid
  ``sigma(y) = 2 / (1 + exp(5 y)) - 1``; only the best (the earliest) detection of a window
  counts, so later detections in the same window neither add nor cost anything;
* a window without a detection costs ``A_FN``;
* a detection outside every window is a false positive weighted by the sigmoid of its distance
  past the end of the previous window, ``y = (i - r_prev) / (w_prev - 1)``: it costs
  ``|A_FP| * sigma(y)`` (about nothing right after a window, the full ``A_FP`` from ``y >= 3``
  or before the first window);
* the normalised score over many series is ``100 (raw - null) / (perfect - null)``, where
  *null* never alerts (every window a miss) and *perfect* detects every window at its first row.

References
----------
Lavin, A. and Ahmad, S. "Evaluating Real-time Anomaly Detection Algorithms - the Numenta
Anomaly Benchmark." ICMLA 2015. https://github.com/numenta/NAB
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from grapevine.errors import BadInput

__all__ = [
    "NAB_PROFILES",
    "STANDARD_PROFILE",
    "NabProfile",
    "NabSeriesScore",
    "nab_normalized_score",
    "nab_series_score",
    "read_nab_csv",
    "read_nab_windows",
    "scaled_sigmoid",
]


@dataclass(frozen=True)
class NabProfile:
    """The weights of one NAB application profile (``a_fp`` and ``a_fn`` are costs, so < 0)."""

    a_tp: float = 1.0
    a_fp: float = -0.11
    a_fn: float = -1.0


STANDARD_PROFILE = NabProfile()
NAB_PROFILES: Mapping[str, NabProfile] = {
    "standard": STANDARD_PROFILE,
    "reward_low_FP_rate": NabProfile(a_tp=1.0, a_fp=-0.22, a_fn=-1.0),
    "reward_low_FN_rate": NabProfile(a_tp=1.0, a_fp=-0.11, a_fn=-2.0),
}


def scaled_sigmoid(y: float) -> float:
    """NAB's scaled sigmoid ``2 / (1 + exp(5 y)) - 1``, and ``-1`` from ``y >= 3``.

    >>> round(scaled_sigmoid(-1.0), 5), scaled_sigmoid(0.0), scaled_sigmoid(3.0)
    (0.98661, 0.0, -1.0)
    """
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


@dataclass(frozen=True)
class NabSeriesScore:
    """The NAB score of the detections on one series.

    Attributes
    ----------
    raw : float
        The sum of the window scores and the false-positive costs.
    n_windows : int
        Windows scored (those not wholly inside the probation period).
    tp, fn, fp : int
        Windows detected, windows missed, detections outside every window.
    window_scores : tuple of float
        One score per scored window (``a_fn`` when missed).
    first_detections : tuple of int or None
        The row of the first detection in each scored window, or None.
    delays_s : tuple of float
        Seconds from the window start to its first detection, for detected windows.
    profile : NabProfile
    """

    raw: float
    n_windows: int
    tp: int
    fn: int
    fp: int
    window_scores: tuple[float, ...] = field(default=())
    first_detections: tuple[int | None, ...] = field(default=())
    delays_s: tuple[float, ...] = field(default=())
    profile: NabProfile = STANDARD_PROFILE

    @property
    def null(self) -> float:
        """The raw score of a detector that never alerts."""
        return self.profile.a_fn * self.n_windows

    @property
    def perfect(self) -> float:
        """The raw score of a detector that alerts at the first row of every window only."""
        return self.profile.a_tp * self.n_windows


def _as_seconds(times: Iterable[object]) -> npt.NDArray[np.int64]:
    arr = np.asarray(list(times) if not isinstance(times, np.ndarray) else times)
    try:
        return arr.astype("datetime64[s]").astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"cannot read the timestamps as datetimes ({exc})", field="times") from exc


def nab_series_score(
    times: Sequence[object] | npt.ArrayLike,
    detections: Iterable[int] | npt.ArrayLike,
    windows: Sequence[tuple[object, object]],
    *,
    profile: NabProfile = STANDARD_PROFILE,
    probation_percent: float = 0.15,
) -> NabSeriesScore:
    """Score detections on one series the NAB way.

    Parameters
    ----------
    times : sequence of datetime-like
        The timestamps of the series rows, strictly increasing.
    detections : iterable of int, or a boolean mask of ``len(times)``
        The rows at which an alert was raised.
    windows : sequence of (start, end)
        The labelled anomaly windows (inclusive, datetime-like), sorted and disjoint.
    profile : NabProfile
        The weights; :data:`STANDARD_PROFILE` by default.
    probation_percent : float
        The share of rows (at most ``probation_percent * 5000``) left unscored at the start.

    Returns
    -------
    NabSeriesScore

    Raises
    ------
    BadInput
        When the times are not increasing, a detection is out of range, or a window is empty.

    Notes
    -----
    O(n + d + w) for ``n`` rows, ``d`` detections and ``w`` windows. A window bound is mapped
    to the first row at or after its start and the last row at or before its end (NAB's labels
    fall exactly on rows, where this is the same thing).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange("2015-01-01T00:00", 2000 * 5, 5, dtype="datetime64[m]")
    >>> win = [(t[1000], t[1099])]
    >>> nab_series_score(t, [1000], win).raw  # at the window start: the full A_TP
    1.0
    >>> nab_series_score(t, [], win).raw  # a miss
    -1.0
    """
    t = _as_seconds(np.asarray(times))
    n = len(t)
    if n and np.any(np.diff(t) <= 0):
        raise BadInput("timestamps must be strictly increasing", field="times")
    det_arr = np.asarray(detections if not isinstance(detections, set) else sorted(detections))
    if det_arr.dtype == bool:
        if len(det_arr) != n:
            raise BadInput("the detection mask must have one entry per row", field="detections")
        det = np.flatnonzero(det_arr)
    else:
        det = np.unique(det_arr.astype(np.int64)) if det_arr.size else np.zeros(0, np.int64)
        if det.size and (det[0] < 0 or det[-1] >= n):
            raise BadInput("a detection row is out of range", field="detections")
    probation = int(min(math.floor(probation_percent * n), probation_percent * 5000))

    # window bounds as rows
    bounds: list[tuple[int, int]] = []
    for start, end in windows:
        s, e = _as_seconds([start, end])
        left = int(np.searchsorted(t, s, side="left"))
        right = int(np.searchsorted(t, e, side="right")) - 1
        if right < left:
            raise BadInput(f"the window {start} .. {end} holds no row", field="windows")
        if bounds and left <= bounds[-1][1]:
            raise BadInput("windows must be sorted and disjoint", field="windows")
        bounds.append((left, right))

    max_tp = scaled_sigmoid(-1.0)
    window_of = np.full(n, -1, dtype=np.int64)
    for k, (left, right) in enumerate(bounds):
        window_of[left : right + 1] = k
    first: list[int | None] = [None] * len(bounds)
    fp_cost = 0.0
    fp = 0
    prev_right: int | None = None
    prev_width = 0
    wk = 0  # windows passed so far (for "previous window")
    for i in det.tolist():
        if i < probation:
            continue
        while wk < len(bounds) and bounds[wk][1] < i:
            prev_right, prev_width = bounds[wk][1], bounds[wk][1] - bounds[wk][0] + 1
            wk += 1
        k = int(window_of[i])
        if k >= 0:
            if first[k] is None:
                first[k] = i
            continue
        fp += 1
        if prev_right is None:
            y = 3.0
        else:
            # a one-row previous window would divide by zero in NAB too; treat as far away
            y = (i - prev_right) / (prev_width - 1) if prev_width > 1 else 3.0
        fp_cost += abs(profile.a_fp) * scaled_sigmoid(y)

    scores: list[float] = []
    firsts: list[int | None] = []
    delays: list[float] = []
    tp = fn = 0
    for k, (left, right) in enumerate(bounds):
        if right < probation:
            continue  # wholly in probation: not scored
        width = right - left + 1
        i_first = first[k]
        firsts.append(i_first)
        if i_first is None:
            fn += 1
            scores.append(profile.a_fn)
        else:
            tp += 1
            y = -(right - i_first + 1) / width
            scores.append(profile.a_tp * scaled_sigmoid(y) / max_tp)
            delays.append(float(t[i_first] - t[left]))
    raw = float(sum(scores) + fp_cost)
    return NabSeriesScore(
        raw=raw,
        n_windows=len(scores),
        tp=tp,
        fn=fn,
        fp=fp,
        window_scores=tuple(scores),
        first_detections=tuple(firsts),
        delays_s=tuple(delays),
        profile=profile,
    )


def nab_normalized_score(results: Iterable[NabSeriesScore]) -> float:
    """NAB's normalised score ``100 (raw - null) / (perfect - null)`` summed over series.

    >>> import numpy as np
    >>> t = np.arange("2015-01-01T00:00", 2000 * 5, 5, dtype="datetime64[m]")
    >>> win = [(t[1000], t[1099])]
    >>> nab_normalized_score([nab_series_score(t, [1000], win), nab_series_score(t, [], win)])
    50.0
    """
    rs = list(results)
    raw = sum(r.raw for r in rs)
    null = sum(r.null for r in rs)
    perfect = sum(r.perfect for r in rs)
    if perfect == null:
        return float("nan")
    return 100.0 * (raw - null) / (perfect - null)


# ---------------------------------------------------------------------- NAB files
def read_nab_csv(path: str | Path) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.float64]]:
    """Read a NAB data file (``timestamp,value``) into ``datetime64[s]`` times and values.

    Raises
    ------
    BadInput
        On a missing column or an unreadable row (with the file and line), or a file that is
        not UTF-8.
    """
    path = Path(path)
    times: list[np.datetime64] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8") as fh:
        try:
            reader = csv.DictReader(fh)
            for col in ("timestamp", "value"):
                if col not in (reader.fieldnames or ()):
                    raise BadInput(f"no {col!r} column", file=str(path), line=1, field=col)
            for line, row in enumerate(reader, start=2):
                try:
                    times.append(np.datetime64(row["timestamp"].replace(" ", "T"), "s"))
                    values.append(float(row["value"]))
                except (ValueError, TypeError, AttributeError) as exc:
                    raise BadInput(f"unreadable row ({exc})", file=str(path), line=line) from exc
        except UnicodeDecodeError as exc:
            raise BadInput("not valid UTF-8 text; save it as UTF-8", file=str(path)) from exc
    return np.array(times, dtype="datetime64[s]"), np.array(values, dtype=np.float64)


def read_nab_windows(
    path: str | Path,
) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """Read NAB's ``combined_windows.json`` (or a subset) into ``{series: [(start, end)]}``."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: [
                (np.datetime64(s.replace(" ", "T"), "s"), np.datetime64(e.replace(" ", "T"), "s"))
                for s, e in wins
            ]
            for name, wins in raw.items()
        }
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadInput(f"not a NAB windows file ({exc})", file=str(path)) from exc
