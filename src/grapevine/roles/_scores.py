"""Influencer role scores: connectors, mavens and salesmen, each with its reason.

Gladwell's three kinds of people whose word travels, measured on what the data can show:

- **connector**: ties that span groups. The mean of three percentile ranks: the number of
  Leiden communities among the person's neighbours (Burt's structural holes), shortest-path
  betweenness on the undirected view, and the k-shell (Kitsak et al. 2010).
- **maven**: adopts early. From observed cascades: the mean adoption-time percentile within
  the cascades the person joined (earliest = 1) and the share of those cascades they started.
- **salesman**: the people they expose convert more than comparable exposed people do. The
  lower confidence bound of the matched lift in conversion rate (same exposure count,
  degree and exposure time; coarsened exact matching).

Every score lies in [0, 1]; where the data cannot support a score it is 0 with a reason that
starts with ``"no data"`` or ``"not enough data"``, never NaN.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from grapevine._validation import check_number
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.graph.centrality import (
    betweenness,
    betweenness_sources_needed,
    brokerage,
    communities,
    kcore,
)
from grapevine.roles._learn import cascade_arrays
from grapevine.roles._salesman import salesman_lift

__all__ = ["EXACT_BETWEENNESS_UNDER", "ROLES", "TIE_BREAK", "influencer_roles"]

#: Graphs with fewer nodes than this get exact (Brandes) betweenness; larger ones sampling.
EXACT_BETWEENNESS_UNDER = 2_000

#: The three roles, in the order of the output columns.
ROLES = ("connector", "maven", "salesman")

#: The measure that breaks a tie on a role's score (larger first; then the id, smaller
#: first): it gives the ``*_order`` columns, a strict order of everyone.
TIE_BREAK = {"connector": "betweenness", "maven": "cascades", "salesman": "exposures"}

_OWNER = "influencer_roles"


# ---------------------------------------------------------------------------- helpers
def _percentile(x: np.ndarray) -> np.ndarray:
    """Share of the other people strictly below each value: 0 for the lowest, 1 for the top.

    Ties share a value, so the result does not depend on the order of the nodes.
    """
    n = len(x)
    if n < 2:
        return np.zeros(n, dtype=np.float64)
    below = pd.Series(x).rank(method="min").to_numpy(dtype=np.float64) - 1.0
    return np.asarray(below / (n - 1), dtype=np.float64)


def _rank(score: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties share the best rank among them."""
    if len(score) == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = pd.Series(score).rank(method="min", ascending=False)
    return np.asarray(ranks.to_numpy(dtype=np.float64), dtype=np.int64)


