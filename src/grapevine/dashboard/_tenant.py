"""The tenant picker: ``?tenant=SLUG`` on tenant-scoped pages (campaigns, conversions).

The listening data belongs to the installation, the referral programme to a tenant: pages
that show a tenant's records take the slug from the query, default to the viewer's first
tenant, and refuse (403) a tenant the viewer holds no role in.
"""

from __future__ import annotations

from typing import overload

from fastapi import HTTPException, Request

from grapevine.dashboard._access import Viewer

__all__ = ["tenant_of"]


@overload
def tenant_of(request: Request, viewer: Viewer) -> str: ...
@overload
def tenant_of(request: Request, viewer: Viewer, *, required: bool) -> str | None: ...


def tenant_of(request: Request, viewer: Viewer, *, required: bool = True) -> str | None:
    """The tenant the page shows: ``?tenant=``, else the viewer's first (by slug).

    With ``required=False`` a viewer without any tenant (a demo store without one) gets
    None instead of a 403: pages that show tenant figures beside installation-wide ones
    (the overview) leave the tenant's part out.

    Raises
    ------
    HTTPException
        403 when the viewer has no role in that tenant, or in none at all (when required).
    """
    slug = request.query_params.get("tenant", "").strip()
    if not slug:
        if not viewer.tenants:
            if not required:
                return None
            raise HTTPException(403, "you have no role in any tenant")
        return viewer.tenants[0]
    if slug not in viewer.roles:
        raise HTTPException(403, f"you have no role in tenant {slug!r}")
    return slug
