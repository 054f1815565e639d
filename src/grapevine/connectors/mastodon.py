"""Mastodon as a listening source, through Mastodon.py: timelines, hashtags, search, mentions.

:class:`MastodonSource` pages forward with ``min_id`` from the newest status id it returned
(the cursor), so a fetch resumes exactly where the last good one stopped. Boosts become
reshare posts whose parent is the boosted status; replies point at the status they answer.
Rate limits (HTTP 429) are retried after the wait the server asks for (``Retry-After`` or
``X-RateLimit-Reset``), up to ``retries`` times; a ``401`` fails at once.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
)

from grapevine._validation import check_number
from grapevine.connectors._listen import (
    FetchResult,
    ListenedPost,
    html_to_text,
    parse_retry_after,
    retry_delay,
)
from grapevine.errors import InvalidParameter, SourceFailed

__all__ = ["TIMELINES", "MastodonSource", "status_to_posts"]

TIMELINES = ("public", "local", "hashtag:TAG", "search:QUERY", "mentions")
_OWNER = "MastodonSource"
_PAGE = 40  # the API's largest page for timelines
_USER_AGENT = "grapevine-listening/0.1"


class _RecordingSession(requests.Session):
    """A requests session that keeps the last response (for Retry-After and rate headers)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_response: requests.Response | None = None
        self.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response