def _id_order(ids: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Each id's position when the ids are sorted (numbers by value, else as text)."""
    arr = np.asarray(ids)
    if arr.dtype == object:
        arr = np.asarray([str(x) for x in ids])
    pos = np.empty(len(arr), dtype=np.int64)
    pos[np.argsort(arr, kind="stable")] = np.arange(len(arr))
    return pos


def _order(score: np.ndarray, second: np.ndarray, id_pos: np.ndarray) -> np.ndarray:
    """1, 2, ... n: by score, ties by ``second`` (larger first), then by id (smaller first)."""
    order = np.lexsort((id_pos, -np.asarray(second, dtype=np.float64), -score))
    out = np.empty(len(score), dtype=np.int64)
    out[order] = np.arange(1, len(score) + 1)
    return out


def _undirected_view(graph: Graph) -> Graph:
    """The simple undirected view (both arcs of each edge, no self-loops), same node numbers."""
    if not graph.directed:
        return graph
    n = graph.n_nodes
    src = graph.sources().astype(np.int64)
    dst = graph.indices.astype(np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    a = sp.coo_array(
        (np.ones(2 * len(src), dtype=np.int8), (np.r_[src, dst], np.r_[dst, src])), shape=(n, n)
    ).tocsr()
    a.sum_duplicates()
    a.sort_indices()
    return Graph(a.indptr, a.indices, ids=graph.ids, directed=False)


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


# ---------------------------------------------------------------------------- connector
def _connectors(
    graph: Graph, epsilon: float, random_state: int | None
) -> tuple[np.ndarray, list[str], list[str], pd.DataFrame]:
    n = graph.n_nodes
    und = _undirected_view(graph)
    labels = communities(und, weighted=False, random_state=random_state)
    reach = brokerage(und, labels).reach
    # below the threshold, or where sampling would need every node as a source: exact
    exact = n < EXACT_BETWEENNESS_UNDER or betweenness_sources_needed(n, epsilon, 0.1) >= n
    btw = betweenness(und, exact=exact, epsilon=epsilon, random_state=random_state)
    btw = np.round(btw, 12)  # ties of symmetric nodes must stay ties
    shell = kcore(und)
    degree = np.diff(und.indptr)
    score = (_percentile(reach) + _percentile(btw) + _percentile(shell)) / 3.0
    n_comm = len(np.unique(labels)) if n else 0
    how = "exact" if exact else f"KADABRA-sampled (epsilon={epsilon:g})"
    data = f"{_plural(n_comm, 'Leiden community')}; {how} betweenness on the undirected view"
    data = data.replace("communitys", "communities")
    reasons: list[str] = []
    datas: list[str] = []
    order = np.sort(btw)
    for i in range(n):
        if degree[i] == 0:
            score[i] = 0.0
            reasons.append("no data: no ties in the graph")
            datas.append("no data: isolated")
            continue
        r = int(reach[i])
        part = f"bridges {r} communities" if r > 1 else "ties within 1 community"
        if btw[i] > 0:
            at_least = n - int(np.searchsorted(order, btw[i], side="left"))
            top = max(1, math.ceil(100.0 * at_least / n))
            part += f"; in the top {top}% of betweenness"
        else:
            part += "; on no shortest paths between others"
        part += f"; k-shell {int(shell[i])}"
        reasons.append(part)
        datas.append(data)
    extra = pd.DataFrame({"communities_reached": reach, "betweenness": btw, "kshell": shell})
    return np.clip(score, 0.0, 1.0), reasons, datas, extra


# ---------------------------------------------------------------------------- maven
def _mavens(
    graph: Graph, adoptions: Any, min_cascades: int
) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    n = graph.n_nodes
    score = np.zeros(n, dtype=np.float64)
    if adoptions is None:
        return score, ["no data: no adoptions given"] * n, ["no data"] * n, np.zeros(n, np.int64)
    if isinstance(adoptions, pd.DataFrame):
        cs = cascade_arrays(graph, adoptions)
    else:
        raise InvalidParameter(
            "adoptions", _OWNER, "a DataFrame with user, time, cascade columns", type(adoptions)
        )
    sizes = np.diff(cs.indptr)
    frame = pd.DataFrame(
        {"c": np.repeat(np.arange(len(sizes)), sizes), "node": cs.nodes, "t": cs.times}
    )
    by = frame.groupby("c")["t"]
    rank = by.rank(method="average").to_numpy()  # ties: same percentile, whatever the order
    size = by.transform("size").to_numpy().astype(np.float64)
    first = frame["t"].to_numpy() == by.transform("min").to_numpy()
    early = np.ones(len(frame), dtype=np.float64)
    many = size > 1
    early[many] = 1.0 - (rank[many] - 1.0) / (size[many] - 1.0)
    count = np.bincount(cs.nodes, minlength=n).astype(np.int64)
    early_sum = np.bincount(cs.nodes, weights=early, minlength=n)
    starts = np.bincount(cs.nodes, weights=first.astype(np.float64), minlength=n).astype(np.int64)
    reasons: list[str] = []
    datas: list[str] = []
    for i in range(n):
        k = int(count[i])
        if k < min_cascades:
            reasons.append(f"no data: fewer than {min_cascades} cascades ({k})")
            datas.append("no data" if k == 0 else f"no data: {_plural(k, 'cascade')}")
            continue
        mean_early = early_sum[i] / k
        share = starts[i] / k
        score[i] = 0.5 * mean_early + 0.5 * share
        reasons.append(
            f"adopts before {100.0 * mean_early:.0f}% of the other adopters on average; "
            f"started {starts[i]} of {k} cascades"
        )
        datas.append(f"{_plural(k, 'cascade')}")
    return np.clip(score, 0.0, 1.0), reasons, datas, count


# ---------------------------------------------------------------------------- public
def influencer_roles(
    graph: Graph,
    *,
    adoptions: pd.DataFrame | None = None,
    conversions: pd.DataFrame | None = None,
    betweenness_epsilon: float = 0.05,
    min_cascades: int = 3,
    min_exposures: int = 20,
    confidence: float = 0.95,
    match_on: Sequence[str] = (),
    random_state: int | None = None,
) -> pd.DataFrame:
    """Connector, maven and salesman scores of every person, with ranks and reasons.

    Parameters
    ----------
    graph : Graph
        Who is tied to whom; directed graphs are read as undirected for the connector
        measures. Self-loops and repeated edges do not count.
    adoptions : DataFrame, optional
        One row per adoption, columns ``user``, ``time``, ``cascade`` (as
        :func:`cascade_arrays` reads them). Users not in the graph are dropped; a user's
        earliest adoption in a cascade is kept.
    conversions : DataFrame, optional
        One row per exposure, columns ``exposer`` (who exposed; missing for exposures
        from no one in particular, which join the comparison group), ``exposed`` and
        ``converted`` (0 or 1), optionally ``time`` (first exposure time, a number) and
        the ``match_on`` columns. Repeated (exposer, exposed) pairs count once.
    betweenness_epsilon : float, default 0.05
        Additive error, in (0, 1), of the sampled betweenness used on graphs of
        ``EXACT_BETWEENNESS_UNDER`` nodes or more.
    min_cascades : int, default 3
        Fewest cascades a person must have joined to get a maven score.
    min_exposures : int, default 20
        Fewest people a person must have exposed to get a salesman score.
    confidence : float, default 0.95
        Level, in (0, 1), of the lift's confidence interval.
    match_on : sequence of str, default ()
        More columns of ``conversions`` (attributes of the exposed person) to match on,
        besides exposure count, degree and exposure time.
    random_state : int, optional
        Seed of Leiden and the betweenness sampling.

    Returns
    -------
    DataFrame
        One row per node in ``graph.ids`` order: ``id``; ``connector``, ``maven``,
        ``salesman`` in [0, 1]; ``*_rank`` (1 is the top, ties share a rank);
        ``*_order`` (1, 2, ... n: ties on the score broken by :data:`TIE_BREAK`'s measure,
        larger first, then by id); ``*_reason`` (one line) and ``*_data`` (what the score
        rests on, or starting with ``"no data"`` / ``"not enough data"``, when the score
        is 0); and the inputs ``communities_reached``, ``betweenness``, ``kshell``, ``cascades``,
        ``exposures``; the salesman's ``salesman_lift``, ``salesman_ci_low``,
        ``salesman_ci_high`` (matched) and ``salesman_naive_lift`` (all 0.0 where the
        data column says there is no estimate). No value is NaN.

    Raises
    ------
    InvalidParameter
        A parameter out of range, or a frame without the columns named above.

    Notes
    -----
    *Connector*: the mean of the percentile ranks (share of the others strictly below) of
    communities reached (:func:`grapevine.graph.centrality.brokerage` over Leiden
    communities), betweenness on the undirected view (exact Brandes below
    ``EXACT_BETWEENNESS_UNDER`` nodes, O(nm); else :func:`~grapevine.graph.centrality.
    betweenness` with ``method="auto"`` and ``betweenness_epsilon``, which on the
    undirected view is exact or KADABRA sampling, whichever is cheaper) and k-shell.
    Isolated people score 0.

    *Maven*: ``(mean earliness + share of cascades started) / 2``, where earliness in a
    cascade of ``s`` adopters is ``1 - (r - 1) / (s - 1)`` for time rank ``r`` (ties
    averaged; 1 when alone) and a person starts a cascade when no one adopted before them.

    *Salesman*: the lower confidence bound, clipped to [0, 1], of the matched lift: the
    conversion rate of the people this person exposed minus that of comparable exposed
    people they did not expose (same exposure count, degree bucket, exposure-time
    quartile and ``match_on`` values; coarsened exact matching), averaged over the
    person's exposed (:func:`grapevine.roles.salesman_lift`). Raw counts of converted
    contacts, or a comparison with all exposed people, overstate influence because
    well-connected, much-exposed people convert more whoever exposes them; matching
    removes the part of that bias the matched variables carry, not all: this is not a
    causal estimate.

    References
    ----------
    .. [1] Gladwell. The Tipping Point. Little, Brown, 2000.
    .. [2] Burt. Structural Holes. Harvard University Press, 1992.
    .. [3] Kitsak et al. Identification of influential spreaders in complex networks.
       Nature Physics 6, 2010.
    .. [4] Aral, Muchnik, Sundararajan. Distinguishing influence-based contagion from
       homophily-driven diffusion in dynamic networks. PNAS 106(51), 2009.
    .. [5] Iacus, King, Porro. Causal inference without balance checking: coarsened
       exact matching. Political Analysis 20(1), 2012.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> left = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    >>> right = [(a + 5, b + 5) for a, b in left]
    >>> g = Graph.from_edges(left + right + [(3, 4), (4, 5)], directed=False)
    >>> roles = influencer_roles(g, random_state=0)
    >>> top = roles.sort_values("connector_rank").iloc[0]
    >>> int(top["id"]), top["connector_reason"]
    (4, 'bridges 2 communities; in the top 12% of betweenness; k-shell 2')
    >>> roles.loc[0, "maven_reason"]
    'no data: no adoptions given'
    """
    if not isinstance(graph, Graph):
        raise InvalidParameter("graph", _OWNER, "a grapevine Graph", type(graph).__name__)
    check_number(
        betweenness_epsilon,
        "betweenness_epsilon",
        _OWNER,
        low=0.0,
        high=1.0,
        low_closed=False,
        high_closed=False,
    )
    check_number(min_cascades, "min_cascades", _OWNER, kind=numbers.Integral, low=1)
    check_number(min_exposures, "min_exposures", _OWNER, kind=numbers.Integral, low=1)
    check_number(
        confidence, "confidence", _OWNER, low=0.0, high=1.0, low_closed=False, high_closed=False
    )
    if random_state is not None:
        check_number(random_state, "random_state", _OWNER, kind=numbers.Integral, low=0)
    if isinstance(match_on, str) or not all(isinstance(c, str) for c in match_on):
        raise InvalidParameter("match_on", _OWNER, "a sequence of column names", match_on)
    z = NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)
    c_score, c_reason, c_data, extra = _connectors(graph, float(betweenness_epsilon), random_state)
    m_score, m_reason, m_data, m_count = _mavens(graph, adoptions, int(min_cascades))
    sales = salesman_lift(
        graph, conversions, min_exposures=int(min_exposures), z=z, match_on=tuple(match_on)
    )
    s_score, s_reason, s_data, s_count = sales.score, sales.reasons, sales.datas, sales.exposures
    out = pd.DataFrame({"id": graph.ids})
    for role, score in zip(ROLES, (c_score, m_score, s_score), strict=True):
        out[role] = score
    for role, score in zip(ROLES, (c_score, m_score, s_score), strict=True):
        out[f"{role}_rank"] = _rank(score)
    for role, reason in zip(ROLES, (c_reason, m_reason, s_reason), strict=True):
        out[f"{role}_reason"] = pd.Series(reason, dtype=object)
    for role, data in zip(ROLES, (c_data, m_data, s_data), strict=True):
        out[f"{role}_data"] = pd.Series(data, dtype=object)
    out = pd.concat([out, extra.reset_index(drop=True)], axis=1)
    out["cascades"] = m_count
    out["exposures"] = s_count
    id_pos = _id_order(graph.ids)
    for role, score in zip(ROLES, (c_score, m_score, s_score), strict=True):
        out[f"{role}_order"] = _order(score, out[TIE_BREAK[role]].to_numpy(), id_pos)
    out["salesman_lift"] = sales.lift
    out["salesman_ci_low"] = sales.low
    out["salesman_ci_high"] = sales.high
    out["salesman_naive_lift"] = sales.naive
    return out
