"""``grapevine user``: the people who sign in to the dashboard, and their role per tenant.

Straight on the store (no server needed). Passwords are read from a hidden prompt (asked
twice) or, with ``--password-stdin``, from the first line of standard input; they are kept
as argon2 hashes only.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

import typer

from grapevine.cli._options import DbOption, FormatOption, JsonOption
from grapevine.errors import GrapevineError

__all__ = ["user_app"]

user_app = typer.Typer(
    help="Dashboard users and their role in each tenant (viewer, editor, admin).",
    no_args_is_help=True,
)

Role = Literal["viewer", "editor", "admin"]


def _fail(message: object) -> typer.Exit:
    from grapevine.cli._errors import print_error

    print_error(str(message))
    return typer.Exit(code=1)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")],
    role: Annotated[
        Role,
        typer.Option(help="viewer reads; editor also acts (inbox, campaigns); admin also manages."),
    ] = "viewer",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input instead of a prompt.",
        ),
    ] = False,
    keep_password: Annotated[
        bool,
        typer.Option(
            "--keep-password",
            help="For an existing user: only add or change the role, leave the password.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a user with a role in a tenant, or give an existing user a role in another
    tenant (a new password replaces the old one and signs their browsers out)."""
    from sqlalchemy.orm import Session

    from grapevine.store import Store, dashboard_repo

    if keep_password:
        password = ""
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with Store(db) as store, Session(store.engine) as session:
            user = dashboard_repo.add_user(
                session, username=username, password=password, tenant=tenant, role=role
            )
            session.commit()
    except GrapevineError as exc:
        raise _fail(exc) from None
    roles = ", ".join(f"{slug}: {r}" for slug, r in user.roles.items())
    typer.echo(f"user {user.username} ({roles})")


@user_app.command("list")
def user_list(
    db: DbOption = None, as_json: JsonOption = False, format: FormatOption = None
) -> None:
    """List the users with their roles (never a password)."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console, when
    from grapevine.store import Store, dashboard_repo

    fmt = output_format(format, as_json=as_json)
    with Store(db, create=False) as store, Session(store.engine) as session:
        rows: list[dict[str, Any]] = [
            {
                "username": u.username,
                "roles": [f"{slug}:{r}" for slug, r in u.roles.items()],
                "created_at": u.created_at,
                "last_login_at": u.last_login_at,
            }
            for u in dashboard_repo.list_users(session)
        ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    cols = [
        Col("username"),
        Col("roles", cell=lambda v: ", ".join(v) or "-", wrap=True),
        Col("created_at", "created (UTC)", when),
        Col("last_login_at", "last sign-in (UTC)", when),
    ]
    print_records(
        rows,
        cols,
        fmt,
        console=console,
        csv_keys=["username", "roles", "created_at", "last_login_at"],
    )


@user_app.command("remove")
def user_remove(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant", help="Only take away the role in this tenant.", show_default=False
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Remove a user (and sign their browsers out), or only their role in one tenant."""
    from sqlalchemy.orm import Session

    from grapevine.store import Store, dashboard_repo

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            dashboard_repo.remove_user(session, username=username, tenant=tenant)
            session.commit()
    except GrapevineError as exc:
        raise _fail(exc) from None
    typer.echo(
        f"user {username} removed" if tenant is None else f"{username} has no role in {tenant} now"
    )
