"""The listening pipeline: dedupe, match rules, language, sentiment, store, inbox.

Pure steps (:func:`dedupe_posts`, :func:`resolve_languages`, :func:`score_posts`) work on
lists of :class:`~grapevine.connectors.ListenedPost`; :class:`Listener` runs them on what the
sources fetch (or a file holds) and writes each batch, with its source's new cursor, in one
transaction through :mod:`grapevine.store.listening_repo`.

Defined results for awkward input:

- the same post twice in a batch, or from two sources (same ``platform`` and
  ``external_id``): stored once, the first copy, with the fields it lacks (language,
  followers, counters) filled in from the later copies; a post already in the store is not
  scored or matched again;
- an empty text: sentiment ``unscored`` (source ``empty``), even where the source states a
  language; a text with too few letters to tell (emoji only): language ``und``, ``unscored``;
- a language the model does not cover: sentiment ``unscored``, never guessed;
- a text whose hash has a manual correction: the corrected label (confidence 1);
- HTML in a text: the connectors strip it before it gets here (``html_to_text``); NUL
  characters are removed (PostgreSQL cannot store them);
- a batch the store refuses: nothing of it is written, the source is recorded as failing with
  its cursor kept, and the other sources go on.
"""

from __future__ import annotations

import hashlib
import os
import time as _time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grapevine.connectors import ListenedPost
from grapevine.errors import BadInput, GrapevineError, InvalidParameter, SourceFailed
from grapevine.listening._inbox import PriorityWeights, priority
from grapevine.listening._routing import post_intents, rule_routing

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.connectors import Source
    from grapevine.store import Store
    from grapevine.text import Sentiment, SentimentModel

__all__ = [
    "IMPORT_FORMATS",
    "IngestReport",
    "Listener",
    "SourceReport",
    "build_source",
    "correct_sentiment",
    "dedupe_posts",
    "model_version",
    "p_negative",
    "resolve_languages",
    "score_posts",
]

IMPORT_FORMATS = ("jsonl", "csv", "twitter-archive", "mastodon-archive")
_FILLABLE = ("language", "author_name", "author_followers", "url", "parent_external_id")
_COUNTERS = ("likes", "reshares", "replies")


# ---------------------------------------------------------------------------- pure steps
def dedupe_posts(posts: Iterable[ListenedPost]) -> tuple[list[ListenedPost], int]:
    """One post per ``(platform, external_id)``, in first-seen order; and how many were dropped.

    The first copy wins; a later copy fills the fields the first lacks and raises the
    counters (likes, reshares, replies) to the largest reported.

    >>> a = ListenedPost("rss", "1", "ann", 0.0, "hi", reshares=2)
    >>> b = ListenedPost("rss", "1", "ann", 0.0, "hi", language="en", reshares=5)
    >>> kept, dropped = dedupe_posts([a, b])
    >>> len(kept), dropped, kept[0].language, kept[0].reshares
    (1, 1, 'en', 5)
    """
    seen: dict[tuple[str, str], ListenedPost] = {}
    dropped = 0
    for p in posts:
        key = (p.platform, p.external_id)
        first = seen.get(key)
        if first is None:
            seen[key] = p
            continue
        dropped += 1
        changes: dict[str, Any] = {
            f: getattr(p, f)
            for f in _FILLABLE
            if getattr(first, f) is None and getattr(p, f) is not None
        }
        for f in _COUNTERS:
            a, b = getattr(first, f), getattr(p, f)
            if b is not None and (a is None or b > a):
                changes[f] = b
        if changes:
            seen[key] = replace(first, **changes)
    return list(seen.values()), dropped


def _normalize_language(lang: str | None) -> str | None:
    if lang is None:
        return None
    code = str(lang).strip().lower().replace("_", "-").split("-")[0]
    return code if code and code != "und" and code.isalpha() and len(code) <= 3 else None


