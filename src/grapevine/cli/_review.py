"""``grapevine review list/approve/reject``: the fraud review queue, straight on the store.

The same library calls as ``GET /api/campaigns/{id}/review`` and ``POST .../review/{event}``
(:mod:`grapevine.service._risk`): held events, approved (their rewards follow the normal
hold) or rejected (they turn void). The reviewer recorded is ``cli`` or ``--by``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption
from grapevine.errors import GrapevineError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from grapevine.store.models import Campaign

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


def _campaign(session: Session, tenant: str, campaign_id: int) -> Campaign:
    from grapevine.store import referrals_repo as repo

    row = tenant_by_slug(session, tenant)
    campaign = repo.find_campaign(session, campaign_id=campaign_id, tenant_id=row.id)
    if campaign is None:
        raise fail(f"tenant {tenant!r} has no campaign {campaign_id}")
    return campaign


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

    fmt = output_format(format, as_json=as_json)
    from grapevine.service._risk import review_entries
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            entries = [
                e.as_dict() for e in review_entries(session, _campaign(session, tenant, campaign))
            ]
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

    from grapevine.service._risk import decide
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            row = _campaign(session, tenant, campaign)
            decision, changed = decide(session, row, event, outcome=outcome, reviewer=by, note=note)
            session.commit()
            rewards = repo.rewards_for_event(session, campaign_id=row.id, event_key=event)
            statuses = ", ".join(f"{r.role} {r.amount:g} {r.status}" for r in rewards)
            reviewer = decision.reviewer
    except GrapevineError as exc:  # ReviewConflict among them
        raise fail(exc) from None
    done = f"{outcome}d" if changed else f"already {outcome}d"
    typer.echo(f"event {event} {done} by {reviewer}; rewards: {statuses or 'none'}")


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
