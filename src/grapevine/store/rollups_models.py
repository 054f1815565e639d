"""Rollups of the referral events: the figures of ``/stats``, the participant page and the
leaderboard, kept current as events arrive (:mod:`grapevine.store.rollups_repo`).

Four tables, every one rebuildable from ``referral_events`` and ``rewards``:

* ``referral_rollups``: one row per campaign x day (UTC, days since the epoch) x channel
  (``direct`` for a link shared without one) x generation (of the event's referrer in the
  acquisition tree; :data:`NO_REFERRER` for an event nobody is credited with,
  :data:`NO_GENERATION` for a referrer caught in a referral cycle). Day :data:`EXCLUDED_DAY`
  holds the events whose time lies outside the years 1900-2099: counted, left out of every
  figure.
* ``referrer_rollups``: one row per campaign x person who referred or converted: where the
  person sits in the acquisition tree (``referred_by``, ``generation``), their first
  conversions, the viral cycle of each conversion event, and what they brought in as a
  referrer (clicks, shares, conversions, revenue, referred customers, rewards).
* ``referrer_channel_rollups``: the same person's human clicks, shares and conversions per
  share channel.
* ``reward_rollups``: count and amount of the campaign's rewards by status.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, ReferralEvent

__all__ = [
    "EXCLUDED_DAY",
    "NO_GENERATION",
    "NO_REFERRER",
    "ReferralRollup",
    "ReferrerChannelRollup",
    "ReferrerRollup",
    "RewardRollup",
]

EXCLUDED_DAY = -(2**31)
"""The ``day`` of the rollup row that counts the events stored with an impossible time."""

NO_REFERRER = -1
"""The ``generation`` of the rollup rows of events credited to nobody (organic)."""

NO_GENERATION = -2
"""The ``generation`` of events whose referrer has none: they hang off a referral cycle."""

_Count = BigInteger().with_variant(Integer, "sqlite")


def _count() -> Mapped[int]:
    return mapped_column(_Count, default=0, server_default="0")


def _amount() -> Mapped[float]:
    return mapped_column(Float, default=0.0, server_default="0")


class ReferralRollup(Base):
    """The campaign's events of one day, channel and referrer generation, counted."""

    __tablename__ = "referral_rollups"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    clicks_human: Mapped[int] = _count()
    clicks_bot: Mapped[int] = _count()
    clicks_preview: Mapped[int] = _count()
    visitors: Mapped[int] = _count()
    """Distinct visitor ids, each counted on the row of its first human click."""
    shares: Mapped[int] = _count()
    signups: Mapped[int] = _count()
    purchases: Mapped[int] = _count()
    refunds: Mapped[int] = _count()
    revenue: Mapped[float] = _amount()
    """The value of the purchases (the refunds are in ``refunded``, on their own day)."""
    refunded: Mapped[float] = _amount()


class ReferrerRollup(Base):
    """One person of a campaign: place in the acquisition tree and what they brought in."""

    __tablename__ = "referrer_rollups"
    __table_args__ = (
        Index("ix_referrer_rollups_referred_by", "campaign_id", "referred_by"),
        Index("ix_referrer_rollups_cycle_signup", "campaign_id", "cycle_signup_s"),
        Index("ix_referrer_rollups_cycle_purchase", "campaign_id", "cycle_purchase_s"),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    referred_by: Mapped[int | None] = mapped_column(BigInteger)
    """The referrer of the person's first conversion (None: organic, or no conversion)."""
    generation: Mapped[int | None] = mapped_column(Integer)
    """0 for a root, g + 1 under a generation-g referrer; None on or under a cycle."""
    first_at: Mapped[float | None] = mapped_column(Float)
    first_event_id: Mapped[int | None] = mapped_column(BigInteger)
    first_signup_at: Mapped[float | None] = mapped_column(Float)
    first_purchase_at: Mapped[float | None] = mapped_column(Float)
    cycle_signup_s: Mapped[float | None] = mapped_column(Float)
    """Own first signup minus the referrer's (None unless both are known)."""
    cycle_purchase_s: Mapped[float | None] = mapped_column(Float)
    clicks_human: Mapped[int] = _count()
    clicks_bot: Mapped[int] = _count()
    clicks_preview: Mapped[int] = _count()
    shares: Mapped[int] = _count()
    signups: Mapped[int] = _count()
    purchases: Mapped[int] = _count()
    refunds: Mapped[int] = _count()
    revenue: Mapped[float] = _amount()
    refunded: Mapped[float] = _amount()
    referred_signup_people: Mapped[int] = _count()
    """Persons referred by this one (``referred_by``) with a signup."""
    referred_purchase_people: Mapped[int] = _count()
    """Persons referred by this one with a purchase: the customers they brought."""
    rewards: Mapped[int] = _count()
    """Rewards of the person (any role) that are not void or clawed back."""
    rewards_amount: Mapped[float] = _amount()


class ReferrerChannelRollup(Base):
    """What one referrer brought in through one share channel (the participant page)."""

    __tablename__ = "referrer_channel_rollups"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    clicks_human: Mapped[int] = _count()
    shares: Mapped[int] = _count()
    signups: Mapped[int] = _count()
    purchases: Mapped[int] = _count()


class RewardRollup(Base):
    """The campaign's rewards in one status: how many, how much."""

    __tablename__ = "reward_rollups"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = _count()
    amount: Mapped[float] = _amount()


# A referrer's events, for moving them when a late event changes the referrer's generation.
Index("ix_referral_events_campaign_referrer", ReferralEvent.campaign_id, ReferralEvent.referrer_id)
