"""The controlled vocabularies of the data model (shared by connectors, store and service)."""

from __future__ import annotations

__all__ = ["POST_COUNTERS", "REFERRAL_KINDS", "TIE_KINDS"]

TIE_KINDS = (
    "follows",
    "friend",
    "trusts",
    "replied",
    "mentioned",
    "retweeted",
    "referred",
    "nominated",
    "coauthor",
    "interacted",
)
"""Kinds of tie. The first seven are ARCHITECTURE.md's; ``nominated`` (survey
name generators), ``coauthor`` and ``interacted`` (anything else) cover the
research graphs. A tie points in the direction of the act: ``A retweeted B``
is a tie from A to B; influence flows from B to A."""

INTERACTION_KINDS = ("replied", "mentioned", "retweeted", "referred")
"""Tie kinds that are acts of the source on the target's content.

Influence flows from the target to the source."""

REFERRAL_KINDS = ("share", "click", "signup", "purchase", "refund")
POST_COUNTERS = ("likes", "reshares", "replies", "views")
