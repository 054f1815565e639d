"""Connectors on the real files (counts from the PROVENANCE files) and on small written files."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grapevine.connectors import (
    CASCADE_FORMATS,
    RECORD_KINDS,
    Batch,
    detect_cascade_format,
    parse_time,
    read_cascades,
    read_edges,
    read_higgs,
    read_netdiffuser,
    read_records,
)
from grapevine.connectors._records import PERSON_COLUMNS, POST_COLUMNS, TIE_COLUMNS
from grapevine.errors import BadInput, InvalidParameter
from support import describe, head_lines, outcome, write_bytes


def concat(batches: list[Batch], what: str) -> pd.DataFrame:
    frames = [getattr(b, what) for b in batches if getattr(b, what) is not None]
    return pd.concat(frames, ignore_index=True)


def assert_bad_input(exc: BadInput, path: Path, line: int | None, field: str | None) -> None:
    assert (exc.file, exc.line, exc.field) == (str(path), line, field), str(exc)
    prefix = (
        str(path) + (f", line {line}" if line else "") + (f", field {field!r}" if field else "")
    )
    assert str(exc).startswith(prefix + ": ")


# ============================================================================ Higgs
@pytest.mark.shared_data
def test_read_higgs_whole_activity_stream(data_dir: Path) -> None:
    path = data_dir / "higgs" / "higgs-activity_time.txt.gz"
    kinds: Counter[str] = Counter()
    rows = batches = 0
    t_min, t_max = np.inf, -np.inf
    for batch in read_higgs(path, batch_size=100_000):
        batches += 1
        rows += batch.rows
        assert batch.platform == "higgs"
        assert batch.persons is None
        assert batch.posts is None
        assert batch.ties is not None
        assert list(batch.ties.columns) == list(TIE_COLUMNS)
        assert len(batch.ties) == batch.rows
        kinds.update(batch.ties["kind"].tolist())
        t_min = min(t_min, batch.ties["time"].min())
        t_max = max(t_max, batch.ties["time"].max())
    # PROVENANCE: 563,069 rows; RT 354,930, MT 171,237, RE 36,902; unix 1341100972..1341705593
    assert rows == 563_069
    assert batches == 6
    assert kinds == {"retweeted": 354_930, "mentioned": 171_237, "replied": 36_902}
    assert (t_min, t_max) == (1_341_100_972.0, 1_341_705_593.0)


@pytest.mark.shared_data
def test_read_higgs_first_lines_direction_and_types(data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "higgs" / "higgs-activity_time.txt.gz"
    with gzip.open(src, "rt") as fh:
        raw = [next(fh).split() for _ in range(1000)]
    batches = list(read_higgs(head_lines(src, tmp_path / "h.txt", 1000), batch_size=300))
    assert [b.rows for b in batches] == [300, 300, 300, 100]
    ties = concat(batches, "ties")
    assert ties["source"].tolist() == [r[0] for r in raw]  # A retweeted B: a tie from A to B
    assert ties["target"].tolist() == [r[1] for r in raw]
    assert ties["time"].tolist() == [float(r[2]) for r in raw]
    names = {"RT": "retweeted", "MT": "mentioned", "RE": "replied"}
    assert ties["kind"].tolist() == [names[r[3]] for r in raw]
    assert (ties["weight"] == 1.0).all()
    assert ties["time"].dtype == np.float64


def test_read_higgs_small_file_with_crlf_comments_and_blank_lines(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "h.txt", b"# userA userB t kind\r\n\r\n1 2 100 RT\r\n3 4 101 MT\r\n5 6 102 RE"
    )
    (batch,) = list(read_higgs(path, platform="test"))
    assert batch.platform == "test"
    assert batch.ties is not None
    assert batch.ties.values.tolist() == [
        ["1", "2", "retweeted", 1.0, 100.0],
        ["3", "4", "mentioned", 1.0, 101.0],
        ["5", "6", "replied", 1.0, 102.0],
    ]


HIGGS_BAD = [
    # content, line, field, message fragment
    (b"1 2 100 RT\n1 2 100 XX\n", 2, "interaction", "expected RT, MT or RE, got 'XX'"),
    (b"1 2 100 RT\n\n# c\n1 2 1e2x RT\n", 4, "time", "expected an integer, got '1e2x'"),
    (b"1 2 100 RT\nx 2 100 RT\n", 2, "user_a", "expected an integer, got 'x'"),
    (b"1 2 100 RT\n1 2 100\n", 2, None, "expected 4 fields"),
    (b"1 2 100 RT\n1 2 100 RT extra\n", 2, None, "found 5"),
    (b"1 2 100 RT\n1 2 100 \xffT\n", 2, None, "not valid UTF-8"),
]


@pytest.mark.parametrize(("content", "line", "field", "message"), HIGGS_BAD)
def test_read_higgs_bad_input(
    tmp_path: Path, content: bytes, line: int, field: str | None, message: str
) -> None:
    path = write_bytes(tmp_path / "h.txt", content)
    with pytest.raises(BadInput, match=message) as info:
        list(read_higgs(path))
    assert_bad_input(info.value, path, line, field)


def test_read_higgs_rejects_lines_that_all_have_five_fields(tmp_path: Path) -> None:
    # BUG (src/grapevine/_io.py, parse_columns): when every line of a block has a fifth
    # field, pandas takes the first as the index and shifts the rest: "1 2 100 7 RT" is read
    # as user_a=2, user_b=100, time=7, RT, silently. Expected: BadInput "found 5" on line 1.
    path = write_bytes(tmp_path / "h.txt", b"1 2 100 7 RT\n3 4 101 8 MT\n")
    exc = outcome(lambda: print([b.ties for b in read_higgs(path)]))  # prints what was read
    assert isinstance(exc, BadInput), describe(exc)
    assert "found 5" in exc.message
    assert_bad_input(exc, path, 1, None)


# ============================================================================ cascades
@pytest.mark.parametrize(
    ("line", "fmt"),
    [
        (b"1,1285531679000.0 2,1285535700000.0", "forest"),
        (b"132080740 1.284967588e+9,125426798 1.285007954e+9,", "mshgat"),
        (b"158 244 48358445.0 2287 53292083.0", "infvae"),
        (b"14709\t1\t1464739201\t2\t1:0 1/850430:481", "weibo"),
    ],
)
def test_detect_cascade_format(line: bytes, fmt: str) -> None:
    assert detect_cascade_format(line) == fmt
    assert fmt in CASCADE_FORMATS


def _plain_cascades(path: Path, fmt: str) -> list[list[tuple[str, float]]]:
    """Adoptions per distinct line, parsed in plain Python (no grapevine), for cross-checks.

    Byte-identical lines are one cascade (the reader's ids are made from the content).
    """
    out = []
    seen: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.strip() in seen:
            continue
        seen.add(line.strip())
        if fmt == "forest":
            toks = [t.split(",") for t in line.split()]
        elif fmt == "mshgat":
            toks = [t.split() for t in line.split(",") if t.strip()]
        else:  # infvae
            f = line.split()
            toks = [[f[0], "0"]] + [[u, t] for u, t in zip(f[1::2], f[2::2], strict=True)]
        out.append([(u, float(t)) for u, t in toks])
    return out


def _check_against_plain(
    batches: list[Batch], cascades: list[list[tuple[str, float]]], *, ms: bool
) -> pd.DataFrame:
    posts = concat(batches, "posts").drop_duplicates("external_id")  # repeated lines
    assert set(posts.columns) <= set(POST_COLUMNS)
    assert posts["cascade_id"].nunique() == len(cascades)
    expected = sum(len({u for u, _ in c}) for c in cascades)  # a repeat is kept once
    assert len(posts) == expected
    assert (posts["external_id"] == posts["cascade_id"] + "/" + posts["author"]).all()
    assert posts["parent_external_id"].isna().all()  # these formats have no parent links
    by_cascade = {cid: g for cid, g in posts.groupby("cascade_id", sort=False)}
    for cid, c in zip(by_cascade, cascades, strict=True):
        group = by_cascade[cid]
        first: dict[str, float] = {}
        for u, t in c:
            first.setdefault(u, t / 1000.0 if ms else t)
        assert group["author"].tolist() == list(first)
        np.testing.assert_allclose(group["time"].to_numpy(), list(first.values()), rtol=1e-12)
        assert cid.startswith(c[0][0] + "-")  # the id is made from the originator
    return posts


@pytest.mark.shared_data
def test_read_cascades_forest_twitter_valid(data_dir: Path) -> None:
    path = data_dir / "cascades" / "twitter" / "forest_cascadevalid.txt"
    batches = list(read_cascades(path))
    assert sum(b.rows for b in batches) == 347  # PROVENANCE: 347 cascades
    posts = _check_against_plain(batches, _plain_cascades(path, "forest"), ms=True)
    assert len(posts) == 15_723
    # FOREST twitter times are epoch milliseconds: read as seconds (Sep-Oct 2010)
    assert posts["time"].between(1_283_000_000, 1_290_000_000).all()
    assert all(b.platform == "cascades" for b in batches)


@pytest.mark.shared_data
def test_read_cascades_is_deterministic_and_batches_split_on_lines(data_dir: Path) -> None:
    path = data_dir / "cascades" / "twitter" / "forest_cascadevalid.txt"
    one = concat(list(read_cascades(path)), "posts")
    small = list(read_cascades(path, batch_size=1000, platform="tw"))
    assert len(small) > 5
    assert all(b.platform == "tw" for b in small)
    assert sum(b.rows for b in small) == 347
    pd.testing.assert_frame_equal(concat(small, "posts"), one)


@pytest.mark.shared_data
def test_read_cascades_mshgat_twitter(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "cascades" / "twitter" / "mshgat_cascades.txt"
    # PROVENANCE says 3,454 cascades; the stored file's last line is cut off in the middle
    # of a token ("...,17892" with no timestamp), so reading the whole file must fail there.
    with pytest.raises(BadInput, match="expected 'user timestamp', got '17892'") as info:
        list(read_cascades(path))
    assert_bad_input(info.value, path, 3_454, "adoption")
    complete = head_lines(path, tmp_path / "mshgat_3453.txt", 3_453)
    batches = list(read_cascades(complete))
    assert sum(b.rows for b in batches) == 3_453
    # Two of those lines occur twice, byte for byte; cascade ids are made from the content,
    # so they are one cascade each: 3,451 distinct cascades (a whole-file import stores 3,451,
    # or 3,452 were the last line complete, not the 3,454 the PROVENANCE counts).
    posts = _check_against_plain(batches, _plain_cascades(complete, "mshgat"), ms=False)
    assert posts["cascade_id"].nunique() == 3_451
    raw = concat(batches, "posts")
    assert len(raw) - len(posts) == raw["external_id"].duplicated().sum() > 0
    assert posts["time"].between(1_283_000_000, 1_290_000_000).all()


@pytest.mark.shared_data
def test_read_cascades_infvae_android(data_dir: Path) -> None:
    root = data_dir / "cascades" / "android"
    sizes = {}
    for split in ("train", "val", "test"):
        batches = list(read_cascades(root / f"{split}.txt"))
        posts = _check_against_plain(
            batches, _plain_cascades(root / f"{split}.txt", "infvae"), ms=False
        )
        sizes[split] = posts["cascade_id"].nunique()
        firsts = posts.groupby("cascade_id", sort=False).head(1)
        assert (firsts["time"] == 0.0).all()  # the seed is at t = 0
    assert sizes == {"train": 475, "val": 68, "test": 136}
    assert sum(sizes.values()) == 679  # PROVENANCE: 679 cascades (train+val+test)


@pytest.fixture(scope="module")
def weibo(data_dir: Path) -> tuple[Path, list[Batch]]:
    path = data_dir / "cascades" / "weibo_sample" / "weibo_sample_casflow.txt"
    return path, list(read_cascades(path))


def _weibo_tokens(path: Path) -> list[tuple[str, str, list[str], float]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cid, root, published, n, paths = line.split("\t")
        toks = paths.split()
        assert int(n) == len(toks)
        for tok in toks:
            users, _, dt = tok.rpartition(":")
            rows.append((cid, root, users.split("/"), float(published) + float(dt)))
    return rows


@pytest.mark.shared_data
def test_read_cascades_weibo_parent_links(weibo: tuple[Path, list[Batch]]) -> None:
    path, batches = weibo
    tokens = _weibo_tokens(path)
    # PROVENANCE: 30 cascades, 7,147 retweet events. The 7,147 are participant tokens, and
    # each cascade's first token is the root's own post ("root:0"); 51 tokens repeat a user
    # already in the same cascade and are kept once. So the reader yields 7,147 - 51 = 7,096
    # adoptions: 30 roots without a parent and 7,066 retweets with one.
    assert len(tokens) == 7_147
    assert sum(b.rows for b in batches) == 30
    posts = concat(batches, "posts")
    assert posts["cascade_id"].nunique() == 30
    assert len(posts) == 7_096 == len({(cid, users[-1]) for cid, _, users, _ in tokens})
    assert int(posts["parent_external_id"].notna().sum()) == 7_066
    assert batches[0].notes == ["51 repeated adoptions (same user, same cascade) kept once"]
    roots = posts[posts["parent_external_id"].isna()]
    assert len(roots) == 30
    assert (roots["external_id"] == roots["cascade_id"] + "/" + roots["author"]).all()
    # every parent is a post of the same cascade
    ids = set(posts["external_id"])
    with_parent = posts[posts["parent_external_id"].notna()]
    assert with_parent["parent_external_id"].isin(ids).all()
    assert (
        with_parent["parent_external_id"].str.split("/").str[0] == with_parent["cascade_id"]
    ).all()
    # cascade ids are the file's own ids (14709, ...)
    assert posts["cascade_id"].iloc[0] == "14709"
    assert (posts.groupby("cascade_id")["time"].min() >= 1_464_739_201).all()


@pytest.mark.shared_data
def test_read_cascades_weibo_keeps_the_earliest_adoption_of_a_repeated_user(
    weibo: tuple[Path, list[Batch]],
) -> None:
    # BUG (src/grapevine/connectors/cascades.py, read_cascades): "A user who appears twice
    # in one cascade keeps the first adoption" is implemented as the first in FILE order, but
    # 20 of the 30 Weibo cascade lines are not in time order, so for 28 of the 51 repeated
    # users the adoption kept is a later one (a later time and possibly another parent).
    path, batches = weibo
    earliest: dict[tuple[str, str], float] = {}
    for cid, _, users, t in _weibo_tokens(path):
        key = (cid, users[-1])
        earliest[key] = min(t, earliest.get(key, np.inf))
    posts = concat(batches, "posts")
    kept = dict(
        zip(zip(posts["cascade_id"], posts["author"], strict=True), posts["time"], strict=True)
    )
    later = {k: (kept[k], earliest[k]) for k in kept if kept[k] != earliest[k]}
    assert later == {}


@pytest.mark.shared_data
def test_read_cascades_weibo_no_post_is_its_own_parent(
    weibo: tuple[Path, list[Batch]],
) -> None:
    # BUG (src/grapevine/connectors/cascades.py, _parse_line, weibo): the path
    # "19893/2432277/2432277:1987" (cascade 75991) makes user 2432277 the parent of its own
    # retweet: parent_external_id == external_id == "75991/2432277", a cycle in the cascade
    # tree. The parent should be the nearest *other* user on the path (19893).
    _, batches = weibo
    posts = concat(batches, "posts")
    own = posts[posts["parent_external_id"] == posts["external_id"]]
    assert own["external_id"].tolist() == []


CASCADE_BAD = [
    # format, content, line, field, message fragment
    ("forest", b"1,100 2,200\n3,100 4;200\n", 2, "adoption", "expected 'user,timestamp'"),
    ("forest", b"1,100 2,abc\n", 1, "time", "expected a number, got 'abc'"),
    ("forest", b"1,100 2,nan\n", 1, "time", "expected a finite number"),
    ("forest", b"1,100\n\n\n1/2,200\n", 4, "user", "bad user id '1/2'"),
    ("mshgat", b"1 100,2 200,\n3 100,4 x,\n", 2, "time", "expected a number, got 'x'"),
    ("mshgat", b"1 100,2 200,\n3 100,4,\n", 2, "adoption", "expected 'user timestamp'"),
    ("infvae", b"1 2 3.0\n1 2 3.0 4\n", 2, None, "an odd number of fields"),
    ("infvae", b"1 2 3.0\n1 2 soon\n", 2, "time", "expected a number, got 'soon'"),
    (
        "weibo",
        b"1\t2\t100\t1\t2:0 2/3:5\n1\t2\t100\t1\n",
        2,
        None,
        "expected 5 tab-separated fields, found 4",
    ),
    (
        "weibo",
        b"1\t2\t100\t2\t2:0 2/3:5\n1\t2\tnoon\t1\t2:0 2/3:5\n",
        2,
        "publish_time",
        "expected a number",
    ),
    (
        "weibo",
        b"1\t2\t100\t2\t2:0 2/3:5\n1\t2\t100\t1\t2:0 2/3\n",
        2,
        "paths",
        "expected 'u1/u2/...:delay'",
    ),
    (
        "weibo",
        b"1\t2\t100\t2\t2:0 2/3:5\n1\t2\t100\t1\t2:0 2/3:later\n",
        2,
        "delay",
        "expected a number",
    ),
    ("weibo", b"1\t2\t100\t2\t2:0 2//3:5\n", 1, "user", "bad user id ''"),
    ("forest", b"1,100 2,200\n\xff,300\n", 2, None, "not valid UTF-8"),
]


@pytest.mark.parametrize(("fmt", "content", "line", "field", "message"), CASCADE_BAD)
@pytest.mark.parametrize("auto", [False, True], ids=["given", "auto"])
def test_read_cascades_bad_input(
    tmp_path: Path,
    fmt: str,
    content: bytes,
    line: int,
    field: str | None,
    message: str,
    auto: bool,
) -> None:
    path = write_bytes(tmp_path / "c.txt", content)
    with pytest.raises(BadInput, match=message) as info:
        list(read_cascades(path, format="auto" if auto else fmt))  # type: ignore[arg-type]
    assert_bad_input(info.value, path, line, field)


def test_read_cascades_small_files_of_each_format(tmp_path: Path) -> None:
    forest = write_bytes(tmp_path / "f.txt", b"a,1285531679000 b,1285531680000 a,1285531681000\n")
    (batch,) = list(read_cascades(forest))
    assert batch.posts is not None
    assert batch.posts[["author", "time"]].values.tolist() == [
        ["a", 1285531679.0],
        ["b", 1285531680.0],
    ]
    assert batch.notes == ["1 repeated adoptions (same user, same cascade) kept once"]
    weibo = write_bytes(tmp_path / "w.txt", b"77\tr\t1000\t3\tr:0 r/x:10 r/x/y:25\n")
    (batch,) = list(read_cascades(weibo))
    assert batch.posts is not None
    posts = batch.posts
    assert posts["external_id"].tolist() == ["77/r", "77/x", "77/y"]
    assert posts["author"].tolist() == ["r", "x", "y"]
    assert posts["time"].tolist() == [1000.0, 1010.0, 1025.0]
    assert pd.isna(posts["parent_external_id"].iloc[0])
    assert posts["parent_external_id"].iloc[1:].tolist() == ["77/r", "77/x"]
    assert set(posts["cascade_id"]) == {"77"}
    # a cascade id depends on the content, not on the line number or the file
    again = write_bytes(
        tmp_path / "f2.txt", b"\n\nz,5 q,6\na,1285531679000 b,1285531680000 a,1285531681000\n"
    )
    ids = concat(list(read_cascades(again)), "posts")["cascade_id"].unique().tolist()
    first = concat(list(read_cascades(forest)), "posts")["cascade_id"].iloc[0]
    assert first in ids


# ============================================================================ netdiffuseR
@pytest.mark.shared_data
def test_read_netdiffuser_kfamily(data_dir: Path) -> None:
    root = data_dir / "innovations"
    (batch,) = list(
        read_netdiffuser(root / "kfamily_nodes_toa.csv", edges=root / "kfamily_edges.csv")
    )
    assert batch.persons is not None
    assert batch.posts is not None
    assert batch.ties is not None
    nodes = pd.read_csv(root / "kfamily_nodes_toa.csv")
    edges = pd.read_csv(root / "kfamily_edges.csv")
    # PROVENANCE: 1,047 nodes, 16,465 edges (5,021 unique dyads), toa 1..11 (11 = never)
    assert len(batch.persons) == 1_047 == len(nodes)
    assert len(edges) == 16_465
    assert len(batch.ties) == 5_021
    assert batch.ties["weight"].sum() == 16_465
    assert set(batch.ties["kind"]) == {"nominated"}
    assert batch.ties["time"].isna().all()
    adopters = nodes[nodes["toa"] < 11]
    assert len(batch.posts) == len(adopters) == 673
    assert sorted(batch.posts["author"].tolist()) == sorted(adopters["node"].astype(str))
    assert set(batch.posts["cascade_id"]) == {"innovation"}
    assert batch.notes == [
        "toa = 11 read as 'never adopted' (374 persons)",
        "16,465 nominations form 5,021 distinct dyads (weight = number of relations naming "
        "the dyad)",
    ]
    first = batch.persons.iloc[0]
    assert first["handle"] == "1002"
    assert first["attributes"] == {"community": 1, "toa": 4.0}
    dyads = edges.groupby(["ego", "alter"]).size()
    got = batch.ties.set_index(["source", "target"])["weight"]
    assert got.loc[("1002", "1004")] == dyads.loc[(1002, 1004)] == 3


@pytest.mark.shared_data
def test_read_netdiffuser_med_innovations_and_censoring(data_dir: Path) -> None:
    root = data_dir / "innovations"
    (batch,) = list(
        read_netdiffuser(
            root / "medInnovations_nodes_toa.csv",
            edges=root / "medInnovations_edges.csv",
            innovation="tetracycline",
        )
    )
    assert batch.persons is not None
    assert batch.ties is not None
    assert batch.posts is not None
    assert len(batch.persons) == 125  # PROVENANCE: 125 nodes, 294 unique dyads, 450 edges
    assert len(batch.ties) == 294
    assert batch.ties["weight"].sum() == 450
    assert batch.posts["external_id"].str.startswith("tetracycline/").all()
    (all_adopt,) = list(read_netdiffuser(root / "medInnovations_nodes_toa.csv", censored=99))
    assert all_adopt.posts is not None
    assert len(all_adopt.posts) == 125


@pytest.mark.shared_data
def test_read_netdiffuser_rows_counts_the_source_rows(data_dir: Path) -> None:
    # BUG (src/grapevine/connectors/netdiffuser.py): Batch.rows is documented as "source rows
    # (lines, records) this batch covers", but it is len(nodes) + number of DISTINCT dyads
    # (1,047 + 5,021 = 6,068), not the 1,047 + 16,465 = 17,512 rows read; an import of
    # kfamily therefore reports rows_read = 6,068.
    root = data_dir / "innovations"
    (batch,) = list(
        read_netdiffuser(root / "kfamily_nodes_toa.csv", edges=root / "kfamily_edges.csv")
    )
    assert batch.rows == 1_047 + 16_465


NETDIFFUSER_BAD = [
    # nodes, edges, which file, line, field, message
    (b"node,toa\n1,2\n2,x\n", None, "nodes", 3, "toa", "expected a number, got 'x'"),
    (b"node,toa\n1,2\n ,3\n", None, "nodes", 3, "node", "empty node id"),
    (b"id,toa\n1,2\n", None, "nodes", 1, None, "missing column(s) ['node']"),
    (b"node,toa\n1,2\n2,3,4\n", None, "nodes", 3, None, "expected 2 fields, found 3"),
    (b"node,toa\n1,2\n2,3\n", b"ego,alter\n1,2\n2,\n", "edges", 3, None, "empty ego or alter"),
    (b"node,toa\n1,2\n2,3\n", b"ego,other\n1,2\n", "edges", 1, None, "missing column(s) ['alter']"),
]


@pytest.mark.parametrize(("nodes", "edges", "which", "line", "field", "message"), NETDIFFUSER_BAD)
def test_read_netdiffuser_bad_input(
    tmp_path: Path,
    nodes: bytes,
    edges: bytes | None,
    which: str,
    line: int,
    field: str | None,
    message: str,
) -> None:
    npath = write_bytes(tmp_path / "nodes.csv", nodes)
    epath = write_bytes(tmp_path / "edges.csv", edges) if edges is not None else None
    with pytest.raises(BadInput) as info:
        list(read_netdiffuser(npath, edges=epath))
    assert message in info.value.message
    assert_bad_input(info.value, npath if which == "nodes" else epath, line, field)  # type: ignore[arg-type]


def test_read_netdiffuser_na_and_attributes(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path / "n.csv", b"node,toa,village,score\na,1,v1,0.5\nb,NA,v1,\nc,3,v2,2\n"
    )
    (batch,) = list(read_netdiffuser(path))
    assert batch.persons is not None
    assert batch.posts is not None
    assert batch.persons["attributes"].tolist() == [
        {"village": "v1", "score": 0.5, "toa": 1.0},
        {"village": "v1", "score": None, "toa": None},
        {"village": "v2", "score": 2, "toa": 3.0},
    ]
    # the largest toa (3) is "never" by default; NA is never too
    assert batch.posts["author"].tolist() == ["a"]
    assert batch.ties is None


# ============================================================================ generic records
def test_parse_time() -> None:
    assert parse_time("2012-07-04T07:00:00Z") == 1_341_385_200.0
    assert parse_time("2012-07-04T07:00:00") == 1_341_385_200.0  # no zone: UTC
    assert parse_time("2012-07-04T09:00:00+02:00") == 1_341_385_200.0
    assert parse_time("2012-07-04") == 1_341_360_000.0
    assert parse_time("1341385200") == 1_341_385_200.0
    assert parse_time(1341385200.5) == 1_341_385_200.5
    assert parse_time("") is None
    assert parse_time(None) is None
    for bad, message in [
        ("yesterday", "Invalid isoformat string"),
        ("nan", "not a finite time"),
        ("inf", "not a finite time"),
        (True, "a boolean is not a time"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_time(bad)


PERSONS_CSV = (
    b"id,display_name,followers,city\n"
    b"alice,Alice,12,Paris\n"
    b"\n"
    b"bob,,,\n"
    b'carol,"Carol ""C""",3,"Rome\nItaly"\n'
)
TIES_CSV = (
    b"source,target,kind,weight,time\n"
    b"alice,bob,retweeted,2,2012-07-04T07:00:00Z\n"
    b"bob,carol,,,1341385200\n"
    b"carol,alice,follows,0.5,\n"
)
POSTS_CSV = (
    b"id,author,time,text,language,url,parent,cascade,likes,reshares,replies,views\n"
    b"p1,alice,2012-07-04T07:00:00+00:00,Higgs!,en,https://x/1,,c1,10,2,1,100\n"
    b"p2,bob,1341385260,RT Higgs!,en,,p1,c1,,,,\n"
)


