"""Centralities and communities: correctness against networkx, speed beside igraph and networkit.

    .venv/bin/python benchmarks/roles_centrality.py [--out PATH] [--skip-networkx-speed]

Correctness on the SNAP graphs in ``graphs/`` (email-Eu-core, wiki-Vote): PageRank (max
absolute difference), core numbers (mismatches), betweenness (exact vs networkx on
email-Eu-core; approximate vs exact within epsilon * n / (n - 2)), Leiden modularity vs
networkx Louvain. Speed on Epinions trust (``trust/epinions_trust.csv.gz``, truster ->
trustee), one run each, peers side by side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from _common import (
    RESULTS_DIR,
    data_file,
    facts_markdown,
    fmt_seconds,
    machine_facts,
    markdown_table,
    time_call,
    write_report,
)
from grapevine.graph import Graph
from grapevine.graph.centrality import betweenness, communities, kcore, modularity, pagerank


def as_array(g: Graph, scores: dict) -> np.ndarray:
    return np.array([scores[i] for i in g.ids.tolist()], dtype=np.float64)


def undirected_nx(g: Graph) -> nx.Graph:
    """The view communities() reads: w(u, v) + w(v, u), no self-loops."""
    h = nx.Graph()
    h.add_nodes_from(range(g.n_nodes))
    for u, v in zip(g.sources().tolist(), g.indices.tolist(), strict=True):
        if u != v:
            old = h.get_edge_data(u, v, {"weight": 0.0})["weight"]
            h.add_edge(u, v, weight=old + 1.0)
    return h


def correctness() -> list[list[str]]:
    rows = []
    for name in ("email-Eu-core.txt.gz", "wiki-Vote.txt"):
        g = Graph.from_edgelist(data_file("graphs", name), weighted=False)
        h = g.to_networkx()
        diff = np.abs(pagerank(g) - as_array(g, nx.pagerank(h, tol=1e-10))).max()
        rows.append([name, "pagerank vs networkx", f"max abs diff {diff:.1e}"])
        u = nx.Graph(h)
        u.remove_edges_from(list(nx.selfloop_edges(u)))
        bad = int((kcore(g) != as_array(g, nx.core_number(u))).sum())
        rows.append([name, "k-core vs networkx core_number", f"{bad} mismatches of {g.n_nodes:,}"])
        exact = betweenness(g, exact=True)
        if g.n_nodes < 2000:
            ref = as_array(g, nx.betweenness_centrality(h))
            rows.append(
                [
                    name,
                    "exact betweenness vs networkx",
                    f"max abs diff {np.abs(exact - ref).max():.1e}",
                ]
            )
        n = g.n_nodes
        for eps in (0.01, 0.03):
            approx = betweenness(g, epsilon=eps, random_state=0)
            err = np.abs(approx - exact).max()
            rows.append(
                [
                    name,
                    f"approx betweenness eps={eps} vs exact",
                    f"max abs err {err:.2e} (bound {eps * n / (n - 2):.2e})",
                ]
            )
        labels = communities(g, weighted=False, random_state=0)
        q = modularity(g, labels, weighted=False)
        hu = undirected_nx(g)
        q_louvain = nx.community.modularity(hu, nx.community.louvain_communities(hu, seed=0))
        rows.append(
            [
                name,
                "Leiden modularity (networkx Louvain)",
                f"{q:.4f} ({q_louvain:.4f}), {labels.max() + 1} communities",
            ]
        )
    return rows


def load_epinions() -> tuple[Graph, pd.DataFrame]:
    df = pd.read_csv(data_file("trust", "epinions_trust.csv.gz"))
    g = Graph.from_arrays(df["truster"].to_numpy(), df["trustee"].to_numpy())
    return g, df


def speed(skip_networkx: bool) -> list[list[str]]:
    import igraph as ig
    import networkit as nk

    g, _ = load_epinions()
    n = g.n_nodes
    src, dst = g.sources().astype(np.int64), g.indices.astype(np.int64)
    ig_d = ig.Graph(n=n, edges=np.column_stack([src, dst]).tolist(), directed=True)
    ig_u = ig_d.as_undirected(mode="collapse")
    nk_d = nk.Graph(n, directed=True)
    nk_d.addEdges((src.astype(np.uint64), dst.astype(np.uint64)))
    nk_u = nk.graphtools.toUndirected(nk_d)
    nk_u.removeMultiEdges()
    nx_d = g.to_networkx() if not skip_networkx else None
    pagerank(Graph.from_edges([(0, 1)]))  # warm numba caches
    kcore(Graph.from_edges([(0, 1)]))
    label = f"Epinions trust ({n:,} nodes, {g.n_edges:,} arcs)"

    def nk_pr() -> object:
        a = nk.centrality.PageRank(nk_d, damp=0.85, tol=1e-10)
        a.run()
        return a.scores()

    def nk_core() -> object:
        a = nk.centrality.CoreDecomposition(nk_u)
        a.run()
        return a.scores()

    def nk_leiden() -> object:
        a = nk.community.ParallelLeiden(nk_u)
        a.run()
        return a.getPartition()

    def nk_kadabra() -> object:
        a = nk.centrality.KadabraBetweenness(nk_u, 0.01, 0.1)
        a.run()
        return a.scores()

    cases: list[tuple[str, str, object]] = [
        ("PageRank", "grapevine pagerank (scipy power iteration)", lambda: pagerank(g)),
        ("PageRank", "networkit PageRank", nk_pr),
        ("PageRank", "igraph personalized_pagerank (PRPACK)", lambda: ig_d.pagerank()),
        ("PageRank", "networkx pagerank", lambda: nx.pagerank(nx_d, tol=1e-10)),
        ("k-core", "grapevine kcore (numba BZ)", lambda: kcore(g)),
        ("k-core", "networkit CoreDecomposition", nk_core),
        ("k-core", "igraph coreness", lambda: ig_u.coreness()),
        ("k-core", "networkx core_number", lambda: nx.core_number(nx.Graph(nx_d))),
        (
            "betweenness eps=0.01",
            "grapevine betweenness (RK sampling, directed)",
            lambda: betweenness(g, epsilon=0.01),
        ),
        (
            "betweenness eps=0.03",
            "grapevine betweenness (RK sampling, directed)",
            lambda: betweenness(g, epsilon=0.03),
        ),
        ("betweenness eps=0.01", "networkit KADABRA (undirected view only)", nk_kadabra),
        ("communities", "grapevine communities (networkit ParallelLeiden)", lambda: communities(g)),
        (
            "communities",
            "igraph community_leiden (modularity)",
            lambda: ig_u.community_leiden(objective_function="modularity", n_iterations=-1),
        ),
        (
            "communities",
            "networkx louvain_communities",
            lambda: nx.community.louvain_communities(nx.Graph(nx_d), seed=0),
        ),
    ]
    rows = []
    for task, method, fn in cases:
        if method.startswith("networkx") and skip_networkx:
            rows.append([label, task, method, "skipped (--skip-networkx-speed)"])
            continue
        seconds, _ = time_call(fn)  # type: ignore[arg-type]
        rows.append([label, task, method, fmt_seconds(seconds)])
        print(task, method, fmt_seconds(seconds), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "roles_centrality.md")
    parser.add_argument("--skip-networkx-speed", action="store_true")
    args = parser.parse_args(argv)
    corr = correctness()
    spd = speed(args.skip_networkx_speed)
    facts = machine_facts(
        ["numpy", "scipy", "numba", "networkx", "networkit", "igraph"],
        extra=[("command", " ".join(["python", *sys.argv]))],
    )
    text = "\n\n".join(
        [
            "# Centralities and communities",
            facts_markdown(facts),
            "## Correctness on the SNAP graphs",
            markdown_table(["graph", "check", "result"], corr),
            "## Speed on Epinions trust (one run each, wall seconds)",
            markdown_table(["graph", "task", "method", "seconds"], spd, "lllr"),
        ]
    )
    write_report(args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
