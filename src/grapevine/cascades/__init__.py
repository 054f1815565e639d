"""Cascades derived from posts, ties and referral events, and their metrics.

Trees are rebuilt from parent links (:func:`build_forest`) or inferred from the
order of adopters and a social graph (:func:`infer_parents`); every tree is then
measured in O(n) (:func:`tree_metrics`): size, depth, breadth, structural
virality, broadcast share and time to k adopters, with the reach split into
organic, viral and paid (:func:`reach_split`). Growth: R(t) by Cori et al.
(:func:`reproduction_number`) and the tipping rule (:func:`tipping_point`); R per
generation; the K-factor and viral cycle time of referral programmes.
"""

from grapevine.cascades._figures import (
    Growth,
    TreeLayout,
    adoption_growth,
    cascade_summary,
    tree_layout,
)
from grapevine.cascades._interactions import activity_curve, retweet_cascades
from grapevine.cascades._referrals import (
    CycleTime,
    generation_sizes,
    k_factor,
    projected_growth,
    r_by_generation,
    viral_cycle_time,
)
from grapevine.cascades._rt import (
    Takeoff,
    TippingPoint,
    bass_takeoff,
    discrete_generation_interval,
    reproduction_number,
    tipping_point,
)
from grapevine.cascades._trees import (
    Forest,
    binned_by_size,
    build_forest,
    forest_from_posts,
    forest_from_retweets,
    infer_parents,
    reach_split,
    tree_metrics,
)

__all__ = [
    "CycleTime",
    "Forest",
    "Growth",
    "Takeoff",
    "TippingPoint",
    "TreeLayout",
    "activity_curve",
    "adoption_growth",
    "bass_takeoff",
    "binned_by_size",
    "build_forest",
    "cascade_summary",
    "discrete_generation_interval",
    "forest_from_posts",
    "forest_from_retweets",
    "generation_sizes",
    "infer_parents",
    "k_factor",
    "projected_growth",
    "r_by_generation",
    "reach_split",
    "reproduction_number",
    "retweet_cascades",
    "tipping_point",
    "tree_layout",
    "tree_metrics",
    "viral_cycle_time",
]
