"""Graphs as CSR arrays with id maps, and their readers and writers."""

from grapevine.graph._graph import BuildReport, Graph
from grapevine.graph._neighbourhood import Neighbourhood, neighbourhood
from grapevine.graph._read import EdgeList, read_edgelist

__all__ = [
    "BuildReport",
    "EdgeList",
    "Graph",
    "Neighbourhood",
    "neighbourhood",
    "read_edgelist",
]
