"""Hacker News as a listening source, through the Algolia search API (read only).

:class:`HackerNewsSource` asks ``/api/v1/search_by_date`` (newest first) for the stories and
comments that match a query, with ``numericFilters=created_at_i>=T`` from the cursor, and
pages back with an upper bound on ``created_at_i`` until it reaches the cursor's time. The
cursor is the newest ``created_at_i`` returned and the ids returned at that second, so a
fetch resumes exactly where the last one stopped and nothing is returned twice.

Hacker News has no write API: the source has no ``reply``, and an inbox item from it is
answered on the site by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from grapevine._validation import check_number
from grapevine.connectors._listen import FetchResult, ListenedPost, html_to_text
from grapevine.connectors._social import (
    ApiCaller,
    ApiSource,
    count,
    field,
    http_url,
    load_watermark,
    walk_back,
)
from grapevine.errors import InvalidParameter

__all__ = ["HackerNewsSource", "hit_to_post"]

_OWNER = "HackerNewsSource"
_PLATFORM = "Hacker News"
_PAGE = 1000  # Algolia's largest hitsPerPage
_TAGS = ("story", "comment", "(story,comment)", "poll", "show_hn", "ask_hn", "front_page")
ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsSource(ApiSource):
    """Stories and comments on Hacker News that match a query.

    Parameters
    ----------
    query : str
        Full-text query (Algolia matches words in titles, texts, URLs and authors); ``""``
        lists everything.
    tags : str
        Algolia's ``tags`` filter: ``"(story,comment)"`` (default), ``"story"``,
        ``"comment"``, ``"show_hn"``, ``"ask_hn"``, ``"poll"``, ``"front_page"``, or
        ``"author_NAME"`` / ``"story_ID"``.
    base_url : str
        The API host (``https://hn.algolia.com``); another one for a replay server.
    client, retries, backoff, timeout, max_wait, sleep
        As for :class:`~grapevine.connectors.feeds.FeedSource`.

    Notes
    -----
    The posts' platform is ``"hackernews"``; ``external_id`` is the item id (the same as on
    news.ycombinator.com), ``parent_external_id`` the id of the story or comment a comment
    answers, ``likes`` a story's points and ``replies`` its number of comments.
    """

    kind = "hackernews"

    def __init__(
        self,
        query: str = "",
        *,
        tags: str = "(story,comment)",
        base_url: str = "https://hn.algolia.com",
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(query, str):
            raise InvalidParameter("query", _OWNER, "a string", query)
        if not isinstance(tags, str) or not (
            tags in _TAGS or (tags.startswith(("author_", "story_")) and len(tags) > 6)
        ):
            expected = "one of " + ", ".join(_TAGS) + ", author_NAME or story_ID"
            raise InvalidParameter("tags", _OWNER, expected, tags)
        http_url(base_url, "base_url", _OWNER)
        self.query = query
        self.tags = tags
        self.base_url = base_url.rstrip("/")
        self.name = f"hackernews:{tags}:{query}"
        self._api = ApiCaller(
            self.name,
            _PLATFORM,
            client=client,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            max_wait=max_wait,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"HackerNewsSource({self.query!r}, tags={self.tags!r})"

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The items newer than ``cursor`` (oldest first, at most ``limit``) and the cursor.

        Without a cursor, the newest ``limit`` items only (the history is not crawled).

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries, other failures
            at once, ``malformed`` naming the field for an answer of the wrong shape;
            ``cursor`` stays valid.
        """
        check_number(limit, "limit", f"{_OWNER}.fetch", kind=int, low=1)
        mark = load_watermark(cursor, _OWNER)
        per_page = min(_PAGE, limit)

        def page(upper: int | None, number: int) -> tuple[list[Any], Any]:
            filters = []
            if mark.after is not None:
                filters.append(f"created_at_i>={int(mark.after)}")
            if upper is not None:
                filters.append(f"created_at_i<={upper}")
            params: dict[str, Any] = {
                "query": self.query,
                "tags": self.tags,
                "hitsPerPage": per_page,
                "page": number,
            }
            if filters:
                params["numericFilters"] = ",".join(filters)
            what = "search_by_date"
            body = self._api.call(
                "GET", f"{self.base_url}/api/v1/search_by_date", what=what, params=params
            )
            hits = field(body, "hits", list, name=self.name, platform=_PLATFORM, what=what)
            for i, hit in enumerate(hits):  # check the fields the cursor relies on
                for key, kind in (("objectID", str), ("created_at_i", int)):
                    field(
                        hit, key, kind, name=self.name, platform=_PLATFORM, what=f"{what} hits[{i}]"
                    )
            if len(hits) < per_page:
                return hits, None
            oldest = min(int(h["created_at_i"]) for h in hits)
            if upper is not None and oldest == upper:  # a full page within one second
                return hits, (upper, number + 1)
            return hits, (oldest, 0)

        found, next_mark = walk_back(
            lambda: page(None, 0),
            lambda token: page(*token),
            time_of=lambda h: float(h["created_at_i"]),
            id_of=lambda h: str(h["objectID"]),
            mark=mark,
            limit=limit,
        )
        posts = [hit_to_post(h, source=self.name) for h in found]
        return FetchResult(posts, next_mark.dumps())


def hit_to_post(hit: Any, *, source: str = "") -> ListenedPost:
    """One Algolia hit (a story or a comment) as a post.

    A story's text is its title, then its text (Ask HN) or link; a comment's its text.

    >>> post = hit_to_post({"objectID": "2", "created_at_i": 1, "author": "pg",
    ...                     "comment_text": "<p>Nice &amp; fast</p>", "parent_id": 1})
    >>> post.external_id, post.author, post.text, post.parent_external_id
    ('2', 'pg', 'Nice & fast', '1')
    """
    item_id = str(hit["objectID"])
    tags = hit.get("_tags") or []
    if "comment" in tags or hit.get("comment_text") is not None:
        text = html_to_text(hit.get("comment_text"))
    else:
        title = html_to_text(hit.get("title"))
        body = html_to_text(hit.get("story_text")) or str(hit.get("url") or "")
        text = f"{title} {body}".strip()
    parent = hit.get("parent_id")
    return ListenedPost(
        platform="hackernews",
        external_id=item_id,
        author=str(hit.get("author") or "unknown"),
        time=float(hit["created_at_i"]),
        text=text,
        url=ITEM_URL.format(item_id),
        parent_external_id=str(parent) if parent is not None else None,
        language=None,
        likes=count(hit.get("points")),
        replies=count(hit.get("num_comments")),
        source=source,
    )
