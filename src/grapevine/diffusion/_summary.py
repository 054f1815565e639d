"""Reach summaries: mean and percentiles of simulated reach, round by round."""

from __future__ import annotations

import numpy as np

from grapevine.diffusion._simulate import SpreadResult

__all__ = ["reach_by_round", "reach_summary"]


def reach_summary(reached: np.ndarray) -> list[dict[str, float]]:
    """Mean, 5th and 95th percentile of every column of a runs x rounds table of reach.

    Parameters
    ----------
    reached : array of shape (runs, rounds)
        ``reached[r, t]``: people reached by round ``t`` of run ``r`` (cumulative).

    Returns
    -------
    list of dict
        One ``{"step", "mean", "p5", "p95"}`` per column, ``step`` counting from 0.
        Percentiles use numpy's default (linear) interpolation.

    Examples
    --------
    >>> first, second = reach_summary(np.array([[1, 3], [1, 5]]))
    >>> first
    {'step': 0, 'mean': 1.0, 'p5': 1.0, 'p95': 1.0}
    >>> second
    {'step': 1, 'mean': 4.0, 'p5': 3.1, 'p95': 4.9}
    """
    table = np.asarray(reached, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError(f"reach_summary needs a runs x rounds table, got shape {table.shape}")
    means = table.mean(axis=0)
    p5, p95 = np.percentile(table, [5, 95], axis=0)
    return [
        {"step": t, "mean": float(means[t]), "p5": float(p5[t]), "p95": float(p95[t])}
        for t in range(table.shape[1])
    ]


def reach_by_round(result: SpreadResult) -> list[dict[str, float]]:
    """Mean, 5th and 95th percentile of the people reached after rounds ``0 .. steps``.

    Round 0 is the seeds themselves; round ``t`` adds everyone activated in the first
    ``t`` viral cycles of each run.

    Parameters
    ----------
    result : SpreadResult
        A simulation run with ``steps`` (``simulate(..., steps=s)``). Without them only
        the end of the cascade is known: one row with ``step`` -1.

    Returns
    -------
    list of dict
        ``{"step", "mean", "p5", "p95"}`` per round (see :func:`reach_summary`).

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> from grapevine.diffusion import simulate
    >>> g = Graph.from_edges([(0, 1), (1, 2)])
    >>> res = simulate(g, [0], probabilities=1.0, runs=4, steps=2, random_state=0)
    >>> [row["mean"] for row in reach_by_round(res)]
    [1.0, 2.0, 3.0]
    """
    if result.new_by_step is None:
        return [{"step": -1, "mean": result.mean, "p5": result.p5, "p95": result.p95}]
    base = np.full((result.runs, 1), result.n_seeds, dtype=np.int64)
    grown = result.n_seeds + np.cumsum(result.new_by_step, axis=1)
    return reach_summary(np.concatenate([base, grown], axis=1))
