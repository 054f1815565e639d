"""Running one workflow of a tenant (and campaign) straight on the store, for a command.

:func:`run_workflow` opens the store (it must exist), finds the tenant by its slug and calls
the workflow with ``tenant_id`` (and ``campaign_id``); the project's errors become
``error: ...`` on stderr and exit code 1, a campaign the tenant does not have named as such.
:func:`secret_box` is the box that seals shop credentials, under ``GRAPEVINE_SECRETS_KEY``.

SQLAlchemy and the store are imported when a command runs, so that ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from grapevine.cli._keys import fail, tenant_by_slug
from grapevine.errors import CampaignNotFound, GrapevineError

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.store._secretbox import SecretBox

__all__ = ["run_workflow", "secret_box"]

T = TypeVar("T")


def run_workflow(
    workflow: Callable[..., T],
    *,
    db: str | None,
    tenant: str,
    campaign: int | None = None,
    **arguments: Any,
) -> T:
    """``workflow(session, tenant_id=..., [campaign_id=...,] **arguments)``'s result.

    Raises
    ------
    typer.Exit
        Code 1, after printing the error: a tenant or campaign that does not exist, or any
        other :class:`~grapevine.errors.GrapevineError` of the workflow.
    """
    from sqlalchemy.orm import Session

    from grapevine.store import Store

    if campaign is not None:
        arguments["campaign_id"] = campaign
    try:
        with Store(db, create=False) as store, Session(store.engine) as session:
            return workflow(session, tenant_id=tenant_by_slug(session, tenant).id, **arguments)
    except GrapevineError as exc:
        if campaign is not None and isinstance(exc, CampaignNotFound):
            raise fail(f"tenant {tenant!r} has no campaign {campaign}") from None
        raise fail(exc) from None


@overload
def secret_box(required: Literal[True] = True) -> SecretBox: ...
@overload
def secret_box(required: bool) -> SecretBox | None: ...
def secret_box(required: bool = True) -> SecretBox | None:
    """The box for shop credentials (None when the key is not set and not ``required``).

    Raises
    ------
    typer.Exit
        Code 1, naming ``GRAPEVINE_SECRETS_KEY``, when it is ``required`` and not set.
    """
    from grapevine.config import get_settings
    from grapevine.store._secretbox import SecretBox

    master = get_settings().secrets_key
    if master is None or not master.get_secret_value():
        if not required:
            return None
        raise fail(
            "GRAPEVINE_SECRETS_KEY is not set: set it (32+ random characters) here and in the "
            "server's environment"
        )
    return SecretBox(master.get_secret_value())
