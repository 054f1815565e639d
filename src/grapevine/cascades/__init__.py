"""Cascades derived from posts, ties and referral events, and their metrics.

Trees are rebuilt from parent links (:func:`build_forest`) or inferred from the
order of adopters and a social graph (:func:`infer_parents`); every tree is then
measured in O(n) (:func:`tree_metrics`): size, depth, breadth, structural
virality, broadcast share and time to k adopters, with the reach split into
organic, viral and paid (:func:`reach_split`).
"""

from grapevine.cascades._interactions import activity_curve, retweet_cascades
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
    "Forest",
    "activity_curve",
    "binned_by_size",
    "build_forest",
    "forest_from_posts",
    "forest_from_retweets",
    "infer_parents",
    "reach_split",
    "retweet_cascades",
    "tree_metrics",
]
