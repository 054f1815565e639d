"""Cascade trees: reconstruction rules and O(n) metrics against networkx and naive loops."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.cascades import (
    binned_by_size,
    build_forest,
    infer_parents,
    reach_split,
    tree_metrics,
)
from grapevine.errors import BadInput
from grapevine.graph import Graph


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[int], list[int | None], list[float]]:
    """A random forest as (ids, parents, times) with shuffled ids."""
    n = draw(st.integers(min_value=1, max_value=60))
    parents: list[int | None] = [None]
    for i in range(1, n):
        root = draw(st.integers(min_value=0, max_value=9)) == 0
        parents.append(None if root else draw(st.integers(min_value=0, max_value=i - 1)))
    labels = draw(st.permutations(list(range(100, 100 + n))))
    times = [float(i) for i in range(n)]
    order = draw(st.permutations(list(range(n))))
    ids = [labels[i] for i in order]
    par = [None if parents[i] is None else labels[parents[i]] for i in order]
    return ids, par, [times[i] for i in order]


def _nx_trees(ids: list[int], parents: list[int | None]) -> list[nx.Graph]:
    g = nx.Graph()
    g.add_nodes_from(ids)
    g.add_edges_from((c, p) for c, p in zip(ids, parents, strict=True) if p is not None)
    return [g.subgraph(c).copy() for c in nx.connected_components(g)]


@settings(max_examples=150, deadline=None)
@given(forests())
def test_metrics_agree_with_networkx(data: tuple[list[int], list[int | None], list[float]]) -> None:
    ids, parents, times = data
    metrics = tree_metrics(build_forest(ids, parents, times), k=(2,)).set_index("root")
    trees = _nx_trees(ids, parents)
    assert len(metrics) == len(trees)
    roots = {i for i, p in zip(ids, parents, strict=True) if p is None}
    for tree in trees:
        (root,) = roots & set(tree.nodes)
        row = metrics.loc[root]
        n = tree.number_of_nodes()
        assert row["size"] == n
        lengths = nx.single_source_shortest_path_length(tree, root)
        assert row["depth"] == max(lengths.values())
        per_depth: dict[int, int] = {}
        for d in lengths.values():
            per_depth[d] = per_depth.get(d, 0) + 1
        assert row["max_breadth"] == max(per_depth.values())
        if n > 1:
            assert row["broadcast_share"] == per_depth.get(1, 0) / (n - 1)
        else:
            assert math.isnan(row["broadcast_share"])
        if n > 1:
            expected = nx.wiener_index(tree) / (n * (n - 1) / 2)
            assert row["structural_virality"] == pytest.approx(expected, rel=1e-12)
        else:
            assert math.isnan(row["structural_virality"])
        children = {p: 0 for p in tree.nodes}
        for p in parents:
            if p is not None and p in children:
                children[p] += 1
        assert row["max_out_degree"] == max(children.values())


@settings(max_examples=60, deadline=None)
@given(forests())
def test_metrics_do_not_depend_on_labels(
    data: tuple[list[int], list[int | None], list[float]],
) -> None:
    ids, parents, times = data
    a = tree_metrics(build_forest(ids, parents, times)).drop(columns=["root"])
    relabel = {i: f"n{i * 7 % 101}-{i}" for i in ids}
    b = tree_metrics(
        build_forest(
            [relabel[i] for i in ids], [None if p is None else relabel[p] for p in parents], times
        )
    ).drop(columns=["root"])
    pd.testing.assert_frame_equal(a, b)


def test_rules_for_bad_links_are_reported_never_crash() -> None:
    ids = ["a", "b", "c", "d", "e", "b", "x", "y", "z"]
    parents = [None, "a", "zzz", "e", "d", "a", "x", "z", "y"]
    times = [0.0, 5.0, 1.0, 3.0, 4.0, 9.0, 2.0, 7.0, 6.0]
    f = build_forest(ids, parents, times)
    got = {(i, issue) for i, issue in zip(f.issues["id"], f.issues["issue"], strict=True)}
    assert ("b", "duplicate id") in got
    assert ("c", "unknown parent") in got
    assert ("x", "own parent") in got
    assert ("d", "cycle of parent links") in got  # d (t=3) is earlier than e (t=4)
    assert ("z", "cycle of parent links") in got  # z (t=6) is earlier than y (t=7)
    assert ("e", "child before parent in time") not in got
    assert len(f) == 8
    assert f.n_trees == 5  # a, c, x, d, z
    assert int(f.subtree.sum()) == int((f.depth + 1).sum())


def test_child_before_parent_keeps_the_link() -> None:
    f = build_forest(["p", "c"], [None, "p"], [10.0, 5.0])
    assert f.parent.tolist() == [-1, 0]
    assert f.issues["issue"].tolist() == ["child before parent in time"]


def test_time_to_k_and_order() -> None:
    f = build_forest(["r", "a", "b", "c"], [None, "r", "r", "a"], [100.0, 130.0, 110.0, 190.0])
    m = tree_metrics(f, k=(2, 4, 5))
    assert m.loc[0, "time_to_2"] == 10.0
    assert m.loc[0, "time_to_4"] == 90.0
    assert math.isnan(m.loc[0, "time_to_5"])


def test_reach_split_counts_and_audiences() -> None:
    ids = ["brand", "a", "b", "c", "d", "other", "e"]
    parents = [None, "brand", "a", "b", "brand", None, "other"]
    paid = [False, False, False, False, True, False, False]
    followers = [1000, 10, 20, 30, 40, 5, 1]
    cascades = ["camp", "camp", "camp", "camp", "camp", "x", "x"]
    f = build_forest(ids, parents, cascades=cascades)
    r = reach_split(f, followers=np.array(followers), paid=np.array(paid))
    assert r.loc["camp", ["organic", "viral", "paid"]].tolist() == [1, 2, 1]
    assert r.loc["camp", "viral_share"] == 0.5
    assert r.loc["camp", "audience_organic"] == 1000  # the brand's own followers
    assert r.loc["camp", "audience_viral"] == 10 + 20  # a and b passed it on
    assert r.loc["x", ["organic", "viral", "paid"]].tolist() == [1, 0, 0]


def test_infer_parents_most_recent_followee_rule() -> None:
    # arcs point the way influence flows: a -> c means c sees a's posts
    g = Graph.from_edges([("a", "c"), ("b", "c"), ("a", "b"), ("c", "d")])
    users = ["a", "b", "c", "d", "q", "a", "c"]
    times = [0.0, 1.0, 5.0, 6.0, 7.0, 0.0, 1.0]
    cascades = [1, 1, 1, 1, 1, 2, 2]
    parents, report = infer_parents(users, times, cascades, g)
    assert parents.tolist() == [None, "a", "b", "c", None, None, "a"]
    assert report.set_index("cascade").loc[1].tolist() == [5, 2, 1]


def test_infer_parents_ignores_simultaneous_adopters() -> None:
    g = Graph.from_edges([(1, 2)])
    parents, _ = infer_parents([1, 2], [3.0, 3.0], ["c", "c"], g)
    assert parents.tolist() == [None, None]


def test_binned_by_size_uses_log_bins() -> None:
    m = pd.DataFrame({"size": [1, 2, 3, 4, 7, 8], "v": [1.0, 2.0, 4.0, 3.0, 5.0, 9.0]})
    out = binned_by_size(m, "v")
    assert out[["size_from", "size_to", "count"]].to_numpy().tolist() == [
        [1, 2, 1],
        [2, 4, 2],
        [4, 8, 2],
        [8, 16, 1],
    ]
    with pytest.raises(BadInput):
        binned_by_size(m, "nope")


def test_weibo_sample_trees(data_dir) -> None:  # type: ignore[no-untyped-def]
    from grapevine.connectors import read_cascades

    (batch,) = list(read_cascades(data_dir / "cascades/weibo_sample/weibo_sample_casflow.txt"))
    posts = batch.posts
    assert posts is not None
    f = build_forest(
        posts["external_id"], posts["parent_external_id"], posts["time"], posts["cascade_id"]
    )
    m = tree_metrics(f)
    assert len(m) == 30  # one tree per cascade: every parent on a path is in the file
    assert m["size"].sum() == len(posts) == 7_096
    assert m["depth"].max() <= 5
    assert (f.issues["issue"] == "cycle of parent links").sum() == 0
