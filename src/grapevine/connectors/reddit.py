"""Reddit as a listening source: search and subreddit listings over OAuth, and replies.

:class:`RedditSource` gets a bearer token from ``POST /api/v1/access_token`` (an
application-only token with ``grant_type=client_credentials``, or a user token with
``grant_type=password`` for a script app, which can also reply), then reads a Listing, newest
first: a site search (``/search?q=&sort=new``), a subreddit's new posts (``/r/SUB/new``) or
its new comments (``/r/SUB/comments``). It pages back with ``after`` until it reaches the
cursor of the last fetch (the newest ``created_utc`` returned and the fullnames at that
time). Reddit's ``X-Ratelimit-Remaining`` / ``X-Ratelimit-Reset`` headers are honoured: a
``429`` waits for the reset, and so does the next request once none is left in the window.
Replies go through ``POST /api/comment``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from grapevine._validation import check_number
from grapevine.connectors._listen import FetchResult, ListenedPost
from grapevine.connectors._social import (
    USER_AGENT,
    ApiCaller,
    ApiSource,
    count,
    field,
    header_number,
    header_wait,
    http_url,
    load_watermark,
    walk_back,
)
from grapevine.errors import InvalidParameter, SourceFailed

__all__ = ["LISTINGS", "RedditSource", "thing_to_post"]

LISTINGS = ("search:QUERY", "new:SUBREDDIT", "comments:SUBREDDIT")
_OWNER = "RedditSource"
_PLATFORM = "Reddit"
_PAGE = 100  # a Listing's largest limit
# X-Ratelimit-Reset is the seconds left in the current window
_RESET_WAIT = header_wait("x-ratelimit-reset", unix_time=False)
_REMAINING = header_number("x-ratelimit-remaining")


class RedditSource(ApiSource):
    """A Reddit search or subreddit listing, and replies to what it finds.

    Parameters
    ----------
    listing : str
        ``"search:QUERY"`` (all of Reddit), ``"new:SUBREDDIT"`` (its new posts) or
        ``"comments:SUBREDDIT"`` (its new comments).
    client_id, client_secret : str
        The app's credentials (https://www.reddit.com/prefs/apps).
    username, password : str, optional
        A script app's account: the token is then the user's, and :meth:`reply` works.
    user_agent : str
        Reddit asks for a unique, descriptive one (``platform:app:version (by /u/name)``).
    base_url, auth_url : str
        ``https://oauth.reddit.com`` and ``https://www.reddit.com``; others for a replay
        server.
    client, retries, backoff, timeout, max_wait, sleep
        As for :class:`~grapevine.connectors.feeds.FeedSource`.

    Notes
    -----
    The posts' platform is ``"reddit"``; ``external_id`` is the fullname (``t3_...`` for a
    post, ``t1_...`` for a comment), ``parent_external_id`` a comment's ``parent_id``,
    ``likes`` the score, ``replies`` a post's ``num_comments``.
    """

    kind = "reddit"

    def __init__(
        self,
        listing: str,
        *,
        client_id: str,
        client_secret: str,
        username: str | None = None,
        password: str | None = None,
        user_agent: str = USER_AGENT,
        base_url: str = "https://oauth.reddit.com",
        auth_url: str = "https://www.reddit.com",
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        head, _, arg = listing.partition(":") if isinstance(listing, str) else ("", "", "")
        arg = arg.strip()
        if head in ("new", "comments"):
            arg = arg.removeprefix("r/").removeprefix("/r/")
        if (
            head not in ("search", "new", "comments")
            or not arg
            or (head != "search" and not arg.replace("_", "").isalnum())
        ):
            raise InvalidParameter("listing", _OWNER, "one of " + ", ".join(LISTINGS), listing)
        for key, value in (("client_id", client_id), ("client_secret", client_secret)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidParameter(key, _OWNER, "the app's credential", None)
        if (username is None) != (password is None):
            raise InvalidParameter(
                "password" if username else "username", _OWNER, "given with the other", None
            )
        for key, url in (("base_url", base_url), ("auth_url", auth_url)):
            http_url(url, key, _OWNER)
        self.listing = listing
        self._head, self._arg = head, arg
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.username = username
        self._credentials = (client_id, client_secret)
        self._password = password
        self.name = f"reddit:{head}:{arg}"
        self._api = ApiCaller(
            self.name,
            _PLATFORM,
            client=client or httpx.Client(timeout=timeout, headers={"User-Agent": user_agent}),
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            max_wait=max_wait,
            wait_of=_RESET_WAIT,
            remaining_of=_REMAINING,
            sleep=sleep,
        )
        self._own_client = client is None
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"RedditSource({self.listing!r})"

    def close(self) -> None:
        """Close the HTTP client if this source made it."""
        if self._own_client:
            self._api.client.close()

    # ------------------------------------------------------------------------ calls
    def _authorize(self) -> None:
        what = "POST /api/v1/access_token"
        data = (
            {
                "grant_type": "password",
                "username": self.username or "",
                "password": self._password or "",
            }
            if self.username
            else {"grant_type": "client_credentials"}
        )
        body = self._api.call(
            "POST",
            f"{self.auth_url}/api/v1/access_token",
            what=what,
            data=data,
            auth=self._credentials,
        )
        if isinstance(body, dict) and body.get("error") and not body.get("access_token"):
            detail = f"{_PLATFORM} {what}: {body['error']}"
            raise SourceFailed(self.name, "unauthorized", detail=detail)
        self._token = field(
            body, "access_token", str, name=self.name, platform=_PLATFORM, what=what
        )
        expires = field(
            body,
            "expires_in",
            (int, float),
            name=self.name,
            platform=_PLATFORM,
            what=what,
            required=False,
        )
        self._expires = time.time() + float(expires or 3600) - 60.0

    def _oauth(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        for attempt in (0, 1):
            if self._token is None or time.time() >= self._expires:
                self._authorize()
            try:
                return self._api.call(
                    method,
                    f"{self.base_url}{path}",
                    what=what,
                    headers={"Authorization": f"bearer {self._token}"},
                    **kwargs,
                )
            except SourceFailed as exc:
                if attempt or exc.reason != "unauthorized" or "HTTP 401" not in exc.detail:
                    raise
                self._token = None  # revoked or expired early: one new token
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The posts or comments newer than ``cursor`` (oldest first, at most ``limit``).

        Without a cursor, the newest ``limit`` (100 at most) only.

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries, ``unauthorized``
            and other failures at once, ``malformed`` naming the field for an answer of the
            wrong shape; ``cursor`` stays valid.
        """
        check_number(limit, "limit", f"{_OWNER}.fetch", kind=int, low=1)
        mark = load_watermark(cursor, _OWNER)
        if self._head == "search":
            path, params = "/search", {"q": self._arg, "sort": "new", "type": "link"}
        elif self._head == "new":
            path, params = f"/r/{quote(self._arg)}/new", {}
        else:
            path, params = f"/r/{quote(self._arg)}/comments", {}
        what = f"GET {path}"

        def page(after: str | None) -> tuple[list[Any], Any]:
            query: dict[str, Any] = {**params, "raw_json": 1}
            query["limit"] = min(_PAGE, limit) if mark.after is None else _PAGE
            if after:
                query["after"] = after
            body = self._oauth("GET", path, what=what, params=query)
            children = field(
                body, "data.children", list, name=self.name, platform=_PLATFORM, what=what
            )
            for i, child in enumerate(children):
                for key, kind in (
                    ("kind", str),
                    ("data.name", str),
                    ("data.created_utc", (int, float)),
                ):
                    field(
                        child,
                        key,
                        kind,
                        name=self.name,
                        platform=_PLATFORM,
                        what=f"{what} data.children[{i}]",
                    )
            token = body["data"].get("after")
            return children, (token if isinstance(token, str) and token and children else None)

        found, next_mark = walk_back(
            lambda: page(None),
            page,
            time_of=lambda c: float(c["data"]["created_utc"]),
            id_of=lambda c: str(c["data"]["name"]),
            mark=mark,
            limit=limit,
        )
        posts = [thing_to_post(c, source=self.name) for c in found]
        return FetchResult(posts, next_mark.dumps())

    # ------------------------------------------------------------------------ reply
    def reply(self, in_reply_to_external_id: str, text: str) -> str:
        """Answer a post or comment (its fullname); return the new comment's fullname.

        Raises
        ------
        grapevine.errors.InvalidParameter
            Without a user (``username`` and ``password``), for an empty text, or an id
            that is not a post's or a comment's fullname.
        grapevine.errors.SourceFailed
            Reddit refuses the comment (its error code, e.g. ``THREAD_LOCKED``, in the
            detail) or the request fails.
        """
        owner = f"{_OWNER}.reply"
        if self.username is None:
            raise InvalidParameter(
                "username", owner, "set (replying needs a script app's user)", None
            )
        if not isinstance(text, str) or not text.strip():
            raise InvalidParameter("text", owner, "a non-empty text", text)
        thing = in_reply_to_external_id
        if not isinstance(thing, str) or not thing.startswith(("t1_", "t3_")):
            raise InvalidParameter("in_reply_to_external_id", owner, "a t1_ or t3_ fullname", thing)
        what = "POST /api/comment"
        body = self._oauth(
            "POST",
            "/api/comment",
            what=what,
            data={"api_type": "json", "thing_id": thing, "text": text},
        )
        errors = field(
            body, "json.errors", list, name=self.name, platform=_PLATFORM, what=what, required=False
        )
        if errors:
            words = "; ".join(
                " ".join(str(x) for x in e if x) for e in errors if isinstance(e, list)
            )
            raise SourceFailed(self.name, "http_400", detail=f"{_PLATFORM} {what}: {words}")
        name = field(
            body,
            "json.data.things[0].data.name",
            str,
            name=self.name,
            platform=_PLATFORM,
            what=what,
        )
        return str(name)


