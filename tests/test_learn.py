"""Learned edge probabilities: Goyal et al.'s counts, Saito et al.'s EM, held-out scoring."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.testing as npt
import pandas as pd
import pytest

from grapevine.errors import InvalidParameter, NotConverged
from grapevine.graph import Graph
from grapevine.roles._learn import (
    CascadeArrays,
    EdgeProbabilities,
    cascade_arrays,
    cascade_log_likelihood,
    learn_probabilities,
    next_adopter_auc,
)


# ---------------------------------------------------------------------------- naive references
def _lists(cs: CascadeArrays) -> list[list[tuple[int, float]]]:
    return [
        list(zip(cs.nodes[a:b].tolist(), cs.times[a:b].tolist(), strict=True))
        for a, b in zip(cs.indptr[:-1], cs.indptr[1:], strict=True)
    ]


def naive_goyal(g: Graph, cascades, method: str, window: float) -> np.ndarray:
    src, dst = g.sources().tolist(), g.indices.tolist()
    out = []
    for u, v in zip(src, dst, strict=True):
        a_u = a_u2v = a_either = 0
        for c in cascades:
            t = dict(c)
            a_u += u in t
            a_either += u in t or v in t
            a_u2v += u in t and v in t and 0 < t[v] - t[u] <= window
        den = a_u if method == "bernoulli" else a_either
        out.append(a_u2v / den if den else 0.0)
    return np.array(out)


def naive_log_likelihood(g: Graph, p, cascades, window: float, eps: float) -> float:
    arcs = {(u, v): float(q) for u, v, q in zip(g.sources(), g.indices, p, strict=True)}
    total = 0.0
    for c in cascades:
        t = dict(c)
        for i, (v, tv) in enumerate(c):
            parents = [u for u in t if (u, v) in arcs and 0 < tv - t[u] <= window]
            failed = [u for u in t if (u, v) in arcs and tv - t[u] > window]
            if i > 0:
                total += math.log(max(1 - math.prod(1 - arcs[u, v] for u in parents), eps))
            if failed:
                total += math.log(max(math.prod(1 - arcs[u, v] for u in failed), eps))
        for v in range(g.n_nodes):
            failed = [u for u in t if (u, v) in arcs] if v not in t else []
            if failed:
                total += math.log(max(math.prod(1 - arcs[u, v] for u in failed), eps))
    return total


def naive_auc(g: Graph, p, cascades) -> float:
    arcs = {(u, v): float(q) for u, v, q in zip(g.sources(), g.indices, p, strict=True)}
    aucs = []
    for c in cascades:
        adopters = {v for v, _ in c}
        negatives = [w for w in range(g.n_nodes) if w not in adopters]
        for k in range(1, len(c)):
            active = [u for u, _ in c[:k]]

            def score(w, active=active):
                return 1 - math.prod(1 - arcs.get((u, w), 0.0) for u in active)

            s = score(c[k][0])
            if negatives:
                aucs.append(
                    sum(1.0 if score(w) < s else 0.5 if score(w) == s else 0 for w in negatives)
                    / len(negatives)
                )
    return float(np.mean(aucs))


def random_case(seed: int, n: int = 8, m: int = 20, n_casc: int = 15):
    rng = np.random.default_rng(seed)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(m, 2)) if a != b}
    src, dst = zip(*sorted(pairs), strict=True)
    g = Graph.from_arrays(np.array(src), np.array(dst), nodes=np.arange(n))
    lists = []
    for _ in range(n_casc):
        size = int(rng.integers(1, n + 1))
        nodes = rng.choice(n, size=size, replace=False)
        times = np.sort(rng.integers(0, 6, size=size)).astype(float)  # ties on purpose
        lists.append(list(zip(nodes.tolist(), times.tolist(), strict=True)))
    cs = cascade_arrays(g, lists)
    return g, cs, rng.uniform(0, 1, g.n_edges)


# ---------------------------------------------------------------------------- Goyal et al.
@pytest.mark.parametrize("method", ["bernoulli", "jaccard"])
@pytest.mark.parametrize("window", [None, 2.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_goyal_matches_naive(method, window, seed):
    g, cs, _ = random_case(seed)
    got = EdgeProbabilities(method, window=window).fit(g, cs).probabilities_
    ref = naive_goyal(g, _lists(cs), method, math.inf if window is None else window)
    assert got.dtype == np.float32
    npt.assert_allclose(got, ref, rtol=1e-6)


def test_goyal_hand_example():
    # a -> b, a -> c, b -> c; b follows a twice in three, c once (outside window 3)
    g = Graph.from_edges([("a", "b"), ("a", "c"), ("b", "c")])
    casc = [[("a", 0), ("b", 1)], [("a", 0), ("c", 5)], [("a", 0), ("b", 2), ("c", 4)], [("c", 0)]]
    bern = learn_probabilities(g, casc, "bernoulli", window=3)
    jac = learn_probabilities(g, casc, "jaccard", window=3)
    npt.assert_allclose(bern, [2 / 3, 0.0, 1 / 2], rtol=1e-6)  # A_b = 2, b->c within 3 once
    npt.assert_allclose(jac, [2 / 3, 0.0, 1 / 4], rtol=1e-6)  # b or c in 4 cascades


# ---------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("window", [None, 1.0, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_log_likelihood_matches_naive(window, seed):
    g, cs, p = random_case(seed)
    p[::5] = 0.0  # zero probabilities hit the epsilon floor
    p[1::7] = 1.0
    got = cascade_log_likelihood(g, p, cs, window=window, epsilon=1e-4)
    ref = naive_log_likelihood(g, p, _lists(cs), math.inf if window is None else window, 1e-4)
    assert got.total == pytest.approx(ref, rel=1e-9, abs=1e-9)
    assert got.n_activations == cs.n_adoptions - cs.n_cascades


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_naive(seed):
    g, cs, p = random_case(seed)
    assert next_adopter_auc(g, p, cs) == pytest.approx(naive_auc(g, p, _lists(cs)), abs=1e-12)


def test_fit_log_likelihood_is_the_scoring_function():
    g, cs, _ = random_case(4)
    for method in ("bernoulli", "jaccard", "em"):
        est = EdgeProbabilities(method).fit(g, cs)
        assert est.log_likelihood_ == pytest.approx(
            cascade_log_likelihood(g, est.probabilities_, cs).total, rel=1e-9
        )


# ---------------------------------------------------------------------------- EM
def simulate_ic(g: Graph, p: np.ndarray, n: int, rng: np.random.Generator):
    """Discrete-time IC from one random seed each: times are step numbers."""
    out = []
    for _ in range(n):
        seed = int(rng.integers(g.n_nodes))
        when = {seed: 0}
        frontier, step = [seed], 0
        while frontier:
            step += 1
            nxt = []
            for u in frontier:
                for e in range(g.indptr[u], g.indptr[u + 1]):
                    v = int(g.indices[e])
                    if v not in when and rng.random() < p[e]:
                        when[v] = step
                        nxt.append(v)
            frontier = nxt
        out.append(sorted(when.items(), key=lambda x: x[1]))
    return out


def test_em_recovers_known_probabilities():
    # a small graph where nodes have several in-neighbours (so parents are ambiguous)
    arcs = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4), (2, 4), (4, 0), (3, 0), (1, 4)]
    g = Graph.from_arrays(*map(np.array, zip(*arcs, strict=True)), nodes=np.arange(5))
    rng = np.random.default_rng(7)
    true_p = rng.uniform(0.1, 0.7, g.n_edges)
    cascades = simulate_ic(g, true_p, 4000, rng)
    est = EdgeProbabilities("em", bin_width=1.0, window=1, tol=1e-8, max_iter=10_000).fit(
        g, cascades
    )
    # Each arc is tried n_trials_ times, so its MLE has standard error about
    # sqrt(p (1 - p) / n_trials); ambiguity between parents inflates it a little.
    # Five standard errors keeps the test from flaking while catching a wrong update.
    se = np.sqrt(true_p * (1 - true_p) / est.n_trials_)
    assert est.n_trials_.min() > 300
    assert np.all(np.abs(est.probabilities_ - true_p) < 5 * se)
    # the MLE beats the truth on the training likelihood (by a little)
    truth_ll = cascade_log_likelihood(g, true_p, cascade_arrays(g, cascades), window=1).total
    assert est.log_likelihood_ >= truth_ll - 1e-6


def test_em_single_parent_is_the_success_rate():
    g = Graph.from_edges([("a", "b"), ("a", "c")])
    casc = [[("a", 0), ("b", 1)], [("a", 0)], [("a", 0), ("b", 2), ("c", 3)]]
    npt.assert_allclose(learn_probabilities(g, casc, "em"), [2 / 3, 1 / 3], rtol=1e-6)


def test_em_not_converged():
    g, cs, _ = random_case(0, n_casc=40)
    with pytest.raises(NotConverged) as info:
        EdgeProbabilities("em", max_iter=1).fit(g, cs)
    assert info.value.iterations == 1


# ---------------------------------------------------------------------------- input
def test_empty_cascades_give_defaults():
    g = Graph.from_edges([("a", "b")])
    for method in ("bernoulli", "jaccard", "em"):
        est = EdgeProbabilities(method, default=0.25).fit(g, [])
        npt.assert_array_equal(est.probabilities_, [0.25])
        assert est.log_likelihood_ == 0.0
    ll = cascade_log_likelihood(g, [0.5], cascade_arrays(g, []))
    assert (ll.total, ll.n_activations) == (0.0, 0)
    assert math.isnan(ll.per_activation)
    assert math.isnan(next_adopter_auc(g, [0.5], cascade_arrays(g, [])))


def test_unknown_users_and_repeats_are_dropped_and_counted():
    g = Graph.from_edges([(1, 2), (2, 3)])
    frame = pd.DataFrame(
        {
            "user": ["1", "9", "2", "2", "x", "8"],
            "time": [0.0, 1.0, 2.0, 3.0, 0.0, 1.0],
            "cascade": ["c1", "c1", "c1", "c1", "c2", "c2"],
        }
    )
    cs = cascade_arrays(g, frame)
    assert cs.nodes.tolist() == g.index_of([1, 2]).tolist()
    assert (cs.dropped_adoptions, cs.dropped_repeats, cs.dropped_cascades) == (3, 1, 1)
    assert cs.labels.tolist() == ["c1"]


def test_single_node_cascades_score_nothing():
    g = Graph.from_edges([("a", "b")])
    casc = [[("a", 0.0)], [("b", 3.0)]]
    est = EdgeProbabilities("bernoulli").fit(g, casc)
    npt.assert_array_equal(est.probabilities_, [0.0])  # a adopted once, b never after it
    ll = cascade_log_likelihood(g, [0.5], cascade_arrays(g, casc))
    assert ll.n_activations == 0
    assert ll.n_non_adopters == 1
    assert ll.total == pytest.approx(math.log(0.5))


def test_cascades_sorted_by_time_and_unexplained_counted():
    g = Graph.from_edges([("a", "b")])
    cs = cascade_arrays(g, [[("b", 5.0), ("a", 1.0)], [("b", 0.0), ("a", 1.0)]])
    assert cs.nodes.tolist() == [0, 1, 1, 0]  # a first in the first cascade
    ll = cascade_log_likelihood(g, [0.5], cs, epsilon=1e-3)
    assert ll.n_unexplained == 1  # a after b has no in-neighbour
    assert ll.total == pytest.approx(math.log(0.5) + math.log(1e-3))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"method": "mle"}, "method"),
        ({"window": 0}, "window"),
        ({"bin_width": -1.0}, "bin_width"),
        ({"max_iter": 0}, "max_iter"),
        ({"default": 2.0}, "default"),
    ],
)
def test_bad_parameters(kwargs, name):
    g = Graph.from_edges([("a", "b")])
    with pytest.raises(InvalidParameter) as info:
        EdgeProbabilities(**kwargs).fit(g, [])
    assert info.value.name == name


def test_bad_probabilities_and_times():
    g = Graph.from_edges([("a", "b")])
    cs = cascade_arrays(g, [[("a", 0.0)]])
    with pytest.raises(InvalidParameter):
        cascade_log_likelihood(g, [0.5, 0.5], cs)
    with pytest.raises(InvalidParameter):
        cascade_log_likelihood(g, [1.5], cs)
    with pytest.raises(InvalidParameter):
        cascade_arrays(g, [[("a", float("nan"))]])
    with pytest.raises(InvalidParameter):
        cascade_arrays(g, pd.DataFrame({"user": ["a"], "time": [0.0]}))


# ---------------------------------------------------------------------------- real data
@pytest.mark.shared_data
def test_android_reversed_orientation_fits_better(data_dir: Path):
    from grapevine.connectors.cascades import read_cascades
    from grapevine.graph._read import read_edgelist

    folder = data_dir / "cascades" / "android"
    if not (folder / "graph.txt").is_file():
        pytest.skip(f"{folder} not found")
    edges = read_edgelist(folder / "graph.txt")
    frame = pd.concat(
        [b.posts for b in read_cascades(folder / "train.txt", format="infvae")], ignore_index=True
    )
    lls = {}
    for reverse in (False, True):
        src, dst = (edges.targets, edges.sources) if reverse else (edges.sources, edges.targets)
        g = Graph.from_arrays(src, dst, nodes=np.arange(edges.declared[0]))
        cs = cascade_arrays(g, frame, user="author", time="time", cascade="cascade_id")
        assert cs.n_cascades == 475
        assert cs.dropped_adoptions == 0
        lls[reverse] = EdgeProbabilities("jaccard").fit(g, cs).log_likelihood_
    assert lls[True] > lls[False]
