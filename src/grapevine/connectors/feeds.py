"""RSS and Atom feeds as a listening source: conditional GET, feedparser, no duplicates.

Blogs are where the conversation about a brand often starts. :class:`FeedSource` fetches a
feed with httpx (``If-None-Match`` / ``If-Modified-Since`` from the cursor, so an unchanged
feed costs a ``304``), parses it with feedparser (RSS 0.9x/1.0 (RDF)/2.0, Atom 0.3/1.0) and
returns the entries it has not returned before: the cursor remembers the ids of the entries
seen, so fetching the same feed twice yields nothing the second time.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from grapevine._validation import check_number
from grapevine.connectors._listen import (
    FetchResult,
    ListenedPost,
    html_to_text,
    parse_retry_after,
    retry_delay,
)
from grapevine.errors import InvalidParameter, SourceFailed

__all__ = ["FeedSource", "parse_feed"]

_OWNER = "FeedSource"
_SEEN_CAP = 2000
_USER_AGENT = "grapevine-listening/0.1 (+https://github.com/grapevine)"
_RETRY_STATUS = frozenset((408, 425, 429, 500, 502, 503, 504))


class FeedSource:
    """An RSS or Atom feed, fetched politely and without duplicates.

    Parameters
    ----------
    url : str
        The feed's http(s) URL.
    client : httpx.Client, optional
        The client to fetch with (one is made, and closed by :meth:`close`, if not given).
    retries : int
        Retries after a network error, a ``429`` or a ``5xx`` (``Retry-After`` is honoured).
    backoff : float
        Seconds before the first retry; doubles at each one.
    timeout : float
        Seconds per request.
    max_wait : float
        The longest single wait between retries, in seconds.
    sleep : callable
        How to wait (``time.sleep``); tests pass a recorder.

    Notes
    -----
    The cursor is a JSON object: the ``ETag`` and ``Last-Modified`` of the last response and
    the ids of the entries already returned (the newest 2,000). A ``304`` returns no posts
    and the same cursor. A feed that cannot be parsed and has no entries raises
    ``SourceFailed(reason="malformed")``; one with a syntax error whose entries can still be
    read returns them, with a warning in :attr:`FetchResult.warnings`.
    """

    kind = "rss"

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise InvalidParameter("url", _OWNER, "an http(s) URL", url)
        check_number(retries, "retries", _OWNER, kind=int, low=0)
        check_number(backoff, "backoff", _OWNER, low=0.0)
        check_number(timeout, "timeout", _OWNER, low=0.0, low_closed=False)
        check_number(max_wait, "max_wait", _OWNER, low=0.0)
        self.url = url
        self.name = url
        self.retries = retries
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        self.max_wait = float(max_wait)
        self._sleep = sleep
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": _USER_AGENT}
        )

    def close(self) -> None:
        """Close the HTTP client if this source made it."""
        if self._own_client:
            self._client.close()

    def __enter__(self) -> FeedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FeedSource({self.url!r})"

    # ------------------------------------------------------------------------ fetch
    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The entries not returned before (oldest first, at most ``limit``) and the cursor.

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries; ``unauthorized``
            (401, 403), ``http_404`` and other 4xx at once; ``malformed`` for a feed with
            no readable entry.
        """
        check_number(limit, "limit", "FeedSource.fetch", kind=int, low=1)
        state = _load_cursor(cursor, self.url)
        response = self._get(state)
        if response.status_code == 304:
            return FetchResult([], cursor)
        parsed = parse_feed(response.content, self.url, response.headers)
        posts, warnings = parsed
        seen: list[str] = state.get("seen", [])
        seen_set = set(seen)
        new = [p for p in posts if p.external_id not in seen_set]
        # oldest first; entries without a time keep their (reversed) document order
        new.reverse()
        new.sort(key=lambda p: p.time if p.time is not None else float("-inf"))
        truncated = len(new) > limit
        new = new[:limit]
        seen = (seen + [p.external_id for p in new])[-_SEEN_CAP:]
        next_state: dict[str, Any] = {"seen": seen}
        if not truncated:  # otherwise the next fetch must download the feed again
            if etag := response.headers.get("etag"):
                next_state["etag"] = etag
            if modified := response.headers.get("last-modified"):
                next_state["modified"] = modified
        return FetchResult(new, json.dumps(next_state, ensure_ascii=False), tuple(warnings))

    def _get(self, state: dict[str, Any]) -> httpx.Response:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            headers["If-Modified-Since"] = str(state["modified"])
        last: SourceFailed | None = None
        for attempt in range(self.retries + 1):
            if attempt and last is not None:
                self._sleep(retry_delay(attempt - 1, self.backoff, last.retry_after, self.max_wait))
            try:
                response = self._client.get(self.url, headers=headers, timeout=self.timeout)
            except httpx.HTTPError as exc:
                last = SourceFailed(self.url, "network", detail=f"{type(exc).__name__}: {exc}")
                continue
            status = response.status_code
            if status < 400 or status == 304:
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
            if status in (401, 403):
                raise SourceFailed(self.url, "unauthorized", detail=f"HTTP {status}")
            reason = "rate_limited" if status == 429 else f"http_{status}"
            failure = SourceFailed(
                self.url, reason, retry_after=retry_after, detail=f"HTTP {status}"
            )
            if status not in _RETRY_STATUS:
                raise failure
            last = failure
        assert last is not None
        raise last


