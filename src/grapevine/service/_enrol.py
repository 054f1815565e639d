"""Enrolling a participant: one function for the API, the embed snippet and the CLI.

Idempotent: the same (normalised) e-mail in the same campaign gets the same participant
and the same code again, with ``created`` false.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine._validation import text_problem
from grapevine.errors import BadInput
from grapevine.store import referrals_repo as repo
from grapevine.store.models import Campaign

__all__ = ["Enrolment", "enrol", "keyed_hash"]

_CODE_TRIES = 8


@dataclass(frozen=True)
class Enrolment:
    """Who was enrolled, with their code; ``created`` is false for a repeat."""

    person_id: int
    participant_id: int
    email: str
    code: str
    created: bool


def keyed_hash(value: str | None, salt: str) -> str | None:
    """HMAC-SHA256 of ``value`` under the service secret (None for an empty value)."""
    if not value:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def enrol(
    session: Session,
    campaign: Campaign,
    *,
    email: str,
    salt: str,
    device_id: str | None = None,
    payout_account: str | None = None,
) -> Enrolment:
    """Enrol ``email`` in ``campaign`` (flushed, not committed) and give them a code.

    Every text must be storable (:func:`grapevine._validation.text_problem`: no NUL, no
    unpaired surrogate), whichever route it came through: :class:`BadInput` naming it.
    """
    fields = {"email": email, "device_id": device_id, "payout_account": payout_account}
    for name, value in fields.items():
        problem = None if value is None else text_problem(value)
        if problem is not None:
            raise BadInput(problem, field=name)
    if "@" not in email:
        raise BadInput(f"not an e-mail address: {email!r}", field="email")
    normal = rf.normalize_email(email)
    now = time.time()
    person = repo.get_or_create_person(session, platform=repo.EMAIL_PLATFORM, handle=normal)
    participant, created = repo.get_or_create_participant(
        session,
        campaign_id=campaign.id,
        person_id=person.id,
        email=normal,
        now=now,
        device_hash=keyed_hash(device_id, salt),
        payout_hash=keyed_hash(payout_account, salt),
    )
    row = repo.code_for(session, campaign_id=campaign.id, person_id=person.id)
    if row is None:
        for _ in range(_CODE_TRIES):
            code = rf.new_code()
            if not repo.code_exists(session, code=code):
                break
        else:  # pragma: no cover - 8 collisions in a 39.6-bit space
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no free referral code")
        row = repo.add_code(
            session, code=code, campaign_id=campaign.id, person_id=person.id, now=now
        )
    return Enrolment(
        person_id=person.id,
        participant_id=participant.id,
        email=normal,
        code=row.code,
        created=created,
    )
