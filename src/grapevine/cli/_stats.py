"""``grapevine campaign stats`` and ``grapevine campaign leaderboard``: a campaign's figures
from its rollups, and rebuilding the rollups from the events.

Thin adapters over :func:`grapevine.referrals.campaign_stats`,
:func:`grapevine.referrals.leaderboard` and :func:`grapevine.referrals.rebuild_rollups`
(the functions behind ``GET /api/campaigns/{id}/stats`` and ``/leaderboard``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Literal

import typer

from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption

__all__ = ["leaderboard", "stats"]

CampaignArg = Annotated[str, typer.Argument(help="The campaign's id or name.")]
Metric = Literal["signups", "purchases", "customers", "revenue", "clicks", "shares", "rewards"]


def stats(
    campaign: CampaignArg,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="First recompute the campaign's rollups from its events and rewards (one "
            "transaction; the figures are the same unless the rollups had drifted).",
        ),
    ] = False,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's figures from its rollups: clicks, visitors, conversions, revenue,
    K-factor (by generation and week), cycle time, rewards; why any figure is missing."""
    from sqlalchemy.orm import Session

    from grapevine import referrals as rf
    from grapevine.cli._campaign import _find
    from grapevine.cli._output import duration
    from grapevine.cli._render import console
    from grapevine.store import Store

    with Store(db, create=False) as store, Session(store.engine) as session:
        _, found = _find(session, tenant, campaign)
        rebuilt = None
        if rebuild:
            rebuilt = rf.rebuild_rollups(session, campaign_id=found.id)
            session.commit()
        figures = rf.campaign_stats(session, campaign_id=found.id)
    if as_json:
        out = figures.as_dict()
        if rebuilt is not None:
            out["rebuilt"] = rebuilt
        typer.echo(json.dumps(out, indent=2))
        return
    if rebuilt is not None:
        rows = ", ".join(f"{n:,} {table}" for table, n in rebuilt.items())
        console.print(f"rebuilt the rollups of campaign {found.id}: {rows}", highlight=False)
    console.print(f"[bold]{found.name}[/] (id {found.id}, tenant {tenant})")
    c = figures.clicks
    lines = [
        ("clicks", f"{c['human']:,} human, {c['bot']:,} bots, {c['preview']:,} previews"),
        ("visitors", f"{figures.visitors:,}"),
        ("shares", f"{figures.shares:,}"),
        ("signups", f"{figures.signups:,} ({figures.referred_signups:,} referred)"),
        ("purchases", f"{figures.purchases:,} ({figures.referred_purchases:,} referred)"),
        ("refunds", f"{figures.refunds:,}"),
        ("revenue", f"{figures.revenue:,.2f} ({figures.refunded:,.2f} refunded)"),
        ("participants", f"{figures.participants:,}"),
        (
            f"K-factor ({figures.conversion_event}s)",
            "-" if figures.k_factor is None else f"{figures.k_factor:.3f}",
        ),
        ("cycle time (median)", duration(figures.cycle_time_median_s)),
    ]
    for name, value in lines:
        console.print(f"{name}: {value}", highlight=False)
    for cohort in figures.k_by_generation:
        k = "-" if cohort.k is None else f"{cohort.k:.3f}"
        console.print(
            f"  generation {cohort.cohort}: {cohort.adopters:,} adopters, K {k}",
            highlight=False,
        )
    for name, why in figures.reasons.items():
        console.print(f"{name}: none ({why})", highlight=False)


def leaderboard(
    campaign: CampaignArg,
    by: Annotated[Metric, typer.Option("--by", help="What to rank the referrers by.")] = (
        "signups"
    ),
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many referrers to show.")
    ] = 10,
    tenant: TenantOption = "default",
    db: DbOption = None,
    fmt: FormatOption = None,
) -> None:
    """A campaign's top referrers (from the per-referrer rollup)."""
    from sqlalchemy.orm import Session

    from grapevine import referrals as rf
    from grapevine.cli._campaign import _find
    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.store import Store

    chosen = output_format(fmt)
    with Store(db, create=False) as store, Session(store.engine) as session:
        _, found = _find(session, tenant, campaign)
        entries = rf.leaderboard(session, campaign_id=found.id, by=by, limit=limit)
    rows = [asdict(e) for e in entries]
    cols = [
        Col("rank", right=True),
        Col("email", wrap=True),
        Col("person_id", "person", right=True, drop=3),
        Col("signups", right=True),
        Col("purchases", right=True, drop=1),
        Col("customers", right=True),
        Col("revenue", right=True, cell=lambda v: f"{v:,.2f}"),
        Col("rewards", right=True, cell=lambda v: f"{v:,.2f}", drop=2),
        Col("clicks", right=True, drop=2),
        Col("generation", "gen", right=True, drop=4),
    ]
    print_records(rows, cols, chosen, console=console, title=f"Top referrers by {by}")