# ---------------------------------------------------------------------------- mapping
def thing_to_post(thing: Any, *, source: str = "") -> ListenedPost:
    """One Listing child (``t3`` post or ``t1`` comment) as a post.

    >>> post = thing_to_post({"kind": "t1", "data": {"name": "t1_b", "author": "bob",
    ...     "body": "Same here", "created_utc": 1793613600.0, "parent_id": "t3_a",
    ...     "permalink": "/r/x/comments/a/t/b/", "score": 4}})
    >>> post.external_id, post.parent_external_id, post.likes, post.url
    ('t1_b', 't3_a', 4, 'https://www.reddit.com/r/x/comments/a/t/b/')
    """
    data = thing["data"]
    if thing.get("kind") == "t1":
        text = str(data.get("body") or "")
        parent = data.get("parent_id")
    else:
        title, body = str(data.get("title") or ""), str(data.get("selftext") or "")
        text = f"{title} {body}" if body else title
        parent = data.get("crosspost_parent")
    permalink = data.get("permalink")
    return ListenedPost(
        platform="reddit",
        external_id=str(data["name"]),
        author=str(data.get("author") or "[deleted]"),
        time=float(data["created_utc"]),
        text=" ".join(text.split()),
        url=f"https://www.reddit.com{permalink}" if permalink else None,
        parent_external_id=str(parent) if parent else None,
        language=None,
        likes=count(data.get("score")),
        replies=count(data.get("num_comments")),
        source=source,
    )
