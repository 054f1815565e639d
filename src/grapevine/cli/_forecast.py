"""``grapevine forecast``: forecast the size at a reference age from what was seen up to a time."""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from grapevine.cli._render import console, step
from grapevine.connectors import read_cascades
from grapevine.errors import BadInput
from grapevine.forecast import Answer, Forecast, forecast_with_fallback
from grapevine.forecast.loglinear import min_calibration

_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str, field: str = "at") -> float:
    """Seconds from ``"90"``, ``"30m"``, ``"1h"``, ``"2.5d"``, ``"1w"``.

    >>> parse_duration("1h"), parse_duration("30m"), parse_duration("45")
    (3600.0, 1800.0, 45.0)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|min|h|d|w)?\s*", text)
    if not match:
        raise BadInput(f"not a duration: {text!r} (use e.g. 90, 30m, 1h, 2d)", field=field)
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_reference(text: str) -> float:
    """The forecast's reference age in seconds, a finite duration (``"final"`` is refused).

    The log-linear regression learns the count at this age from older cascades, and only a
    count that was reached by the forecast's time is known then; a final size never is.

    >>> parse_reference("24h"), parse_reference("3d")
    (86400.0, 259200.0)
    """
    if text.strip().lower() in ("final", "inf"):
        raise BadInput(
            f"--reference must be a finite age such as 24h or 3d, got {text!r}: a final size "
            "is never known when a forecast is made, so the regression cannot learn it from "
            "older cascades without using counts from after the forecast",
            field="reference",
        )
    return parse_duration(text, "reference")


Cascade = tuple[str, float, np.ndarray]


def cascades_from_file(path: Path, fmt: str) -> Iterator[Cascade]:
    """Each cascade of a file: id, time of its first event, event times relative to it."""
    for batch in read_cascades(path, format=fmt):  # type: ignore[arg-type]
        posts = batch.posts
        if posts is None:
            continue
        for cid, group in posts.groupby("cascade_id", sort=False):
            t = np.sort(group["time"].to_numpy(dtype=np.float64))
            yield str(cid), float(t[0]), t - t[0]


def cascades_from_posts(posts: pd.DataFrame, cascade: str | None) -> Iterator[Cascade]:
    """Each cascade of a posts table: id, first adoption, adoption times relative to it.

    All cascades are yielded (the older ones are the fallback model's history); ``cascade``
    is only checked to exist.
    """
    if cascade is not None and not (posts["cascade_id"].astype(str) == cascade).any():
        raise BadInput(f"no cascade {cascade!r} in the store", field="cascade")
    posts = posts.dropna(subset=["time"])
    keys = posts["cascade_id"].astype(object).where(posts["cascade_id"].notna(), "(none)")
    for cid, group in posts.groupby(keys, sort=False):
        t = np.sort(group["time"].to_numpy(dtype=np.float64))
        yield str(cid), float(t[0]), t - t[0]


def forecast_cascades(
    cascades: Iterator[Cascade],
    *,
    at: float,
    model: str,
    reference: float,
    level: float,
    degree: float | None,
    history: int = 300,
    as_json: bool,
    limit: int | None,
    cascade: str | None = None,
) -> None:
    """Forecast the cascades from what each showed up to ``at`` after its first event.

    The primary model (``hawkes`` or ``seismic``) answers where it can; elsewhere the
    log-linear regression fitted on the older cascades does (``loglinear`` asks it for all).
    """
    listed = list(cascades)
    ids = [c[0] for c in listed]
    if cascade is not None:
        if cascade not in ids:
            raise BadInput(f"no cascade {cascade!r} to forecast", field="cascade")
        ids = [cascade]
    elif limit is not None:
        ids = ids[:limit]
    with step(f"Forecasting {len(ids):,} cascades ({model}, then the log-linear fallback)"):
        answers = forecast_with_fallback(
            listed,
            at,
            primary="none" if model == "loglinear" else model,  # type: ignore[arg-type]
            reference=reference,
            level=level,
            degree=degree,
            only=ids,
            history=history,
        )
    sizes = {cid: _size_at(t, reference) for cid, _, t in listed}
    records = [_record(a, at, reference, sizes[a.cascade]) for a in answers]
    if as_json:
        for record in records:
            sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        return
    title = f"Forecasts of the size at {_age(reference)} from the first {_age(at)} of each cascade"
    _table(records, title)
    for line in summary(answers, primary=model):
        console.print(line, highlight=False)


def _size_at(t: np.ndarray, reference: float) -> int:
    return int(np.searchsorted(t, reference, side="right"))


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _record(answer: Answer, at: float, reference: float, actual: int) -> dict[str, Any]:
    fc, first = answer.forecast, answer.primary
    return {
        "cascade": answer.cascade,
        "model": answer.model,
        "primary": None if first is None else _short(first.model),
        "primary_status": None if first is None else first.status,
        "why": answer.why,
        "at": at,
        "reference": _num(reference),
        "observed": fc.observed,
        "status": fc.status,
        "final_size": _num(fc.final_size),
        "interval": [_num(fc.interval[0]), _num(fc.interval[1])],
        "level": fc.level,
        "message": fc.message,
        "history": _history(fc),
        "actual_final": actual,
    }


def _short(model: str) -> str:
    return "hawkes" if model.startswith("hawkes") else model


def _history(fc: Forecast) -> int | None:
    """How many older cascades the log-linear regression learned from (None for others)."""
    if fc.model != "loglinear":
        return None
    return int(fc.params.get("n_fit", 0) + fc.params.get("n_calibration", 0))


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def summary(answers: list[Answer], *, primary: str) -> list[str]:
    """Plain sentences: who answered how often, why the primary could not, the intervals.

    >>> summary([], primary="hawkes")
    ['No cascade to forecast.']
    """
    if not answers:
        return ["No cascade to forecast."]
    n = len(answers)
    by_model = Counter(a.model for a in answers)
    parts = [f"{by_model[m]} by {m}" for m in ("hawkes", "seismic", "loglinear") if by_model[m]]
    lines = [f"{n} cascade{'s' if n != 1 else ''} forecast: {', '.join(parts)}."]
    fell = [a for a in answers if a.primary is not None and a.primary is not a.forecast]
    if fell:
        reasons = Counter(a.primary.status for a in fell if a.primary is not None)
        said = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
        lines.append(
            f"{primary} could not forecast {len(fell)} ({said}); the log-linear regression "
            "on the older cascades answered instead."
        )
    loglinear = [a.forecast for a in answers if a.model == "loglinear"]
    if loglinear:
        level = loglinear[0].level
        bounded = [f for f in loglinear if math.isfinite(f.interval[1])]
        history = [_history(f) or 0 for f in loglinear]
        lines.append(
            f"loglinear learned from {min(history)} to {max(history)} older cascades; "
            f"its {level:.0%} interval is bounded for {len(bounded)} of {len(loglinear)} "
            "(unbounded above while fewer than "
            f"{min_calibration(level)} older cascades can calibrate it)."
        )
        floors = sum(h == 0 for h in history)
        if floors:
            lines.append(
                f"{floors} of them had no older cascade past the reference age at their "
                "forecast time: their forecast is the observed count, a floor, not a forecast "
                "of growth."
            )
    return lines


def _table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("cascade", "seen", "forecast", "interval", "actual", "model", "primary said"):
        left = col in ("cascade", "model", "primary said")
        table.add_column(col, justify="left" if left else "right")
    for r in rows:
        lo, hi = r["interval"]
        table.add_row(
            r["cascade"][:22],
            f"{r['observed']:,}",
            "-" if r["final_size"] is None else f"{r['final_size']:,.0f}",
            "-" if lo is None else f"{lo:,.0f}-{'inf' if hi is None else f'{hi:,.0f}'}",
            f"{r['actual_final']:,}",
            r["model"],
            r["primary_status"] if r["primary_status"] not in (None, "ok") else "",
        )
    console.print(table)
