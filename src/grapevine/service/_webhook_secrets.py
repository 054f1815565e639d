"""Which secrets verify a webhook: the tenant's own, and the deprecated installation ones.

``POST /webhooks/{campaign_id}`` is verified with the secrets of the campaign's tenant only;
``POST /webhooks/stripe/{tenant}`` with that tenant's Stripe secrets; ``POST /webhooks/stripe``
with each tenant's Stripe secrets in turn, and the tenant whose secret verified is the only
one whose campaigns the event may credit. The settings' ``webhook_secret`` and
``stripe_webhook_secret`` (from before tenants had secrets) count as secrets of the tenant
``default`` only: they can no longer credit another tenant's campaign.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from fastapi import HTTPException, status
from pydantic import SecretStr
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.config import Settings
from grapevine.errors import InvalidSignature
from grapevine.store import campaigns_repo, tenants_repo
from grapevine.store import webhook_secrets_repo as secrets_repo

__all__ = ["campaign_secrets", "secret_box", "verify_stripe_tenant"]

_MAX_ID = 2**63 - 1
_NOT_CONFIGURED = (
    "webhooks are not configured: set GRAPEVINE_SECRETS_KEY and give each tenant a secret "
    "(`grapevine tenant webhook-secret rotate --tenant SLUG`)"
)


@lru_cache(maxsize=4)
def _box(master: str) -> secrets_repo.SecretBox:
    return secrets_repo.SecretBox(master)


def _value(secret: SecretStr | None) -> str | None:
    value = None if secret is None else secret.get_secret_value()
    return value or None


def secret_box(settings: Settings) -> secrets_repo.SecretBox | None:
    """The box of ``GRAPEVINE_SECRETS_KEY``, or None when it is not set."""
    master = _value(settings.secrets_key)
    return None if master is None else _box(master)


def _default_tenant_id(session: Session) -> int | None:
    row = tenants_repo.find_tenant(session, slug=tenants_repo.DEFAULT_TENANT)
    return None if row is None else row.id


def _active(
    session: Session, box: secrets_repo.SecretBox | None, tenant_id: int, kind: str
) -> list[str]:
    if box is None:
        return []
    try:
        return secrets_repo.active_secrets(session, tenant_id=tenant_id, kind=kind, box=box)
    except secrets_repo.SecretUnreadable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


def campaign_secrets(session: Session, settings: Settings, *, campaign_id: int) -> list[str]:
    """The secrets that may sign an event of ``campaign_id``: its tenant's ``grapevine``
    secrets verifying now, plus ``GRAPEVINE_WEBHOOK_SECRET`` for tenant ``default``.

    Raises
    ------
    HTTPException
        503 when the installation has neither ``GRAPEVINE_SECRETS_KEY`` nor the legacy
        secret, or a stored secret cannot be opened.
    InvalidSignature
        ``no webhook secret for this campaign``: unknown campaign, or a tenant without a
        secret (one answer for both, so the route tells nothing about other tenants).
    """
    box, legacy = secret_box(settings), _value(settings.webhook_secret)
    if box is None and legacy is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, _NOT_CONFIGURED)
    campaign = (
        campaigns_repo.find_campaign(session, campaign_id=campaign_id)
        if 1 <= campaign_id <= _MAX_ID
        else None
    )
    found: list[str] = []
    if campaign is not None:
        found = _active(session, box, campaign.tenant_id, "grapevine")
        if legacy is not None and campaign.tenant_id == _default_tenant_id(session):
            found.append(legacy)
    if not found:
        raise InvalidSignature("no webhook secret for this campaign")
    return found


def verify_stripe_tenant(
    session: Session,
    settings: Settings,
    *,
    payload: bytes,
    header: str,
    cache: rf.ReplayCache,
    tenant: str | None,
) -> int:
    """Verify a ``Stripe-Signature``; return the id of the tenant whose secret verified it.

    With ``tenant`` (``/webhooks/stripe/{tenant}``) only that tenant's secrets are tried;
    without, every tenant's, then ``GRAPEVINE_STRIPE_WEBHOOK_SECRET`` as tenant
    ``default``'s. A secret verifies for its own tenant only.

    Raises
    ------
    HTTPException
        503 when nothing is configured (as :func:`campaign_secrets`).
    InvalidSignature
        Malformed, stale, replayed, or matching no secret of the tenant(s).
    """
    box, legacy = secret_box(settings), _value(settings.stripe_webhook_secret)
    if box is None and legacy is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, _NOT_CONFIGURED)
    default_id = _default_tenant_id(session)
    groups: list[tuple[int, list[str]]] = []
    if tenant is not None:
        row = tenants_repo.find_tenant(session, slug=tenant)
        if row is not None:
            groups.append((row.id, _active(session, box, row.id, "stripe")))
    elif box is not None:
        try:
            found = secrets_repo.stripe_secrets_by_tenant(session, box=box)
        except secrets_repo.SecretUnreadable as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
        groups.extend((tenant_id, keys) for tenant_id, _, keys in found)
    if legacy is not None and default_id is not None:
        mine = [keys for tenant_id, keys in groups if tenant_id == default_id]
        if mine:
            mine[0].append(legacy)
        elif tenant is None:
            groups.append((default_id, [legacy]))
    groups = [(tenant_id, keys) for tenant_id, keys in groups if keys]
    if not groups and tenant is not None:
        # An unknown tenant, one without a Stripe secret and a wrong signature answer alike
        # (no oracle of who has Stripe): the same checks run against a key nobody holds.
        rf.verify_stripe_signature(payload, header, [secrets.token_hex(32)], replay_cache=None)
    if not groups:
        raise InvalidSignature("no webhook secret for this endpoint")
    for tenant_id, keys in groups:
        try:
            rf.verify_stripe_signature(payload, header, keys, replay_cache=cache)
        except InvalidSignature as exc:
            if exc.reason != "no matching signature":
                raise
            continue
        return tenant_id
    raise InvalidSignature("no matching signature")
