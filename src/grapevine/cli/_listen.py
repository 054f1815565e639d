"""``grapevine listen ...`` and ``grapevine inbox ...``: sources, rules, the pipeline, webcare.

The shell only parses and renders: everything is done by :mod:`grapevine.listening` on a
:class:`~grapevine.store.Store`.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from grapevine.cli._errors import failure as _fail
from grapevine.cli._options import (
    DbOption,
    FormatOption,
    InboxStatus,
    JsonOption,
    SentimentLabel,
)
from grapevine.errors import GrapevineError

listen_app = typer.Typer(
    help="Listen: register feeds, Mastodon timelines and watch rules; run the pipeline "
    "(match, language, sentiment, store); see sources, rules and alerts.",
    no_args_is_help=True,
)
inbox_app = typer.Typer(
    help="The webcare inbox: matched posts by priority (negativity, influence, velocity, "
    "recency, each part shown); assign, draft, approve, send, resolve; response times.",
    invoke_without_command=True,
)

WorkersOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="Processes for language detection and sentiment (1: in this process; 2 uses "
        "both cores of a two-core machine).",
    ),
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who does it (default: the login name).", show_default=False),
]


@contextmanager
def _store(db: str | None, *, create: bool = False) -> Iterator[Any]:
    """The store at ``db``; one that does not exist is refused unless ``create``."""
    from grapevine.store import Store

    try:
        with Store(db, create=create) as store:
            yield store
    except GrapevineError as exc:
        raise _fail(exc) from None


def _actor(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (containers)
        return "cli"


def _echo_json(obj: Any) -> None:
    from grapevine.cli._render import json_value

    typer.echo(json.dumps(obj, default=json_value))


def _console() -> Any:
    from grapevine.cli._render import console

    return console


# ---------------------------------------------------------------------------- listen: add
def _add_source(
    db: str | None, kind: str, name: str, config: dict[str, Any], as_json: bool
) -> None:
    from grapevine.store import listening_repo as repo

    with _store(db, create=True) as store, store.engine.begin() as conn:
        source_id = repo.add_source(conn, kind=kind, name=name, config=config, now=time.time())
    if as_json:
        _echo_json({"id": source_id, "kind": kind, "name": name, "config": config})
    else:
        _console().print(f"[green]added[/] {kind} source {source_id}: {name}", highlight=False)


@listen_app.command("add-feed")
def add_feed(
    url: Annotated[str, typer.Argument(help="The RSS/Atom feed's http(s) URL.")],
    name: Annotated[
        str | None, typer.Option(help="A name for it (default: the URL).", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an RSS or Atom feed to listen to."""
    from grapevine.connectors.feeds import FeedSource

    try:
        FeedSource(url).close()  # validates the URL; fetches nothing
    except GrapevineError as exc:
        raise _fail(exc) from None
    _add_source(db, "rss", name or url, {"url": url}, as_json)


