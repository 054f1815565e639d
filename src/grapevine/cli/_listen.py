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
from typing import Annotated, Any

import typer
from rich.table import Table

from grapevine.cli._options import DbOption, JsonOption
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


def _fail(exc: GrapevineError) -> typer.Exit:
    from grapevine.cli._render import errors

    errors.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code=1)


@contextmanager
def _store(db: str | None) -> Iterator[Any]:
    from grapevine.store import Store

    try:
        with Store(db) as store:
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

    with _store(db) as store, store.engine.begin() as conn:
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
    from grapevine.listening import WatchRule
    from grapevine.store import listening_repo as repo

    try:
        WatchRule.parse(query, name=name)
    except GrapevineError as exc:
        raise _fail(exc) from None
    with _store(db) as store, store.engine.begin() as conn:
        rule_id = repo.add_rule(conn, name=name, query=query, now=time.time())
    if as_json:
        _echo_json({"id": rule_id, "name": name, "query": query})
    else:
        _console().print(f"[green]rule[/] {rule_id}: {name} = {query}", highlight=False)


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
    table = Table(title="Listen run", title_justify="left")
    for col in ("source", "status", "fetched", "stored", "matched", "inbox", "note"):
        table.add_column(
            col, justify="right" if col in ("fetched", "stored", "matched", "inbox") else "left"
        )
    for r in reports:
        d = r.as_dict()
        note = d["error"] or "; ".join(d["warnings"]) or ""
        if d["next_attempt_at"]:
            note += f" (next try {when(d['next_attempt_at'])})"
        table.add_row(
            d["name"],
            d["status"],
            str(d["fetched"]),
            str(d["stored"]),
            str(d["matched"]),
            str(d["inbox_new"]),
            note[:80],
        )
    _console().print(table)


