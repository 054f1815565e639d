"""The listening figures of a period: volume, reach, sentiment, rules, languages, authors,
terms, the stories that travel, and the posts behind each figure.

:func:`summarize_mentions` computes them from matched-post rows (pure, no store);
:func:`listening_summary` reads the rows of a period from the store first.

Definitions
    A *mention* is a stored post matched by at least one watch rule; a post matched by two
    rules counts once in the totals and once in each rule's series. *Reach* is the sum of
    the followers of the mentions' authors (an author counted once per post, unknown
    followers as 0): the audience the posts could have been shown to, not views. The
    *sentiment share* is each label's part of the period's mentions (labels ``negative``,
    ``neutral``, ``positive`` and ``unscored``, a language the model does not cover). *Top
    terms* count the posts a word appears in (case- and accent-folded, stop words and URL
    debris dropped, as :func:`grapevine.listening.what_grew` does). A *story* is a mention
    ranked by how far it travelled: its spread (the larger of its own reshares + replies
    counters and the replies and reshares of it found in the store), then its likes.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grapevine._validation import check_number
from grapevine.errors import NotFound
from grapevine.listening._explain import _post_terms

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.store import Store

__all__ = [
    "SENTIMENT_LABELS",
    "AuthorVolume",
    "ListeningSummary",
    "Story",
    "TermCount",
    "Thread",
    "listening_summary",
    "mention_bounds",
    "mention_posts",
    "post_thread",
    "summarize_mentions",
    "time_bins",
    "top_stories",
]

SENTIMENT_LABELS = ("negative", "neutral", "positive", "unscored")


@dataclass(frozen=True)
class AuthorVolume:
    """An author's mentions in the period: posts, negative posts, followers."""

    author: str
    posts: int
    negative: int
    followers: int | None


@dataclass(frozen=True)
class TermCount:
    """A word and the number of the period's mentions that contain it."""

    term: str
    posts: int


@dataclass(frozen=True)
class ListeningSummary:
    """The listening figures of ``[since, until)`` in bins of ``bin_seconds``.

    Series (``mentions``, ``reach``, each of ``sentiment`` and ``by_rule``) have one value
    per bin of ``bins`` (bin starts, Unix seconds).
    """

    since: float
    until: float
    bin_seconds: float
    bins: tuple[float, ...]
    mentions: tuple[int, ...]
    reach: tuple[int, ...]
    sentiment: dict[str, tuple[int, ...]]
    by_rule: dict[str, tuple[int, ...]]
    total: int
    reach_total: int
    sentiment_totals: dict[str, int]
    rule_totals: dict[str, int]
    language_totals: dict[str, int]
    top_authors: tuple[AuthorVolume, ...]
    top_terms: tuple[TermCount, ...]

    def sentiment_share(self) -> dict[str, float]:
        """Each label's share of the mentions (0.0 for all when there are none)."""
        total = self.total
        return {k: (v / total if total else 0.0) for k, v in self.sentiment_totals.items()}


@dataclass(frozen=True)
class Story:
    """A mention that travelled: the post, its rules and how far it spread."""

    post_id: int
    platform: str
    external_id: str
    author: str
    followers: int | None
    time: float
    text: str
    url: str | None
    label: str
    rules: tuple[str, ...]
    spread: int
    likes: int


@dataclass(frozen=True)
class Thread:
    """A post with the posts it answers (``ancestors``, root first) and the replies and
    reshares of it in the store (``replies``, each with its ``depth`` below the post)."""

    post: dict[str, Any]
    ancestors: tuple[dict[str, Any], ...]
    replies: tuple[dict[str, Any], ...]


def time_bins(since: float, until: float, width: float) -> list[float]:
    """Bin starts covering ``[since, until)``, aligned on multiples of ``width`` (UTC).

    >>> time_bins(90_000.0, 200_000.0, 86_400.0)
    [86400.0, 172800.0]
    """
    check_number(width, "width", "time_bins", low=0, low_closed=False)
    if until <= since:
        return []
    lo = math.floor(since / width) * width
    n = max(1, math.ceil((until - lo) / width))
    return [lo + k * width for k in range(n)]


def _label(row: Mapping[str, Any]) -> str:
    label = row.get("label")
    return label if label in SENTIMENT_LABELS else "unscored"


