"""Seed plans of the planner: every run, its progress and result, and the ones saved by name.

A row is written when a plan is asked for (``queued``), updated while it runs (``running``,
with a progress fraction and message, the host and pid of the process running it) and ends
``done`` (with the plan as JSON), ``failed`` (with the error) or ``interrupted`` (its process
died). Saving gives a finished plan a ``name`` (unique), so that it can be listed, reloaded
and compared with another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grapevine.store.models import Base, Id

__all__ = ["PLAN_STATUSES", "PlanRow"]

PLAN_STATUSES = ("queued", "running", "done", "failed", "interrupted")
"""The states of a plan run."""


class PlanRow(Base):
    """One run of the planner (``grapevine.influence.plan_seeds``) and, once saved, its name."""

    __tablename__ = "saved_plans"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    graph: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    saved_at: Mapped[float | None] = mapped_column(Float)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(BigInteger)