def _jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


PERSONS_JSONL = _jsonl(
    [
        {"id": "alice", "display_name": "Alice", "followers": 12, "city": "Paris"},
        {"id": "bob"},
        {"id": "carol", "display_name": 'Carol "C"', "followers": 3, "city": "Rome\nItaly"},
    ]
)
TIES_JSONL = _jsonl(
    [
        {
            "source": "alice",
            "target": "bob",
            "kind": "retweeted",
            "weight": 2,
            "time": "2012-07-04T07:00:00Z",
        },
        {"source": "bob", "target": "carol", "time": 1341385200},
        {"source": "carol", "target": "alice", "kind": "follows", "weight": 0.5, "time": None},
    ]
)
POSTS_JSONL = _jsonl(
    [
        {
            "id": "p1",
            "author": "alice",
            "time": "2012-07-04T07:00:00+00:00",
            "text": "Higgs!",
            "language": "en",
            "url": "https://x/1",
            "cascade": "c1",
            "likes": 10,
            "reshares": 2,
            "replies": 1,
            "views": 100,
        },
        {
            "id": "p2",
            "author": "bob",
            "time": 1341385260,
            "text": "RT Higgs!",
            "language": "en",
            "parent": "p1",
            "cascade": "c1",
        },
    ]
)


@pytest.mark.parametrize("ext", ["csv", "jsonl", "csv.gz"])
def test_read_records_persons(tmp_path: Path, ext: str) -> None:
    content = PERSONS_JSONL if ext == "jsonl" else PERSONS_CSV
    path = write_bytes(tmp_path / f"persons.{ext}", content, gz=ext.endswith(".gz"))
    (batch,) = list(read_records(path, "persons", platform="web"))
    assert batch.platform == "web"
    assert batch.rows == 3
    assert batch.persons is not None
    frame = batch.persons
    assert list(frame.columns) == list(PERSON_COLUMNS)
    assert frame["handle"].tolist() == ["alice", "bob", "carol"]
    assert frame["display_name"].iloc[0::2].tolist() == ["Alice", 'Carol "C"']
    assert pd.isna(frame["display_name"].iloc[1])
    assert frame["followers"].tolist()[0::2] == [12.0, 3.0]
    assert np.isnan(frame["followers"].iloc[1])
    assert frame["attributes"].tolist() == [{"city": "Paris"}, None, {"city": "Rome\nItaly"}]


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_read_records_ties(tmp_path: Path, ext: str) -> None:
    content = TIES_JSONL if ext == "jsonl" else TIES_CSV
    path = write_bytes(tmp_path / f"ties.{ext}", content)
    (batch,) = list(read_records(path, "ties", tie_kind="mentioned"))
    assert batch.ties is not None
    assert batch.platform == "generic"
    rows = batch.ties[list(TIE_COLUMNS)].values.tolist()
    assert rows[0] == ["alice", "bob", "retweeted", 2.0, 1_341_385_200.0]
    assert rows[1] == ["bob", "carol", "mentioned", 1.0, 1_341_385_200.0]  # defaults
    assert rows[2][:4] == ["carol", "alice", "follows", 0.5]
    assert np.isnan(rows[2][4])
    assert batch.ties["time"].dtype == np.float64


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_read_records_posts(tmp_path: Path, ext: str) -> None:
    content = POSTS_JSONL if ext == "jsonl" else POSTS_CSV
    path = write_bytes(tmp_path / f"posts.{ext}", content)
    (batch,) = list(read_records(path, "posts"))
    assert batch.posts is not None
    p = batch.posts.set_index("external_id")
    assert p.loc["p1", "author"] == "alice"
    assert p.loc["p1", "time"] == p.loc["p2", "time"] - 60 == 1_341_385_200.0
    assert pd.isna(p.loc["p1", "parent_external_id"])
    assert p.loc["p2", "parent_external_id"] == "p1"
    assert p.loc["p1", ["likes", "reshares", "replies", "views"]].tolist() == [10, 2, 1, 100]
    assert pd.isna(p.loc["p2", "likes"])
    assert p["cascade_id"].tolist() == ["c1", "c1"]
    assert pd.isna(p.loc["p2", "url"])


