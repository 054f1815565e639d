"""OPIM-C, subset sampling, greedy with the upper bound, and IMM's certificate."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_diffusion as naive
from grapevine._kernels.rrsets import greedy_cover, inverted_index, rr_aux, sample_rr_sets
from grapevine._kernels.selection import (
    _greedy_heap,
    _greedy_scan,
    count_covered,
    greedy_cover_bound,
)
from grapevine.diffusion import simulate
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import IMM, OPIMC, opimc
from grapevine.influence._imm import certify
from grapevine.influence._opimc import (
    MAX_JUMP,
    OPIMC_MIN_RR_SETS,
    OVERFIT_TOL,
    _needed,
)

N = 6
ARCS = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 1), (4, 5), (5, 0)]
IN_DEGREE = np.bincount([v for _, v in ARCS], minlength=N)
WC = np.array([1.0 / IN_DEGREE[v] for _, v in ARCS])  # weighted cascade: equal per node
# node 1 and 5 get equal probabilities (subset sampling), node 2 and 3 do not
MIXED = np.array([0.3, 0.5, 0.2, 0.4, 0.6, 0.7, 0.25, 0.3, 0.25, 0.9])
W = np.array([0.4, 0.3, 0.3, 0.5, 0.4, 0.9, 0.5, 0.5, 0.1, 0.2])


def tiny() -> Graph:
    src, dst = zip(*ARCS, strict=True)
    return Graph.from_arrays(np.array(src), np.array(dst), nodes=range(N))


def flat(g: Graph, p: np.ndarray, lt: bool, seed: int, start: int, count: int, chunks: int = 4):
    in_ptr, in_src, eid = g.transpose()
    return sample_rr_sets(
        in_ptr, in_src, np.ascontiguousarray(p[eid]), lt, seed, start, count, chunks
    )


def as_lists(off: np.ndarray, nodes: np.ndarray) -> list[list[int]]:
    return [nodes[off[j] : off[j + 1]].tolist() for j in range(len(off) - 1)]


# ---------------------------------------------------------------------------- sampling
def test_aux_marks_only_nodes_with_equal_in_probabilities() -> None:
    g = tiny()
    in_ptr, _, eid = g.transpose()
    logq = rr_aux(in_ptr, np.ascontiguousarray(MIXED[eid]), False)
    subset = [v for v in range(N) if logq[v] < 0]
    assert subset == [1, 5]  # node 0 and 4 have a single in-arc; 2 and 3 mixed values
    assert logq[1] == pytest.approx(math.log(0.7))


@pytest.mark.parametrize("p", [WC, MIXED, np.full(len(ARCS), 0.35)], ids=["wc", "mixed", "p"])
def test_subset_sampling_matches_naive_set_for_set(p: np.ndarray) -> None:
    off, nodes = flat(tiny(), p, False, 3, 50, 400)
    assert as_lists(off, nodes) == [naive.rr_set(N, ARCS, p, False, 3, 50 + j) for j in range(400)]


@pytest.mark.parametrize("lt", [False, True])
def test_sampling_does_not_depend_on_chunks_batches_or_buffer_size(lt: bool) -> None:
    p = W if lt else WC
    a = as_lists(*flat(tiny(), p, lt, 1, 0, 700, chunks=1))
    b = as_lists(*flat(tiny(), p, lt, 1, 0, 700, chunks=13))
    c = as_lists(*flat(tiny(), p, lt, 1, 0, 300)) + as_lists(*flat(tiny(), p, lt, 1, 300, 400))
    g = tiny()
    in_ptr, in_src, eid = g.transpose()
    q = np.ascontiguousarray(p[eid])
    # a mean size far too small forces several refill rounds
    d = as_lists(*sample_rr_sets(in_ptr, in_src, q, lt, 1, 0, 700, 3, None, 0.01))
    assert a == b == c == d


@pytest.mark.parametrize(
    ("p", "seeds"),
    [(WC, [0]), (WC, [1, 4]), (np.full(len(ARCS), 0.35), [2]), (MIXED, [3, 4])],
    ids=["wc-0", "wc-1-4", "uniform-2", "mixed-3-4"],
)
def test_subset_sampling_estimate_matches_exact_spread(p: np.ndarray, seeds: list[int]) -> None:
    exact = naive.exact_ic(N, ARCS, p, seeds)
    count = 60_000
    off, nodes = flat(tiny(), p, False, 8, 0, count)
    hit = count_covered(off, nodes, N, np.array(seeds, dtype=np.int64))
    frac = hit / count
    se = N * math.sqrt(frac * (1 - frac) / count)
    assert abs(N * frac - exact) < 4 * se


def test_subset_sampling_on_a_star_keeps_each_arc_with_its_probability() -> None:
    # 40 leaves point at node 0 with p = 0.05: each leaf is in an RR set rooted at 0
    # with probability 0.05, independently (geometric gaps, not one draw per arc)
    leaves = 40
    g = Graph.from_arrays(
        np.arange(1, leaves + 1), np.zeros(leaves, dtype=np.int64), nodes=range(leaves + 1)
    )
    off, nodes = flat(g, np.full(leaves, 0.05), False, 2, 0, 200_000)
    sets = as_lists(off, nodes)
    rooted = [s for s in sets if s[0] == 0]
    sizes = np.array([len(s) - 1 for s in rooted])
    assert sizes.mean() == pytest.approx(leaves * 0.05, rel=0.05)
    assert sizes.var() == pytest.approx(leaves * 0.05 * 0.95, rel=0.1)
    counts = np.bincount([x for s in rooted for x in s[1:]], minlength=leaves + 1)[1:]
    assert counts.min() > 0.7 * 0.05 * len(rooted)  # no leaf is skipped


# ---------------------------------------------------------------------------- selection
def random_sets(seed: int, n: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sets = [rng.choice(n, size=rng.integers(1, 4), replace=False) for _ in range(count)]
    off = np.zeros(count + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=off[1:])
    return off, np.concatenate(sets).astype(np.int32)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_greedy_cover_bound_matches_naive(seed: int, k: int) -> None:
    n = 7
    off, nodes = random_sets(seed, n, 40)
    sets = as_lists(off, nodes)
    seeds, marginal, upper = greedy_cover_bound(off, nodes, n, k)
    plain, plain_marginal = greedy_cover(off, nodes, n, k)
    assert seeds.tolist() == plain.tolist() == naive.greedy_cover(sets, n, k)
    assert marginal.tolist() == plain_marginal.tolist()
    assert upper == naive.greedy_upper_bound(sets, n, k)
    assert naive.best_coverage(sets, n, k) <= upper
    assert count_covered(off, nodes, n, seeds) == naive.coverage(sets, seeds.tolist())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 60), st.integers(1, 8))
def test_heap_and_scan_greedy_agree(seed: int, n: int, k: int) -> None:
    k = min(k, n)
    off, nodes = random_sets(seed, n, 3 * n)
    ptr, sets = inverted_index(off, nodes, n)
    results = []
    for kernel in (_greedy_heap, _greedy_scan):
        degree = np.diff(ptr).astype(np.int64)
        seeds = np.empty(k, dtype=np.int64)
        marginal = np.zeros(k, dtype=np.int64)
        upper = kernel(ptr, sets, off, nodes, degree, k, seeds, marginal)
        results.append((seeds.tolist(), marginal.tolist(), int(upper)))
    assert results[0] == results[1]
    assert results[0][0] == naive.greedy_cover(as_lists(off, nodes), n, k)
    if n <= 12:
        assert results[0][2] == naive.greedy_upper_bound(as_lists(off, nodes), n, k)


def test_greedy_cover_bound_when_k_is_n() -> None:
    off, nodes = random_sets(1, 5, 30)
    seeds, marginal, upper = greedy_cover_bound(off, nodes, 5, 5)
    assert sorted(seeds.tolist()) == list(range(5))
    assert int(marginal.sum()) == upper == 30


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 10_000),
    st.floats(1.0, 40.0),
    st.integers(1, 50),
)
def test_certify_bounds_bracket_the_estimates(cov: int, extra: int, a: float, k: int) -> None:
    theta, n = 20_000, 100_000
    upper_cov = cov + extra
    low, up = certify(cov, theta, cov, upper_cov, theta, k, n, a, a)
    assert low <= max(n * cov / theta, k)
    assert up >= min(n * min(upper_cov, cov / (1 - (1 - 1 / k) ** k)) / theta, n) - 1e-6
    low2, up2 = certify(cov, theta, cov, upper_cov, theta, k, n, a + 1, a + 1)
    assert low2 <= low  # more confidence, wider bounds
    assert up2 >= up


# ---------------------------------------------------------------------------- OPIM-C
def exact(p: np.ndarray, lt: bool, seeds: list[int]) -> float:
    return (naive.exact_lt if lt else naive.exact_ic)(N, ARCS, p, seeds)


@pytest.mark.parametrize(("k", "lt"), [(1, False), (2, False), (1, True), (2, True)])
def test_opimc_bounds_bracket_the_exact_values(k: int, lt: bool) -> None:
    p = W if lt else WC
    est = OPIMC(k, model="lt" if lt else "ic", probabilities=p, epsilon=0.2, random_state=0)
    est.fit(tiny())
    value = exact(p, lt, est.seed_index_.tolist())
    best = max(exact(p, lt, list(s)) for s in itertools.combinations(range(N), k))
    assert est.spread_lower_ <= value <= best <= est.spread_upper_
    assert value >= 0.95 * best
    assert est.spread_ == pytest.approx(value, rel=0.05)
    assert est.approximation_ == pytest.approx(est.spread_lower_ / est.spread_upper_)
    assert est.approximation_ >= est.guarantee_ == pytest.approx(1 - 1 / np.e - 0.2)
    assert est.n_rr_sets_ >= 32_768
    assert est.marginal_spread_.sum() == pytest.approx(est.selection_spread_)
    assert set(est.timings_) == {"sampling", "selection", "total"}


def test_opimc_reproducible_and_function_twin() -> None:
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 300, (2, 1500))
    g = Graph.from_arrays(src, dst)
    a = OPIMC(5, epsilon=0.3, random_state=7).fit(g)
    b = OPIMC(5, epsilon=0.3, random_state=7).fit(g)
    assert a.seeds_.tolist() == b.seeds_.tolist()
    assert (a.spread_, a.n_rr_sets_) == (b.spread_, b.n_rr_sets_)
    assert a.approximation_ == b.approximation_
    assert opimc(g, 5, epsilon=0.3, random_state=7).tolist() == a.seeds_.tolist()
    imm_est = IMM(5, epsilon=0.3, random_state=7).fit(g)
    check = simulate(g, np.concatenate([a.seeds_, imm_est.seeds_]), runs=10, random_state=1)
    assert check.mean > 0
    ours = simulate(g, a.seeds_, runs=4000, random_state=1).mean
    theirs = simulate(g, imm_est.seeds_, runs=4000, random_state=1).mean
    assert ours >= 0.97 * theirs


def test_opimc_floor_and_adaptive_rule() -> None:
    g = Graph.from_edges([("ann", "bo"), ("ann", "cy"), ("dee", "eve")])
    bare = OPIMC(1, probabilities=1.0, min_rr_sets=0, overfit_tol=math.inf, random_state=1)
    bare.fit(g)
    assert bare.seeds_.tolist() == ["ann"]
    assert bare.n_rr_sets_ < 32_768  # the paper's start, doubled until the bounds meet
    assert bare.approximation_ >= bare.guarantee_ or bare.n_rr_sets_ >= bare.theta_max_
    floored = OPIMC(1, probabilities=1.0, random_state=1).fit(g)
    assert floored.n_rr_sets_ == 32_768
    capped = OPIMC(1, probabilities=1.0, min_rr_sets=10, max_rr_sets=50, random_state=1)
    assert capped.fit(g).n_rr_sets_ <= 50


def test_needed_size_of_the_adaptive_rule() -> None:
    tol = 0.015
    assert _needed(65_536, 10_100, 10_000, tol) == 65_536  # 1% over, noise 1.4%: settled
    # 1% over but noise 4.5% (1,000 covered sets): about 9 times the sets
    assert _needed(65_536, 1_010, 1_000, tol) == pytest.approx(
        65_536 * (1 / 1_010 + 1 / 1_000) / tol**2
    )
    # 6% over, with little noise: the overfit shrinks as 1/theta, so 4 times the sets
    assert _needed(65_536, 106_000, 100_000, tol) == pytest.approx(65_536 * 0.06 / tol)
    assert _needed(1_000, 50, 10, tol) == MAX_JUMP * 1_000
    assert _needed(1_000, 5, 0, tol) == MAX_JUMP * 1_000
    assert _needed(1_000, 50, 10, math.inf) == 1_000
    assert _needed(1_000, 50, 50, 0.0) == MAX_JUMP * 1_000  # no overfit allowed: grow on


def test_opimc_with_no_overfit_allowed_grows_to_the_cap() -> None:
    est = OPIMC(1, probabilities=0.5, min_rr_sets=64, max_rr_sets=1_024, overfit_tol=0.0)
    assert est.fit(tiny()).n_rr_sets_ == 1_024


def test_opimc_stops_only_when_the_overfit_is_small_and_measurable() -> None:
    rng = np.random.default_rng(5)
    n = 3_000
    src = rng.integers(0, n, 30_000)
    dst = (src + rng.geometric(0.01, 30_000)) % n  # a ring with long chords
    g = Graph.from_arrays(src, dst, nodes=range(n))
    est = OPIMC(20, random_state=3).fit(g)
    cov1 = est.selection_spread_ * est.n_rr_sets_ / n
    cov2 = est.spread_ * est.n_rr_sets_ / n
    assert est.overfit_ == pytest.approx(cov1 / cov2 - 1, abs=1e-9)
    assert est.overfit_ <= OVERFIT_TOL
    assert math.sqrt(1 / cov1 + 1 / cov2) <= OVERFIT_TOL
    assert est.approximation_ >= est.guarantee_
    # one collection size tried per round; sizes skipped when the rule asks for many more
    assert est.iterations_ <= math.log2(est.n_rr_sets_ / OPIMC_MIN_RR_SETS) + 1


def test_opimc_on_a_graph_without_edges() -> None:
    g = Graph.from_arrays(
        np.array([], dtype=np.int64), np.array([], dtype=np.int64), nodes=["a", "b", "c"]
    )
    est = OPIMC(2, random_state=0).fit(g)
    assert len(set(est.seeds_.tolist())) == 2
    assert est.spread_lower_ >= 2.0  # the seeds themselves
    assert est.spread_upper_ <= 3.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k": 0}, "k"),
        ({"k": 7}, "k"),
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": 1.0}, "epsilon"),
        ({"ell": 0}, "ell"),
        ({"model": "sir"}, "model"),
        ({"probabilities": 2.0}, "probabilities"),
        ({"min_rr_sets": -1}, "min_rr_sets"),
        ({"overfit_tol": -0.1}, "overfit_tol"),
        ({"max_rr_sets": 0}, "max_rr_sets"),
    ],
)
def test_opimc_invalid_parameters(kwargs: dict, name: str) -> None:
    args = {"k": 1, **kwargs}
    with pytest.raises(InvalidParameter) as err:
        OPIMC(args.pop("k"), **args).fit(tiny())
    assert err.value.name == name
    assert "OPIMC" in str(err.value)


def test_empty_graph_is_rejected() -> None:
    g = Graph(np.zeros(1, dtype=np.int64), np.empty(0, dtype=np.int32))
    with pytest.raises(InvalidParameter):
        OPIMC(1).fit(g)


# ---------------------------------------------------------------------------- NetHEPT
@pytest.mark.shared_data
def test_opimc_on_nethept_reaches_the_reference_spread(data_dir: Path) -> None:
    path = data_dir / "graphs" / "NetHEPT_impc_wc.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = Graph.from_edgelist(path)
    est = OPIMC(50, epsilon=0.5, probabilities="weight", random_state=1).fit(g)
    res = simulate(g, est.seeds_, probabilities="weight", runs=10_000, random_state=2)
    assert res.mean >= 0.99 * 968  # best known about 968; measured 963
    assert est.spread_lower_ <= res.mean + 4 * res.std_error
    assert est.spread_upper_ >= res.mean
    assert est.approximation_ >= 1 - 1 / np.e - 0.5


# ---------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("algorithm", ["opimc", "imm"])
def test_plan_command_algorithm_choice(tmp_path: Path, algorithm: str) -> None:
    import json

    from typer.testing import CliRunner

    from grapevine.cli.main import app

    edges = ["hub a", "hub b", "hub c", "hub d", "a e", "x y", "y z"]
    (tmp_path / "g.txt").write_text("\n".join(edges) + "\n")
    args = ["plan", str(tmp_path / "g.txt"), "--k", "1", "--probabilities", "1", "--runs", "5"]
    result = CliRunner().invoke(app, [*args, "--algorithm", algorithm, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["algorithm"] == algorithm
    assert [s["seed"] for s in data["seeds"]] == ["hub"]
    assert data["spread_lower"] <= data["spread"] <= data["spread_upper"]
    bad = CliRunner().invoke(app, [*args, "--algorithm", "celf"])
    assert bad.exit_code == 2  # a usage error, refused before anything runs
    assert "'celf' is not one of" in bad.output