def resolve_languages(posts: Sequence[ListenedPost]) -> list[str]:
    """The source's language where it states one (``en-US`` -> ``en``), else detected.

    >>> resolve_languages([ListenedPost("x", "1", "a", None, "Hello there my friend",
    ...                                 language="en-GB"),
    ...                    ListenedPost("x", "2", "a", None, "Ik ga morgen naar de markt"),
    ...                    ListenedPost("x", "3", "a", None, "")])
    ['en', 'nl', 'und']
    """
    from grapevine.text import detect_language

    out: list[str | None] = [_normalize_language(p.language) for p in posts]
    missing = [i for i, lang in enumerate(out) if lang is None]
    if missing:
        for i, guess in zip(missing, detect_language(posts[i].text for i in missing), strict=True):
            out[i] = guess.lang
    return [str(lang) for lang in out]


def p_negative(s: Sentiment) -> float | None:
    """P(negative) of a sentiment: its confidence when negative, else an even share of the
    rest; 1 or 0 for a correction; None when unscored."""
    if s.label == "unscored":
        return None
    if s.source == "correction":
        return 1.0 if s.label == "negative" else 0.0
    if s.label == "negative":
        return float(s.confidence)
    return max(0.0, (1.0 - float(s.confidence)) / 2.0)


def score_posts(
    model: SentimentModel, posts: Sequence[ListenedPost], languages: Sequence[str]
) -> list[Sentiment]:
    """The sentiment of each post in its resolved language (unsupported: ``unscored``)."""
    return model.predict([p.text for p in posts], langs=list(languages))


def model_version(model: SentimentModel) -> str:
    """A short fingerprint of a sentiment model's weights (stored with every label)."""
    h = hashlib.sha256()
    for part in getattr(model, "parts", ()):
        h.update(",".join(part.languages).encode())
        h.update(part.coef.tobytes())
        h.update(part.intercept.tobytes())
    head = getattr(model, "head", None)
    if head is not None:  # an optional second stage: its kind and weights count too
        h.update(type(head).__name__.encode())
        for value in vars(head).values() if hasattr(head, "__dict__") else ():
            if hasattr(value, "tobytes"):
                h.update(value.tobytes())
    return "sentiment:" + h.hexdigest()[:12]


def _match(
    rules: Sequence[Any], posts: Sequence[ListenedPost], languages: Sequence[str]
) -> list[list[int]]:
    """Indexes of the rules each post matches (the post's resolved language is used)."""
    if not rules:
        return [[] for _ in posts]
    from grapevine.listening._rules import match_rules

    return match_rules(rules, [(p.text, lang) for p, lang in zip(posts, languages, strict=True)])


# ---------------------------------------------------------------------------- scoring
_WORKER_MODEL: Any = None


def _worker_init(model: SentimentModel) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    from grapevine.text import detect_language

    detect_language(["load the language identifier once"])


def _worker_score(
    texts: Sequence[str], given: Sequence[str | None]
) -> tuple[list[str], list[tuple[str, float, str, str]]]:
    """In a worker: languages (given, else detected) and sentiments, as plain tuples."""
    from grapevine.text import detect_language

    langs: list[str | None] = list(given)
    missing = [i for i, lang in enumerate(langs) if lang is None]
    if missing:
        for i, guess in zip(missing, detect_language(texts[i] for i in missing), strict=True):
            langs[i] = guess.lang
    resolved = [str(lang) for lang in langs]
    sentiments = _WORKER_MODEL.predict(list(texts), langs=resolved)
    return resolved, [(s.label, float(s.confidence), s.lang, s.source) for s in sentiments]


def _blank_unscored(texts: Sequence[str], out: list[Sentiment]) -> list[Sentiment]:
    """An empty (or all-blank) text is ``unscored`` (source ``empty``), whatever its language:
    the model would only return its prior."""
    from grapevine.text import UNSCORED, Sentiment

    return [
        s if t.strip() else Sentiment(UNSCORED, 0.0, s.lang, "empty")
        for t, s in zip(texts, out, strict=True)
    ]


