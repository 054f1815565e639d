"""GDPR erasure of one person, by e-mail or id: one workflow for the API and the CLI."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grapevine.errors import BadInput, NotFound
from grapevine.referrals._email import normalize_email
from grapevine.referrals._lookup import MAX_ID
from grapevine.store import erasure_repo

__all__ = ["Erasure", "erase", "ref_hash"]


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed: rows per table, and ``person_deleted`` (0 or 1)."""

    person_id: int
    counts: dict[str, int]


def ref_hash(ref: str, salt: str | None) -> str:
    """What the erasure log keeps of a reference: HMAC-SHA256 under ``salt`` (the IP salt),
    plain SHA-256 without one. Lets the operator show that a request was carried out,
    without keeping the address.

    >>> ref_hash("42", None)[:16]
    '73475cb40a568e8d'
    """
    data = ref.encode()
    if salt:
        return hmac.new(salt.encode(), data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def erase(
    session: Session,
    *,
    tenant_id: int,
    ref: str,
    by: str | None,
    salt: str | None,
    now: float | None = None,
) -> Erasure:
    """Erase the person ``ref`` (an e-mail address or a numeric person id) from the tenant's
    referral data (:func:`grapevine.store.erasure_repo.erase_person`: the person becomes a
    tombstone, every figure stays); flushed, not committed.

    Raises
    ------
    NotFound
        The tenant's data does not name them (``what`` is ``"person"``; the message does
        not repeat the reference, so that it tells nothing about other tenants).
    BadInput
        ``ref`` is neither an e-mail address nor an id (field ``ref``).
    """
    ref = ref.strip()
    if "@" in ref:
        handle = normalize_email(ref)
        person = erasure_repo.find_person_in_tenant(session, tenant_id=tenant_id, handle=handle)
        logged = handle
    elif ref.isascii() and ref.isdigit():
        person = (
            erasure_repo.find_person_in_tenant(session, tenant_id=tenant_id, person_id=int(ref))
            if 0 < int(ref) <= MAX_ID  # past the id columns: nobody (not a database error)
            else None
        )
        logged = ref
    else:
        raise BadInput(f"a person is named by an e-mail address or an id, not {ref!r}", field="ref")
    if person is None:
        raise NotFound("person", ref, "no such person in this tenant")
    counts = erasure_repo.erase_person(
        session,
        tenant_id=tenant_id,
        person_id=person,
        ref_hash=ref_hash(logged, salt),
        by=by,
        now=time.time() if now is None else now,
    )
    return Erasure(person_id=person, counts=counts)
