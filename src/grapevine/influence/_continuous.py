"""Continuous influence maximisation: what discount to offer to whom (Yang et al., SIGMOD 2016)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from grapevine._validation import check_choice, check_number
from grapevine.diffusion import SpreadResult, simulate
from grapevine.diffusion._edges import model_weights, resolve_seed
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence._imm import MIN_RR_SETS, _Pool

__all__ = [
    "CURVES",
    "DEFAULT_LEVELS",
    "ContinuousIM",
    "continuous_discounts",
    "seed_probability_table",
    "simulate_random_seeds",
]

#: Named seed-probability curves ``p(c)``: the chance a person offered discount ``c``
#: (a fraction of the full incentive, in [0, 1]) takes it and becomes a seed.
CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda c: c,
    "concave": lambda c: 2.0 * c - c * c,
    "sqrt": np.sqrt,
}

_MIX = 0x9E3779B97F4A7C15

#: Default discount levels: 10 %, 20 %, ..., 100 %.
DEFAULT_LEVELS = tuple(round(0.1 * i, 1) for i in range(1, 11))

Curve = str | Callable[[np.ndarray], Any] | np.ndarray


def _levels(levels: Any, owner: str) -> np.ndarray:
    try:
        arr = np.asarray(levels, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidParameter("levels", owner, "a sequence of numbers in (0, 1]", levels) from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or arr.min() <= 0 or arr.max() > 1:
        raise InvalidParameter("levels", owner, "a non-empty sequence of numbers in (0, 1]", levels)
    if np.unique(arr).size != arr.size or np.any(np.diff(arr) <= 0):
        raise InvalidParameter("levels", owner, "increasing levels without repeats", levels)
    return np.concatenate([[0.0], arr])


def seed_probability_table(curve: Curve, levels: Any, n: int, owner: str = "ContinuousIM") -> Any:
    """Seed probabilities of every person at every level, level 0 first: shape ``(n, L + 1)``.

    Parameters
    ----------
    curve : {"linear", "concave", "sqrt"}, callable or array
        A name of :data:`CURVES`; a callable mapping an array of discounts to the
        same-shaped probabilities (or to shape ``(n, len)``, one curve per person);
        or the probabilities at ``levels`` (shape ``(L,)`` for everyone, or
        ``(n, L)``), with probability 0 at discount 0.
    levels : sequence of float
        Discount levels in ``(0, 1]``, increasing.
    n : int
        Number of people.
    owner : str
        Who is asking (named in errors).

    Raises
    ------
    InvalidParameter
        An unknown name, a shape that fits neither form, or a value outside [0, 1].

    Examples
    --------
    >>> seed_probability_table("concave", [0.5, 1.0], 2).tolist()
    [[0.0, 0.75, 1.0], [0.0, 0.75, 1.0]]
    """
    grid = _levels(levels, owner)
    n_levels = grid.size
    if isinstance(curve, str):
        check_choice(curve, "curve", owner, tuple(CURVES))
        values: Any = CURVES[curve](grid)
    elif callable(curve):
        values = curve(grid.copy())
    else:
        values = np.asarray(curve, dtype=np.float64)
        if values.ndim in (1, 2) and values.shape[-1] == n_levels - 1:
            zero = np.zeros((*values.shape[:-1], 1))
            values = np.concatenate([zero, values], axis=-1)
    try:
        table = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameter("curve", owner, "numbers in [0, 1]", type(values).__name__) from None
    if table.shape == (n_levels,):
        table = np.broadcast_to(table, (n, n_levels))
    if table.shape != (n, n_levels):
        raise InvalidParameter(
            "curve",
            owner,
            f"probabilities of shape ({n_levels - 1},) or ({n}, {n_levels - 1}) at the levels",
            table.shape,
        )
    if not (np.all(table >= 0.0) and np.all(table <= 1.0)):  # also rejects NaN
        bad = table[~((table >= 0.0) & (table <= 1.0))][0]
        raise InvalidParameter("curve", owner, "probabilities in the range [0, 1]", float(bad))
    return np.ascontiguousarray(table, dtype=np.float64)


class ContinuousIM:
    """Partial discounts under a budget: who gets which discount to maximise the spread.

    Each person ``u`` offered a discount ``c_u`` in ``[0, 1]`` (a fraction of the
    full incentive) becomes a seed with probability ``p_u(c_u)``, independently;
    the discounts must add up to at most ``budget``. The expected spread of a
    configuration is ``n`` times the expected share of reverse-reachable (RR) sets
    it covers, where an RR set ``R`` is covered with probability
    ``1 - prod_{u in R} (1 - p_u(c_u))``. Discounts live on a grid of ``levels``.

    Two steps, after Yang, Mao, Pei and He: the *unified discount* (UD) start
    gives one level ``c`` to the ``floor(budget / c)`` people a greedy picks for
    it (the best ``c`` wins), then *coordinate descent* (CD) moves budget between
    pairs of people: for each pair of candidates it re-divides their two
    discounts plus the unspent budget over the grid, keeping the best split,
    until a sweep changes nothing.

    Parameters
    ----------
    budget : float
        Total discount (>= 0), in units of one full discount.
    levels : sequence of float
        Discount levels in ``(0, 1]``, increasing (default 0.1, 0.2, ..., 1.0).
    curve : {"linear", "concave", "sqrt"}, callable or array
        Seed probability ``p(c)``: ``c``, ``2c - c^2`` or ``sqrt(c)``; a callable;
        or values at the levels, one row per person allowed (see
        :func:`seed_probability_table`).
    model : {"ic", "lt"}
    probabilities : {"wc", "trivalency", "uniform", "weight"}, float or array
    n_rr_sets : int
        RR sets drawn (>= 1; default :data:`~grapevine.influence.MIN_RR_SETS`).
    candidates : int
        People beyond those already discounted that each CD sweep considers: the
        ones with the most coverage still to add (>= 0).
    max_sweeps : int
        CD sweeps at most (>= 0; 0 keeps the UD start).
    random_state : int, Generator or None

    Attributes
    ----------
    discounts_ : ndarray of float64, shape (n_nodes,)
        The discount of every person (0 for most).
    seed_probabilities_ : ndarray of float64, shape (n_nodes,)
        ``p_u(discount_u)``.
    seeds_ : ndarray
        Labels of the people offered a discount, largest discount first.
    seed_index_ : ndarray of int64
    seed_discounts_ : ndarray of float64
        Their discounts.
    spread_ : float
        Estimated expected spread (seeds included) on the RR sets.
    spent_ : float
        Sum of the discounts (<= budget).
    expected_seeds_ : float
        Expected number of people who take their discount.
    unified_spread_ : float
        Estimated spread of the UD start.
    unified_discount_ : float
        Its level (0 when the budget buys no level).
    full_discount_spread_ : float
        Greedy with full discounts only (``floor(budget)`` seeds at ``c = 1``, the
        plan :class:`~grapevine.influence.BudgetedIMM` with costs 1 makes), on the
        same RR sets; NaN when 1 is not a level.
    n_rr_sets_ : int
    n_sweeps_ : int
        CD sweeps run.
    validation_spread_ : float
        Unbiased estimate of the plan's spread on ``validation_rr_sets_`` fresh RR sets
        (half as many): ``spread_`` is optimistic when the optimisation overfits its
        sample (many small discounts on a graph with a small spread); raise
        ``n_rr_sets`` when the two differ by more than their standard errors.
    validation_rr_sets_ : int

    Notes
    -----
    Level 0 always exists with ``p(0)`` from the curve (0 for the named ones).
    UD costs one probabilistic greedy per level; a CD sweep costs
    ``O(C^2 (d + L^2))`` for ``C`` candidates with ``d`` RR sets each, plus one
    pass over the sets. The spread estimate is ``n x covered / n_rr_sets``
    with standard error about ``sqrt(spread x n / n_rr_sets)``; unlike
    :class:`~grapevine.influence.IMM` there is no approximation guarantee (the
    objective is not submodular on the lattice of discounts in general). With
    the linear curve the objective is multilinear, so moving budget between two
    people is convex along the move and full discounts are optimal (the best
    plan is then an all-or-nothing seed set); concave curves favour many
    partial discounts. A budget below the smallest level buys nothing (an empty
    plan, no error).

    References
    ----------
    Yang, Mao, Pei, He. Continuous influence maximization: what discounts
    should we offer to social network users? SIGMOD 2016.
    Borgs, Brautbar, Chayes, Lucier. Maximizing social influence in nearly
    optimal time. SODA 2014.

    Examples
    --------
    Ten people who reach nobody: a budget of one full discount buys one sure
    seed, but ten 10 % discounts with the concave curve buy 10 x 0.19 = 1.9.

    >>> g = Graph.from_arrays([], [], nodes=range(10))
    >>> est = ContinuousIM(1.0, curve="concave", n_rr_sets=10_000, random_state=0).fit(g)
    >>> est.discounts_.tolist()
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    >>> round(est.spread_, 2), round(est.full_discount_spread_, 1)
    (1.9, 1.0)
    """

    def __init__(
        self,
        budget: float,
        *,
        levels: Any = DEFAULT_LEVELS,
        curve: Curve = "concave",
        model: str = "ic",
        probabilities: str | float | np.ndarray = "wc",
        n_rr_sets: int = MIN_RR_SETS,
        candidates: int = 100,
        max_sweeps: int = 20,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.budget = budget
        self.levels = levels
        self.curve = curve
        self.model = model
        self.probabilities = probabilities
        self.n_rr_sets = n_rr_sets
        self.candidates = candidates
        self.max_sweeps = max_sweeps
        self.random_state = random_state

    def fit(self, graph: Graph) -> ContinuousIM:
        """Choose the discounts on ``graph``."""
        from grapevine._kernels.continuous import (
            coordinate_descent,
            expected_coverage,
            unified_discount,
        )

        owner = "ContinuousIM"
        n = graph.n_nodes
        if n == 0:
            raise InvalidParameter("graph", owner, "a graph with at least one node", graph)
        check_number(self.budget, "budget", owner, low=0, high=math.inf, high_closed=False)
        check_choice(self.model, "model", owner, ("ic", "lt"))
        check_number(self.n_rr_sets, "n_rr_sets", owner, kind=numbers.Integral, low=1)
        check_number(self.candidates, "candidates", owner, kind=numbers.Integral, low=0)
        check_number(self.max_sweeps, "max_sweeps", owner, kind=numbers.Integral, low=0)
        grid = _levels(self.levels, owner)
        table = seed_probability_table(self.curve, grid[1:], n, owner)
        budget = float(self.budget)
        seed = resolve_seed(self.random_state)
        w = model_weights(graph, self.model, self.probabilities, owner, seed)
        in_ptr, in_src, edge_ids = graph.transpose()
        pool = _Pool(in_ptr, in_src, np.ascontiguousarray(w[edge_ids]), self.model == "lt", seed)
        pool.grow(int(self.n_rr_sets))
        theta = len(pool)
        start, ud_value, ud_level = unified_discount(
            pool.offsets, pool.nodes, n, table, grid, budget
        )
        assign, value, sweeps = coordinate_descent(
            pool.offsets,
            pool.nodes,
            n,
            table,
            grid,
            budget,
            start,
            int(self.candidates),
            int(self.max_sweeps),
            1e-9 * theta,
        )
        if grid[-1] == 1.0:
            _, full, _ = unified_discount(
                pool.offsets,
                pool.nodes,
                n,
                np.ascontiguousarray(table[:, [0, -1]]),
                np.array([0.0, 1.0]),
                budget,
            )
            self.full_discount_spread_ = n * float(full) / theta
        else:
            self.full_discount_spread_ = math.nan
        self.discounts_ = grid[assign]
        self.seed_probabilities_ = table[np.arange(n), assign]
        chosen = np.flatnonzero(assign > 0)
        order = np.lexsort((chosen, -self.discounts_[chosen]))
        self.seed_index_ = chosen[order].astype(np.int64)
        self.seeds_ = np.asarray(graph.ids[self.seed_index_])
        self.seed_discounts_ = self.discounts_[self.seed_index_]
        self.spread_ = n * float(value) / theta
        self.spent_ = float(self.discounts_.sum())
        self.expected_seeds_ = float(self.seed_probabilities_.sum())
        self.unified_spread_ = n * float(ud_value) / theta
        self.unified_discount_ = float(grid[ud_level])
        self.n_rr_sets_ = theta
        self.n_sweeps_ = int(sweeps)
        check = _Pool(in_ptr, in_src, pool.args[2], self.model == "lt", (seed * _MIX + 5) % 2**64)
        check.grow(max(1, theta // 2))
        cov = expected_coverage(check.offsets, check.nodes, self.seed_probabilities_)
        self.validation_spread_ = n * float(cov) / len(check)
        self.validation_rr_sets_ = len(check)
        return self


def continuous_discounts(
    graph: Graph,
    budget: float,
    *,
    levels: Any = DEFAULT_LEVELS,
    curve: Curve = "concave",
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    n_rr_sets: int = MIN_RR_SETS,
    random_state: int | np.random.Generator | None = None,
) -> dict[Any, float]:
    """The discounts chosen by :class:`ContinuousIM` (its function twin): label -> discount.

    Only people offered a discount appear, largest discount first.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    >>> continuous_discounts(g, 1, curve="linear", probabilities=1.0, random_state=0)
    {'a': 1.0}
    """
    est = ContinuousIM(
        budget,
        levels=levels,
        curve=curve,
        model=model,
        probabilities=probabilities,
        n_rr_sets=n_rr_sets,
        random_state=random_state,
    ).fit(graph)
    return {
        (s.item() if isinstance(s, np.generic) else s): float(c)
        for s, c in zip(est.seeds_, est.seed_discounts_, strict=True)
    }


def simulate_random_seeds(
    graph: Graph,
    seed_probabilities: Any,
    *,
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    runs: int = 1000,
    steps: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> SpreadResult:
    """Simulate a campaign whose seeds are random: person ``u`` starts it with probability ``q_u``.

    Parameters
    ----------
    graph : Graph
    seed_probabilities : array of n_nodes floats in [0, 1]
        E.g. :attr:`ContinuousIM.seed_probabilities_`.
    model, probabilities, runs, random_state
        As in :func:`grapevine.diffusion.simulate`.
    steps : int, optional
        Rounds after the offer to record: ``new_by_step[:, 0]`` holds the people
        who took the offer (the seeds of that run), ``new_by_step[:, t]`` those
        activated in round ``t``, so ``new_by_step`` has ``steps + 1`` columns and
        ``n_seeds`` is 0.

    Returns
    -------
    SpreadResult
        Per-run spreads, seeds included.

    Notes
    -----
    IC: one simulation from a virtual person with an arc of probability ``q_u``
    to every ``u`` (exact: it draws every seed independently), so the cost is
    that of :func:`~grapevine.diffusion.simulate`. LT: the seeds are drawn in
    the kernel, then one Linear Threshold run from them (serial).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b")])
    >>> res = simulate_random_seeds(g, [1.0, 0.0], probabilities=1.0, runs=20, random_state=0)
    >>> res.mean
    2.0
    """
    owner = "simulate_random_seeds"
    n = graph.n_nodes
    check_number(runs, "runs", owner, kind=numbers.Integral, low=1)
    if steps is not None:
        check_number(steps, "steps", owner, kind=numbers.Integral, low=0)
    try:
        q = np.asarray(seed_probabilities, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameter(
            "seed_probabilities", owner, f"{n} numbers in [0, 1]", seed_probabilities
        ) from None
    if q.shape != (n,) or not (np.all(q >= 0) and np.all(q <= 1)):
        raise InvalidParameter("seed_probabilities", owner, f"{n} numbers in [0, 1]", q.shape)
    seed = resolve_seed(random_state)
    w = model_weights(graph, model, probabilities, owner, seed)
    more = None if steps is None else int(steps) + 1
    if model == "ic":
        targets = np.flatnonzero(q > 0)
        indptr = np.concatenate([graph.indptr, [graph.n_edges + targets.size]])
        indices = np.concatenate([graph.indices.astype(np.int64), targets])
        augmented = Graph(indptr, indices, ids=np.arange(n + 1))
        p = np.concatenate([w, q[targets]])
        res = simulate(
            augmented, [n], probabilities=p, runs=int(runs), steps=more, random_state=seed
        )
        return SpreadResult(res.spreads - 1, res.new_by_step, 0)
    from grapevine._kernels.continuous import lt_random_seeds

    candidates = np.flatnonzero(q > 0).astype(np.int64)
    spreads, n_seeds, new = lt_random_seeds(
        graph.indptr,
        graph.indices,
        w,
        candidates,
        np.ascontiguousarray(q[candidates]),
        int(runs),
        np.uint64(seed % 2**64),
        -1 if steps is None else int(steps),
        0 if steps is None else int(steps),
    )
    by_step = None if steps is None else np.concatenate([n_seeds[:, None], new], axis=1)
    return SpreadResult(spreads, by_step, 0)
