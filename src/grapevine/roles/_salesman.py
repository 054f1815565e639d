"""Salesmen: do the people someone exposes convert more than comparable exposed people?

The lift of one person is a matched comparison (coarsened exact matching, Iacus, King and
Porro 2012): every exposed person falls in a stratum of what else explains conversion
(how many exposures they had, their degree, when they were exposed, and any columns the
caller names), and the person's exposed are compared, stratum by stratum, with the exposed
people of the same stratum whom this person did not expose. Raw counts of converted
contacts, or a comparison with all other exposed people, overstate influence because
well-connected, much-exposed people convert more whoever exposes them (Aral, Muchnik,
Sundararajan 2009 found naive estimates 300-700% too high).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from grapevine.errors import InvalidParameter
from grapevine.graph import Graph

__all__ = ["SalesmanLift", "salesman_lift"]

_OWNER = "influencer_roles"

#: Upper edges of the exposure-count strata: 1, 2, 3-4, 5-8, 9+.
EXPOSURE_BINS = (1, 2, 4, 8)

#: Number of quantile strata of the (first) exposure time, when a ``time`` column is given.
TIME_STRATA = 4


class SalesmanLift(NamedTuple):
    """Per-node arrays of the matched salesman lift (0.0 where there is no estimate)."""

    score: np.ndarray
    exposures: np.ndarray
    matched: np.ndarray
    lift: np.ndarray
    low: np.ndarray
    high: np.ndarray
    naive: np.ndarray
    reasons: list[str]
    datas: list[str]


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def _exposed_strata(
    graph: Graph, pairs: pd.DataFrame, frame: pd.DataFrame, match_on: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """One row per exposed person: ``converted`` and its stratum ``s``; the variables used."""
    per = pairs.groupby("exposed", sort=False)
    people = pd.DataFrame({"converted": per["converted"].max(), "count": per.size()})
    bins = np.searchsorted(np.asarray(EXPOSURE_BINS), people["count"].to_numpy(), side="left")
    keys = {"exposures": bins}
    used = ["exposure count"]
    # degree of the exposed person on the undirected view (-1: not in the graph)
    pos = graph.positions(np.asarray(people.index.to_numpy()))
    degree = np.bincount(graph.sources(), minlength=graph.n_nodes)
    if graph.directed:
        degree = degree + np.bincount(graph.indices, minlength=graph.n_nodes)
    deg = np.where(pos >= 0, degree[np.maximum(pos, 0)], -1)
    keys["degree"] = np.where(deg > 0, np.floor(np.log2(np.maximum(deg, 1))) + 1, deg).astype(
        np.int64
    )
    if len(np.unique(keys["degree"])) > 1:
        used.append("degree")
    if "time" in frame.columns:
        first = frame.groupby("exposed", sort=False)["time"].min().reindex(people.index)
        t = pd.to_numeric(first, errors="coerce")
        if t.notna().sum() >= TIME_STRATA:
            q = pd.qcut(t, TIME_STRATA, labels=False, duplicates="drop")
            keys["time"] = q.fillna(-1).to_numpy(dtype=np.int64)
            used.append("exposure time")
    for col in match_on:
        first_value = frame.groupby("exposed", sort=False)[col].first().reindex(people.index)
        keys[f"m:{col}"] = first_value.astype(str).to_numpy()
        used.append(col)
    strata = pd.DataFrame(keys, index=people.index)
    people["s"] = strata.groupby(list(keys), sort=False, dropna=False).ngroup().to_numpy()
    return people, used


def salesman_lift(
    graph: Graph,
    conversions: Any,
    *,
    min_exposures: int = 20,
    z: float = 1.959963984540054,
    match_on: Sequence[str] = (),
) -> SalesmanLift:
    """Matched conversion lift of the people each node exposed, with a confidence interval.

    Parameters
    ----------
    graph : Graph
        The exposers are matched to its nodes; exposed people's degree is read from it.
    conversions : DataFrame
        ``exposer`` (missing: exposed by no one in particular, a comparison exposure),
        ``exposed``, ``converted`` (0/1); optional ``time`` (number) and the
        ``match_on`` columns (their first value per exposed person is used).
    min_exposures : int
        Fewest distinct people exposed, and fewest of them matched, for an estimate.
    z : float
        Normal quantile of the interval (1.96 for 95%).
    match_on : sequence of str
        More columns of ``conversions`` to match exposed people on (exact values).

    Returns
    -------
    SalesmanLift
        ``score`` is the lower confidence bound of the matched lift clipped to [0, 1].

    Notes
    -----
    Each exposed person ``e`` (unit of analysis; repeated pairs count once, converted if
    any row says so) falls in a stratum by exposure count (1, 2, 3-4, 5-8, 9+, counting
    rows with no exposer too), degree in ``graph`` (0, 1, 2-3, 4-7, ... or not in the
    graph), the quartile of their first exposure time (if ``time`` is given) and the
    ``match_on`` values. For exposer ``i`` and stratum ``s``: ``n1, x1`` people ``i``
    exposed and how many converted; ``n0, x0`` the same for the stratum's other people.
    Strata without comparison people are left out (reported as unmatched). The lift is
    the average treatment effect on the treated, ``sum_s n1 (x1/n1 - x0/n0) / sum_s n1``,
    with variance ``sum_s (n1 / M)^2 (p1 (1 - p1) / n1 + p0 (1 - p0) / n0)`` where
    ``p = (x + 0.5) / (n + 1)`` (so a stratum that is all 0 or all 1 still counts), and
    the interval is the normal one, clipped to [-1, 1]. ``naive`` is the unmatched
    ``x_i / n_i - (X - x_i) / (N - n_i)`` over all exposed people. O(rows) with pandas
    group-bys. Matching on observed variables removes the confounding they carry, not
    homophily on what was not observed: this is not a causal estimate.
    """
    n = graph.n_nodes
    zeros = np.zeros(n, dtype=np.float64)
    k_zero = np.zeros(n, dtype=np.int64)
    if conversions is None:
        return SalesmanLift(
            zeros,
            k_zero,
            k_zero.copy(),
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
            zeros.copy(),
            ["no data: no conversions given"] * n,
            ["no data"] * n,
        )
    cols = ("exposer", "exposed", "converted")
    if not isinstance(conversions, pd.DataFrame) or any(c not in conversions.columns for c in cols):
        raise InvalidParameter(
            "conversions", _OWNER, "a DataFrame with exposer, exposed, converted columns", "other"
        )
    missing = [c for c in match_on if c not in conversions.columns]
    if missing:
        raise InvalidParameter("match_on", _OWNER, "columns of conversions", missing)
    try:
        values = conversions["converted"].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameter("conversions", _OWNER, "converted values 0 or 1", "other") from None
    if not np.isin(values, (0.0, 1.0)).all():
        raise InvalidParameter("conversions", _OWNER, "converted values 0 or 1", "other")
    frame = conversions.reset_index(drop=True).copy()
    frame["converted"] = values
    frame["exposer"] = frame["exposer"].astype(object).where(frame["exposer"].notna(), None)
    frame = frame[frame["exposed"].notna()]
    # one row per (exposer, exposed); a row with no exposer is its own exposure
    named_rows = frame[frame["exposer"].notna()]
    named = named_rows.groupby(["exposer", "exposed"], sort=False)["converted"].max().reset_index()
    organic = frame.loc[frame["exposer"].isna(), ["exposer", "exposed", "converted"]]
    pairs = pd.concat([named, organic], ignore_index=True)
    people, used = _exposed_strata(graph, pairs, frame, match_on)
    total_n = float(len(people))
    total_x = float(people["converted"].sum())
    stratum_n = people.groupby("s")["converted"].size()
    stratum_x = people.groupby("s")["converted"].sum()
    # exposers in the graph: their people per stratum (each exposed person once per exposer)
    pos_all = graph.positions(np.asarray(named["exposer"].to_numpy(dtype=object)))
    treated = named.assign(node=pos_all)
    treated = treated[treated["node"] >= 0]
    treated = treated.assign(
        s=people["s"].reindex(treated["exposed"]).to_numpy(),
        y=people["converted"].reindex(treated["exposed"]).to_numpy(),
    )
    cell = treated.groupby(["node", "s"], sort=False)["y"].agg(["sum", "size"]).reset_index()
    cell["n0"] = stratum_n.reindex(cell["s"]).to_numpy() - cell["size"].to_numpy()
    cell["x0"] = stratum_x.reindex(cell["s"]).to_numpy() - cell["sum"].to_numpy()
    k = np.bincount(
        cell["node"].to_numpy(dtype=np.int64), weights=cell["size"].to_numpy(), minlength=n
    ).astype(np.int64)
    x = np.bincount(cell["node"].to_numpy(dtype=np.int64), weights=cell["sum"], minlength=n)
    ok = cell["n0"].to_numpy() > 0
    m_cell = cell[ok]
    node = m_cell["node"].to_numpy(dtype=np.int64)
    n1 = m_cell["size"].to_numpy(dtype=np.float64)
    x1 = m_cell["sum"].to_numpy(dtype=np.float64)
    n0 = m_cell["n0"].to_numpy(dtype=np.float64)
    x0 = m_cell["x0"].to_numpy(dtype=np.float64)
    matched = np.bincount(node, weights=n1, minlength=n)
    diff_sum = np.bincount(node, weights=n1 * (x1 / n1 - x0 / n0), minlength=n)
    p1 = (x1 + 0.5) / (n1 + 1.0)
    p0 = (x0 + 0.5) / (n0 + 1.0)
    var_sum = np.bincount(
        node, weights=n1 * n1 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0), minlength=n
    )
    comp_x = np.bincount(node, weights=n1 * x0 / n0, minlength=n)
    score = np.zeros(n)
    lift = np.zeros(n)
    low = np.zeros(n)
    high = np.zeros(n)
    naive = np.zeros(n)
    reasons: list[str] = []
    datas: list[str] = []
    how = ", ".join(used)
    for i in range(n):
        ki = int(k[i])
        mi = int(matched[i])
        if ki == 0:
            reasons.append("no data: exposed no one")
            datas.append("no data")
            continue
        rest = total_n - ki
        if rest >= 1:
            naive[i] = x[i] / ki - (total_x - x[i]) / rest
        if ki < min_exposures:
            reasons.append(f"not enough data: {_plural(ki, 'exposure')} (need {min_exposures})")
            datas.append(f"not enough data: {_plural(ki, 'exposure')}")
            continue
        if rest < 1 or mi == 0:
            reasons.append("no data: no comparison group of comparable exposed people")
            datas.append(f"no data: {_plural(ki, 'exposure')}, no comparison group")
            continue
        if mi < min_exposures:
            reasons.append(
                f"not enough data: {mi} of {_plural(ki, 'exposure')} have comparable "
                f"exposed people (need {min_exposures})"
            )
            datas.append(f"not enough data: {_plural(ki, 'exposure')}, {mi} matched")
            continue
        d = diff_sum[i] / mi
        half = z * math.sqrt(var_sum[i]) / mi
        lift[i], low[i], high[i] = d, max(-1.0, d - half), min(1.0, d + half)
        score[i] = min(1.0, max(0.0, low[i]))
        reasons.append(
            f"{100 * x[i] / ki:.0f}% of {ki} exposed converted vs "
            f"{100 * comp_x[i] / mi:.0f}% of comparable exposed others: "
            f"lift {100 * d:+.0f} pts (CI {100 * low[i]:+.0f} to {100 * high[i]:+.0f}); "
            f"naive {100 * naive[i]:+.0f} pts"
        )
        datas.append(
            f"{_plural(ki, 'exposure')}, {mi} matched on {how}; "
            f"{int(rest)} comparison exposed people"
        )
    return SalesmanLift(score, k, matched.astype(np.int64), lift, low, high, naive, reasons, datas)
