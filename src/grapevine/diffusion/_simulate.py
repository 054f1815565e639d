"""Monte-Carlo simulation of Independent Cascade and Linear Threshold spread."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from grapevine._distributed import check_client, run_blocks, scatter
from grapevine._validation import check_number
from grapevine.diffusion._edges import model_weights, resolve_seed, seed_indices
from grapevine.graph import Graph

__all__ = ["MonteCarlo", "SpreadResult", "simulate"]


def _threads() -> int:
    import numba

    return int(numba.get_num_threads())


@dataclass(frozen=True)
class SpreadResult:
    """The spread of one seed set over many simulated cascades.

    Attributes
    ----------
    spreads : ndarray of int64, shape (runs,)
        Active nodes at the end of each run (the seeds included).
    new_by_step : ndarray of int64, shape (runs, steps) or None
        New activations in rounds ``1 .. steps`` of each run (``steps`` given).
    n_seeds : int
        Distinct seeds (round 0).
    """

    spreads: np.ndarray
    new_by_step: np.ndarray | None
    n_seeds: int

    @property
    def runs(self) -> int:
        """Number of simulations."""
        return len(self.spreads)

    @property
    def mean(self) -> float:
        """Mean spread (the expected number of active nodes)."""
        return float(self.spreads.mean())

    @property
    def std_error(self) -> float:
        """Standard error of the mean (0 for a single run)."""
        if self.runs < 2:
            return 0.0
        return float(self.spreads.std(ddof=1) / np.sqrt(self.runs))

    @property
    def p5(self) -> float:
        """5th percentile of the spread."""
        return float(np.percentile(self.spreads, 5))

    @property
    def p95(self) -> float:
        """95th percentile of the spread."""
        return float(np.percentile(self.spreads, 95))

    def reach_by_step(self) -> np.ndarray:
        """Mean number of active nodes after rounds ``0 .. steps`` (float64, ``steps + 1``)."""
        if self.new_by_step is None:
            return np.array([self.mean])
        cum = np.cumsum(self.new_by_step.mean(axis=0))
        return np.concatenate([[float(self.n_seeds)], self.n_seeds + cum])

    def __repr__(self) -> str:
        return (
            f"<SpreadResult mean={self.mean:.4g} ± {self.std_error:.2g} "
            f"[p5 {self.p5:.4g}, p95 {self.p95:.4g}] over {self.runs:,} runs>"
        )


def simulate(
    graph: Graph,
    seeds: Any,
    *,
    model: str = "ic",
    probabilities: str | float | np.ndarray = "wc",
    runs: int = 1000,
    steps: int | None = None,
    random_state: int | np.random.Generator | None = None,
    client: Any = None,
) -> SpreadResult:
    """Simulate the spread of ``seeds`` under Independent Cascade or Linear Threshold.

    Parameters
    ----------
    graph : Graph
    seeds : sequence of node labels
        The initially active people (duplicates count once; may be empty).
    model : {"ic", "lt"}
        Independent Cascade (each newly active ``u`` activates out-neighbour
        ``v`` once with probability ``p(u, v)``) or Linear Threshold (``v``
        activates when the weights of its active in-neighbours reach a uniform
        threshold; in-weights are scaled to sum to at most 1).
    probabilities : {"wc", "trivalency", "uniform", "weight"}, float or array
        Per-arc probabilities (IC) or weights (LT); see :func:`edge_probabilities`.
    runs : int
        Number of simulations (>= 1).
    steps : int, optional
        Stop each cascade after this many rounds and record the new activations
        of every round (``new_by_step``); by default cascades run to the end.
    random_state : int, Generator or None
        Same value, same result (whatever the number of threads).
    client : dask.distributed.Client, optional
        Run the simulations in blocks on this Dask cluster (the graph is sent to
        every worker once); the result is the same as on local threads.

    Returns
    -------
    SpreadResult
        Per-run spreads with their mean, standard error and 5th/95th percentiles.

    Raises
    ------
    InvalidParameter
        A model, probability, ``runs`` or ``steps`` outside its domain.
    UnknownPerson
        A seed that is not in the graph.

    Notes
    -----
    O(runs x reached arcs), parallel over runs (numba threads). Simulation
    ``r`` draws from its own counter-based stream keyed by ``(random_state, r)``.

    References
    ----------
    Kempe, Kleinberg, Tardos. Maximizing the spread of influence through a
    social network. KDD 2003.

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> res = simulate(g, ["a"], probabilities=1.0, runs=10, random_state=0)
    >>> res.mean, res.std_error
    (3.0, 0.0)
    >>> simulate(g, ["a"], probabilities=1.0, runs=5, steps=1, random_state=0).mean
    2.0
    """
    owner = "simulate"
    check_number(runs, "runs", owner, kind=numbers.Integral, low=1)
    if steps is not None:
        check_number(steps, "steps", owner, kind=numbers.Integral, low=0)
    client = check_client(client, owner)
    seed = resolve_seed(random_state)
    w = model_weights(graph, model, probabilities, owner, seed)
    idx = seed_indices(graph, seeds, owner)
    return _run(graph, w, idx, model, int(runs), steps, seed, client)


def _run(
    graph: Graph,
    w: np.ndarray,
    idx: np.ndarray,
    model: str,
    runs: int,
    steps: int | None,
    seed: int,
    client: Any = None,
) -> SpreadResult:
    max_steps = -1 if steps is None else int(steps)
    n_record = 0 if steps is None else int(steps)
    lt = model == "lt"
    if client is None:
        spreads, new = simulate_block(
            graph.indptr, graph.indices, w, idx, lt, seed, max_steps, n_record, 0, runs
        )
    else:
        shared = scatter(client, [graph.indptr, graph.indices, w, idx])
        parts = run_blocks(client, simulate_block, shared, 0, runs, lt, seed, max_steps, n_record)
        spreads = np.concatenate([part[0] for part in parts])
        new = np.concatenate([part[1] for part in parts])
    return SpreadResult(spreads, new if steps is not None else None, len(idx))


def simulate_block(
    indptr: np.ndarray,
    indices: np.ndarray,
    w: np.ndarray,
    idx: np.ndarray,
    lt: bool,
    seed: int,
    max_steps: int,
    n_record: int,
    first: int,
    runs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``first .. first + runs - 1`` on this machine's numba threads (a Dask task)."""
    from grapevine._kernels.diffusion import ic_spread, lt_spread

    kernel = lt_spread if lt else ic_spread
    chunks = max(1, min(runs, 8 * _threads()))
    return kernel(
        indptr, indices, w, idx, runs, np.uint64(seed), max_steps, n_record, chunks, first
    )


