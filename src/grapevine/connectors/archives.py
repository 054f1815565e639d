"""Data exports as listened posts: the X/Twitter archive and the Mastodon (ActivityPub) export.

Both are read whole and validated before anything is returned, so a bad item raises
:class:`~grapevine.errors.BadInput` naming the file and the item (``field`` is a path such
as ``"orderedItems[3].object.published"``) and nothing is half-imported.

X/Twitter
    The archive's ``data/tweets.js`` (older archives: ``data/tweet.js``; large ones add
    ``tweets-part1.js``...): JavaScript assigning a JSON array, ``window.YTD.tweets.part0 =
    [{"tweet": {...}}, ...]``. The handle comes from ``data/account.js`` when it is there.
    The ``.zip`` as downloaded is read directly.
Mastodon
    ``outbox.json`` of the export (an ActivityPub ``OrderedCollection`` of ``Create`` and
    ``Announce`` activities); the handle comes from ``actor.json`` when it is there, else from
    the actor's URL. The ``.zip`` is read directly (unpack a ``.tar.gz`` first).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from grapevine.connectors._listen import ListenedPost, html_to_text
from grapevine.errors import BadInput

__all__ = ["read_mastodon_outbox", "read_twitter_archive"]

_YTD = re.compile(rb"^\s*window\.YTD\.[A-Za-z_]+\.part\d+\s*=\s*")
_TWEET_FILE = re.compile(r"(^|/)data/tweets?(-part\d+)?\.js$|^tweets?(-part\d+)?\.js$")


# ---------------------------------------------------------------------------- files
def _files(path: Path, want: Callable[[str], bool]) -> list[tuple[str, bytes]]:
    """(name, bytes) of the members of a zip (or the file itself) that ``want`` accepts."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = sorted(n for n in zf.namelist() if want(n))
                return [(f"{path}!{n}", zf.read(n)) for n in names]
        except (zipfile.BadZipFile, OSError) as exc:
            raise BadInput(f"cannot read the zip archive: {exc}", file=str(path)) from None
    try:
        return [(str(path), path.read_bytes())]
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}", file=str(path)) from None


def _load_json(name: str, data: bytes, *, strip_ytd: bool = False) -> Any:
    if strip_ytd:
        match = _YTD.match(data)
        if match is None:
            raise BadInput(
                "not an archive data file: expected 'window.YTD.<name>.part<N> = [...]'",
                file=name,
                line=1,
            )
        data = data[match.end() :]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 (byte {exc.start})", file=name) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"invalid JSON: {exc.msg}", file=name, line=exc.lineno) from None


def _sibling(path: Path, name: str) -> bytes | None:
    candidate = path.with_name(name)
    return candidate.read_bytes() if candidate.is_file() else None


# ---------------------------------------------------------------------------- X / Twitter
def read_twitter_archive(path: str | Path, *, author: str | None = None) -> list[ListenedPost]:
    """The tweets of an X/Twitter archive (``data/tweets.js`` or the archive's ``.zip``).

    Parameters
    ----------
    path : str or Path
        ``tweets.js`` (or ``tweet.js``, ``tweets-part1.js``) or the whole ``.zip``.
    author : str, optional
        The account's handle; by default read from ``account.js`` (in the zip, or next to
        the file).

    Returns
    -------
    list of ListenedPost
        ``platform="twitter"``, ``external_id`` the tweet id, ``parent_external_id`` the
        tweet answered; oldest first.

    Raises
    ------
    grapevine.errors.BadInput
        A file that is not an archive data file, invalid JSON, or an item without its id or
        time (``field`` names the item, ``"[4].tweet.created_at"``); no handle.
    """
    path = Path(path)
    is_zip = zipfile.is_zipfile(path)
    files = _files(path, lambda n: bool(_TWEET_FILE.search(n)))
    if is_zip and not files:
        raise BadInput("no data/tweets.js in the archive", file=str(path))
    handle = author
    if handle is None:
        if is_zip:
            accounts = _files(path, lambda n: PurePosixPath(n).name == "account.js")
            raw = accounts[0] if accounts else None
        else:
            data = _sibling(path, "account.js")
            raw = (str(path.with_name("account.js")), data) if data is not None else None
        if raw is not None:
            handle = _twitter_handle(*raw)
    if not handle:
        raise BadInput(
            "cannot tell whose archive this is (no account.js); pass author=", file=str(path)
        )
    posts: list[ListenedPost] = []
    for name, data in files:
        items = _load_json(name, data, strip_ytd=True)
        if not isinstance(items, list):
            raise BadInput("expected a JSON array after the '=' sign", file=name)
        posts.extend(_tweet(item, i, name, handle) for i, item in enumerate(items))
    posts.sort(key=lambda p: p.time if p.time is not None else 0.0)
    return posts


