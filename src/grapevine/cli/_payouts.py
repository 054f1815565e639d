"""``grapevine payouts approve|export|import|credit|list``: paying the rewards.

The same workflows as ``/api/campaigns/{id}/payouts`` (:mod:`grapevine.referrals._payouts`),
straight on the store; ``--by`` (default ``cli``) is recorded as who made each move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from grapevine.cli._options import (
    CampaignOption,
    DbOption,
    FormatOption,
    JsonOption,
    TenantOption,
)
from grapevine.cli._workflow import run_workflow, secret_box

__all__ = ["payouts_app"]

payouts_app = typer.Typer(
    help="Pay referral rewards: approve, export a payout file (generic, PayPal, Wise), "
    "import the result, or pay as store credit.",
    no_args_is_help=True,
)

ByOption = Annotated[str, typer.Option("--by", help="Who does it (kept in the audit).")]


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
    from grapevine.referrals._payouts import approve_rewards

    result = run_workflow(
        approve_rewards,
        campaign=campaign,
        tenant=tenant,
        by=by,
        reward_ids=reward or None,
        roles=role or None,
        db=db,
    )
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
    from grapevine.referrals._payouts import export_payouts

    result = run_workflow(
        export_payouts,
        campaign=campaign,
        tenant=tenant,
        format=format,
        by=by,
        batch_id=batch,
        db=db,
    )
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
    from grapevine.referrals._payouts import import_results

    result = run_workflow(
        import_results,
        campaign=campaign,
        tenant=tenant,
        path=file,
        by=by,
        db=db,
    )
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
    from grapevine.referrals._payouts import pay_with_credit

    box = secret_box()
    result = run_workflow(
        pay_with_credit,
        campaign=campaign,
        tenant=tenant,
        box=box,
        by=by,
        db=db,
    )
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
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.referrals._payouts import list_payouts

    fmt = output_format(format, as_json=as_json)
    rows = run_workflow(
        list_payouts,
        campaign=campaign,
        tenant=tenant,
        state=state,
        db=db,
    )
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
