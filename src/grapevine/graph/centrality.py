"""Who sits where in the network: centralities, k-shells, communities and brokers.

The public face of the network measures behind "find the people whose word travels".
Every function takes a :class:`grapevine.graph.Graph` and returns arrays aligned with
its node numbers (``graph.ids[i]`` labels entry ``i``).

>>> from grapevine.graph import Graph
>>> from grapevine.graph.centrality import kcore, pagerank
>>> g = Graph.from_edges([(0, 1), (1, 2), (2, 0), (2, 3)], directed=False)
>>> kcore(g).tolist()
[2, 2, 2, 1]
>>> float(pagerank(g).sum())
1.0
"""

from grapevine.graph._centrality import (
    BETWEENNESS_METHODS,
    betweenness,
    betweenness_sources_needed,
    in_degree,
    kcore,
    out_degree,
    pagerank,
)
from grapevine.graph._communities import (
    Brokerage,
    brokerage,
    burt_constraint,
    communities,
    modularity,
)

__all__ = [
    "BETWEENNESS_METHODS",
    "Brokerage",
    "betweenness",
    "betweenness_sources_needed",
    "brokerage",
    "burt_constraint",
    "communities",
    "in_degree",
    "kcore",
    "modularity",
    "out_degree",
    "pagerank",
]
