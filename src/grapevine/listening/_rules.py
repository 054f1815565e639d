"""Brand watch rules: boolean keyword queries matched against posts as they arrive.

Syntax (a query is a boolean expression over these atoms)::

    brewly                  a word (case- and accent-insensitive, whole words only)
    brew*                   a word starting with "brew"
    "customer service"      a phrase: these words, in this order, next to each other
    #brewly                 the hashtag only
    @brewly                 a mention of the account (@brewly@social.example: that one only)
    lang:nl,en              the post's language is one of these
    a b, a AND b            both (juxtaposition is AND)
    a OR b                  either
    NOT a, -a               not a (``-`` binds to the next atom: ``-"bad phrase"``, ``-(a OR b)``)
    ( ... )                 grouping

Inbox routing options (settings of the rule, not conditions; at the top level of the query,
see :mod:`grapevine.listening._routing`)::

    inbox:complaint,question      the intents that reach the webcare inbox (all, none)
    inbox-negative:yes            negative posts reach it whatever their intent (no)
    inbox-min-influence:0.67      authors at least this influential always reach it (off)

Precedence: ``NOT`` / ``-`` > ``AND`` > ``OR``; the operators are upper case (``and``, ``or``
and ``not`` in lower case are ordinary words). A term that the tokenizer splits in several
words (``brewly-x2``, ``we'll``) is a phrase. In scripts written without spaces (Chinese,
Japanese, Thai, Korean) a term matches as a substring, since there are no word boundaries
to respect.

Matching normalises both sides the same way: NFKD, the Latin/Greek/Cyrillic combining
accents dropped, NFC again, ``casefold``; ``Café`` matches ``cafe``, ``ＢＲＥＷＬＹ`` matches
``brewly``, ``Straße`` matches ``strasse``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from grapevine.errors import InvalidParameter
from grapevine.listening._routing import InboxRouting

__all__ = ["MatchText", "WatchRule", "match_rules", "normalize_text", "rule_grouping"]

_OWNER = "WatchRule"
_ACCENTS = re.compile("[\u0300-\u036f]")
_WORD = re.compile(r"\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@(\w+)(?:@((?:[\w-]+\.)+[\w-]+))?")
_NO_SPACE_SCRIPT = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_EMPTY: frozenset[str] = frozenset()
_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def normalize_text(text: str) -> str:
    """Case- and accent-folded text, as rules see it.

    >>> normalize_text("Café ＢＲＥＷＬＹ Straße")
    'cafe brewly strasse'
    >>> normalize_text("が壊れた")  # Japanese voicing marks are kept
    'が壊れた'
    """
    if text.isascii():
        return text.lower()
    text = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text).casefold()


def _language_key(language: str | None) -> str | None:
    if not language:
        return None
    return language.strip().replace("_", "-").lower() or None


class MatchText:
    """A text tokenised once, to be matched against many rules.

    Attributes
    ----------
    text : str
        The normalised text (:func:`normalize_text`).
    words : list of str
        Its words, in order.
    language : str or None
        The post's language, lower case.
    """

    __slots__ = (
        "_positions",
        "_sorted",
        "hashtags",
        "language",
        "mentions",
        "text",
        "word_set",
        "words",
    )

    def __init__(self, text: str | None, language: str | None = None) -> None:
        norm = normalize_text(text or "")
        self.text = norm
        self.words = _WORD.findall(norm)
        self.word_set = frozenset(self.words)
        self.hashtags = frozenset(_HASHTAG.findall(norm)) if "#" in norm else _EMPTY
        mentions: set[str] = set()
        if "@" in norm:
            for user, host in _MENTION.findall(norm):
                mentions.add(user)
                if host:
                    mentions.add(f"{user}@{host}")
        self.mentions = frozenset(mentions)
        self.language = _language_key(language)
        self._positions: dict[str, list[int]] | None = None
        self._sorted: list[str] | None = None

    def has_prefix(self, prefix: str) -> bool:
        """Whether a word starts with ``prefix`` (a binary search of the sorted words)."""
        if self._sorted is None:
            self._sorted = sorted(self.word_set)
        i = bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)

    def positions(self, word: str) -> list[int]:
        """Where ``word`` occurs in :attr:`words`."""
        if self._positions is None:
            positions: dict[str, list[int]] = {}
            for i, w in enumerate(self.words):
                positions.setdefault(w, []).append(i)
            self._positions = positions
        return self._positions.get(word, [])


# ---------------------------------------------------------------------------- the tree
class _Node(Protocol):
    def eval(self, doc: MatchText) -> bool: ...

    def render(self, parent: int) -> str: ...

    def code(self, consts: list[Any]) -> str: ...


def _const(consts: list[Any], value: Any) -> str:
    consts.append(value)
    return f"c[{len(consts) - 1}]"


# precedence levels for rendering: OR 1, AND 2, NOT/atoms 3
@dataclass(frozen=True)
class Term:
    """A whole word."""

    word: str

    def eval(self, doc: MatchText) -> bool:
        return self.word in doc.word_set

    def render(self, parent: int) -> str:
        return self.word

    def code(self, consts: list[Any]) -> str:
        return f"({_const(consts, self.word)} in d.word_set)"


@dataclass(frozen=True)
class Prefix:
    """A word starting with ``prefix`` (``brew*``)."""

    prefix: str

    def eval(self, doc: MatchText) -> bool:
        return doc.has_prefix(self.prefix)

    def render(self, parent: int) -> str:
        return self.prefix + "*"

    def code(self, consts: list[Any]) -> str:
        return f"d.has_prefix({_const(consts, self.prefix)})"


@dataclass(frozen=True)
class Phrase:
    """Consecutive words."""

    words: tuple[str, ...]

    def eval(self, doc: MatchText) -> bool:
        first, rest = self.words[0], self.words[1:]
        if not all(w in doc.word_set for w in self.words):
            return False
        seq, n = doc.words, len(self.words)
        return any(tuple(seq[i + 1 : i + n]) == rest for i in doc.positions(first))

    def render(self, parent: int) -> str:
        return '"' + " ".join(self.words) + '"'

    def code(self, consts: list[Any]) -> str:
        return f"{_const(consts, self)}.eval(d)"


@dataclass(frozen=True)
class Substring:
    """A term in a script written without spaces, matched as a substring."""

    text: str
    quoted: bool = field(default=False, compare=False)

    def eval(self, doc: MatchText) -> bool:
        return self.text in doc.text

    def render(self, parent: int) -> str:
        t = self.text
        bare = not self.quoted and " " not in t and t[0] not in "-#@" and not t.endswith("*")
        return (
            t if bare and not t.startswith("lang:") and "(" not in t and ")" not in t else f'"{t}"'
        )

    def code(self, consts: list[Any]) -> str:
        return f"({_const(consts, self.text)} in d.text)"


@dataclass(frozen=True)
class Hashtag:
    """``#tag``."""

    tag: str

    def eval(self, doc: MatchText) -> bool:
        return self.tag in doc.hashtags

    def render(self, parent: int) -> str:
        return "#" + self.tag

    def code(self, consts: list[Any]) -> str:
        return f"({_const(consts, self.tag)} in d.hashtags)"