def test_read_records_batches(tmp_path: Path) -> None:
    body = b"".join(b"u%d,v%d,%d\n" % (i, i + 1, i) for i in range(25))
    path = write_bytes(tmp_path / "t.csv", b"source,target,time\n" + body)
    batches = list(read_records(path, "ties", batch_size=10))
    assert [b.rows for b in batches] == [10, 10, 5]
    assert concat(batches, "ties")["time"].tolist() == [float(i) for i in range(25)]


def test_read_records_invalid_parameters(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "t.csv", TIES_CSV)
    with pytest.raises(InvalidParameter, match="'kind' parameter of read_records"):
        list(read_records(path, "likes"))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="'tie_kind' parameter of read_records"):
        list(read_records(path, "ties", tie_kind="loves"))
    assert RECORD_KINDS == ("persons", "ties", "posts")


RECORDS_BAD = [
    # kind, ext, content, line, field, message fragment
    ("persons", "csv", b"id,followers\na,1\nb,many\n", 3, "followers", "expected a number"),
    (
        "persons",
        "csv",
        b"id,followers\na,1\nb,1.5\n",
        3,
        "followers",
        "must be an int in the range [0, 9007199254740992]",
    ),
    (
        "persons",
        "csv",
        b"id,followers\na,1\nb,-1\n",
        3,
        "followers",
        "must be an int in the range [0, 9007199254740992]",
    ),
    ("persons", "csv", b"id,followers\na,1\n,2\n", 3, "id", "required value is empty"),
    ("persons", "csv", b"name,followers\na,1\n", 1, None, "missing column(s) ['id']"),
    ("persons", "csv", b"id,id\na,b\n", 1, None, "repeated column names"),
    ("persons", "csv", b"id,x\na,1\nb,2,3\n", 3, None, "expected 2 fields, found 3"),
    ("persons", "csv", b"id,x\na,1\n\n\nb\n", 5, None, "expected 2 fields, found 1"),
    ("persons", "csv", b"id,platform\na,other\n", 2, "platform", "differs from this import's"),
    (
        "persons",
        "jsonl",
        b'{"id": "a"}\n{"id": "b", "followers": "x"}\n',
        2,
        "followers",
        "expected a number",
    ),
    ("persons", "jsonl", b'{"id": "a"}\n\n{"name": "b"}\n', 3, "id", "missing"),
    ("persons", "jsonl", b'{"id": "a"}\n{"id": ["b"]}\n', 2, "id", "expected text"),
    ("persons", "jsonl", b'{"id": "a"}\n{"id": "b",}\n', 2, None, "invalid JSON"),
    ("persons", "jsonl", b'{"id": "a"}\n["b"]\n', 2, None, "expected a JSON object per line"),
    ("persons", "jsonl", b'{"id": "a"}\n{"id": "\xff"}\n', 2, None, "not valid UTF-8"),
    ("persons", "jsonl", b'{"id": "' + b"x" * 256 + b'"}\n', 1, "id", "longer than 255"),
    (
        "ties",
        "csv",
        b"source,target,kind\na,b,follows\nb,c,likes\n",
        3,
        "kind",
        "unknown tie kind 'likes'",
    ),
    ("ties", "csv", b"source,target,weight\na,b,1\nb,c,heavy\n", 3, "weight", "expected a number"),
    ("ties", "csv", b"source,target,weight\na,b,1\nb,c,inf\n", 3, "weight", "(-inf, inf). Got inf"),
    (
        "ties",
        "csv",
        b"source,target,time\na,b,1\nb,c,noon\n",
        3,
        "time",
        "expected Unix seconds or an ISO 8601 time",
    ),
    (
        "ties",
        "csv",
        b"source,target,time\na,b,1\nb,c,2012-13-45\n",
        3,
        "time",
        "expected Unix seconds or an ISO 8601 time",
    ),
    ("ties", "csv", b"source,target\na,b\nb, \n", 3, "target", "required value is empty"),
    (
        "ties",
        "jsonl",
        b'{"source": "a", "target": "b", "time": true}\n',
        1,
        "time",
        "expected Unix seconds",
    ),
    (
        "ties",
        "jsonl",
        b'{"source": "a", "target": "b", "weight": {"w": 1}}\n',
        1,
        "weight",
        "expected a number",
    ),
    ("posts", "csv", b"id,author,likes\np,a,1\nq,b,0.5\n", 3, "likes", "must be an int"),
    # the domains of grapevine._validation: times in 1900-2099, counters, text, attributes
    (
        "posts",
        "jsonl",
        b'{"id": "p", "author": "a", "time": 1796663000000000}\n',
        1,
        "time",
        "(years 1900-2099, UTC). Got 1796663000000000.0 instead",
    ),
    ("ties", "csv", b"source,target,time\na,b,1\nb,c,-1e10\n", 3, "time", "years 1900-2099"),
    ("persons", "csv", b"id,followers\na,1e30\n", 2, "followers", "Got 1e+30 instead"),
    ("posts", "jsonl", b'{"id": "p", "author": "a", "text": "x\\u0000"}\n', 1, "text", "NUL"),
    ("posts", "jsonl", b'{"id": "p", "author": "a", "url": "\\ud800"}\n', 1, "url", "surrogate"),
    ("persons", "jsonl", b'{"id": "a", "bio": "x\\u0000y"}\n', 1, "bio", "NUL"),
    ("persons", "jsonl", b'{"id": "a", "tags": [["\\udc00"]]}\n', 1, "tags", "surrogate"),
    ("persons", "jsonl", b'{"id": "a", "k\\u0000": 1}\n', 1, "k\x00", "NUL"),
    ("persons", "jsonl", b'{"id": "a", "score": NaN}\n', 1, "score", "not a finite number"),
    (
        "posts",
        "csv",
        b"id,author,language\np,a,en\nq,b,a-very-long-language-tag\n",
        3,
        "language",
        "at most 16 characters",
    ),
    ("posts", "csv", b"id,text\np,hello\n", 1, None, "missing column(s) ['author']"),
    (
        "posts",
        "jsonl",
        b'{"id": "p", "author": "a", "time": "2012-07-04T25:00:00"}\n',
        1,
        "time",
        "expected Unix seconds",
    ),
    (
        "posts",
        "jsonl",
        b'{"id": "p", "author": "a", "views": -3}\n',
        1,
        "views",
        "must be an int in the range [0, 9007199254740992]",
    ),
]


