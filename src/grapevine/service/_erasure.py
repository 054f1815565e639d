"""GDPR erasure of one person, by e-mail or id: one function for the API and the CLI."""

from __future__ import annotations

import hashlib
import hmac
import time

from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine.errors import BadInput
from grapevine.store import referrals_repo as repo

__all__ = ["erase", "ref_hash"]


def ref_hash(ref: str, salt: str | None) -> str:
    """What the erasure log keeps of a reference: HMAC-SHA256 under ``salt`` (the IP salt),
    plain SHA-256 without one. Lets the operator show that a request was carried out,
    without keeping the address."""
    data = ref.encode()
    if salt:
        return hmac.new(salt.encode(), data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def erase(
    session: Session, *, tenant_id: int, ref: str, by: str | None, salt: str | None
) -> dict[str, int] | None:
    """Erase the person ``ref`` (e-mail address or numeric person id) from the tenant's
    referral data (:func:`grapevine.store.referrals_repo.erase_person`); flushed, not
    committed. None when the tenant's data does not name them.
    """
    ref = ref.strip()
    if "@" in ref:
        handle = rf.normalize_email(ref)
        person = repo.find_person_in_tenant(session, tenant_id=tenant_id, handle=handle)
        logged = handle
    elif ref.isascii() and ref.isdigit():
        if not 0 < int(ref) < 2**63:  # past the id columns: nobody (not a database error)
            return None
        person = repo.find_person_in_tenant(session, tenant_id=tenant_id, person_id=int(ref))
        logged = ref
    else:
        raise BadInput(f"a person is named by an e-mail address or an id, not {ref!r}", field="ref")
    if person is None:
        return None
    return repo.erase_person(
        session,
        tenant_id=tenant_id,
        person_id=person,
        ref_hash=ref_hash(logged, salt),
        by=by,
        now=time.time(),
    )
