"""Where short links go when they cannot refer anyone, and how often that happens.

A campaign's own page settings (language, branding, UTM tags, link previews, landing page)
are part of its rules (``Campaign.rules["page"]``, :class:`grapevine.referrals.PageSettings`).

- ``tenant_pages``: a tenant's landing page, where its disabled codes send people.
- ``link_misses``: short-link requests that went to a landing page instead of a referral
  destination, counted per day, reason (``unknown``, ``disabled``, ``ended``) and campaign
  (none for a code nobody has). ``key`` is the natural key ``day:reason:campaign``, so the
  counts of several workers add up with one upsert each.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["MISS_REASONS", "LinkMiss", "TenantPage"]

MISS_REASONS = ("unknown", "disabled", "ended")
"""Why a short link missed: no such code, a disabled code, a code of an ended campaign."""


class TenantPage(Base):
    """A tenant's landing page: where its disabled codes send people."""

    __tablename__ = "tenant_pages"

    tenant_id: Mapped[int] = mapped_column(
        Id, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    landing_url: Mapped[str] = mapped_column(String(2048))
    updated_at: Mapped[float] = mapped_column(Float)


class LinkMiss(Base):
    """How many short-link requests of one day missed for one reason (and campaign)."""

    __tablename__ = "link_misses"
    __table_args__ = (Index("ix_link_misses_campaign", "campaign_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    day: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(BigInteger)
