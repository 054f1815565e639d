"""Graph loading: edge-list files into ``grapevine.graph.Graph``, beside the usual peers.

Files (from the shared data folder, plus one written here):

* ``graphs/epinions_adjacency.txt``: SNAP soc-Epinions1 as ``u:v1,v2,...`` lines
  (75,879 nodes, 508,837 arcs);
* ``graphs/wiki-Vote.txt``: SNAP with ``#`` comments, tab separated, CRLF;
* ``graphs/NetPhy.txt``: first line ``n m``, then ``u v`` (multi-edges);
* a synthetic plain ``u v`` list of 500,000 arcs drawn at random (seed 0,
  shuffled) from the Epinions arcs, written to a temporary file.

Methods, each timed end to end from the file to the built structure:

* ``grapevine read_edgelist`` (parsing only), ``read_edgelist`` +
  ``Graph.from_arrays``, and ``Graph.from_edgelist``;
* ``networkx.read_edgelist(..., create_using=DiGraph, nodetype=int)``;
* ``pandas.read_csv`` + ``pd.factorize`` + ``scipy.sparse.csr_array``;
* ``igraph.Graph.Read_Edgelist`` when python-igraph is installed
  (``--install-igraph`` tries ``pip install igraph`` into this interpreter).

Peers get the options their API offers for each file (comment character,
separator, a handle past the header line); where their API cannot read a file,
the table says what happened. Each cell is the median of ``--repeat`` runs.

Usage::

    .venv/bin/python benchmarks/graph_load.py [--repeat N] [--out PATH] [--install-igraph]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from _common import (
    RESULTS_DIR,
    data_file,
    facts_markdown,
    fmt_int,
    fmt_rate,
    fmt_seconds,
    machine_facts,
    markdown_table,
    median,
    time_call,
    write_report,
)
from grapevine.graph import Graph, read_edgelist

SYNTHETIC_ARCS = 500_000


class NotReadable(Exception):
    """The method's API cannot read this file format at all."""


@dataclass
class Dataset:
    name: str
    path: Path
    fmt: str  # "adjacency", "snap", "counts", "plain"
    sep: str  # field separator for the peers
    skip: int = 0  # leading lines that are not edges (comments, the "n m" header)
    edges: int = 0  # edge lines, from grapevine's parse (the rate's numerator)


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    nodes: int | None = None
    arcs: int | None = None
    note: str = ""
    skipped: str | None = None


# ---------------------------------------------------------------------- helpers
def skip_lines(path: Path, n: int, *, raw: bool = False) -> IO[bytes]:
    """A binary handle positioned after ``n`` lines.

    ``raw`` gives an unbuffered handle whose OS file position is right after
    those lines, for readers (igraph) that read through the file descriptor.
    """
    fh: IO[bytes] = open(path, "rb", buffering=0) if raw else open(path, "rb")  # noqa: SIM115
    for _ in range(n):
        fh.readline()
    return fh


def parse_adjacency_python(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """All arcs of a ``u:v1,v2`` file with plain Python (independent of grapevine)."""
    src: list[int] = []
    dst: list[int] = []
    with open(path) as fh:
        for line in fh:
            head, _, tail = line.strip().partition(":")
            if tail:
                vs = [int(v) for v in tail.split(",")]
                src.extend([int(head)] * len(vs))
                dst.extend(vs)
    return np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)


def write_synthetic(epinions: Path, out: Path) -> int:
    src, dst = parse_adjacency_python(epinions)
    rng = np.random.default_rng(0)
    pick = rng.choice(len(src), size=min(SYNTHETIC_ARCS, len(src)), replace=False)
    text = "\n".join(
        f"{u} {v}" for u, v in zip(src[pick].tolist(), dst[pick].tolist(), strict=True)
    )
    out.write_text(text + "\n")
    return len(pick)


# ---------------------------------------------------------------------- methods
Method = Callable[[Dataset], tuple[int | None, int]]


