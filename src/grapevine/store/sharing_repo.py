"""Landing pages and short-link misses: keyword-only queries (the caller commits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from grapevine.store.models import Campaign
from grapevine.store.sharing_models import LinkMiss, TenantPage

__all__ = ["MissKey", "add_misses", "miss_counts", "set_tenant_landing", "tenant_landing"]

MissKey = tuple[int, str, int | None]
"""(day, reason, campaign id or None): what a miss is counted under; day = Unix time // 86400."""


def tenant_landing(session: Session, *, tenant_id: int) -> str | None:
    """The tenant's landing page, or None."""
    row = session.get(TenantPage, tenant_id)
    return None if row is None else row.landing_url


def set_tenant_landing(session: Session, *, tenant_id: int, url: str | None, now: float) -> None:
    """Set (or with None remove) the tenant's landing page; the URL is checked by the caller."""
    row = session.get(TenantPage, tenant_id)
    if url is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(TenantPage(tenant_id=tenant_id, landing_url=url, updated_at=now))
    else:
        row.landing_url, row.updated_at = url, now
    session.flush()


def add_misses(conn: Connection, counts: Mapping[MissKey, int]) -> None:
    """Add ``counts`` to the stored ones in the caller's transaction (one upsert per key,
    so several workers add up: ``count = count + excluded.count``)."""
    if not counts:
        return
    rows: list[dict[str, Any]] = [
        {
            "key": f"{day}:{reason}:{campaign if campaign is not None else '-'}",
            "day": day,
            "reason": reason,
            "campaign_id": campaign,
            "count": n,
        }
        for (day, reason, campaign), n in counts.items()
    ]
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(LinkMiss)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LinkMiss.key], set_={"count": LinkMiss.count + stmt.excluded.count}
    )
    conn.execute(stmt, rows)


def miss_counts(
    session: Session,
    *,
    tenant_id: int | None,
    campaign_id: int | None = None,
    since_day: int | None = None,
) -> list[tuple[int | None, str, int]]:
    """(campaign id, reason, count) summed over days from ``since_day`` on.

    ``tenant_id`` None: the misses that belong to no tenant (unknown codes); otherwise the
    misses of the tenant's campaigns (``campaign_id``: of that one only).
    """
    query = select(LinkMiss.campaign_id, LinkMiss.reason, func.sum(LinkMiss.count))
    if tenant_id is None:
        query = query.where(LinkMiss.campaign_id.is_(None))
    else:
        query = query.join(Campaign, Campaign.id == LinkMiss.campaign_id).where(
            Campaign.tenant_id == tenant_id
        )
        if campaign_id is not None:
            query = query.where(LinkMiss.campaign_id == campaign_id)
    if since_day is not None:
        query = query.where(LinkMiss.day >= since_day)
    query = query.group_by(LinkMiss.campaign_id, LinkMiss.reason).order_by(
        LinkMiss.campaign_id, LinkMiss.reason
    )
    return [(c, str(r), int(n)) for c, r, n in session.execute(query)]