class MonteCarlo:
    """Monte-Carlo spread estimator (the class twin of :func:`simulate`).

    Parameters are those of :func:`simulate`; ``fit(graph, seeds)`` stores the
    :class:`SpreadResult` in ``result_`` and its mean in ``spread_``.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (0, 2)])
    >>> MonteCarlo(probabilities=1.0, runs=4, random_state=1).fit(g, [0]).spread_
    3.0
    """

    def __init__(
        self,
        *,
        model: str = "ic",
        probabilities: str | float | np.ndarray = "wc",
        runs: int = 1000,
        steps: int | None = None,
        random_state: int | np.random.Generator | None = None,
        client: Any = None,
    ) -> None:
        self.model = model
        self.probabilities = probabilities
        self.runs = runs
        self.steps = steps
        self.random_state = random_state
        self.client = client

    def fit(self, graph: Graph, seeds: Any) -> MonteCarlo:
        """Simulate ``seeds`` on ``graph``; sets ``result_``, ``spread_``, ``std_error_``."""
        self.result_ = simulate(
            graph,
            seeds,
            model=self.model,
            probabilities=self.probabilities,
            runs=self.runs,
            steps=self.steps,
            random_state=self.random_state,
            client=self.client,
        )
        self.spread_ = self.result_.mean
        self.std_error_ = self.result_.std_error
        return self
