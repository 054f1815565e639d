"""``/api/keys``: the API keys of the caller's tenant (admin keys only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status

from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service.deps import AdminKey, SessionDep
from grapevine.service.schemas import KeyCreate, KeyCreated, KeyPublic
from grapevine.store import tenants_repo
from grapevine.store.models import ApiKey

__all__ = ["key_public", "router"]

router = APIRouter(prefix="/api/keys", tags=["keys"], responses=AUTH_RESPONSES)


def key_public(row: ApiKey, tenant: str) -> KeyPublic:
    return KeyPublic(
        prefix=row.prefix,
        role=row.role,
        name=row.name,
        tenant=tenant,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.get("")
def list_keys(session: SessionDep, key: AdminKey) -> list[KeyPublic]:
    """The tenant's keys (prefix, role, name, dates; never a secret)."""
    rows = tenants_repo.list_keys(session, tenant_id=key.tenant_id)
    return [key_public(row, slug) for row, slug in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep, key: AdminKey) -> KeyCreated:
    """A new key of the caller's tenant; the answer holds the whole key, shown this once."""
    row, token = tenants_repo.create_key(
        session, tenant_id=key.tenant_id, role=body.role, name=body.name
    )
    session.commit()
    return KeyCreated(**key_public(row, key.tenant_slug).model_dump(), key=token)


@router.delete("/{prefix}")
def revoke_key(
    prefix: Annotated[Text, Path(max_length=64)], session: SessionDep, key: AdminKey
) -> KeyPublic:
    """Revoke a key of the caller's tenant (it answers 401 from now on); 404 for a prefix
    that is not one of the tenant's keys. Revoking the calling key itself is allowed."""
    row = tenants_repo.revoke_key(session, prefix=prefix, tenant_id=key.tenant_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no API key {prefix!r}")
    session.commit()
    return key_public(row, key.tenant_slug)
