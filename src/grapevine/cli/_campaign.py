"""``grapevine campaign``: create, edit, pause, resume, end, list and show campaigns, and
list their participants, straight on the store.

Every command is a thin adapter over a workflow of :mod:`grapevine.referrals` (the ones
``/api/campaigns`` calls), so the CLI and the API accept and refuse the same campaigns and
edits (:func:`grapevine.referrals.check_campaign`), with the same lifecycle. Changes are
recorded in the campaign's audit trail as made by ``cli`` (or ``--by``). ``show`` prints
the figures of ``GET /api/campaigns/{id}/stats``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption
from grapevine.errors import BadInput, Conflict, GrapevineError, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from grapevine.referrals import CampaignView

__all__ = ["apply_settings", "campaign_app", "read_campaign_file"]

campaign_app = typer.Typer(
    help="Referral campaigns: create, edit, pause, resume, end; list them, show one's "
    "figures, list its participants.",
    no_args_is_help=True,
)

CampaignArg = Annotated[str, typer.Argument(help="The campaign's id or name.")]
ByOption = Annotated[str, typer.Option("--by", help="Who acts (kept in the audit trail).")]


def read_campaign_file(path: Path) -> dict[str, Any]:
    """A campaign document (the body of ``POST /api/campaigns``) from JSON or TOML.

    A file holding only an offer (``referrer``, ``friend``...) is taken as the ``offer``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise BadInput("not valid UTF-8 text; save it as UTF-8", file=str(path)) from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"not TOML: {exc}", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc.msg}", file=str(path), line=exc.lineno) from None
    if not isinstance(data, dict):
        raise BadInput("a campaign file holds one object (a table)", file=str(path))
    if "referrer" in data or "friend" in data:
        return {"offer": data}
    return data


def apply_settings(
    current: Mapping[str, Any], settings: list[str], *, source: str = "--set"
) -> dict[str, Any]:
    """The changes that ``key=value`` settings make to a campaign document.

    The value is read as JSON when it is JSON (``5``, ``null``, ``["https://a.example/"]``),
    as text otherwise; a dotted key changes one entry inside an object field
    (``offer.referrer.amount=12``), the rest of that field kept.

    >>> apply_settings({"offer": {"referrer": {"kind": "fixed", "amount": 10}}},
    ...                ["offer.referrer.amount=12", "review_threshold=high"])
    {'offer': {'referrer': {'kind': 'fixed', 'amount': 12}}, 'review_threshold': 'high'}
    """
    changes: dict[str, Any] = {}
    for item in settings:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"expected key=value, got {item!r}", file=source)
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        top, *path = key.strip().split(".")
        if not path:
            changes[top] = value
            continue
        base = changes.get(top, current.get(top))
        tree = json.loads(json.dumps(base)) if isinstance(base, dict) else {}
        node = tree
        for part in path[:-1]:
            child = node.get(part)
            node[part] = child if isinstance(child, dict) else {}
            node = node[part]
        node[path[-1]] = value
        changes[top] = tree
    return changes


def _sourced(exc: BadInput, source: str) -> BadInput:
    """The same refusal, naming where the document came from."""
    return BadInput(exc.message, file=source, field=exc.field)


@contextmanager
def _session(db: str | None, *, create: bool = False) -> Iterator[Session]:
    from sqlalchemy.orm import Session

    from grapevine.store import Store

    with Store(db, create=create) as store, Session(store.engine) as session:
        yield session


def _find(session: Session, tenant: str, ref: str) -> tuple[int, CampaignView]:
    """``(tenant id, campaign)`` for a campaign named by id or name, or exit naming it."""
    from grapevine import referrals as rf

    tenant_id = tenant_by_slug(session, tenant).id
    try:
        return tenant_id, rf.get_campaign(
            session,
            campaign_id=int(ref) if ref.isascii() and ref.isdigit() else None,
            name=ref,
            tenant_id=tenant_id,
        )
    except NotFound:
        raise fail(f"tenant {tenant!r} has no campaign {ref!r}") from None


