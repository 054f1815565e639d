"""``/api/persons/{ref}``: erase one person's data from the tenant (GDPR, admin keys only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from grapevine import referrals as rf
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service.deps import AdminKey, SessionDep, SettingsDep
from grapevine.service.schemas import ErasurePublic

__all__ = ["router"]

router = APIRouter(prefix="/api/persons", tags=["persons"], responses=AUTH_RESPONSES)


@router.delete("/{ref}")
def erase_person(
    ref: Annotated[Text, Path(max_length=320)],
    session: SessionDep,
    settings: SettingsDep,
    key: AdminKey,
) -> ErasurePublic:
    """Erase the person ``ref`` (an e-mail address, or a person id) from the tenant's
    referral data: e-mail, IP hashes, user agents, visitor ids, device and payout hashes go;
    the person becomes a tombstone, so the campaign figures (clicks, conversions, K-factor,
    reward totals) stay the same. 404 when the tenant's data does not name the person.
    """
    done = rf.erase(
        session,
        tenant_id=key.tenant_id,
        ref=ref,
        by=f"api-key:{key.prefix}",
        salt=None if settings.ip_salt is None else settings.ip_salt.get_secret_value(),
    )
    session.commit()
    return ErasurePublic(erased=True, counts=done.counts)