@dataclass(frozen=True)
class Mention:
    """``@user`` or ``@user@host``."""

    user: str

    def eval(self, doc: MatchText) -> bool:
        return self.user in doc.mentions

    def render(self, parent: int) -> str:
        return "@" + self.user

    def code(self, consts: list[Any]) -> str:
        return f"({_const(consts, self.user)} in d.mentions)"


@dataclass(frozen=True)
class Lang:
    """``lang:nl,en``; ``en`` also accepts ``en-us``."""

    codes: tuple[str, ...]

    def eval(self, doc: MatchText) -> bool:
        lang = doc.language
        if lang is None:
            return False
        primary = lang.split("-", 1)[0]
        return any(code in (lang, primary) for code in self.codes)

    def render(self, parent: int) -> str:
        return "lang:" + ",".join(self.codes)

    def code(self, consts: list[Any]) -> str:
        return f"{_const(consts, self)}.eval(d)"


@dataclass(frozen=True)
class Not:
    """Negation."""

    child: _Node

    def eval(self, doc: MatchText) -> bool:
        return not self.child.eval(doc)

    def render(self, parent: int) -> str:
        return "NOT " + self.child.render(3)

    def code(self, consts: list[Any]) -> str:
        return f"(not {self.child.code(consts)})"


@dataclass(frozen=True)
class And:
    """Conjunction (two or more)."""

    children: tuple[_Node, ...]

    def eval(self, doc: MatchText) -> bool:
        return all(c.eval(doc) for c in self.children)

    def render(self, parent: int) -> str:
        body = " AND ".join(c.render(2) for c in self.children)
        return f"({body})" if parent > 2 else body

    def code(self, consts: list[Any]) -> str:
        return "(" + " and ".join(c.code(consts) for c in self.children) + ")"


