"""Spike and negative-buzz alerts on the store's mentions, each saying what grew.

Per watch rule, the mentions are counted per hour (all of them, and the negative ones); each
series goes through :class:`~grapevine.listening.SpikeDetector` (robust z-score on log
counts against the same hour of the previous days, using only earlier hours). Every alert
carries :func:`~grapevine.listening.what_grew` of the posts of the alerting hour (all, or the
negative ones) against all the rule's posts of the ``history_days`` before it: the terms,
authors and cascades that grew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from grapevine.connectors import ListenedPost
from grapevine.errors import BadInput
from grapevine.listening._spikes import SpikeDetector

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.store import Store

__all__ = ["SERIES", "BuzzAlert", "buzz_alerts", "hourly_series"]

SERIES = ("mentions", "negative")
_HOUR = 3600


@dataclass(frozen=True)
class BuzzAlert:
    """One alert on one rule's hourly series.

    Attributes
    ----------
    rule : str
    series : str
        ``"mentions"`` (all matched posts) or ``"negative"`` (those labelled negative).
    time : float
        Unix seconds of the start of the alerting hour.
    value, expected, score : float
        The count, the expected count and the z-score (see :class:`SpikeDetector`).
    why : str
        The detector's sentence.
    window_posts, baseline_posts : int
        How many posts the explanation compared.
    what_grew : Any
        :func:`what_grew` of the alerting hour against the baseline days.
    """

    rule: str
    series: str
    time: float
    value: float
    expected: float
    score: float
    why: str
    window_posts: int
    baseline_posts: int
    what_grew: Any


def hourly_series(
    times: Sequence[float] | np.ndarray, *, start: float | None = None, end: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Counts per hour (bin starts as Unix seconds, counts), empty hours included.

    >>> starts, counts = hourly_series([10.0, 20.0, 7300.0])
    >>> starts.tolist(), counts.tolist()
    ([0.0, 3600.0, 7200.0], [2.0, 0.0, 1.0])
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0 and (start is None or end is None):
        return np.zeros(0), np.zeros(0)
    lo = np.floor((t.min() if start is None else start) / _HOUR) * _HOUR
    hi = np.floor((t.max() if end is None else end) / _HOUR) * _HOUR
    n = int((hi - lo) // _HOUR) + 1
    idx = ((t - lo) // _HOUR).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < n)]
    counts = np.bincount(idx, minlength=n).astype(np.float64)
    return lo + _HOUR * np.arange(n, dtype=np.float64), counts


def _as_post(row: Mapping[str, Any]) -> ListenedPost:
    return ListenedPost(
        platform=row["platform"],
        external_id=row["external_id"],
        author=row["author"],
        time=row["time"],
        text=row["text"] or "",
        parent_external_id=row["parent_external_id"],
        language=row["language"],
    )


def buzz_alerts(
    store: Store,
    *,
    rule: str | None = None,
    since: float | None = None,
    until: float | None = None,
    threshold: float = 5.0,
    method: str = "robust",
    seasonal: bool = True,
    history_days: int = 7,
    cooldown_hours: float = 24.0,
    top: int = 5,
) -> list[BuzzAlert]:
    """Volume and negative-volume alerts of every rule (or one), oldest first.

    Parameters
    ----------
    store : Store
    rule : str, optional
        Only this rule (by name).
    since, until : float, optional
        Unix seconds: report alerts raised in ``[since, until)`` (the history before
        ``since`` is still used to score them).
    threshold, method, seasonal, history_days, cooldown_hours
        Passed to :class:`SpikeDetector`.
    top : int
        Terms, authors and cascades in each explanation.

    Raises
    ------
    BadInput
        When ``rule`` names no rule.
    """
    from grapevine.listening._explain import what_grew
    from grapevine.store import listening_repo as repo

    with store.engine.connect() as conn:
        rules = repo.list_rules(conn)
        if rule is not None:
            rules = [r for r in rules if r["name"] == rule]
            if not rules:
                raise BadInput(f"no watch rule named {rule!r}", field="rule")
        rows = repo.mention_rows(conn, until=until)
    by_rule: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_rule.setdefault(int(r["rule_id"]), []).append(r)
    alerts: list[BuzzAlert] = []
    for rinfo in rules:
        mine = by_rule.get(rinfo["id"], [])
        if not mine:
            continue
        all_times = np.array([r["time"] for r in mine], dtype=np.float64)
        start, end = float(all_times.min()), float(all_times.max() if until is None else until)
        for series in SERIES:
            picked = mine if series == "mentions" else [r for r in mine if r["label"] == "negative"]
            times = np.array([r["time"] for r in picked], dtype=np.float64)
            bins, counts = hourly_series(times, start=start, end=end)
            if len(bins) < 2:
                continue
            det = SpikeDetector(
                method,
                threshold=threshold,
                seasonal=seasonal,
                history_days=history_days,
                cooldown_hours=cooldown_hours,
            )
            stamps = bins.astype(np.int64).astype("datetime64[s]")
            for spike in det.fit(stamps, counts).spikes_:
                t0 = float(bins[spike.index])
                if since is not None and t0 < since:
                    continue
                window = [_as_post(r) for r in picked if t0 <= r["time"] < t0 + _HOUR]
                base_lo = t0 - history_days * 86_400
                # Against the rule's whole conversation of the days before (for the negative
                # series too: what the complaints say that the usual talk does not).
                baseline = [_as_post(r) for r in mine if base_lo <= r["time"] < t0]
                alerts.append(
                    BuzzAlert(
                        rule=rinfo["name"],
                        series=series,
                        time=t0,
                        value=spike.value,
                        expected=spike.expected,
                        score=spike.score,
                        why=spike.why,
                        window_posts=len(window),
                        baseline_posts=len(baseline),
                        what_grew=what_grew(window, baseline, top=top),
                    )
                )
    alerts.sort(key=lambda a: (a.time, a.rule, a.series))
    return alerts