class _Scorer:
    """Language and sentiment of a batch, in this process or split over worker processes."""

    def __init__(self, model: SentimentModel, workers: int) -> None:
        self.model = model
        self.workers = workers
        self._pool: Any = None

    def _executor(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_init,
                initargs=(self.model,),
            )
        return self._pool

    def score(
        self, posts: Sequence[ListenedPost], report: IngestReport
    ) -> tuple[list[str], list[Sentiment]]:
        from grapevine.text import Sentiment

        texts = [p.text for p in posts]
        given = [_normalize_language(p.language) for p in posts]
        t = _time.perf_counter()
        if self.workers <= 1 or len(posts) < 2 * self.workers:
            from grapevine.text import detect_language

            langs: list[str | None] = list(given)
            missing = [i for i, lang in enumerate(langs) if lang is None]
            if missing:
                found = detect_language(texts[i] for i in missing)
                for i, guess in zip(missing, found, strict=True):
                    langs[i] = guess.lang
            resolved = [str(lang) for lang in langs]
            report.add_time("language", _time.perf_counter() - t)
            t = _time.perf_counter()
            out = self.model.predict(texts, langs=resolved)
            report.add_time("sentiment", _time.perf_counter() - t)
            return resolved, _blank_unscored(texts, out)
        step = -(-len(posts) // self.workers)
        pool = self._executor()
        futures = [
            pool.submit(_worker_score, texts[i : i + step], given[i : i + step])
            for i in range(0, len(posts), step)
        ]
        resolved, out = [], []
        for f in futures:
            langs_part, sents = f.result()
            resolved += langs_part
            out += [Sentiment(*s) for s in sents]
        report.add_time(
            f"language + sentiment ({self.workers} processes)", _time.perf_counter() - t
        )
        return resolved, _blank_unscored(texts, out)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


# ---------------------------------------------------------------------------- reports
@dataclass
class IngestReport:
    """What one run of the pipeline did, with seconds per stage.

    ``matched`` posts matched a rule; of them ``inbox_new`` became new inbox items and
    ``held_back`` were stored without one (their rules' routing did not send them: see
    :class:`~grapevine.listening.InboxRouting`); ``intents`` counts the matched posts by
    intent.
    """

    received: int = 0
    duplicates: int = 0
    already_stored: int = 0
    stored: int = 0
    matched: int = 0
    mentions: int = 0
    inbox_new: int = 0
    held_back: int = 0
    unscored: int = 0
    batches: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def add(self, other: IngestReport) -> None:
        for name in (
            "received",
            "duplicates",
            "already_stored",
            "stored",
            "matched",
            "mentions",
            "inbox_new",
            "held_back",
            "unscored",
            "batches",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for k, n in other.intents.items():
            self.intents[k] = self.intents.get(k, 0) + n
        for k, v in other.seconds.items():
            self.add_time(k, v)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "already_stored": self.already_stored,
            "stored": self.stored,
            "matched": self.matched,
            "mentions": self.mentions,
            "inbox_new": self.inbox_new,
            "held_back": self.held_back,
            "unscored": self.unscored,
            "batches": self.batches,
            "intents": dict(sorted(self.intents.items())),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


@dataclass
class SourceReport:
    """One source in one run: fetched, stored, or the failure and when it is tried again."""

    name: str
    kind: str
    status: str  # ok, failing, skipped
    fetched: int = 0
    ingest: IngestReport | None = None
    error: str | None = None
    next_attempt_at: float | None = None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "fetched": self.fetched,
            "stored": self.ingest.stored if self.ingest else 0,
            "matched": self.ingest.matched if self.ingest else 0,
            "inbox_new": self.ingest.inbox_new if self.ingest else 0,
            "error": self.error,
            "next_attempt_at": self.next_attempt_at,
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------------- sources
def build_source(row: Mapping[str, Any]) -> Source:
    """The connector for a stored source row (``kind`` and ``config``).

    A Mastodon token is never stored: ``config['token_env']`` names the environment
    variable that holds it.
    """
    kind, cfg = row["kind"], dict(row["config"] or {})
    if kind == "rss":
        from grapevine.connectors.feeds import FeedSource

        return FeedSource(cfg["url"])
    if kind == "mastodon":
        from grapevine.connectors.mastodon import MastodonSource

        env = cfg.get("token_env")
        token = os.environ.get(env) if env else None
        timeline = str(cfg.get("timeline", "public"))
        head = timeline.split(":", 1)[0]
        if head in ("search", "mentions") and not token:
            where = (
                f"the environment variable {env} is not set or empty"
                if env
                else "none was named: give the environment variable that holds it as "
                "token_env (`--token-env NAME` on the command line)"
            )
            raise BadInput(
                f"the {head!r} timeline needs an access token, and {where}", field="token_env"
            )
        return MastodonSource(
            cfg["api_base_url"], access_token=token, timeline=cfg.get("timeline", "public")
        )
    if kind in ("hackernews", "bluesky", "reddit", "x"):
        from grapevine.connectors.social import social_source

        return social_source(kind, cfg, os.environ)
    raise BadInput(f"unknown source kind {kind!r}", field="kind")


def _posts_from_file(
    path: Path, format: str, platform: str | None, batch_size: int
) -> Iterator[list[ListenedPost]]:
    if format in ("jsonl", "csv"):
        from grapevine.connectors import read_records

        name = str(path).lower().removesuffix(".gz")
        is_jsonl = name.endswith((".jsonl", ".ndjson", ".json"))
        if is_jsonl != (format == "jsonl"):
            raise BadInput(
                f"--format {format} does not fit the file's extension "
                "(.jsonl/.ndjson/.json for jsonl, anything else csv)",
                file=str(path),
            )
        for batch in read_records(
            path, "posts", batch_size=batch_size, platform=platform or "generic"
        ):
            frame = batch.posts
            if frame is None or frame.empty:
                continue
            yield [_generic_post(batch.platform, r) for r in frame.to_dict("records")]
        return
    from grapevine.connectors import archives

    reader: Callable[[Path], Iterable[ListenedPost]] = (
        archives.read_twitter_archive
        if format == "twitter-archive"
        else archives.read_mastodon_outbox
    )
    block: list[ListenedPost] = []
    for post in reader(path):
        block.append(post)
        if len(block) >= batch_size:
            yield block
            block = []
    if block:
        yield block


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) else v


def _int(v: Any) -> int | None:
    v = _none(v)
    return None if v is None else int(v)


def _generic_post(platform: str, r: Mapping[str, Any]) -> ListenedPost:
    t = _none(r.get("time"))
    return ListenedPost(
        platform=platform,
        external_id=str(r["external_id"]),
        author=str(r["author"]),
        time=None if t is None else float(t),
        text=_none(r.get("text")) or "",
        url=_none(r.get("url")),
        parent_external_id=_none(r.get("parent_external_id")),
        language=_none(r.get("language")),
        likes=_int(r.get("likes")),
        reshares=_int(r.get("reshares")),
        replies=_int(r.get("replies")),
        source="file",
    )


# ---------------------------------------------------------------------------- the listener
class Listener:
    """Runs the pipeline into a store.

    Parameters
    ----------
    store : Store
    model : SentimentModel, optional
        The shipped model by default; manual corrections stored in the store are applied on
        top at every batch.
    weights : PriorityWeights, optional
        The inbox priority's weights.
    clock : callable
        Unix seconds now (tests pass a fixed clock).
    workers : int
        Processes for language detection and sentiment (1: in this process). With more,
        each batch is split over that many worker processes (forked, each with the model).
    retry_base_s : float
        After a failure a source waits ``retry_base_s * 2 ** (failures - 1)`` seconds (at
        most ``retry_max_s``, at least what the source asked for) before it is tried again.
    """

    def __init__(
        self,
        store: Store,
        *,
        model: SentimentModel | None = None,
        weights: PriorityWeights | None = None,
        clock: Callable[[], float] = _time.time,
        retry_base_s: float = 60.0,
        retry_max_s: float = 3600.0,
        workers: int = 1,
    ) -> None:
        from grapevine._validation import check_number

        check_number(workers, "workers", "Listener", kind=int, low=1)
        if model is None:
            from grapevine.text import SentimentModel

            model = SentimentModel.load()
        self.store = store
        self.model = model
        self.version = model_version(model)
        self.weights = weights or PriorityWeights()
        self.weights.normalized()
        self.clock = clock
        self.retry_base_s = float(retry_base_s)
        self.retry_max_s = float(retry_max_s)
        self._scorer = _Scorer(model, workers)

    def close(self) -> None:
        """Stop the worker processes (if any)."""
        self._scorer.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ rules
    def active_rules(self) -> list[tuple[int, str, Any]]:
        """``(id, name, WatchRule)`` of every active rule in the store."""
        from grapevine.listening._rules import WatchRule
        from grapevine.store import listening_repo as repo

        with self.store.engine.connect() as conn:
            rows = repo.list_rules(conn, active_only=True)
        return [(r["id"], r["name"], WatchRule.parse(r["query"], name=r["name"])) for r in rows]

    # ------------------------------------------------------------------ ingest
    def ingest(
        self,
        posts: Iterable[ListenedPost],
        *,
        source_id: int | None = None,
        cursor: str | None = None,
        rules: Sequence[tuple[int, str, Any]] | None = None,
    ) -> IngestReport:
        """Run one batch through the pipeline and write it in one transaction.

        With ``source_id``, the source's cursor is set to ``cursor`` in the same
        transaction (and its status back to ok).
        """
        from grapevine.store import listening_repo as repo

        report = IngestReport(batches=1)
        clock = _time.perf_counter
        t0 = clock()
        posts = list(posts)
        report.received = len(posts)
        posts = [_without_nul(p) for p in posts]
        kept, report.duplicates = dedupe_posts(posts)
        rules = self.active_rules() if rules is None else rules
        now = self.clock()
        with self.store.engine.connect() as conn:
            by_platform: dict[str, list[str]] = {}
            for p in kept:
                by_platform.setdefault(p.platform, []).append(p.external_id)
            stored: set[tuple[str, str]] = set()
            for platform, ids in by_platform.items():
                stored.update(
                    (platform, e)
                    for e in repo.existing_keys(conn, platform=platform, external_ids=ids)
                )
            fixes = repo.corrections(conn)
        from grapevine.text import Sentiment

        fresh = [p for p in kept if (p.platform, p.external_id) not in stored]
        report.already_stored = len(kept) - len(fresh)
        report.add_time("dedupe", clock() - t0)
        languages, sentiments = self._scorer.score(fresh, report)
        t = clock()  # after the language: a rule's lang: filter needs it
        matches = _match([r for _, _, r in rules], fresh, languages)
        report.add_time("match", clock() - t)
        t = clock()
        hashes = [_hash(p.text) for p in fresh]
        if fixes:
            sentiments = [
                Sentiment(fixes[h], 1.0, s.lang, "correction") if h in fixes else s
                for h, s in zip(hashes, sentiments, strict=True)
            ]
        scores = [
            repo.ScoredPost(
                language=lang,
                label=s.label,
                confidence=float(s.confidence),
                p_negative=p_negative(s),
                source=s.source,
                text_hash=h,
            )
            for h, lang, s in zip(hashes, languages, sentiments, strict=True)
        ]
        report.unscored = sum(s.label == "unscored" for s in sentiments)
        report.add_time("sentiment", clock() - t)
        with repo.transaction(self.store.engine) as conn:
            t = clock()
            post_ids = repo.write_posts(
                conn, posts=fresh, scores=scores, model_version=self.version, now=now
            )
            report.stored = len(fresh)
            rule_ids = [[rules[j][0] for j in m] for m in matches]
            report.mentions = repo.write_mentions(
                conn, post_ids=post_ids, rule_ids=rule_ids, times=[p.time for p in fresh]
            )
            matched = [i for i, m in enumerate(matches) if m]
            report.matched = len(matched)
            if matched:
                facts = repo.author_facts(conn, post_ids=[post_ids[i] for i in matched])
                intents = post_intents(fresh, languages, sentiments, matched)
                for intent in intents.values():
                    report.intents[intent] = report.intents.get(intent, 0) + 1
                items = []
                for i in matched:
                    p, f = fresh[i], facts[post_ids[i]]
                    pr = priority(
                        p_negative=scores[i].p_negative,
                        followers=f.followers,
                        influence=f.influence,
                        reshares=p.reshares,
                        replies=p.replies,
                        children=f.children,
                        posted_at=p.time,
                        now=now,
                        weights=self.weights,
                    )
                    routes = [
                        rule_routing(rules[j][2]).route(
                            intent=intents[i],
                            negative=sentiments[i].label == "negative",
                            influence=pr.influence,
                        )
                        for j in matches[i]
                    ]
                    if not any(routes):
                        report.held_back += 1
                        continue
                    items.append(
                        {
                            "post_id": post_ids[i],
                            "source_id": source_id,
                            "rules": ",".join(rules[j][1] for j in matches[i]),
                            "priority": pr.score,
                            **pr.parts(),
                            "scored_at": now,
                            "created_at": now,
                        }
                    )
                report.inbox_new = repo.add_inbox_items(conn, items=items)
            if source_id is not None:
                repo.advance_source(
                    conn, source_id=source_id, cursor=cursor, posts=len(posts), now=now
                )
            report.add_time("store", clock() - t)
        return report

    def import_file(
        self,
        path: str | Path,
        format: str,
        *,
        platform: str | None = None,
        batch_size: int = 2_000,
    ) -> IngestReport:
        """Run a file through the pipeline, one transaction per ``batch_size`` posts.

        ``format``: ``jsonl`` or ``csv`` (the generic posts format, see
        docs/import-formats.md), ``twitter-archive`` (``tweets.js`` or the archive's .zip)
        or ``mastodon-archive`` (``outbox.json`` or the export's .zip).
        """
        if format not in IMPORT_FORMATS:
            raise InvalidParameter(
                "format", "listen import", f"one of {list(IMPORT_FORMATS)}", format
            )
        rules = self.active_rules()
        total = IngestReport(batches=0)
        t = _time.perf_counter()
        blocks = _posts_from_file(Path(path), format, platform, batch_size)
        while True:
            block = next(blocks, None)
            parse = _time.perf_counter() - t
            if block is None:
                total.add_time("parse", parse)
                break
            one = self.ingest(block, rules=rules)
            one.add_time("parse", parse)
            total.add(one)
            t = _time.perf_counter()
        return total

    # ------------------------------------------------------------------ sources
    def run_once(
        self,
        sources: Mapping[str, Source] | None = None,
        *,
        limit: int = 200,
        force: bool = False,
    ) -> list[SourceReport]:
        """Fetch every registered source once and run what it found through the pipeline.

        Parameters
        ----------
        sources : mapping of name to Source, optional
            Connectors to use for the named sources (tests, custom clients); the others are
            built from their stored configuration.
        limit : int
            Posts per fetch.
        force : bool
            Also fetch the sources still waiting after a failure.

        A source that fails (:class:`SourceFailed`, or a source that cannot be built) is
        recorded as failing with its error and the time of the next attempt; its cursor is
        kept and the other sources go on.
        """
        from grapevine.store import listening_repo as repo

        with self.store.engine.connect() as conn:
            rows = repo.list_sources(conn)
        rules = self.active_rules()
        reports = []
        for row in rows:
            reports.append(
                self._run_source(
                    row, (sources or {}).get(row["name"]), rules=rules, limit=limit, force=force
                )
            )
        return reports

    def _run_source(
        self,
        row: Mapping[str, Any],
        source: Source | None,
        *,
        rules: Sequence[tuple[int, str, Any]],
        limit: int,
        force: bool,
    ) -> SourceReport:

        now = self.clock()
        name, kind = row["name"], row["kind"]
        if not force and row["next_attempt_at"] is not None and row["next_attempt_at"] > now:
            return SourceReport(
                name,
                kind,
                "skipped",
                error=row["last_error"],
                next_attempt_at=row["next_attempt_at"],
            )
        built = source is None
        try:
            if source is None:
                source = build_source(row)
            result = source.fetch(row["cursor"], limit=limit)
        except (SourceFailed, InvalidParameter, BadInput) as exc:
            return self._failed(row, exc, now)
        finally:
            if built and source is not None and callable(getattr(source, "close", None)):
                source.close()  # type: ignore[attr-defined]
        try:
            ingest = self.ingest(
                result.posts, source_id=row["id"], cursor=result.cursor, rules=rules
            )
        except GrapevineError as exc:  # the batch could not be stored: nothing of it was
            return self._failed(row, exc, now)
        return SourceReport(
            name,
            kind,
            "ok",
            fetched=len(result.posts),
            ingest=ingest,
            warnings=tuple(getattr(result, "warnings", ())),
        )

    def _failed(self, row: Mapping[str, Any], exc: Exception, now: float) -> SourceReport:
        """Record a failed run of a source (cursor kept) and when to try it again."""
        from grapevine.store import listening_repo as repo

        failures = int(row["failures"]) + 1
        wait = min(self.retry_max_s, self.retry_base_s * 2.0 ** (failures - 1))
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        with self.store.engine.begin() as conn:
            repo.record_failure(
                conn, source_id=row["id"], error=str(exc), next_attempt_at=now + wait, now=now
            )
        return SourceReport(
            row["name"], row["kind"], "failing", error=str(exc), next_attempt_at=now + wait
        )


def _without_nul(p: ListenedPost) -> ListenedPost:
    """NUL characters removed from the text (PostgreSQL cannot store them in text)."""
    return replace(p, text=p.text.replace("\x00", "")) if "\x00" in p.text else p


def _hash(text: str) -> str | None:
    from grapevine.text import text_hash

    return text_hash(text) if text else None


def correct_sentiment(
    store: Store,
    label: str,
    *,
    by: str,
    text: str | None = None,
    post_id: int | None = None,
    item_id: int | None = None,
    now: float | None = None,
) -> int:
    """Store a manual sentiment label for a text (or a stored post's text) and use it.

    The text is given as ``text``, as a stored post (``post_id``) or as an inbox item
    (``item_id``, the id the inbox lists): exactly one of the three. The correction applies
    to every stored post with the same text (by :func:`~grapevine.text.text_hash`) at once,
    and to every later post through the pipeline. Returns how many stored posts it
    relabelled.

    Raises
    ------
    InvalidParameter
        For a label other than negative, neutral or positive, or not exactly one of
        ``text``, ``post_id`` and ``item_id``.
    BadInput
        When ``post_id`` is not a stored post or ``item_id`` not an inbox item, or the post
        has no text.
    """
    from grapevine.store import listening_repo as repo
    from grapevine.text import LABELS, text_hash

    if label not in LABELS:
        raise InvalidParameter("label", "correct_sentiment", f"one of {list(LABELS)}", label)
    given = [name for name, v in (("text", text), ("post_id", post_id), ("item_id", item_id))
             if v is not None]  # fmt: skip
    if len(given) != 1:
        raise InvalidParameter(
            "text", "correct_sentiment", "given, or else post_id or item_id (exactly one)", text
        )
    if not isinstance(by, str) or not by.strip():
        raise InvalidParameter("by", "correct_sentiment", "a non-empty name", by)
    now = _time.time() if now is None else now
    with store.engine.begin() as conn:
        if item_id is not None:
            item = repo.get_item(conn, item_id=item_id)
            if item is None:
                raise BadInput(f"no inbox item {item_id}", field="item_id")
            post_id = int(item["post_id"])
        if post_id is not None:
            found = repo.posts_by_ids(conn, post_ids=[post_id]).get(post_id)
            if found is None:
                raise BadInput(f"no stored post {post_id}", field="post_id")
            text = found["text"]
        if not text:
            raise BadInput("a correction needs a text; this post has none", field="text")
        return repo.add_correction(conn, text_hash=text_hash(text), label=label, by=by, now=now)
