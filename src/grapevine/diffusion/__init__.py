"""Diffusion models and Monte-Carlo simulation: Independent Cascade and Linear Threshold.

>>> from grapevine.graph import Graph
>>> from grapevine.diffusion import simulate
>>> g = Graph.from_edges([(0, 1), (1, 2)])
>>> simulate(g, [0], probabilities=1.0, runs=3, random_state=0).spreads.tolist()
[3, 3, 3]
"""

from grapevine.diffusion._edges import edge_probabilities, lt_weights
from grapevine.diffusion._simulate import MonteCarlo, SpreadResult, simulate

__all__ = ["MonteCarlo", "SpreadResult", "edge_probabilities", "lt_weights", "simulate"]
