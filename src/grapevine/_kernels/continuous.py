"""Continuous influence maximisation over RR sets: discounts on a grid of levels.

Every node ``u`` holds a level index ``a[u]`` (0 is "no discount"); ``P[u, i]`` is
the probability that ``u`` becomes a seed at level ``i``. The objective on RR sets
``R_1 .. R_theta`` is the expected number of covered sets,
``sum_j (1 - prod_{u in R_j} (1 - P[u, a[u]]))``.

Per set the product is kept as (number of zero factors, product of the non-zero
ones), so a factor can be taken out of it exactly even when it is 0 (a sure seed).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from grapevine._kernels.diffusion import GOLDEN, _lt_one, stream_key, uniform
from grapevine._kernels.rrsets import inverted_index

__all__ = [
    "coordinate_descent",
    "expected_coverage",
    "lt_random_seeds",
    "probabilistic_greedy",
    "unified_discount",
]


@njit(cache=True)
def probabilistic_greedy(
    offsets: np.ndarray, nodes: np.ndarray, n: int, prob: np.ndarray, k: int
) -> tuple[np.ndarray, float]:
    """Greedy choice of up to ``k`` nodes, each a seed with probability ``prob[u]``.

    Maximises the expected coverage ``sum_j (1 - prod_{u in R_j, chosen} (1 - prob[u]))``
    (monotone submodular). Keeps ``mass[v] = sum over sets of v of prod(1 - prob)``
    over the chosen members; the gain of ``v`` is ``prob[v] * mass[v]``; ties go to the
    lowest node. Stops early when no node adds anything. Returns
    ``(chosen int64, expected covered sets)``.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    theta = offsets.shape[0] - 1
    q = np.ones(theta, dtype=np.float64)
    mass = np.empty(n, dtype=np.float64)
    for v in range(n):
        mass[v] = float(ptr[v + 1] - ptr[v])
    chosen = np.zeros(n, dtype=np.bool_)
    out = np.empty(min(k, n), dtype=np.int64)
    count = 0
    value = 0.0
    while count < out.shape[0]:
        best = -1
        best_gain = 0.0
        for v in range(n):
            if chosen[v]:
                continue
            gain = prob[v] * mass[v]
            if gain > best_gain:
                best = v
                best_gain = gain
        if best < 0:
            break
        chosen[best] = True
        out[count] = best
        count += 1
        value += best_gain
        pb = prob[best]
        for i in range(ptr[best], ptr[best + 1]):
            j = sets[i]
            d = q[j] * pb
            if d == 0.0:
                continue
            q[j] -= d
            for t in range(offsets[j], offsets[j + 1]):
                mass[nodes[t]] -= d
    return out[:count].copy(), value


@njit(cache=True)
def unified_discount(
    offsets: np.ndarray,
    nodes: np.ndarray,
    n: int,
    table: np.ndarray,
    levels: np.ndarray,
    budget: float,
) -> tuple[np.ndarray, float, int]:
    """The best single discount level given to greedily chosen people (Yang et al.'s UD).

    For each level ``i >= 1`` (``levels[0] == 0``), greedy picks up to
    ``floor(budget / levels[i])`` people at that level; the level with the most
    expected coverage wins (ties: the lower level). Returns
    ``(level index per node int64, expected covered sets, winning level index)``;
    coverage counts the people at level 0 too when ``table[:, 0] > 0``.
    """
    theta = offsets.shape[0] - 1
    n_levels = levels.shape[0]
    best_assign = np.zeros(n, dtype=np.int64)
    best_level = 0
    best_value = -1.0
    for i in range(n_levels):
        if i == 0:
            k = 0
        else:
            k = int(np.floor(budget * (1.0 + 1e-12) / levels[i]))
            if k == 0:
                continue
        assign = np.zeros(n, dtype=np.int64)
        if k > 0:
            chosen, _ = probabilistic_greedy(offsets, nodes, n, table[:, i].copy(), k)
            for u in chosen:
                assign[u] = i
        value = 0.0
        for j in range(theta):
            prod = 1.0
            for t in range(offsets[j], offsets[j + 1]):
                u = nodes[t]
                prod *= 1.0 - table[u, assign[u]]
            value += 1.0 - prod
        if value > best_value * (1.0 + 1e-12) + 1e-12:
            best_value = value
            best_assign = assign
            best_level = i
    return best_assign, best_value, best_level


