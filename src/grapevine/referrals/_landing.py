"""Landing pages and the short links that miss: a tenant's landing page, and the counts of
links that sent people to one instead of a referral destination."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from grapevine.errors import BadInput
from grapevine.referrals._redirects import MISS_REASONS, plain_url
from grapevine.store import sharing_repo

__all__ = ["LinkMisses", "landing_page", "link_misses", "set_landing_page"]


def landing_page(session: Session, *, tenant_id: int) -> str | None:
    """The tenant's landing page (where its disabled codes send people), or None."""
    return sharing_repo.tenant_landing(session, tenant_id=tenant_id)


def set_landing_page(
    session: Session, *, tenant_id: int, url: str | None, now: float | None = None
) -> str | None:
    """Set the tenant's landing page (None removes it); flushed, not committed.

    Raises
    ------
    BadInput
        (field ``url``) when it is not an absolute http(s) URL without user info.
    """
    if url is not None:
        url = url.strip()
        if len(url) > 2048 or plain_url(url) is None:
            raise BadInput(
                f"an absolute http(s) URL without user info; got {url[:200]!r}", field="url"
            )
    sharing_repo.set_tenant_landing(
        session, tenant_id=tenant_id, url=url, now=time.time() if now is None else now
    )
    return url


@dataclass(frozen=True)
class LinkMisses:
    """Short-link requests that went to a landing page, by reason.

    Attributes
    ----------
    since : float or None
        The start (Unix seconds, rounded down to its UTC day) of the count; None: all time.
    totals : dict
        Count per reason (every one of :data:`~grapevine.referrals.MISS_REASONS`).
    by_campaign : dict
        Campaign id -> reason -> count (disabled codes and ended campaigns).
    """

    since: float | None
    totals: dict[str, int]
    by_campaign: dict[int, dict[str, int]] = field(default_factory=dict)


def link_misses(
    session: Session,
    *,
    tenant_id: int,
    campaign_id: int | None = None,
    since: float | None = None,
    include_unknown: bool = False,
) -> LinkMisses:
    """The misses of the tenant's campaigns (of ``campaign_id`` only, when given).

    ``include_unknown`` adds the codes nobody has (they belong to no tenant: the
    installation's own tenant sees them). Counts are per UTC day, so ``since`` is rounded
    down to its day.
    """
    since_day = None if since is None else int(since // 86400)
    totals = dict.fromkeys(MISS_REASONS, 0)
    by_campaign: dict[int, dict[str, int]] = {}
    rows = sharing_repo.miss_counts(
        session, tenant_id=tenant_id, campaign_id=campaign_id, since_day=since_day
    )
    if include_unknown and campaign_id is None:
        rows += sharing_repo.miss_counts(session, tenant_id=None, since_day=since_day)
    for campaign, reason, count in rows:
        totals[reason] = totals.get(reason, 0) + count
        if campaign is not None:
            by_campaign.setdefault(campaign, {})[reason] = count
    return LinkMisses(
        since=None if since_day is None else since_day * 86400.0,
        totals=totals,
        by_campaign=by_campaign,
    )