def _echo_campaign(view: CampaignView, as_json: bool, done: str) -> None:
    if as_json:
        typer.echo(json.dumps(view.record(), indent=2))
    else:
        typer.echo(f"campaign {view.id} {view.name!r} {done} ({view.status})")


@campaign_app.command("create")
def create(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="JSON or TOML: the campaign (as POST /api/campaigns takes it), or only its "
            "offer. The options below override it.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Campaign name.", show_default=False)] = None,
    destination: Annotated[
        list[str] | None,
        typer.Option(
            help="Allowlisted http(s) URL the links may go to (repeat; the first is the default).",
            show_default=False,
        ),
    ] = None,
    goal: Annotated[str | None, typer.Option(help="What it is for.", show_default=False)] = None,
    window_days: Annotated[
        float | None,
        typer.Option(help="Attribution window (default: the setting, 30).", show_default=False),
    ] = None,
    attribution: Annotated[
        Literal["last", "first"] | None,
        typer.Option(help="Which click gets the credit (default: last).", show_default=False),
    ] = None,
    budget: Annotated[float | None, typer.Option(help="Budget.", show_default=False)] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO currency, e.g. EUR.", show_default=False)
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    by: ByOption = "cli",
) -> None:
    """Create a campaign from options or a JSON/TOML file (checked like the API checks it)."""
    from grapevine import referrals as rf
    from grapevine.config import get_settings

    options = {
        "name": name,
        "destinations": destination or None,
        "goal": goal,
        "window_days": window_days,
        "attribution": attribution,
        "budget": budget,
        "currency": currency,
    }
    source = str(file) if file is not None else "options"
    try:
        document = read_campaign_file(file) if file is not None else {}
        document.update({k: v for k, v in options.items() if v is not None})
        try:
            rf.check_campaign(document, default_window_days=get_settings().cookie_window_days)
        except BadInput as exc:
            raise _sourced(exc, source) from None
        with _session(db, create=True) as session:
            tenant_id = tenant_by_slug(session, tenant).id
            view = rf.create_campaign(
                session,
                tenant_id=tenant_id,
                document=document,
                default_window_days=get_settings().cookie_window_days,
                actor=by,
            )
            session.commit()
    except Conflict:
        raise fail(f"tenant {tenant!r} has a campaign named {document.get('name')!r}") from None
    except GrapevineError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(view.record(), indent=2))
    else:
        typer.echo(f"campaign {view.id} {view.name!r} created in tenant {tenant}")


@campaign_app.command("edit")
def edit(
    campaign: CampaignArg,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="JSON or TOML holding the fields to change (or only a new offer).",
            show_default=False,
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="key=value (repeat): a value in JSON or plain text; a dotted key changes "
            "one entry of the offer (offer.referrer.amount=12). Applied after --file.",
            show_default=False,
        ),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    by: ByOption = "cli",
) -> None:
    """Edit some fields of a campaign: the result is checked exactly like a new campaign
    (fraud thresholds included: review_threshold, ip_window_seconds, velocity_limit,
    velocity_window_seconds), and the change is kept in the audit trail."""
    from grapevine import referrals as rf

    if file is None and not settings:
        raise fail("nothing to change: give --file or --set key=value")
    source = str(file) if file is not None else "--set"
    try:
        changes = read_campaign_file(file) if file is not None else {}
        with _session(db) as session:
            tenant_id, found = _find(session, tenant, campaign)
            current = {**found.record(), **changes}
            changes.update(apply_settings(current, settings or []))
            try:
                view = rf.update_campaign(
                    session,
                    campaign_id=found.id,
                    changes=changes,
                    tenant_id=tenant_id,
                    actor=by,
                )
            except BadInput as exc:
                raise _sourced(exc, source) from None
            session.commit()
    except GrapevineError as exc:
        raise fail(exc) from None
    _echo_campaign(view, as_json, "edited" if view.changed else "unchanged")