@njit(cache=True)
def _rebuild(
    offsets: np.ndarray, nodes: np.ndarray, factor: np.ndarray, zeros: np.ndarray, prod: np.ndarray
) -> float:
    """Recompute every set's (zeros, product); return the expected covered sets."""
    value = 0.0
    for j in range(offsets.shape[0] - 1):
        z = 0
        p = 1.0
        for t in range(offsets[j], offsets[j + 1]):
            f = factor[nodes[t]]
            if f == 0.0:
                z += 1
            else:
                p *= f
        zeros[j] = z
        prod[j] = p
        value += 1.0 - (0.0 if z > 0 else p)
    return value


@njit(cache=True)
def _without(zeros: np.ndarray, prod: np.ndarray, j: int, f1: float, f2: float) -> float:
    """Product of set ``j``'s factors without the factors ``f1`` and ``f2`` (1.0: none)."""
    z = zeros[j]
    p = prod[j]
    if f1 == 0.0:
        z -= 1
    else:
        p /= f1
    if f2 == 0.0:
        z -= 1
    else:
        p /= f2
    return 0.0 if z > 0 else p


@njit(cache=True)
def _set_factor(
    ptr: np.ndarray,
    sets: np.ndarray,
    zeros: np.ndarray,
    prod: np.ndarray,
    u: int,
    old: float,
    new: float,
) -> None:
    for i in range(ptr[u], ptr[u + 1]):
        j = sets[i]
        if old == 0.0:
            zeros[j] -= 1
        else:
            prod[j] /= old
        if new == 0.0:
            zeros[j] += 1
        else:
            prod[j] *= new


@njit(cache=True)
def coordinate_descent(
    offsets: np.ndarray,
    nodes: np.ndarray,
    n: int,
    table: np.ndarray,
    levels: np.ndarray,
    budget: float,
    start: np.ndarray,
    n_candidates: int,
    max_sweeps: int,
    tol: float,
) -> tuple[np.ndarray, float, int]:
    """Pairwise coordinate descent on the discounts (Yang et al.'s CD), from ``start``.

    A sweep takes the candidates (everyone with a discount, plus the
    ``n_candidates`` others with the most coverage they could still add) and, for
    each of them alone and each pair ``(u, v)``, re-divides ``c_u + c_v`` plus the
    unspent budget over the grid to maximise the expected coverage with every
    other discount fixed; a move is kept when it gains more than ``tol`` sets.
    Sweeps repeat until one changes nothing, or ``max_sweeps``. Returns
    ``(level index per node, expected covered sets, sweeps run)``.
    """
    ptr, sets = inverted_index(offsets, nodes, n)
    theta = offsets.shape[0] - 1
    n_levels = levels.shape[0]
    assign = start.copy()
    factor = np.empty(n, dtype=np.float64)
    spent = 0.0
    for u in range(n):
        factor[u] = 1.0 - table[u, assign[u]]
        spent += levels[assign[u]]
    zeros = np.zeros(theta, dtype=np.int64)
    prod = np.ones(theta, dtype=np.float64)
    value = _rebuild(offsets, nodes, factor, zeros, prod)
    stamp = np.zeros(theta, dtype=np.int64)
    score = np.empty(n, dtype=np.float64)
    slack_tol = 1e-9 * max(1.0, budget)
    sweeps = 0
    mark = 0
    while sweeps < max_sweeps:
        sweeps += 1
        # candidates: the support, then the best others by the coverage they could add
        for v in range(n):
            s = 0.0
            for i in range(ptr[v], ptr[v + 1]):
                s += _without(zeros, prod, sets[i], factor[v], 1.0)
            score[v] = s * (table[v, n_levels - 1] - table[v, assign[v]])
        order = np.argsort(-score, kind="mergesort")
        cand = np.empty(n, dtype=np.int64)
        n_cand = 0
        for v in range(n):
            if assign[v] > 0:
                cand[n_cand] = v
                n_cand += 1
        extra = 0
        for v in order:
            if extra >= n_candidates:
                break
            if assign[v] == 0 and score[v] > 0.0:
                cand[n_cand] = v
                n_cand += 1
                extra += 1
        changed = False
        for a in range(n_cand):
            u = cand[a]
            for b in range(a, n_cand):
                v = cand[b]
                avail = budget - spent + levels[assign[u]]
                if v != u:
                    avail += levels[assign[v]]
                mark += 2
                s_u = 0.0
                s_v = 0.0
                s_uv = 0.0
                fu = factor[u]
                fv = factor[v]
                if v == u:
                    for i in range(ptr[u], ptr[u + 1]):
                        s_u += _without(zeros, prod, sets[i], fu, 1.0)
                else:
                    for i in range(ptr[v], ptr[v + 1]):
                        stamp[sets[i]] = mark
                    for i in range(ptr[u], ptr[u + 1]):
                        j = sets[i]
                        if stamp[j] == mark:
                            stamp[j] = mark + 1
                            s_uv += _without(zeros, prod, j, fu, fv)
                        else:
                            s_u += _without(zeros, prod, j, fu, 1.0)
                    for i in range(ptr[v], ptr[v + 1]):
                        j = sets[i]
                        if stamp[j] == mark:
                            s_v += _without(zeros, prod, j, fv, 1.0)
                cur = -(s_u * fu + s_v * fv + s_uv * fu * fv)
                best_i = assign[u]
                best_j = assign[v]
                best = cur
                best_cost = levels[best_i] + (levels[best_j] if v != u else 0.0)
                for i in range(n_levels):
                    if levels[i] > avail + slack_tol:
                        break
                    gu = 1.0 - table[u, i]
                    if v == u:
                        val = -s_u * gu
                        cost = levels[i]
                        if val > best + tol or (val >= best - 1e-12 and cost < best_cost - 1e-12):
                            best, best_i, best_cost = val, i, cost
                        continue
                    for jj in range(n_levels):
                        cost = levels[i] + levels[jj]
                        if cost > avail + slack_tol:
                            break
                        gv = 1.0 - table[v, jj]
                        val = -(s_u * gu + s_v * gv + s_uv * gu * gv)
                        if val > best + tol or (val >= best - 1e-12 and cost < best_cost - 1e-12):
                            best, best_i, best_j, best_cost = val, i, jj, cost
                if best_i == assign[u] and (v == u or best_j == assign[v]):
                    continue
                gained = best - cur
                if gained > tol:
                    changed = True
                new_u = 1.0 - table[u, best_i]
                _set_factor(ptr, sets, zeros, prod, u, fu, new_u)
                spent += levels[best_i] - levels[assign[u]]
                assign[u] = best_i
                factor[u] = new_u
                if v != u:
                    new_v = 1.0 - table[v, best_j]
                    _set_factor(ptr, sets, zeros, prod, v, fv, new_v)
                    spent += levels[best_j] - levels[assign[v]]
                    assign[v] = best_j
                    factor[v] = new_v
        value = _rebuild(offsets, nodes, factor, zeros, prod)
        spent = 0.0
        for u in range(n):
            spent += levels[assign[u]]
        if not changed:
            break
    return assign, value, sweeps


