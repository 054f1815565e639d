"""Seed selection with guarantees (OPIM-C, IMM, budgeted IMM), CELF, tipping curves, heuristics.

>>> from grapevine.graph import Graph
>>> from grapevine.influence import IMM, top_degree
>>> g = Graph.from_edges([(0, 1), (0, 2), (3, 4)])
>>> top_degree(g, 1).tolist()
[0]
"""

from grapevine.influence._baselines import degree_discount, pagerank_seeds, top_degree
from grapevine.influence._budget import BudgetedIMM, budgeted_seeds, seed_costs
from grapevine.influence._celf import CELF, celf
from grapevine.influence._continuous import (
    ContinuousIM,
    continuous_discounts,
    seed_probability_table,
    simulate_random_seeds,
)
from grapevine.influence._costs import COST_SCHEMES, read_seed_costs, scheme_costs
from grapevine.influence._imm import IMM, MIN_RR_SETS, imm
from grapevine.influence._opimc import OPIMC, opimc
from grapevine.influence._planner import PLAN_MODES, SeedPlan, plan_seeds
from grapevine.influence._tipping import (
    ReachCurve,
    plot_reach_curve,
    reach_curve,
    tipping_budget,
)

__all__ = [
    "CELF",
    "COST_SCHEMES",
    "IMM",
    "MIN_RR_SETS",
    "OPIMC",
    "PLAN_MODES",
    "BudgetedIMM",
    "ContinuousIM",
    "ReachCurve",
    "SeedPlan",
    "budgeted_seeds",
    "celf",
    "continuous_discounts",
    "degree_discount",
    "imm",
    "opimc",
    "pagerank_seeds",
    "plan_seeds",
    "plot_reach_curve",
    "reach_curve",
    "read_seed_costs",
    "scheme_costs",
    "seed_costs",
    "seed_probability_table",
    "simulate_random_seeds",
    "tipping_budget",
    "top_degree",
]