def gv_read(ds: Dataset) -> tuple[int | None, int]:
    return None, len(read_edgelist(ds.path))


def gv_read_from_arrays(ds: Dataset) -> tuple[int | None, int]:
    e = read_edgelist(ds.path)
    g = Graph.from_arrays(e.sources, e.targets, e.weights)
    return g.n_nodes, g.n_edges


def gv_from_edgelist(ds: Dataset) -> tuple[int | None, int]:
    g = Graph.from_edgelist(ds.path)
    return g.n_nodes, g.n_edges


def nx_read_edgelist(ds: Dataset) -> tuple[int | None, int]:
    import networkx as nx

    kwargs: dict[str, Any] = {"create_using": nx.DiGraph, "nodetype": int, "comments": "#"}
    if ds.sep == "\t":
        kwargs["delimiter"] = "\t"
    if ds.fmt == "counts":  # no skip option: hand it a handle past the "n m" line
        with skip_lines(ds.path, ds.skip) as fh:
            g = nx.read_edgelist(fh, **kwargs)
    else:
        g = nx.read_edgelist(ds.path, **kwargs)
    return g.number_of_nodes(), g.number_of_edges()


def nx_adjacency_by_hand(ds: Dataset) -> tuple[int | None, int]:
    import networkx as nx

    if ds.fmt != "adjacency":
        raise NotReadable("only for the adjacency file")
    g = nx.DiGraph()
    with open(ds.path) as fh:
        for line in fh:
            head, _, tail = line.strip().partition(":")
            if tail:
                u = int(head)
                g.add_edges_from((u, int(v)) for v in tail.split(","))
            else:
                g.add_node(int(head))
    return g.number_of_nodes(), g.number_of_edges()


def pandas_scipy(ds: Dataset) -> tuple[int | None, int]:
    if ds.fmt == "adjacency":
        frame = pd.read_csv(ds.path, sep=":", header=None, names=["u", "vs"], dtype=str)
        frame = frame.dropna()
        frame["v"] = frame["vs"].str.split(",")
        frame = frame.explode("v")
        u = frame["u"].to_numpy(dtype=np.int64)
        v = frame["v"].to_numpy(dtype=np.int64)
    else:
        frame = pd.read_csv(
            ds.path,
            sep=ds.sep,
            header=None,
            names=["u", "v"],
            usecols=[0, 1],
            comment="#",
            skiprows=ds.skip if ds.fmt == "counts" else 0,
            dtype=np.int64,
            engine="c",
        )
        u, v = frame["u"].to_numpy(), frame["v"].to_numpy()
    codes, uniques = pd.factorize(np.concatenate([u, v]))
    n, m = len(uniques), len(u)
    a = sp.csr_array(
        (np.ones(m, dtype=np.float32), (codes[:m], codes[m:])), shape=(n, n)
    )  # coo → csr sums repeated pairs
    return n, a.nnz


def igraph_read_edgelist(ds: Dataset) -> tuple[int | None, int]:
    import igraph

    if ds.fmt == "adjacency":
        raise NotReadable("Read_Edgelist reads 'u v' pairs only ('0:4,5,…' is a parse error)")
    with skip_lines(ds.path, ds.skip, raw=True) as fh:
        g = igraph.Graph.Read_Edgelist(fh, directed=True)
    return g.vcount(), g.ecount()


METHODS: list[tuple[str, Method]] = [
    ("grapevine read_edgelist (parse only)", gv_read),
    ("grapevine read_edgelist + Graph.from_arrays", gv_read_from_arrays),
    ("grapevine Graph.from_edgelist", gv_from_edgelist),
    ("networkx.read_edgelist → DiGraph", nx_read_edgelist),
    ("networkx DiGraph.add_edges_from, hand-split lines", nx_adjacency_by_hand),
    ("pandas.read_csv + scipy.sparse.csr_array", pandas_scipy),
    ("igraph.Graph.Read_Edgelist", igraph_read_edgelist),
]
REFERENCE = "grapevine Graph.from_edgelist"

