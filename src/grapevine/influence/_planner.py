"""One seed plan from one set of choices: k seeds, a budget with costs, or partial discounts.

:func:`plan_seeds` is what the planner page and the saved plans run: it picks the seeds with the
estimator that fits the question (OPIM-C for ``k`` seeds, budgeted IMM for a budget with
costs, :class:`ContinuousIM` for discounts), then simulates the plan on fresh worlds to give
its reach round by round with a 90 % band. The result is plain JSON (:meth:`SeedPlan.to_dict`),
so a plan can be stored, reloaded and compared with another.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from grapevine._validation import check_choice, check_number
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph

__all__ = ["PLAN_MODES", "SeedPlan", "plan_seeds"]

#: The questions a plan answers: ``k`` seeds, seeds under a ``budget`` with a cost each, or
#: partial ``discount`` offers under a budget.
PLAN_MODES = ("k", "budget", "discount")

Progress = Callable[[float, str], None]


@dataclass
class SeedPlan:
    """A seed plan and its simulated reach.

    Attributes
    ----------
    mode : str
        One of :data:`PLAN_MODES`.
    params : dict
        The choices that made it (k or budget, costs, model, probabilities, ...).
    seeds : list of dict
        In pick order: ``seed`` (label), ``marginal_gain`` (expected extra reach when picked),
        ``cumulative`` (expected reach of the seeds so far), and ``cost`` (budget); for
        discounts ``discount``, ``probability`` of taking it and ``cumulative`` (expected
        takers so far), without a marginal gain (their effects do not separate).
    spread : float
        The estimator's expected reach of the whole plan.
    reach_by_step : list of dict
        ``{"step", "mean", "p5", "p95"}`` of the simulated reach after each diffusion round
        (round 0: the seeds, or those who took their discount).
    simulated : dict
        ``mean``, ``std_error``, ``p5``, ``p95``, ``runs`` of the final simulated reach.
    spent : float
        Cost or discounts spent (the number of seeds for ``k``).
    n_nodes, n_edges : int
        Size of the graph planned on.
    notes : list of str
        Caveats (a graph without arcs, a budget that buys nobody).
    """

    mode: str
    params: dict[str, Any]
    seeds: list[dict[str, Any]]
    spread: float
    reach_by_step: list[dict[str, float]]
    simulated: dict[str, float]
    spent: float
    n_nodes: int
    n_edges: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeedPlan:
        """The plan back from :meth:`to_dict`."""
        return cls(**data)


def _label(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _spread_record(res: Any) -> dict[str, float]:
    return {
        "mean": float(res.mean),
        "std_error": float(res.std_error),
        "p5": float(res.p5),
        "p95": float(res.p95),
        "runs": int(res.runs),
    }


def plan_seeds(
    graph: Graph,
    *,
    mode: str = "k",
    k: int = 10,
    budget: float | None = None,
    costs: np.ndarray | None = None,
    levels: Sequence[float] | None = None,
    curve: str = "concave",
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    epsilon: float = 0.2,
    runs: int = 500,
    steps: int = 6,
    random_state: int | None = 0,
    progress: Progress | None = None,
) -> SeedPlan:
    """Choose seeds for one question and simulate their reach round by round.

    Parameters
    ----------
    graph : Graph
    mode : {"k", "budget", "discount"}
        ``"k"``: the ``k`` seeds of OPIM-C. ``"budget"``: seeds whose ``costs`` fit
        ``budget`` (budgeted IMM). ``"discount"``: partial discounts at ``levels`` whose sum
        fits ``budget``, each taken up with the probability given by ``curve``
        (:class:`~grapevine.influence.ContinuousIM`).
    k : int
        Number of seeds (mode ``"k"``), in ``[1, n_nodes]``.
    budget : float, optional
        The budget (modes ``"budget"`` and ``"discount"``).
    costs : ndarray, optional
        Cost of seeding each node (mode ``"budget"``; default 1 each).
    levels : sequence of float, optional
        Discount levels in (0, 1] (mode ``"discount"``; default 0.1 to 1.0).
    curve : str
        Take-up curve of a discount: ``"linear"``, ``"concave"`` or ``"sqrt"``.
    model, probabilities, epsilon
        Diffusion model (``"ic"`` or ``"lt"``), edge probabilities and the estimators' error.
    runs, steps : int
        Monte-Carlo runs of the check and diffusion rounds recorded.
    random_state : int, optional
        Seeds the estimator; the simulation uses ``random_state + 1`` so that the plan's
        own sampling and its check stay apart.
    progress : callable, optional
        Called as ``progress(fraction, message)`` when a phase starts and at the end.

    Returns
    -------
    SeedPlan

    Raises
    ------
    InvalidParameter
        A choice out of its domain: an unknown mode, ``k`` above the number of people, a
        budget below the cheapest cost or smallest discount.

    Notes
    -----
    The cost is that of the estimator (see :class:`OPIMC`, :class:`BudgetedIMM`,
    :class:`ContinuousIM`) plus ``2 * runs`` simulations. Progress is reported per phase:
    the estimators do not report inside a fit.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2), (0, 3), (4, 5)])
    >>> plan = plan_seeds(g, k=1, probabilities=1.0, runs=20, steps=2)
    >>> plan.seeds[0]["seed"], plan.reach_by_step[-1]["mean"]
    (0, 4.0)
    """
    from grapevine.diffusion import reach_by_round, reach_summary, simulate
    from grapevine.influence._budget import BudgetedIMM
    from grapevine.influence._continuous import DEFAULT_LEVELS, ContinuousIM, simulate_random_seeds
    from grapevine.influence._opimc import OPIMC

    check_choice(mode, "mode", "plan_seeds", PLAN_MODES)
    check_number(runs, "runs", "plan_seeds", kind=numbers.Integral, low=1)
    check_number(steps, "steps", "plan_seeds", kind=numbers.Integral, low=1)
    say: Progress = progress or (lambda fraction, message: None)
    sim_state = None if random_state is None else random_state + 1
    notes = [] if graph.n_edges else ["the graph has no arcs: a plan reaches only its seeds"]
    params: dict[str, Any] = {
        "mode": mode,
        "model": model,
        "probabilities": probabilities if isinstance(probabilities, str | float | int) else "file",
        "epsilon": epsilon,
        "runs": runs,
        "steps": steps,
        "random_state": random_state,
    }
    seeds: list[dict[str, Any]]
    if mode == "k":
        check_number(k, "k", "plan_seeds", kind=numbers.Integral, low=1, high=graph.n_nodes)
        params["k"] = int(k)
        say(0.05, f"choosing {k} seeds by OPIM-C")
        est = OPIMC(
            int(k), epsilon=epsilon, model=model, probabilities=probabilities,
            random_state=random_state,
        ).fit(graph)  # fmt: skip
        seeds = [
            {"seed": _label(s), "marginal_gain": float(g)}
            for s, g in zip(est.seeds_.tolist(), est.marginal_spread_, strict=True)
        ]
        spread, spent, chosen = float(est.spread_), float(len(seeds)), est.seeds_
    elif mode == "budget":
        cost = np.ones(graph.n_nodes) if costs is None else np.asarray(costs, dtype=np.float64)
        cheapest = float(cost.min()) if cost.size else math.inf
        if budget is None or not budget >= cheapest:
            raise InvalidParameter(
                "budget", "plan_seeds", f"at least the cheapest cost ({cheapest:g})", budget
            )
        params["budget"] = float(budget)
        say(0.05, f"choosing seeds for a budget of {budget:g} by budgeted IMM")
        best = BudgetedIMM(
            float(budget), cost, epsilon=epsilon, model=model, probabilities=probabilities,
            random_state=random_state,
        ).fit(graph)  # fmt: skip
        seeds = [
            {"seed": _label(s), "cost": float(c), "marginal_gain": float(g)}
            for s, c, g in zip(
                best.seeds_.tolist(), cost[best.seed_index_], best.marginal_spread_, strict=True
            )
        ]
        spread, spent, chosen = float(best.spread_), float(best.cost_), best.seeds_
    else:
        grid = tuple(DEFAULT_LEVELS if levels is None else levels)
        smallest = min(grid) if grid else math.inf
        if budget is None or not budget >= smallest:
            raise InvalidParameter(
                "budget", "plan_seeds", f"at least the smallest discount ({smallest:g})", budget
            )
        params.update(budget=float(budget), levels=list(grid), curve=curve)
        say(0.05, f"choosing discounts for a budget of {budget:g}")
        cont = ContinuousIM(
            float(budget), levels=grid, curve=curve, model=model, probabilities=probabilities,
            random_state=random_state,
        ).fit(graph)  # fmt: skip
        taken = cont.seed_probabilities_[cont.seed_index_]
        seeds = [
            {"seed": _label(s), "discount": float(c), "probability": float(p)}
            for s, c, p in zip(cont.seeds_.tolist(), cont.seed_discounts_, taken, strict=True)
        ]
        spread, spent = float(cont.spread_), float(cont.spent_)
        say(0.6, f"simulating the offers {runs} times")
        final = simulate_random_seeds(
            graph, cont.seed_probabilities_, model=model, probabilities=probabilities,
            runs=runs, random_state=sim_state,
        )  # fmt: skip
        say(0.8, "reach round by round")
        stepped = simulate_random_seeds(
            graph, cont.seed_probabilities_, model=model, probabilities=probabilities,
            runs=runs, steps=steps, random_state=sim_state,
        )  # fmt: skip
        assert stepped.new_by_step is not None
        by_step = reach_summary(np.cumsum(stepped.new_by_step, axis=1))
        taken_so_far = 0.0
        for row in seeds:  # discounts have no separable gain: expected takers stand in
            taken_so_far += row["probability"]
            row["cumulative"] = taken_so_far
        say(1.0, "done")
        return SeedPlan(
            mode, params, seeds, spread, by_step, _spread_record(final), spent,
            graph.n_nodes, graph.n_edges, notes,
        )  # fmt: skip
    total = 0.0
    for row in seeds:
        total += row["marginal_gain"]
        row["cumulative"] = total
    say(0.6, f"simulating the plan {runs} times")
    final = simulate(
        graph, chosen, model=model, probabilities=probabilities, runs=runs,
        random_state=sim_state,
    )  # fmt: skip
    say(0.8, "reach round by round")
    stepped = simulate(
        graph, chosen, model=model, probabilities=probabilities, runs=runs, steps=steps,
        random_state=sim_state,
    )  # fmt: skip
    say(1.0, "done")
    return SeedPlan(
        mode, params, seeds, spread, reach_by_round(stepped), _spread_record(final), spent,
        graph.n_nodes, graph.n_edges, notes,
    )  # fmt: skip
