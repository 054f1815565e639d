"""The listening store and pipeline: schema, dedupe, cursors, failures, sentiment, mentions.

Real stores on SQLite and PostgreSQL (the ``store`` fixture), the real sentiment model, the
real watch rules, and real connectors against the local replay server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grapevine.connectors import FetchResult, ListenedPost
from grapevine.connectors.feeds import FeedSource
from grapevine.errors import BadInput, InvalidParameter, SourceFailed
from grapevine.listening import (
    Listener,
    buzz_alerts,
    correct_sentiment,
    dedupe_posts,
    hourly_series,
    resolve_languages,
)
from grapevine.store import HEAD_REVISION, Store, current_revision, downgrade, migrate
from grapevine.store import listening_repo as repo
from grapevine.store.models import Base
from listening_server import ReplayServer

NOW = 1_700_000_000.0
LISTENING_TABLES = {
    "listen_sources",
    "watch_rules",
    "post_sentiment",
    "mentions",
    "sentiment_corrections",
    "inbox_items",
    "inbox_audit",
}


def post(pid: str, text: str, **kw: object) -> ListenedPost:
    fields: dict[str, object] = {
        "platform": "mastodon",
        "author": "ann@social.example",
        "time": NOW - 600,
    }
    fields.update(kw)
    return ListenedPost(external_id=pid, text=text, **fields)  # type: ignore[arg-type]


def add_rule(store: Store, name: str, query: str) -> int:
    with store.engine.begin() as conn:
        return repo.add_rule(conn, name=name, query=query, now=NOW)


def add_source(store: Store, name: str, kind: str = "rss", **config: object) -> int:
    with store.engine.begin() as conn:
        return repo.add_source(conn, kind=kind, name=name, config=config, now=NOW)


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("posts", "persons", "post_sentiment", "mentions", "inbox_items")
        }


def source_row(store: Store, name: str) -> dict:
    with store.engine.connect() as conn:
        return next(s for s in repo.list_sources(conn) if s["name"] == name)


@pytest.fixture
def listener(store: Store) -> Listener:
    return Listener(store, clock=lambda: NOW)


class ListSource:
    """A real source over a list of pages: page ``k`` is served for cursor ``str(k)``.

    ``fail`` lists the calls (0-based) that raise SourceFailed instead.
    """

    kind = "test"

    def __init__(self, name: str, pages: list[list[ListenedPost]], fail: tuple[int, ...] = ()):
        self.name = name
        self.pages = pages
        self.fail = fail
        self.calls: list[str | None] = []

    def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
        call = len(self.calls)
        self.calls.append(cursor)
        if call in self.fail:
            raise SourceFailed(self.name, "rate_limited", retry_after=120.0, detail="429")
        k = int(cursor or 0)
        if k >= len(self.pages):
            return FetchResult([], cursor)
        return FetchResult(self.pages[k], str(k + 1))


# ============================================================================ schema
def test_migration_up_and_down_on_both_backends(store: Store) -> None:
    assert current_revision(store.engine) == HEAD_REVISION
    names = set(sa.inspect(store.engine).get_table_names())
    assert names >= LISTENING_TABLES

    def only_listening(name: str | None, type_: str, parents: dict) -> bool:
        if type_ == "schema":
            return True
        table = name if type_ == "table" else parents.get("table_name")
        return table in LISTENING_TABLES

    def only_listening_objects(obj: object, name: str, type_: str, *_: object) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in LISTENING_TABLES

    opts = {"include_name": only_listening, "include_object": only_listening_objects}
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(ctx, Base.metadata) == []  # the migration matches the models
    downgrade(store.engine, "0003")
    assert current_revision(store.engine) == "0003"
    assert not (set(sa.inspect(store.engine).get_table_names()) & LISTENING_TABLES)
    migrate(store.engine)
    assert current_revision(store.engine) == HEAD_REVISION
    assert set(sa.inspect(store.engine).get_table_names()) >= LISTENING_TABLES


# ============================================================================ pure steps
def test_dedupe_keeps_the_first_copy_and_completes_it() -> None:
    a = post("1", "hi", source="feed-a", reshares=2)
    b = post("1", "hi", source="feed-b", language="en", reshares=7, author_followers=30)
    c = post("2", "other")
    kept, dropped = dedupe_posts([a, b, c])
    assert dropped == 1
    assert [p.external_id for p in kept] == ["1", "2"]
    assert kept[0].source == "feed-a"  # the first copy wins
    assert (kept[0].language, kept[0].reshares, kept[0].author_followers) == ("en", 7, 30)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.sampled_from("rm"), st.integers(0, 5)), max_size=30))
def test_dedupe_is_one_per_key_in_first_seen_order(keys: list[tuple[str, int]]) -> None:
    posts = [post(str(k), f"t{k}", platform=p) for p, k in keys]
    kept, dropped = dedupe_posts(posts)
    got = [(p.platform, p.external_id) for p in kept]
    want = list(dict.fromkeys((p, str(k)) for p, k in keys))
    assert got == want
    assert dropped == len(keys) - len(want)


def test_resolve_languages_prefers_the_source() -> None:
    got = resolve_languages(
        [
            post("1", "Wat een prachtige dag vandaag", language="nl-NL"),
            post("2", "Wat een prachtige dag vandaag", language="EN"),
            post("3", "Wat een prachtige dag vandaag"),
            post("4", "🎉🎉 !!"),
            post("5", "", language="und"),
        ]
    )
    assert got == ["nl", "en", "nl", "und", "und"]


# ============================================================================ pipeline
def test_the_same_post_from_two_sources_is_stored_once(store: Store, listener: Listener) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    one = ListSource("a", [[post("1", "Brewly coffee is awful today", source="a")]])
    two = ListSource(
        "b",
        [
            [
                post("1", "Brewly coffee is awful today", source="b"),
                post("2", "Brewly is fine", source="b"),
            ]
        ],
    )
    a, b = add_source(store, "a"), add_source(store, "b")
    reports = listener.run_once({"a": one, "b": two})
    assert [r.status for r in reports] == ["ok", "ok"]
    assert [r.ingest.stored for r in reports if r.ingest] == [1, 1]
    assert reports[1].ingest
    assert reports[1].ingest.already_stored == 1
    assert counts(store) == {
        "posts": 2,
        "persons": 1,
        "post_sentiment": 2,
        "mentions": 2,
        "inbox_items": 2,
    }
    with store.engine.connect() as conn:
        items = repo.inbox_rows(conn)
    assert {i["external_id"]: i["source_id"] for i in items} == {"1": a, "2": b}


def test_a_rerun_stores_nothing_twice(store: Store, listener: Listener) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    batch = [post(str(i), f"Brewly number {i} is great") for i in range(5)]
    first = listener.ingest(batch)
    assert (first.stored, first.matched, first.inbox_new) == (5, 5, 5)
    before = counts(store)
    again = listener.ingest(batch)
    assert (again.stored, again.already_stored, again.inbox_new) == (0, 5, 0)
    assert counts(store) == before


def test_awkward_posts_have_defined_results(store: Store, listener: Listener) -> None:
    add_rule(store, "all", "brewly OR coffee OR café")
    report = listener.ingest(
        [
            post("empty", ""),
            post("blank-en", "   ", language="en"),
            post("emoji", "🎉🔥 brewly 🚀 ☕"),
            post("french", "Le café de Brewly est vraiment très mauvais", language="fr"),
            post("mixed", "Brewly кофе 咖啡 coffee is terrible"),
            post("dup", "Brewly coffee: I love it"),
            post("dup", "Brewly coffee: I love it", language="en"),
        ]
    )
    assert (report.received, report.duplicates, report.stored) == (7, 1, 6)
    with store.engine.connect() as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                sa.text(
                    "SELECT p.external_id, ps.language, ps.label, ps.confidence, ps.text_hash "
                    "FROM posts p JOIN post_sentiment ps ON ps.post_id = p.id"
                )
            )
        }
    assert rows["empty"][:3] == ("und", "unscored", 0.0)
    assert rows["empty"][3] is None
    assert rows["blank-en"][:3] == ("en", "unscored", 0.0)  # stated language, nothing to score
    assert rows["emoji"][1] == "unscored"  # too few letters for a language
    assert rows["french"][:2] == ("fr", "unscored")  # a language the model does not cover
    assert rows["dup"][0] == "en"  # the later copy's language filled in
    assert rows["dup"][1] in ("positive", "neutral", "negative")
    assert report.unscored == 4


def test_a_rule_with_a_language_uses_the_detected_language(
    store: Store, listener: Listener
) -> None:
    add_rule(store, "nl-only", "brewly lang:nl")
    report = listener.ingest(
        [
            post("nl", "Brewly heeft vandaag echt heel slechte koffie gemaakt"),
            post("en", "Brewly made really bad coffee today, honestly"),
        ]
    )
    assert report.matched == 1
    with store.engine.connect() as conn:
        assert [i["external_id"] for i in repo.inbox_rows(conn)] == ["nl"]


def test_a_failing_source_keeps_its_cursor_and_the_others_go_on(
    store: Store, listener: Listener
) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    add_source(store, "flaky")
    add_source(store, "steady")
    flaky = ListSource("flaky", [[post("f1", "brewly one")], [post("f2", "brewly two")]], fail=(1,))
    steady = ListSource("steady", [[post("s1", "brewly three")]])
    sources = {"flaky": flaky, "steady": steady}

    listener.run_once(sources)  # flaky page 0 stored, cursor "1"
    assert source_row(store, "flaky")["cursor"] == "1"
    reports = listener.run_once(sources)  # flaky fails on its second call
    by_name = {r.name: r for r in reports}
    assert by_name["flaky"].status == "failing"
    assert by_name["steady"].status == "ok"
    row = source_row(store, "flaky")
    assert (row["status"], row["failures"], row["cursor"]) == ("failing", 1, "1")
    assert "rate_limited" in row["last_error"]
    assert row["last_error_at"] == NOW
    assert row["next_attempt_at"] == NOW + 120.0  # the source's retry-after beats the backoff
    # Not due yet: skipped without fetching.
    skipped = listener.run_once(sources)
    assert {r.name: r.status for r in skipped}["flaky"] == "skipped"
    assert len(flaky.calls) == 2
    # Forced: fetched again from the kept cursor; nothing lost, nothing twice.
    listener.run_once(sources, force=True)
    assert flaky.calls == [None, "1", "1"]
    row = source_row(store, "flaky")
    assert (row["status"], row["failures"], row["cursor"], row["last_error"]) == (
        "ok",
        0,
        "2",
        row["last_error"],
    )
    assert counts(store)["posts"] == 3
    assert row["posts_seen"] == 2


def test_backoff_doubles_after_each_failure(store: Store) -> None:
    add_source(store, "down")
    clock = [NOW]
    listener = Listener(store, clock=lambda: clock[0], retry_base_s=10.0, retry_max_s=35.0)

    class Down:
        kind, name = "test", "down"

        def fetch(self, cursor: str | None, *, limit: int = 200) -> FetchResult:
            raise SourceFailed("down", "network", detail="connection refused")

    waits = []
    for _ in range(4):
        listener.run_once({"down": Down()}, force=True)
        waits.append(source_row(store, "down")["next_attempt_at"] - clock[0])
    assert waits == [10.0, 20.0, 35.0, 35.0]
    assert source_row(store, "down")["failures"] == 4


def test_a_crash_between_fetch_and_cursor_loses_and_duplicates_nothing(
    store: Store, listener: Listener
) -> None:
    """The posts of a fetch reached the store but the cursor did not (as after a crash in a
    pipeline that wrote them apart): the re-fetch from the old cursor adds nothing twice."""
    add_rule(store, "brewly", "brewly inbox:all")
    sid = add_source(store, "src")
    page = [post("1", "brewly a"), post("2", "brewly b")]
    listener.ingest(page)  # stored, cursor not advanced
    assert source_row(store, "src")["cursor"] is None
    src = ListSource("src", [page, [post("3", "brewly c")]])
    listener.run_once({"src": src})
    listener.run_once({"src": src})
    assert counts(store)["posts"] == 3
    assert counts(store)["inbox_items"] == 3
    assert source_row(store, "src")["cursor"] == "2"
    assert sid == source_row(store, "src")["id"]


def test_an_unknown_kind_or_bad_config_is_recorded_as_a_failure(
    store: Store, listener: Listener
) -> None:
    add_source(store, "odd", kind="carrier-pigeon")
    [report] = listener.run_once()
    assert report.status == "failing"
    assert "unknown source kind" in (report.error or "")
    assert source_row(store, "odd")["status"] == "failing"


def test_feeds_through_the_replay_server(store: Store, listener: Listener) -> None:
    add_rule(store, "any", "the OR a OR de OR het")
    with ReplayServer() as srv:
        good, bad = f"{srv.url}/feeds/atom.xml", f"{srv.url}/feeds/malformed.xml"
        add_source(store, good, url=good)
        add_source(store, bad, url=bad)
        sources = {
            good: FeedSource(good, sleep=lambda s: None),
            bad: FeedSource(bad, sleep=lambda s: None),
        }
        try:
            first = {r.name: r for r in listener.run_once(sources)}
            second = {r.name: r for r in listener.run_once(sources, force=True)}
        finally:
            for source in sources.values():
                source.close()
    assert first[good].status == "ok"
    assert first[good].fetched > 0
    assert first[bad].status == "failing"
    assert "malformed" in (first[bad].error or "")
    assert second[good].fetched == 0  # 304 / already seen: nothing twice
    stored = counts(store)["posts"]
    assert stored == first[good].fetched
    assert source_row(store, good)["cursor"]
    assert source_row(store, bad)["cursor"] is None


# ============================================================================ corrections
def test_a_manual_correction_is_stored_applied_and_used(store: Store, listener: Listener) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    text = "Nou, lekker dan, Brewly. Echt top weer."
    listener.ingest([post("1", text, language="nl")])
    n = correct_sentiment(store, "negative", by="eve", post_id=_post_id(store, "1"), now=NOW)
    assert n == 1
    listener.ingest([post("2", text, language="nl")])
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.external_id, ps.label, ps.confidence, ps.p_negative, ps.source "
                "FROM posts p JOIN post_sentiment ps ON ps.post_id = p.id ORDER BY 1"
            )
        ).all()
        assert repo.corrections(conn) == {_hash(text): "negative"}
    assert [tuple(r) for r in rows] == [
        ("1", "negative", 1.0, 1.0, "correction"),
        ("2", "negative", 1.0, 1.0, "correction"),
    ]
    # A later correction replaces the earlier one.
    assert correct_sentiment(store, "positive", by="bob", text=text, now=NOW) == 2
    with store.engine.connect() as conn:
        assert repo.corrections(conn) == {_hash(text): "positive"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"label": "angry", "text": "x"}, InvalidParameter),
        ({"label": "negative"}, InvalidParameter),
        ({"label": "negative", "post_id": 999}, BadInput),
        ({"label": "negative", "text": "x", "by": " "}, InvalidParameter),
    ],
)
def test_bad_corrections(store: Store, kwargs: dict, error: type[Exception]) -> None:
    kwargs = {"by": "eve", **kwargs}
    label = kwargs.pop("label")
    with pytest.raises(error):
        correct_sentiment(store, label, **kwargs)


# ============================================================================ files
def test_import_a_generic_jsonl_and_csv(store: Store, listener: Listener, tmp_path: Path) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    jl = tmp_path / "posts.jsonl"
    jl.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "1", "author": "ann", "time": NOW, "text": "Brewly is terrible"},
                {"id": "2", "author": "bob", "time": "2023-11-14T22:00:00Z", "text": "meh"},
                {"id": "1", "author": "ann", "time": NOW, "text": "Brewly is terrible"},
            ]
        )
        + "\n"
    )
    report = listener.import_file(jl, "jsonl", platform="x")
    assert (report.received, report.duplicates, report.stored, report.matched) == (3, 1, 2, 1)
    csv = tmp_path / "posts.csv"
    csv.write_text("id,author,text,language\n1,ann,Brewly is terrible,en\n3,cid,Brewly!,en\n")
    report = listener.import_file(csv, "csv", platform="x")
    assert (report.stored, report.already_stored) == (1, 1)
    assert counts(store)["posts"] == 3


def test_a_bad_file_names_the_line_and_field(
    store: Store, listener: Listener, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "author": "a", "text": "ok"}\n{"id": "2", "time": "soon"}\n')
    with pytest.raises(BadInput, match=r"bad.jsonl, line 2, field 'author'"):
        listener.import_file(bad, "jsonl")
    with pytest.raises(BadInput, match="does not fit the file's extension"):
        listener.import_file(bad, "csv")
    with pytest.raises(InvalidParameter, match="'format'"):
        listener.import_file(bad, "xml")


def _post_id(store: Store, external_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM posts WHERE external_id = :e"), {"e": external_id}
            ).scalar_one()
        )


def _hash(text: str) -> str:
    from grapevine.text import text_hash

    return text_hash(text)


# ============================================================================ alerts
def test_negative_buzz_alert_says_what_grew(store: Store, listener: Listener) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    add_rule(store, "quiet", "teapot")
    start = 1_699_920_000.0  # a midnight (UTC)
    leak = "Brewly X2 leaks water all over the kitchen, broken again"
    correct_sentiment(store, "negative", by="eve", text=leak, now=NOW)
    posts, n = [], 0
    for hour in range(9 * 24):
        for k in range(3):
            n += 1
            posts.append(
                post(
                    f"b{n}",
                    f"Brewly coffee {hour % 7} this morning",
                    language="en",
                    author=f"user{n % 50}",
                    time=start + hour * 3600 + k * 600,
                )
            )
    burst = start + 9 * 24 * 3600
    posts += [
        post(
            f"x{i}",
            leak,
            language="en",
            author=f"angry{i % 3}",
            time=burst + 30 * i,
            parent_external_id=None if i == 0 else "x0",
        )
        for i in range(60)
    ]
    listener.ingest(posts)
    alerts = buzz_alerts(store)
    assert {(a.rule, a.series) for a in alerts} == {("brewly", "mentions"), ("brewly", "negative")}
    neg = next(a for a in alerts if a.series == "negative")
    assert neg.time == burst
    assert neg.value == 60
    assert neg.window_posts == 60
    grew = neg.what_grew
    assert {"leaks", "kitchen"} & {t.term for t in grew.terms}
    assert {a.author for a in grew.authors} == {"angry0", "angry1", "angry2"}
    assert grew.cascades[0].root == "x0"
    assert grew.cascades[0].size == 60
    assert buzz_alerts(store, rule="quiet") == []
    assert buzz_alerts(store, since=burst + 3600) == []
    with pytest.raises(BadInput, match="no watch rule named 'nope'"):
        buzz_alerts(store, rule="nope")


def test_hourly_series_fills_empty_hours() -> None:
    starts, values = hourly_series([3600.0, 3700.0, 3 * 3600.0 + 5], start=0.0, end=4 * 3600.0)
    assert starts.tolist() == [0.0, 3600.0, 7200.0, 10800.0, 14400.0]
    assert values.tolist() == [0.0, 2.0, 0.0, 1.0, 0.0]


def test_import_a_mastodon_archive(store: Store, listener: Listener) -> None:
    outbox = Path(__file__).parent / "fixtures" / "listening" / "archives" / "mastodon"
    add_rule(store, "brewly", "brewly inbox:all")
    first = listener.import_file(outbox / "outbox.json", "mastodon-archive")
    assert first.stored > 0
    assert listener.import_file(outbox / "outbox.json", "mastodon-archive").stored == 0
    with pytest.raises(BadInput, match=r"outbox_bad\.json"):
        listener.import_file(outbox / "outbox_bad.json", "mastodon-archive")


def test_worker_processes_give_the_same_results(tmp_path: Path) -> None:
    texts = [
        "Brewly is broken again, awful",
        "Brewly koffie is heerlijk vandaag",
        "Brewly ist leider kaputt gegangen",
        "Brewly är helt fantastiskt bra",
        "",
        "Le Brewly est super",
    ]
    batch = [post(str(i), t) for i, t in enumerate(texts * 3)]
    results = []
    for workers in (1, 2):
        with Store(f"sqlite:///{tmp_path}/w{workers}.db") as s:
            add_rule(s, "brewly", "brewly inbox:all")
            with Listener(s, clock=lambda: NOW, workers=workers) as lst:
                report = lst.ingest(batch)
            assert report.stored == len(batch)
            with s.engine.connect() as conn:
                results.append(
                    conn.execute(
                        sa.text(
                            "SELECT p.external_id, ps.language, ps.label, ps.confidence "
                            "FROM posts p JOIN post_sentiment ps ON ps.post_id = p.id ORDER BY 1"
                        )
                    ).all()
                )
    assert results[0] == results[1]
    with Store(f"sqlite:///{tmp_path}/x.db") as s, pytest.raises(InvalidParameter, match="workers"):
        Listener(s, workers=0)


def test_a_nul_character_is_removed(store: Store, listener: Listener) -> None:
    add_rule(store, "brewly", "brewly inbox:all")
    listener.ingest([post("nul", "Brewly\x00 broke")])
    with store.engine.connect() as conn:
        assert repo.inbox_rows(conn)[0]["text"] == "Brewly broke"


def test_a_batch_the_store_refuses_leaves_the_cursor_and_the_others_go_on(
    store: Store, listener: Listener
) -> None:
    add_source(store, "long")
    add_source(store, "fine")
    # A platform name longer than the column allows: PostgreSQL refuses it; SQLite does not
    # check lengths, so there the batch is stored and the test checks only the other source.
    bad = ListSource("long", [[post("1", "hello", platform="p" * 300)]])
    good = ListSource("fine", [[post("2", "hello")]])
    reports = {r.name: r for r in listener.run_once({"long": bad, "fine": good})}
    assert reports["fine"].status == "ok"
    if store.engine.dialect.name == "postgresql":
        assert reports["long"].status == "failing"
        row = source_row(store, "long")
        assert (row["status"], row["cursor"], row["failures"]) == ("failing", None, 1)
        assert counts(store)["posts"] == 1
