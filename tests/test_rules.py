"""Watch rules: the query syntax, matching, errors with positions, and boolean properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grapevine.connectors import ListenedPost
from grapevine.errors import InvalidParameter
from grapevine.listening import MatchText, WatchRule, match_rules, normalize_text, rule_grouping


# ---------------------------------------------------------------------------- matching table
@pytest.mark.parametrize(
    ("query", "text", "language", "expected"),
    [
        # words: case, accents, width, whole words only
        ("brewly", "I love my BREWLY", None, True),
        ("brewly", "brewlyx is not it", None, False),
        ("brewly", "ＢＲＥＷＬＹ fullwidth", None, True),
        ("cafe", "Un café, s'il vous plaît", None, True),
        ("café", "un CAFE noir", None, True),
        ("strasse", "Die Straße", None, True),
        ("brewly", "#brewly is trending", None, True),  # a word also matches hashtags
        ("brewly", "@brewly help!", None, True),  # ...and mentions
        ("brewly", "https://brewly.example/x2", None, True),  # ...and words in links
        # prefixes
        ("leak*", "it is leaking", None, True),
        ("leak*", "a bleak day", None, False),
        # phrases
        ('"customer service"', "Customer   Service, again", None, True),
        ('"customer service"', "service for the customer", None, False),
        ('"customer service"', "customer, service", None, True),  # punctuation is a boundary
        ("brewly-x2", "my Brewly X2 leaks", None, True),  # split terms are phrases
        ("we'll", "We'll see", None, True),
        # hashtags and mentions
        ("#brewly", "#Brewly rocks", None, True),
        ("#brewly", "brewly rocks", None, False),
        ("#brewly", "#brewlyfail", None, False),
        ("@brewly", "thanks @Brewly", None, True),
        ("@brewly", "#brewly", None, False),
        ("@brewly", "mail me at x@brewly.example", None, False),
        ("@brewly@social.example", "@brewly@social.example hi", None, True),
        ("@brewly@social.example", "@brewly@other.example hi", None, False),
        ("@brewly", "@brewly@social.example hi", None, True),
        # boolean operators
        ("brewly leak", "Brewly leak", None, True),
        ("brewly leak", "Brewly", None, False),
        ("brewly AND leak", "leak brewly", None, True),
        ("brewly OR nespresso", "Nespresso", None, True),
        ("brewly -ad", "brewly ad", None, False),
        ("brewly -ad", "brewly", None, True),
        ("brewly NOT ad", "brewly", None, True),
        ('brewly -"sponsored post"', "brewly sponsored post", None, False),
        ('brewly -"sponsored post"', "brewly post sponsored", None, True),
        ("brewly -(ad OR promo)", "brewly promo", None, False),
        ("(a OR b) (c OR d)", "b d", None, True),
        ("(a OR b) (c OR d)", "a b", None, False),
        ("a OR b c", "a", None, True),  # AND binds tighter than OR
        ("a and b", "a b", None, False),  # lower-case "and" is a word
        ("a and b", "a and b", None, True),
        # languages
        ("brewly lang:nl,en", "brewly", "en-US", True),
        ("brewly lang:nl,en", "brewly", "de", False),
        ("brewly lang:nl,en", "brewly", None, False),
        ("brewly -lang:de", "brewly", None, True),
        ("lang:pt-br", "x", "pt-BR", True),
        ("lang:pt-br", "x", "pt", False),
        # scripts without spaces: substrings
        ("壊れた", "ブルーリー X2 が壊れた 😭", None, True),
        ("ブルーリー", "ブルーリーX2", None, True),
        ("か", "が", None, False),  # voicing marks are not accents
        ("قهوة", "قهوة رائعة with the Brewly", None, True),
        # emoji and empty texts
        ("brewly", "", None, False),
        ("-brewly", "", None, True),
        ("brewly", "😀😀 brewly 😀", None, True),
    ],
)
def test_matches(query: str, text: str, language: str | None, expected: bool) -> None:
    assert WatchRule.parse(query).matches(text, language=language) is expected


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("brewly", "brewly"),
        ("Brewly  Leak", "brewly AND leak"),
        ("a OR b c", "a OR b AND c"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("NOT (a OR b)", "NOT (a OR b)"),
        ("-a", "NOT a"),
        ("NOT NOT a", "a"),
        ("a AND (b AND c)", "a AND b AND c"),
        ('"Customer Service"', '"customer service"'),
        ('"one"', "one"),
        ("brewly-x2", '"brewly x2"'),
        ("#Brewly @Brewly lang:NL,en", "#brewly AND @brewly AND lang:nl,en"),
        ("Leak*", "leak*"),
        ('"東京 ロースト"', '"東京 ロースト"'),
        ("--東", "東"),  # double negation
        ("＃東", '"#東"'),  # a fullwidth "#" is text, not a hashtag operator
        ("---a", "NOT a"),
    ],
)
def test_canonical_form(query: str, canonical: str) -> None:
    rule = WatchRule.parse(query)
    assert str(rule) == canonical
    assert WatchRule.parse(canonical).root == rule.root


@pytest.mark.parametrize(
    ("query", "position", "what"),
    [
        ("", 0, "an empty query"),
        ("   ", 0, "an empty query"),
        ("a AND", 5, "a missing term"),
        ("a OR", 4, "a missing term"),
        ("NOT", 3, "a missing term"),
        ("OR a", 0, "a misplaced 'OR'"),
        ("a AND OR b", 6, "a misplaced 'OR'"),
        ("(a", 0, "an unclosed '('"),
        ("a (b OR c", 2, "an unclosed '('"),
        ("a)", 1, "an unexpected ')'"),
        ("()", 1, "empty parentheses"),
        ('brewly "abc', 7, "an unclosed quote"),
        ('""', 0, "an empty phrase"),
        ("#", 0, "a hashtag like #brewly"),
        ("#a-b", 0, "a hashtag like #brewly"),
        ("@", 0, "a mention like @brewly"),
        ("lang:", 0, "a language list like lang:nl,en"),
        ("x lang:english", 2, "a language list like lang:nl,en"),
        ("*", 0, "no word in '*'"),
        ("a -", 3, "a missing term"),
    ],
)
def test_syntax_errors_say_where(query: str, position: int, what: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        WatchRule.parse(query)
    assert info.value.name == "query"
    assert info.value.position == position  # type: ignore[attr-defined]
    assert what in str(info.value)
    assert f"at position {position}" in str(info.value)


def test_parse_needs_a_string() -> None:
    with pytest.raises(InvalidParameter):
        WatchRule.parse(42)  # type: ignore[arg-type]


def test_rule_name_defaults_to_the_query() -> None:
    assert WatchRule.parse("brewly").name == "brewly"
    rule = WatchRule.parse("brewly", name="Brewly")
    assert (rule.name, rule.query) == ("Brewly", "brewly")


def test_match_rules_accepts_strings_pairs_and_posts() -> None:
    rules = [
        WatchRule.parse("brewly"),
        WatchRule.parse("brewly lang:nl"),
        WatchRule.parse("#koffie OR koffie"),
    ]
    post = ListenedPost("rss", "1", "a", None, "Brewly en koffie", language="nl")
    assert match_rules(rules, ["brewly", ("Brewly lekt", "nl"), post, ""]) == [
        [0],
        [0, 1],
        [0, 1, 2],
        [],
    ]
    assert match_rules([], ["x"]) == [[]]
    assert match_rules(rules, []) == []


def test_match_text_is_reusable() -> None:
    doc = MatchText("Mijn Brewly lekt #brewly @Brewly@social.example", "NL")
    assert doc.language == "nl"
    assert doc.hashtags == {"brewly"}
    assert doc.mentions == {"brewly", "brewly@social.example"}
    assert WatchRule.parse("#brewly lang:nl").matches(doc)
    assert normalize_text("FIne Éclair") == "fine eclair"


# ---------------------------------------------------------------------------- properties
_WORDS = ["brewly", "leak", "coffee", "cafe", "x2", "tank"]
_atoms = st.one_of(
    st.sampled_from(_WORDS),
    st.sampled_from(_WORDS).map(lambda w: "#" + w),
    st.sampled_from(_WORDS).map(lambda w: "@" + w),
    st.sampled_from(_WORDS).map(lambda w: w[:3] + "*"),
    st.lists(st.sampled_from(_WORDS), min_size=2, max_size=3).map(
        lambda ws: '"' + " ".join(ws) + '"'
    ),
    st.sampled_from(["lang:en", "lang:nl,en", "lang:de"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map(lambda ab: f"({ab[0]} OR {ab[1]})"),
        st.tuples(children, children).map(lambda ab: f"({ab[0]} AND {ab[1]})"),
        st.tuples(children, children).map(lambda ab: f"{ab[0]} {ab[1]}"),
        children.map(lambda a: f"NOT {a}"),
        children.map(lambda a: f"-({a})"),
    )


queries = st.recursive(_atoms, _combine, max_leaves=8)
texts = st.lists(
    st.sampled_from([*_WORDS, "Brewly", "#brewly", "@Brewly", "café", "leaking", "the", "!"]),
    max_size=8,
).map(" ".join)
languages = st.sampled_from([None, "en", "nl", "de", "en-GB"])


@given(queries)
@settings(max_examples=300, deadline=None)
def test_parse_of_str_round_trips(query: str) -> None:
    rule = WatchRule.parse(query)
    again = WatchRule.parse(str(rule))
    assert again.root == rule.root
    assert str(again) == str(rule)


@given(queries, texts, languages)
@settings(max_examples=300, deadline=None)
def test_not_is_negation(query: str, text: str, language: str | None) -> None:
    rule = WatchRule.parse(query)
    negated = WatchRule.parse(f"NOT ({query})")
    minus = WatchRule.parse(f"-({query})")
    assert negated.matches(text, language) is not rule.matches(text, language)
    assert minus.matches(text, language) is not rule.matches(text, language)


@given(queries, queries, texts, languages)
@settings(max_examples=300, deadline=None)
def test_or_is_monotone_and_and_is_restrictive(
    a: str, b: str, text: str, language: str | None
) -> None:
    ra, rb = WatchRule.parse(a), WatchRule.parse(b)
    either = WatchRule.parse(f"({a}) OR ({b})").matches(text, language)
    both = WatchRule.parse(f"({a}) ({b})").matches(text, language)
    ma, mb = ra.matches(text, language), rb.matches(text, language)
    assert either == (ma or mb)
    assert both == (ma and mb)
    if ma:
        assert either
    if both:
        assert ma


@given(queries, queries, texts)
@settings(max_examples=200, deadline=None)
def test_de_morgan(a: str, b: str, text: str) -> None:
    lhs = WatchRule.parse(f"NOT (({a}) OR ({b}))")
    rhs = WatchRule.parse(f"NOT ({a}) NOT ({b})")
    assert lhs.matches(text) == rhs.matches(text)


@given(
    st.lists(queries, min_size=1, max_size=5), st.lists(st.tuples(texts, languages), max_size=10)
)
@settings(max_examples=100, deadline=None)
def test_match_rules_agrees_with_matches(
    qs: list[str], posts: list[tuple[str, str | None]]
) -> None:
    rules = [WatchRule.parse(q) for q in qs]
    expected = [[i for i, r in enumerate(rules) if r.matches(t, lang)] for t, lang in posts]
    assert match_rules(rules, posts) == expected
    # the compiled matcher agrees with walking the tree
    for t, lang in posts:
        doc = MatchText(t, lang)
        assert [r.root.eval(doc) for r in rules] == [r.matches(doc) for r in rules]


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_query_parses_or_raises_invalid_parameter(query: str) -> None:
    try:
        rule = WatchRule.parse(query)
    except InvalidParameter as exc:
        position = exc.position  # type: ignore[attr-defined]
        rule = None
    if rule is None:
        assert 0 <= position <= len(query)
    else:
        assert WatchRule.parse(str(rule)).root == rule.root


@given(st.text(max_size=80), st.sampled_from(_WORDS))
@settings(max_examples=200, deadline=None)
def test_term_matching_agrees_with_a_word_scan(text: str, word: str) -> None:
    import re

    norm = normalize_text(text)
    expected = word in re.findall(r"\w+", norm)
    assert WatchRule.parse(word).matches(text) is expected


@pytest.mark.parametrize(
    ("query", "grouping"),
    [
        ('"acme bank" OR #acme -vacature lang:nl,en',
         '"acme bank" OR (#acme AND NOT vacature AND lang:nl,en)'),
        ("a OR b c OR d", "a OR (b AND c) OR d"),
        ("a b OR c", "(a AND b) OR c"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("a AND (b OR (c AND d))", "a AND (b OR (c AND d))"),
        ("-(a OR b) c", "NOT (a OR b) AND c"),
        ("NOT a b", "NOT a AND b"),
        ("a OR (b OR c)", "a OR b OR c"),
        ("brew* @acme", "brew* AND @acme"),
        ("acme", "acme"),
    ],
)  # fmt: skip
def test_rule_grouping_is_fully_parenthesised(query: str, grouping: str) -> None:
    assert rule_grouping(query) == grouping
    rule = WatchRule.parse(query)
    assert rule_grouping(rule) == grouping
    assert WatchRule.parse(grouping).root == rule.root  # the grouping means the same rule
