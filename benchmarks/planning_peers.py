"""Seed selection (OPIM-C, IMM) and Monte-Carlo simulation beside the peers, on one machine.

Graphs (from the shared data folder, plus generated ones):

* ``NetHEPT`` ``graphs/NetHEPT_impc_wc.txt`` (15,229 nodes, 62,752 arcs; its ``p`` column is
  1/in-degree, the same values as our weighted cascade);
* ``Epinions`` ``graphs/epinions_adjacency.txt`` (75,879 nodes, 508,837 arcs);
* ``NetPHY`` ``graphs/NetPhy.txt`` (undirected, both arc directions, multi-edges merged);
* ``wiki-Vote`` ``graphs/wiki-Vote.txt`` (7,115 nodes, 103,689 arcs);
* ``PL-10M``: ``igraph.Graph.Static_Power_Law(1_000_000, 10_000_000, exponent_out=2.5,
  exponent_in=2.5)`` (Goh-Kahng-Kim static model, directed, no loops or multi-arcs; seed 1);
  ``PL-50M`` (5,000,000 nodes, 50,000,000 arcs) with ``--huge``.

Per graph and setting (model: IC weighted cascade ``ic-wc``, IC uniform ``p = 0.01``
``ic-0.01``, LT with weights 1/in-degree ``lt``; ``k``; ``epsilon``):

* ``OPIMC(k, epsilon=...)`` with 1 and 2 numba threads (same seeds: the RNG is a counter
  stream), and ``IMM(k, epsilon=...)`` with 2 threads: seconds of sampling and selection
  (``timings_``), RR sets, peak memory (resident set growth during ``fit``, sampled every
  2 ms), the estimate and the certified ratio ``approximation_``;
* baselines: ``top_degree``, ``degree_discount`` (p = 0.01) and ``pagerank_seeds``;
* the spread of **every** seed set by one evaluator: ``grapevine.diffusion.simulate`` with
  ``runs=10_000`` (``--eval-runs``) and ``random_state=20_201``, the same for all.

Load: ``Graph.from_edgelist`` (generation for the power-law graphs, timed apart). Compile:
a fresh interpreter fits OPIM-C (IC and LT) on a 3-node graph and simulates it, once with an
empty ``NUMBA_CACHE_DIR`` (cold) and once more with the cache it left (warm).

Monte-Carlo peers on Epinions (IC weighted cascade, the 50 OPIM-C seeds): ``simulate``
with 1 and 2 threads, cynetdiff ``IndependentCascadeModel.compute_marginal_gains`` (one
thread) and ndlib ``IndependentCascadesModel`` (networkx; a few runs only).

Usage::

    .venv/bin/python benchmarks/planning_peers.py                 # reduced grid (see --help)
    .venv/bin/python benchmarks/planning_peers.py --full   # k 50,500; eps .5,.1,.05; 3 models
    .venv/bin/python benchmarks/planning_peers.py --graphs NetHEPT --k 50 --eps 0.1 --models lt
    .venv/bin/python benchmarks/planning_peers.py --huge          # adds PL-50M
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np

from _common import (
    PROJECT_ROOT,
    RESULTS_DIR,
    data_file,
    facts_markdown,
    fmt_int,
    machine_facts,
    markdown_table,
    write_report,
)
from grapevine.diffusion import simulate
from grapevine.graph import Graph
from grapevine.influence import IMM, OPIMC, degree_discount, pagerank_seeds, top_degree

EVAL_SEED = 20_201
MODELS: dict[str, tuple[str, str | float]] = {
    "ic-wc": ("ic", "wc"),
    "ic-0.01": ("ic", 0.01),
    "lt": ("lt", "wc"),
}
FILES = {
    "NetHEPT": ("NetHEPT_impc_wc.txt", True),
    "Epinions": ("epinions_adjacency.txt", True),
    "NetPHY": ("NetPhy.txt", False),
    "wiki-Vote": ("wiki-Vote.txt", True),
}
GENERATED = {"PL-10M": (1_000_000, 10_000_000), "PL-50M": (5_000_000, 50_000_000)}
# Best spreads known (IC weighted cascade, k = 50, 10,000 MC runs), from an outside
# side-by-side run.
BEST = {("NetHEPT", "ic-wc", 50): 968.0, ("Epinions", "ic-wc", 50): 12_090.0}


# ---------------------------------------------------------------------- measuring
class PeakRSS:
    """Largest growth of the resident set while the block runs (sampled every 2 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> PeakRSS:
        self.base = self.rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss() - self.base)
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss() - self.base)