NOTES = {
    ("networkx.read_edgelist → DiGraph", "adjacency"): (
        "silently reads 0 edges: each `u:v1,…` line is one token and is skipped"
    ),
    ("networkx.read_edgelist → DiGraph", "counts"): "handle past the `n m` line",
    ("networkx DiGraph.add_edges_from, hand-split lines", "adjacency"): (
        "also keeps the ids listed with no arc at all (`u:` lines)"
    ),
    ("pandas.read_csv + scipy.sparse.csr_array", "adjacency"): (
        "`sep=':'`, `str.split(',')`, `explode`"
    ),
    ("pandas.read_csv + scipy.sparse.csr_array", "counts"): "`skiprows=1`",
    ("igraph.Graph.Read_Edgelist", "snap"): "handle past the `#` lines (no comment option)",
    ("igraph.Graph.Read_Edgelist", "counts"): "handle past the `n m` line",
}


def igraph_available(install: bool) -> tuple[bool, str]:
    """Whether python-igraph can be imported (installing it first when asked)."""
    if importlib.util.find_spec("igraph") is not None:
        return True, ""
    if not install:
        return False, "python-igraph is not installed (pip install igraph, or --install-igraph)"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "igraph"]
    try:
        subprocess.run(cmd, check=True, timeout=180, capture_output=True)
    except (subprocess.SubprocessError, OSError) as exc:
        return False, f"`pip install igraph` failed or took over 180 s: {type(exc).__name__}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("igraph") is None:
        return False, "`pip install igraph` ran but igraph is still not importable"
    return True, ""


# ---------------------------------------------------------------------- run
def run_dataset(ds: Dataset, methods: list[tuple[str, Method]], repeat: int) -> dict[str, Result]:
    ds.path.read_bytes()  # warm the page cache: every method reads a cached file
    ds.edges = len(read_edgelist(ds.path))  # untimed: the rates' numerator
    results = {name: Result() for name, _ in methods}
    for _ in range(repeat):  # round-robin, so drift hits every method alike
        for name, fn in methods:
            res = results[name]
            if res.skipped is not None:
                continue
            try:
                seconds, (nodes, arcs) = time_call(lambda fn=fn: fn(ds))
            except NotReadable as exc:
                res.skipped = str(exc)
                continue
            except Exception as exc:  # a peer that chokes on a real file: say so, go on
                res.skipped = f"fails: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                continue
            res.times.append(seconds)
            res.nodes, res.arcs = nodes, arcs
    return results