def _load_cursor(cursor: str | None, url: str) -> dict[str, Any]:
    if cursor is None:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("seen", []), list):
        owner = f"FeedSource({url!r}).fetch"
        raise InvalidParameter("cursor", owner, "a cursor it returned", cursor)
    return state


# ---------------------------------------------------------------------------- parsing
def parse_feed(
    content: bytes | str, url: str, headers: Any = None
) -> tuple[list[ListenedPost], list[str]]:
    """The entries of a feed document as posts (document order), and warnings.

    Parameters
    ----------
    content : bytes or str
        The feed document.
    url : str
        Where it came from (the posts' ``source``, the default author's host, relative links).
    headers : mapping, optional
        The HTTP response headers (their ``Content-Type`` charset is used).

    Raises
    ------
    grapevine.errors.SourceFailed
        ``malformed`` when feedparser finds no entry and the document is not well formed.

    Examples
    --------
    >>> xml = b'''<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    ... <item><guid>tag:blog.example,2026:1</guid><title>Hello &amp; welcome</title>
    ... <pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>'''
    >>> posts, warnings = parse_feed(xml, "https://blog.example/feed")
    >>> posts[0].external_id, posts[0].text, posts[0].author, posts[0].time
    ('tag:blog.example,2026:1', 'Hello & welcome', 'blog.example', 1793613600.0)
    """
    response_headers = {"content-location": url, "content-type": "application/xml"}
    if headers is not None and headers.get("content-type"):
        response_headers["content-type"] = headers.get("content-type")
    data = content.encode("utf-8") if isinstance(content, str) else content
    parsed = feedparser.parse(data, response_headers=response_headers)
    warnings: list[str] = []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        detail = f"{type(exc).__name__}: {exc}" if exc is not None else "not well formed"
        if not parsed.entries:
            raise SourceFailed(url, "malformed", detail=detail)
        warnings.append(f"{url}: {detail}; {len(parsed.entries)} entries read anyway")
    feed = parsed.get("feed", {})
    host = urlsplit(url).hostname or url
    feed_author = _author(feed)
    feed_language = _language(feed.get("language"))
    posts = [
        _entry_post(entry, url=url, host=host, feed_author=feed_author, language=feed_language)
        for entry in parsed.entries
    ]
    return posts, warnings


def _entry_post(
    entry: Any, *, url: str, host: str, feed_author: str | None, language: str | None
) -> ListenedPost:
    title = html_to_text(entry.get("title"))
    contents = entry.get("content") or []
    body_html = contents[0].get("value") if contents else entry.get("summary")
    body = html_to_text(body_html)
    if not body or body == title:
        text = title
    elif not title or body.startswith(title):
        text = body
    else:
        text = f"{title} {body}"
    when = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        st = entry.get(key)
        if st:
            when = float(calendar.timegm(st))
            break
    link = entry.get("link") or None
    external_id = entry.get("id") or link
    if not external_id:
        date = entry.get("published") or entry.get("updated") or ""
        external_id = "sha1:" + hashlib.sha1(f"{title}\x1f{date}".encode()).hexdigest()
    entry_language = None
    if contents:
        entry_language = _language(contents[0].get("language"))
    if entry_language is None:
        detail = entry.get("summary_detail") or entry.get("title_detail") or {}
        entry_language = _language(detail.get("language"))
    author = _author(entry) or feed_author
    return ListenedPost(
        platform="rss",
        external_id=str(external_id),
        author=author or host,
        time=when,
        text=text,
        url=link,
        language=entry_language or language,
        author_name=author,
        source=url,
    )


def _author(node: Any) -> str | None:
    name = node.get("author")
    if not name:
        detail = node.get("author_detail") or {}
        name = detail.get("name") or detail.get("email")
    name = " ".join(str(name).split()) if name else ""
    return name or None


def _language(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return value.strip().replace("_", "-").lower() or None
