"""Cost-aware greedy maximum coverage of RR sets under a budget (best of two)."""

from __future__ import annotations

import numpy as np
from numba import njit

from grapevine._kernels.rrsets import cover_sets, inverted_index

__all__ = ["budgeted_cover"]


@njit(cache=True)
def budgeted_cover(
    offsets: np.ndarray, nodes: np.ndarray, n: int, costs: np.ndarray, budget: float
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The better of cost-effective greedy and the best single affordable node.

    Greedy repeatedly takes the affordable node (cost within what is left of
    the budget) with the most newly covered sets per unit of cost (zero-cost
    nodes first, by coverage; ties: more coverage, then lowest node), skipping
    nodes that no longer fit, until no affordable node covers a new set. The
    single node is the affordable node covering most sets. Returns
    ``(seeds int64, marginal int64, greedy_won)``.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    degree = np.empty(n, dtype=np.int64)
    for v in range(n):
        degree[v] = ptr[v + 1] - ptr[v]
    slack = budget * (1.0 + 1e-12)
    single = -1
    single_deg = 0
    for v in range(n):
        if costs[v] <= slack and degree[v] > single_deg:
            single = v
            single_deg = degree[v]
    covered = np.zeros(offsets.shape[0] - 1, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.bool_)
    seeds = np.empty(n, dtype=np.int64)
    marginal = np.zeros(n, dtype=np.int64)
    count = 0
    spent = 0.0
    total = 0
    while True:
        best = -1
        best_ratio = -1.0
        best_deg = 0
        for v in range(n):
            if chosen[v] or degree[v] <= 0 or spent + costs[v] > slack:
                continue
            ratio = np.inf if costs[v] == 0.0 else degree[v] / costs[v]
            if ratio > best_ratio or (ratio == best_ratio and degree[v] > best_deg):
                best = v
                best_ratio = ratio
                best_deg = degree[v]
        if best < 0:
            break
        chosen[best] = True
        seeds[count] = best
        marginal[count] = best_deg
        total += best_deg
        count += 1
        spent += costs[best]
        cover_sets(best, ptr, sets, offsets, nodes, covered, degree)
    if single >= 0 and single_deg > total:
        out = np.empty(1, dtype=np.int64)
        out[0] = single
        marg = np.empty(1, dtype=np.int64)
        marg[0] = single_deg
        return out, marg, False
    return seeds[:count].copy(), marginal[:count].copy(), True
