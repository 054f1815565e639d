"""``grapevine campaign misses`` and ``grapevine tenant landing``: the short links that went
to a landing page, and where a tenant's disabled codes go.

Thin shells over :func:`grapevine.referrals.link_misses` and
:func:`grapevine.referrals.set_landing_page` (what ``GET /api/link-misses`` and
``PUT /api/tenant/landing`` call).
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from grapevine.cli._keys import tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption

__all__ = ["landing", "misses"]

INSTALLATION_TENANT = "default"


def misses(
    campaign: Annotated[
        int | None, typer.Option(help="Only this campaign (its id).", show_default=False)
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(help="Only the last DAYS days (whole UTC days).", show_default=False),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """Links that went to a landing page instead of a referral: per reason (unknown code,
    disabled code, ended campaign) and campaign. Tenant `default` also sees unknown codes."""
    from sqlalchemy.orm import Session

    from grapevine import referrals as rf
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.store import Store

    since = None if days is None else time.time() - days * 86400.0
    with Store(db, create=False) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        found = rf.link_misses(
            session,
            tenant_id=row.id,
            campaign_id=campaign,
            since=since,
            include_unknown=tenant == INSTALLATION_TENANT,
        )
    fmt = output_format(format, as_json=as_json)
    if fmt == "json":
        typer.echo(
            json.dumps(
                {"since": found.since, "totals": found.totals, "by_campaign": found.by_campaign},
                indent=2,
            )
        )
        return
    records = [{"campaign": "all", **found.totals}] + [
        {"campaign": cid, **dict.fromkeys(rf.MISS_REASONS, 0), **counts}
        for cid, counts in sorted(found.by_campaign.items())
    ]
    cols = [Col("campaign"), *(Col(reason, right=True) for reason in rf.MISS_REASONS)]
    print_records(records, cols, fmt, console=console, title="Link misses")


def landing(
    url: Annotated[
        str | None,
        typer.Argument(help="The landing page (an absolute http(s) URL); none: show it."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the landing page.")] = False,
    tenant: TenantOption = "default",
    db: DbOption = None,
) -> None:
    """Show or set where the tenant's disabled codes send people (the landing page)."""
    from sqlalchemy.orm import Session

    from grapevine import referrals as rf
    from grapevine.cli._errors import fail
    from grapevine.errors import BadInput
    from grapevine.store import Store

    if clear and url is not None:
        fail("give a URL or --clear, not both")
    with Store(db, create=url is not None or clear) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        if url is None and not clear:
            current = rf.landing_page(session, tenant_id=row.id)
            typer.echo(current or f"tenant {tenant} has no landing page")
            return
        try:
            rf.set_landing_page(session, tenant_id=row.id, url=None if clear else url)
        except BadInput as exc:
            fail(str(exc))
        session.commit()
    typer.echo(
        f"tenant {tenant}: landing page removed"
        if clear
        else f"tenant {tenant}: disabled codes now go to {url}"
    )
