"""``grapevine coupons ...`` and ``grapevine shop connect``: discount codes at checkout.

The same workflows as ``/api/campaigns/{id}/coupons`` and ``/api/shops/{provider}``
(:mod:`grapevine.referrals._coupons`), straight on the store. Shop credentials are sealed
under ``GRAPEVINE_SECRETS_KEY``, which must be set here as on the server.
"""

from __future__ import annotations

import json
import sys
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

__all__ = ["coupons_app", "shop_app"]

coupons_app = typer.Typer(
    help="Single-use discount codes for referred friends: settings, code pools, issue, list.",
    no_args_is_help=True,
)
shop_app = typer.Typer(
    help="A tenant's shop API credentials (Stripe, Shopify), sealed in the store.",
    no_args_is_help=True,
)


@shop_app.command("connect")
def connect(
    provider: Annotated[
        Literal["stripe", "shopify"], typer.Argument(help="Which shop API: stripe or shopify.")
    ],
    tenant: TenantOption = "default",
    shop: Annotated[
        str | None,
        typer.Option(help="The Shopify shop's domain (example.myshopify.com).", show_default=False),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Another API address than the shop's own (a proxy).",
            show_default=False,
        ),
    ] = None,
    webhook_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--webhook-secret-stdin",
            help="Shopify: read the app's client secret (it signs the order webhooks to "
            "/webhooks/shopify/TENANT) from the second line of stdin.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Store the tenant's Stripe secret key or Shopify access token, sealed.

    The credential is read from the first line of stdin (never an argument: it would stay
    in the shell's history).
    """
    from grapevine.referrals._coupons import connect_shop

    secret = sys.stdin.readline().strip()
    webhook_secret = sys.stdin.readline().strip() if webhook_secret_stdin else None
    box = secret_box()
    info = run_workflow(
        connect_shop,
        tenant=tenant,
        provider=provider,
        secret=secret,
        box=box,
        shop=shop,
        base_url=base_url,
        webhook_secret=webhook_secret,
        by="cli",
        db=db,
    )
    where = f" ({info.shop})" if info.shop else ""
    typer.echo(f"{provider}{where} connected for {tenant}: credential ...{info.hint}, sealed")


@coupons_app.command("configure")
def configure(
    campaign: CampaignOption,
    provider: Annotated[
        Literal["stripe", "shopify", "pool"], typer.Option(help="Where the codes come from.")
    ],
    kind: Annotated[
        Literal["percent", "fixed"] | None,
        typer.Option(
            help="Percent off or a fixed amount (default: the offer's friend side).",
            show_default=False,
        ),
    ] = None,
    amount: Annotated[
        float | None, typer.Option(show_default=False, help="Percent or amount.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO 4217 (default: the campaign's).", show_default=False)
    ] = None,
    expires_days: Annotated[
        float, typer.Option("--expires-days", help="Days until a code expires.")
    ] = 30.0,
    prefix: Annotated[str, typer.Option(help="The start of a drawn code.")] = "FRIEND",
    tenant: TenantOption = "default",
    db: DbOption = None,
) -> None:
    """Set how the campaign hands out codes."""
    from grapevine.referrals._coupons import configure_coupons

    settings = {"provider": provider, "expires_days": expires_days, "prefix": prefix}
    for name, value in (("kind", kind), ("amount", amount), ("currency", currency)):
        if value is not None:
            settings[name] = value
    config = run_workflow(
        configure_coupons,
        campaign=campaign,
        tenant=tenant,
        settings=settings,
        db=db,
    )
    typer.echo(json.dumps(config.as_dict()))


@coupons_app.command("pool-import")
def pool_import(
    file: Annotated[str, typer.Argument(help="A CSV of codes: one per line, or a code column.")],
    campaign: CampaignOption,
    tenant: TenantOption = "default",
    db: DbOption = None,
) -> None:
    """Add a CSV of codes to the campaign's pool and say how many are left.

    All or nothing: a bad or duplicate code is an error naming its line, and then no code
    is added.
    """
    from grapevine.referrals._coupons import import_pool

    result = run_workflow(
        import_pool,
        campaign=campaign,
        tenant=tenant,
        path=file,
        db=db,
    )
    typer.echo(f"added {result.added} codes; {result.available} available in the pool")


@coupons_app.command("issue")
def issue(
    campaign: CampaignOption,
    email: Annotated[
        str | None, typer.Option(help="The friend's e-mail.", show_default=False)
    ] = None,
    visitor: Annotated[
        str | None, typer.Option(help="The friend's visitor id (cookie).", show_default=False)
    ] = None,
    referral_code: Annotated[
        str | None,
        typer.Option(
            "--referral-code", help="The referral code the friend came with.", show_default=False
        ),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a referred friend their single-use code (the same one when asked again)."""
    from grapevine.referrals._coupons import issue_coupon

    issued = run_workflow(
        issue_coupon,
        campaign=campaign,
        tenant=tenant,
        email=email,
        visitor_id=visitor,
        referral_code=referral_code,
        box=secret_box(required=False),
        db=db,
    )
    if as_json:
        typer.echo(json.dumps(issued.as_dict()))
    else:
        again = " (issued before)" if issued.replayed else ""
        typer.echo(f"{issued.code}{again}")


@coupons_app.command("list")
def list_(
    campaign: CampaignOption,
    status: Annotated[
        Literal["available", "pending", "issued", "redeemed"] | None,
        typer.Option(help="Only codes of this status.", show_default=False),
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the campaign's codes and how many there are of each status."""
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.referrals._coupons import list_coupons

    fmt = output_format(format, as_json=as_json)
    rows, counts = run_workflow(
        list_coupons,
        campaign=campaign,
        tenant=tenant,
        status=status,
        db=db,
    )
    records = [r.as_dict() for r in rows]
    cols = [
        Col("code"),
        Col("provider", drop=2),
        Col("status"),
        Col("referrer_id", "referrer", right=True, drop=1),
        Col("order_id", "order", drop=1),
    ]
    print_records(records, cols, fmt, console=console)
    if fmt == "table":
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no codes"
        typer.echo(summary, err=True)
