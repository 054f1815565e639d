"""Influencer roles and the edge probabilities learned from cascades.

:func:`influencer_roles` (and its estimator twin :class:`InfluencerRoles`) scores every
person as a connector (communities reached, betweenness, k-shell), a maven (how early they
adopt, how often they start cascades) and a salesman (matched conversion lift of the
people they expose, with a confidence interval: :func:`salesman_lift`), each with a
one-line reason and "no data" where the data cannot say. :class:`EdgeProbabilities` learns
edge influence probabilities from observed cascades on a known graph (Goyal, Bonchi,
Lakshmanan WSDM 2010: Bernoulli and Jaccard; Saito et al. 2008: EM), with held-out scoring
(log-likelihood, next-adopter AUC).
"""

from grapevine.roles._estimator import InfluencerRoles
from grapevine.roles._learn import (
    CascadeArrays,
    EdgeProbabilities,
    LogLikelihood,
    cascade_arrays,
    cascade_log_likelihood,
    learn_probabilities,
    next_adopter_auc,
)
from grapevine.roles._salesman import SalesmanLift, salesman_lift
from grapevine.roles._scores import ROLES, TIE_BREAK, influencer_roles

__all__ = [
    "ROLES",
    "TIE_BREAK",
    "CascadeArrays",
    "EdgeProbabilities",
    "InfluencerRoles",
    "LogLikelihood",
    "SalesmanLift",
    "cascade_arrays",
    "cascade_log_likelihood",
    "influencer_roles",
    "learn_probabilities",
    "next_adopter_auc",
    "salesman_lift",
]
