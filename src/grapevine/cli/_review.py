"""``grapevine review list/approve/reject``: the fraud review queue, straight on the store.

The same workflows as ``GET /api/campaigns/{id}/review`` and ``POST .../review/{event}``
(:func:`grapevine.referrals.review_entries`, :func:`grapevine.referrals.decide`): held
events, approved (their rewards follow the normal hold) or rejected (they turn void). The
reviewer recorded is ``cli`` or ``--by``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption
from grapevine.errors import CampaignNotFound, GrapevineError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

__all__ = ["review_app"]

review_app = typer.Typer(
    help="The fraud review queue: list held rewards, approve or reject them.",
    no_args_is_help=True,
)

CampaignArg = Annotated[int, typer.Argument(help="The campaign id.")]
EventArg = Annotated[str, typer.Argument(help="The event's idempotency key.")]
NoteOption = Annotated[
    str | None, typer.Option("--note", help="Why (kept with the decision).", show_default=False)
]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (kept with the decision).")]


def _tenant_id(session: Session, tenant: str) -> int:
    return tenant_by_slug(session, tenant).id


def _missing(tenant: str, campaign_id: int) -> typer.Exit:
    return fail(f"tenant {tenant!r} has no campaign {campaign_id}")


@review_app.command("list")
def list_(
    campaign: CampaignArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the campaign's events held for review, with their risk and reasons."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.referrals import review_entries
    from grapevine.store import Store

    fmt = output_format(format, as_json=as_json)
    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            held = review_entries(
                session, campaign_id=campaign, tenant_id=_tenant_id(session, tenant)
            )
            entries = [e.as_dict() for e in held]
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(entries, indent=2))
        return
    if not entries and fmt == "table":
        typer.echo(f"nothing held for review in campaign {campaign}")
        return
    cols = [
        Col("event_key", "event", wrap=True),
        Col("kind", drop=2),
        Col("referrer", wrap=True, drop=1),
        Col("friend", wrap=True, drop=1),
        Col("amount", "held", lambda a: f"{a:,.2f}", right=True),
        Col("risk"),
        Col("reasons", cell=lambda r: "; ".join(r), wrap=True),
    ]
    print_records(entries, cols, fmt, console=console)


def _decide(
    campaign: int, event: str, outcome: str, tenant: str, db: str | None, note: str | None, by: str
) -> None:
    from sqlalchemy.orm import Session

    from grapevine.referrals import decide
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            decision = decide(
                session,
                campaign_id=campaign,
                tenant_id=_tenant_id(session, tenant),
                event_key=event,
                outcome=outcome,
                reviewer=by,
                note=note,
            )
            session.commit()
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:  # NotFound, Conflict among them
        raise fail(exc) from None
    statuses = ", ".join(f"{r.role} {r.amount:g} {r.status}" for r in decision.rewards)
    past = {"approve": "approved", "reject": "rejected"}[outcome]
    done = past if decision.changed else f"already {past}"
    typer.echo(f"event {event} {done} by {decision.reviewer}; rewards: {statuses or 'none'}")


@review_app.command("approve")
def approve(
    campaign: CampaignArg,
    event: EventArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    note: NoteOption = None,
    by: ByOption = "cli",
) -> None:
    """Approve a held event: its rewards are granted after their hold."""
    _decide(campaign, event, "approve", tenant, db, note, by)


@review_app.command("reject")
def reject(
    campaign: CampaignArg,
    event: EventArg,
    tenant: TenantOption = "default",
    db: DbOption = None,
    note: NoteOption = None,
    by: ByOption = "cli",
) -> None:
    """Reject a held event: its rewards turn void (the reviewer and note in their reason)."""
    _decide(campaign, event, "reject", tenant, db, note, by)