def render(
    datasets: list[Dataset],
    all_results: dict[str, dict[str, Result]],
    facts: list[tuple[str, str]],
    repeat: int,
    igraph_note: str,
) -> str:
    rows = []
    for ds in datasets:
        results = all_results[ds.name]
        ref = results[REFERENCE]
        ref_s = median(ref.times)
        for name, res in results.items():
            if res.skipped == "only for the adjacency file":
                continue
            note = NOTES.get((name, ds.fmt), "")
            if res.skipped is not None:
                rows.append([ds.name, name, "—", "—", "—", "—", "—", "—", res.skipped])
                continue
            s = median(res.times)
            loaded = bool(res.arcs) or not ds.edges  # a reader that read nothing is no peer
            diff = []
            if name.startswith("grapevine") or res.nodes is None:
                pass
            elif res.nodes != ref.nodes or res.arcs != ref.arcs:
                diff.append("≠ grapevine's graph")
            rows.append(
                [
                    ds.name,
                    name,
                    fmt_int(res.nodes),
                    fmt_int(res.arcs),
                    fmt_seconds(s),
                    fmt_seconds(min(res.times)),
                    fmt_rate(ds.edges, s) if loaded else "—",
                    f"{s / ref_s:.2f}×" if loaded and ref_s == ref_s else "—",
                    "; ".join(filter(None, [note, *diff])),
                ]
            )
    table = markdown_table(
        ["file", "method", "nodes", "arcs", "median s", "min s", "edges/s", "× grapevine", "notes"],
        rows,
        align="llrrrrrrl",
    )
    files = "\n".join(
        f"- **{ds.name}**: {fmt_int(ds.edges)} edge lines; `{ds.path.name}`"
        + ("" if ds.fmt != "plain" else " (temporary file, deleted afterwards)")
        for ds in datasets
    )
    runs = "one run" if repeat == 1 else f"median of {repeat} runs"
    parts = [
        "# Graph loading: edge-list files to an in-memory graph",
        "",
        f"Wall seconds from the file to the built structure, {runs} "
        "(runs interleaved across methods, file in the page cache). `edges/s` is the file's "
        "edge lines over the median. `× grapevine` is the median over that of "
        "`Graph.from_edgelist` on the same file (below 1 = faster than grapevine).",
        "",
        table,
        "",
        "What each builds (so the node and arc counts differ where the semantics do):",
        "",
        "- **grapevine**: labels mapped to 0..n-1 in sorted order, repeated arcs merged "
        "(weights summed), self-loops dropped; CSR with int32 indices and float32 weights. "
        "Reads the `n m` header, `#` comments and `u:v1,…` lines by itself.",
        "- **networkx**: a DiGraph of Python ints; repeated arcs collapse into one, self-loops "
        "kept.",
        "- **pandas + scipy**: `read_csv` (C parser), `pd.factorize` (unsorted) and a "
        "`csr_array` whose construction sums repeated pairs; self-loops kept.",
        "- **igraph**: vertex ids are the file's integers (vertices 0..max id, gaps become "
        "isolated vertices), repeated arcs kept as multi-edges.",
        f"- **synthetic**: {SYNTHETIC_ARCS:,} Epinions arcs drawn without replacement "
        "(numpy seed 0, shuffled order), written as `u v` lines.",
    ]
    if igraph_note:
        parts.append(f"- **igraph skipped**: {igraph_note}")
    parts += ["", "Files:", "", files, "", "Machine and versions:", "", facts_markdown(facts)]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    ap.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR / "graph_load.md",
        help="Markdown output (default benchmarks/results/graph_load.md)",
    )
    ap.add_argument(
        "--install-igraph",
        action="store_true",
        help="pip install igraph into this interpreter when it is missing",
    )
    ap.add_argument("--tmpdir", default=None, help="where the synthetic file goes")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    epinions = data_file("graphs", "epinions_adjacency.txt")
    datasets = [
        Dataset("Epinions (adjacency)", epinions, "adjacency", ":"),
        Dataset("wiki-Vote", data_file("graphs", "wiki-Vote.txt"), "snap", "\t", skip=3),
        Dataset("NetPhy", data_file("graphs", "NetPhy.txt"), "counts", " ", skip=1),
    ]
    has_igraph, igraph_note = igraph_available(args.install_igraph)
    methods = [(n, f) for n, f in METHODS if has_igraph or f is not igraph_read_edgelist]

    all_results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="gv-bench-graph-", dir=args.tmpdir) as tmp:
        synthetic = Path(tmp) / "synthetic_500k.txt"
        write_synthetic(epinions, synthetic)
        datasets.append(Dataset("synthetic 500k `u v`", synthetic, "plain", " "))
        for ds in datasets:
            print(f"{ds.name}…", file=sys.stderr, flush=True)
            all_results[ds.name] = run_dataset(ds, methods, args.repeat)

    facts = machine_facts(
        ["numpy", "pandas", "scipy", "networkx", "igraph"],
        [("command", " ".join(["python", "benchmarks/graph_load.py", *sys.argv[1:]]))],
    )
    write_report(args.out, render(datasets, all_results, facts, args.repeat, igraph_note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
