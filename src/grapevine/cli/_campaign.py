"""``grapevine campaign create/list/show``: referral campaigns, straight on the store.

``create`` checks its input with the API's own schema (:class:`CampaignCreate`) and the
domain core (offer, destinations), so the CLI and ``POST /api/campaigns`` accept and refuse
the same campaigns; ``show`` prints the figures of ``GET /api/campaigns/{id}/stats``
(:func:`grapevine.store.referrals_repo.campaign_stats`).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, JsonOption, TenantOption
from grapevine.errors import BadInput, GrapevineError

__all__ = ["campaign_app", "read_campaign_file"]

campaign_app = typer.Typer(
    help="Referral campaigns: create one, list them, show one's figures.", no_args_is_help=True
)


def read_campaign_file(path: Path) -> dict[str, Any]:
    """A campaign document (the body of ``POST /api/campaigns``) from JSON or TOML.

    A file holding only an offer (``referrer``, ``friend``...) is taken as the ``offer``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror}", file=str(path)) from None
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


def validate(document: dict[str, Any], *, source: str) -> Any:
    """The document as a :class:`CampaignCreate`, checked like the API checks it.

    Raises :class:`BadInput` naming ``source`` and the first field at fault.
    """
    from pydantic import ValidationError

    from grapevine.service.schemas import CampaignCreate

    try:
        body = CampaignCreate.model_validate(document)
    except ValidationError as exc:
        problems = [(".".join(str(part) for part in e["loc"]), str(e["msg"])) for e in exc.errors()]
        message = str(problems[0][1])
        if len(problems) > 1:  # a typo shows as a missing field and an unknown one: name both
            message += "; also " + "; ".join(f"{loc}: {msg}" for loc, msg in problems[1:4])
        raise BadInput(message, file=source, field=problems[0][0] or None) from None
    from grapevine import referrals as rf

    checks = (
        ("offer", lambda: rf.Offer.from_dict(body.offer) if body.offer is not None else None),
        ("destinations", lambda: rf.resolve_destination(body.destinations)),
    )
    for name, check in checks:  # the checks of POST /api/campaigns, one field at a time
        try:
            check()
        except BadInput as exc:
            field = f"{name}.{exc.field}" if exc.field not in (None, name) else name
            raise BadInput(exc.message, file=source, field=field) from None
        except GrapevineError as exc:
            raise BadInput(str(exc), file=source, field=name) from None
    return body


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
        str | None, typer.Option(help="last (default) or first click.", show_default=False)
    ] = None,
    budget: Annotated[float | None, typer.Option(help="Budget.", show_default=False)] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO currency, e.g. EUR.", show_default=False)
    ] = None,
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a campaign from options or a JSON/TOML file."""
    from sqlalchemy.orm import Session

    from grapevine.config import get_settings
    from grapevine.service.routers.campaigns import campaign_public, create_campaign_row
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    options = {
        "name": name,
        "destinations": destination or None,
        "goal": goal,
        "window_days": window_days,
        "attribution": attribution,
        "budget": budget,
        "currency": currency,
    }
    try:
        document = read_campaign_file(file) if file is not None else {}
        document.update({k: v for k, v in options.items() if v is not None})
        body = validate(document, source=str(file) if file is not None else "options")
        with Store(db) as store, Session(store.engine) as session:
            row = tenant_by_slug(session, tenant)
            if repo.find_campaign_by_name(session, name=body.name, tenant_id=row.id):
                raise fail(f"tenant {tenant!r} has a campaign named {body.name!r}")
            campaign = create_campaign_row(
                session, body, tenant_id=row.id, window_days=get_settings().cookie_window_days
            )
            session.commit()
            public = campaign_public(campaign)
    except GrapevineError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(public.model_dump_json(indent=2))
    else:
        typer.echo(f"campaign {public.id} {public.name!r} created in tenant {tenant}")


@campaign_app.command("list")
def list_(
    tenant: TenantOption = "default", db: DbOption = None, as_json: JsonOption = False
) -> None:
    """List the tenant's campaigns with their participants and conversions."""
    from rich.table import Table
    from sqlalchemy.orm import Session

    from grapevine.cli._render import console
    from grapevine.service.routers.campaigns import campaign_public
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    with Store(db) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        rows = []
        for campaign in repo.list_campaigns(session, tenant_id=row.id):
            rows.append(
                {
                    **campaign_public(campaign).model_dump(),
                    "participants": repo.participant_count(session, campaign_id=campaign.id),
                }
            )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "goal", "participants", "window (days)", "attribution", "budget")
    for r in rows:
        budget = "" if r["budget"] is None else f"{r['budget']:,.2f} {r['currency'] or ''}"
        table.add_row(
            str(r["id"]),
            r["name"],
            r["goal"] or "",
            f"{r['participants']:,}",
            f"{r['window_days']:g}",
            r["attribution"],
            budget.strip(),
        )
    console.print(table)


@campaign_app.command("show")
def show(
    campaign: Annotated[str, typer.Argument(help="The campaign's id or name.")],
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's offer, participants, funnel, K-factor and cycle time."""
    from rich.table import Table
    from sqlalchemy.orm import Session

    from grapevine.cli._render import console
    from grapevine.service.routers.campaigns import campaign_public
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    with Store(db) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        found = (
            repo.find_campaign(session, campaign_id=int(campaign), tenant_id=row.id)
            if campaign.isdigit()
            else None
        ) or repo.find_campaign_by_name(session, name=campaign, tenant_id=row.id)
        if found is None:
            raise fail(f"tenant {tenant!r} has no campaign {campaign!r}")
        public = campaign_public(found).model_dump()
        stats = repo.campaign_stats(session, campaign_id=found.id)
    if as_json:
        typer.echo(json.dumps({"campaign": public, "stats": stats}, indent=2))
        return
    console.print(f"[bold]{public['name']}[/] (id {public['id']}, tenant {tenant})")
    if public["goal"]:
        console.print(f"goal: {public['goal']}")
    console.print(f"destinations: {', '.join(public['destinations'])}")
    console.print(
        f"window {public['window_days']:g} days, {public['attribution']}-click attribution"
    )
    console.print(f"offer: {json.dumps(public['offer']) if public['offer'] else 'none'}")
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
    console.print(f"viral cycle time (median): {'-' if cycle is None else f'{cycle / 3600:.1f} h'}")
    if stats["rewards"]:
        rewards = Table("status", "rewards", "amount", title="rewards")
        for status, total in stats["rewards"].items():
            rewards.add_row(status, f"{total['count']:,}", f"{total['amount']:,.2f}")
        console.print(rewards)
