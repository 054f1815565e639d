"""``grapevine payouts approve|export|import|credit|list``: paying the rewards.

The same workflows as ``/api/campaigns/{id}/payouts`` (:mod:`grapevine.referrals._payouts`),
straight on the store; ``--by`` (default ``cli``) is recorded as who made each move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption
from grapevine.errors import CampaignNotFound, GrapevineError

__all__ = ["payouts_app"]

payouts_app = typer.Typer(
    help="Pay referral rewards: approve, export a payout file (generic, PayPal, Wise), "
    "import the result, or pay as store credit.",
    no_args_is_help=True,
)

CampaignOption = Annotated[int, typer.Option("--campaign", help="The campaign id.")]
ByOption = Annotated[str, typer.Option("--by", help="Who does it (kept in the audit).")]


def _missing(tenant: str, campaign: int) -> typer.Exit:
    return fail(f"tenant {tenant!r} has no campaign {campaign}")


@payouts_app.command("approve")
def approve(
    campaign: CampaignOption,
    reward: Annotated[
        list[int] | None,
        typer.Option(
            "--reward",
            help="A reward id (repeat); default: every granted reward.",
            show_default=False,
        ),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="Only rewards of this role: referrer, milestone, friend (repeat).",
            show_default=False,
        ),
    ] = None,
    by: ByOption = "cli",
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve granted rewards for payout; never one in fraud review, void or clawed back."""
    from sqlalchemy.orm import Session

    from grapevine.referrals._payouts import approve_rewards
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            result = approve_rewards(
                session,
                campaign_id=campaign,
                tenant_id=tenant_by_slug(session, tenant).id,
                by=by,
                reward_ids=reward or None,
                roles=role or None,
            )
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(f"approved {len(result.approved)} rewards")
    for reward_id, why in result.skipped:
        typer.echo(f"  reward {reward_id} not approved: {why}", err=True)


@payouts_app.command("export")
def export(
    campaign: CampaignOption,
    format: Annotated[
        Literal["generic", "paypal", "wise"], typer.Option("--format", help="The payout file.")
    ] = "generic",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the file here (default: stdout).", show_default=False
        ),
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Write this batch's file again.", show_default=False)
    ] = None,
    by: ByOption = "cli",
    tenant: TenantOption = "default",
    db: DbOption = None,
) -> None:
    """Put the approved rewards in a new batch and write its payout file."""
    from sqlalchemy.orm import Session

    from grapevine.referrals._payouts import export_payouts
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            result = export_payouts(
                session,
                campaign_id=campaign,
                tenant_id=tenant_by_slug(session, tenant).id,
                format=format,
                by=by,
                batch_id=batch,
            )
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    if output is None:
        typer.echo(result.content, nl=False)
    else:
        output.write_text(result.content)
    typer.echo(
        f"batch {result.batch_id}: {result.count} rewards, {result.total:,.2f} "
        f"{result.currency or ''}".rstrip(),
        err=True,
    )
    for reward_id, why in result.skipped:
        typer.echo(f"  reward {reward_id} left out: {why}", err=True)


@payouts_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The payer's result file (CSV).")],
    campaign: CampaignOption,
    by: ByOption = "cli",
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark rewards paid or failed from a PayPal, Wise or generic result file.

    Importing the same file again changes nothing; a paid reward is never paid again.
    """
    from sqlalchemy.orm import Session

    from grapevine.referrals._payouts import import_results
    from grapevine.store import Store

    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            result = import_results(
                session,
                campaign_id=campaign,
                tenant_id=tenant_by_slug(session, tenant).id,
                path=file,
                by=by,
            )
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    typer.echo(
        f"paid {len(result.paid)}, failed {len(result.failed)}, unchanged "
        f"{len(result.unchanged)} ({result.lines} lines)"
    )


@payouts_app.command("credit")
def credit(
    campaign: CampaignOption,
    by: ByOption = "cli",
    tenant: TenantOption = "default",
    db: DbOption = None,
) -> None:
    """Pay the approved rewards as store credit: a coupon per reward from the shop.

    The coupons are made through the campaign's shop; safe to run again after a failure
    (each reward's coupon is made once, and nothing is paid twice).
    """
    from sqlalchemy.orm import Session

    from grapevine.cli._coupons import _box
    from grapevine.referrals._payouts import pay_with_credit
    from grapevine.store import Store

    box = _box()
    assert box is not None
    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            result = pay_with_credit(
                session,
                campaign_id=campaign,
                tenant_id=tenant_by_slug(session, tenant).id,
                box=box,
                by=by,
            )
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    for reward_id, code in result.paid.items():
        typer.echo(f"reward {reward_id}: {code}")


@payouts_app.command("list")
def list_(
    campaign: CampaignOption,
    state: Annotated[
        str | None,
        typer.Option(
            help="Only rewards in this state (pending, granted, review, void, "
            "clawed_back, approved, exported, paid, failed).",
            show_default=False,
        ),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the campaign's rewards and where their payout stands."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.referrals._payouts import list_payouts
    from grapevine.store import Store

    fmt = output_format(format, as_json=as_json)
    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            rows = list_payouts(
                session,
                campaign_id=campaign,
                tenant_id=tenant_by_slug(session, tenant).id,
                state=state,
            )
    except CampaignNotFound:
        raise _missing(tenant, campaign) from None
    except GrapevineError as exc:
        raise fail(exc) from None
    cols = [
        Col("reward_id", "reward", right=True),
        Col("payee", wrap=True, drop=1),
        Col("role", drop=2),
        Col("amount", cell=lambda a: f"{a:,.2f}", right=True),
        Col("state"),
        Col("batch_id", "batch", right=True, drop=1),
        Col("reference", drop=2),
    ]
    print_records([r.as_dict() for r in rows], cols, fmt, console=console)