def summarize_mentions(
    rows: Iterable[Mapping[str, Any]],
    *,
    since: float,
    until: float,
    bin_seconds: float = 86_400.0,
    top: int = 10,
) -> ListeningSummary:
    """The figures of matched-post rows (one per post and rule, as
    ``grapevine.store.activity_repo.matched_posts`` returns them: ``rule``, ``post_id``,
    ``time``, ``author``, ``author_followers``, ``text``, ``language``, ``label``).
    Rows outside ``[since, until)`` are ignored.

    Examples
    --------
    >>> rows = [
    ...     {"rule": "brand", "post_id": 1, "time": 10.0, "author": "ann",
    ...      "author_followers": 100, "text": "Brewly broke", "language": "en",
    ...      "label": "negative"},
    ...     {"rule": "outage", "post_id": 1, "time": 10.0, "author": "ann",
    ...      "author_followers": 100, "text": "Brewly broke", "language": "en",
    ...      "label": "negative"},
    ...     {"rule": "brand", "post_id": 2, "time": 90_000.0, "author": "bob",
    ...      "author_followers": None, "text": "Brewly rocks", "language": "en",
    ...      "label": "positive"},
    ... ]
    >>> s = summarize_mentions(rows, since=0.0, until=172_800.0)
    >>> s.total, s.mentions, s.rule_totals, s.reach_total
    (2, (1, 1), {'brand': 2, 'outage': 1}, 100)
    >>> s.sentiment_share()["negative"]
    0.5
    """
    check_number(top, "top", "summarize_mentions", kind=numbers.Integral, low=0)
    bins = time_bins(since, until, bin_seconds)
    n = len(bins)
    lo = bins[0] if bins else since
    mentions = [0] * n
    reach = [0] * n
    sentiment = {label: [0] * n for label in SENTIMENT_LABELS}
    by_rule: dict[str, list[int]] = {}
    languages: Counter[str] = Counter()
    authors: dict[str, list[int]] = {}
    followers: dict[str, int | None] = {}
    terms: Counter[str] = Counter()
    seen: set[int] = set()
    pairs: set[tuple[int, str]] = set()
    for row in rows:
        t = row.get("time")
        if t is None or not since <= t < until:
            continue
        k = min(n - 1, int((t - lo) // bin_seconds))
        rule = str(row.get("rule") or "")
        post = int(row["post_id"])
        if (post, rule) in pairs:  # a row repeated: the store has one per post and rule
            continue
        pairs.add((post, rule))
        by_rule.setdefault(rule, [0] * n)[k] += 1
        if post in seen:
            continue
        seen.add(post)
        label = _label(row)
        mentions[k] += 1
        sentiment[label][k] += 1
        count = row.get("author_followers")
        reach[k] += int(count or 0)
        languages[row.get("language") or "unknown"] += 1
        author = str(row.get("author") or "")
        tally = authors.setdefault(author, [0, 0])
        tally[0] += 1
        tally[1] += label == "negative"
        followers[author] = None if count is None else int(count)
        terms.update(_post_terms(row.get("text")))
    ranked = sorted(authors.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:top]
    return ListeningSummary(
        since=since,
        until=until,
        bin_seconds=bin_seconds,
        bins=tuple(bins),
        mentions=tuple(mentions),
        reach=tuple(reach),
        sentiment={k: tuple(v) for k, v in sentiment.items()},
        by_rule={k: tuple(v) for k, v in sorted(by_rule.items())},
        total=len(seen),
        reach_total=sum(reach),
        sentiment_totals={k: sum(v) for k, v in sentiment.items()},
        rule_totals={k: sum(v) for k, v in sorted(by_rule.items(), key=lambda kv: -sum(kv[1]))},
        language_totals=dict(languages.most_common()),
        top_authors=tuple(
            AuthorVolume(a, posts, neg, followers.get(a)) for a, (posts, neg) in ranked
        ),
        top_terms=tuple(
            TermCount(term, count)
            for term, count in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        ),
    )


def listening_summary(
    store: Store,
    *,
    since: float,
    until: float,
    bin_seconds: float = 86_400.0,
    rule: str | None = None,
    top: int = 10,
) -> ListeningSummary:
    """:func:`summarize_mentions` of the store's mentions of ``[since, until)`` (of one
    rule, by name, when given)."""
    from grapevine.store import activity_repo

    with store.engine.connect() as conn:
        rows = activity_repo.matched_posts(conn, since=since, until=until, rule=rule)
    return summarize_mentions(rows, since=since, until=until, bin_seconds=bin_seconds, top=top)


def mention_bounds(store: Store) -> tuple[float | None, float | None]:
    """The time of the store's oldest and newest mention (None, None when it has none)."""
    from grapevine.store import activity_repo

    with store.engine.connect() as conn:
        return activity_repo.mention_bounds(conn)


def mention_posts(
    store: Store,
    *,
    since: float,
    until: float,
    rule: str | None = None,
    label: str | None = None,
    language: str | None = None,
    author: str | None = None,
    term: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The mentions behind a figure, newest first: each post once, with ``rules`` (the
    names of the rules it matched, in the period). Filters: ``rule``, sentiment ``label``,
    ``language`` (``"unknown"`` for none), ``author``, ``term`` (a word as
    :attr:`ListeningSummary.top_terms` counts it)."""
    from grapevine.store import activity_repo

    check_number(limit, "limit", "mention_posts", kind=numbers.Integral, low=1)
    with store.engine.connect() as conn:
        rows = activity_repo.matched_posts(conn, since=since, until=until, rule=rule)
    posts: dict[int, dict[str, Any]] = {}
    for row in rows:
        post = posts.get(row["post_id"])
        if post is None:
            post = posts[row["post_id"]] = {**row, "label": _label(row), "rules": []}
            del post["rule"]
        post["rules"].append(row["rule"])
    out = []
    for post in posts.values():
        if label is not None and post["label"] != label:
            continue
        if language is not None and (post["language"] or "unknown") != language:
            continue
        if author is not None and post["author"] != author:
            continue
        if term is not None and term not in _post_terms(post["text"]):
            continue
        out.append(post)
    out.sort(key=lambda p: (-(p["time"] or 0.0), -p["post_id"]))
    return out[:limit]


def top_stories(
    store: Store, *, since: float, until: float, rule: str | None = None, top: int = 10
) -> list[Story]:
    """The mentions of ``[since, until)`` that travelled furthest (see the module's
    definitions), at most ``top``."""
    from grapevine.store import activity_repo

    check_number(top, "top", "top_stories", kind=numbers.Integral, low=0)
    if top == 0:
        return []
    with store.engine.connect() as conn:
        ranked = activity_repo.story_ranking(conn, since=since, until=until, rule=rule, top=top)
        ids = [pid for pid, _ in ranked]
        rows = [
            row
            for start in range(0, len(ids), 500)
            for row in activity_repo.matched_posts(
                conn, since=since, until=until, rule=rule, post_ids=ids[start : start + 500]
            )
        ]
    posts: dict[int, dict[str, Any]] = {}
    for row in rows:
        posts.setdefault(row["post_id"], {**row, "rules": []})["rules"].append(row["rule"])
    stories = []
    for pid, spread in ranked:
        p = posts[pid]
        stories.append(
            Story(
                post_id=pid,
                platform=p["platform"],
                external_id=p["external_id"],
                author=p["author"],
                followers=p["author_followers"],
                time=float(p["time"]),
                text=p["text"] or "",
                url=p["url"],
                label=_label(p),
                rules=tuple(p["rules"]),
                spread=spread,
                likes=int(p["likes"] or 0),
            )
        )
    stories.sort(key=lambda s: (-s.spread, -s.likes, -s.time, s.post_id))
    return stories[:top]


def post_thread(store: Store, *, post_id: int, max_depth: int = 3, limit: int = 200) -> Thread:
    """The post ``post_id`` in its conversation: the posts it answers, up to the root (at
    most 50), and its replies and reshares down to ``max_depth`` levels (at most ``limit``).

    Raises
    ------
    NotFound
        No stored post with that id.
    """
    from grapevine.store import activity_repo

    check_number(max_depth, "max_depth", "post_thread", kind=numbers.Integral, low=0)
    with store.engine.connect() as conn:
        found = activity_repo.post_rows(conn, post_ids=[post_id])
        if not found:
            raise NotFound("post", post_id)
        post = found[0]
        platform = post["platform"]
        ancestors: list[dict[str, Any]] = []
        seen = {post["external_id"]}
        parent = post["parent_external_id"]
        while parent and parent not in seen and len(ancestors) < 50:
            seen.add(parent)
            rows = activity_repo.posts_by_keys(conn, platform=platform, external_ids=[parent])
            if not rows:
                break
            ancestors.append(rows[0])
            parent = rows[0]["parent_external_id"]
        replies: list[dict[str, Any]] = []
        level: Sequence[str] = [post["external_id"]]
        for depth in range(1, max_depth + 1):
            if not level or len(replies) >= limit:
                break
            children = activity_repo.post_children(
                conn, platform=platform, external_ids=level, limit=limit - len(replies)
            )
            children = [c for c in children if c["external_id"] not in seen]
            seen.update(c["external_id"] for c in children)
            replies.extend({**c, "depth": depth} for c in children)
            level = [c["external_id"] for c in children]
    ancestors.reverse()
    return Thread(post=post, ancestors=tuple(ancestors), replies=tuple(replies))
