"""Learned edge probabilities on the Inf-VAE Android cascades, scored on held-out cascades.

For each orientation of ``graph.txt`` (as given: ``src -> dst``; reversed) and each
method (weighted cascade 1/in-degree, Goyal Bernoulli and Jaccard, Saito EM), learn on
``train.txt`` and report the IC log-likelihood of the training cascades, the held-out
log-likelihood per activation on ``test.txt`` (epsilon 1e-6), the next-adopter AUC on
``test.txt`` and the fit time.

    python benchmarks/learn_probabilities.py [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
from grapevine.connectors.cascades import read_cascades
from grapevine.graph import Graph
from grapevine.graph._read import read_edgelist
from grapevine.roles._learn import (
    CascadeArrays,
    EdgeProbabilities,
    cascade_arrays,
    cascade_log_likelihood,
    next_adopter_auc,
)

EPSILON = 1e-6


def load_graph(path: Path, *, reverse: bool) -> Graph:
    edges = read_edgelist(path)
    n = edges.declared[0] if edges.declared else None
    src, dst = (edges.targets, edges.sources) if reverse else (edges.sources, edges.targets)
    nodes = np.arange(n) if n is not None else None
    return Graph.from_arrays(src, dst, nodes=nodes)


def load_cascades(graph: Graph, path: Path) -> CascadeArrays:
    frame = pd.concat([b.posts for b in read_cascades(path, format="infvae")], ignore_index=True)
    return cascade_arrays(graph, frame, user="author", time="time", cascade="cascade_id")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "learn_probabilities.md")
    args = parser.parse_args(argv)
    graph_path = data_file("cascades", "android", "graph.txt")
    train_path = data_file("cascades", "android", "train.txt")
    test_path = data_file("cascades", "android", "test.txt")

    rows = []
    notes = []
    for orientation, reverse in (("as given (src→dst)", False), ("reversed (dst→src)", True)):
        graph = load_graph(graph_path, reverse=reverse)
        train = load_cascades(graph, train_path)
        test = load_cascades(graph, test_path)
        notes.append(
            f"{orientation}: {graph.n_nodes:,} nodes, {graph.n_edges:,} arcs; train "
            f"{train.n_cascades} cascades / {train.n_adoptions:,} adoptions, test "
            f"{test.n_cascades} / {test.n_adoptions:,}; adoptions by users not in the "
            f"graph dropped: {train.dropped_adoptions} train, {test.dropped_adoptions} test"
        )
        methods: list[tuple[str, str | None]] = [
            ("weighted cascade (1/in-degree)", None),
            ("Goyal Bernoulli", "bernoulli"),
            ("Goyal Jaccard", "jaccard"),
            ("Saito EM", "em"),
        ]
        for name, method in methods:
            if method is None:
                seconds, p = time_call(graph.weighted_cascade)
                n_iter = 0
            else:
                EdgeProbabilities(method).fit(graph, train)  # compile the kernels first
                seconds, est = time_call(
                    lambda m=method, g=graph, c=train: EdgeProbabilities(m).fit(g, c)
                )
                p, n_iter = est.probabilities_, est.n_iter_
            tr = cascade_log_likelihood(graph, p, train, epsilon=EPSILON)
            te = cascade_log_likelihood(graph, p, test, epsilon=EPSILON)
            auc = next_adopter_auc(graph, p, test)
            rows.append(
                [
                    orientation,
                    name,
                    f"{tr.total:,.0f}",
                    f"{tr.per_activation:.3f}",
                    f"{te.per_activation:.3f}",
                    f"{te.n_unexplained / te.n_activations:.1%}",
                    f"{auc:.3f}",
                    fmt_seconds(seconds),
                    str(n_iter) if method == "em" else "—",
                ]
            )
            print(" | ".join(rows[-1]), file=sys.stderr)

    headers = [
        "orientation",
        "method",
        "train log-lik",
        "train / activation",
        "held-out log-lik / activation",
        "held-out unexplained",
        "next-adopter AUC",
        "fit s",
        "EM iters",
    ]
    table = markdown_table(headers, rows, align="llrrrrrrr")
    command = "python benchmarks/learn_probabilities.py " + " ".join(argv or sys.argv[1:])
    body = [
        "# Learned edge probabilities",
        "",
        facts_markdown(machine_facts(("numpy", "numba"), (("command", command.strip()),))),
        "",
        "## Android (Inf-VAE, Stack Exchange): learned IC probabilities",
        "",
        table,
        "",
        "- Learned on `train.txt`, scored on `test.txt` (`val.txt` unused). Window infinite: "
        "every in-neighbour adopting earlier is a potential parent.",
        f"- Log-likelihoods in nats; each node-level probability floored at epsilon = {EPSILON:g} "
        f"(log epsilon = {np.log(EPSILON):.2f}). *Unexplained* adopters have no in-neighbour "
        "adopting before them in that orientation: they score log(epsilon) under every method.",
        "- Next-adopter AUC: after each prefix of a test cascade, the real next adopter "
        "against every node that never adopts in that cascade, scored 1 - prod(1 - p) over "
        "the current adopters; mean over all prefixes; ties count one half.",
        "- fit s: wall time of `EdgeProbabilities(method).fit(graph, train)` after a warm-up "
        "call (numba compiled); for the weighted cascade, `graph.weighted_cascade()`.",
        *[f"- {n}" for n in notes],
    ]
    write_report(args.out, "\n".join(body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