@pytest.mark.parametrize(("kind", "ext", "content", "line", "field", "message"), RECORDS_BAD)
def test_read_records_bad_input(
    tmp_path: Path,
    kind: str,
    ext: str,
    content: bytes,
    line: int,
    field: str | None,
    message: str,
) -> None:
    path = write_bytes(tmp_path / f"{kind}.{ext}", content)
    with pytest.raises(BadInput) as info:
        list(read_records(path, kind, batch_size=1))  # type: ignore[arg-type]
    assert message in info.value.message
    assert_bad_input(info.value, path, line, field)


def test_read_records_empty_csv(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "p.csv", b"")
    with pytest.raises(BadInput, match="empty file") as info:
        list(read_records(path, "persons"))
    assert_bad_input(info.value, path, 1, None)
    only_header = write_bytes(tmp_path / "h.csv", b"id,display_name\n")
    assert list(read_records(only_header, "persons")) == []


def test_read_records_non_utf8_csv_names_the_line(tmp_path: Path) -> None:
    # BUG (src/grapevine/connectors/generic.py, _rows_csv): a byte that is not UTF-8 in a
    # CSV raises BadInput("not valid UTF-8 (byte N)") with no line number (and N counts from
    # the start of the decoder's buffer, not of the line), unlike every other format.
    path = write_bytes(tmp_path / "p.csv", b"id,display_name\na,A\nb,Caf\xe9\n")
    with pytest.raises(BadInput, match="not valid UTF-8") as info:
        list(read_records(path, "persons"))
    assert info.value.line == 3


