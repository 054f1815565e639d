"""``grapevine tenant``, ``grapevine apikey`` and ``grapevine erase``: tenants, API keys and
GDPR erasure, straight on the store (no server needed).

The heavy imports (SQLAlchemy, the service) happen inside the commands, so that
``grapevine --help`` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from grapevine.cli._options import DbOption, FormatOption, JsonOption
from grapevine.errors import GrapevineError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from grapevine.store.models import Tenant

__all__ = ["apikey_app", "erase", "tenant_app"]

tenant_app = typer.Typer(
    help="Tenants: each has its own campaigns and API keys.", no_args_is_help=True
)
apikey_app = typer.Typer(
    help="API keys (roles admin, read, ingest): create, list, revoke.", no_args_is_help=True
)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]


def fail(message: object) -> typer.Exit:
    """Print ``error: message`` on stderr; the caller raises the returned Exit (code 1)."""
    from grapevine.cli._errors import print_error

    print_error(str(message))
    return typer.Exit(code=1)


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    """The tenant, or exit with an error naming the known ones."""
    from grapevine.store import tenants_repo

    tenant = tenants_repo.find_tenant(session, slug=slug)
    if tenant is None:
        known = ", ".join(t.slug for t in tenants_repo.list_tenants(session))
        raise fail(f"no tenant {slug!r} (known: {known or 'none'}); see `grapevine tenant create`")
    return tenant


# ---------------------------------------------------------------------------- tenants
@tenant_app.command("create")
def tenant_create(
    slug: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, '-'.")],
    name: Annotated[
        str | None, typer.Option(help="Display name (default: the slug).", show_default=False)
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a tenant."""
    from sqlalchemy.orm import Session

    from grapevine.store import Store, tenants_repo

    try:
        with Store(db) as store, Session(store.engine) as session:
            tenant = tenants_repo.create_tenant(session, slug=slug, name=name)
            session.commit()
            typer.echo(f"tenant {tenant.slug} (id {tenant.id}) created")
    except GrapevineError as exc:
        raise fail(exc) from None


@tenant_app.command("list")
def tenant_list(
    db: DbOption = None, as_json: JsonOption = False, format: FormatOption = None
) -> None:
    """List the tenants."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console, when

    fmt = output_format(format, as_json=as_json)
    from grapevine.store import Store, tenants_repo

    with Store(db, create=False) as store, Session(store.engine) as session:
        rows: list[dict[str, Any]] = [
            {"id": t.id, "slug": t.slug, "name": t.name, "created_at": t.created_at}
            for t in tenants_repo.list_tenants(session)
        ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    cols = [Col("slug"), Col("name", wrap=True), Col("created_at", "created (UTC)", when)]
    print_records(rows, cols, fmt, console=console, csv_keys=["id", "slug", "name", "created_at"])


# ---------------------------------------------------------------------------- keys
@apikey_app.command("create")
def apikey_create(
    tenant: TenantOption,
    role: Annotated[Literal["admin", "read", "ingest"], typer.Option(help="What the key may do.")],
    name: Annotated[
        str | None, typer.Option(help="What the key is for.", show_default=False)
    ] = None,
    db: DbOption = None,
) -> None:
    """Make an API key and print it: the only time the whole key is shown."""
    from sqlalchemy.orm import Session

    from grapevine.store import Store, tenants_repo

    try:
        with Store(db) as store, Session(store.engine) as session:
            row = tenant_by_slug(session, tenant)
            key, token = tenants_repo.create_key(session, tenant_id=row.id, role=role, name=name)
            session.commit()
            prefix = key.prefix
    except GrapevineError as exc:
        raise fail(exc) from None
    typer.echo(token)
    typer.echo(
        f"key {prefix} ({role}) of tenant {tenant}: store it now, it is not shown again.",
        err=True,
    )


@apikey_app.command("list")
def apikey_list(
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's keys.", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the keys: prefix, tenant, role, name, when made, last used and revoked."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console, when

    fmt = output_format(format, as_json=as_json)
    from grapevine.store import Store, tenants_repo

    with Store(db, create=False) as store, Session(store.engine) as session:
        tenant_id = None if tenant is None else tenant_by_slug(session, tenant).id
        rows: list[dict[str, Any]] = [
            {
                "prefix": k.prefix,
                "tenant": slug,
                "role": k.role,
                "name": k.name,
                "created_at": k.created_at,
                "last_used_at": k.last_used_at,
                "revoked_at": k.revoked_at,
            }
            for k, slug in tenants_repo.list_keys(session, tenant_id=tenant_id)
        ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    cols = [
        Col("prefix"),
        Col("tenant", wrap=True),
        Col("role"),
        Col("name", wrap=True, drop=2),
        Col("created_at", "created", when, drop=1),
        Col("last_used_at", "last used", when),
        Col("revoked_at", "revoked", when),
    ]
    keys = ["prefix", "tenant", "role", "name", "created_at", "last_used_at", "revoked_at"]
    print_records(rows, cols, fmt, console=console, csv_keys=keys)


@apikey_app.command("revoke")
def apikey_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (8 characters after gv_).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: it answers 401 from the next request on."""
    from sqlalchemy.orm import Session

    from grapevine.store import Store, tenants_repo

    with Store(db, create=False) as store, Session(store.engine) as session:
        row = tenants_repo.revoke_key(session, prefix=prefix)
        if row is None:
            raise fail(f"no API key {prefix!r}")
        session.commit()
    typer.echo(f"key {prefix} revoked")


# ---------------------------------------------------------------------------- erasure
def erase(
    person: Annotated[str, typer.Argument(help="The person's e-mail address or person id.")],
    tenant: TenantOption,
    db: DbOption = None,
) -> None:
    """Erase one person's data from a tenant's referral data (GDPR), keeping the figures.

    E-mail, IP hashes, user agents, visitor ids, device and payout hashes go; the person
    becomes a tombstone in the events, codes and rewards, so clicks, conversions, K-factor
    and reward totals stay the same. Their referral codes are disabled.
    """
    from sqlalchemy.orm import Session

    from grapevine.config import get_settings
    from grapevine.errors import NotFound
    from grapevine.referrals import erase as erase_person
    from grapevine.store import Store

    salt = get_settings().ip_salt
    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            row = tenant_by_slug(session, tenant)
            done = erase_person(
                session,
                tenant_id=row.id,
                ref=person,
                by="cli",
                salt=None if salt is None else salt.get_secret_value(),
            )
            session.commit()
    except NotFound:
        raise fail(f"tenant {tenant!r} has no data on {person!r}") from None
    except GrapevineError as exc:
        raise fail(exc) from None
    changed = ", ".join(f"{name} {n}" for name, n in done.counts.items())
    typer.echo(f"erased from tenant {tenant}: {changed}")
