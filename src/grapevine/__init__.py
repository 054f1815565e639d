"""Grapevine: open-source word-of-mouth marketing analytics.

Listen to what is said, find the people whose word travels, run referral
campaigns, and measure, forecast and plan how a message spreads.

The top-level namespace is light: importing ``grapevine`` loads numpy and
pandas but not the database layer, the web service or compiled kernels.
Those load when first used (``grapevine.store``, ``grapevine.service``).
"""

from grapevine.errors import (
    BadInput,
    GrapevineError,
    InvalidParameter,
    InvalidSignature,
    MissingDependency,
    NotConverged,
    SchemaOutOfDate,
    StoreError,
    UnknownPerson,
)
from grapevine.graph import Graph, read_edgelist

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "GrapevineError",
    "Graph",
    "InvalidParameter",
    "InvalidSignature",
    "MissingDependency",
    "NotConverged",
    "SchemaOutOfDate",
    "StoreError",
    "UnknownPerson",
    "read_edgelist",
]
