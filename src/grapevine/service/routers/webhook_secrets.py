"""``/api/webhook-secrets``: the caller's tenant's webhook signing secrets (admin keys only).

A rotation makes a new current secret and lets the replaced ones verify until the end of the
overlap window; the answer holds the new secret, shown this once. Listings show the last four
characters only. Another tenant's secrets are never listed or touched.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, status

from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._webhook_secrets import secret_box
from grapevine.service.deps import AdminKey, SessionDep, SettingsDep
from grapevine.service.schemas import (
    WebhookSecretCreated,
    WebhookSecretPublic,
    WebhookSecretRotate,
)
from grapevine.store import webhook_secrets_repo as secrets_repo

__all__ = ["router"]

router = APIRouter(
    prefix="/api/webhook-secrets", tags=["webhook secrets"], responses=AUTH_RESPONSES
)


def _public(info: secrets_repo.SecretInfo, now: float) -> WebhookSecretPublic:
    return WebhookSecretPublic(
        id=info.id,
        kind=info.kind,
        hint=info.hint,
        created_at=info.created_at,
        expires_at=info.expires_at,
        active=info.active(now),
        created_by=info.created_by,
    )


@router.get("")
def list_secrets(session: SessionDep, key: AdminKey) -> list[WebhookSecretPublic]:
    """The tenant's webhook secrets, oldest first: kind, last four characters, when made,
    when they stop verifying (null: current), whether they verify now."""
    now = time.time()
    rows = secrets_repo.list_secrets(session, tenant_id=key.tenant_id)
    return [_public(row, now) for row in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
def rotate_secret(
    body: WebhookSecretRotate, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> WebhookSecretCreated:
    """Rotate the tenant's ``grapevine`` or ``stripe`` webhook secret: the new one verifies
    at once, the replaced ones until ``previous_expire_at`` (``overlap`` later). 503 until
    ``GRAPEVINE_SECRETS_KEY`` is set; 422 for a bad overlap or secret."""
    box = secret_box(settings)
    if box is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "tenant webhook secrets are not configured: set GRAPEVINE_SECRETS_KEY",
        )
    row, secret, ends = secrets_repo.rotate_secret(
        session,
        tenant_id=key.tenant_id,
        kind=body.kind,
        box=box,
        secret=body.secret,
        overlap=secrets_repo.parse_duration(body.overlap),
        by=f"api-key:{key.prefix}",
    )
    session.commit()
    return WebhookSecretCreated(
        id=row.id,
        kind=row.kind,
        hint=row.hint,
        created_at=row.created_at,
        expires_at=row.expires_at,
        active=True,
        created_by=row.created_by,
        secret=secret,
        previous_expire_at=ends,
    )
