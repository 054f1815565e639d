"""The demo's listening step: real labelled posts, with simulated authors and times.

The texts (and the languages and sentiment labels their annotators gave them) are real;
who posted them and when is not: the sets carry neither. The simulation spreads the
posts over the ``days`` before ``now`` with a day-and-night rhythm, gives them authors
from a pool where a few people post a lot (Zipf), makes some posts replies to earlier
ones (threads for the inbox), and puts most negative posts about tech brands in three
hours two days before ``now``: a negative-buzz episode for the alerts to find. Every post
is on the platform :data:`PLATFORM` and its URL says it is simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grapevine.connectors import ListenedPost
from grapevine.demo._data import LabelledPost, labelled_posts
from grapevine.listening import Listener, WatchRule
from grapevine.store import Store
from grapevine.store import listening_repo as repo

__all__ = ["BURST_RULE", "PLATFORM", "RULES", "ListeningDemo", "listening_demo", "simulate_posts"]

PLATFORM = "demo-listening"
"""The platform of the simulated-time posts (their texts are real)."""

RULES: dict[str, str] = {
    "Tech brands": "apple OR iphone OR ipad OR amazon OR kindle OR google OR android OR samsung "
    "OR microsoft OR xbox OR ps4 OR playstation OR netflix OR nintendo",
    "Live music": "concert OR tickets OR album OR tour OR konzert",
    "Sports": "game OR season OR match OR fans OR spiel OR fussball",
    "Travel": "flight OR airport OR airline OR train OR bahn OR zug OR hotel",
}
"""The brand watch rules of the demo (boolean queries, see docs/listening.md)."""

BURST_RULE = "Tech brands"
"""The rule whose negative posts are bunched into the simulated episode."""

_DAY = 86_400.0
_AUTHORS = 600


@dataclass(frozen=True)
class ListeningDemo:
    """What the listening step stored: posts, the ones matched by a rule, new inbox items,
    and the simulated episode's window (Unix seconds)."""

    posts: int
    matched: int
    inbox: int
    rules: int
    burst_start: float
    burst_end: float


def _diurnal_times(rng: np.random.Generator, n: int, start: float, end: float) -> np.ndarray:
    # More posts in the day than at night: accept a uniform time with a probability that
    # follows the hour of the day (UTC), lowest at 04:00 and highest at 16:00.
    out = np.empty(0)
    while out.size < n:
        t = rng.uniform(start, end, size=2 * n)
        hour = (t % _DAY) / 3600.0
        keep = rng.uniform(size=t.size) < 0.55 + 0.45 * np.cos((hour - 16.0) / 24.0 * 2 * np.pi)
        out = np.concatenate([out, t[keep]])
    return np.sort(out[:n])


def simulate_posts(
    texts: Sequence[LabelledPost], *, now: float, days: int = 21, random_state: int = 0
) -> tuple[list[ListenedPost], float, float]:
    """The posts with simulated authors, times and threads, and the episode's window.

    Deterministic for a given ``now`` and ``random_state``.
    """
    rng = np.random.default_rng(random_state)
    start = now - days * _DAY
    burst_start = now - 2 * _DAY - 6 * 3600.0
    burst_end = burst_start + 3 * 3600.0
    burst_rule = WatchRule.parse(RULES[BURST_RULE], name=BURST_RULE)
    in_burst = np.array(
        [p.label == "negative" and burst_rule.matches(p.text) for p in texts], dtype=bool
    )
    in_burst &= rng.uniform(size=len(texts)) < 0.8
    times = _diurnal_times(rng, len(texts), start, now - 600.0)
    rng.shuffle(times)
    times[in_burst] = rng.uniform(burst_start, burst_end, size=int(in_burst.sum()))
    weights = 1.0 / np.arange(1, _AUTHORS + 1) ** 1.1
    authors = rng.choice(_AUTHORS, size=len(texts), p=weights / weights.sum())
    followers = np.round(rng.lognormal(5.0, 1.8, size=_AUTHORS)).astype(int)
    order = np.argsort(times, kind="stable")
    posts: list[ListenedPost] = []
    earlier: list[str] = []
    for i in order:
        p = texts[i]
        ext = f"{p.dataset}:{p.line}"
        parent = None
        if earlier and rng.uniform() < 0.12:  # a reply to one of the last posts
            parent = earlier[-int(rng.integers(1, min(len(earlier), 30) + 1))]
        posts.append(
            ListenedPost(
                platform=PLATFORM,
                external_id=ext,
                author=f"listener{int(authors[i]):03d}",
                author_followers=int(followers[authors[i]]),
                time=float(times[i]),
                text=p.text,
                url=f"https://demo.invalid/simulated/{ext}",
                parent_external_id=parent,
                likes=int(rng.poisson(3)),
                reshares=int(rng.poisson(1)),
                replies=0,
                source="simulated (real text, simulated author and time)",
            )
        )
        earlier.append(ext)
    return posts, burst_start, burst_end


def listening_demo(
    store: Store, *, now: float, random_state: int = 0, batch_size: int = 1_000
) -> ListeningDemo:
    """Add the demo's watch rules and run the simulated posts through the real pipeline
    (language, rules, sentiment, inbox) into ``store``."""
    with repo.transaction(store.engine) as conn:
        for name, query in RULES.items():
            repo.add_rule(conn, name=name, query=query, now=now)
    posts, b0, b1 = simulate_posts(labelled_posts(), now=now, random_state=random_state)
    stored = matched = inbox = 0
    with Listener(store, clock=lambda: now) as listener:
        rules = listener.active_rules()
        for i in range(0, len(posts), batch_size):
            report = listener.ingest(posts[i : i + batch_size], rules=rules)
            stored += report.stored
            matched += report.matched
            inbox += report.inbox_new
    return ListeningDemo(stored, matched, inbox, len(RULES), b0, b1)