def _twitter_handle(name: str, data: bytes) -> str:
    items = _load_json(name, data, strip_ytd=True)
    try:
        return str(items[0]["account"]["username"])
    except (LookupError, TypeError):
        raise BadInput("no account.username", file=name, field="[0].account.username") from None


def _tweet(item: Any, i: int, name: str, handle: str) -> ListenedPost:
    tweet = item.get("tweet", item) if isinstance(item, dict) else None
    if not isinstance(tweet, dict):
        raise BadInput("expected an object", file=name, field=f"[{i}]")
    where = f"[{i}].tweet" if "tweet" in item else f"[{i}]"
    tid = tweet.get("id_str") or tweet.get("id")
    if not isinstance(tid, str | int) or isinstance(tid, bool) or not str(tid).isdigit():
        raise BadInput(f"expected a tweet id, got {tid!r}", file=name, field=f"{where}.id_str")
    created = tweet.get("created_at")
    try:
        when = datetime.strptime(str(created), "%a %b %d %H:%M:%S %z %Y").timestamp()
    except ValueError:
        raise BadInput(
            f"expected a time like 'Wed Nov 18 09:00:00 +0000 2026', got {created!r}",
            file=name,
            field=f"{where}.created_at",
        ) from None
    text = tweet.get("full_text", tweet.get("text", ""))
    if not isinstance(text, str):
        raise BadInput("expected a string", file=name, field=f"{where}.full_text")
    parent = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    lang = tweet.get("lang")
    return ListenedPost(
        platform="twitter",
        external_id=str(tid),
        author=handle,
        time=when,
        text=html_to_text(text.replace("<", "&lt;")),
        url=f"https://x.com/{handle}/status/{tid}",
        parent_external_id=str(parent) if parent else None,
        language=lang if isinstance(lang, str) and lang not in ("und", "") else None,
        likes=_count(tweet.get("favorite_count")),
        reshares=_count(tweet.get("retweet_count")),
        source=name,
    )