@dataclass
class Cell:
    graph: str
    model: str
    k: int
    eps: float | None
    algorithm: str
    threads: int
    seconds: float
    cpu: float | None = None
    sampling: float | None = None
    selection: float | None = None
    rr_sets: int | None = None
    peak_mb: float | None = None
    estimate: float | None = None
    certified: float | None = None
    spread: float | None = None
    spread_se: float | None = None
    seeds: list[Any] = field(default_factory=list)


def evaluate(g: Graph, seeds: Any, setting: str, runs: int) -> tuple[float, float]:
    model, probs = MODELS[setting]
    res = simulate(g, seeds, model=model, probabilities=probs, runs=runs, random_state=EVAL_SEED)
    return res.mean, res.std_error


# ---------------------------------------------------------------------- graphs
def load(name: str) -> tuple[Graph, float, float]:
    """The graph, seconds to read (or build) it, and seconds to generate it (0 for files).

    Generated graphs are kept as ``.npz`` files under the temporary folder, so a later run
    reads them instead of generating them again (then the generation time is 0).
    """
    if name in FILES:
        file, directed = FILES[name]
        path = data_file("graphs", file)
        t0 = time.perf_counter()
        g = Graph.from_edgelist(path, directed=directed)
        return g, time.perf_counter() - t0, 0.0
    n, m = GENERATED[name]
    cache = Path(tempfile.gettempdir()) / "grapevine-bench" / f"{name}.npz"
    gen = 0.0
    if not cache.is_file():
        import random

        import igraph

        random.seed(1)  # igraph draws from Python's random module
        t0 = time.perf_counter()
        ig = igraph.Graph.Static_Power_Law(n, m, exponent_out=2.5, exponent_in=2.5)
        edges = np.array(ig.get_edgelist(), dtype=np.int32)
        del ig
        gen = time.perf_counter() - t0
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, src=edges[:, 0], dst=edges[:, 1])
        del edges
    t1 = time.perf_counter()
    with np.load(cache) as data:
        g = Graph.from_arrays(data["src"], data["dst"], nodes=np.arange(n))
    return g, time.perf_counter() - t1, gen


# ---------------------------------------------------------------------- compile
COMPILE_SNIPPET = """
import json, time
t0 = time.perf_counter()
from grapevine.graph import Graph
from grapevine.influence import OPIMC
from grapevine.diffusion import simulate
t1 = time.perf_counter()
g = Graph.from_edges([(0, 1), (1, 2), (0, 2)])
for model in ("ic", "lt"):
    OPIMC(1, model=model, min_rr_sets=100, random_state=0).fit(g)
t2 = time.perf_counter()
for model in ("ic", "lt"):
    simulate(g, [0], model=model, runs=10, random_state=0)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "selection": t2 - t1, "simulation": t3 - t2}))
"""


def compile_times() -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold (empty NUMBA_CACHE_DIR)", "warm (second run, same cache)"):
            out = subprocess.run(
                [sys.executable, "-c", COMPILE_SNIPPET],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=PROJECT_ROOT,
            )
            t = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(
                [
                    label,
                    f"{t['import']:.2f}",
                    f"{t['selection']:.2f}",
                    f"{t['simulation']:.2f}",
                    f"{sum(t.values()):.2f}",
                ]
            )
    return rows


# ---------------------------------------------------------------------- selection
def warm_up(settings: list[str]) -> None:
    """Load every kernel from the numba cache (or compile it) before anything is timed."""
    g = Graph.from_edges([(0, 1), (1, 2), (0, 2)])
    for setting in settings:
        model, probs = MODELS[setting]
        for t in (1, 2):
            numba.set_num_threads(t)
            OPIMC(1, model=model, probabilities=probs, min_rr_sets=100, random_state=0).fit(g)
            IMM(1, model=model, probabilities=probs, min_rr_sets=100, random_state=0).fit(g)
            simulate(g, [0], model=model, probabilities=probs, runs=10, random_state=0)
    numba.set_num_threads(2)


