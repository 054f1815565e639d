"""``grapevine outbound``: deliver the outbox, read the delivery log, manage endpoints.

Every command calls one workflow of :mod:`grapevine.outbound`; e-mail settings come from
``GRAPEVINE_SMTP_URL`` and ``GRAPEVINE_MAIL_FROM``, endpoint secrets are sealed under
``GRAPEVINE_SECRETS_KEY`` (see docs/messages.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Annotated, Any, Literal

import typer

from grapevine.cli._keys import TenantOption, fail, tenant_by_slug
from grapevine.cli._options import DbOption, JsonOption
from grapevine.errors import GrapevineError

__all__ = ["endpoints_app", "outbound_app"]

outbound_app = typer.Typer(
    help="Outbound messages (participant e-mail, signed webhooks, alert channels): deliver "
    "the due ones, read the delivery log, redeliver, manage endpoints.",
    no_args_is_help=True,
)
endpoints_app = typer.Typer(
    help="A tenant's webhook endpoints and alert channels (Slack, Teams, Mattermost, e-mail).",
    no_args_is_help=True,
)
outbound_app.add_typer(endpoints_app, name="endpoints")

EndpointKind = Literal["webhook", "slack", "teams", "mattermost", "email"]
MessageStatus = Literal["pending", "delivered", "failed", "skipped"]


def _when(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def _secrets_key() -> str | None:
    from grapevine.config import get_settings

    key = get_settings().secrets_key
    return key.get_secret_value() if key is not None else None


@outbound_app.command("deliver")
def deliver(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep delivering every --interval seconds until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between two rounds with --loop.")
    ] = 5.0,
    limit: Annotated[int, typer.Option(min=1, help="Messages claimed per round, at most.")] = 100,
    db: DbOption = None,
) -> None:
    """Deliver the due messages (once, or in a loop), printing what happened each round.

    Safe next to the service's own dispatcher and other `deliver` processes on PostgreSQL
    (no message is delivered twice); SQLite takes one writer at a time.
    """
    from sqlalchemy.orm import Session

    from grapevine.outbound import deliver_due
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store:
            while True:
                report = deliver_due(lambda: Session(store.engine), limit=limit)
                if report.claimed or not loop:
                    typer.echo(
                        f"claimed {report.claimed}: delivered {report.delivered}, retried "
                        f"{report.retried}, failed {report.failed}, skipped {report.skipped}"
                    )
                if not loop:
                    return
                if report.claimed < limit:
                    time.sleep(interval)
    except KeyboardInterrupt:
        return
    except GrapevineError as exc:
        raise fail(exc) from None


@outbound_app.command("log")
def log(
    tenant: TenantOption,
    status: Annotated[
        MessageStatus | None, typer.Option(help="Only messages in this state.", show_default=False)
    ] = None,
    event: Annotated[
        str | None, typer.Option(help="Only this event (reward.paid...).", show_default=False)
    ] = None,
    endpoint: Annotated[
        int | None, typer.Option(help="Only this endpoint's messages.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The delivery log: the tenant's messages, newest first, with every attempt."""
    from sqlalchemy.orm import Session

    from grapevine.outbound import list_messages
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            tid = tenant_by_slug(session, tenant).id
            details = list_messages(
                session,
                tenant_id=tid,
                status=status,
                event=event,
                endpoint_id=endpoint,
                limit=limit,
            )
    except GrapevineError as exc:
        raise fail(exc) from None
    if as_json:
        rows = [
            {**asdict(d.message), "payload": d.payload, "log": [asdict(a) for a in d.attempts]}
            for d in details
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for d in details:
        m = d.message
        to = f"endpoint {m.endpoint_id}" if m.endpoint_id else f"participant {m.participant_id}"
        due = f", next try {_when(m.next_try_at)}" if m.next_try_at is not None else ""
        typer.echo(
            f"#{m.id} {m.event} {m.channel} to {to}: {m.status} after {m.attempts}/"
            f"{m.max_attempts} attempts{due}"
        )
        for a in d.attempts:
            code = "-" if a.status_code is None else str(a.status_code)
            manual = " (manual)" if a.manual else ""
            error = f" {a.error}" if a.error else ""
            typer.echo(
                f"    {a.attempt}. {_when(a.at)} {'ok' if a.ok else 'failed'} {code} "
                f"{a.latency_ms:.0f} ms{manual}{error}"
            )
    if not details:
        typer.echo("no messages", err=True)


@outbound_app.command("redeliver")
def redeliver(
    message_id: Annotated[int, typer.Argument(help="The message's id (see `outbound log`).")],
    tenant: TenantOption,
    db: DbOption = None,
) -> None:
    """Deliver one message again now, whatever its state, and print the attempt."""
    from sqlalchemy.orm import Session

    from grapevine.outbound import redeliver as redeliver_message
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store:
            with Session(store.engine) as session:
                tid = tenant_by_slug(session, tenant).id
            detail = redeliver_message(
                lambda: Session(store.engine), tenant_id=tid, message_id=message_id
            )
    except GrapevineError as exc:
        raise fail(exc) from None
    last = detail.attempts[-1] if detail.attempts else None
    said = (
        ""
        if last is None
        else f" ({last.status_code or '-'}{', ' + last.error if last.error else ''})"
    )
    typer.echo(f"message {message_id}: {detail.message.status}{said}")
    if detail.message.status not in ("delivered", "skipped"):
        raise typer.Exit(code=1)


@endpoints_app.command("add")
def add(
    tenant: TenantOption,
    kind: Annotated[
        EndpointKind,
        typer.Option(
            help="webhook (signed events) or an alert channel: slack, teams, "
            "mattermost (incoming webhook URL), email (an address)."
        ),
    ],
    target: Annotated[str, typer.Option(help="The URL, or the e-mail address for email.")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="An event a webhook receives (repeat; default reward.earned, reward.paid, "
            "referral.converted, alert.raised).",
            show_default=False,
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            help="Language of an email alert channel: en, nl, de or sv (default en).",
            show_default=False,
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private",
            help="Accept a private, loopback or link-local address (a receiver on your own "
            "network); refused otherwise.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Register an endpoint; a webhook's signing secret is printed once (stdout)."""
    from sqlalchemy.orm import Session

    from grapevine.outbound import add_endpoint
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            tid = tenant_by_slug(session, tenant).id
            new = add_endpoint(
                session,
                tenant_id=tid,
                kind=kind,
                target=target,
                events=event,
                language=language,
                description=description,
                secrets_key=_secrets_key(),
                allow_private=allow_private,
            )
            session.commit()
    except GrapevineError as exc:
        raise fail(exc) from None
    ep = new.endpoint
    if new.secret is not None:
        typer.echo(new.secret)
    typer.echo(
        f"endpoint {ep.id} ({ep.kind} {ep.target}) receives {', '.join(ep.events)}"
        + ("; store its signing secret now, it is not shown again." if new.secret else "."),
        err=True,
    )


@endpoints_app.command("list")
def list_(
    tenant: TenantOption,
    removed: Annotated[bool, typer.Option("--removed", help="Include removed ones.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tenant's endpoints: id, kind, target (no secret), events."""
    from sqlalchemy.orm import Session

    from grapevine.outbound import list_endpoints
    from grapevine.store import Store

    with Store(db, create=False) as store, Session(store.engine) as session:
        tid = tenant_by_slug(session, tenant).id
        views = list_endpoints(session, tenant_id=tid, include_removed=removed)
    rows: list[dict[str, Any]] = [{**asdict(v), "events": list(v.events)} for v in views]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        gone = f" (removed {_when(r['removed_at'])})" if r["removed_at"] else ""
        typer.echo(f"{r['id']}\t{r['kind']}\t{r['target']}\t{','.join(r['events'])}{gone}")
    if not rows:
        typer.echo("no endpoints", err=True)


@endpoints_app.command("remove")
def remove(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's id.")],
    tenant: TenantOption,
    db: DbOption = None,
) -> None:
    """Stop sending to an endpoint (its pending messages are skipped; its log is kept)."""
    from sqlalchemy.orm import Session

    from grapevine.outbound import remove_endpoint
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            tid = tenant_by_slug(session, tenant).id
            view = remove_endpoint(session, tenant_id=tid, endpoint_id=endpoint_id)
            session.commit()
    except GrapevineError as exc:
        raise fail(exc) from None
    typer.echo(f"endpoint {view.id} removed")
