"""`grapevine listen add-hackernews | add-bluesky | add-reddit | add-x`: the social sources.

Thin adapters: the configuration is validated by building the source (nothing is fetched);
secrets stay in environment variables, only their names are stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from grapevine.cli._errors import failure as _fail
from grapevine.cli._listen import _add_source, listen_app
from grapevine.cli._options import DbOption, JsonOption
from grapevine.errors import GrapevineError

__all__ = ["add_bluesky", "add_hackernews", "add_reddit", "add_x"]


def _add_social(
    kind: str, config: dict[str, Any], name: str | None, db: str | None, as_json: bool
) -> None:
    from grapevine.listening import build_source

    config = {k: v for k, v in config.items() if v is not None}
    try:
        source = build_source({"kind": kind, "config": config})  # validates; fetches nothing
    except GrapevineError as exc:
        raise _fail(exc) from None
    close = getattr(source, "close", None)
    if callable(close):
        close()
    _add_source(db, kind, name or source.name, config, as_json)


BaseUrlOption = Annotated[
    str | None,
    typer.Option(help="Another API host (a self-hosted or test server).", show_default=False),
]
NameOption = Annotated[
    str | None, typer.Option(help="A name (default: e.g. reddit:new:SUB).", show_default=False)
]


@listen_app.command("add-hackernews")
def add_hackernews(
    query: Annotated[str, typer.Argument(help="Words to search stories and comments for.")],
    tags: Annotated[
        str,
        typer.Option(
            help="Algolia tags: (story,comment), story, comment, show_hn, ask_hn, poll, "
            "front_page, author_NAME or story_ID."
        ),
    ] = "(story,comment)",
    base_url: BaseUrlOption = None,
    name: NameOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a Hacker News search (Algolia API; read only)."""
    config = {"query": query, "tags": tags, "base_url": base_url}
    _add_social("hackernews", config, name, db, as_json)


@listen_app.command("add-bluesky")
def add_bluesky(
    query: Annotated[str, typer.Argument(help='The search (words, "phrases", #tag).')],
    identifier: Annotated[
        str | None,
        typer.Option(help="The account's handle or DID, to sign in.", show_default=False),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            help="The environment variable holding the account's app password (never "
            "stored). Needed with --identifier; signing in allows replies.",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option(help="Only posts in this language.", show_default=False)
    ] = None,
    base_url: BaseUrlOption = None,
    name: NameOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a Bluesky post search (app.bsky.feed.searchPosts)."""
    config = {
        "query": query,
        "identifier": identifier,
        "password_env": password_env,
        "lang": lang,
        "base_url": base_url,
    }
    _add_social("bluesky", config, name, db, as_json)


@listen_app.command("add-reddit")
def add_reddit(
    listing: Annotated[
        str,
        typer.Argument(help="search:QUERY, new:SUBREDDIT (new posts) or comments:SUBREDDIT."),
    ],
    client_id: Annotated[str, typer.Option(help="The Reddit app's client id.")],
    secret_env: Annotated[
        str,
        typer.Option(help="The environment variable holding the app's secret (never stored)."),
    ],
    username: Annotated[
        str | None,
        typer.Option(help="A script app's account (its token can reply).", show_default=False),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            help="The environment variable holding that account's password.",
            show_default=False,
        ),
    ] = None,
    user_agent: Annotated[
        str | None,
        typer.Option(
            help="Reddit asks for a descriptive one: platform:app:version (by /u/name).",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrlOption = None,
    auth_url: Annotated[
        str | None,
        typer.Option(help="Another OAuth host (a test server).", show_default=False),
    ] = None,
    name: NameOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a Reddit search or subreddit listing (OAuth API)."""
    config = {
        "listing": listing,
        "client_id": client_id,
        "secret_env": secret_env,
        "username": username,
        "password_env": password_env,
        "user_agent": user_agent,
        "base_url": base_url,
        "auth_url": auth_url,
    }
    _add_social("reddit", config, name, db, as_json)


@listen_app.command("add-x")
def add_x(
    query: Annotated[
        str, typer.Argument(help="An X search query, e.g. 'brewly -is:retweet lang:en'.")
    ],
    token_env: Annotated[
        str,
        typer.Option(help="The environment variable holding the bearer token (never stored)."),
    ],
    can_reply: Annotated[
        bool,
        typer.Option(
            help="The token is an OAuth 2.0 user-context token with tweet.write: the inbox "
            "can send replies through it."
        ),
    ] = False,
    base_url: BaseUrlOption = None,
    name: NameOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an X recent search (API v2, the last seven days)."""
    config = {"query": query, "token_env": token_env, "can_reply": can_reply, "base_url": base_url}
    _add_social("x", config, name, db, as_json)