class MastodonSource:
    """A Mastodon timeline, hashtag, search or mentions stream, fetched with Mastodon.py.

    Parameters
    ----------
    api_base_url : str
        The instance, ``"https://mastodon.social"``.
    access_token : str, optional
        Needed for ``search:`` (full-text search), ``mentions`` and :meth:`reply`.
    timeline : str
        ``"public"``, ``"local"``, ``"hashtag:TAG"``, ``"search:QUERY"`` or ``"mentions"``
        (the mentions of the account of the token: replies to the brand).
    retries : int
        Retries after a rate limit, a network error or a 5xx.
    backoff : float
        Seconds before the first retry; doubles at each one (a longer wait asked for by the
        server wins).
    timeout : float
        Seconds per request.
    max_wait : float
        The longest single wait, in seconds.
    resolve_parents : bool
        Look up the status a reply answers (one request per unknown parent) so that its
        ``parent_external_id`` is the parent's URI, and return the parent too.
    sleep : callable
        How to wait (``time.sleep``).

    Notes
    -----
    Ids: a status's ``external_id`` is its ActivityPub URI (the same on every instance), its
    ``author`` the account's ``acct`` with the instance (``alice@mastodon.social``). A parent
    that cannot be looked up (deleted, private) is named ``"host:id"``.
    """

    kind = "mastodon"

    def __init__(
        self,
        api_base_url: str,
        *,
        access_token: str | None = None,
        timeline: str = "public",
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        resolve_parents: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(api_base_url) if isinstance(api_base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameter("api_base_url", _OWNER, "an http(s) URL", api_base_url)
        head, _, arg = timeline.partition(":") if isinstance(timeline, str) else ("", "", "")
        if not (
            (head in ("public", "local", "mentions") and not arg)
            or (head in ("hashtag", "search") and arg.strip())
        ):
            raise InvalidParameter("timeline", _OWNER, "one of " + ", ".join(TIMELINES), timeline)
        if head in ("search", "mentions") and not access_token:
            raise InvalidParameter(
                "access_token", _OWNER, f"a token (the {head!r} timeline needs one)", None
            )
        check_number(retries, "retries", _OWNER, kind=int, low=0)
        check_number(backoff, "backoff", _OWNER, low=0.0)
        check_number(timeout, "timeout", _OWNER, low=0.0, low_closed=False)
        check_number(max_wait, "max_wait", _OWNER, low=0.0)
        self.api_base_url = api_base_url.rstrip("/")
        self.host = parts.netloc
        self.timeline = timeline
        self._head = head
        self._arg = arg.strip().lstrip("#") if head == "hashtag" else arg.strip()
        self.name = f"mastodon:{self.host}:{timeline}"
        self.retries = retries
        self.backoff = float(backoff)
        self.max_wait = float(max_wait)
        self.resolve_parents = resolve_parents
        self._sleep = sleep
        self._session = _RecordingSession()
        self._api = Mastodon(
            api_base_url=self.api_base_url,
            access_token=access_token,
            ratelimit_method="throw",
            request_timeout=timeout,
            version_check_mode="none",
            session=self._session,
            user_agent=_USER_AGENT,
        )
        self._uri_of: dict[str, str] = {}  # local status id -> URI
        self._id_of: dict[str, str] = {}  # URI -> local status id

    def __repr__(self) -> str:
        return f"MastodonSource({self.api_base_url!r}, timeline={self.timeline!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> MastodonSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ calls
    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call Mastodon.py with retries; map its errors onto SourceFailed."""
        last: SourceFailed | None = None
        for attempt in range(self.retries + 1):
            if attempt and last is not None:
                self._sleep(retry_delay(attempt - 1, self.backoff, last.retry_after, self.max_wait))
            try:
                return fn(*args, **kwargs)
            except MastodonRatelimitError:
                last = SourceFailed(
                    self.name, "rate_limited", retry_after=self._retry_after(), detail=what
                )
            except MastodonUnauthorizedError as exc:
                detail = f"{what}: {self._msg(exc)}"
                raise SourceFailed(self.name, "unauthorized", detail=detail) from None
            except MastodonNetworkError as exc:
                last = SourceFailed(self.name, "network", detail=f"{what}: {exc}")
            except MastodonAPIError as exc:
                status = _status(exc)
                if status is None:  # a body that is not JSON
                    raise SourceFailed(self.name, "malformed", detail=f"{what}: {exc}") from None
                failure = SourceFailed(
                    self.name, f"http_{status}", detail=f"{what}: {self._msg(exc)}"
                )
                if status == 403:
                    raise SourceFailed(
                        self.name, "unauthorized", detail=f"{what}: {self._msg(exc)}"
                    ) from None
                if status < 500:
                    raise failure from None
                last = failure
            except (MastodonError, ValueError, TypeError, KeyError) as exc:
                raise SourceFailed(self.name, "malformed", detail=f"{what}: {exc}") from None
        assert last is not None
        raise last

    def _msg(self, exc: MastodonError) -> str:
        """The server's own words (the ``error`` of its JSON body), else the exception's."""
        args = exc.args
        if len(args) >= 4 and args[3]:
            return str(args[3])
        response = self._session.last_response
        if response is not None:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                return f"HTTP {response.status_code}: {body['error']}"
            return f"HTTP {response.status_code}"
        return str(exc)

    def _retry_after(self) -> float | None:
        response = self._session.last_response
        now = time.time()
        if response is not None:
            wait = parse_retry_after(response.headers.get("Retry-After"), now)
            if wait is not None:
                return wait
        reset = getattr(self._api, "ratelimit_reset", None)
        if reset:
            return max(0.0, float(reset) - now)
        return None

    def instance(self) -> dict[str, Any]:
        """The instance's description (``/api/v1/instance``): title, version, languages."""
        with warnings.catch_warnings():  # servers mark v1 deprecated; it is the stable one
            warnings.simplefilter("ignore")
            info = self._call("instance", self._api.instance_v1)
        return dict(info)

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The statuses newer than ``cursor`` (oldest first, about ``limit`` at most).

        Without a cursor, the newest page only (the history is not crawled). The cursor is
        the newest id returned; paging uses ``min_id``, so nothing between two fetches is
        skipped.

        Raises
        ------
        grapevine.errors.SourceFailed
            ``rate_limited``, ``network`` or ``http_5xx`` after the retries, ``unauthorized``
            at once; ``cursor`` stays valid.
        """
        check_number(limit, "limit", "MastodonSource.fetch", kind=int, low=1)
        if cursor is not None and not (
            isinstance(cursor, str) and cursor and cursor.isalnum() and cursor.isascii()
        ):  # Mastodon ids are digits; Pleroma's flake ids are letters and digits
            raise InvalidParameter("cursor", f"{self!r}.fetch", "a cursor it returned", cursor)
        items: list[Any] = []
        newest = cursor
        while len(items) < limit:
            asked = min(_PAGE, limit - len(items))
            page = self._page(newest, asked)
            if not page:
                break
            ids = [str(item["id"]) for item in page]
            top = max(ids, key=_id_key)
            if newest is not None and _id_key(top) <= _id_key(newest):
                break  # a server that ignores min_id: stop rather than loop
            items.extend(page)
            newest = top
            if cursor is None or len(page) < asked:
                break  # first fetch: the newest page only; a short page: nothing newer
        statuses = [_status_of(item) for item in items] if self._head == "mentions" else items
        statuses = [s for s in statuses if s is not None]
        statuses.sort(key=lambda s: _id_key(str(s["id"])))
        posts = self._to_posts(statuses)
        return FetchResult(posts, newest)

    def _page(self, min_id: str | None, limit: int) -> list[Any]:
        api = self._api
        head, arg = self._head, self._arg
        if head == "public":
            page = self._call("timeline_public", api.timeline_public, min_id=min_id, limit=limit)
        elif head == "local":
            page = self._call("timeline_local", api.timeline_local, min_id=min_id, limit=limit)
        elif head == "hashtag":
            page = self._call(
                "timeline_hashtag", api.timeline_hashtag, arg, min_id=min_id, limit=limit
            )
        elif head == "search":
            result = self._call(
                "search_v2",
                api.search_v2,
                arg,
                resolve=False,
                result_type="statuses",
                exclude_unreviewed=False,  # True makes Mastodon.py check the server's version
                min_id=min_id,
                limit=limit,
            )
            page = result["statuses"]
        else:
            page = self._call(
                "notifications", api.notifications, types=["mention"], min_id=min_id, limit=limit
            )
        return list(page or [])

    def _to_posts(self, statuses: Iterable[Any]) -> list[ListenedPost]:
        statuses = list(statuses)
        for s in statuses:
            self._remember(s)
            if s.get("reblog"):
                self._remember(s["reblog"])
        posts: list[ListenedPost] = []
        emitted: set[str] = set()
        for s in statuses:
            for post in status_to_posts(s, host=self.host, source=self.name, parent=self._parent):
                if post.external_id not in emitted:
                    emitted.add(post.external_id)
                    posts.append(post)
        return posts

    def _remember(self, status: Any) -> None:
        sid, uri = str(status["id"]), status.get("uri")
        if uri:
            self._uri_of[sid] = uri
            self._id_of[uri] = sid

    def _parent(self, in_reply_to_id: str) -> str:
        known = self._uri_of.get(in_reply_to_id)
        if known is not None:
            return known
        if self.resolve_parents:
            try:
                parent = self._call("status", self._api.status, in_reply_to_id)
            except SourceFailed as exc:
                if exc.reason in ("rate_limited", "unauthorized", "network"):
                    raise
                parent = None
            if parent is not None and parent.get("uri"):
                self._remember(parent)
                return str(parent["uri"])
        return f"{self.host}:{in_reply_to_id}"

    # ------------------------------------------------------------------------ reply
    def reply(
        self,
        in_reply_to_external_id: str,
        text: str,
        *,
        visibility: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Answer a status; return the ``external_id`` (URI) of the reply.

        The status is found by its URI (from the statuses this source fetched, else through
        a resolving search) or its ``"host:id"``. The request carries an ``Idempotency-Key``
        (by default the SHA-256 of the parent and the text), so a retried send posts once
        (Mastodon remembers a key for an hour).

        Raises
        ------
        grapevine.errors.SourceFailed
            The parent cannot be found (``http_404``) or the post fails.
        """
        if not isinstance(text, str) or not text.strip():
            raise InvalidParameter("text", "MastodonSource.reply", "a non-empty string", text)
        local_id = self._local_id(in_reply_to_external_id)
        key = (
            idempotency_key
            or hashlib.sha256(f"{in_reply_to_external_id}\x1f{text}".encode()).hexdigest()
        )
        status = self._call(
            "status_post",
            self._api.status_post,
            text,
            in_reply_to_id=local_id,
            idempotency_key=key,
            visibility=visibility,
        )
        self._remember(status)
        return str(status.get("uri") or f"{self.host}:{status['id']}")

    def _local_id(self, external_id: str) -> str:
        if external_id in self._id_of:
            return self._id_of[external_id]
        host, sep, sid = external_id.rpartition(":")
        if sep and host == self.host and sid.isdigit():
            return sid
        result = self._call(
            "search_v2",
            self._api.search_v2,
            external_id,
            resolve=True,
            result_type="statuses",
            exclude_unreviewed=False,
        )
        found = list(result["statuses"] or [])
        if not found:
            raise SourceFailed(self.name, "http_404", detail=f"no status {external_id!r} to answer")
        self._remember(found[0])
        return str(found[0]["id"])


# ---------------------------------------------------------------------------- mapping
def status_to_posts(
    status: Any,
    *,
    host: str,
    source: str = "",
    parent: Callable[[str], str] | None = None,
) -> list[ListenedPost]:
    """One Mastodon status as posts: itself, or for a boost the boosted status and the reshare.

    Parameters
    ----------
    status : mapping
        A Status entity (https://docs.joinmastodon.org/entities/Status/), as Mastodon.py or
        ``json.loads`` gives it.
    host : str
        The instance it was read from (completes local accounts' ``acct`` and fallback ids).
    source : str
        The source's name.
    parent : callable, optional
        Maps an ``in_reply_to_id`` to the parent's ``external_id`` (default ``"host:id"``).

    Notes
    -----
    A reshare (boost) carries the boosted status's text, as a retweet does, so that a rule
    matching the original also counts its reshares.
    """
    reblog = status.get("reblog")
    if reblog:
        original = _one_post(reblog, host=host, source=source, parent=parent)
        share = _one_post(status, host=host, source=source, parent=parent)
        share = replace(
            share,
            text=original.text,
            parent_external_id=original.external_id,
            language=share.language or original.language,
        )
        return [original, share]
    return [_one_post(status, host=host, source=source, parent=parent)]


def _one_post(
    status: Any, *, host: str, source: str, parent: Callable[[str], str] | None
) -> ListenedPost:
    account = status.get("account") or {}
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        acct = f"{acct}@{_account_host(account) or host}"
    sid = str(status["id"])
    reply_to = status.get("in_reply_to_id")
    parent_id = None
    if reply_to is not None:
        parent_id = parent(str(reply_to)) if parent is not None else f"{host}:{reply_to}"
    spoiler = html_to_text(status.get("spoiler_text"))
    text = html_to_text(status.get("content"))
    if spoiler:
        text = f"{spoiler} {text}".strip()
    return ListenedPost(
        platform="mastodon",
        external_id=str(status.get("uri") or f"{host}:{sid}"),
        author=acct or f"unknown@{host}",
        time=_epoch(status.get("created_at")),
        text=text,
        url=status.get("url") or status.get("uri") or None,
        parent_external_id=parent_id,
        language=status.get("language") or None,
        author_name=" ".join(str(account.get("display_name") or "").split()) or None,
        author_followers=_int(account.get("followers_count")),
        likes=_int(status.get("favourites_count")),
        reshares=_int(status.get("reblogs_count")),
        replies=_int(status.get("replies_count")),
        source=source,
    )


def _account_host(account: Any) -> str | None:
    url = account.get("url")
    return urlsplit(url).netloc or None if isinstance(url, str) else None


def _status_of(notification: Any) -> Any:
    return notification.get("status")


def _epoch(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value).replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id_key(sid: str) -> tuple[int, str]:
    return (len(sid), sid)


def _status(exc: MastodonError) -> int | None:
    args = exc.args
    if len(args) >= 2 and isinstance(args[1], int):
        return args[1]
    return None
