"""What the spread and people pages (and the report) show, gathered from the library.

Each ``*_view`` function asks the store's cached analysis inputs
(:mod:`grapevine.store.analysis_repo`) and the library's figure functions for one page's
figures and returns them as plain values (tables as rows, figures as the library's
``to_dict()``), so that a page, its JSON endpoint and the report render the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grapevine.dashboard._spread_charts import when_text
from grapevine.errors import BadInput
from grapevine.store import Store
from grapevine.store.analysis_repo import (
    Source,
    cached,
    cascade_sources,
    network_sources,
    store_cascades,
    store_people,
)

__all__ = [
    "CASCADE_COLUMNS",
    "ROLE_COLUMNS",
    "PeopleView",
    "PersonView",
    "SpreadView",
    "neighbourhood_gexf",
    "network_gexf",
    "people_view",
    "person_view",
    "spread_view",
    "warm_pages",
]

CASCADE_COLUMNS = ["Root", "Cascade", "Size", "Depth", "Virality", "Organic", "Viral",
                   "Viral share", "Start (UTC)"]  # fmt: skip
ROLE_COLUMNS = ["#", "Person", "Score", "Why", "Rests on"]
TREE_NODES = 400
"""Most nodes of a cascade tree drawn (the earliest of each generation)."""
NEIGHBOURS = 120
"""Most people of a neighbourhood drawn (the first hop first, sampled when larger)."""


def _num(x: Any, digits: int = 3) -> Any:
    if x is None:
        return None
    value = float(x)
    return None if not math.isfinite(value) else round(value, digits)


def _pick(sources: list[Source], platform: str | None, what: str) -> str:
    names = [s.platform for s in sources]
    if not names:
        raise BadInput(f"the store holds no {what} yet", field="platform")
    if platform is None or platform == "":
        return names[0]
    if platform not in names:
        raise BadInput(
            f"no {what} for platform {platform!r}; there are: {', '.join(names)}",
            field="platform",
        )
    return platform


@dataclass
class SpreadView:
    """The spread page: the platforms, the largest cascades, one tree, its growth and forecast."""

    sources: list[Source]
    platform: str
    source: str
    n_trees: int
    n_adoptions: int
    cascades: list[list[Any]]
    roots: list[str]
    root: str
    tree: dict[str, Any]
    growth: dict[str, Any] | None
    growth_of: str
    forecast: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "source": self.source,
            "trees": self.n_trees,
            "adoptions": self.n_adoptions,
            "columns": CASCADE_COLUMNS,
            "cascades": self.cascades,
            "root": self.root,
            "tree": self.tree,
            "growth": self.growth,
            "growth_of": self.growth_of,
            "forecast": self.forecast,
            "notes": self.notes,
        }


def spread_view(
    store: Store, *, platform: str | None = None, root: str | None = None, top: int = 20
) -> SpreadView:
    """The ``top`` largest cascades of ``platform`` (default: the one with most cascade data)
    and, for ``root`` (default: the largest), its tree, R(t) and Bass forecast.

    Raises
    ------
    BadInput
        When the store has no cascades, or not for ``platform``, or no tree has ``root``.
    """
    sources = cascade_sources(store)
    platform = _pick(sources, platform, "cascades")
    data = store_cascades(store, platform)
    forest, summary = data.forest, data.summary.head(top)
    rows = [
        [str(r.root), str(r.cascade), int(r.size), int(r.depth), _num(r.structural_virality),
         int(r.organic), int(r.viral), _num(r.viral_share), when_text(r.start)]
        for r in summary.itertuples(index=False)
    ]  # fmt: skip
    roots = [row[0] for row in rows]
    root = root or (roots[0] if roots else None)
    if root is None:
        raise BadInput(f"no cascade trees for platform {platform!r}", field="platform")
    figures = cached(
        store,
        ("spread-figures", platform, str(root)),
        lambda: _tree_figures(forest, platform, root),
    )
    layout, growth, growth_of, forecast, notes = figures
    return SpreadView(
        sources=sources,
        platform=platform,
        source=data.source,
        n_trees=forest.n_trees,
        n_adoptions=len(forest),
        cascades=rows,
        roots=roots,
        root=str(layout["root"]),
        tree=layout,
        growth=growth,
        growth_of=growth_of,
        forecast=forecast,
        notes=list(notes),
    )


def _tree_figures(forest: Any, platform: str, root: str) -> tuple[Any, ...]:
    """Tree layout, R(t) and forecast of one cascade, as JSON-ready dicts (cached)."""
    from grapevine.cascades import adoption_growth, tree_layout
    from grapevine.forecast import adoption_band

    layout = tree_layout(forest, root, max_nodes=TREE_NODES)
    index = int(np.flatnonzero((forest.parent < 0) & (forest.ids.astype(str) == str(root)))[0])
    in_tree = forest.root == index
    notes = []
    growth = adoption_growth(forest, mask=in_tree)
    growth_of = f"cascade {root}"
    if growth is None:
        notes.append(
            f"cascade {root} has too few timed adoptions for R(t): showing all adoptions "
            f"of {platform}"
        )
        growth = adoption_growth(forest)
        growth_of = f"all adoptions of {platform}"
    times = forest.time[in_tree]
    times = times[np.isfinite(times)]
    forecast = None
    if times.size >= 3:
        forecast = adoption_band(times).to_dict()
    else:
        notes.append(f"cascade {root} has fewer than 3 timed adoptions: no forecast")
    return (
        layout.to_dict(), None if growth is None else growth.to_dict(), growth_of, forecast,
        tuple(notes),
    )  # fmt: skip


def _has_data(roles: Any, role: str) -> Any:
    return ~roles[f"{role}_data"].astype(str).str.startswith(("no data", "not enough data"))


@dataclass
class PeopleView:
    """The people page: the platforms and, per role, the top people with their reasons."""

    sources: list[Source]
    platform: str
    n_people: int
    n_ties: int
    top: dict[str, list[list[Any]]]
    missing: dict[str, str]
    origin: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "origin": self.origin,
            "people": self.n_people,
            "ties": self.n_ties,
            "columns": ROLE_COLUMNS,
            "top": self.top,
            "missing": self.missing,
        }


#: What a role without data needs, in the page's words.
NEEDS = {
    "connector": "ties between people (import a graph)",
    "maven": "cascades: who adopted what and when (import posts with cascade ids)",
    "salesman": "conversions: who exposed whom and who bought (run `grapevine influencers "
    "--conversions FILE`)",
}


def people_view(store: Store, *, platform: str | None = None, top: int = 20) -> PeopleView:
    """The ``top`` connectors, mavens and salesmen of ``platform`` (default: the one with the
    most ties), each with score and reason; a role without data says what it needs
    (cached per data version: ranking every role's table costs more than the page's budget
    on a large network)."""
    sources = network_sources(store)
    chosen = _pick(sources, platform, "ties between people")
    return cached(
        store, ("people-view", chosen, top), lambda: _people_view(store, sources, chosen, top)
    )


def _people_view(store: Store, sources: list[Source], platform: str, top: int) -> PeopleView:
    from grapevine.roles import ROLES

    people = store_people(store, platform)
    roles = people.roles
    out: dict[str, list[list[Any]]] = {}
    missing: dict[str, str] = {}
    for role in ROLES:
        best = roles[_has_data(roles, role)].sort_values(f"{role}_order").head(top)
        out[role] = [
            [int(r[f"{role}_order"]), str(r["id"]), _num(r[role]), r[f"{role}_reason"],
             r[f"{role}_data"]]
            for r in best.to_dict("records")
        ]  # fmt: skip
        if not out[role]:
            missing[role] = NEEDS[role]
    return PeopleView(
        sources, platform, people.graph.n_nodes, people.graph.n_edges, out, missing, people.origin
    )


@dataclass
class PersonView:
    """One person: scores, ranks and reasons per role, community, and the neighbourhood."""

    platform: str
    person: str
    community: int
    community_size: int
    roles: list[dict[str, Any]]
    nodes: list[dict[str, Any]]
    links: list[tuple[int, int]]
    first_hop: int
    second_hop: int
    sampled: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "person": self.person,
            "community": self.community,
            "community_size": self.community_size,
            "roles": self.roles,
            "nodes": self.nodes,
            "links": [list(x) for x in self.links],
            "first_hop": self.first_hop,
            "second_hop": self.second_hop,
            "sampled": self.sampled,
        }


def _best_role(row: dict[str, Any], roles: tuple[str, ...]) -> str:
    scored = [(row[r], r) for r in roles if row[r] > 0]
    return max(scored)[1] if scored else "none"


def person_view(store: Store, *, platform: str, person: str) -> PersonView:
    """``person``'s roles (score, rank, reason, data), community and neighbourhood (two hops,
    at most :data:`NEIGHBOURS` people, sampled when larger), each neighbour with their best
    role and community.

    Raises
    ------
    BadInput
        When the person is not in the platform's network.
    """
    from grapevine.graph import neighbourhood
    from grapevine.roles import ROLES

    people = store_people(store, platform)
    graph, roles, community = people.graph, people.roles, people.community
    nb = neighbourhood(graph, person, max_nodes=NEIGHBOURS)
    records = roles.iloc[nb.nodes].to_dict("records")
    nodes = [
        {
            "id": str(rec["id"]),
            "hop": int(hop),
            "role": _best_role(rec, ROLES),
            "community": int(community[node]),
            "score": _num(max(rec[r] for r in ROLES)) or 0.0,
        }
        for rec, hop, node in zip(records, nb.hop, nb.nodes, strict=True)
    ]
    me = records[0]
    role_rows = [
        {
            "role": role,
            "score": _num(me[role]),
            "rank": int(me[f"{role}_rank"]),
            "order": int(me[f"{role}_order"]),
            "reason": me[f"{role}_reason"],
            "data": me[f"{role}_data"],
        }
        for role in ROLES
    ]
    mine = int(community[nb.centre])
    return PersonView(
        platform=platform,
        person=str(graph.ids[nb.centre]),
        community=mine,
        community_size=int((community == mine).sum()),
        roles=role_rows,
        nodes=nodes,
        links=list(zip(nb.sources.tolist(), nb.targets.tolist(), strict=True)),
        first_hop=nb.first_hop,
        second_hop=nb.second_hop,
        sampled=nb.sampled,
    )


def _role_attributes(roles: Any, community: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    from grapevine.roles import ROLES

    attrs: dict[str, Any] = {r: roles[r].to_numpy(dtype=np.float64)[rows] for r in ROLES}
    attrs.update({f"{r}_rank": roles[f"{r}_rank"].to_numpy()[rows] for r in ROLES})
    attrs["community"] = community[rows]
    return attrs


def network_gexf(store: Store, *, platform: str, path: str) -> None:
    """Write ``platform``'s network to ``path`` as GEXF with each person's role scores, ranks
    and community as node attributes (for Gephi)."""
    people = store_people(store, platform)
    every = np.arange(people.graph.n_nodes)
    people.graph.write_gexf(
        path, node_attributes=_role_attributes(people.roles, people.community, every)
    )


def neighbourhood_gexf(store: Store, *, platform: str, person: str, path: str) -> None:
    """Write the neighbourhood that :func:`person_view` draws to ``path`` as GEXF, with the
    same node attributes as :func:`network_gexf` plus the hop."""
    from grapevine.graph import Graph, neighbourhood

    people = store_people(store, platform)
    graph = people.graph
    nb = neighbourhood(graph, person, max_nodes=NEIGHBOURS)
    labels = graph.ids[nb.nodes]
    sub = Graph.from_arrays(
        labels[nb.sources], labels[nb.targets], directed=graph.directed, nodes=labels
    )
    where = {label: node for label, node in zip(labels.tolist(), nb.nodes.tolist(), strict=True)}
    hop_of = dict(zip(labels.tolist(), nb.hop.tolist(), strict=True))
    rows = np.array([where[label] for label in sub.ids.tolist()], dtype=np.int64)
    attrs = _role_attributes(people.roles, people.community, rows)
    attrs["hop"] = np.array([hop_of[label] for label in sub.ids.tolist()], dtype=np.int64)
    sub.write_gexf(path, node_attributes=attrs)


def warm_pages(store: Store) -> list[str]:
    """Compute ahead what the spread and people pages show first (every platform's largest
    cascade with its tree, R(t) and forecast; the default network's roles and top people),
    so that the first view of a freshly served store is as fast as the next; what was
    computed."""
    from grapevine.store.analysis_repo import warm

    done = warm(store)
    for source in cascade_sources(store):
        spread_view(store, platform=source.platform)
        done.append(f"largest cascade of {source.platform}")
    networks = network_sources(store)
    if networks:
        people_view(store)
        done.append(f"people page of {networks[0].platform}")
    return done
