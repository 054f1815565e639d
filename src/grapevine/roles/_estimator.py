"""The estimator twin of :func:`influencer_roles`, fitted like :class:`grapevine.influence.IMM`."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import pandas as pd

from grapevine._validation import check_choice, check_number
from grapevine.errors import BadInput
from grapevine.graph import Graph
from grapevine.roles._scores import ROLES, influencer_roles

__all__ = ["InfluencerRoles"]


class InfluencerRoles:
    """Connector, maven and salesman scores of every person, as an estimator.

    ``__init__`` stores the settings; :meth:`fit` validates and computes, exactly as
    :func:`influencer_roles` (its function twin) does with the same arguments.

    Parameters
    ----------
    betweenness_epsilon : float, default 0.05
        Additive error of the sampled betweenness on large graphs.
    min_cascades : int, default 3
        Fewest cascades for a maven score.
    min_exposures : int, default 20
        Fewest exposed people (and matched ones) for a salesman score.
    confidence : float, default 0.95
        Level of the salesman lift's confidence interval.
    match_on : sequence of str, default ()
        More columns of ``conversions`` to match exposed people on.
    random_state : int, optional
        Seed of Leiden and the betweenness sampling.

    Attributes
    ----------
    scores_ : DataFrame
        The frame :func:`influencer_roles` returns: one row per node, scores in [0, 1],
        ranks, one-line reasons, the data each score rests on, no NaN.
    n_nodes_ : int
        Nodes of the fitted graph.

    Examples
    --------
    >>> from grapevine.graph import Graph
    >>> left = [(a, b) for a in range(4) for b in range(a + 1, 4)]
    >>> right = [(a + 5, b + 5) for a, b in left]
    >>> g = Graph.from_edges(left + right + [(3, 4), (4, 5)], directed=False)
    >>> est = InfluencerRoles(random_state=0).fit(g)
    >>> est.top("connector", 1)["id"].tolist()
    [4]
    """

    def __init__(
        self,
        *,
        betweenness_epsilon: float = 0.05,
        min_cascades: int = 3,
        min_exposures: int = 20,
        confidence: float = 0.95,
        match_on: Sequence[str] = (),
        random_state: int | None = None,
    ) -> None:
        self.betweenness_epsilon = betweenness_epsilon
        self.min_cascades = min_cascades
        self.min_exposures = min_exposures
        self.confidence = confidence
        self.match_on = match_on
        self.random_state = random_state

    def fit(
        self,
        graph: Graph,
        *,
        adoptions: pd.DataFrame | None = None,
        conversions: pd.DataFrame | None = None,
    ) -> InfluencerRoles:
        """Score every node of ``graph`` (see :func:`influencer_roles` for the inputs)."""
        self.scores_ = influencer_roles(
            graph,
            adoptions=adoptions,
            conversions=conversions,
            betweenness_epsilon=self.betweenness_epsilon,
            min_cascades=self.min_cascades,
            min_exposures=self.min_exposures,
            confidence=self.confidence,
            match_on=self.match_on,
            random_state=self.random_state,
        )
        self.n_nodes_ = graph.n_nodes
        return self

    def top(self, role: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` best-ranked rows for ``role`` (ties broken by ``*_order``), with data.

        Rows whose score is 0 because the data say nothing ("no data" /
        "not enough data") are left out, so fewer than ``k`` rows may come back.
        """
        if not hasattr(self, "scores_"):
            raise BadInput("this InfluencerRoles is not fitted yet: call fit(graph) first")
        check_choice(role, "role", "InfluencerRoles.top", ROLES)
        check_number(k, "k", "InfluencerRoles.top", kind=numbers.Integral, low=1)
        s = self.scores_
        has = ~s[f"{role}_data"].str.startswith(("no data", "not enough data"))
        cols = ["id", role, f"{role}_rank", f"{role}_order", f"{role}_reason", f"{role}_data"]
        return s.loc[has, cols].sort_values(f"{role}_order").head(int(k))

    def __repr__(self) -> str:
        return f"InfluencerRoles(random_state={self.random_state!r})"
