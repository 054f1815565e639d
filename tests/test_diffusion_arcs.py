"""Per-arc probabilities from a ``u v p`` file, aligned with the graph's arcs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.diffusion import arc_positions, read_arc_probabilities, simulate
from grapevine.errors import BadInput
from grapevine.graph import Graph


def _naive_positions(graph: Graph, pairs: list[tuple[int, int]]) -> list[int]:
    arcs = list(zip(graph.sources().tolist(), graph.indices.tolist(), strict=True))
    labels = graph.ids.tolist()
    out = []
    for u, v in pairs:
        hits = [i for i, (a, b) in enumerate(arcs) if labels[a] == u and labels[b] == v]
        out.append(hits[0] if hits else -1)
    return out


@settings(max_examples=60, deadline=None)
@given(
    edges=st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=30),
    queries=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=20),
)
def test_arc_positions_agree_with_a_linear_search(
    edges: set[tuple[int, int]], queries: list[tuple[int, int]]
) -> None:
    graph = Graph.from_edges(sorted(edges))
    src = np.array([u for u, _ in queries], dtype=np.int64)
    dst = np.array([v for _, v in queries], dtype=np.int64)
    assert arc_positions(graph, src, dst).tolist() == _naive_positions(graph, queries)


def test_file_values_land_on_their_arcs_and_unlisted_arcs_get_zero(tmp_path: Path) -> None:
    graph = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")])
    path = tmp_path / "p.txt"
    path.write_text("c a 0.75\na b 0.5\n")
    p = read_arc_probabilities(graph, path)
    by_arc = {
        (graph.ids[s], graph.ids[t]): value
        for s, t, value in zip(graph.sources(), graph.indices, p, strict=True)
    }
    assert by_arc == {("a", "b"): 0.5, ("b", "c"): 0.0, ("c", "a"): 0.75, ("a", "c"): 0.0}


def test_certain_arcs_from_a_file_reach_everyone_downstream(tmp_path: Path) -> None:
    graph = Graph.from_edges([(0, 1), (1, 2), (2, 3)])
    path = tmp_path / "p.txt"
    path.write_text("0 1 1\n1 2 1\n")  # 2 -> 3 unlisted: probability 0
    res = simulate(graph, [0], probabilities=read_arc_probabilities(graph, path), runs=5)
    assert res.spreads.tolist() == [3] * 5


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a b 0.5\nb a 0.5\n", "arc 'b' -> 'a' is not in the graph", 2),
        ("a b 0.5\nz b 0.5\n", "arc 'z' -> 'b' is not in the graph", 2),
    ],
)
def test_bad_files_name_the_file_and_line(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    graph = Graph.from_edges([("a", "b")])
    path = tmp_path / "p.txt"
    path.write_text(text)
    with pytest.raises(BadInput, match=message) as info:
        read_arc_probabilities(graph, path)
    assert info.value.file == str(path)
    assert info.value.line == line


def test_a_file_without_probabilities_is_refused(tmp_path: Path) -> None:
    graph = Graph.from_edges([(1, 2), (2, 3)])
    path = tmp_path / "p.txt"
    path.write_text("1 2\n2 3\n")
    with pytest.raises(BadInput, match="needs a third column 'u v p'") as info:
        read_arc_probabilities(graph, path)
    assert info.value.file == str(path)
