"""Influencer roles and the edge probabilities learned from cascades.

So far: edge influence probabilities learned from observed cascades on a known graph
(Goyal, Bonchi, Lakshmanan WSDM 2010: Bernoulli and Jaccard; Saito et al. 2008: EM), with
held-out scoring (log-likelihood, next-adopter AUC). The role scores (connectors, mavens,
salesmen) come next.
"""

from grapevine.roles._learn import (
    CascadeArrays,
    EdgeProbabilities,
    LogLikelihood,
    cascade_arrays,
    cascade_log_likelihood,
    learn_probabilities,
    next_adopter_auc,
)

__all__ = [
    "CascadeArrays",
    "EdgeProbabilities",
    "LogLikelihood",
    "cascade_arrays",
    "cascade_log_likelihood",
    "learn_probabilities",
    "next_adopter_auc",
]