def _move(action: str, campaign: str, tenant: str, db: str | None, as_json: bool, by: str) -> None:
    from grapevine import referrals as rf

    moves = {
        "pause": (rf.pause_campaign, "paused"),
        "resume": (rf.resume_campaign, "resumed"),
        "end": (rf.end_campaign, "ended"),
    }
    workflow, done = moves[action]
    try:
        with _session(db) as session:
            tenant_id, found = _find(session, tenant, campaign)
            view = workflow(session, campaign_id=found.id, tenant_id=tenant_id, actor=by)
            session.commit()
    except GrapevineError as exc:  # CampaignClosed: an ended campaign
        raise fail(exc) from None
    _echo_campaign(view, as_json, done if view.changed else f"already {done}")


@campaign_app.command("pause")
def pause(
    campaign: CampaignArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    by: ByOption = "cli",
) -> None:
    """Pause a campaign: links keep working and clicks count; nobody new may enrol, and
    conversions earn no rewards until it resumes."""
    _move("pause", campaign, tenant, db, as_json, by)


@campaign_app.command("resume")
def resume(
    campaign: CampaignArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    by: ByOption = "cli",
) -> None:
    """Resume a paused campaign (an ended one cannot resume)."""
    _move("resume", campaign, tenant, db, as_json, by)


@campaign_app.command("end")
def end(
    campaign: CampaignArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    by: ByOption = "cli",
) -> None:
    """End a campaign for good: no enrolment, no new rewards, links go to its landing
    page; rewards earned before keep their lifecycle."""
    _move("end", campaign, tenant, db, as_json, by)


@campaign_app.command("participants")
def participants(
    campaign: CampaignArg,
    search: Annotated[
        str | None,
        typer.Option("--search", help="Only e-mails starting with this.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Participants per page (1-500).")] = 50,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="The next page's cursor (printed).", show_default=False),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List a campaign's participants in the order they joined, a page at a time."""
    from grapevine import referrals as rf
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console

    fmt = output_format(format, as_json=as_json)
    try:
        with _session(db) as session:
            tenant_id, found = _find(session, tenant, campaign)
            page = rf.list_participants(
                session,
                campaign_id=found.id,
                tenant_id=tenant_id,
                search=search,
                limit=limit,
                cursor=cursor,
            )
    except GrapevineError as exc:
        raise fail(exc) from None
    rows = [dict(item.__dict__) for item in page.items]
    cols = [
        Col("participant_id", "id", right=True),
        Col("email", wrap=True),
        Col("code"),
        Col("created_at", "joined", cell=_when, drop=1),
        Col("disposable_email", "disposable", drop=2),
    ]
    title = f"Participants {len(rows)} of {page.total}"
    print_records(rows, cols, fmt, console=console, title=title)
    if page.next_cursor is not None:
        typer.echo(f"more: --cursor {page.next_cursor}", err=True)