@njit(cache=True)
def lt_random_seeds(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    candidates: np.ndarray,
    take: np.ndarray,
    runs: int,
    seed: np.uint64,
    max_steps: int,
    n_record: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear Threshold runs whose seeds are drawn anew: ``candidates[i]`` with ``take[i]``.

    Run ``r`` draws its seeds from stream ``stream_key(seed ^ GOLDEN, r)`` and its
    cascade from ``stream_key(seed, r)`` (as :func:`grapevine._kernels.diffusion.lt_spread`).
    Returns ``(spreads, seeds per run, new activations per recorded round)``.
    """
    n = indptr.shape[0] - 1
    spreads = np.zeros(runs, dtype=np.int64)
    n_seeds = np.zeros(runs, dtype=np.int64)
    new_by_step = np.zeros((runs, n_record), dtype=np.int64)
    active = np.zeros(n, dtype=np.int64)
    touched = np.zeros(n, dtype=np.int64)
    acc = np.zeros(n, dtype=np.float64)
    theta = np.zeros(n, dtype=np.float64)
    queue = np.empty(n, dtype=np.int64)
    level = np.empty(n, dtype=np.int64)
    chosen = np.empty(candidates.shape[0], dtype=np.int64)
    for r in range(runs):
        state = stream_key(seed ^ GOLDEN, r)
        count = 0
        for i in range(candidates.shape[0]):
            state += GOLDEN
            if uniform(state) < take[i]:
                chosen[count] = candidates[i]
                count += 1
        n_seeds[r] = count
        spreads[r] = _lt_one(
            indptr,
            indices,
            weights,
            chosen[:count],
            stream_key(seed, r),
            active,
            touched,
            r + 1,
            acc,
            theta,
            queue,
            level,
            max_steps,
            new_by_step[r],
        )
    return spreads, n_seeds, new_by_step


@njit(cache=True)
def expected_coverage(offsets: np.ndarray, nodes: np.ndarray, q: np.ndarray) -> float:
    """Expected number of covered sets when node ``u`` is a seed with probability ``q[u]``."""
    value = 0.0
    for j in range(offsets.shape[0] - 1):
        prod = 1.0
        for t in range(offsets[j], offsets[j + 1]):
            prod *= 1.0 - q[nodes[t]]
        value += 1.0 - prod
    return value
