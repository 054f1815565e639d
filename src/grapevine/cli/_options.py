"""Command-line options shared by the commands of several modules."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import typer

__all__ = [
    "CampaignOption",
    "CascadeFormat",
    "DbOption",
    "DiffusionModel",
    "FormatOption",
    "InboxStatus",
    "JsonOption",
    "SentimentLabel",
    "SentimentLanguage",
    "TenantOption",
    "TieKind",
]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The store: a SQLite file (shop.db) or a database URL (sqlite:///shop.db, "
        "postgresql://...). Default: $GRAPEVINE_DATABASE_URL, else grapevine.db here. "
        "Commands that only read refuse a store that does not exist.",
        show_default=False,
    ),
]

# The choices of the enumerated options, so that `--help` lists them and a typo is refused
# before anything runs. tests/test_cli_errors.py checks each against the library's own list.
TieKind = Literal[
    "follows", "friend", "trusts", "replied", "mentioned", "retweeted", "referred",
    "nominated", "coauthor", "interacted",
]  # fmt: skip
CascadeFormat = Literal["auto", "forest", "mshgat", "infvae", "weibo"]
DiffusionModel = Literal["ic", "lt"]
SentimentLanguage = Literal["de", "en", "nl", "sv"]
SentimentLabel = Literal["negative", "neutral", "positive"]


class InboxStatus(StrEnum):
    """The status of an inbox item (an Enum: a repeatable option cannot take a Literal)."""

    new = "new"
    assigned = "assigned"
    drafted = "drafted"
    approved = "approved"
    sent = "sent"
    resolved = "resolved"


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (as --format json).")]
OutputFormat = Literal["table", "json", "csv"]
FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        help="table (fitted to the terminal), json or csv (every field, full values). "
        "Default: table.",
        show_default=False,
    ),
]
TenantOption = Annotated[
    str, typer.Option("--tenant", help="The tenant's slug (default: the 'default' tenant).")
]
CampaignOption = Annotated[int, typer.Option("--campaign", help="The campaign id.")]