@listen_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="The file.")],
    format: Annotated[
        str,
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

    with _store(db) as store:
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
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Sources (cursor, last run, failures, last error) and rules (match counts)."""
    from grapevine.cli._render import when
    from grapevine.store import listening_repo as repo

    with _store(db) as store, store.engine.connect() as conn:
        sources = repo.list_sources(conn)
        rules = repo.list_rules(conn)
    if as_json:
        _echo_json({"sources": sources, "rules": rules})
        return
    table = Table(title="Sources", title_justify="left")
    for col in (
        "id",
        "kind",
        "name",
        "status",
        "posts",
        "failures",
        "last run",
        "cursor",
        "last error",
    ):
        table.add_column(col)
    for s in sources:
        err = s["last_error"] or ""
        if s["last_error_at"]:
            err = f"{when(s['last_error_at'])}: {err}"
        table.add_row(
            str(s["id"]),
            s["kind"],
            s["name"],
            s["status"],
            f"{s['posts_seen']:,}",
            str(s["failures"]),
            when(s["last_run_at"]),
            (s["cursor"] or "-")[:24],
            err[:60],
        )
    _console().print(table)
    rtable = Table(title="Watch rules", title_justify="left")
    for col in ("id", "name", "query", "active", "matches", "negative", "last match"):
        rtable.add_column(col)
    for r in rules:
        rtable.add_row(
            str(r["id"]),
            r["name"],
            r["query"],
            "yes" if r["active"] else "no",
            f"{r['matches']:,}",
            f"{r['negative']:,}",
            when(r["last_match"]),
        )
    _console().print(rtable)


@listen_app.command("alerts")
def alerts(
    rule: Annotated[str | None, typer.Option(help="Only this rule.", show_default=False)] = None,
    threshold: Annotated[
        float, typer.Option(help="Robust z-score on log counts that raises an alert.")
    ] = 5.0,
    history_days: Annotated[int, typer.Option(min=1, help="Days of history per score.")] = 7,
    top: Annotated[int, typer.Option(min=1, help="Terms, authors, cascades per alert.")] = 5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Spike and negative-buzz alerts on each rule's hourly mentions, with what grew."""
    from grapevine.cli._render import when
    from grapevine.listening import buzz_alerts

    with _store(db) as store:
        try:
            found = buzz_alerts(
                store, rule=rule, threshold=threshold, history_days=history_days, top=top
            )
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json([_alert_dict(a) for a in found])
        return
    if not found:
        _console().print("no alerts")
    for a in found:
        _console().print(f"[bold]{when(a.time)}[/] {a.rule} {a.series}: {a.why}", highlight=False)
        _console().print(f"  what grew: {_grew_text(a.what_grew)}", highlight=False)


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
    label: Annotated[str, typer.Argument(help="negative, neutral or positive.")],
    post: Annotated[
        int | None,
        typer.Option(help="A stored post's id (as in `grapevine inbox`).", show_default=False),
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
            n = correct_sentiment(store, label, by=_actor(by), text=text, post_id=post)
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json({"label": label, "relabelled": n})
    else:
        _console().print(f"[green]corrected[/]: {n} stored post(s) now {label}", highlight=False)


# ---------------------------------------------------------------------------- inbox
_PART_COLS = ("negativity", "influence", "velocity", "recency")


@inbox_app.callback()
def inbox(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="Only items with this status (repeatable): new, assigned, drafted, "
            "approved, sent, resolved. Default: the open ones.",
            show_default=False,
        ),
    ] = None,
    assignee: Annotated[
        str | None, typer.Option(help="Only this assignee's items.", show_default=False)
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many items to show.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The inbox, highest priority first, with the parts of each priority."""
    if ctx.invoked_subcommand is not None:
        return
    from grapevine.cli._render import when
    from grapevine.listening import inbox_items

    statuses = status or ["new", "assigned", "drafted", "approved"]
    with _store(db) as store:
        try:
            items = inbox_items(store, statuses=statuses, assignee=assignee)[:top]
        except GrapevineError as exc:
            raise _fail(exc) from None
    if as_json:
        _echo_json(items)
        return
    table = Table(title=f"Inbox ({', '.join(statuses)})", title_justify="left")
    for col in (
        "id",
        "priority",
        "neg",
        "infl",
        "vel",
        "rec",
        "status",
        "assignee",
        "author",
        "posted",
        "sentiment",
        "rules",
        "text",
    ):
        table.add_column(
            col,
            justify="right" if col in ("id", "priority", "neg", "infl", "vel", "rec") else "left",
        )
    for i in items:
        table.add_row(
            str(i["id"]),
            f"{i['priority']:.2f}",
            *(f"{i[c]:.2f}" for c in _PART_COLS),
            i["status"],
            i["assignee"] or "-",
            str(i["author"])[:24],
            when(i["post_time"]),
            f"{i['label'] or '-'} ({i['language'] or '?'})",
            i["rules"],
            (i["text"] or "").replace("\n", " ")[:60],
        )
    _console().print(table)


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
        if item.get("send_mode") == "manual":
            extra = " [yellow]send manually:[/] this platform has no reply API; post the draft"
        elif item.get("reply_external_id"):
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
    """Send the approved reply through the source (Mastodon); elsewhere mark it 'send manually'."""
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
def inbox_stats(db: DbOption = None, as_json: JsonOption = False) -> None:
    """First-response times (median, 90th percentile) overall and per assignee."""
    from grapevine.listening import response_stats

    with _store(db) as store:
        stats = response_stats(store)
    if as_json:
        _echo_json(stats)
        return

    def fmt(s: float | None) -> str:
        return "-" if s is None else f"{s / 60:.1f} min"

    table = Table(title="First response", title_justify="left")
    for col in ("who", "answered", "median", "p90"):
        table.add_column(col)
    rows = [("everyone", stats["overall"]), *stats["per_assignee"].items()]
    for who, f in rows:
        table.add_row(who, str(f["answered"]), fmt(f["median_s"]), fmt(f["p90_s"]))
    _console().print(table)
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
) -> None:
    """Who did what, and when (the audit trail)."""
    from grapevine.cli._render import when
    from grapevine.store import listening_repo as repo

    with _store(db) as store, store.engine.connect() as conn:
        rows = repo.audit_trail(conn, item_id=item)
    if as_json:
        _echo_json(rows)
        return
    table = Table(title="Audit trail", title_justify="left")
    for col in ("at", "item", "who", "action", "detail"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            when(r["at"], "%Y-%m-%d %H:%M:%S"),
            str(r["item_id"]),
            r["actor"],
            r["action"],
            (r["detail"] or "")[:60],
        )
    _console().print(table)
