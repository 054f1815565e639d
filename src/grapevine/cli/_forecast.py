"""``grapevine forecast``: forecast final sizes from what was observed up to a time."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from grapevine.cli._render import console
from grapevine.connectors import read_cascades
from grapevine.errors import BadInput, GrapevineError
from grapevine.forecast import Forecast

_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"30m"``, ``"1h"``, ``"2.5d"``, ``"1w"``.

    >>> parse_duration("1h"), parse_duration("30m"), parse_duration("45")
    (3600.0, 1800.0, 45.0)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|m|min|h|d|w)?\s*", text)
    if not match:
        raise BadInput(f"not a duration: {text!r} (use e.g. 90, 30m, 1h, 2d)", field="at")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def forecast_one(
    times: np.ndarray, marks: np.ndarray, at: float, model: str, *, random_state: int = 0
) -> Forecast:
    """Forecast one cascade (times relative to its first event) with the named model."""
    if model == "seismic":
        from grapevine.forecast.seismic import seismic_forecast

        return seismic_forecast(times, marks, at=at)
    from grapevine.forecast.hawkes import hawkes_forecast

    return hawkes_forecast(times, marks, at=at, random_state=random_state)


def cascades_from_file(path: Path, fmt: str) -> Iterator[tuple[str, np.ndarray]]:
    for batch in read_cascades(path, format=fmt):  # type: ignore[arg-type]
        posts = batch.posts
        if posts is None:
            continue
        for cid, group in posts.groupby("cascade_id", sort=False):
            t = np.sort(group["time"].to_numpy(dtype=np.float64))
            yield str(cid), t - t[0]


def _record(cid: str, fc: Forecast, at: float, final: int) -> dict[str, Any]:
    def num(x: float) -> float | None:
        return None if math.isnan(x) else (x if math.isfinite(x) else None)

    return {
        "cascade": cid,
        "model": fc.model,
        "at": at,
        "observed": fc.observed,
        "status": fc.status,
        "final_size": num(fc.final_size),
        "interval": [num(fc.interval[0]), num(fc.interval[1])],
        "level": fc.level,
        "message": fc.message,
        "actual_final": final,
    }


def cascades_from_posts(
    posts: pd.DataFrame, cascade: str | None
) -> Iterator[tuple[str, np.ndarray]]:
    """Adoption times of each cascade of a posts table, relative to its first adoption."""
    if cascade is not None:
        posts = posts[posts["cascade_id"].astype(str) == cascade]
        if posts.empty:
            raise BadInput(f"no cascade {cascade!r} in the store", field="cascade")
    posts = posts.dropna(subset=["time"])
    keys = posts["cascade_id"].astype(object).where(posts["cascade_id"].notna(), "(none)")
    for cid, group in posts.groupby(keys, sort=False):
        t = np.sort(group["time"].to_numpy(dtype=np.float64))
        yield str(cid), t - t[0]


def forecast_cascades(
    cascades: Iterator[tuple[str, np.ndarray]],
    *,
    at: float,
    model: str,
    degree: float,
    as_json: bool,
    limit: int | None,
) -> None:
    """Forecast every cascade from what it showed up to ``at`` after its first event."""
    rows = []
    for n, (cid, t) in enumerate(cascades):
        if limit is not None and n >= limit:
            break
        marks = np.full(len(t), degree)
        try:
            fc = forecast_one(t, marks, at, model)
        except GrapevineError as exc:
            fc = Forecast.cannot(model, "not converged", str(exc), observed=int((t <= at).sum()))
        record = _record(cid, fc, at, len(t))
        if as_json:
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()
        else:
            rows.append(record)
    if not as_json:
        _table(rows, f"{model} forecasts at {at:g} s after each cascade's first event")


def _table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for col in ("cascade", "seen", "forecast", "interval", "actual", "status"):
        table.add_column(col, justify="left" if col in ("cascade", "status") else "right")
    for r in rows:
        lo, hi = r["interval"]
        table.add_row(
            r["cascade"][:22],
            f"{r['observed']:,}",
            "-" if r["final_size"] is None else f"{r['final_size']:,.0f}",
            "-" if lo is None else f"{lo:,.0f}-{'inf' if hi is None else f'{hi:,.0f}'}",
            f"{r['actual_final']:,}",
            r["status"] if r["status"] != "ok" else "",
        )
    console.print(table)
    refused = [r for r in rows if r["status"] != "ok"]
    if refused:
        console.print(
            f"{len(refused)} of {len(rows)} cascades: cannot forecast yet "
            f"({pd.Series([r['status'] for r in refused]).value_counts().to_dict()})"
        )
