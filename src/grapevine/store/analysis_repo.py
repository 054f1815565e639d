"""The store's data as analysis inputs: cascade forests and people's roles, cached per version.

Pages and reports ask the same heavy questions again and again (the cascade trees of a
platform and their metrics; everyone's connector, maven and salesman scores and
communities). Both are derived from the store's rows, never stored as truth, so they are
computed on first use and kept in a small in-process cache keyed by the database, the
platform and the store's *data version*: the newest import run, post and tie. An import
(or any new post or tie) changes the version and the next question recomputes.

:func:`warm` computes them ahead (what ``grapevine demo`` and ``grapevine serve`` can call
so that the first page view is as fast as the next).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from grapevine.errors import BadInput
from grapevine.store._store import Store
from grapevine.store.models import ImportRun, Person, Post, Tie

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from grapevine.cascades import Forest
    from grapevine.graph import Graph

__all__ = [
    "CACHE_SIZE",
    "CascadeData",
    "PeopleData",
    "Source",
    "cached",
    "cascade_sources",
    "clear_cache",
    "data_version",
    "network_sources",
    "store_cascades",
    "store_people",
    "warm",
]

#: How many derived results (forests, role tables, figures) the cache keeps, least recently
#: used out.
CACHE_SIZE = 64

T = TypeVar("T")
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()
_building: dict[tuple[Any, ...], threading.Lock] = {}


def clear_cache() -> None:
    """Forget every cached result."""
    with _lock:
        _cache.clear()


def data_version(store: Store) -> tuple[int, int, int]:
    """The newest import run, post and tie ids: changes whenever the data does."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                select(func.max(ImportRun.id)).scalar_subquery(),
                select(func.max(Post.id)).scalar_subquery(),
                select(func.max(Tie.id)).scalar_subquery(),
            )
        ).one()
    return (int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def cached(store: Store, key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """``build()``'s value for ``key`` in this store at its current :func:`data_version`,
    computed once (concurrent callers wait for the first) and kept in the LRU cache."""
    full = (store.url, *key, data_version(store))
    with _lock:
        if full in _cache:
            _cache.move_to_end(full)
            return _cache[full]  # type: ignore[no-any-return]
        building = _building.setdefault(full, threading.Lock())
    with building:  # one thread builds, the others wait for its result
        with _lock:
            if full in _cache:
                return _cache[full]  # type: ignore[no-any-return]
        try:
            value = build()
        finally:
            with _lock:
                _building.pop(full, None)
        with _lock:
            _cache[full] = value
            _cache.move_to_end(full)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return value


@dataclass(frozen=True)
class Source:
    """A platform with data for a page: its name, how many rows and what kind; for a
    network, whether its people carry stored roles (``attributes["roles"]``)."""

    platform: str
    count: int
    kind: str
    roles_stored: bool = False


def cascade_sources(store: Store) -> list[Source]:
    """Platforms with cascades, largest first: posts with a cascade id or a parent
    (``kind`` ``"posts"``), else retweet ties (``"retweets"``). Cached per data version
    (the counts scan the posts and ties)."""
    return list(cached(store, ("cascade-sources",), lambda: _cascade_sources(store)))


def _cascade_sources(store: Store) -> list[Source]:
    with store.engine.connect() as conn:
        posts = conn.execute(
            select(Post.platform, func.count())
            .where((Post.cascade_id.is_not(None)) | (Post.parent_external_id.is_not(None)))
            .group_by(Post.platform)
        ).all()
        retweets = conn.execute(
            select(Person.platform, func.count())
            .join(Tie, Tie.source_id == Person.id)
            .where(Tie.kind == "retweeted")
            .group_by(Person.platform)
        ).all()
    out = {p: Source(p, int(c), "posts") for p, c in posts}
    for p, c in retweets:
        out.setdefault(p, Source(p, int(c), "retweets"))
    return sorted(out.values(), key=lambda s: (-s.count, s.platform))


def network_sources(store: Store) -> list[Source]:
    """Platforms with ties between people (``kind`` ``"ties"``): those whose people carry
    stored roles first, then by most ties. Cached per data version."""
    return list(cached(store, ("network-sources",), lambda: _network_sources(store)))


def _network_sources(store: Store) -> list[Source]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Person.platform, func.count())
            .join(Tie, Tie.source_id == Person.id)
            .group_by(Person.platform)
        ).all()
        found = []
        for platform, count in rows:
            sample = conn.execute(
                select(Person.attributes)
                .where(Person.platform == platform, Person.attributes.is_not(None))
                .limit(1)
            ).scalar()
            stored = isinstance(sample, dict) and isinstance(sample.get("roles"), dict)
            found.append(Source(platform, int(count), "ties", stored))
    return sorted(found, key=lambda s: (not s.roles_stored, -s.count, s.platform))