def _when(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M")


@campaign_app.command("list")
def list_(
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the tenant's campaigns with their status and participants."""
    from grapevine import referrals as rf
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.store import codes_repo

    with _session(db) as session:
        tenant_id = tenant_by_slug(session, tenant).id
        rows = [
            {
                **view.record(),
                "participants": codes_repo.participant_count(session, campaign_id=view.id),
            }
            for view in rf.list_campaigns(session, tenant_id=tenant_id)
        ]
    fmt = output_format(format, as_json=as_json)
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        r["offer_text"] = offer_text(r["offer"], r["currency"])
        r["window"] = f"{r['window_days']:g} days, {r['attribution']} click"
        r["budget_text"] = money(r["budget"], r["currency"])
    cols = [
        Col("id", right=True),
        Col("name", wrap=True),
        Col("status"),
        Col("participants", right=True),
        Col("budget_text", "budget", right=True, drop=1),
        Col("offer_text", "offer", wrap=True, drop=2),
        Col("window", "window", wrap=True, drop=3),
        Col("goal", wrap=True, drop=4),
    ]
    keys = [
        k for k in (rows[0] if rows else {}) if k not in ("offer_text", "window", "budget_text")
    ]
    print_records(rows, cols, fmt, console=console, title="Campaigns", csv_keys=keys or None)


@campaign_app.command("show")
def show(
    campaign: CampaignArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's status, offer, participants, funnel, K-factor and cycle time."""
    from rich.table import Table

    from grapevine import referrals as rf
    from grapevine.cli._output import duration
    from grapevine.cli._render import console

    with _session(db) as session:
        _, found = _find(session, tenant, campaign)
        public = found.record()
        stats = rf.campaign_stats(session, campaign_id=found.id).as_dict()
    if as_json:
        typer.echo(json.dumps({"campaign": public, "stats": stats}, indent=2))
        return
    console.print(f"[bold]{public['name']}[/] (id {public['id']}, tenant {tenant})")
    console.print(f"status: {public['status']}")
    if public["goal"]:
        console.print(f"goal: {public['goal']}")
    console.print(f"destinations: {', '.join(public['destinations'])}")
    console.print(
        f"window {public['window_days']:g} days, {public['attribution']}-click attribution"
    )
    console.print(f"offer: {offer_text(public['offer'], public['currency'])}", highlight=False)
    if public["budget"] is not None:
        console.print(f"budget: {money(public['budget'], public['currency'])}", highlight=False)
    clicks = stats["clicks"]
    funnel = Table("step", "count", title="funnel")
    for step, count in (
        ("participants", stats["participants"]),
        ("clicks (human)", clicks["human"]),
        ("clicks (bots, previews)", clicks["bot"] + clicks["preview"]),
        ("signups", stats["signups"]),
        ("  referred", stats["referred_signups"]),
        ("purchases", stats["purchases"]),
        ("refunds", stats["refunds"]),
    ):
        funnel.add_row(step, f"{count:,}")
    console.print(funnel)
    k, cycle = stats["k_factor"], stats["cycle_time_median_s"]
    console.print(f"K-factor: {'-' if k is None else f'{k:.3f}'}")
    console.print(f"viral cycle time (median): {duration(cycle)}")
    if stats["rewards"]:
        rewards = Table("status", "rewards", "amount", title="rewards")
        for status, total in stats["rewards"].items():
            rewards.add_row(status, f"{total['count']:,}", f"{total['amount']:,.2f}")
        console.print(rewards)


def money(amount: float | None, currency: str | None) -> str:
    """``1,000.00 EUR`` (``-`` for none)."""
    if amount is None:
        return "-"
    return f"{amount:,.2f} {currency or ''}".strip()


def offer_text(offer: dict[str, Any] | None, currency: str | None) -> str:
    """An offer in words: what each side earns, the bonuses, the hold and the limits.

    >>> offer_text({"referrer": {"kind": "fixed", "amount": 10},
    ...             "friend": {"kind": "percent", "amount": 20, "max_amount": 15},
    ...             "tiers": [{"referrals": 5, "bonus": 50}]}, "EUR")  # doctest: +ELLIPSIS
    'referrer 10.00 EUR, friend 20% of the order (at most 15.00 EUR); bonus 50.00 EUR at 5...'
    """
    if not offer:
        return "none"

    def side(incentive: dict[str, Any]) -> str:
        if incentive.get("kind") == "percent":
            text = f"{incentive['amount']:g}% of the order"
            if incentive.get("max_amount") is not None:
                text += f" (at most {money(incentive['max_amount'], currency)})"
            return text
        return money(incentive.get("amount"), currency)

    parts = [f"referrer {side(offer['referrer'])}, friend {side(offer['friend'])}"]
    parts += [
        f"bonus {money(t['bonus'], currency)} at {t['referrals']} referrals"
        for t in offer.get("tiers") or ()
    ]
    if offer.get("hold_seconds") is not None:
        parts.append(f"paid after {offer['hold_seconds'] / 86400:g} days")
    if offer.get("min_order_value"):
        parts.append(f"orders from {money(offer['min_order_value'], currency)}")
    if offer.get("max_referrals_per_referrer") is not None:
        parts.append(f"at most {offer['max_referrals_per_referrer']} referrals each")
    if offer.get("max_amount_per_person") is not None:
        parts.append(f"at most {money(offer['max_amount_per_person'], currency)} a person")
    if offer.get("budget") is not None:
        parts.append(f"offer budget {money(offer['budget'], currency)}")
    return "; ".join(parts)
