"""Cascades derived from posts, ties and referral events, and their metrics.

The foundation provides the star-shaped retweet cascades of the Higgs data
and activity curves; trees, structural virality, R(t) and the tipping point
come with issue 4.
"""

from grapevine.cascades._interactions import activity_curve, retweet_cascades

__all__ = ["activity_curve", "retweet_cascades"]
