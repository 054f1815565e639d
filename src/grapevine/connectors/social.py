"""The Hacker News, Bluesky, Reddit and X sources from a stored configuration.

A source row keeps its ``kind`` and a JSON ``config``; secrets are never in it: the config
names the environment variables that hold them (``password_env``, ``secret_env``,
``token_env``), read when
the source is built. Every problem is a :class:`~grapevine.errors.BadInput` naming the
config field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grapevine.connectors._listen import Source
from grapevine.errors import BadInput, InvalidParameter

__all__ = ["SOCIAL_KINDS", "social_source"]

SOCIAL_KINDS = ("hackernews", "bluesky", "reddit", "x")
_ALLOWED = {
    "hackernews": ("query", "tags", "base_url"),
    "bluesky": ("query", "identifier", "password_env", "lang", "base_url"),
    "reddit": (
        "listing",
        "client_id",
        "secret_env",
        "username",
        "password_env",
        "user_agent",
        "base_url",
        "auth_url",
    ),
    "x": ("query", "token_env", "can_reply", "base_url"),
}


def _secret(cfg: Mapping[str, Any], key: str, env: Mapping[str, str], what: str) -> str:
    name = cfg.get(key)
    if not isinstance(name, str) or not name:
        raise BadInput(
            f"{what} is needed: name the environment variable that holds it as {key}",
            field=key,
        )
    value = env.get(name)
    if not value:
        raise BadInput(
            f"{what} is needed, and the environment variable {name} is not set or empty", field=key
        )
    return value


def social_source(kind: str, config: Mapping[str, Any], env: Mapping[str, str]) -> Source:
    """The source of a stored ``kind`` and ``config``, its secrets read from ``env``.

    Raises
    ------
    grapevine.errors.BadInput
        An unknown field, a missing secret, or a value the source refuses (the field named).
    """
    if kind not in _ALLOWED:
        raise BadInput(f"unknown source kind {kind!r}", field="kind")
    cfg = dict(config)
    unknown = sorted(set(cfg) - set(_ALLOWED[kind]))
    if unknown:
        raise BadInput(
            f"unknown {kind} config field {unknown[0]!r} (known: {', '.join(_ALLOWED[kind])})",
            field=unknown[0],
        )
    try:
        if kind == "hackernews":
            from grapevine.connectors.hackernews import HackerNewsSource

            return HackerNewsSource(str(cfg.get("query", "")), **_pick(cfg, "tags", "base_url"))
        if kind == "bluesky":
            from grapevine.connectors.bluesky import BlueskySource

            identifier = cfg.get("identifier")
            password = None
            if identifier:
                password = _secret(cfg, "password_env", env, "a Bluesky app password")
            return BlueskySource(
                str(cfg.get("query", "")),
                identifier=identifier or None,
                password=password,
                **_pick(cfg, "lang", "base_url"),
            )
        if kind == "x":
            from grapevine.connectors.x import XSource

            return XSource(
                str(cfg.get("query", "")),
                bearer_token=_secret(cfg, "token_env", env, "an X bearer token"),
                can_reply=bool(cfg.get("can_reply", False)),
                **_pick(cfg, "base_url"),
            )
        from grapevine.connectors.reddit import RedditSource

        username = cfg.get("username")
        password = _secret(cfg, "password_env", env, "the Reddit password") if username else None
        return RedditSource(
            str(cfg.get("listing", "")),
            client_id=str(cfg.get("client_id") or ""),
            client_secret=_secret(cfg, "secret_env", env, "the Reddit app's secret"),
            username=username or None,
            password=password,
            **_pick(cfg, "user_agent", "base_url", "auth_url"),
        )
    except InvalidParameter as exc:
        raise BadInput(str(exc), field=exc.name) from None


def _pick(cfg: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: cfg[k] for k in keys if cfg.get(k) is not None}