def run_selection(
    name: str,
    g: Graph,
    setting: str,
    k: int,
    eps: float,
    threads: list[int],
    eval_runs: int,
    with_imm: bool,
) -> list[Cell]:
    model, probs = MODELS[setting]
    cells: list[Cell] = []
    algorithms: list[tuple[str, Any, list[int]]] = [("OPIM-C", OPIMC, threads)]
    if with_imm:
        algorithms.append(("IMM", IMM, [max(threads)]))
    for alg, cls, thread_list in algorithms:
        seeds = None
        for t in thread_list:
            numba.set_num_threads(t)
            with PeakRSS() as mem:
                c0 = time.process_time()
                t0 = time.perf_counter()
                est = cls(k, epsilon=eps, model=model, probabilities=probs, random_state=1).fit(g)
                seconds = time.perf_counter() - t0
                cpu = time.process_time() - c0
            cell = Cell(
                name,
                setting,
                k,
                eps,
                alg,
                t,
                seconds,
                cpu,
                est.timings_["sampling"],
                est.timings_["selection"],
                est.n_rr_sets_,
                mem.peak / 2**20,
                est.spread_,
                est.approximation_,
                seeds=est.seeds_.tolist(),
            )
            if seeds is not None and seeds != cell.seeds:
                raise AssertionError("seeds depend on the number of threads")
            seeds = cell.seeds
            cells.append(cell)
        numba.set_num_threads(max(threads))
        mean, se = evaluate(g, np.asarray(seeds), setting, eval_runs)
        for c in cells:
            if c.algorithm == alg:
                c.spread, c.spread_se = mean, se
    return cells


CURVE_SIZES = (8_192, 16_384, 32_768, 65_536, 131_072, 262_144, 524_288)
# The anchors of an outside side-by-side run (C++, one thread, IC weighted cascade,
# k = 50): (seconds, spread).
ANCHORS = {
    "NetHEPT": {"SUBSIM ε 0.1": (0.045, 911.0), "OPIM-C ε 0.01": (0.17, 951.0)},
    "Epinions": {"SUBSIM ε 0.1": (0.031, 11_841.0), "OPIM-C ε 0.01": (0.036, 11_832.0)},
}


def run_curve(name: str, g: Graph, k: int, eval_runs: int, repeats: int) -> list[list[str]]:
    """Spread against time at fixed collection sizes (one round of OPIM-C, one thread).

    The anchors give one (time, spread) point each; this curve says what our sampling and
    selection reach in the same time, and what the same spread costs us.
    """
    rows: list[list[str]] = []
    for size in CURVE_SIZES:
        numba.set_num_threads(1)
        best: OPIMC | None = None
        for _ in range(repeats):
            est = OPIMC(
                k, epsilon=0.5, min_rr_sets=size, max_rr_sets=size, overfit_tol=float("inf"),
                random_state=1,
            ).fit(g)  # fmt: skip
            if best is None or est.timings_["total"] < best.timings_["total"]:
                best = est
        assert best is not None
        numba.set_num_threads(2)
        mean, se = evaluate(g, best.seeds_, "ic-wc", eval_runs)
        known = BEST.get((name, "ic-wc", k))
        rows.append(
            [name, fmt_int(size), f"{best.timings_['total']:.3f}",
             f"{best.timings_['sampling']:.3f}", f"{best.timings_['selection']:.3f}",
             f"{100 * best.overfit_:.1f}%", f"{best.approximation_:.3f}",
             f"{mean:,.1f} ± {se:,.1f}", "-" if known is None else f"{100 * mean / known:.1f}%"]
        )  # fmt: skip
        print(f"  curve {name} {size}: {best.timings_['total']:.3f} s, {mean:,.1f}", flush=True)
    for label, (seconds, spread) in ANCHORS.get(name, {}).items():
        known = BEST[(name, "ic-wc", 50)]
        rows.append(
            [f"{name} ({label}, from an outside run)", "-", f"{seconds:.3f}", "-", "-", "-", "-",
             f"{spread:,.0f}", f"{100 * spread / known:.1f}%"]
        )  # fmt: skip
    return rows