@dataclass(frozen=True)
class CascadeData:
    """A platform's cascade trees and the metrics of the largest.

    ``summary`` is :func:`grapevine.cascades.cascade_summary` of the 200 largest trees;
    ``source`` says where the trees come from (posts with parent links, or retweets).
    """

    platform: str
    forest: Forest
    summary: pd.DataFrame
    source: str


def store_cascades(store: Store, platform: str) -> CascadeData:
    """The cascades of ``platform``: from posts with parent links, else from retweet ties.

    Raises
    ------
    BadInput
        When the platform has neither.
    """

    def build() -> CascadeData:
        from grapevine.cascades import cascade_summary, forest_from_posts, forest_from_retweets

        posts = store.posts(platform=platform)
        posts = posts[posts["cascade_id"].notna() | posts["parent_external_id"].notna()]
        if not posts.empty:
            forest, source = forest_from_posts(posts), "posts with parent links"
        else:
            ties = store.ties(platform=platform, kinds=["retweeted"])
            if ties.empty:
                raise BadInput(
                    f"no cascades in the store for platform {platform!r}", field="platform"
                )
            forest, source = forest_from_retweets(ties), "retweets (star trees)"
        return CascadeData(platform, forest, cascade_summary(forest, top=200), source)

    return cached(store, ("cascades", platform), build)


@dataclass(frozen=True)
class PeopleData:
    """A platform's network with everyone's roles and community.

    ``roles`` is :func:`grapevine.roles.influencer_roles`'s table (one row per node of
    ``graph``, in node order; the tie-break measures are absent when the roles were
    stored); ``community`` the Leiden community of each node; ``origin`` says whether the
    roles were stored with the people (``attributes["roles"]``, as ``grapevine demo``
    writes them, salesmen included) or computed here from the ties and cascades.
    """

    platform: str
    graph: Graph
    roles: pd.DataFrame
    community: np.ndarray
    origin: str


def _stored_roles(store: Store, platform: str, graph: Graph) -> pd.DataFrame | None:
    """The roles kept in the people's ``attributes["roles"]``, in ``graph``'s node order,
    with a strict ``*_order`` (rank, then id); None unless every node has them."""
    import numpy as np
    import pandas as pd

    from grapevine.roles import ROLES

    keys = [f"{r}{s}" for r in ROLES for s in ("", "_rank", "_reason", "_data")]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Person.handle, Person.attributes).where(Person.platform == platform)
        ).all()
    kept = {}
    for handle, attributes in rows:
        roles = (attributes or {}).get("roles") if isinstance(attributes, dict) else None
        if isinstance(roles, dict) and all(k in roles for k in keys):
            kept[str(handle)] = roles
    ids = [str(x) for x in graph.ids.tolist()]
    if not ids or any(i not in kept for i in ids):
        return None
    frame = pd.DataFrame([{k: kept[i][k] for k in keys} for i in ids])
    frame.insert(0, "id", graph.ids)
    for role in ROLES:
        frame[role] = frame[role].astype(np.float64)
        order = np.lexsort((np.array(ids), frame[f"{role}_rank"].to_numpy()))
        position = np.empty(len(ids), dtype=np.int64)
        position[order] = np.arange(1, len(ids) + 1)
        frame[f"{role}_order"] = position
    return frame


def store_people(store: Store, platform: str, *, random_state: int = 0) -> PeopleData:
    """Roles and communities of the people of ``platform``: the roles stored with them
    when every person has them, else scored from the platform's ties and cascades.

    Raises
    ------
    BadInput
        When the platform has no ties.
    """

    def build() -> PeopleData:
        from grapevine.graph.centrality import communities
        from grapevine.roles import influencer_roles

        graph = store.graph(platform=platform)
        roles = _stored_roles(store, platform, graph)
        origin = "stored with the people"
        if roles is None:
            posts = store.posts(platform=platform)
            adoptions = None
            if not posts.empty and posts["cascade_id"].notna().any():
                adoptions = posts.rename(columns={"author": "user", "cascade_id": "cascade"})
                adoptions = adoptions[["user", "time", "cascade"]].dropna()
            roles = influencer_roles(graph, adoptions=adoptions, random_state=random_state)
            origin = "scored from the ties and cascades"
        found = communities(graph, random_state=random_state)
        return PeopleData(platform, graph, roles, found, origin)

    return cached(store, ("people", platform, random_state), build)


def warm(store: Store) -> list[str]:
    """Compute ahead the cascades of every platform, and the roles of the networks whose
    people carry stored roles (else of the largest network only: scoring a large network
    from scratch takes minutes); what was computed."""
    done = []
    for source in cascade_sources(store):
        store_cascades(store, source.platform)
        done.append(f"cascades of {source.platform}")
    networks = network_sources(store)
    for source in [s for s in networks if s.roles_stored] or networks[:1]:
        store_people(store, source.platform)
        done.append(f"roles of {source.platform}")
    return done
