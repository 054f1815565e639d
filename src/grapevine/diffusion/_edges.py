"""Per-arc probabilities (IC) and weights (LT) for the diffusion kernels."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from grapevine._validation import check_choice
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph

__all__ = ["edge_probabilities", "lt_weights", "resolve_seed", "seed_indices"]

MODELS = ("ic", "lt")
NAMED = ("wc", "trivalency", "uniform", "weight")


def resolve_seed(random_state: Any) -> int:
    """A 63-bit integer seed from ``None``, an int or a ``numpy.random.Generator``."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise InvalidParameter(
                "random_state", "grapevine", "None, a Generator or an int >= 0", random_state
            )
        return int(random_state) & (2**64 - 1)
    raise InvalidParameter(
        "random_state", "grapevine", "None, a Generator or an int >= 0", random_state
    )


def edge_probabilities(
    graph: Graph,
    probabilities: str | float | np.ndarray = "wc",
    *,
    owner: str = "edge_probabilities",
    random_state: int | None = None,
) -> np.ndarray:
    """Per-arc probabilities (float64, aligned with ``graph.indices``).

    Parameters
    ----------
    graph : Graph
    probabilities : {"wc", "trivalency", "uniform", "weight"}, float or array
        A name understood by :meth:`Graph.probabilities` (``"weight"`` uses the
        graph's own weights, which must lie in [0, 1]), one probability for
        every arc, or an array with one value per arc.
    owner : str
        Who is asking (named in errors).
    random_state : int, optional
        For ``"trivalency"``.

    Raises
    ------
    InvalidParameter
        An unknown name, a value outside [0, 1] or an array of the wrong length.

    Examples
    --------
    >>> g = Graph.from_edges([(0, 1), (2, 1)])
    >>> edge_probabilities(g, "wc").tolist()
    [0.5, 0.5]
    >>> edge_probabilities(g, 0.25).tolist()
    [0.25, 0.25]
    """
    m = graph.n_edges
    if isinstance(probabilities, str):
        check_choice(probabilities, "probabilities", owner, NAMED)
        if probabilities == "weight" and m and (graph.weights.min() < 0 or graph.weights.max() > 1):
            raise InvalidParameter(
                "probabilities", owner, "'weight' only when weights lie in [0, 1]", probabilities
            )
        p = graph.probabilities(probabilities, random_state=random_state)
    elif isinstance(probabilities, numbers.Real) and not isinstance(probabilities, bool):
        p = np.full(m, float(probabilities))
    else:
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape != (m,):
            raise InvalidParameter(
                "probabilities", owner, f"a name, a float or an array of {m} values", p.shape
            )
    p = np.ascontiguousarray(p, dtype=np.float64)
    if m and not (np.all(p >= 0.0) and np.all(p <= 1.0)):  # also rejects NaN
        bad = p[~((p >= 0.0) & (p <= 1.0))][0]
        raise InvalidParameter("probabilities", owner, "values in the range [0, 1]", float(bad))
    return p


def lt_weights(graph: Graph, p: np.ndarray) -> np.ndarray:
    """Linear Threshold weights: ``p`` scaled so that the weights into any node sum to <= 1.

    A node whose in-weights sum to ``s > 1`` has each of them divided by ``s``;
    others are kept (weighted-cascade weights already sum to 1).

    >>> g = Graph.from_edges([(0, 2), (1, 2)])
    >>> lt_weights(g, np.array([0.8, 0.8])).tolist()
    [0.5, 0.5]
    """
    insum = np.bincount(graph.indices, weights=p, minlength=graph.n_nodes)
    scale = np.maximum(insum, 1.0)
    return np.ascontiguousarray(p / scale[graph.indices], dtype=np.float64)


def model_weights(
    graph: Graph, model: str, probabilities: str | float | np.ndarray, owner: str, seed: int
) -> np.ndarray:
    """Per-arc IC probabilities or LT weights for ``model``."""
    check_choice(model, "model", owner, MODELS)
    p = edge_probabilities(graph, probabilities, owner=owner, random_state=seed % (2**32))
    return lt_weights(graph, p) if model == "lt" else p


def seed_indices(graph: Graph, seeds: Any, owner: str) -> np.ndarray:
    """Node numbers (int64, unique, in first-seen order) of seed labels."""
    labels = np.atleast_1d(np.asarray(seeds))
    if labels.ndim != 1:
        raise InvalidParameter("seeds", owner, "a 1-d sequence of node labels", labels.shape)
    if labels.size == 0:
        return np.empty(0, dtype=np.int64)
    idx = graph.index_of(labels)
    _, first = np.unique(idx, return_index=True)
    return np.ascontiguousarray(idx[np.sort(first)], dtype=np.int64)
