"""``grapevine plan --budget``: seeds with costs, partial discounts, the tipping curve."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from grapevine.cli._output import write_csv
from grapevine.cli._plan import simulate_plan, spread_record
from grapevine.cli._render import console, json_value, step
from grapevine.diffusion import reach_summary
from grapevine.errors import BadInput, InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import (
    COST_SCHEMES,
    BudgetedIMM,
    ContinuousIM,
    plot_reach_curve,
    reach_curve,
    read_seed_costs,
    scheme_costs,
    simulate_random_seeds,
    tipping_budget,
)

LEARNERS = ("bernoulli", "jaccard", "em")


# ----------------------------------------------------------------------------- inputs
def costs_arg(graph: Graph, text: str, default: float | None = None) -> np.ndarray:
    """Costs from ``uniform`` (1 each), ``degree`` (1 + out-degree) or a cost file."""
    if text in COST_SCHEMES:
        return scheme_costs(graph, text)
    path = Path(text)
    if not path.is_file():
        raise BadInput(
            f"--costs must be uniform, degree or a cost file; {text!r} is none of these",
            field="costs",
        )
    return read_seed_costs(graph, path, default=default)


def learned_probabilities(graph: Graph, cascades: Path | None, learner: str) -> np.ndarray:
    """Edge probabilities learned from a cascade file (``grapevine.roles.learn_probabilities``)."""
    import pandas as pd

    from grapevine.connectors.cascades import read_cascades
    from grapevine.roles import cascade_arrays, learn_probabilities

    if cascades is None:
        raise BadInput("--probabilities learned needs --cascades FILE", field="cascades")
    if learner not in LEARNERS:
        raise InvalidParameter("learner", "plan", "one of " + ", ".join(LEARNERS), learner)
    if not cascades.is_file():
        raise BadInput("no such file", file=str(cascades))
    frames = [b.posts for b in read_cascades(cascades) if b.posts is not None]
    if all(f.empty for f in frames):
        raise BadInput("the cascade file holds no adoptions", file=str(cascades))
    frame = pd.concat(frames, ignore_index=True)
    arrays = cascade_arrays(graph, frame, user="author", time="time", cascade="cascade_id")
    if arrays.n_adoptions == 0:
        raise BadInput("no adopter of the cascade file is in the graph", file=str(cascades))
    return np.asarray(learn_probabilities(graph, arrays, learner), dtype=np.float64)  # type: ignore[arg-type]


def levels_arg(text: str | None) -> tuple[float, ...]:
    """Discount levels from ``0.1,0.2,...`` (default: 0.1 to 1.0 by 0.1)."""
    from grapevine.influence._continuous import DEFAULT_LEVELS

    if text is None:
        return DEFAULT_LEVELS
    try:
        levels = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        levels = ()
    if not levels:
        raise BadInput(
            f"--levels must be numbers separated by commas, not {text!r}", field="levels"
        )
    return levels


# ----------------------------------------------------------------------------- output
def _reach_table(by_step: list[dict[str, float]], final: Any, runs: int) -> Table:
    reach = Table("round", "mean", "5th pct", "95th pct", title=f"Reach by round ({runs:,} runs)")
    for row in by_step:
        reach.add_row(
            str(row["step"]), f"{row['mean']:,.1f}", f"{row['p5']:,.0f}", f"{row['p95']:,.0f}"
        )
    reach.add_row("end", f"{final.mean:,.1f}", f"{final.p5:,.0f}", f"{final.p95:,.0f}")
    return reach


def _no_arcs_note(graph: Graph) -> str | None:
    if graph.n_edges:
        return None
    return "the graph has no arcs: every plan reaches only its own seeds"


def probabilities_name(probabilities: str, cascades: Path | None, learner: str) -> str:
    if probabilities == "learned":
        return f"learned ({learner}) from {cascades}"
    return probabilities


def plan_budget(
    graph: Graph,
    *,
    budget: float,
    costs: np.ndarray,
    model: str,
    probs: str | float | np.ndarray,
    probs_name: str,
    epsilon: float,
    runs: int,
    steps: int,
    random_state: int | None,
    as_json: bool,
    tipping: bool = False,
    points: int = 20,
    plot: Path | None = None,
    fmt: str | None = None,
) -> None:
    """Seeds with a cost each under ``budget`` (BudgetedIMM), their reach, and the tipping curve.

    ``fmt`` ``"csv"`` prints the seeds alone (pick order, seed, cost, marginal gain).

    Raises
    ------
    InvalidParameter
        When the budget is below the cheapest cost (nobody can be seeded).
    """
    cheapest = float(costs.min()) if costs.size else math.inf
    if budget < cheapest:
        raise InvalidParameter(
            "budget", "plan", f"at least the cheapest cost ({cheapest:g}) so one seed fits", budget
        )
    with step(f"choosing seeds for a budget of {budget:,.6g}"):
        est = BudgetedIMM(
            budget, costs, epsilon=epsilon, model=model, probabilities=probs,
            random_state=random_state,
        ).fit(graph)  # fmt: skip
    final, by_step = simulate_plan(
        graph,
        est.seeds_,
        model=model,
        probs=probs,
        runs=runs,
        steps=steps,
        random_state=random_state,
    )
    seed_cost = costs[est.seed_index_]
    seeds = [
        {"seed": json_value(s), "cost": float(c), "marginal_gain": float(g)}
        for s, c, g in zip(est.seeds_.tolist(), seed_cost, est.marginal_spread_, strict=True)
    ]
    curve_out: dict[str, Any] | None = None
    if tipping:
        grid = np.linspace(0.0, budget, int(points) + 1)
        with step(f"reach at {len(grid)} budgets from 0 to {budget:,.6g}"):
            curve = reach_curve(
                graph,
                grid,
                costs,
                model=model,
                probabilities=probs,
                n_rr_sets=est.n_rr_sets_,
                random_state=random_state,
            )
        tip = tipping_budget(curve)
        curve_out = {
            "points": [
                {"budget": float(b), "reach": float(r), "cost": float(c), "seeds": len(s)}
                for b, r, c, s in zip(
                    curve.budgets, curve.reach, curve.cost, curve.seeds, strict=True
                )
            ],
            "tipping_budget": tip,
            "n_rr_sets": curve.n_rr_sets,
        }
        if plot is not None:
            plot_reach_curve(curve, [plot], tipping=tip)
    note = _no_arcs_note(graph)
    if fmt == "csv":
        write_csv([{"order": i, **row} for i, row in enumerate(seeds, 1)],
                  ["order", "seed", "cost", "marginal_gain"])  # fmt: skip
        return
    if as_json:
        out: dict[str, Any] = {
            "seeds": seeds,
            "budget": budget,
            "spent": est.cost_,
            "strategy": est.strategy_,
            "spread": est.spread_,
            "simulated": spread_record(final),
            "reach_by_step": by_step,
            "n_rr_sets": est.n_rr_sets_,
            "approximation": est.approximation_,
        }
        if curve_out is not None:
            out["tipping"] = curve_out
        if note:
            out["note"] = note
        print(json.dumps(out))
        return
    console.print(
        f"[bold]{len(seeds)} seeds[/] costing {est.cost_:,.6g} of a budget of {budget:,.6g} by "
        f"budgeted IMM ({model.upper()}, {probs_name}, epsilon {epsilon}, best of two: "
        f"{est.strategy_}) on {graph.n_nodes:,} people, {graph.n_edges:,} arcs: estimated reach "
        f"{est.spread_:,.1f} from {est.n_rr_sets_:,} RR sets; at least "
        f"{est.approximation_:.3f} of the best the budget can buy (probability 1 - 1/n)"
    )
    if note:
        console.print(f"note: {note}")
    table = Table("#", "seed", "cost", "marginal gain", title="Seeds in pick order")
    for i, row in enumerate(seeds, 1):
        table.add_row(
            str(i), str(row["seed"]), f"{row['cost']:,.6g}", f"{row['marginal_gain']:,.1f}"
        )
    table.add_row("", "total", f"{est.cost_:,.6g}", f"{est.spread_:,.1f}")
    console.print(table)
    console.print(_reach_table(by_step, final, runs))
    if curve_out is not None:
        ct = Table("budget", "spent", "seeds", "expected reach", title="Reach against budget")
        for p in curve_out["points"]:
            ct.add_row(
                f"{p['budget']:,.6g}", f"{p['cost']:,.6g}", str(p["seeds"]), f"{p['reach']:,.1f}"
            )
        console.print(ct)
        tip = curve_out["tipping_budget"]
        console.print(
            f"tipping budget: {tip:,.6g} (from there one unit of budget buys at least 1.5x "
            "the reach per unit it bought before)"
            if tip is not None
            else "no tipping point: reach grows in proportion to budget or slower (no step of "
            "the curve buys 1.5x the reach per unit of budget bought before it)"
        )
        if plot is not None:
            console.print(f"wrote {plot}")


def plan_discounts(
    graph: Graph,
    *,
    budget: float,
    curve: str,
    levels: tuple[float, ...],
    model: str,
    probs: str | float | np.ndarray,
    probs_name: str,
    runs: int,
    steps: int,
    random_state: int | None,
    as_json: bool,
    fmt: str | None = None,
) -> None:
    """Partial discounts under ``budget`` (ContinuousIM) and the reach they buy, round by round.

    ``fmt`` ``"csv"`` prints the people alone (order, seed, discount, probability of taking it).
    """
    smallest = min(levels) if levels else math.inf
    if budget < smallest:
        raise InvalidParameter(
            "budget", "plan", f"at least the smallest discount level ({smallest:g})", budget
        )
    est = ContinuousIM(
        budget,
        levels=levels,
        curve=curve,
        model=model,
        probabilities=probs,
        random_state=random_state,
    ).fit(graph)
    people = [
        {"seed": json_value(s), "discount": float(c), "probability": float(p)}
        for s, c, p in zip(
            est.seeds_.tolist(),
            est.seed_discounts_,
            est.seed_probabilities_[est.seed_index_],
            strict=True,
        )
    ]
    if fmt == "csv":
        write_csv([{"order": i, **row} for i, row in enumerate(people, 1)],
                  ["order", "seed", "discount", "probability"])  # fmt: skip
        return
    sim_state = None if random_state is None else random_state + 1
    final = simulate_random_seeds(
        graph,
        est.seed_probabilities_,
        model=model,
        probabilities=probs,
        runs=runs,
        random_state=sim_state,
    )
    stepped = simulate_random_seeds(
        graph,
        est.seed_probabilities_,
        model=model,
        probabilities=probs,
        runs=runs,
        steps=steps,
        random_state=sim_state,
    )
    assert stepped.new_by_step is not None
    by_step = reach_summary(np.cumsum(stepped.new_by_step, axis=1))
    note = _no_arcs_note(graph)
    if as_json:
        out: dict[str, Any] = {
            "discounts": people,
            "budget": budget,
            "spent": est.spent_,
            "curve": curve,
            "levels": list(levels),
            "expected_seeds": est.expected_seeds_,
            "spread": est.spread_,
            "unified_spread": est.unified_spread_,
            "unified_discount": est.unified_discount_,
            "full_discount_spread": json_value(est.full_discount_spread_),
            "validation_spread": est.validation_spread_,
            "simulated": spread_record(final),
            "reach_by_step": by_step,
            "n_rr_sets": est.n_rr_sets_,
        }
        if note:
            out["note"] = note
        print(json.dumps(out))
        return
    full = est.full_discount_spread_
    console.print(
        f"[bold]{len(people)} people offered discounts[/] totalling {est.spent_:,.6g} of a budget "
        f"of {budget:,.6g} ({curve} take-up curve, levels {', '.join(f'{x:g}' for x in levels)}; "
        f"{model.upper()}, {probs_name}) on {graph.n_nodes:,} people: "
        f"{est.expected_seeds_:,.1f} expected to take them; estimated reach {est.spread_:,.1f} "
        f"from {est.n_rr_sets_:,} RR sets"
        + ("" if math.isnan(full) else f" (full discounts only: {full:,.1f})")
        + f", {est.validation_spread_:,.1f} on {est.validation_rr_sets_:,} fresh ones"
    )
    if note:
        console.print(f"note: {note}")
    table = Table("#", "person", "discount", "takes it", title="Discounts, largest first")
    for i, row in enumerate(people, 1):
        table.add_row(
            str(i), str(row["seed"]), f"{row['discount']:.0%}", f"{row['probability']:.0%}"
        )
    console.print(table)
    console.print(_reach_table(by_step, final, runs))
    console.print("round 0: the people who took their discount")