def run_baselines(name: str, g: Graph, setting: str, k: int, eval_runs: int) -> list[Cell]:
    cells = []
    heuristics: list[tuple[str, Callable[[], Any]]] = [
        ("top_degree", lambda: top_degree(g, k)),
        ("degree_discount", lambda: degree_discount(g, k, p=0.01)),
        ("pagerank_seeds", lambda: pagerank_seeds(g, k)),
    ]
    for alg, fn in heuristics:
        t0 = time.perf_counter()
        seeds = fn()
        seconds = time.perf_counter() - t0
        mean, se = evaluate(g, seeds, setting, eval_runs)
        cells.append(Cell(name, setting, k, None, alg, 1, seconds, spread=mean, spread_se=se))
    return cells


# ---------------------------------------------------------------------- Monte-Carlo peers
def mc_peers(g: Graph, seeds: np.ndarray, runs: int, ndlib_runs: int) -> list[list[str]]:
    from grapevine.diffusion import edge_probabilities

    p = edge_probabilities(g, "wc")
    idx = g.index_of(seeds)
    rows = []
    for t in (1, 2):
        numba.set_num_threads(t)
        simulate(g, seeds, runs=50, random_state=0)  # warm
        best, best_cpu = np.inf, np.inf
        for _ in range(3):
            c0, t0 = time.process_time(), time.perf_counter()
            res = simulate(g, seeds, runs=runs, random_state=3)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        rows.append(
            [f"grapevine simulate, {t} thread(s)", fmt_int(runs), f"{res.mean:,.0f}",
             f"{1e3 * best / runs:.3f}", f"{1e3 * best_cpu / runs:.3f}"]
        )  # fmt: skip
    numba.set_num_threads(2)
    try:
        import array

        from cynetdiff.models import IndependentCascadeModel

        model = IndependentCascadeModel(
            array.array("I", g.indptr.astype(np.uint32).tolist()),
            array.array("I", g.indices.astype(np.uint32).tolist()),
            activation_probs=array.array("f", p.astype(np.float32).tolist()),
            rng=1,
        )
        seed_list = [int(x) for x in idx]
        model.compute_marginal_gains(seed_list, [], 20)
        best, best_cpu = np.inf, np.inf
        for _ in range(3):
            c0, t0 = time.process_time(), time.perf_counter()
            gains = model.compute_marginal_gains(seed_list, [], runs)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        rows.append(
            ["cynetdiff IndependentCascadeModel (1 thread)", fmt_int(runs), f"{gains[0]:,.0f}",
             f"{1e3 * best / runs:.3f}", f"{1e3 * best_cpu / runs:.3f}"]
        )  # fmt: skip
    except ImportError as exc:
        rows.append(["cynetdiff", "-", "-", f"not installed ({exc})", "-"])
    try:
        import networkx as nx
        from ndlib.models import ModelConfig
        from ndlib.models.epidemics import IndependentCascadesModel

        src = g.sources()
        G = nx.DiGraph()
        G.add_nodes_from(range(g.n_nodes))
        G.add_edges_from(zip(src.tolist(), g.indices.tolist(), strict=True))
        config = ModelConfig.Configuration()
        config.add_model_initial_configuration("Infected", [int(x) for x in idx])
        for u, v, q in zip(src.tolist(), g.indices.tolist(), p.tolist(), strict=True):
            config.add_edge_configuration("threshold", (u, v), q)
        np.random.seed(1)  # noqa: NPY002 (ndlib draws from the legacy global generator)
        total = total_cpu = 0.0
        spreads = []
        for _ in range(ndlib_runs):
            m = IndependentCascadesModel(G)
            m.set_initial_status(config)
            c0, t0 = time.process_time(), time.perf_counter()
            while True:
                it = m.iteration(node_status=False)
                if it["node_count"][1] == 0:
                    break
            total += time.perf_counter() - t0
            total_cpu += time.process_time() - c0
            spreads.append(it["node_count"][2])
        rows.append(
            ["ndlib IndependentCascadesModel (1 thread)", fmt_int(ndlib_runs),
             f"{np.mean(spreads):,.0f}", f"{1e3 * total / ndlib_runs:.1f}",
             f"{1e3 * total_cpu / ndlib_runs:.1f}"]
        )  # fmt: skip
    except ImportError as exc:
        rows.append(["ndlib", "-", "-", f"not installed ({exc})", "-"])
    return rows


