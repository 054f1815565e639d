"""The tipping curve: expected reach against budget, and the budget where it tips."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grapevine._validation import check_choice, check_number
from grapevine.diffusion._edges import model_weights, resolve_seed
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence._budget import seed_costs
from grapevine.influence._imm import MIN_RR_SETS, _Pool

__all__ = ["ReachCurve", "plot_reach_curve", "reach_curve", "tipping_budget"]


@dataclass(frozen=True)
class ReachCurve:
    """Expected reach of the best seeds found for each budget.

    Attributes
    ----------
    budgets : ndarray of float64
        The budgets, increasing.
    reach : ndarray of float64
        Estimated expected reach (people activated, seeds included) at each budget.
    seeds : list of ndarray
        The seed labels bought at each budget.
    cost : ndarray of float64
        What those seeds cost (<= budget).
    n_rr_sets : int
        RR sets the estimates share.
    """

    budgets: np.ndarray
    reach: np.ndarray
    seeds: list[np.ndarray]
    cost: np.ndarray
    n_rr_sets: int


def reach_curve(
    graph: Graph,
    budgets: Any,
    costs: Any = None,
    *,
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    n_rr_sets: int = MIN_RR_SETS,
    random_state: int | np.random.Generator | None = None,
) -> ReachCurve:
    """Expected reach against budget: the best-of-two budgeted greedy at each budget.

    Parameters
    ----------
    graph : Graph
    budgets : sequence of float
        Budgets (>= 0), sorted on return.
    costs : array, mapping label -> cost, or None
        Cost of each seed (see :func:`seed_costs`); ``None`` is 1 each, so the
        budget is the number of seeds.
    model, probabilities
        As in :class:`~grapevine.influence.IMM`.
    n_rr_sets : int
        RR sets drawn once and shared by every budget (>= 1), so the points
        differ by the seeds only, not by sampling noise.
    random_state : int, Generator or None

    Returns
    -------
    ReachCurve

    Notes
    -----
    One sample of ``n_rr_sets`` sets, then one greedy pass per budget,
    ``O(total RR size + s n)`` each. The points are estimates without
    :class:`~grapevine.influence.BudgetedIMM`'s per-budget guarantee (the
    standard error of a point of reach ``r`` is about ``sqrt(r n / n_rr_sets)``).

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (3, 4)])
    >>> curve = reach_curve(g, [0, 1, 2], probabilities=1.0, random_state=0)
    >>> [round(r) for r in curve.reach]
    [0, 3, 5]
    """
    from grapevine._kernels.budget import budgeted_cover

    owner = "reach_curve"
    n = graph.n_nodes
    if n == 0:
        raise InvalidParameter("graph", owner, "a graph with at least one node", graph)
    check_choice(model, "model", owner, ("ic", "lt"))
    check_number(n_rr_sets, "n_rr_sets", owner, kind=numbers.Integral, low=1)
    try:
        b = np.sort(np.asarray(budgets, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        raise InvalidParameter("budgets", owner, "a sequence of numbers >= 0", budgets) from None
    if b.size == 0 or not (np.all(np.isfinite(b)) and np.all(b >= 0)):
        raise InvalidParameter("budgets", owner, "a non-empty sequence of numbers >= 0", budgets)
    c = seed_costs(graph, costs, owner)
    seed = resolve_seed(random_state)
    w = model_weights(graph, model, probabilities, owner, seed)
    in_ptr, in_src, edge_ids = graph.transpose()
    pool = _Pool(in_ptr, in_src, np.ascontiguousarray(w[edge_ids]), model == "lt", seed)
    pool.grow(int(n_rr_sets))
    reach = np.empty(b.size)
    spent = np.empty(b.size)
    seeds: list[np.ndarray] = []
    for i, budget in enumerate(b):
        idx, marginal, _ = budgeted_cover(pool.offsets, pool.nodes, n, c, float(budget))
        reach[i] = n * int(marginal.sum()) / len(pool)
        spent[i] = float(c[idx].sum())
        seeds.append(np.asarray(graph.ids[idx]))
    return ReachCurve(b, reach, seeds, spent, len(pool))


def tipping_budget(curve: ReachCurve, *, min_ratio: float = 1.5) -> float | None:
    """The budget where reach tips from proportional growth into a large cascade.

    Rule: the marginal reach per unit of budget of step ``i`` is
    ``(reach[i] - reach[i-1]) / (budgets[i] - budgets[i-1])``; the candidate is the
    smallest budget that ends a step of maximal marginal reach. It is a tipping point (a
    knee) only when that step buys at least ``min_ratio`` times the average reach per unit
    of budget up to the step's start, ``(reach[i-1] - reach[f]) / (budgets[i-1] -
    budgets[f])``, where step ``f + 1`` is the first that reaches anyone (the budgets below
    the cheapest seed buy nothing and are left out). Otherwise there is no tipping point:
    ``None``. So a curve that only flattens (its first buying step is the steepest, as when
    any seed costs the same) has none, and neither has a straight line whose steps differ
    only by sampling noise. Also ``None`` for fewer than three budgets.

    Parameters
    ----------
    curve : ReachCurve
        From :func:`reach_curve`.
    min_ratio : float, default 1.5
        How much steeper than the average so far the tipping step must be (> 1).

    Examples
    --------
    Reach 1 per unit of budget until a hub becomes affordable at 4:

    >>> curve = ReachCurve(np.arange(7.0), np.array([0, 1, 2, 3, 40, 41, 42.0]), [], np.zeros(7), 1)
    >>> tipping_budget(curve)
    4.0
    >>> concave = ReachCurve(np.arange(4.0), np.array([0, 10, 15, 18.0]), [], np.zeros(4), 1)
    >>> tipping_budget(concave) is None
    True
    >>> line = ReachCurve(np.arange(5.0), np.array([0, 10, 21, 30, 40.0]), [], np.zeros(5), 1)
    >>> tipping_budget(line) is None  # 11 per unit after 10: noise, not a knee
    True
    >>> late = ReachCurve(np.arange(5.0), np.array([0, 0, 100, 140, 175.0]), [], np.zeros(5), 1)
    >>> tipping_budget(late) is None  # the first affordable seed is no knee
    True
    """
    check_number(min_ratio, "min_ratio", "tipping_budget", low=1.0, low_closed=False)
    b, r = np.asarray(curve.budgets, dtype=np.float64), np.asarray(curve.reach, dtype=np.float64)
    if b.size < 3:
        return None
    db = np.diff(b)
    keep = db > 0
    if keep.sum() < 2:
        return None
    slope = np.diff(r)[keep] / db[keep]
    starts, ends = b[:-1][keep], b[1:][keep]
    before = r[:-1][keep]
    buying = np.flatnonzero(slope > 0)
    if buying.size == 0:
        return None
    first = int(buying[0])  # the steps before buy nothing: nobody is affordable yet
    best = first + int(np.argmax(slope[first:]))
    if best == first or math.isclose(slope[best], slope[first], rel_tol=1e-9):
        return None
    average = (before[best] - before[first]) / (starts[best] - starts[first])
    if slope[best] < float(min_ratio) * average:
        return None
    return float(ends[best])


def plot_reach_curve(
    curve: ReachCurve,
    paths: Sequence[str | Path],
    *,
    tipping: float | None = None,
    title: str = "Expected reach against budget",
) -> list[Path]:
    """Draw the reach curve, marking the tipping budget, and write it to every path.

    Follows :mod:`grapevine.cascades.plot`: matplotlib (Agg) imported only here,
    the suffix picks the format (``.png``, ``.svg``, ``.pdf``).

    Returns
    -------
    list of Path
        The files written.
    """
    from grapevine.cascades.plot import _plt, _save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(curve.budgets, curve.reach, marker="o", color="#2c3e50", label="expected reach")
    if tipping is not None:
        ax.axvline(tipping, color="#c0392b", linestyle=":", label=f"tipping budget {tipping:g}")
    ax.set_xlabel("budget")
    ax.set_ylabel("people reached (expected)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return _save(fig, paths)
