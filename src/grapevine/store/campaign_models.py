"""The audit trail of campaigns: one row per creation, edit, pause, resume and end.

``campaign_audit`` keeps who (``actor``: ``api key gv_xxxx``, ``cli``), what (``action``)
and when, and for an edit the fields changed as ``{"field": [before, after]}`` (offer and
rules fields as whole values). Rows are only ever added; they go with their campaign.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["AUDIT_ACTIONS", "CAMPAIGN_STATUSES", "CampaignAudit"]

CAMPAIGN_STATUSES = ("active", "paused", "ended")
"""A campaign's lifecycle: active, paused (and back), ended (final)."""

AUDIT_ACTIONS = ("create", "edit", "pause", "resume", "end")
"""What an audit row records."""


class CampaignAudit(Base):
    """One change of a campaign: who, what, when, and the fields an edit changed."""

    __tablename__ = "campaign_audit"
    __table_args__ = (Index("ix_campaign_audit_campaign", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
