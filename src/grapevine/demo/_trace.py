"""One simulated referral programme on a real network: who referred whom, when, on which
channel, and who bought.

The spread is one realisation of the Independent Cascade model with the library's
probabilities (:func:`grapevine.diffusion.edge_probabilities`, weighted cascade, scaled by
``strength``): a participant's link reaches each person who trusts them once, and converts
them with the arc's probability. Everything around it is simulated and stated here: the
delay from a participant's sign-up to a friend's click (exponential, mean ``share_days``),
from the click to the sign-up (exponential, mean 2 hours), the clicks that do not convert
(``browse`` of the failed exposures), the purchase of a signed-up person (probability
``buy``, within a week, log-normal order values), and the refunds (``refund`` of them).
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from grapevine.diffusion import edge_probabilities
from grapevine.graph import Graph

__all__ = ["TRACE_COLUMNS", "referral_trace"]

_DAY = 86_400.0
CHANNEL_SHARE = {
    "whatsapp": 0.34,
    "email": 0.22,
    "facebook": 0.16,
    "copy": 0.12,
    "x": 0.08,
    "linkedin": 0.05,
    "mastodon": 0.03,
}

TRACE_COLUMNS = (
    "person",
    "referrer",
    "generation",
    "channel",
    "click_time",
    "signup_time",
    "purchase_time",
    "value",
    "refund_time",
)
"""One row per exposure that led to a click: the person (a graph label), the referrer
(None for a seed), the generation (0 for a seed), the link's channel (None for a seed), and
the times of click, sign-up, purchase and refund (NaN when it did not happen), with the
order value."""


def referral_trace(
    graph: Graph,
    seeds: list[object],
    *,
    start: float,
    end: float,
    strength: float = 0.8,
    share_days: float = 2.5,
    browse: float = 0.08,
    buy: float = 0.6,
    refund: float = 0.05,
    random_state: int = 0,
) -> pd.DataFrame:
    """Simulate the programme from ``seeds`` (who enrol in its first days) until ``end``.

    Parameters
    ----------
    graph : Graph
        Arcs point the way a recommendation travels (from the trusted to who trusts them).
    seeds : list
        Labels of the first participants.
    start, end : float
        Unix seconds: the programme's first day and the moment the simulation stops
        (nothing after ``end`` happens).
    strength : float
        Factor on the weighted-cascade probabilities (1: the model's own).
    random_state : int
        Same inputs, same trace.

    Returns
    -------
    DataFrame
        Columns :data:`TRACE_COLUMNS`, ordered by click time (seeds first).
    """
    rng = np.random.default_rng(random_state)
    p = np.minimum(1.0, strength * edge_probabilities(graph, "wc"))
    channels = list(CHANNEL_SHARE)
    weights = np.array(list(CHANNEL_SHARE.values()))
    weights /= weights.sum()
    ids = graph.ids
    rows: list[dict[str, object]] = []
    active = np.zeros(graph.n_nodes, dtype=bool)
    heap: list[tuple[float, int, int]] = []
    for pos in graph.index_of(seeds):
        t = start + rng.uniform(0, 3 * _DAY)
        active[pos] = True
        rows.append(_row(ids[pos], None, 0, None, np.nan, t, rng, buy, refund, end))
        heapq.heappush(heap, (t, int(pos), 0))
    while heap:
        t, u, gen = heapq.heappop(heap)
        lo, hi = graph.indptr[u], graph.indptr[u + 1]
        for j in range(lo, hi):
            v = int(graph.indices[j])
            draw = rng.uniform()
            click = t + rng.exponential(share_days * _DAY)
            channel = channels[int(rng.choice(len(channels), p=weights))]
            if active[v] or click >= end:
                continue
            if draw < p[j]:
                signup = click + rng.exponential(2 * 3600.0)
                if signup >= end:
                    continue
                active[v] = True
                rows.append(
                    _row(ids[v], ids[u], gen + 1, channel, click, signup, rng, buy, refund, end)
                )
                heapq.heappush(heap, (signup, v, gen + 1))
            elif draw < p[j] + browse * (1 - p[j]):
                rows.append(
                    {
                        "person": ids[v],
                        "referrer": ids[u],
                        "generation": gen + 1,
                        "channel": channel,
                        "click_time": click,
                        "signup_time": np.nan,
                        "purchase_time": np.nan,
                        "value": np.nan,
                        "refund_time": np.nan,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(TRACE_COLUMNS))
    frame["_first"] = frame["click_time"].fillna(frame["signup_time"])
    return frame.sort_values("_first", kind="stable").drop(columns="_first").reset_index(drop=True)


def _row(
    person: object,
    referrer: object,
    generation: int,
    channel: str | None,
    click: float,
    signup: float,
    rng: np.random.Generator,
    buy: float,
    refund: float,
    end: float,
) -> dict[str, object]:
    purchase = value = refunded = np.nan
    if rng.uniform() < buy:
        t = signup + rng.uniform(0.1, 7.0) * _DAY
        if t < end:
            purchase = t
            value = round(float(rng.lognormal(np.log(45.0), 0.5)), 2)
            if rng.uniform() < refund:
                r = t + rng.uniform(1.0, 10.0) * _DAY
                refunded = r if r < end else np.nan
    return {
        "person": person,
        "referrer": referrer,
        "generation": generation,
        "channel": channel,
        "click_time": click,
        "signup_time": signup,
        "purchase_time": purchase,
        "value": value,
        "refund_time": refunded,
    }