@listen_app.command("add-mastodon")
def add_mastodon(
    base_url: Annotated[str, typer.Argument(help="The instance, e.g. https://mastodon.social.")],
    timeline: Annotated[
        str, typer.Option(help="public, local, hashtag:TAG, search:QUERY or mentions.")
    ] = "public",
    token_env: Annotated[
        str | None,
        typer.Option(
            help="The environment variable holding the access token (the token itself is "
            "never stored). Needed for search:, mentions and sending replies.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="A name (default: mastodon:HOST:TIMELINE).", show_default=False),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a Mastodon timeline, hashtag, search or the account's mentions."""
    from grapevine.listening import build_source

    config: dict[str, Any] = {"api_base_url": base_url, "timeline": timeline}
    if token_env:
        config["token_env"] = token_env
    try:
        source = build_source({"kind": "mastodon", "config": config})  # validates
    except GrapevineError as exc:
        raise _fail(exc) from None
    _add_source(db, "mastodon", name or source.name, config, as_json)


@listen_app.command("add-rule")
def add_rule(
    name: Annotated[str, typer.Argument(help="The rule's name (an existing one is replaced).")],
    query: Annotated[
        str,
        typer.Argument(
            help='Boolean query: words, "phrases", #tags, @mentions, AND/OR/NOT, -exclusions, '
            "lang:nl,en."
        ),
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add (or replace) a brand watch rule; posts are matched against it as they arrive."""
    from grapevine.listening import WatchRule, rule_grouping
    from grapevine.store import listening_repo as repo

    try:
        grouping = rule_grouping(WatchRule.parse(query, name=name))
    except GrapevineError as exc:
        raise _fail(exc) from None
    with _store(db, create=True) as store, store.engine.begin() as conn:
        rule_id = repo.add_rule(conn, name=name, query=query, now=time.time())
    if as_json:
        _echo_json({"id": rule_id, "name": name, "query": query, "grouping": grouping})
    else:
        _console().print(f"[green]rule[/] {rule_id}: {name} = {query}", highlight=False)
        _console().print(f"  matches: {grouping}", highlight=False)


# ---------------------------------------------------------------------------- listen: run
@listen_app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=1.0, help="Seconds between rounds (without --once).")
    ] = 300.0,
    limit: Annotated[int, typer.Option(min=1, help="Posts per fetch.")] = 200,
    force: Annotated[
        bool, typer.Option(help="Also fetch sources still waiting after a failure.")
    ] = False,
    workers: WorkersOption = 1,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch every source, run the posts through the pipeline and store them with the cursor.

    A failing source is reported and retried later with its cursor kept (backoff doubles
    after each failure, up to an hour); the other sources go on.
    """
    from grapevine.listening import Listener

    with _store(db) as store:
        try:
            with Listener(store, workers=workers) as listener:
                while True:
                    reports = listener.run_once(limit=limit, force=force)
                    _show_run(reports, as_json)
                    if once:
                        break
                    time.sleep(interval)
        except GrapevineError as exc:
            raise _fail(exc) from None
    if any(r.status == "failing" for r in reports):
        raise typer.Exit(code=2)


def _show_run(reports: list[Any], as_json: bool) -> None:
    from grapevine.cli._render import when

    if as_json:
        _echo_json([r.as_dict() for r in reports])
        return
    from grapevine.cli._output import Col, print_records

    rows = []
    for r in reports:
        d = r.as_dict()
        note = d["error"] or "; ".join(d["warnings"]) or ""
        if d["next_attempt_at"]:
            note += f" (next try {when(d['next_attempt_at'])})"
        rows.append({**d, "note": note})
    cols = [
        Col("name", "source", wrap=True),
        Col("status"),
        Col("fetched", right=True, drop=2),
        Col("stored", right=True),
        Col("matched", right=True),
        Col("inbox_new", "inbox", right=True, drop=1),
        Col("note", wrap=True),
    ]
    print_records(rows, cols, "table", console=_console(), title="Listen run")


@listen_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="The file.")],
    format: Annotated[
        Literal["jsonl", "csv", "twitter-archive", "mastodon-archive"],
        typer.Option(
            "--format", help="jsonl, csv (generic posts), twitter-archive or mastodon-archive."
        ),
    ],
    platform: Annotated[
        str | None,
        typer.Option(
            help="Platform of the posts of a jsonl/csv file (default: generic).", show_default=False
        ),
    ] = None,
    workers: WorkersOption = 1,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a file of posts through the same pipeline (match, language, sentiment, store)."""
    from grapevine.listening import Listener

    with _store(db, create=True) as store:
        try:
            with Listener(store, workers=workers) as listener:
                report = listener.import_file(path, format, platform=platform)
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json(report.as_dict())
        return
    d = report.as_dict()
    _console().print(
        f"[green]imported[/] {d['received']:,} posts: {d['stored']:,} new, "
        f"{d['duplicates']:,} duplicates, {d['already_stored']:,} already stored, "
        f"{d['matched']:,} matched a rule, {d['inbox_new']:,} new in the inbox, "
        f"{d['unscored']:,} unscored",
        highlight=False,
    )


# ---------------------------------------------------------------------------- listen: status
@listen_app.command("status")
def status(db: DbOption = None, as_json: JsonOption = False, format: FormatOption = None) -> None:
    """Sources (cursor, last run, failures, last error) and rules (their grouping, match
    counts); --format csv prints the rules."""
    from grapevine.cli._output import Col, output_format, print_records, write_csv
    from grapevine.cli._render import when
    from grapevine.store import listening_repo as repo

    with _store(db) as store, store.engine.connect() as conn:
        sources = repo.list_sources(conn)
        rules = repo.list_rules(conn)
    for r in rules:
        r["grouping"] = _grouping(r["query"])
    fmt = output_format(format, as_json=as_json)
    if fmt == "json":
        _echo_json({"sources": sources, "rules": rules})
        return
    if fmt == "csv":  # the rules: one kind of record per CSV
        write_csv(rules, list(rules[0]) if rules else ["id", "name", "query", "grouping"])
        return
    for s in sources:
        err = s["last_error"] or ""
        if s["last_error_at"]:
            err = f"{when(s['last_error_at'])}: {err}"
        s["error_text"] = err
    if not sources:
        _console().print("Sources: none (add one with `grapevine listen add-feed URL`)")
    else:
        print_records(
            sources,
            [
                Col("id", right=True),
                Col("kind", drop=2),
                Col("name", wrap=True),
                Col("status"),
                Col("posts_seen", "posts", right=True),
                Col("failures", right=True, drop=1),
                Col("last_run_at", "last run", when, drop=1),
                Col("cursor", drop=3, wrap=True),
                Col("error_text", "last error", wrap=True, drop=2),
            ],
            "table",
            console=_console(),
            title="Sources",
        )
    print_records(
        rules,
        [
            Col("id", right=True),
            Col("name", wrap=True),
            Col("grouping", "matches", wrap=True),
            Col("active", drop=2),
            Col("matches", "posts", right=True),
            Col("negative", right=True, drop=1),
            Col("last_match", "last match", when, drop=1),
        ],
        "table",
        console=_console(),
        title="Watch rules",
    )


def _grouping(query: str) -> str:
    from grapevine.listening import rule_grouping

    try:
        return rule_grouping(query)
    except GrapevineError:  # a rule stored by an older version that no longer parses
        return query


@listen_app.command("alerts")
def alerts(
    rule: Annotated[str | None, typer.Option(help="Only this rule.", show_default=False)] = None,
    threshold: Annotated[
        float, typer.Option(help="Robust z-score on log counts that raises an alert.")
    ] = 5.0,
    history_days: Annotated[int, typer.Option(min=1, help="Days of history per score.")] = 7,
    top: Annotated[int, typer.Option(min=1, help="Terms, authors, cascades per alert.")] = 5,
    notify: Annotated[
        str | None,
        typer.Option(
            help="Send the alerts to this tenant's alert channels and webhooks (the outbox: "
            "`grapevine outbound deliver` or the service delivers); an alert already sent "
            "is not sent again.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """Spike and negative-buzz alerts on each rule's hourly mentions, with what grew."""
    from grapevine.cli._output import output_format, write_csv
    from grapevine.cli._render import when
    from grapevine.listening import buzz_alerts

    fmt = output_format(format, as_json=as_json)

    with _store(db) as store:
        try:
            found = buzz_alerts(
                store, rule=rule, threshold=threshold, history_days=history_days, top=top
            )
            if notify is not None:
                _notify(store, notify, found)
        except GrapevineError as exc:
            raise _fail(exc) from None
    if fmt == "json":
        _echo_json([_alert_dict(a) for a in found])
        return
    if fmt == "csv":
        keys = ["time", "rule", "series", "value", "expected", "score", "why", "what_grew"]
        write_csv([{**_alert_dict(a), "what_grew": _grew_text(a.what_grew)} for a in found], keys)
        return
    if not found:
        _console().print("no alerts")
    for a in found:
        _console().print(f"[bold]{when(a.time)}[/] {a.rule} {a.series}: {a.why}", highlight=False)
        _console().print(f"  what grew: {_grew_text(a.what_grew)}", highlight=False)


def _notify(store: Any, tenant: str, found: list[Any]) -> None:
    from sqlalchemy.orm import Session

    from grapevine.cli._keys import tenant_by_slug
    from grapevine.config import get_settings
    from grapevine.listening import raise_alerts

    with Session(store.engine) as session:
        tenant_id = tenant_by_slug(session, tenant).id
        queued = raise_alerts(
            session, tenant_id=tenant_id, alerts=found, origin=get_settings().public_origin()
        )
        session.commit()
    typer.echo(f"{len(queued)} alert messages queued for tenant {tenant}", err=True)


def _plain(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return _plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def _alert_dict(a: Any) -> dict[str, Any]:
    d = _plain(a)
    assert isinstance(d, dict)
    return d


def _grew_text(grew: Any) -> str:
    summary = getattr(grew, "summary", None)
    return str(summary()) if callable(summary) else str(grew)


@listen_app.command("correct")
def correct(
    label: Annotated[SentimentLabel, typer.Argument(help="The right label.")],
    item: Annotated[
        int | None,
        typer.Option(
            help="An inbox item's id (the id column of `grapevine inbox`): its post's text.",
            show_default=False,
        ),
    ] = None,
    post: Annotated[
        int | None,
        typer.Option(
            help="A stored post's id (post_id in `grapevine inbox --json`): its text.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[str | None, typer.Option(help="The text to label.", show_default=False)] = None,
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct the sentiment of a text: stored, applied to the stored posts, used from now on."""
    from grapevine.listening import correct_sentiment

    with _store(db) as store:
        try:
            n = correct_sentiment(
                store, label, by=_actor(by), text=text, post_id=post, item_id=item
            )
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json({"label": label, "relabelled": n})
    else:
        _console().print(f"[green]corrected[/]: {n} stored post(s) now {label}", highlight=False)


# ---------------------------------------------------------------------------- inbox
@inbox_app.callback()
def inbox(
    ctx: typer.Context,
    status: Annotated[
        list[InboxStatus] | None,
        typer.Option(
            help="Only items with this status (repeatable). Default: the open ones (new, "
            "assigned, drafted, approved).",
            show_default=False,
        ),
    ] = None,
    assignee: Annotated[
        str | None, typer.Option(help="Only this assignee's items.", show_default=False)
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many items to show.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """The inbox, highest priority first, with the parts of each priority."""
    if ctx.invoked_subcommand is not None:
        return
    from grapevine.cli._render import when
    from grapevine.listening import inbox_items

    statuses = [s.value for s in status] if status else ["new", "assigned", "drafted", "approved"]
    with _store(db) as store:
        try:
            items = inbox_items(store, statuses=statuses, assignee=assignee)[:top]
        except GrapevineError as exc:
            raise _fail(exc) from None
    from grapevine.cli._output import Col, output_format, print_records

    fmt = output_format(format, as_json=as_json)
    if fmt != "table":
        print_records(items, [], fmt, console=_console())
        return

    def part(x: Any) -> str:
        return f"{x:.2f}"

    cols = [
        Col("id", right=True),
        Col("priority", cell=part, right=True),
        Col("negativity", "neg", part, right=True, drop=3),
        Col("influence", "infl", part, right=True, drop=3),
        Col("velocity", "vel", part, right=True, drop=3),
        Col("recency", "rec", part, right=True, drop=3),
        Col("status", drop=1),
        Col("assignee", drop=2),
        Col("author", drop=1, wrap=True),
        Col("post_time", "posted", when, drop=2),
        Col("sentiment", drop=1),
        Col("rules", drop=2, wrap=True),
        Col("text", cell=lambda t: (t or "").replace("\n", " ")[:140], wrap=True),
    ]
    rows = [{**i, "sentiment": f"{i['label'] or '-'} ({i['language'] or '?'})"} for i in items]
    print_records(rows, cols, fmt, console=_console(), title=f"Inbox ({', '.join(statuses)})")


def _action(fn: Callable[[Any], dict[str, Any]], db: str | None, as_json: bool) -> None:
    with _store(db) as store:
        try:
            item = fn(store)
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json(item)
    else:
        extra = ""
        if item.get("reply_external_id"):
            extra = f" reply {item['reply_external_id']}"
        _console().print(f"item {item['id']}: {item['status']}{extra}", highlight=False)


ItemArg = Annotated[int, typer.Argument(help="The inbox item's id.")]


@inbox_app.command("assign")
def inbox_assign(
    item: ItemArg,
    assignee: Annotated[str, typer.Argument(help="Who answers it.")],
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Assign an item to someone."""
    from grapevine.listening import assign

    _action(lambda s: assign(s, item, assignee, actor=_actor(by)), db, as_json)


@inbox_app.command("draft")
def inbox_draft(
    item: ItemArg,
    text: Annotated[str, typer.Argument(help="The reply.")],
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write (or rewrite) the reply of an item."""
    from grapevine.listening import draft

    _action(lambda s: draft(s, item, text, actor=_actor(by)), db, as_json)


@inbox_app.command("approve")
def inbox_approve(
    item: ItemArg, by: ByOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Approve the drafted reply."""
    from grapevine.listening import approve

    _action(lambda s: approve(s, item, actor=_actor(by)), db, as_json)


@inbox_app.command("send")
def inbox_send(
    item: ItemArg, by: ByOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Send the approved reply through the source (Mastodon).

    An item from a feed, a file or an archive (no reply API) is refused and stays approved:
    answer it on the platform, then `grapevine inbox resolve ID --note ...`.
    """
    from grapevine.listening import send

    _action(lambda s: send(s, item, actor=_actor(by)), db, as_json)


@inbox_app.command("resolve")
def inbox_resolve(
    item: ItemArg,
    note: Annotated[str | None, typer.Option(help="Why.", show_default=False)] = None,
    by: ByOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an item (answered or not)."""
    from grapevine.listening import resolve

    _action(lambda s: resolve(s, item, actor=_actor(by), note=note), db, as_json)


@inbox_app.command("stats")
def inbox_stats(
    db: DbOption = None, as_json: JsonOption = False, format: FormatOption = None
) -> None:
    """First-response times (median, 90th percentile) overall and per assignee; --format
    csv prints one row per assignee (and everyone)."""
    from grapevine.cli._output import Col, duration, output_format, print_records
    from grapevine.listening import response_stats

    fmt = output_format(format, as_json=as_json)
    with _store(db) as store:
        stats = response_stats(store)
    if fmt == "json":
        _echo_json(stats)
        return
    rows = [
        {"who": who, **f}
        for who, f in [("everyone", stats["overall"]), *stats["per_assignee"].items()]
    ]
    cols = [
        Col("who", wrap=True),
        Col("answered", right=True),
        Col("median_s", "median", duration, right=True),
        Col("p90_s", "p90", duration, right=True),
    ]
    print_records(rows, cols, fmt, console=_console(), title="First response")
    if fmt != "table":
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(stats["by_status"].items())) or "empty"
    _console().print(
        f"items: {stats['items']} ({counts}); resolved without reply: "
        f"{stats['resolved_without_reply']}",
        highlight=False,
    )


@inbox_app.command("audit")
def inbox_audit(
    item: Annotated[
        int | None, typer.Argument(help="One item (default: all).", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """Who did what, and when (the audit trail)."""
    from grapevine.cli._output import Col, iso, output_format, print_records
    from grapevine.store import listening_repo as repo

    fmt = output_format(format, as_json=as_json)
    with _store(db) as store, store.engine.connect() as conn:
        rows = repo.audit_trail(conn, item_id=item)
    if fmt == "json":
        _echo_json(rows)
        return
    cols = [
        Col("at", "at (UTC)", lambda t: iso(t, seconds=True)),
        Col("item_id", "item", right=True),
        Col("actor", "who", wrap=True),
        Col("action"),
        Col("detail", wrap=True, drop=1),
    ]
    print_records(rows, cols, fmt, console=_console(), title="Audit trail")
