"""Bluesky as a listening source: AT Protocol post search, and replies.

:class:`BlueskySource` asks ``app.bsky.feed.searchPosts`` (``sort=latest``, newest first)
for the posts that match a query and pages back with the API's ``cursor`` until it reaches
the cursor of the last fetch (the newest sort time returned and the post URIs at that time).
With an identifier and an app password it signs in (``com.atproto.server.createSession``),
sends the access token with every request (signing in again once when it has expired) and
can answer a post (``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` whose
``reply`` names the thread's root and the parent). A ``429`` waits until the
``ratelimit-reset`` time the server gives; when ``ratelimit-remaining`` reaches 0 the next
request waits for it too.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from grapevine._validation import check_number
from grapevine.connectors._listen import FetchResult, ListenedPost
from grapevine.connectors._social import (
    ApiCaller,
    ApiSource,
    count,
    field,
    header_number,
    header_wait,
    http_url,
    iso_epoch,
    load_watermark,
    walk_back,
)
from grapevine.errors import InvalidParameter, SourceFailed

__all__ = ["BlueskySource", "post_view_to_post"]

_OWNER = "BlueskySource"
_PLATFORM = "Bluesky"
_PAGE = 100  # searchPosts' largest limit
_MAX_GRAPHEMES = 300  # app.bsky.feed.post's text limit
PUBLIC_APPVIEW = "https://public.api.bsky.app"
PDS = "https://bsky.social"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_RESET_WAIT = header_wait("ratelimit-reset", unix_time=True)  # the Unix time it resets
_REMAINING = header_number("ratelimit-remaining")


class BlueskySource(ApiSource):
    """Bluesky posts that match a search, and replies to them.

    Parameters
    ----------
    query : str
        The search (Lucene-like: words, ``"phrases"``, ``from:handle``, ``#tag``).
    identifier : str, optional
        The account's handle or DID; with ``password``, requests are signed in (needed by
        most servers for search, and for :meth:`reply`).
    password : str, optional
        An app password (Settings → App passwords), never the account's own.
    lang : str, optional
        Only posts in this language (``searchPosts``' ``lang``).
    base_url : str, optional
        The service: ``https://bsky.social`` when signed in, else the public AppView
        ``https://public.api.bsky.app``; another one for a self-hosted PDS or a replay server.
    client, retries, backoff, timeout, max_wait, sleep
        As for :class:`~grapevine.connectors.feeds.FeedSource`.

    Notes
    -----
    The posts' platform is ``"bluesky"``; ``external_id`` is the ``at://`` URI,
    ``parent_external_id`` the URI of the post answered (``record.reply.parent.uri``),
    ``author`` the handle, ``language`` the first of ``record.langs``.
    """

    kind = "bluesky"

    def __init__(
        self,
        query: str,
        *,
        identifier: str | None = None,
        password: str | None = None,
        lang: str | None = None,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(query, str) or not query.strip():
            raise InvalidParameter("query", _OWNER, "a non-empty search", query)
        if (identifier is None) != (password is None) or (
            identifier is not None and not (str(identifier).strip() and str(password).strip())
        ):
            raise InvalidParameter(
                "password" if identifier else "identifier",
                _OWNER,
                "given with the other (an identifier and an app password, or neither)",
                None,
            )
        if lang is not None and (not isinstance(lang, str) or not lang.strip()):
            raise InvalidParameter("lang", _OWNER, "a language code such as 'en'", lang)
        url = base_url or (PDS if identifier else PUBLIC_APPVIEW)
        parts = http_url(url, "base_url", _OWNER, base_url)
        self.query = query.strip()
        self.identifier = identifier
        self._password = password
        self.lang = lang
        self.base_url = url.rstrip("/")
        self.name = f"bluesky:{parts.netloc}:{self.query}"
        self._api = ApiCaller(
            self.name,
            _PLATFORM,
            client=client,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            max_wait=max_wait,
            wait_of=_RESET_WAIT,
            remaining_of=_REMAINING,
            sleep=sleep,
        )
        self._jwt: str | None = None
        self._did: str | None = None
        self._refs: dict[str, tuple[str, str, str]] = {}  # uri -> (cid, root uri, root cid)

    def __repr__(self) -> str:
        return f"BlueskySource({self.query!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------------ calls
    def _sign_in(self) -> None:
        what = "com.atproto.server.createSession"
        body = self._api.call(
            "POST",
            f"{self.base_url}/xrpc/{what}",
            what=what,
            json_body={"identifier": self.identifier, "password": self._password},
        )
        self._jwt = field(body, "accessJwt", str, name=self.name, platform=_PLATFORM, what=what)
        self._did = field(body, "did", str, name=self.name, platform=_PLATFORM, what=what)

    def _xrpc(self, method: str, nsid: str, *, params: Any = None, json_body: Any = None) -> Any:
        """One XRPC call, signed in when the source has credentials."""
        if self.identifier is None:
            return self._api.call(
                method,
                f"{self.base_url}/xrpc/{nsid}",
                what=nsid,
                params=params,
                json_body=json_body,
            )
        for attempt in (0, 1):
            if self._jwt is None:
                self._sign_in()
            try:
                return self._api.call(
                    method,
                    f"{self.base_url}/xrpc/{nsid}",
                    what=nsid,
                    params=params,
                    json_body=json_body,
                    headers={"Authorization": f"Bearer {self._jwt}"},
                )
            except SourceFailed as exc:
                if attempt or "ExpiredToken" not in exc.detail:
                    raise
                self._jwt = None  # the access token expired: sign in again, once
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The posts newer than ``cursor`` (oldest first, at most ``limit``) and the cursor.

        Without a cursor, the newest ``limit`` posts (100 at most) only.

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries, ``unauthorized``
            and other failures at once, ``malformed`` naming the field for an answer of the
            wrong shape; ``cursor`` stays valid.
        """
        check_number(limit, "limit", f"{_OWNER}.fetch", kind=int, low=1)
        mark = load_watermark(cursor, _OWNER)
        what = "app.bsky.feed.searchPosts"

        def page(token: str | None) -> tuple[list[Any], Any]:
            params: dict[str, Any] = {"q": self.query, "sort": "latest", "limit": _PAGE}
            if mark.after is None:
                params["limit"] = min(_PAGE, limit)
            else:
                params["since"] = _iso(mark.after)
            if self.lang:
                params["lang"] = self.lang
            if token:
                params["cursor"] = token
            body = self._xrpc("GET", what, params=params)
            posts = field(body, "posts", list, name=self.name, platform=_PLATFORM, what=what)
            for i, view in enumerate(posts):
                for path, kind in (("uri", str), ("cid", str), ("record.createdAt", str)):
                    field(
                        view,
                        path,
                        kind,
                        name=self.name,
                        platform=_PLATFORM,
                        what=f"{what} posts[{i}]",
                    )
                if iso_epoch(view["record"]["createdAt"]) is None:
                    detail = (
                        f"{_PLATFORM} {what} posts[{i}]: the field 'record.createdAt' is not "
                        f"a datetime: {view['record']['createdAt']!r}"
                    )
                    raise SourceFailed(self.name, "malformed", detail=detail)
            token = body.get("cursor") if isinstance(body, dict) else None
            return posts, (token if isinstance(token, str) and token and posts else None)

        found, next_mark = walk_back(
            lambda: page(None),
            page,
            time_of=_sort_time,
            id_of=lambda v: str(v["uri"]),
            mark=mark,
            limit=limit,
        )
        for view in found:
            self._remember(view)
        posts = [post_view_to_post(v, source=self.name) for v in found]
        return FetchResult(posts, next_mark.dumps())

    def _remember(self, view: Any) -> None:
        record = view.get("record") or {}
        root = (record.get("reply") or {}).get("root") or {}
        uri, cid = str(view["uri"]), str(view["cid"])
        self._refs[uri] = (cid, str(root.get("uri") or uri), str(root.get("cid") or cid))

    # ------------------------------------------------------------------------ reply
    def reply(self, in_reply_to_external_id: str, text: str) -> str:
        """Answer a post; return the ``at://`` URI of the reply.

        The parent's CID and its thread's root come from the posts this source fetched,
        else from ``app.bsky.feed.getPosts``. The record key is chosen before the first
        try, so a retried send cannot post twice (the server refuses a second record with
        the same key).

        Raises
        ------
        grapevine.errors.InvalidParameter
            Without credentials, or for an empty text or one over 300 characters.
        grapevine.errors.SourceFailed
            The parent cannot be found (``http_404``) or the post fails.
        """
        owner = f"{_OWNER}.reply"
        if self.identifier is None:
            raise InvalidParameter(
                "identifier", owner, "set (replying needs an identifier and app password)", None
            )
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_GRAPHEMES:
            raise InvalidParameter(
                "text", owner, "a non-empty text of 300 characters at most", text
            )
        parent = in_reply_to_external_id
        if parent not in self._refs:
            what = "app.bsky.feed.getPosts"
            body = self._xrpc("GET", what, params={"uris": parent})
            views = field(body, "posts", list, name=self.name, platform=_PLATFORM, what=what)
            if not views:
                raise SourceFailed(self.name, "http_404", detail=f"no post {parent!r} to answer")
            self._remember(views[0])
        cid, root_uri, root_cid = self._refs[parent]
        if self._jwt is None:
            self._sign_in()
        record = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "reply": {
                "root": {"uri": root_uri, "cid": root_cid},
                "parent": {"uri": parent, "cid": cid},
            },
        }
        what = "com.atproto.repo.createRecord"
        body = self._xrpc(
            "POST",
            what,
            json_body={
                "repo": self._did,
                "collection": "app.bsky.feed.post",
                "rkey": _tid(time.time()),
                "record": record,
            },
        )
        uri = field(body, "uri", str, name=self.name, platform=_PLATFORM, what=what)
        new_cid = field(body, "cid", str, name=self.name, platform=_PLATFORM, what=what)
        self._refs[uri] = (new_cid, root_uri, root_cid)
        return str(uri)


