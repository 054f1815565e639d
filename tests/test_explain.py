"""What grew: Fightin' Words terms, author growth and cascades, checked by hand and by property."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.connectors import ListenedPost
from grapevine.errors import InvalidParameter
from grapevine.listening import WhatGrew, what_grew


def _post(
    i: int | str, author: str, text: str, parent: str | None = None, platform: str = "mastodon"
) -> ListenedPost:
    return ListenedPost(
        platform,
        str(i),
        author,
        float(i) if str(i).isdigit() else None,
        text,
        parent_external_id=parent,
    )


def _reference_z(y: int, b: int, n: int, m: int, a0: float) -> float:
    """Monroe et al. (2008), eq. 16 and 18, written out for one word."""
    a = a0 * (y + b) / (n + m)
    delta = math.log((y + a) / (n + a0 - y - a)) - math.log((b + a) / (m + a0 - b - a))
    return delta / math.sqrt(1 / (y + a) + 1 / (b + a))


def test_terms_match_the_formula_of_monroe_et_al() -> None:
    baseline = [_post(i, f"u{i}", "coffee machine") for i in range(30)]
    baseline += [_post(100 + i, "x", "coffee leak") for i in range(2)]
    window = [_post(200 + i, f"w{i}", "coffee leak tank") for i in range(8)]
    result = what_grew(window, baseline, top=10, prior_strength=50.0)
    # posts per word: window coffee 8, leak 8, tank 8 (n = 24); baseline coffee 32,
    # machine 30, leak 2 (m = 64)
    by_term = {t.term: t for t in result.terms}
    assert set(by_term) == {"leak", "tank"}  # coffee did not grow, machine shrank
    assert by_term["leak"].z == pytest.approx(_reference_z(8, 2, 24, 64, 50.0))
    assert by_term["tank"].z == pytest.approx(_reference_z(8, 0, 24, 64, 50.0))
    assert (by_term["leak"].window_count, by_term["leak"].baseline_count) == (8, 2)
    assert result.terms[0].term == "tank"  # new beats grown


def test_stopwords_numbers_and_repeats() -> None:
    baseline = [_post(i, "a", "hello world") for i in range(10)]
    window = [
        _post(20, "b", "the the the leak leak leak leak 2026 https://x.example"),
        _post(21, "c", "The leak, and the tank"),
    ]
    terms = [t.term for t in what_grew(window, baseline, top=10).terms]
    assert terms[0] == "leak"
    assert "the" not in terms
    assert "2026" not in terms
    assert "https" not in terms
    assert next(t for t in what_grew(window, baseline).terms if t.term == "leak").window_count == 2


def test_rare_words_are_shrunk() -> None:
    baseline = [_post(i, "a", f"coffee w{i}") for i in range(200)]
    window = [_post(300 + i, "b", "leak") for i in range(40)] + [
        _post(400, "c", "zyx"),
        _post(401, "c", "zyx"),
    ]
    terms = what_grew(window, baseline, top=5).terms
    assert terms[0].term == "leak"
    assert terms[0].z > next(t.z for t in terms if t.term == "zyx")


def test_min_count() -> None:
    window = [_post(1, "a", "once"), _post(2, "a", "twice"), _post(3, "a", "twice")]
    baseline = [_post(10 + i, "z", "other") for i in range(5)]
    assert [t.term for t in what_grew(window, baseline, top=5).terms] == ["twice"]
    assert {t.term for t in what_grew(window, baseline, min_count=1).terms} == {"once", "twice"}
    assert what_grew(window, []).terms == []  # nothing to compare with


def test_authors_grow_against_their_baseline_share() -> None:
    baseline = [_post(i, "loud", "x") for i in range(90)] + [
        _post(100 + i, "quiet", "x") for i in range(10)
    ]
    window = (
        [_post(200 + i, "loud", "y") for i in range(9)]  # as before: 9 of 20 expected 9
        + [_post(300 + i, "quiet", "y") for i in range(6)]  # expected 1, got 6
        + [_post(400 + i, "new", "y") for i in range(5)]  # expected 0, got 5
    )
    authors = what_grew(window, baseline).authors
    assert [a.author for a in authors] == ["new", "quiet"]
    quiet = authors[1]
    assert (quiet.window_count, quiet.baseline_count) == (6, 10)
    assert quiet.expected == pytest.approx(2.0)  # 10 of 100 baseline posts, 20 in the window
    assert quiet.growth == pytest.approx(4.0)
    assert authors[0].growth == pytest.approx(5.0)


def test_authors_without_a_baseline() -> None:
    window = [_post(1, "a", "x"), _post(2, "a", "x"), _post(3, "b", "x")]
    authors = what_grew(window, []).authors
    assert [(a.author, a.window_count, a.growth) for a in authors] == [("a", 2, 2.0), ("b", 1, 1.0)]


def test_cascades_follow_parent_links_across_window_and_baseline() -> None:
    baseline = [_post("root", "brand", "We changed the tank design.")]
    window = [
        _post("r1", "a", "no!", parent="root"),
        _post("r2", "b", "why", parent="root"),
        _post("r3", "c", "agreed", parent="r1"),
        _post("r4", "d", "same", parent="r3"),
        _post("s1", "e", "other thread"),
        _post("s2", "f", "reply", parent="s1"),
        _post("lonely", "g", "just me"),
        _post("orphan", "h", "answer to an unseen post", parent="unseen"),
    ]
    cascades = what_grew(window, baseline).cascades
    assert [c.root for c in cascades] == ["root", "s1", "unseen"]
    big = cascades[0]
    assert (big.size, big.authors, big.depth) == (4, 4, 3)
    assert big.root_author == "brand"
    assert big.root_text == "We changed the tank design."
    assert (cascades[1].size, cascades[1].depth) == (2, 1)
    assert cascades[2].root_author is None
    assert cascades[2].size == 1


def test_cascades_keep_platforms_apart_and_survive_cycles() -> None:
    window = [
        _post("1", "a", "x", platform="mastodon"),
        _post("2", "b", "x", parent="1", platform="rss"),  # parent "1" on rss is unseen
        _post("c1", "c", "x", parent="c2"),
        _post("c2", "d", "x", parent="c1"),  # a cycle in bad data
    ]
    cascades = what_grew(window, []).cascades
    roots = {c.root: c.size for c in cascades}
    assert roots.get("1") == 1  # the rss reply's own tree, not the mastodon post's
    assert sum(roots.values()) == 3


def test_dataframes_and_store_rows() -> None:
    rows = [
        {
            "platform": "rss",
            "external_id": "a",
            "author": "x",
            "text": "leak leak",
            "parent_external_id": None,
        },
        {
            "platform": "rss",
            "external_id": "b",
            "author": "y",
            "text": "leak",
            "parent_external_id": "a",
        },
    ]
    base = [{**rows[0], "external_id": "z", "author": "q", "text": "coffee"}] * 3
    from_frame = what_grew(pd.DataFrame(rows), pd.DataFrame(base))
    from_rows = what_grew(rows, base)
    assert from_frame == from_rows
    assert [t.term for t in from_rows.terms] == ["leak"]
    assert from_rows.cascades[0].size == 2


def test_empty_inputs_and_summary() -> None:
    result = what_grew([], [])
    assert result == WhatGrew([], [], [], 0, 0)
    assert result.summary() == "Nothing stands out."
    window = [_post(i, "emma", "tank leak", parent="0" if i else None) for i in range(5)]
    text = what_grew(window, [_post(100, "x", "coffee")] * 10).summary()
    assert text.startswith("Top terms: leak (5 posts, was 0), tank (5 posts, was 0).")
    assert "Top authors: emma (5)." in text
    assert "Largest cascade: 5 posts by emma (1 authors)." in text


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"top": 0}, "top"),
        ({"prior_strength": 0.0}, "prior_strength"),
        ({"min_count": 0}, "min_count"),
    ],
)
def test_parameters(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        what_grew([], [], **kwargs)  # type: ignore[arg-type]
    assert info.value.name == name


_vocab = st.sampled_from(["leak", "tank", "coffee", "brewly", "x2", "service", "great"])
_posts = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.lists(_vocab, min_size=1, max_size=4)),
    max_size=25,
)


@given(_posts, _posts)
@settings(max_examples=100, deadline=None)
def test_properties(
    window_spec: list[tuple[str, list[str]]], base_spec: list[tuple[str, list[str]]]
) -> None:
    window = [_post(i, a, " ".join(ws)) for i, (a, ws) in enumerate(window_spec)]
    baseline = [_post(1000 + i, a, " ".join(ws)) for i, (a, ws) in enumerate(base_spec)]
    result = what_grew(window, baseline, top=3)
    assert len(result.terms) <= 3
    assert len(result.authors) <= 3
    zs = [t.z for t in result.terms]
    assert zs == sorted(zs, reverse=True)
    assert all(z > 0 and math.isfinite(z) for z in zs)
    assert all(t.window_count >= 2 for t in result.terms)
    assert all(a.growth > 0 for a in result.authors)
    # order of the posts does not matter
    again = what_grew(list(reversed(window)), list(reversed(baseline)), top=3)
    assert [t.term for t in again.terms] == [t.term for t in result.terms]
    assert again.authors == result.authors
