"""X (Twitter) as a listening source: API v2 recent search, and replies.

:class:`XSource` asks ``GET /2/tweets/search/recent`` (the last seven days, newest first) for
the posts that match a query, with ``since_id`` from the cursor (the newest post id returned),
and pages back with ``next_token`` until the results end. The request asks for the fields the
posts need (``created_at``, ``author_id``, ``lang``, ``public_metrics``,
``referenced_tweets``) and the authors as an expansion (``username``, ``name``, followers).
A ``429`` waits until ``x-rate-limit-reset`` (a Unix time); when ``x-rate-limit-remaining``
reaches 0 the next request waits for it too. With a user-context token, :meth:`reply` posts
an answer (``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``).

Posts use the platform ``"twitter"`` and the post id as ``external_id``, the same as
:func:`~grapevine.connectors.read_twitter_archive`, so a post heard from the API and again from
an archive is stored once.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
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
)
from grapevine.errors import InvalidParameter

__all__ = ["XSource", "tweet_to_post"]

_OWNER = "XSource"
_PLATFORM = "X"
_PAGE = 100  # recent search's largest max_results
_MAX_PAGES = 100
_TWEET_FIELDS = "created_at,author_id,lang,public_metrics,referenced_tweets,conversation_id"
_USER_FIELDS = "username,name,public_metrics"
# x-rate-limit-reset is the Unix time the 15-minute window resets
_RESET_WAIT = header_wait("x-rate-limit-reset", unix_time=True)
_REMAINING = header_number("x-rate-limit-remaining")


class XSource(ApiSource):
    """X posts of the last seven days that match a search query, and replies to them.

    Parameters
    ----------
    query : str
        An X search query (``brewly -is:retweet lang:en``), 512 characters at most on the
        basic tiers.
    bearer_token : str
        An app-only bearer token (reads) or an OAuth 2.0 user-context token (reads and
        :meth:`reply`, with the ``tweet.write`` scope).
    can_reply : bool
        Whether ``bearer_token`` is a user-context token (an app-only one cannot post).
    base_url : str
        ``https://api.x.com``; another one for a replay server.
    client, retries, backoff, timeout, max_wait, sleep
        As for :class:`~grapevine.connectors.feeds.FeedSource`.
    """

    kind = "x"

    def __init__(
        self,
        query: str,
        *,
        bearer_token: str,
        can_reply: bool = False,
        base_url: str = "https://api.x.com",
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(query, str) or not query.strip() or len(query) > 4096:
            raise InvalidParameter("query", _OWNER, "a search query (1 to 4096 characters)", query)
        if not isinstance(bearer_token, str) or not bearer_token.strip():
            raise InvalidParameter("bearer_token", _OWNER, "a token", None)
        http_url(base_url, "base_url", _OWNER)
        self.query = query.strip()
        self.base_url = base_url.rstrip("/")
        self.can_reply = bool(can_reply)
        self.name = f"x:{self.query}"
        self._headers = {"Authorization": f"Bearer {bearer_token}"}
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

    def __repr__(self) -> str:
        return f"XSource({self.query!r})"

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The posts newer than ``cursor`` (oldest first, at most ``limit``) and the cursor.

        Without a cursor, the newest ``limit`` (100 at most) only. The cursor is the newest
        post id returned.

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries, ``unauthorized``
            and other failures at once, ``malformed`` naming the field for an answer of the
            wrong shape; ``cursor`` stays valid.
        """
        check_number(limit, "limit", f"{_OWNER}.fetch", kind=int, low=1)
        if cursor is not None and not (isinstance(cursor, str) and cursor.isdigit()):
            raise InvalidParameter("cursor", f"{_OWNER}.fetch", "a cursor it returned", cursor)
        what = "GET /2/tweets/search/recent"
        tweets: dict[str, Any] = {}
        users: dict[str, Any] = {}
        token: str | None = None
        for _ in range(_MAX_PAGES):
            params: dict[str, Any] = {
                "query": self.query,
                "max_results": _PAGE if cursor else max(10, min(_PAGE, limit)),
                "tweet.fields": _TWEET_FIELDS,
                "expansions": "author_id",
                "user.fields": _USER_FIELDS,
            }
            if cursor:
                params["since_id"] = cursor
            if token:
                params["next_token"] = token
            body = self._api.call(
                "GET",
                f"{self.base_url}/2/tweets/search/recent",
                what=what,
                params=params,
                headers=self._headers,
            )
            data = field(
                body, "data", list, name=self.name, platform=_PLATFORM, what=what, required=False
            )
            for i, tweet in enumerate(data or []):
                for key in ("id", "text", "created_at"):
                    field(tweet, key, str, name=self.name, platform=_PLATFORM,
                          what=f"{what} data[{i}]")  # fmt: skip
                tweets[tweet["id"]] = tweet
            for user in ((body.get("includes") or {}).get("users") or []) if data else []:
                if isinstance(user, dict) and isinstance(user.get("id"), str):
                    users[user["id"]] = user
            meta = body.get("meta") if isinstance(body, dict) else None
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not cursor or not data or not isinstance(token, str) or not token:
                break
        ordered = sorted(tweets.values(), key=lambda t: _id_key(t["id"]))
        if not cursor:
            ordered = ordered[-limit:]  # the newest page: keep its newest
        kept = ordered[:limit]
        posts = [tweet_to_post(t, users=users, source=self.name) for t in kept]
        newest = kept[-1]["id"] if kept else cursor
        return FetchResult(posts, newest)

    # ------------------------------------------------------------------------ reply
    def reply(self, in_reply_to_external_id: str, text: str) -> str:
        """Answer a post (by id); return the id of the reply.

        Raises
        ------
        grapevine.errors.InvalidParameter
            With an app-only token (``can_reply`` false), an empty text or a bad id.
        grapevine.errors.SourceFailed
            X refuses the post or the request fails.
        """
        owner = f"{_OWNER}.reply"
        if not self.can_reply:
            raise InvalidParameter(
                "can_reply", owner, "true (replying needs a user-context token)", False
            )
        if not isinstance(text, str) or not text.strip():
            raise InvalidParameter("text", owner, "a non-empty text", text)
        if not (isinstance(in_reply_to_external_id, str) and in_reply_to_external_id.isdigit()):
            raise InvalidParameter(
                "in_reply_to_external_id", owner, "a post id", in_reply_to_external_id
            )
        what = "POST /2/tweets"
        body = self._api.call(
            "POST",
            f"{self.base_url}/2/tweets",
            what=what,
            json_body={"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to_external_id}},
            headers=self._headers,
        )
        return str(field(body, "data.id", str, name=self.name, platform=_PLATFORM, what=what))


# ---------------------------------------------------------------------------- mapping
def tweet_to_post(
    tweet: Any, *, users: dict[str, Any] | None = None, source: str = ""
) -> ListenedPost:
    """One API v2 post, with its author from ``includes.users``, as a post.

    >>> post = tweet_to_post({"id": "20", "text": "Love  my Brewly", "author_id": "7",
    ...     "created_at": "2026-11-02T10:00:00.000Z", "lang": "en",
    ...     "referenced_tweets": [{"type": "replied_to", "id": "19"}],
    ...     "public_metrics": {"like_count": 2, "retweet_count": 1, "reply_count": 0}},
    ...     users={"7": {"id": "7", "username": "ann", "name": "Ann"}})
    >>> post.author, post.text, post.parent_external_id, post.likes, post.url
    ('ann', 'Love my Brewly', '19', 2, 'https://x.com/ann/status/20')
    """
    author = (users or {}).get(str(tweet.get("author_id"))) or {}
    handle = str(author.get("username") or tweet.get("author_id") or "unknown")
    metrics = tweet.get("public_metrics") or {}
    parent = None
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") in ("replied_to", "retweeted", "quoted"):
            parent = str(ref.get("id"))
            break
    lang = tweet.get("lang")
    return ListenedPost(
        platform="twitter",
        external_id=str(tweet["id"]),
        author=handle,
        time=iso_epoch(tweet.get("created_at")),
        text=" ".join(html.unescape(str(tweet.get("text") or "")).split()),  # X escapes &<>
        url=f"https://x.com/{handle}/status/{tweet['id']}",
        parent_external_id=parent,
        language=str(lang) if lang and lang not in ("und", "zxx") else None,
        author_name=" ".join(str(author.get("name") or "").split()) or None,
        author_followers=count((author.get("public_metrics") or {}).get("followers_count")),
        likes=count(metrics.get("like_count")),
        reshares=count(metrics.get("retweet_count")),
        replies=count(metrics.get("reply_count")),
        source=source,
    )


def _id_key(sid: str) -> tuple[int, str]:
    return (len(sid), sid)
