"""``grapevine plan`` and ``grapevine simulate``: choose seeds, simulate their spread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from grapevine.cli._output import write_csv
from grapevine.cli._render import console, step
from grapevine.diffusion import (
    SpreadResult,
    reach_by_round,
    read_arc_probabilities,
    simulate,
)
from grapevine.errors import BadInput, InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import IMM, OPIMC

NAMED = ("wc", "trivalency", "uniform", "weight")
ALGORITHMS: dict[str, type[OPIMC] | type[IMM]] = {"opimc": OPIMC, "imm": IMM}
NAMES = {"opimc": "OPIM-C", "imm": "IMM"}


def load_graph(
    path: Path | None, db: str | None, platform: str | None, *, cache: bool = True
) -> Graph:
    """The graph of an edge-list file, or of the store's ties when no file is given.

    ``cache=False`` (``--no-cache``) parses the file and neither reads nor writes its binary
    cache; the default uses it for files of 64 KiB or more.
    """
    if path is None:
        from grapevine.store import Store

        with Store(db, create=False) as store:
            return store.graph(platform=platform)
    if not path.is_file():
        raise BadInput("no such file", file=str(path))
    return Graph.from_edgelist(path, cache=None if cache else False)


def probabilities_arg(
    graph: Graph, text: str, cascades: Path | None = None, learner: str = "bernoulli"
) -> str | float | np.ndarray:
    """A named scheme, one probability for every arc, or a ``u v p`` file of per-arc values.

    Arcs of the graph that the file does not list get probability 0; ``learned`` learns
    them from the ``cascades`` file (``learner``: bernoulli, jaccard or em).
    """
    if text == "learned":
        from grapevine.cli._plan_budget import learned_probabilities

        return learned_probabilities(graph, cascades, learner)
    if text in NAMED:
        return text
    try:
        return float(text)
    except ValueError:
        pass
    path = Path(text)
    if not path.is_file():
        raise BadInput(
            f"--probabilities must be one of {', '.join(NAMED)}, a number or a 'u v p' file; "
            f"{text!r} is none of these",
            field="probabilities",
        )
    return read_arc_probabilities(graph, path)


def read_seeds(path: Path) -> list[str]:
    """Seed labels, one per line (blank lines and ``#`` comments skipped)."""
    if not path.is_file():
        raise BadInput("no such file", file=str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the seed file: {exc}", file=str(path)) from None
    seeds = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not seeds:
        raise BadInput("the seed file lists no seeds", file=str(path))
    return seeds


def _label(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


@contextmanager
def dask_client(address: str | None) -> Iterator[Any]:
    """A Dask client connected to the scheduler at ``address`` (None: local threads)."""
    if address is None:
        yield None
        return
    try:
        import distributed
    except ImportError:
        raise BadInput(
            "--scheduler needs Dask: pip install 'grapevine[dask]'", field="scheduler"
        ) from None
    try:
        client = distributed.Client(address, timeout=10)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed address
        raise BadInput(
            f"no Dask scheduler answered at {address!r}: {exc}", field="scheduler"
        ) from None
    with client:
        yield client


def simulate_plan(
    graph: Graph,
    seeds: np.ndarray,
    *,
    model: str,
    probs: Any,
    runs: int,
    steps: int,
    random_state: int | None,
    client: Any = None,
) -> tuple[SpreadResult, list[dict[str, float]]]:
    """The seeds' spread to the end and their reach round by round (:func:`reach_by_round`
    over ``steps`` rounds), on the same simulated worlds (seed ``random_state + 1``, so the
    plan's own sampling and its check stay apart); shown as a progress step."""
    sim_state = None if random_state is None else random_state + 1
    with step(f"simulating the plan {runs:,} times"):
        final = simulate(
            graph,
            seeds,
            model=model,
            probabilities=probs,
            runs=runs,
            random_state=sim_state,
            client=client,
        )
        stepped = simulate(
            graph,
            seeds,
            model=model,
            probabilities=probs,
            runs=runs,
            steps=steps,
            random_state=sim_state,
            client=client,
        )
    return final, reach_by_round(stepped)


def spread_record(res: SpreadResult) -> dict[str, float]:
    """A simulated spread as JSON: mean, standard error, 5th and 95th percentiles, runs."""
    return {
        "mean": res.mean,
        "std_error": res.std_error,
        "p5": res.p5,
        "p95": res.p95,
        "runs": res.runs,
    }


def plan_campaign(
    graph: Graph,
    *,
    k: int,
    model: str,
    probabilities: str,
    epsilon: float,
    runs: int,
    steps: int,
    random_state: int | None,
    as_json: bool,
    cascades: Path | None = None,
    learner: str = "bernoulli",
    algorithm: str = "opimc",
    client: Any = None,
    fmt: str | None = None,
) -> None:
    """Choose ``k`` seeds (OPIM-C or IMM), simulate their reach round by round, print both.

    ``fmt`` ``"csv"`` prints the seeds alone (pick order, seed, marginal gain).
    """
    probs = probabilities_arg(graph, probabilities, cascades, learner)
    if k > graph.n_nodes:
        raise InvalidParameter("k", "plan", f"an int in the range [1, {graph.n_nodes}]", k)
    if algorithm not in ALGORITHMS:
        raise InvalidParameter("algorithm", "plan", "one of 'opimc', 'imm'", algorithm)
    with step(f"choosing {k:,} seeds by {NAMES[algorithm]}"):
        est = ALGORITHMS[algorithm](
            k,
            epsilon=epsilon,
            model=model,
            probabilities=probs,
            random_state=random_state,
            client=client,
        ).fit(graph)
    final, by_step = simulate_plan(
        graph,
        est.seeds_,
        model=model,
        probs=probs,
        runs=runs,
        steps=steps,
        random_state=random_state,
        client=client,
    )
    seeds = [
        {"seed": _label(s), "marginal_gain": float(g)}
        for s, g in zip(est.seeds_.tolist(), est.marginal_spread_, strict=True)
    ]
    if fmt == "csv":
        write_csv([{"order": i, **row} for i, row in enumerate(seeds, 1)],
                  ["order", "seed", "marginal_gain"])  # fmt: skip
        return
    if as_json:
        out = {
            "seeds": seeds,
            "spread": est.spread_,
            "simulated": spread_record(final),
            "reach_by_step": by_step,
            "n_rr_sets": est.n_rr_sets_,
            "approximation": est.approximation_,
            "algorithm": algorithm,
            "spread_lower": est.spread_lower_,
            "spread_upper": est.spread_upper_,
        }
        print(json.dumps(out))
        return
    console.print(
        f"[bold]{k} seeds[/] by {NAMES[algorithm]} ({model.upper()}, {probabilities}, "
        f"epsilon {epsilon}) on {graph.n_nodes:,} people, {graph.n_edges:,} arcs: estimated reach "
        f"{est.spread_:,.1f} from {est.n_rr_sets_:,} RR sets; at least "
        f"{est.approximation_:.3f} of the best possible (certified, probability 1 - 1/n)"
    )
    table = Table("#", "seed", "marginal gain", title="Seeds in pick order")
    for i, row in enumerate(seeds, 1):
        table.add_row(str(i), str(row["seed"]), f"{row['marginal_gain']:,.1f}")
    console.print(table)
    reach = Table("round", "mean", "5th pct", "95th pct", title=f"Reach by round ({runs:,} runs)")
    for row in by_step:
        reach.add_row(
            str(row["step"]), f"{row['mean']:,.1f}", f"{row['p5']:,.0f}", f"{row['p95']:,.0f}"
        )
    reach.add_row("end", f"{final.mean:,.1f}", f"{final.p5:,.0f}", f"{final.p95:,.0f}")
    console.print(reach)


def simulate_campaign(
    graph: Graph,
    seed_file: Path,
    *,
    model: str,
    probabilities: str,
    runs: int,
    random_state: int | None,
    as_json: bool,
    client: Any = None,
) -> None:
    """Simulate the seeds listed in ``seed_file`` and print the spread distribution."""
    seeds = read_seeds(seed_file)
    probs = probabilities_arg(graph, probabilities)
    with step(f"simulating {len(seeds):,} seeds {runs:,} times"):
        res = simulate(
            graph,
            seeds,
            model=model,
            probabilities=probs,
            runs=runs,
            random_state=random_state,
            client=client,
        )
    if as_json:
        counts = np.bincount(res.spreads)
        dist = {str(size): int(c) for size, c in enumerate(counts) if c}
        print(json.dumps({"seeds": len(seeds), **spread_record(res), "distribution": dist}))
        return
    console.print(
        f"[bold]{res.n_seeds} seeds[/] ({model.upper()}, {probabilities}) over {runs:,} runs: "
        f"mean reach {res.mean:,.1f} ± {res.std_error:,.2g}, 5th percentile {res.p5:,.0f}, "
        f"95th percentile {res.p95:,.0f}, range {res.spreads.min():,}–{res.spreads.max():,}"
    )
