"""``grapevine plan --budget``: seeds with costs, partial discounts, the tipping curve."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from grapevine.cli._plan import reach_by_step, reach_summary, simulate_plan
from grapevine.cli._render import console, json_value
from grapevine.errors import BadInput, InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import (
    BudgetedIMM,
    ContinuousIM,
    plot_reach_curve,
    reach_curve,
    simulate_random_seeds,
    tipping_budget,
)

COST_SCHEMES = ("uniform", "degree")
LEARNERS = ("bernoulli", "jaccard", "em")


# ----------------------------------------------------------------------------- inputs
def _number(text: str, path: Path, line: int, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(
            f"{text!r} is not a number", file=str(path), line=line, field=field
        ) from None
    if not math.isfinite(value) or value < 0:
        raise BadInput(
            f"a cost must be a finite number >= 0, not {text!r}",
            file=str(path),
            line=line,
            field=field,
        )
    return value


def read_costs(path: Path, graph: Graph, default: float | None = None) -> np.ndarray:
    """The cost of every person from an ``id cost`` file, or a CSV with columns ``id,cost``.

    Blank lines and ``#`` comments are skipped. People of the file who are not in the
    graph are ignored; people of the graph missing from the file cost ``default``, or
    are an error naming how many and the first few.

    Raises
    ------
    BadInput
        A missing file, a line without two fields, a non-numeric, negative or infinite
        cost, an id given twice, or people without a cost (no ``default``); the error
        names the file, the line and the field.
    """
    if not path.is_file():
        raise BadInput("no such file", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the cost file: {exc}", file=str(path)) from None
    lines = [
        (i, line.strip())
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise BadInput("the cost file lists no costs", file=str(path))
    pairs: list[tuple[int, str, str]] = []
    if "," in lines[0][1]:
        rows = list(csv.reader([line for _, line in lines]))
        header = [h.strip().lower() for h in rows[0]]
        for col in ("id", "cost"):
            if col not in header:
                raise BadInput(
                    "a CSV cost file needs a header with columns id and cost",
                    file=str(path),
                    line=lines[0][0],
                    field=col,
                )
        i_id, i_cost = header.index("id"), header.index("cost")
        for (number, _), row in zip(lines[1:], rows[1:], strict=True):
            if len(row) <= max(i_id, i_cost):
                field = "cost" if len(row) > i_id else "id"
                raise BadInput("missing value", file=str(path), line=number, field=field)
            pairs.append((number, row[i_id].strip(), row[i_cost].strip()))
    else:
        for number, line in lines:
            parts = line.split()
            if len(parts) != 2:
                raise BadInput(
                    f"expected 'id cost', got {len(parts)} fields",
                    file=str(path),
                    line=number,
                    field="cost" if len(parts) == 1 else None,
                )
            pairs.append((number, parts[0], parts[1]))
    costs = np.full(graph.n_nodes, np.nan)
    ids = np.array([p[1] for p in pairs], dtype=object)
    where = graph.positions(ids) if len(ids) else np.empty(0, dtype=np.int64)
    for (number, label, value), pos in zip(pairs, where.tolist(), strict=True):
        cost = _number(value, path, number, "cost")
        if pos < 0:
            continue
        if not math.isnan(costs[pos]):
            raise BadInput(f"{label!r} is given a cost twice", file=str(path), line=number)
        costs[pos] = cost
    missing = np.flatnonzero(np.isnan(costs))
    if missing.size:
        if default is None:
            first = ", ".join(repr(json_value(x)) for x in graph.ids[missing[:5]])
            raise BadInput(
                f"{missing.size:,} of {graph.n_nodes:,} people have no cost (first: {first}); "
                "add them or give --default-cost",
                file=str(path),
                field="cost",
            )
        costs[missing] = default
    return costs


def costs_arg(graph: Graph, text: str, default: float | None = None) -> np.ndarray:
    """Costs from ``uniform`` (1 each), ``degree`` (1 + out-degree) or a cost file."""
    if text == "uniform":
        return np.ones(graph.n_nodes)
    if text == "degree":
        return 1.0 + graph.out_degree().astype(np.float64)
    path = Path(text)
    if not path.is_file():
        raise BadInput(
            f"--costs must be uniform, degree or a cost file; {text!r} is none of these",
            field="costs",
        )
    return read_costs(path, graph, default)


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


def _spread(res: Any) -> dict[str, float]:
    return {
        "mean": res.mean,
        "std_error": res.std_error,
        "p5": res.p5,
        "p95": res.p95,
        "runs": res.runs,
    }


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
) -> None:
    """Seeds with a cost each under ``budget`` (BudgetedIMM), their reach, and the tipping curve.

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
    est = BudgetedIMM(
        budget, costs, epsilon=epsilon, model=model, probabilities=probs, random_state=random_state
    ).fit(graph)
    final, stepped = simulate_plan(
        graph,
        est.seeds_,
        model=model,
        probs=probs,
        runs=runs,
        steps=steps,
        random_state=random_state,
    )
    by_step = reach_by_step(stepped)
    seed_cost = costs[est.seed_index_]
    seeds = [
        {"seed": json_value(s), "cost": float(c), "marginal_gain": float(g)}
        for s, c, g in zip(est.seeds_.tolist(), seed_cost, est.marginal_spread_, strict=True)
    ]
    curve_out: dict[str, Any] | None = None
    if tipping:
        grid = np.linspace(0.0, budget, int(points) + 1)
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
    if as_json:
        out: dict[str, Any] = {
            "seeds": seeds,
            "budget": budget,
            "spent": est.cost_,
            "strategy": est.strategy_,
            "spread": est.spread_,
            "simulated": _spread(final),
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
            f"tipping budget: {tip:,.6g}"
            if tip is not None
            else "tipping budget: none: reach grows in proportion to budget (or slower)"
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
) -> None:
    """Partial discounts under ``budget`` (ContinuousIM) and the reach they buy, round by round."""
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
    people = [
        {"seed": json_value(s), "discount": float(c), "probability": float(p)}
        for s, c, p in zip(
            est.seeds_.tolist(),
            est.seed_discounts_,
            est.seed_probabilities_[est.seed_index_],
            strict=True,
        )
    ]
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
            "simulated": _spread(final),
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
