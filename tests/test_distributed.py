"""The distributed path: simulation and RR sets on a real Dask cluster (two worker processes)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grapevine._distributed import blocks
from grapevine.diffusion import MonteCarlo, simulate
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.influence import IMM, OPIMC, opimc

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
pytestmark = pytest.mark.xdist_group("dask")  # one cluster, on one test worker


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with distributed.Client(cluster) as c:
        c.wait_for_workers(2)
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def graph() -> Graph:
    rng = np.random.default_rng(11)
    n = 2_000
    src = rng.integers(0, n, 12_000)
    dst = (src + rng.geometric(0.02, 12_000)) % n
    return Graph.from_arrays(src, dst, nodes=range(n))


@pytest.mark.parametrize(("model", "steps"), [("ic", None), ("lt", None), ("ic", 3), ("lt", 2)])
def test_simulate_on_the_cluster_equals_local_threads(
    client: Any, graph: Graph, model: str, steps: int | None
) -> None:
    seeds = [0, 5, 77, 1_234]
    local = simulate(graph, seeds, model=model, runs=301, steps=steps, random_state=4)
    remote = simulate(
        graph, seeds, model=model, runs=301, steps=steps, random_state=4, client=client
    )
    assert np.array_equal(local.spreads, remote.spreads)
    if steps is None:
        assert remote.new_by_step is None
    else:
        assert remote.new_by_step is not None
        assert local.new_by_step is not None
        assert np.array_equal(local.new_by_step, remote.new_by_step)
    mc = MonteCarlo(model=model, runs=301, steps=steps, random_state=4, client=client)
    assert mc.fit(graph, seeds).spread_ == local.mean


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_opimc_on_the_cluster_picks_the_local_seeds(client: Any, graph: Graph, model: str) -> None:
    local = OPIMC(10, model=model, random_state=2).fit(graph)
    remote = OPIMC(10, model=model, random_state=2, client=client).fit(graph)
    assert remote.seeds_.tolist() == local.seeds_.tolist()
    assert remote.n_rr_sets_ == local.n_rr_sets_
    assert remote.spread_ == local.spread_
    assert remote.approximation_ == local.approximation_
    assert opimc(graph, 10, model=model, random_state=2, client=client).tolist() == (
        local.seeds_.tolist()
    )


def test_imm_on_the_cluster_picks_the_local_seeds(client: Any, graph: Graph) -> None:
    local = IMM(8, epsilon=0.3, min_rr_sets=20_000, random_state=6).fit(graph)
    remote = IMM(8, epsilon=0.3, min_rr_sets=20_000, random_state=6, client=client).fit(graph)
    assert remote.seeds_.tolist() == local.seeds_.tolist()
    assert remote.spread_ == local.spread_
    assert remote.validation_spread_ == local.validation_spread_


def test_a_client_that_is_not_one_is_rejected(graph: Graph) -> None:
    with pytest.raises(InvalidParameter) as err:
        simulate(graph, [0], runs=10, client="tcp://127.0.0.1:8786")
    assert err.value.name == "client"
    with pytest.raises(InvalidParameter) as err:
        OPIMC(2, client=object()).fit(graph)
    assert err.value.name == "client"


class _Threads:
    def __init__(self, threads: int) -> None:
        self.threads = threads

    def nthreads(self) -> dict[str, int]:
        return {"w": self.threads}


@given(st.integers(0, 10**9), st.integers(1, 10_000), st.integers(1, 64))
def test_blocks_cover_the_range_once_in_order(start: int, count: int, threads: int) -> None:
    parts = blocks(_Threads(threads), start, count)
    assert parts[0][0] == start
    assert all(size > 0 for _, size in parts)
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(parts))
    assert sum(size for _, size in parts) == count
    assert len(parts) <= 2 * threads


def test_plan_and_simulate_commands_on_the_cluster(client: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grapevine.cli.main import app

    edges = tmp_path / "g.txt"
    rng = np.random.default_rng(3)
    src = rng.integers(0, 300, 1_500)
    dst = (src + rng.geometric(0.05, 1_500)) % 300
    edges.write_text("".join(f"{u} {v}\n" for u, v in zip(src, dst, strict=True) if u != v))
    runner = CliRunner()
    args = ["plan", str(edges), "--k", "5", "--runs", "200", "--random-state", "1", "--json"]
    local = json.loads(runner.invoke(app, args).output)
    address = client.scheduler.address
    remote = json.loads(runner.invoke(app, [*args, "--scheduler", address]).output)
    assert remote == local
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("".join(f"{s['seed']}\n" for s in local["seeds"]))
    sim = ["simulate", str(edges), "--seeds", str(seeds), "--runs", "300", "--json"]
    assert json.loads(runner.invoke(app, [*sim, "--random-state", "2"]).output) == json.loads(
        runner.invoke(app, [*sim, "--random-state", "2", "--scheduler", address]).output
    )


def test_a_scheduler_that_does_not_answer_is_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grapevine.cli.main import app

    edges = tmp_path / "g.txt"
    edges.write_text("a b\nb c\n")
    result = CliRunner().invoke(
        app, ["plan", str(edges), "--k", "1", "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "no Dask scheduler answered at 'tcp://127.0.0.1:9'" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["plan", str(edges), "--k", "1", "--scheduler", "foo://x:1"])
    assert result.exit_code == 1
    assert "no Dask scheduler answered at 'foo://x:1'" in " ".join(result.output.split())