def test_read_records_deeply_nested_json_is_bad_input(tmp_path: Path) -> None:
    # BUG (src/grapevine/connectors/generic.py, _rows_jsonl): json.loads raises
    # RecursionError on deeply nested input ("[[[[..."), which escapes instead of BadInput.
    path = write_bytes(tmp_path / "p.jsonl", b'{"id": "a"}\n' + b"[" * 100_000 + b"\n")
    with pytest.raises(BadInput) as info:
        list(read_records(path, "persons"))
    assert info.value.line == 2


@pytest.mark.parametrize("field", ["followers", "weight"])
def test_read_records_huge_json_integer_is_bad_input(tmp_path: Path, field: str) -> None:
    # BUG (src/grapevine/connectors/generic.py, _number): float(10**400) raises
    # OverflowError, which is not caught (only TypeError/ValueError are), so a JSON integer
    # with 400 digits escapes as OverflowError instead of BadInput naming line and field.
    big = "1" + "0" * 400
    if field == "followers":
        kind, row = "persons", f'{{"id": "a", "followers": {big}}}'
    else:
        kind, row = "ties", f'{{"source": "a", "target": "b", "weight": {big}}}'
    path = write_bytes(tmp_path / f"{kind}.jsonl", row.encode() + b"\n")
    with pytest.raises(BadInput) as info:
        list(read_records(path, kind))  # type: ignore[arg-type]
    assert (info.value.line, info.value.field) == (1, field)


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_read_records_truncated_gzip_is_bad_input(tmp_path: Path, ext: str) -> None:
    # BUG (src/grapevine/connectors/generic.py, _rows_csv/_rows_jsonl): a truncated or
    # damaged .gz raises EOFError / zlib.error / gzip.BadGzipFile out of the reader instead
    # of BadInput (the line-oriented readers catch these in _io.iter_line_blocks).
    content = PERSONS_JSONL * 50 if ext == "jsonl" else PERSONS_CSV + b"x,y,1,z\n" * 200
    path = tmp_path / f"p.{ext}.gz"
    path.write_bytes(gzip.compress(content)[:-12])
    exc = outcome(lambda: list(read_records(path, "persons")))
    assert isinstance(exc, BadInput), describe(exc)
    assert exc.file == str(path)


