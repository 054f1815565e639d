"""What grew: the terms, authors and cascades behind a rise in mentions.

:func:`what_grew` compares the posts of an alert's window with a baseline (the posts of the
weeks before) and says what is new in the window:

terms
    The words most over-represented in the window, by the log-odds ratio with an informative
    Dirichlet prior of Monroe, Colaresi and Quinn (2008), "Fightin' Words": for a word
    ``w`` with counts ``y_w`` (window) and ``b_w`` (baseline), totals ``n`` and ``m``, and
    prior ``a_w = a0 * p_w`` (``p_w`` its share of the two corpora together, ``a0`` the
    prior's strength),

    ``delta_w = log((y_w + a_w) / (n + a0 - y_w - a_w)) - log((b_w + a_w) / (m + a0 - b_w - a_w))``

    and ``z_w = delta_w / sqrt(1 / (y_w + a_w) + 1 / (b_w + a_w))``. The prior shrinks rare
    words towards no difference, so a word seen twice does not outrank one seen fifty times.
    A word counts once per post (one post repeating a word fifty times is one post), short
    stop words of the common languages and URL debris are dropped.
authors
    The authors whose post count grew most over what their share of the baseline predicts.
cascades
    The largest reply / reshare trees (by parent links) among the window's posts.

References
----------
Monroe, B. L., Colaresi, M. P. and Quinn, K. M. "Fightin' Words: Lexical Feature Selection
and Evaluation for Identifying the Content of Political Conflict." Political Analysis 16(4),
372-403, 2008. https://doi.org/10.1093/pan/mpn018
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grapevine._validation import check_number
from grapevine.listening._rules import normalize_text

__all__ = ["AuthorGrowth", "CascadeGrowth", "TermGrowth", "WhatGrew", "what_grew"]

_OWNER = "what_grew"
_WORD = re.compile(r"\w+")

# Small on purpose: the prior already discounts words common in both corpora.
_STOPWORDS = frozenset(
    # en
    "a an and are as at be but by can do for from has have he her his how i if in is it its "
    "just me my no not of on or our she so than that the their them then there they this to "
    "too up us was we were what when which who why will with you your ll re ve s t don im "
    # nl
    "aan als ben bij dat de deze die dit een en er had heb het hij hoe ik in is je kan maar "
    "me met mij mijn na niet nog nu of om ook op te tot u uit van voor was wat we wel zijn zo "
    # de
    "aber auch auf aus bei bin das dass dem den der des die ein eine einen er es für hat ich "
    "ist mit nicht noch nur oder sich sie sind und von war was wie wir zu zum zur "
    # fr
    "au aux avec ce ces dans des du elle en est et il je la le les leur mais me mes ne nous "
    "on ou par pas pour qu que qui sa se ses son sur ta te tu un une vous c j l d n qu "
    # es / pt / it
    "al como con de del el ella en es esta este la las lo los mas mi muy no para pero por que "
    "se su sus un una uma um os as do da dos das em ao e o é il di che non per sono lo gli "
    # URL debris
    "http https www com org net html amp rt via".split()
)


@dataclass(frozen=True)
class TermGrowth:
    """A word over-represented in the window.

    Attributes
    ----------
    term : str
        The word (case- and accent-folded).
    z : float
        The z-score of its log-odds ratio (window against baseline).
    window_count, baseline_count : int
        Posts containing it in each.
    """

    term: str
    z: float
    window_count: int
    baseline_count: int


@dataclass(frozen=True)
class AuthorGrowth:
    """An author who posted more than their baseline share predicts.

    Attributes
    ----------
    author : str
    window_count, baseline_count : int
    expected : float
        ``baseline_count`` scaled to the window's size.
    growth : float
        ``window_count - expected``.
    """

    author: str
    window_count: int
    baseline_count: int
    expected: float
    growth: float


@dataclass(frozen=True)
class CascadeGrowth:
    """A reply / reshare tree with posts in the window.

    Attributes
    ----------
    root : str
        The ``external_id`` of its root (a post of the window or the baseline, or a parent
        that was never seen).
    root_author : str or None
        The root's author, when the root was seen.
    root_text : str or None
        The root's text (its first 200 characters).
    size : int
        Posts of the window in the tree.
    authors : int
        Distinct authors of those posts.
    depth : int
        The longest chain of replies / reshares below the root.
    """

    root: str
    root_author: str | None
    root_text: str | None
    size: int
    authors: int
    depth: int


@dataclass(frozen=True)
class WhatGrew:
    """The explanation of an alert: what grew in the window against the baseline."""

    terms: list[TermGrowth]
    authors: list[AuthorGrowth]
    cascades: list[CascadeGrowth]
    window_posts: int
    baseline_posts: int

    def summary(self) -> str:
        """One or two sentences a person can read.

        >>> WhatGrew([TermGrowth("leak", 5.2, 30, 2)], [], [], 40, 400).summary()
        'Top terms: leak (30 posts, was 2).'
        """
        parts = []
        if self.terms:
            parts.append(
                "Top terms: "
                + ", ".join(
                    f"{t.term} ({t.window_count} posts, was {t.baseline_count})" for t in self.terms
                )
                + "."
            )
        if self.authors:
            parts.append(
                "Top authors: "
                + ", ".join(f"{a.author} ({a.window_count})" for a in self.authors)
                + "."
            )
        if self.cascades:
            c = self.cascades[0]
            who = f" by {c.root_author}" if c.root_author else ""
            parts.append(f"Largest cascade: {c.size} posts{who} ({c.authors} authors).")
        return " ".join(parts) if parts else "Nothing stands out."


def _field(post: Any, name: str) -> Any:
    value = post.get(name) if isinstance(post, Mapping) else getattr(post, name, None)
    if isinstance(value, float) and math.isnan(value):  # a missing value of a DataFrame
        return None
    return value


def _records(posts: Any) -> list[Any]:
    if hasattr(posts, "to_dict") and hasattr(posts, "columns"):  # a pandas DataFrame
        return list(posts.to_dict("records"))
    return list(posts)


def _post_terms(text: Any) -> frozenset[str]:
    if not isinstance(text, str) or not text:
        return frozenset()
    return _text_terms(text)


@functools.lru_cache(maxsize=65_536)
def _text_terms(text: str) -> frozenset[str]:
    # a post's words do not change: every page and alert asks for the same ones again
    return frozenset(
        w
        for w in _WORD.findall(normalize_text(text))
        if len(w) > 1 and not w.isdigit() and w not in _STOPWORDS
    )


def _term_counts(posts: Iterable[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for post in posts:
        counts.update(_post_terms(_field(post, "text")))
    return counts


def _fightin_words(
    window: Counter[str], baseline: Counter[str], prior_strength: float
) -> list[tuple[str, float]]:
    vocab = sorted(set(window) | set(baseline))
    if not window or not baseline:
        return []  # without both sides nothing can be said to have grown
    y = np.array([window.get(w, 0) for w in vocab], dtype=np.float64)
    b = np.array([baseline.get(w, 0) for w in vocab], dtype=np.float64)
    n, m = y.sum(), b.sum()
    p = (y + b) / (n + m)
    a = prior_strength * p
    a0 = prior_strength
    with np.errstate(divide="ignore", invalid="ignore"):
        # a word that is every token of both corpora has infinite odds: z is nan, dropped
        delta = np.log((y + a) / (n + a0 - y - a)) - np.log((b + a) / (m + a0 - b - a))
        z = delta / np.sqrt(1.0 / (y + a) + 1.0 / (b + a))
    return [(w, float(v)) for w, v in zip(vocab, z, strict=True)]


def _cascades(window: list[Any], baseline: list[Any], top: int) -> list[CascadeGrowth]:
    def key(post: Any, ident: Any) -> tuple[str, str]:
        return (str(_field(post, "platform") or ""), str(ident))

    known: dict[tuple[str, str], Any] = {}
    for post in baseline + window:
        ident = _field(post, "external_id")
        if ident is not None:
            known[key(post, ident)] = post
    parent_of: dict[tuple[str, str], tuple[str, str]] = {}
    for k, post in known.items():
        parent = _field(post, "parent_external_id")
        if parent and str(parent) != k[1]:
            parent_of[k] = (k[0], str(parent))

    def root_and_depth(k: tuple[str, str]) -> tuple[tuple[str, str], int]:
        depth, seen = 0, {k}
        while k in parent_of:
            nxt = parent_of[k]
            if nxt in seen:  # a cycle in bad data: stop there
                break
            seen.add(nxt)
            k, depth = nxt, depth + 1
        return k, depth

    members: dict[tuple[str, str], list[tuple[Any, int]]] = {}
    for post in window:
        ident = _field(post, "external_id")
        if ident is None:
            continue
        root, depth = root_and_depth(key(post, ident))
        members.setdefault(root, []).append((post, depth))
    out = []
    for root, items in members.items():
        if len(items) < 2 and not (len(items) == 1 and items[0][1] > 0):
            continue  # a lone post is no cascade
        root_post = known.get(root)
        text = _field(root_post, "text") if root_post is not None else None
        out.append(
            CascadeGrowth(
                root=root[1],
                root_author=_field(root_post, "author") if root_post is not None else None,
                root_text=text[:200] if isinstance(text, str) else None,
                size=len(items),
                authors=len({_field(p, "author") for p, _ in items}),
                depth=max(d for _, d in items),
            )
        )
    out.sort(key=lambda c: (-c.size, -c.authors, -c.depth, c.root))
    return out[:top]


def what_grew(
    window_posts: Iterable[Any],
    baseline_posts: Iterable[Any],
    *,
    top: int = 5,
    prior_strength: float = 1000.0,
    min_count: int = 2,
) -> WhatGrew:
    """What grew in ``window_posts`` against ``baseline_posts``: terms, authors, cascades.

    Parameters
    ----------
    window_posts, baseline_posts : iterable or DataFrame
        Posts as objects or mappings with ``text``, ``author``, ``external_id``,
        ``parent_external_id`` and (optionally) ``platform``: a list of
        :class:`~grapevine.connectors.ListenedPost`, store rows, or a DataFrame with those
        columns.
    top : int
        How many of each to return.
    prior_strength : float
        ``a0``, the total pseudo-count of the Dirichlet prior (larger: more shrinkage of
        rare words).
    min_count : int
        A term must be in at least this many window posts.

    Returns
    -------
    WhatGrew
        ``terms`` (z > 0, largest first; none when either side has no words, since nothing
        can then be said to have grown), ``authors`` (growth > 0, largest first; against an
        empty baseline every author grew), ``cascades`` (largest first).

    Notes
    -----
    Linear in the number of posts and the vocabulary (one ``numpy`` pass over it).

    References
    ----------
    Monroe, Colaresi and Quinn, "Fightin' Words", Political Analysis 16(4), 2008.

    Examples
    --------
    >>> base = [{"text": "nice coffee", "author": "a"}] * 20
    >>> win = [{"text": "my brewly leaks", "author": "b"}] * 5 + [{"text": "nice coffee",
    ...        "author": "a"}]
    >>> [t.term for t in what_grew(win, base, top=2).terms]
    ['brewly', 'leaks']
    """
    check_number(top, "top", _OWNER, kind=int, low=1)
    check_number(prior_strength, "prior_strength", _OWNER, low=0.0, low_closed=False)
    check_number(min_count, "min_count", _OWNER, kind=int, low=1)
    window = _records(window_posts)
    baseline = _records(baseline_posts)

    wc, bc = _term_counts(window), _term_counts(baseline)
    scored = [
        (w, z)
        for w, z in _fightin_words(wc, bc, float(prior_strength))
        if z > 0 and wc.get(w, 0) >= min_count and math.isfinite(z)
    ]
    scored.sort(key=lambda wz: (-wz[1], wz[0]))
    terms = [TermGrowth(w, z, wc.get(w, 0), bc.get(w, 0)) for w, z in scored[:top]]

    wa = Counter(str(a) for a in (_field(p, "author") for p in window) if a is not None)
    ba = Counter(str(a) for a in (_field(p, "author") for p in baseline) if a is not None)
    scale = len(window) / len(baseline) if baseline else 0.0
    growths = []
    for author, count in wa.items():
        expected = ba.get(author, 0) * scale
        if count - expected > 0:
            growths.append(
                AuthorGrowth(author, count, ba.get(author, 0), expected, count - expected)
            )
    growths.sort(key=lambda g: (-g.growth, -g.window_count, g.author))

    return WhatGrew(
        terms=terms,
        authors=growths[:top],
        cascades=_cascades(window, baseline, top),
        window_posts=len(window),
        baseline_posts=len(baseline),
    )
