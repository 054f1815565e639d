"""CELF lazy greedy over live-edge worlds: equals plain greedy, close to IMM and exact spread."""

from __future__ import annotations

import numpy as np
import pytest

import naive_diffusion as naive
from grapevine.diffusion import simulate
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import CELF, IMM, celf

N = 6
ARCS = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 1), (4, 5), (5, 0)]
P = np.array([0.5, 0.3, 0.6, 0.4, 0.2, 0.7, 0.5, 0.3, 0.6, 0.1])


def tiny() -> Graph:
    src, dst = zip(*ARCS, strict=True)
    return Graph.from_arrays(np.array(src), np.array(dst), nodes=range(N))


def random_graph(n: int, m: int, seed: int) -> Graph:
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    return Graph.from_arrays(src[keep], dst[keep], nodes=range(n))


@pytest.mark.parametrize("model", ["ic", "lt"])
@pytest.mark.parametrize("seed", [1, 2])
def test_celf_equals_plain_greedy_on_the_same_worlds(model: str, seed: int) -> None:
    g = random_graph(80, 320, seed)
    lazy = CELF(8, model=model, runs=200, random_state=seed).fit(g)
    plain = CELF(8, model=model, runs=200, lazy=False, random_state=seed).fit(g)
    assert lazy.seeds_.tolist() == plain.seeds_.tolist()
    np.testing.assert_array_equal(lazy.marginal_spread_, plain.marginal_spread_)
    assert lazy.evaluations_ < plain.evaluations_


def test_marginal_gains_do_not_increase() -> None:
    est = CELF(10, runs=300, random_state=3).fit(random_graph(80, 320, 3))
    assert np.all(np.diff(est.marginal_spread_) <= 0)
    assert est.spread_ == pytest.approx(est.marginal_spread_.sum())


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_worlds_estimate_the_exact_spread(model: str) -> None:
    g = tiny()
    w = P if model == "ic" else np.array([0.4, 0.3, 0.3, 0.5, 0.4, 0.9, 0.5, 0.5, 0.1, 0.2])
    est = CELF(1, model=model, probabilities=w, runs=20_000, random_state=5).fit(g)
    exact = (naive.exact_ic if model == "ic" else naive.exact_lt)(N, ARCS, w, [int(est.seeds_[0])])
    assert est.spread_ == pytest.approx(exact, abs=0.05)
    best = max(
        (naive.exact_ic if model == "ic" else naive.exact_lt)(N, ARCS, w, [v]) for v in range(N)
    )
    assert exact == pytest.approx(best, abs=0.05)


def test_spread_is_close_to_imm() -> None:
    g = random_graph(150, 600, 7)
    c = CELF(5, runs=1000, random_state=1).fit(g)
    i = IMM(5, random_state=1).fit(g)
    sc = simulate(g, c.seeds_, runs=20_000, random_state=9)
    si = simulate(g, i.seeds_, runs=20_000, random_state=9)
    assert abs(sc.mean - si.mean) < 0.03 * si.mean


def test_function_twin_and_labels() -> None:
    g = Graph.from_edges([("a", "b"), ("a", "c"), ("d", "e")])
    assert celf(g, 2, probabilities=1.0, runs=5, random_state=0).tolist() == ["a", "d"]


def test_same_random_state_same_result() -> None:
    g = random_graph(60, 240, 4)
    a = CELF(4, runs=100, random_state=11).fit(g)
    b = CELF(4, runs=100, random_state=11).fit(g)
    assert a.seeds_.tolist() == b.seeds_.tolist()
    assert a.spread_ == b.spread_


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"k": 0}, "k"), ({"k": 7}, "k"), ({"k": 1, "runs": 0}, "runs")]
)
def test_bad_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        CELF(**kwargs).fit(tiny())
    assert info.value.name == name