@dataclass(frozen=True)
class Or:
    """Disjunction (two or more)."""

    children: tuple[_Node, ...]

    def eval(self, doc: MatchText) -> bool:
        return any(c.eval(doc) for c in self.children)

    def render(self, parent: int) -> str:
        body = " OR ".join(c.render(1) for c in self.children)
        return f"({body})" if parent > 1 else body

    def code(self, consts: list[Any]) -> str:
        return "(" + " or ".join(c.code(consts) for c in self.children) + ")"


def _flat(kind: type[And] | type[Or], children: list[Any]) -> Any:
    out: list[Any] = []
    for c in children:
        out.extend(c.children if isinstance(c, kind) else (c,))
    return out[0] if len(out) == 1 else kind(tuple(out))


# ---------------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT MINUS
    value: str
    pos: int


_TOKEN = re.compile(r'\s+|(?P<lp>\()|(?P<rp>\))|(?P<q>"[^"]*"?)|(?P<w>[^\s()"]+)')


def _syntax(query: str, pos: int, what: str) -> InvalidParameter:
    err = InvalidParameter(
        "query", _OWNER, f"a valid watch query ({what} at position {pos})", query
    )
    err.position = pos  # type: ignore[attr-defined]
    return err


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(query):
        pos = m.start()
        if m.group("lp"):
            toks.append(_Tok("LPAREN", "(", pos))
        elif m.group("rp"):
            toks.append(_Tok("RPAREN", ")", pos))
        elif (q := m.group("q")) is not None:
            if len(q) < 2 or not q.endswith('"'):
                raise _syntax(query, pos, "an unclosed quote")
            toks.append(_Tok("PHRASE", q[1:-1], pos))
        elif (w := m.group("w")) is not None:
            if w in ("AND", "OR", "NOT"):
                toks.append(_Tok(w, w, pos))
            elif w.startswith("-"):
                rest = w.lstrip("-")
                dashes = len(w) - len(rest)
                toks.extend(_Tok("MINUS", "-", pos + k) for k in range(dashes))
                if rest:
                    toks.append(_Tok("WORD", rest, pos + dashes))
            else:
                toks.append(_Tok("WORD", w, pos))
    # "-(" and '-"...' arrive as separate tokens after a bare "-"
    return toks


_OPTION = re.compile(r"(inbox(?:-[a-z-]+)?):(.*)", re.IGNORECASE)


def _options(query: str, toks: list[_Tok]) -> tuple[list[_Tok], dict[str, str]]:
    """The query's tokens without its routing options (``inbox:...``), and the options.

    An option stands at the top level of the query, outside parentheses and not negated or
    joined by OR (it is not a condition on the post but a setting of the rule).
    """
    from grapevine.listening._routing import ROUTING_OPTIONS

    kept: list[_Tok] = []
    options: dict[str, str] = {}
    depth = 0
    for k, tok in enumerate(toks):
        m = _OPTION.fullmatch(tok.value) if tok.kind == "WORD" else None
        if m is None:
            depth += tok.kind == "LPAREN"
            depth -= tok.kind == "RPAREN"
            kept.append(tok)
            continue
        name = m.group(1).lower()
        if name not in ROUTING_OPTIONS:
            raise _syntax(query, tok.pos, f"an option among {list(ROUTING_OPTIONS)}, not {name!r}")
        before = toks[k - 1].kind if k else None
        after = toks[k + 1].kind if k + 1 < len(toks) else None
        if depth or before in ("NOT", "MINUS", "OR") or after == "OR":
            raise _syntax(
                query, tok.pos, f"the option {name!r} at the top level, not in a condition"
            )
        if name in options:
            raise _syntax(query, tok.pos, f"the option {name!r} once")
        options[name] = m.group(2)
    return kept, options