# ---------------------------------------------------------------------------- mapping
def post_view_to_post(view: Any, *, source: str = "") -> ListenedPost:
    """One ``app.bsky.feed.defs#postView`` as a post.

    >>> post = post_view_to_post({
    ...     "uri": "at://did:plc:abc/app.bsky.feed.post/3kq", "cid": "bafy",
    ...     "author": {"handle": "alice.bsky.social", "displayName": "Alice"},
    ...     "record": {"text": "Love it", "createdAt": "2026-11-02T10:00:00.000Z",
    ...                "langs": ["en"]}, "likeCount": 3})
    >>> post.author, post.time, post.language, post.likes
    ('alice.bsky.social', 1793613600.0, 'en', 3)
    >>> post.url
    'https://bsky.app/profile/alice.bsky.social/post/3kq'
    """
    record = view.get("record") or {}
    author = view.get("author") or {}
    handle = str(author.get("handle") or author.get("did") or "unknown")
    uri = str(view["uri"])
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    langs = record.get("langs") or []
    rkey = uri.rsplit("/", 1)[-1]
    return ListenedPost(
        platform="bluesky",
        external_id=uri,
        author=handle,
        time=iso_epoch(record.get("createdAt")),
        text=" ".join(str(record.get("text") or "").split()),
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        parent_external_id=str(parent) if parent else None,
        language=str(langs[0]).lower() if langs else None,
        author_name=" ".join(str(author.get("displayName") or "").split()) or None,
        likes=count(view.get("likeCount")),
        reshares=count(view.get("repostCount")),
        replies=count(view.get("replyCount")),
        source=source,
    )


def _sort_time(view: Any) -> float:
    """searchPosts' order: the earlier of ``createdAt`` and ``indexedAt``."""
    created = iso_epoch(view["record"]["createdAt"])
    indexed = iso_epoch(view.get("indexedAt"))
    times = [t for t in (created, indexed) if t is not None]
    return min(times) if times else 0.0


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _tid(now: float) -> str:
    """A record key in the TID format: 53 bits of microseconds and a 10-bit clock id."""
    value = (int(now * 1_000_000) << 10) | secrets.randbelow(1024)
    chars = []
    for _ in range(13):
        chars.append(_TID_CHARS[value & 31])
        value >>= 5
    return "".join(reversed(chars))
