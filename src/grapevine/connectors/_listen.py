"""The listening interface: what a source (a feed, a Mastodon timeline) yields, and how.

A :class:`Source` is fetched again and again with the cursor its last fetch returned; each
:class:`FetchResult` holds the posts that are new since that cursor. A fetch that fails after
its retries raises :class:`~grapevine.errors.SourceFailed` and the cursor passed in stays
valid, so the caller records the failure and tries again later with the same cursor: nothing
is lost, and the natural key ``(platform, external_id)`` of :class:`ListenedPost` keeps a
post fetched twice from being stored twice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Protocol, runtime_checkable

__all__ = [
    "FetchResult",
    "ListenedPost",
    "Source",
    "html_to_text",
    "parse_retry_after",
    "retry_delay",
]


@dataclass(frozen=True, slots=True)
class ListenedPost:
    """One post heard by a listening source.

    Attributes
    ----------
    platform : str
        ``"rss"`` (any feed), ``"mastodon"``, ``"hackernews"``, ``"bluesky"``, ``"reddit"``
        or ``"twitter"``.
    external_id : str
        Stable across fetches. Feed: the entry id, else its link, else the sha1 of title and
        date; Mastodon: the status URI (else ``"host:id"``); Twitter: the tweet id.
    author : str
        The handle (Mastodon: the acct with its instance, ``"alice@mastodon.social"``; feed:
        the author's name, else the feed's host).
    time : float or None
        Unix seconds, UTC.
    text : str
        Plain text: HTML stripped, entities unescaped, whitespace collapsed; may be ``""``.
    url : str or None
        Where a person can read it.
    parent_external_id : str or None
        The post this one answers or reshares, in the same id scheme.
    language : str or None
        The language as the source states it, if it does.
    author_name, author_followers, likes, reshares, replies
        What the source says about the author and the post, when it does.
    source : str
        The source that produced it (a feed URL, ``"mastodon:host:timeline"``).
    """

    platform: str
    external_id: str
    author: str
    time: float | None
    text: str
    url: str | None = None
    parent_external_id: str | None = None
    language: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    likes: int | None = None
    reshares: int | None = None
    replies: int | None = None
    source: str = ""


@dataclass(frozen=True)
class FetchResult:
    """The posts one fetch found, and the cursor of the next fetch.

    Attributes
    ----------
    posts : list of ListenedPost
        New since the cursor passed in, oldest first.
    cursor : str or None
        Opaque; pass it to the next :meth:`Source.fetch` (None: start over).
    warnings : tuple of str
        Things that went wrong without losing posts (a feed with a syntax error whose entries
        could still be read).
    """

    posts: list[ListenedPost]
    cursor: str | None
    warnings: tuple[str, ...] = ()


@runtime_checkable
class Source(Protocol):
    """A listening source: fetched repeatedly, each time from the cursor of the last fetch."""

    kind: str
    name: str

    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        """The posts new since ``cursor`` (at most ``limit``) and the next cursor.

        Raises
        ------
        grapevine.errors.SourceFailed
            After the retries are exhausted; ``cursor`` stays valid.
        """
        ...


# ---------------------------------------------------------------------------- HTML to text
_BLOCK_TAGS = frozenset(
    "p br div li ul ol h1 h2 h3 h4 h5 h6 blockquote pre tr td th hr section article".split()
)
_SKIP_TAGS = frozenset(("script", "style", "template", "head", "title"))
_SPACE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Plain text of an HTML fragment: tags dropped, entities unescaped, whitespace collapsed.

    Block elements (``<p>``, ``<br>``...) become spaces; ``<script>`` and ``<style>`` are
    dropped with their content. The result is in Unicode NFC. Text that is not HTML comes
    back with its whitespace collapsed.

    >>> html_to_text('<p>Caf&eacute; <a href="#">#coffee</a></p><p>2nd&nbsp;line</p>')
    'Café #coffee 2nd line'
    >>> html_to_text("I <3 this & that")
    'I <3 this & that'
    >>> html_to_text(None)
    ''
    """
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        text = markup
    else:
        parser = _TextExtractor()
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    text = text.replace("\u00a0", " ")
    return unicodedata.normalize("NFC", _SPACE.sub(" ", text).strip())


# ---------------------------------------------------------------------------- retries
def retry_delay(attempt: int, backoff: float, retry_after: float | None, max_wait: float) -> float:
    """Seconds to sleep before retry number ``attempt`` (0-based).

    Exponential backoff (``backoff * 2**attempt``), or what the server asked for
    (``Retry-After``, ``X-RateLimit-Reset``) when that is longer; never above ``max_wait``.

    >>> retry_delay(0, 0.5, None, 60.0), retry_delay(3, 0.5, None, 60.0)
    (0.5, 4.0)
    >>> retry_delay(0, 0.5, 30.0, 60.0), retry_delay(0, 0.5, 300.0, 60.0)
    (30.0, 60.0)
    """
    delay = backoff * 2.0**attempt
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    return max(0.0, min(delay, max_wait))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or an HTTP date); None if absent.

    >>> parse_retry_after("120", 0.0)
    120.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 30.0)
    30.0
    >>> parse_retry_after("soon", 0.0) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
