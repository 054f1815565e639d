"""Diffusion models and Monte-Carlo simulation: Independent Cascade and Linear Threshold.

>>> from grapevine.graph import Graph
>>> from grapevine.diffusion import simulate
>>> g = Graph.from_edges([(0, 1), (1, 2)])
>>> simulate(g, [0], probabilities=1.0, runs=3, random_state=0).spreads.tolist()
[3, 3, 3]
"""

from grapevine.diffusion._arcs import arc_positions, read_arc_probabilities
from grapevine.diffusion._edges import edge_probabilities, lt_weights
from grapevine.diffusion._simulate import MonteCarlo, SpreadResult, simulate
from grapevine.diffusion._summary import reach_by_round, reach_summary

__all__ = [
    "MonteCarlo",
    "SpreadResult",
    "arc_positions",
    "edge_probabilities",
    "lt_weights",
    "reach_by_round",
    "reach_summary",
    "read_arc_probabilities",
    "simulate",
]
