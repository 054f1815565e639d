"""Centralities and communities: correctness against networkx, speed beside igraph and networkit.

    .venv/bin/python benchmarks/roles_centrality.py [--out PATH] [--skip-networkx-speed] [--big]

Correctness on the SNAP graphs in ``graphs/`` (email-Eu-core, wiki-Vote): PageRank (max
absolute difference), core numbers (mismatches), betweenness (exact vs networkx on
email-Eu-core; approximate vs exact within epsilon * n / (n - 2)), Leiden modularity vs
networkx Louvain. Speed on Epinions trust (``trust/epinions_trust.csv.gz``, truster ->
trustee), one run each, peers side by side.

``--big`` adds a 20-million-edge R-MAT graph (Graph500 parameters a, b, c, d = 0.57, 0.19,
0.19, 0.05; scale 20, 20 edges per node; generated with numpy, seed 0). Each task runs in
its own Python process that loads the edges from a ``.npy`` file, so the wall time covers
the call only (graph conversion for the peer excluded, reported apart) and the peak memory
(``ru_maxrss``) is that task's alone; a task still running after ``--big-timeout`` seconds
is stopped and reported as such. networkx is not run at this size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
)
from grapevine.graph import Graph
from grapevine.graph.centrality import (
    betweenness,
    betweenness_sources_needed,
    communities,
    kcore,
    modularity,
    pagerank,
)


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
        if g.n_nodes < 2000:  # networkx's Brandes on the bigger one takes minutes
            ref = as_array(g, nx.betweenness_centrality(h))
            rows.append(
                [
                    name,
                    "exact betweenness vs networkx",
                    f"max abs diff {np.abs(exact - ref).max():.1e}",
                ]
            )
        n = g.n_nodes
        und = Graph.from_arrays(g.sources(), g.indices, directed=False, nodes=range(n))
        exact_u = betweenness(und, exact=True)
        cases = [
            (g, exact, "directed", "sources", 0.05),
            (g, exact, "directed", "sources", 0.02),
            (g, exact, "directed", "rk", 0.05),
            (und, exact_u, "undirected", "kadabra", 0.05),
            (und, exact_u, "undirected", "kadabra", 0.01),
            (und, exact_u, "undirected", "sources", 0.05),
        ]
        for graph, ref, kind, method, eps in cases:
            approx = betweenness(graph, epsilon=eps, method=method, random_state=0)
            err = np.abs(approx - ref).max()
            k = betweenness_sources_needed(n, eps, 0.1)
            extra = f", {min(k, n):,} sources" if method == "sources" else ""
            rows.append(
                [
                    name,
                    f"betweenness {method} eps={eps} ({kind}) vs exact",
                    f"max abs err {err:.2e} (bound {eps:.2e}, delta 0.1{extra})",
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
    und = Graph.from_arrays(src, dst, directed=False, nodes=range(n))
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
            "betweenness eps=0.05",
            "grapevine betweenness auto (directed: 2,561 sampled sources)",
            lambda: betweenness(g, epsilon=0.05),
        ),
        (
            "betweenness eps=0.05",
            "grapevine betweenness method=rk (networkit ApproxBetweenness, directed)",
            lambda: betweenness(g, epsilon=0.05, method="rk"),
        ),
        (
            "betweenness eps=0.05",
            "grapevine betweenness auto on the undirected view (KADABRA)",
            lambda: betweenness(und, epsilon=0.05),
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


# ---------------------------------------------------------------------------- --big
BIG_SCALE = 20  # 2**20 possible nodes
BIG_EDGES = 20_000_000
BIG_EPS_DIRECTED = 0.1  # sampled sources / RK on the directed graph
BIG_EPS_UNDIRECTED = 0.05  # KADABRA on the undirected view


def rmat_edges(scale: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """R-MAT arcs (Chakrabarti, Zhan, Faloutsos 2004), Graph500 quadrant probabilities."""
    a, b, c = 0.57, 0.19, 0.19
    rng = np.random.default_rng(seed)
    src = np.zeros(m, dtype=np.int64)
    dst = np.zeros(m, dtype=np.int64)
    for level in range(scale):
        r = rng.random(m)
        bit = np.int64(1 << level)
        src += bit * (r >= a + b)
        dst += bit * (((r >= a) & (r < a + b)) | (r >= a + b + c))
    return src, dst


# name -> (task, method); the code of each is in big_case()
BIG_CASES: dict[str, tuple[str, str]] = {
    "gv_pagerank": ("PageRank", "grapevine pagerank"),
    "nk_pagerank": ("PageRank", "networkit PageRank"),
    "ig_pagerank": ("PageRank", "igraph pagerank (PRPACK)"),
    "gv_kcore": ("k-core", "grapevine kcore (undirected view built inside)"),
    "nk_kcore": ("k-core", "networkit CoreDecomposition"),
    "ig_kcore": ("k-core", "igraph coreness"),
    "gv_leiden": ("communities", "grapevine communities (undirected view built inside)"),
    "nk_leiden": ("communities", "networkit ParallelLeiden"),
    "ig_leiden": ("communities", "igraph community_leiden (modularity, 2 iterations)"),
    "gv_btw_kadabra": (
        f"betweenness eps={BIG_EPS_UNDIRECTED} (undirected)",
        "grapevine betweenness auto (KADABRA)",
    ),
    "nk_kadabra": (f"betweenness eps={BIG_EPS_UNDIRECTED} (undirected)", "networkit KADABRA"),
    "gv_btw_sources": (
        f"betweenness eps={BIG_EPS_DIRECTED} (directed)",
        "grapevine betweenness auto (sampled sources)",
    ),
    "nk_rk": (
        f"betweenness eps={BIG_EPS_DIRECTED} (directed)",
        "networkit ApproxBetweenness (RK)",
    ),
}


def _rss_mib(key: str = "VmRSS") -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since exec) of this process, MiB.

    ``ru_maxrss`` is not used: Linux carries it over from the parent across fork and exec.
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def big_case(name: str, edges: Path) -> dict[str, float]:
    """Run one --big task in this process; the JSON it prints is read by big()."""
    arr = np.load(edges)
    src, dst = arr[0], arr[1]
    n = int(max(src.max(), dst.max())) + 1
    t0 = time.perf_counter()
    fn: object
    if name.startswith("gv_"):
        directed = name != "gv_btw_kadabra"
        g = Graph.from_arrays(src, dst, directed=directed, nodes=np.arange(n))
        pagerank(Graph.from_edges([(0, 1)]))  # numba caches warm
        kcore(Graph.from_edges([(0, 1)]))
        betweenness(Graph.from_edges([(0, 1), (1, 2), (2, 3)]), method="sources", epsilon=0.9)
        fn = {
            "gv_pagerank": lambda: pagerank(g),
            "gv_kcore": lambda: kcore(g),
            "gv_leiden": lambda: communities(g, weighted=False),
            "gv_btw_kadabra": lambda: betweenness(g, epsilon=BIG_EPS_UNDIRECTED),
            "gv_btw_sources": lambda: betweenness(g, epsilon=BIG_EPS_DIRECTED),
        }[name]
    elif name.startswith("nk_"):
        import networkit as nk

        gd = nk.Graph(n, directed=True)  # the arcs are distinct, without self-loops
        gd.addEdges((src.astype(np.uint64), dst.astype(np.uint64)))
        gu = gd
        if name in ("nk_kcore", "nk_leiden", "nk_kadabra"):
            gu = nk.graphtools.toUndirected(gd)
            gu.removeMultiEdges()

        def run(algo: object) -> object:
            algo.run()  # type: ignore[attr-defined]
            return algo

        eps_u = BIG_EPS_UNDIRECTED * (n - 2) / n
        fn = {
            "nk_pagerank": lambda: run(nk.centrality.PageRank(gd, damp=0.85, tol=1e-10)),
            "nk_kcore": lambda: run(nk.centrality.CoreDecomposition(gu)),
            "nk_leiden": lambda: run(nk.community.ParallelLeiden(gu)),
            "nk_kadabra": lambda: run(nk.centrality.KadabraBetweenness(gu, eps_u, 0.1)),
            "nk_rk": lambda: run(
                nk.centrality.ApproxBetweenness(
                    gd, epsilon=BIG_EPS_DIRECTED * (n - 2) / n, delta=0.1
                )
            ),
        }[name]
    else:
        import igraph as ig

        gd = ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=True)
        gd.simplify()
        gu = gd.as_undirected(mode="collapse") if name != "ig_pagerank" else None
        fn = {
            "ig_pagerank": lambda: gd.pagerank(),
            "ig_kcore": lambda: gu.coreness(),
            "ig_leiden": lambda: gu.community_leiden(objective_function="modularity"),
        }[name]
    setup = time.perf_counter() - t0
    base = _rss_mib()
    seconds, _ = time_call(fn)  # type: ignore[arg-type]
    peak = _rss_mib("VmHWM")
    return {"seconds": seconds, "setup": setup, "base_mib": base, "peak_mib": peak}


def big(timeout: float, report: Callable[[str, list[list[str]]], None]) -> None:
    """Run every case; ``report(label, rows)`` after each, so a stopped run keeps its rows."""
    # the distinct arcs, cached between runs (generating and merging takes minutes)
    path = Path(tempfile.gettempdir()) / f"grapevine_rmat_s{BIG_SCALE}_m{BIG_EDGES}_seed0.npy"
    if not path.is_file():
        src, dst = rmat_edges(BIG_SCALE, BIG_EDGES)
        g = Graph.from_arrays(src, dst)  # drops isolated ids, merges repeats and self-loops
        np.save(path, np.vstack([g.sources().astype(np.int64), g.indices.astype(np.int64)]))
        del g, src, dst
    arr = np.load(path, mmap_mode="r")
    n, arcs = int(arr.max()) + 1, int(arr.shape[1])
    del arr
    label = (
        f"R-MAT scale {BIG_SCALE}, {BIG_EDGES:,} generated arcs: {n:,} nodes, "
        f"{arcs:,} distinct arcs"
    )
    print(label, flush=True)
    rows: list[list[str]] = []
    for name, (task, method) in BIG_CASES.items():
        cmd = [sys.executable, __file__, "--big-case", name, "--big-edges", str(path)]
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            rows.append([task, method, f"not finished in {timeout:.0f} s", "", ""])
            print(task, method, "timeout", flush=True)
            continue
        if out.returncode != 0:
            why = (out.stderr.strip().splitlines() or ["?"])[-1][:80]
            rows.append([task, method, f"failed: {why}", "", ""])
            print(task, method, "failed", out.stderr[-500:], flush=True)
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            [
                task,
                method,
                fmt_seconds(res["seconds"]),
                fmt_seconds(res["setup"]),
                f"{res['peak_mib']:,.0f} ({res['base_mib']:,.0f} before the call)",
            ]
        )
        print(task, method, res, f"total {time.perf_counter() - t0:.0f}s", flush=True)
        report(label, rows)
    for task in ("PageRank", "k-core", "communities", "betweenness"):
        rows.append(
            [
                task,
                "networkx",
                "not run (estimate, not measured: networkx was 4-40x slower than grapevine "
                "on Epinions and its graph takes roughly 0.5 KB per edge, about 10 GB here)",
                "",
                "",
            ]
        )
    rows.append(
        [
            "betweenness",
            "igraph",
            "not run: no sampled betweenness with an error bound "
            "(cutoff betweenness did not finish in 10 min at 1M edges, STACK.md)",
            "",
            "",
        ]
    )
    report(label, rows)


BIG_MARKER = "\n\n## Speed on a 20M-edge graph"


def merge_report(path: Path, small: str | None = None, big_part: str | None = None) -> None:
    """Rewrite ``path`` replacing the small tables and/or the --big section, keeping the other."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    old_small, _, old_big = old.partition(BIG_MARKER)
    text = (small if small is not None else old_small).rstrip()
    kept_big = big_part if big_part is not None else (BIG_MARKER + old_big if old_big else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + kept_big.rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "roles_centrality.md")
    parser.add_argument("--skip-networkx-speed", action="store_true")
    parser.add_argument("--skip-small", action="store_true", help="only the --big section")
    parser.add_argument("--big", action="store_true", help="add the 20M-edge R-MAT runs")
    parser.add_argument("--big-timeout", type=float, default=900.0)
    parser.add_argument("--big-case", help=argparse.SUPPRESS)
    parser.add_argument("--big-edges", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.big_case:
        print(json.dumps(big_case(args.big_case, args.big_edges)))
        return 0
    facts = machine_facts(
        ["numpy", "scipy", "numba", "networkx", "networkit", "igraph"],
        extra=[("command", " ".join(["python", *sys.argv]))],
    )
    if args.big:

        def report(label: str, rows: list[list[str]]) -> None:
            part = (
                BIG_MARKER
                + f": {label}\n\n"
                + "\n\n".join(
                    [
                        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, command "
                        f"`python {' '.join(sys.argv)}`, load average "
                        f"{os.getloadavg()[0]:.1f} when written: other jobs shared the 2 cores "
                        "(load 10-13 during the run), so times are inflated and noisy.",
                        "One run each, in its own process; wall seconds of the call, the setup "
                        "(building that library's graph from the arrays) apart; peak resident "
                        "memory of the process, setup included (MiB).",
                        markdown_table(
                            ["task", "method", "seconds", "setup s", "peak RSS MiB"], rows, "llrrr"
                        ),
                    ]
                )
            )
            merge_report(args.out, big_part=part)

        big(args.big_timeout, report)
    if args.skip_small:
        print(args.out.read_text(encoding="utf-8"))
        return 0
    corr = correctness()
    spd = speed(args.skip_networkx_speed)
    text = "\n\n".join(
        [
            "# Centralities and communities",
            facts_markdown(facts),
            "## Correctness on the SNAP graphs",
            markdown_table(["graph", "check", "result"], corr),
            "## Speed on Epinions trust (one run each, wall seconds)",
            "Taken while other jobs shared the 2 cores (load average 5-13): times are "
            "inflated and noisy.",
            markdown_table(["graph", "task", "method", "seconds"], spd, "lllr"),
        ]
    )
    merge_report(args.out, small=text)
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
