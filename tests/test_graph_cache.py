"""The binary graph cache: a hit equals parsing; any change of file, options or cache rebuilds."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from grapevine.cli.main import app
from grapevine.errors import InvalidParameter
from grapevine.graph import Graph
from grapevine.graph._cache import (
    SUFFIX,
    cache_key,
    cache_locations,
    cached_graph,
    reader_options,
)

runner = CliRunner()


def same(a: Graph, b: Graph) -> bool:
    return (
        np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.weights, b.weights)
        and a.ids.tolist() == b.ids.tolist()
        and a.directed == b.directed
        and a.report == b.report
    )


def no_build() -> Graph:
    raise AssertionError("the cache should have been used")


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "user-cache"
    monkeypatch.setenv("GRAPEVINE_CACHE_DIR", str(folder))
    return folder


ids = st.one_of(
    st.integers(0, 40).map(str),
    st.text("abcdefgXYZ", min_size=1, max_size=4).map(lambda s: "x_" + s),
)


@settings(max_examples=40, deadline=None)
@given(
    edges=st.lists(st.tuples(ids, ids), min_size=1, max_size=30),
    weights=st.none() | st.lists(st.floats(0.01, 10.0), min_size=30, max_size=30),
    directed=st.booleans(),
)
def test_a_cached_graph_equals_the_parsed_one(
    edges: list[tuple[str, str]], weights: list[float] | None, directed: bool
) -> None:
    lines = [
        f"{u} {v}" if weights is None else f"{u} {v} {weights[i]!r}"
        for i, (u, v) in enumerate(edges)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edges.txt"
        path.write_text("\n".join(lines) + "\n")
        parsed = Graph.from_edgelist(path, directed=directed, cache=False)
        assert not list(Path(folder).glob("*" + SUFFIX))  # cache=False writes nothing
        first = Graph.from_edgelist(path, directed=directed, cache=True)
        assert (Path(folder) / ("edges.txt" + SUFFIX)).is_file()
        options = reader_options(directed=directed)
        hit, place = cached_graph(path, options, no_build)
        assert place == path.resolve().with_name("edges.txt" + SUFFIX)
        assert same(parsed, first)
        assert same(parsed, hit)


def test_a_changed_file_of_the_same_size_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("1 2\n2 3\n")
    before = Graph.from_edgelist(path, cache=True)
    path.write_text("1 3\n2 3\n")
    after = Graph.from_edgelist(path, cache=True)
    assert before.out_neighbors(1).tolist() == [2]
    assert after.out_neighbors(1).tolist() == [3]
    assert same(after, Graph.from_edgelist(path, cache=False))


def test_other_options_do_not_reuse_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("1 2 0.5\n2 3 0.25\n1 1 1\n")
    directed = Graph.from_edgelist(path, cache=True)
    undirected = Graph.from_edgelist(path, directed=False, cache=True)
    loops = Graph.from_edgelist(path, self_loops=True, cache=True)
    assert (directed.n_edges, undirected.n_edges, loops.n_edges) == (2, 4, 3)
    assert same(undirected, Graph.from_edgelist(path, directed=False, cache=False))
    assert same(loops, Graph.from_edgelist(path, self_loops=True, cache=False))
    assert same(Graph.from_edgelist(path, cache=True), directed)
    assert cache_key(path, reader_options()) != cache_key(path, reader_options(directed=False))


@pytest.mark.parametrize("damage", ["truncated", "foreign npz", "not a zip", "empty"])
def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "g.txt"
    path.write_text("".join(f"{i} {(i * 7) % 50}\n" for i in range(200)))
    parsed = Graph.from_edgelist(path, cache=False)
    Graph.from_edgelist(path, cache=True)
    cache = tmp_path / ("g.txt" + SUFFIX)
    good = cache.read_bytes()
    if damage == "truncated":
        cache.write_bytes(good[: len(good) // 2])
    elif damage == "foreign npz":
        with cache.open("wb") as handle:
            np.savez(handle, indptr=np.array([0, 1]), other=np.arange(3))
    elif damage == "not a zip":
        cache.write_bytes(b"PK\x03\x04 certainly not a graph")
    else:
        cache.write_bytes(b"")
    assert same(Graph.from_edgelist(path, cache=True), parsed)
    assert same(cached_graph(path, reader_options(), no_build)[0], parsed)


def test_an_unwritable_folder_sends_the_cache_to_the_cache_dir(
    tmp_path: Path, user_cache: Path
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "g.txt"
    path.write_text("a b\nb c\nc a\n")
    folder.chmod(0o555)
    try:
        parsed = Graph.from_edgelist(path, header="none", cache=False)
        first = Graph.from_edgelist(path, header="none", cache=True)
        assert sorted(os.listdir(folder)) == ["g.txt"]
        written = list(user_cache.glob("g.txt-*" + SUFFIX))
        assert written == [list(cache_locations(path))[1]]
        hit, place = cached_graph(path, reader_options(header="none"), no_build)
    finally:
        folder.chmod(0o755)
    assert place == written[0]
    assert same(first, parsed)
    assert same(hit, parsed)


def test_small_files_are_not_cached_by_default(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("1 2\n")
    Graph.from_edgelist(path)
    assert sorted(os.listdir(tmp_path)) == ["g.txt"]


def test_the_cache_switch_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("1 2\n")
    with pytest.raises(InvalidParameter, match=r"'cache' parameter of Graph\.from_edgelist"):
        Graph.from_edgelist(path, cache="yes")  # type: ignore[arg-type]


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_convert_then_plan_gives_the_plan_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    rng = np.random.default_rng(0)
    arcs = rng.integers(0, 300, size=(3000, 2))
    path.write_text("".join(f"{u} {v}\n" for u, v in arcs))
    code, out = invoke("graph", "convert", path)
    assert code == 0, out
    cache = tmp_path / ("g.txt" + SUFFIX)
    assert cache.is_file()
    assert str(cache) in out.replace("\n", "")
    plan = ("plan", path, "--k", "3", "--runs", "50", "--random-state", "1", "--json")
    code, cached = invoke(*plan)
    assert code == 0, cached
    stamp = cache.stat().st_mtime_ns
    code, parsed = invoke(*plan, "--no-cache")
    assert code == 0, parsed
    assert json.loads(cached) == json.loads(parsed)
    assert json.loads(cached)["seeds"]
    assert cache.stat().st_mtime_ns == stamp


def test_convert_to_an_explicit_file_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "g.txt"
    path.write_text("1 2\n2 3\n")
    out_file = tmp_path / "elsewhere" / "g.npz"
    code, out = invoke("graph", "convert", path, "--out", out_file)
    assert code == 0, out
    assert same(
        cached_graph(path, reader_options(), no_build, out=out_file)[0],
        Graph.from_edgelist(path, cache=False),
    )
    code, out = invoke("graph", "convert", tmp_path / "missing.txt")
    assert code != 0
    assert "missing.txt" in out
    assert "no such file" in out