class _Parser:
    def __init__(self, query: str, toks: list[_Tok] | None = None) -> None:
        self.query = query
        self.toks = _lex(query) if toks is None else toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def end_pos(self) -> int:
        return len(self.query)

    def parse(self) -> Any:
        if not self.toks:
            raise _syntax(self.query, 0, "an empty query")
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise _syntax(self.query, tok.pos, f"an unexpected {tok.value!r}")
        return node

    def or_expr(self) -> Any:
        children = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            children.append(self.and_expr())
        return _flat(Or, children)

    def and_expr(self) -> Any:
        children = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.i += 1
            children.append(self.unary())
        return _flat(And, children)

    def unary(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise _syntax(self.query, self.end_pos(), "a missing term")
        if tok.kind in ("NOT", "MINUS"):
            self.i += 1
            child = self.unary()
            return child.child if isinstance(child, Not) else Not(child)
        return self.atom()

    def atom(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise _syntax(self.query, self.end_pos(), "a missing term")
        if tok.kind == "LPAREN":
            self.i += 1
            if (nxt := self.peek()) is not None and nxt.kind == "RPAREN":
                raise _syntax(self.query, nxt.pos, "empty parentheses")
            node = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise _syntax(self.query, tok.pos, "an unclosed '('")
            self.i += 1
            return node
        if tok.kind in ("RPAREN", "AND", "OR"):
            raise _syntax(self.query, tok.pos, f"a misplaced {tok.value!r}")
        self.i += 1
        if tok.kind == "PHRASE":
            return _phrase(self.query, tok, quoted=True)
        return _word(self.query, tok)


def _phrase(query: str, tok: _Tok, *, quoted: bool) -> Any:
    norm = normalize_text(tok.value).strip()
    if _NO_SPACE_SCRIPT.search(norm):
        if not norm:
            raise _syntax(query, tok.pos, "an empty phrase")
        collapsed = " ".join(norm.replace('"', " ").split())  # a quote cannot be rendered
        return Substring(collapsed, quoted=quoted or " " in collapsed)
    words = tuple(_WORD.findall(norm))
    if not words:
        raise _syntax(query, tok.pos, "an empty phrase" if quoted else f"no word in {tok.value!r}")
    return Term(words[0]) if len(words) == 1 else Phrase(words)


def _word(query: str, tok: _Tok) -> Any:
    raw = tok.value
    low = raw.lower()
    if low.startswith("lang:"):
        codes = tuple(c for c in (_language_key(x) for x in raw[5:].split(",")) if c is not None)
        if not codes or not all(_LANG.fullmatch(c) for c in codes):
            raise _syntax(query, tok.pos, f"a language list like lang:nl,en, not {raw!r}")
        return Lang(codes)
    if raw.startswith("#"):
        tag = normalize_text(raw[1:])
        if not _WORD.fullmatch(tag):
            raise _syntax(query, tok.pos, f"a hashtag like #brewly, not {raw!r}")
        return Hashtag(tag)
    if raw.startswith("@"):
        user = normalize_text(raw[1:])
        m = _MENTION.fullmatch("@" + user)
        if m is None:
            raise _syntax(query, tok.pos, f"a mention like @brewly, not {raw!r}")
        return Mention(user)
    if raw.endswith("*") and len(raw) > 1:
        stem = normalize_text(raw[:-1])
        if not _WORD.fullmatch(stem) or _NO_SPACE_SCRIPT.search(stem):
            raise _syntax(query, tok.pos, f"a word before '*', not {raw!r}")
        return Prefix(stem)
    return _phrase(query, tok, quoted=False)


def _compile(root: Any) -> Any:
    """The rule as one Python function of a :class:`MatchText` (short-circuit and/or/not).

    The generated source holds only operators and ``c[i]`` references; every string of the
    query is a constant in ``c``. A tree too deep for the compiler falls back to ``eval``.
    """
    consts: list[Any] = []
    try:
        source = f"lambda d, c=c: {root.code(consts)}"
        return eval(source, {"__builtins__": {}}, {"c": tuple(consts)})
    except (RecursionError, SyntaxError, MemoryError):  # pragma: no cover - absurd nesting
        return root.eval


# ---------------------------------------------------------------------------- grouping
def _grouped(node: Any, nested: bool) -> str:
    if isinstance(node, And | Or):
        op = " AND " if isinstance(node, And) else " OR "
        body = op.join(_grouped(c, True) for c in node.children)
        return f"({body})" if nested else body
    if isinstance(node, Not):
        return "NOT " + _grouped(node.child, True)
    return str(node.render(0))


def rule_grouping(rule: WatchRule | str) -> str:
    """A rule as it is read, fully parenthesised: every AND or OR inside another is bracketed.

    A query mixing AND and OR without brackets is grouped by precedence (NOT before AND
    before OR; juxtaposition is AND), which is not always what its author meant; this shows
    the grouping the matcher uses.

    Examples
    --------
    >>> rule_grouping('"acme bank" OR #acme -vacature lang:nl,en')
    '"acme bank" OR (#acme AND NOT vacature AND lang:nl,en)'
    >>> rule_grouping("a OR b c OR d")
    'a OR (b AND c) OR d'
    """
    parsed = rule if isinstance(rule, WatchRule) else WatchRule.parse(rule)
    return _grouped(parsed.root, False)


# ---------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class WatchRule:
    """A named boolean keyword query.

    Attributes
    ----------
    name : str
        The rule's name (the brand, the campaign).
    root : node
        The parsed query (``Term``, ``Phrase``, ``And``...); equal rules have equal roots.
    query : str
        The query as written.

    Examples
    --------
    >>> rule = WatchRule.parse('brewly (leak* OR "customer service") -#ad lang:en,nl')
    >>> str(rule)
    'brewly AND (leak* OR "customer service") AND NOT #ad AND lang:en,nl'
    >>> rule.matches("My Brewly is LEAKING again", language="en")
    True
    >>> rule.matches("My Brewly is leaking again #ad", language="en")
    False
    >>> rule.matches("Mijn Brewly lekt", language="nl")
    False
    """

    name: str
    root: Any
    query: str = field(default="", compare=False)
    inbox: InboxRouting = field(default_factory=InboxRouting)
    _match: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_match", _compile(self.root))

    @classmethod
    def parse(cls, query: str, *, name: str | None = None) -> WatchRule:
        """Parse a query (see the module's docstring for the syntax).

        Raises
        ------
        grapevine.errors.InvalidParameter
            A syntax error; the message and the ``position`` attribute say where.
        """
        if not isinstance(query, str):
            raise InvalidParameter("query", _OWNER, "a string", query)
        toks, options = _options(query, _lex(query))
        if options and not toks:
            raise _syntax(query, 0, "a term besides the inbox options")
        root = _Parser(query, toks).parse()
        inbox = InboxRouting.from_options(options) if options else InboxRouting()
        return cls(name=name if name is not None else query, root=root, query=query, inbox=inbox)

    def __str__(self) -> str:
        return " ".join([str(self.root.render(0)), *self.inbox.options()])

    def matches(self, text: str | MatchText, language: str | None = None) -> bool:
        """Whether a post's text (and language) matches."""
        doc = text if isinstance(text, MatchText) else MatchText(text, language)
        return bool(self._match(doc))


class _HasText(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def language(self) -> str | None: ...


PostLike = str | tuple[str, str | None] | _HasText


def match_rules(rules: Sequence[WatchRule], posts: Iterable[PostLike]) -> list[list[int]]:
    """For each post, the indices of the rules it matches.

    Each text is normalised and tokenised once, then tested against every rule.

    Parameters
    ----------
    rules : sequence of WatchRule
    posts : iterable
        Strings, ``(text, language)`` pairs, or objects with ``text`` and ``language``
        (a :class:`~grapevine.connectors.ListenedPost`).

    Returns
    -------
    list of list of int
        ``result[i]`` lists the positions in ``rules`` of the rules post ``i`` matches.

    Examples
    --------
    >>> rules = [WatchRule.parse("brewly"), WatchRule.parse("#coffee OR koffie")]
    >>> match_rules(rules, ["Brewly!", ("lekker koffie", "nl"), "tea"])
    [[0], [1], []]
    """
    matchers = [r._match for r in rules]
    out: list[list[int]] = []
    for post in posts:
        if isinstance(post, str):
            doc = MatchText(post)
        elif isinstance(post, tuple):
            doc = MatchText(post[0], post[1])
        else:
            doc = MatchText(post.text, post.language)
        out.append([i for i, match in enumerate(matchers) if match(doc)])
    return out