# ---------------------------------------------------------------------- report
def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def selection_table(cells: list[Cell]) -> str:
    headers = [
        "graph", "model", "k", "ε", "algorithm", "threads", "fit s", "cpu s", "sampling s",
        "selection s", "RR sets", "peak MB", "estimate", "certified", "spread (MC)", "vs best",
    ]  # fmt: skip
    rows = []
    for c in cells:
        best = BEST.get((c.graph, c.model, c.k))
        vs = "-" if best is None or c.spread is None else f"{100 * c.spread / best:.1f}%"
        spread = "-" if c.spread is None else f"{c.spread:,.1f} ± {c.spread_se:,.1f}"
        rows.append(
            [c.graph, c.model, c.k, fmt(c.eps, "g"), c.algorithm, c.threads,
             f"{c.seconds:.3f}", fmt(c.cpu, ".3f"), fmt(c.sampling, ".3f"), fmt(c.selection, ".3f"),
             fmt_int(c.rr_sets), fmt(c.peak_mb, ".0f"), fmt(c.estimate, ",.1f"),
             fmt(c.certified, ".3f"), spread, vs]
        )  # fmt: skip
    return markdown_table(headers, rows, "lllrllrrrrrrrrrr")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--graphs", default="NetHEPT,Epinions,NetPHY,wiki-Vote,PL-10M")
    ap.add_argument("--huge", action="store_true", help="add PL-50M (50 million arcs)")
    ap.add_argument("--k", default="50", help="comma-separated k values")
    ap.add_argument("--eps", default="0.5,0.1", help="comma-separated epsilon values")
    ap.add_argument(
        "--models",
        default="ic-wc,lt:0.1,ic-0.01:0.1",
        help="ic-wc, ic-0.01, lt (comma-separated); 'lt:0.1/0.05' restricts that model's eps",
    )
    ap.add_argument("--full", action="store_true", help="k 50,500; eps 0.5,0.1,0.05; 3 models")
    ap.add_argument("--threads", default="1,2", help="numba threads for OPIM-C")
    ap.add_argument("--eval-runs", type=int, default=10_000)
    ap.add_argument(
        "--eval-runs-generated", type=int, default=1_000, help="evaluator runs on PL graphs"
    )
    ap.add_argument("--imm-generated", action="store_true", help="also run IMM on PL graphs")
    ap.add_argument(
        "--imm-skip",
        default="",
        help="model:eps cells without IMM, comma-separated (ic-0.01:0.05: IMM's theta there "
        "runs to hundreds of millions of RR sets)",
    )
    ap.add_argument("--mc-runs", type=int, default=5_000, help="runs per MC timing")
    ap.add_argument("--ndlib-runs", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true", help="skip the MC peers")
    ap.add_argument(
        "--peers-only", action="store_true", help="only the MC peers (Epinions, OPIM-C seeds)"
    )
    ap.add_argument("--no-compile", action="store_true", help="skip the compile timing")
    ap.add_argument(
        "--curve",
        action="store_true",
        help="also spread against time at fixed RR-set counts (IC WC, k 50, 1 thread)",
    )
    ap.add_argument("--curve-repeats", type=int, default=3, help="fits per curve point (best)")
    ap.add_argument("--note", default="", help="a line added to the notes")
    ap.add_argument("--out", default=str(RESULTS_DIR / "planning_peers.md"))
    args = ap.parse_args()
    if args.full:
        args.k, args.eps, args.models = "50,500", "0.5,0.1,0.05", "ic-wc,ic-0.01,lt"
    graphs = args.graphs.split(",") + (["PL-50M"] if args.huge else [])
    ks = [int(x) for x in args.k.split(",")]
    epss = [float(x) for x in args.eps.split(",")]
    # "lt" runs every --eps value; "lt:0.1/0.05" only those
    plan: list[tuple[str, list[float]]] = []
    for spec in args.models.split(","):
        model_name, _, eps_text = spec.partition(":")
        if model_name not in MODELS:
            sys.exit(f"unknown model {model_name!r}; choose from {', '.join(MODELS)}")
        plan.append((model_name, [float(x) for x in eps_text.split("/")] if eps_text else epss))
    settings = [m for m, _ in plan]
    threads = [int(x) for x in args.threads.split(",")]

    if args.peers_only:
        warm_up(["ic-wc"])
        g, _, _ = load("Epinions")
        seeds = OPIMC(50, random_state=1).fit(g).seeds_
        rows = mc_peers(g, np.asarray(seeds), args.mc_runs, args.ndlib_runs)
        report(args, [], [], [], rows, done=True)
        return 0
    curve_rows: list[list[str]] = []
    skip_imm = {x.strip() for x in args.imm_skip.split(",") if x.strip()}
    compile_rows = [] if args.no_compile else compile_times()
    warm_up(settings)
    graph_rows: list[list[str]] = []
    cells: list[Cell] = []
    peer_rows: list[list[str]] = []
    for name in graphs:
        g, load_s, gen_s = load(name)
        t0 = time.perf_counter()
        g.transpose()  # the in-arc CSR, built once per graph and kept by it
        transpose_s = time.perf_counter() - t0
        graph_rows.append(
            [name, fmt_int(g.n_nodes), fmt_int(g.n_edges), f"{load_s:.2f}",
             f"{transpose_s:.2f}", f"{gen_s:.1f}" if gen_s else "-"]
        )  # fmt: skip
        generated = name in GENERATED
        eval_runs = args.eval_runs_generated if generated else args.eval_runs
        with_imm = not generated or args.imm_generated
        print(f"{name}: {g.n_nodes:,} nodes, {g.n_edges:,} arcs, load {load_s:.2f} s", flush=True)
        for setting, setting_eps in plan:
            for k in ks:
                for eps in setting_eps:
                    imm_here = with_imm and f"{setting}:{eps:g}" not in skip_imm
                    new = run_selection(name, g, setting, k, eps, threads, eval_runs, imm_here)
                    cells += new
                    for c in new:
                        print(f"  {c.algorithm} {setting} k={k} eps={eps} t={c.threads}: "
                              f"{c.seconds:.3f} s, spread {c.spread:,.1f}", flush=True)  # fmt: skip
                cells += run_baselines(name, g, setting, k, eval_runs)
                report(args, graph_rows, compile_rows, cells, peer_rows, curve_rows, done=False)
        if args.curve:
            curve_rows += run_curve(name, g, 50, eval_runs, args.curve_repeats)
            report(args, graph_rows, compile_rows, cells, peer_rows, curve_rows, done=False)
        if name == "Epinions" and not args.no_peers:
            opim = next(
                (c for c in cells if c.graph == name and c.algorithm == "OPIM-C" and c.k == 50
                 and c.model == "ic-wc"),
                None,
            )  # fmt: skip
            seeds = np.asarray(opim.seeds) if opim else top_degree(g, 50)
            peer_rows = mc_peers(g, seeds, args.mc_runs, args.ndlib_runs)
            report(args, graph_rows, compile_rows, cells, peer_rows, curve_rows, done=False)
        del g
    report(args, graph_rows, compile_rows, cells, peer_rows, curve_rows, done=True)
    return 0


def report(
    args: argparse.Namespace,
    graph_rows: list[list[str]],
    compile_rows: list[list[str]],
    cells: list[Cell],
    peer_rows: list[list[str]],
    curve_rows: list[list[str]] | None = None,
    *,
    done: bool,
) -> None:
    """Write the report (also while the run goes on, so a stopped run leaves its table)."""
    command = "python benchmarks/planning_peers.py " + " ".join(sys.argv[1:])
    facts = machine_facts(
        ["numba", "numpy", "cynetdiff", "ndlib", "igraph", "networkx"],
        [
            ("command", f"`{command.strip()}`"),
            ("numba threads", str(numba.config.NUMBA_NUM_THREADS)),
        ],
    )
    parts = [
        "# Seed selection and Monte-Carlo simulation beside the peers",
        "",
        facts_markdown(facts),
    ]
    if graph_rows:
        parts += [
            "",
            "## Graphs",
            "",
            markdown_table(
                ["graph", "nodes", "arcs", "load s", "transpose s", "generate s"],
                graph_rows,
                "lrrrrr",
            ),
        ]
    if compile_rows:
        parts += [
            "",
            "## Numba compile (fresh interpreter, 3-node graph, OPIM-C IC+LT, simulate IC+LT)",
            "",
            markdown_table(
                ["cache", "import s", "selection s", "simulation s", "total s"],
                compile_rows,
                "lrrrr",
            ),
        ]
    if cells:
        parts += [
            "",
            "## Seed selection",
            "",
            "`fit s` is the wall time of `fit` (sampling + selection + bounds), `cpu s` the "
            "CPU time of the process meanwhile (all threads; less sensitive to other load); "
            "`RR sets` per collection (OPIM-C samples two, IMM its θ plus a quarter more for "
            "validation and the sampling phase); `peak MB` the resident-set growth during "
            "`fit`; `estimate` the algorithm's own spread estimate (OPIM-C: on its validation "
            "sets); `certified` the a-posteriori ratio; `spread (MC)` one evaluator for all: "
            f"{args.eval_runs:,} `simulate` runs ({args.eval_runs_generated:,} on the "
            f"generated graphs), `random_state={EVAL_SEED}` (± standard error); `vs best` "
            "against the "
            "best spreads known from an outside side-by-side run (NetHEPT 968, Epinions 12,090).",
            "",
            selection_table(cells),
        ]
    if curve_rows:
        parts += [
            "",
            "## Spread against time, one thread (IC weighted cascade, k = 50)",
            "",
            "One round of OPIM-C at a fixed number of RR sets per collection (no adaptive "
            "rule), best wall time of "
            f"{args.curve_repeats} fits on one numba thread; `overfit` is the seeds' coverage "
            "of the selection sets over that of the validation sets, minus one; the spread by "
            "the same evaluator as above. The outside run's anchors (C++, one thread, same machine "
            "kind) close each graph's rows.",
            "",
            markdown_table(
                [
                    "graph",
                    "RR sets",
                    "fit s",
                    "sampling s",
                    "selection s",
                    "overfit",
                    "certified",
                    "spread (MC)",
                    "vs best",
                ],
                curve_rows,
                "lrrrrrrrr",
            ),
        ]
    if peer_rows:
        parts += [
            "",
            "## Monte-Carlo simulation, Epinions, IC weighted cascade, 50 OPIM-C seeds",
            "",
            markdown_table(
                ["simulator", "runs", "mean spread", "wall ms / simulation", "CPU ms / simulation"],
                peer_rows,
                "lrrrr",
            ),
        ]
    notes = [
        "Anchors from an outside side-by-side run (same machine kind, single thread, "
        "IC weighted cascade, k = 50): "
        "SUBSIM (C++, ε 0.1) 0.031 s on Epinions for 11,841 and 0.045 s on NetHEPT for 911; "
        "OPIM-C (C++, ε 0.01) 0.036 s for 11,832 and 0.17 s for 951; cynetdiff 1.6-1.7 ms per "
        "simulation on Epinions; a plain C++ simulator 0.88 ms.",
        "Peak memory is the growth of the resident set during `fit`, so arrays reused from an "
        "earlier fit do not count; the graph itself is not included.",
    ]
    if args.note:
        notes.append(args.note)
    if not done:
        notes.append("**Partial**: the run had not finished when this was written.")
    parts += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    text = "\n".join(parts)
    if done:
        write_report(Path(args.out), text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