# ============================================================================ edge lists
def test_read_edges_as_ties(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "e.txt", b"# c\n1 2\n2 1\n1 2\n3 3\n")
    (batch,) = list(read_edges(path))
    assert batch.ties is not None
    assert batch.rows == 4
    assert batch.ties.values.tolist()[0][:4] == ["1", "2", "follows", 2.0]
    assert batch.ties.values.tolist()[1][:4] == ["2", "1", "follows", 1.0]
    assert batch.ties["time"].isna().all()
    assert batch.notes == [
        "1 self-loops dropped",
        "1 repeated pairs merged into one tie each (weights summed)",
    ]
    (und,) = list(read_edges(path, directed=False, kind="coauthor"))
    assert und.ties is not None
    assert sorted(und.ties.values.tolist(), key=str)[0][:4] == ["1", "2", "coauthor", 3.0]
    assert len(und.ties) == 2
    many = list(read_edges(path, batch_size=1, self_loops=True))
    assert [b.rows for b in many] == [4, 0, 0]
    assert many[0].notes[0] == "1 self-loops kept"
    with pytest.raises(InvalidParameter, match="'kind' parameter of read_edges"):
        list(read_edges(path, kind="likes"))


@pytest.mark.shared_data
def test_read_edges_nethept_notes(data_dir: Path) -> None:
    batches = list(read_edges(data_dir / "graphs" / "NetHept.txt", directed=False, kind="coauthor"))
    ties = concat(batches, "ties")
    assert len(ties) == 62_752
    assert ties["weight"].sum() == 2 * (58_891 - 39)
    assert batches[0].rows == 58_891
    assert batches[0].notes == [
        "first line read as counts: 15,233 nodes, 58,891 edges",
        "39 self-loops dropped",
        "54,952 repeated arcs (both directions counted) merged into one tie each (weights summed)",
    ]
