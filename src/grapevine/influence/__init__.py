"""Seed selection with guarantees (IMM) and the classic heuristics to compare it with.

>>> from grapevine.graph import Graph
>>> from grapevine.influence import IMM, top_degree
>>> g = Graph.from_edges([(0, 1), (0, 2), (3, 4)])
>>> top_degree(g, 1).tolist()
[0]
"""

from grapevine.influence._baselines import degree_discount, pagerank_seeds, top_degree
from grapevine.influence._imm import IMM, MIN_RR_SETS, imm

__all__ = ["IMM", "MIN_RR_SETS", "degree_discount", "imm", "pagerank_seeds", "top_degree"]
