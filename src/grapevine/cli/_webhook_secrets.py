"""``grapevine tenant webhook-secret``: rotate and list a tenant's webhook signing secrets.

The secrets are sealed under ``GRAPEVINE_SECRETS_KEY`` in the store (see
``grapevine.store.webhook_secrets_repo``); a new ``grapevine`` secret is printed once.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer

from grapevine.cli._keys import TenantOption, fail, tenant_by_slug
from grapevine.cli._options import DbOption, JsonOption
from grapevine.errors import GrapevineError

__all__ = ["webhook_secret_app"]

webhook_secret_app = typer.Typer(
    help="A tenant's webhook secrets (grapevine: X-Grapevine-Signature; stripe: the Stripe "
    "endpoint's whsec_...): rotate with an overlap, list.",
    no_args_is_help=True,
)

KindOption = Annotated[
    str,
    typer.Option(
        "--kind",
        help="grapevine (POST /webhooks/{campaign_id}) or stripe (POST /webhooks/stripe/TENANT).",
    ),
]


@webhook_secret_app.command("rotate")
def rotate(
    tenant: TenantOption,
    kind: KindOption = "grapevine",
    overlap: Annotated[
        str,
        typer.Option(
            help="How long the replaced secrets keep verifying: 90s, 30m, 24h, 2d (at most "
            "30d); 0 stops them at once (a leaked secret)."
        ),
    ] = "24h",
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin",
            help="Read the new secret from the first line of stdin (required for stripe: "
            "paste the endpoint's whsec_...); otherwise a random one is drawn and printed.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Give the tenant a new webhook secret; the old ones verify until the overlap ends."""
    from sqlalchemy.orm import Session

    from grapevine.config import get_settings
    from grapevine.store import Store
    from grapevine.store import webhook_secrets_repo as secrets_repo

    master = get_settings().secrets_key
    if master is None or not master.get_secret_value():
        raise fail(
            "GRAPEVINE_SECRETS_KEY is not set: set it (32+ random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) in the server's "
            "environment and here"
        )
    given = sys.stdin.readline().strip() if secret_stdin else None
    try:
        box = secrets_repo.SecretBox(master.get_secret_value())
        seconds = secrets_repo.parse_duration(overlap)
        with Store(db, create=False) as store, Session(store.engine) as session:
            row = tenant_by_slug(session, tenant)
            _, secret, ends = secrets_repo.rotate_secret(
                session,
                tenant_id=row.id,
                kind=kind,
                box=box,
                secret=given or None,
                overlap=seconds,
                by="cli",
            )
            session.commit()
    except GrapevineError as exc:
        raise fail(exc) from None
    until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ends))
    if given is None:
        typer.echo(secret)
    typer.echo(
        f"{kind} webhook secret of tenant {tenant} rotated (ends …{secret[-4:]}); the "
        f"previous ones verify until {until}"
        + (": store the new one now, it is not shown again." if given is None else "."),
        err=True,
    )


@webhook_secret_app.command("list")
def list_(
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's secrets.", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the secrets: tenant, kind, last four characters, made, stops verifying."""
    from rich.table import Table
    from sqlalchemy.orm import Session

    from grapevine.cli._render import console, when
    from grapevine.store import Store
    from grapevine.store import webhook_secrets_repo as secrets_repo

    now = time.time()
    with Store(db, create=False) as store, Session(store.engine) as session:
        tenant_id = None if tenant is None else tenant_by_slug(session, tenant).id
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "tenant": s.tenant,
                "kind": s.kind,
                "hint": s.hint,
                "created_at": s.created_at,
                "expires_at": s.expires_at,
                "active": s.active(now),
                "created_by": s.created_by,
            }
            for s in secrets_repo.list_secrets(session, tenant_id=tenant_id)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("tenant", "kind", "ends", "created", "stops verifying", "active")
    for r in rows:
        table.add_row(
            r["tenant"],
            r["kind"],
            f"…{r['hint']}",
            when(r["created_at"]),
            when(r["expires_at"]) if r["expires_at"] is not None else "current",
            "yes" if r["active"] else "no",
        )
    console.print(table)
