"""``grapevine campaign create/list/show``: referral campaigns, straight on the store.

``create`` checks its input with the API's own schema (:class:`CampaignCreate`) and the
domain core (offer, destinations), so the CLI and ``POST /api/campaigns`` accept and refuse
the same campaigns (the only command here that loads the web service's code); ``list`` and
``show`` read the store alone (:func:`grapevine.store.referrals_repo.campaign_record`), and
``show`` prints the figures of ``GET /api/campaigns/{id}/stats``
(:func:`grapevine.store.referrals_repo.campaign_stats`).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.cli._options import DbOption, FormatOption, JsonOption, TenantOption
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
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
    format: FormatOption = None,
) -> None:
    """List the tenant's campaigns with their participants and conversions."""
    from sqlalchemy.orm import Session

    from grapevine.cli._output import Col, output_format, print_records
    from grapevine.cli._render import console
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    with Store(db, create=False) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        rows = []
        for campaign in repo.list_campaigns(session, tenant_id=row.id):
            rows.append(
                {
                    **repo.campaign_record(campaign),
                    "participants": repo.participant_count(session, campaign_id=campaign.id),
                }
            )
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
    campaign: Annotated[str, typer.Argument(help="The campaign's id or name.")],
    tenant: TenantOption = "default",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A campaign's offer, participants, funnel, K-factor and cycle time."""
    from rich.table import Table
    from sqlalchemy.orm import Session

    from grapevine.cli._output import duration
    from grapevine.cli._render import console
    from grapevine.store import Store
    from grapevine.store import referrals_repo as repo

    with Store(db, create=False) as store, Session(store.engine) as session:
        row = tenant_by_slug(session, tenant)
        found = (
            repo.find_campaign(session, campaign_id=int(campaign), tenant_id=row.id)
            if campaign.isdigit()
            else None
        ) or repo.find_campaign_by_name(session, name=campaign, tenant_id=row.id)
        if found is None:
            raise fail(f"tenant {tenant!r} has no campaign {campaign!r}")
        public = repo.campaign_record(found)
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