def _count(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------- Mastodon
def read_mastodon_outbox(path: str | Path, *, author: str | None = None) -> list[ListenedPost]:
    """The posts and boosts of a Mastodon export (``outbox.json`` or the export's ``.zip``).

    Parameters
    ----------
    path : str or Path
        ``outbox.json`` or the whole ``.zip``.
    author : str, optional
        The account's handle (``user@instance``); by default from ``actor.json`` (in the zip,
        or next to the file), else from each activity's actor URL.

    Returns
    -------
    list of ListenedPost
        ``platform="mastodon"``; a ``Create`` gives the note (``external_id`` its URI, as
        :class:`~grapevine.connectors.mastodon.MastodonSource` names statuses), an
        ``Announce`` a reshare (``external_id`` the activity's URI, parent the boosted URI,
        empty text). Oldest first. Other activities are skipped.

    Raises
    ------
    grapevine.errors.BadInput
        Invalid JSON, no ``orderedItems``, or an item without its id, time or object
        (``field`` such as ``"orderedItems[3].object.published"``).
    """
    path = Path(path)
    is_zip = zipfile.is_zipfile(path)
    files = _files(path, lambda n: PurePosixPath(n).name == "outbox.json")
    if not files:
        raise BadInput("no outbox.json in the archive", file=str(path))
    name, data = files[0]
    outbox = _load_json(name, data)
    actor_doc: Any = None
    if is_zip:
        actors = _files(path, lambda n: PurePosixPath(n).name == "actor.json")
        if actors:
            actor_doc = _load_json(*actors[0])
    elif (raw := _sibling(path, "actor.json")) is not None:
        actor_doc = _load_json(str(path.with_name("actor.json")), raw)
    items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
    if not isinstance(items, list):
        raise BadInput("expected an OrderedCollection with orderedItems", file=name)
    handle, display = _mastodon_handle(actor_doc)
    if author is not None:
        handle = author
    posts: list[ListenedPost] = []
    for i, item in enumerate(items):
        post = _activity(item, i, name, handle, display)
        if post is not None:
            posts.append(post)
    posts.sort(key=lambda p: p.time if p.time is not None else 0.0)
    return posts


def _mastodon_handle(actor: Any) -> tuple[str | None, str | None]:
    if not isinstance(actor, dict):
        return None, None
    user, url = actor.get("preferredUsername"), actor.get("id") or actor.get("url")
    host = urlsplit(url).hostname if isinstance(url, str) else None
    handle = f"{user}@{host}" if user and host else None
    name = actor.get("name")
    return handle, name if isinstance(name, str) and name else None


def _actor_handle(actor: Any) -> str | None:
    if not isinstance(actor, str):
        return None
    parts = urlsplit(actor)
    segments = [s for s in parts.path.split("/") if s]
    if not parts.hostname or not segments:
        return None
    user = segments[-1].lstrip("@")
    return f"{user}@{parts.hostname}"


def _activity(
    item: Any, i: int, name: str, handle: str | None, display: str | None
) -> ListenedPost | None:
    where = f"orderedItems[{i}]"
    if not isinstance(item, dict):
        raise BadInput("expected an activity object", file=name, field=where)
    kind = item.get("type")
    if kind not in ("Create", "Announce"):
        return None
    author = handle or _actor_handle(item.get("actor"))
    if author is None:
        raise BadInput("expected the actor's URL", file=name, field=f"{where}.actor")
    obj = item.get("object")
    if kind == "Announce":
        aid = item.get("id")
        target = obj.get("id") if isinstance(obj, dict) else obj
        if not isinstance(aid, str) or not aid:
            raise BadInput("expected the activity's id", file=name, field=f"{where}.id")
        if not isinstance(target, str) or not target:
            raise BadInput("expected the boosted status's URI", file=name, field=f"{where}.object")
        return ListenedPost(
            platform="mastodon",
            external_id=aid,
            author=author,
            time=_iso(item.get("published"), name, f"{where}.published"),
            text="",
            url=None,
            parent_external_id=target,
            author_name=display,
            source=name,
        )
    if not isinstance(obj, dict):
        raise BadInput("expected the created object", file=name, field=f"{where}.object")
    oid = obj.get("id")
    if not isinstance(oid, str) or not oid:
        raise BadInput("expected the note's id", file=name, field=f"{where}.object.id")
    content = obj.get("content")
    language = None
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        language = next(iter(content_map))
        if content is None:
            content = content_map[language]
    if content is not None and not isinstance(content, str):
        raise BadInput("expected HTML text", file=name, field=f"{where}.object.content")
    text = html_to_text(content)
    summary = obj.get("summary")
    if isinstance(summary, str) and summary.strip():
        text = f"{html_to_text(summary)} {text}".strip()
    reply_to = obj.get("inReplyTo")
    url = obj.get("url")
    return ListenedPost(
        platform="mastodon",
        external_id=oid,
        author=author,
        time=_iso(obj.get("published") or item.get("published"), name, f"{where}.object.published"),
        text=text,
        url=url if isinstance(url, str) else oid,
        parent_external_id=reply_to if isinstance(reply_to, str) and reply_to else None,
        language=language,
        author_name=display,
        source=name,
    )


def _iso(value: Any, name: str, field: str) -> float:
    if not isinstance(value, str):
        raise BadInput(f"expected an ISO 8601 time, got {value!r}", file=name, field=field)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(
            f"expected an ISO 8601 time, got {value!r}", file=name, field=field
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
