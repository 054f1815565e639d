"""Command-line options shared by the commands of several modules."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["DbOption", "JsonOption", "TenantOption"]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///file.db or postgresql://...). "
        "Default: $GRAPEVINE_DATABASE_URL, else sqlite:///grapevine.db.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TenantOption = Annotated[
    str, typer.Option("--tenant", help="The tenant's slug (default: the 'default' tenant).")
]
