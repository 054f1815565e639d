"""Forecasts that always answer: how often each model answers, its error and its coverage.

For each shared cascade set, cascades are ordered by the time of their first event; the later
30 % are scored (time-ordered split). Each scored cascade is forecast from its first 30 min,
1 h and 6 h by ``grapevine.forecast.forecast_with_fallback``, exactly as ``grapevine forecast``
does: the primary model (Hawkes power-law or SEISMIC, from the cascade's own events) where it
can, else the log-linear regression (Szabo-Huberman) with a split-conformal 90 % interval,
fitted only on what was known at the forecast's time: the cascades that started earlier and
had reached the reference age by ``start + at``. The primaries are the slow part (20 s to
4 min per age on Twitter, with the machine's load), so by default they run at 1 h only;
``--all-ages`` runs them at all three.

The truth is the cascade's count at the reference age (the original post included): 24 h for
Weibo (the data set's own prediction time; each cascade was followed for 24 h), 3 days for
Twitter and 30 days for Douban. Only cascades whose reference age falls within the data are
scored or learned from (``known_until``).

Errors: APE = |forecast - truth| / truth, MdAPE its median; MSLE = mean of
(log2 forecast - log2 truth)^2; coverage = share of truths inside the forecast's interval.

Usage::

    .venv/bin/python benchmarks/forecast_fallback.py               # all three sets, ~1 min
    .venv/bin/python benchmarks/forecast_fallback.py --all-ages    # primaries at every age, ~4 min
    .venv/bin/python benchmarks/forecast_fallback.py --quick       # Weibo only, < 1 min
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from _common import (
    RESULTS_DIR,
    data_file,
    facts_markdown,
    fmt_int,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine.connectors import read_cascades
from grapevine.forecast import Answer, forecast_with_fallback

HOUR, DAY = 3600.0, 86400.0
ATS = ((1800.0, "30 min"), (HOUR, "1 h"), (6 * HOUR, "6 h"))
#: (label, primary, keyword arguments of forecast_with_fallback); the product's defaults first.
CONFIGS: list[tuple[str, str, dict[str, object]]] = [
    ("Hawkes → loglinear", "hawkes", {}),
    ("SEISMIC → loglinear", "seismic", {}),
    ("loglinear only", "none", {}),
    ("loglinear only, free slope", "none", {"fit_slope": True}),
    ("loglinear only, all history", "none", {"history": None}),
    ("final = observed", "observed", {}),
]
#: The ages at which the (slow) primaries run by default; the regression runs at all of ATS.
PRIMARY_ATS = (HOUR,)
SCORED_SHARE = 0.3
LEVEL = 0.9


@dataclass
class DataSet:
    name: str
    files: list[str]
    reference: float
    reference_label: str
    followed_for: float | None  # each cascade followed this long (None: until the last event)
    cascades: list[tuple[str, float, np.ndarray]]


def load(
    name: str,
    parts: list[tuple[str, ...]],
    reference: float,
    label: str,
    followed: float | None,
) -> DataSet:
    """The cascades of the files; an adoption repeated across files is kept once (earliest)."""
    frames = []
    for part in parts:
        for batch in read_cascades(data_file(*part)):
            if batch.posts is not None:
                frames.append(batch.posts[["external_id", "time", "cascade_id"]])
    posts = pd.concat(frames).sort_values("time", kind="stable")
    posts = posts.drop_duplicates("external_id")
    out = []
    for cid, group in posts.groupby("cascade_id", sort=False):
        t = np.sort(group["time"].to_numpy(dtype=np.float64))
        out.append((str(cid), float(t[0]), t - t[0]))
    return DataSet(name, ["/".join(p) for p in parts], reference, label, followed, out)


@dataclass
class Scored:
    model: str
    forecast: float
    lo: float
    hi: float
    truth: float
    bounded: bool
    floor: bool = False  # the log-linear floor: no usable history, forecast = observed


def score(
    ds: DataSet, at: float, primary: str, kwargs: dict[str, object]
) -> tuple[list[Scored], int, float, Counter[str]]:
    starts = np.array([c[1] for c in ds.cascades])
    ends = np.array([c[1] + c[2][-1] for c in ds.cascades])
    known_until = (
        float(starts.max() + ds.followed_for) if ds.followed_for is not None else float(ends.max())
    )
    order = np.argsort(starts, kind="stable")
    cut = float(starts[order[int(len(order) * (1 - SCORED_SHARE))]])
    scored_ids = [c[0] for c in ds.cascades if c[1] >= cut and c[1] + ds.reference <= known_until]
    truth = {c[0]: float(np.searchsorted(c[2], ds.reference, side="right")) for c in ds.cascades}
    if primary == "observed":  # the baseline: no growth after `at`
        rows = []
        wanted = set(scored_ids)
        for cid, _, t in ds.cascades:
            if cid in wanted:
                seen = float(np.searchsorted(t, at, side="right"))
                rows.append(Scored("observed", seen, seen, seen, truth[cid], True))
        return rows, len(scored_ids), 0.0, Counter()
    t0 = time.perf_counter()
    answers: list[Answer] = forecast_with_fallback(
        ds.cascades,
        at,
        primary=primary,  # type: ignore[arg-type]
        reference=ds.reference,
        known_until=known_until,
        level=LEVEL,
        only=scored_ids,
        **kwargs,  # type: ignore[arg-type]
    )
    seconds = time.perf_counter() - t0
    rows = []
    why: Counter[str] = Counter()
    for a in answers:
        f = a.forecast
        if a.primary is not None and a.primary is not f:
            why[a.primary.status] += 1
        rows.append(
            Scored(
                a.model,
                f.final_size,
                f.interval[0],
                f.interval[1],
                truth[a.cascade],
                math.isfinite(f.interval[1]),
                a.model == "loglinear" and f.params.get("n_fit", 0) == 0,
            )
        )
    return rows, len(scored_ids), seconds, why


def metrics(rows: list[Scored]) -> tuple[str, str, str, str]:
    if not rows:
        return "—", "—", "—", "—"
    f = np.array([r.forecast for r in rows])
    y = np.array([r.truth for r in rows])
    ape = np.abs(f - y) / y
    msle = np.mean((np.log2(f) - np.log2(y)) ** 2)
    covered = np.mean([r.lo <= r.truth <= r.hi for r in rows])
    bounded = np.mean([r.bounded for r in rows])
    return f"{np.median(ape):.1%}", f"{msle:.3f}", f"{covered:.0%}", f"{bounded:.0%}"


def section(ds: DataSet, primary_ats: tuple[float, ...]) -> str:
    starts = [c[1] for c in ds.cascades]
    lines = [
        f"### {ds.name}",
        "",
        f"{fmt_int(len(ds.cascades))} cascades in {', '.join(f'`{f}`' for f in ds.files)}; "
        f"reference age {ds.reference_label}; first start {utc(min(starts))}, "
        f"last {utc(max(starts))}.",
        "",
    ]
    table = []
    for at, at_label in ATS:
        for label, primary, kwargs in CONFIGS:
            if primary in ("hawkes", "seismic") and at not in primary_ats:
                continue
            rows, n_scored, seconds, why = score(ds, at, primary, kwargs)
            by_model: dict[str, list[Scored]] = defaultdict(list)
            for r in rows:
                by_model[r.model].append(r)
            reasons = ", ".join(f"{k} {v}" for k, v in why.most_common()) or "—"
            for model in ("hawkes", "seismic", "loglinear", "observed"):
                part = by_model.get(model, [])
                if not part and model != ("observed" if primary == "observed" else "loglinear"):
                    continue
                share = f"{len(part)} ({len(part) / n_scored:.0%})" if n_scored else "0"
                mdape, msle, cov, bounded = metrics(part)
                if model == "observed":
                    cov = "—"
                floors = sum(r.floor for r in part)
                table.append(
                    [
                        at_label,
                        label,
                        model,
                        share,
                        mdape,
                        msle,
                        cov,
                        bounded if model == "loglinear" else "",
                        f"{floors}" if model == "loglinear" else "",
                        reasons if model == "loglinear" else "",
                        f"{seconds:.2f}" if model == "loglinear" else "",
                    ]
                )
            log(f"{ds.name} at {at_label} {label}: {len(rows)} scored in {seconds:.1f} s")
            if len(by_model) < 2:
                continue
            mdape, msle, cov, _ = metrics(rows)
            table.append(
                [at_label, label, "**all**", f"{len(rows)}", mdape, msle, cov, "", "", "", ""]
            )
    lines.append(
        markdown_table(
            [
                "at",
                "configuration",
                "answered by",
                "cascades (share)",
                "MdAPE",
                "MSLE (log2)",
                "90 % interval coverage",
                "bounded intervals",
                "no history (floor)",
                "why the primary could not",
                "s (whole configuration)",
            ],
            table,
            align="lllrrrrrrll",
        )
    )
    lines += ["", drift(ds)]
    return "\n".join(lines)


DRIFT_BINS = 8


def drift(ds: DataSet) -> str:
    """Median growth from 1 h to the reference age, by start time (equal-count bins)."""
    starts = np.array([c[1] for c in ds.cascades])
    ends = np.array([c[1] + c[2][-1] for c in ds.cascades])
    until = float(starts.max() + ds.followed_for) if ds.followed_for else float(ends.max())
    done = sorted((c for c in ds.cascades if c[1] + ds.reference <= until), key=lambda c: c[1])
    rows = []
    for part in np.array_split(np.arange(len(done)), DRIFT_BINS):
        if len(part) == 0:
            continue
        group = [done[k] for k in part]
        growth = [
            np.searchsorted(t, ds.reference, side="right") / np.searchsorted(t, HOUR, side="right")
            for _, _, t in group
        ]
        rows.append(
            [
                utc(group[0][1]),
                utc(group[-1][1]),
                fmt_int(len(group)),
                f"x{np.median(growth):.2f}",
            ]
        )
    header = (
        f"Drift: median growth N({ds.reference_label}) / N(1 h) of the cascades that reached "
        f"{ds.reference_label} within the data, in {DRIFT_BINS} groups by start time."
    )
    table = markdown_table(
        ["first start", "last start", "cascades", "median growth 1 h → reference"],
        rows,
        align="llrr",
    )
    return header + "\n\n" + table


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the Weibo sample only")
    parser.add_argument(
        "--all-ages", action="store_true", help="run the primaries at every age, not 1 h only"
    )
    args = parser.parse_args(argv)
    primary_ats = tuple(a for a, _ in ATS) if args.all_ages else PRIMARY_ATS
    sets = [
        load(
            "Weibo sample (CasFlow)",
            [("cascades", "weibo_sample", "weibo_sample_casflow.txt")],
            DAY,
            "24 h",
            DAY,
        ),
    ]
    if not args.quick:
        sets.append(
            load(
                "Twitter (FOREST)",
                [("cascades", "twitter", f"forest_cascade{s}.txt") for s in ("", "valid", "test")],
                3 * DAY,
                "3 days",
                None,
            )
        )
        sets.append(
            load(
                "Douban (FOREST)",
                [("cascades", "douban", f"forest_cascade{s}.txt") for s in ("valid", "test")],
                30 * DAY,
                "30 days",
                None,
            )
        )
    quick = (" --quick" if args.quick else "") + (" --all-ages" if args.all_ages else "")
    t0 = time.perf_counter()
    body = "\n\n".join(section(ds, primary_ats) for ds in sets)
    total = time.perf_counter() - t0
    report = "\n".join(
        [
            "# Forecasts that always answer: fallback to the log-linear regression",
            "",
            f"Command: `.venv/bin/python benchmarks/forecast_fallback.py{quick}` ({total:.0f} s).",
            "",
            facts_markdown(machine_facts(["numpy", "scipy"])),
            "",
            "Method: cascades ordered by their first event; the later 30 % that reached the "
            "reference age within the data are scored. Each is forecast from its first 30 min, "
            "1 h and 6 h by `forecast_with_fallback` (the code of `grapevine forecast`): the "
            "primary model (constant marks 1 for Hawkes, degrees = n* = 100 for SEISMIC; at "
            f"{', '.join(lbl for a, lbl in ATS if a in primary_ats)} only) where it "
            "can, else the log-linear regression (slope 1) fitted on the 300 most recent cascades "
            "that started earlier and had reached the reference age by the forecast's time "
            "(start + at) within the data (half of them, "
            "the most recent, and at least 9 when there are 10 or more, calibrate the "
            "split-conformal 90 % interval). A cascade without any such cascade gets the floor: "
            "its observed count and [observed, inf) (`no history (floor)` counts them). "
            "`loglinear only` asks the regression for every "
            "cascade; `free slope` fits ln N(ref) = b + a ln N(at); `all history` learns from "
            "every usable older cascade; `final = observed` forecasts no growth. "
            "Counts include the original "
            "post. MdAPE = median |forecast - truth| / truth; MSLE = mean (log2 forecast - log2 "
            "truth)²; coverage = share of truths inside the interval (an unbounded upper end "
            "counts as covering); bounded = share of log-linear intervals with a finite upper end. "
            "The Hawkes process forecasts the final size, scored here against the count at the "
            "reference age; SEISMIC forecasts that horizon.",
            "",
            body,
        ]
    )
    write_report(RESULTS_DIR / "forecast_fallback.md", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
