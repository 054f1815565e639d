"""Enrolling a participant: one workflow for the API, the thank-you page snippet and the CLI.

Idempotent: the same (normalised) e-mail in the same campaign gets the same participant and
the same code again, with ``created`` false. A paused or ended campaign takes nobody new
(:class:`~grapevine.errors.CampaignClosed`); someone enrolled before keeps their code, and
asking again still answers it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from grapevine._validation import text_problem
from grapevine.errors import BadInput, CampaignClosed, StoreError
from grapevine.referrals._announce import announce_enrolment
from grapevine.referrals._codes import new_code
from grapevine.referrals._email import normalize_email
from grapevine.referrals._lookup import load_campaign
from grapevine.store import codes_repo, persons_repo

__all__ = ["Enrolment", "enrol", "keyed_hash"]

_CODE_TRIES = 8


@dataclass(frozen=True)
class Enrolment:
    """Who was enrolled, with their code; ``created`` is false for a repeat."""

    campaign_id: int
    person_id: int
    participant_id: int
    email: str
    code: str
    created: bool


def keyed_hash(value: str | None, salt: str) -> str | None:
    """HMAC-SHA256 of ``value`` under the service secret (None for an empty value).

    >>> keyed_hash("device-1", "s3cret")[:12]
    '08976da104c5'
    >>> keyed_hash("", "s3cret") is None
    True
    """
    if not value:
        return None
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def enrol(
    session: Session,
    *,
    campaign_id: int,
    email: str,
    salt: str,
    tenant_id: int | None = None,
    device_id: str | None = None,
    payout_account: str | None = None,
    now: float | None = None,
) -> Enrolment:
    """Enrol ``email`` in the campaign (flushed, not committed) and give them a code.

    Parameters
    ----------
    session : Session
        The caller's transaction (the caller commits).
    campaign_id : int
        The campaign; with ``tenant_id``, only a campaign of that tenant is found.
    email : str
        The participant's address, normalised (:func:`grapevine.referrals.normalize_email`).
    salt : str
        The service secret device and payout ids are hashed with (:func:`keyed_hash`).
    device_id, payout_account : str, optional
        Stored hashed, for the fraud checks.
    now : float, optional
        Unix seconds of the enrolment (default: the clock).

    Raises
    ------
    CampaignNotFound
        No such campaign (for the tenant).
    CampaignClosed
        The campaign is paused or ended and ``email`` is not enrolled yet.
    BadInput
        A text that cannot be stored (NUL, unpaired surrogate), or not an e-mail address,
        naming the field.
    """
    fields = {"email": email, "device_id": device_id, "payout_account": payout_account}
    for name, value in fields.items():
        problem = None if value is None else text_problem(value)
        if problem is not None:
            raise BadInput(problem, field=name)
    if "@" not in email:
        raise BadInput(f"not an e-mail address: {email!r}", field="email")
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    normal = normalize_email(email)
    when = time.time() if now is None else now
    status = campaign.status or "active"
    person = persons_repo.get_or_create_person(
        session, platform=persons_repo.EMAIL_PLATFORM, handle=normal
    )
    if status != "active" and (
        codes_repo.find_participant(session, campaign_id=campaign.id, person_id=person.id) is None
    ):
        raise CampaignClosed(campaign.id, status)
    participant, created = codes_repo.get_or_create_participant(
        session,
        campaign_id=campaign.id,
        person_id=person.id,
        email=normal,
        now=when,
        device_hash=keyed_hash(device_id, salt),
        payout_hash=keyed_hash(payout_account, salt),
    )
    row = codes_repo.code_for(session, campaign_id=campaign.id, person_id=person.id)
    if row is None:
        for _ in range(_CODE_TRIES):
            code = new_code()
            if not codes_repo.code_exists(session, code=code):
                break
        else:  # pragma: no cover - 8 collisions in a 39.6-bit space
            raise StoreError("no free referral code after 8 tries")
        row = codes_repo.add_code(
            session, code=code, campaign_id=campaign.id, person_id=person.id, now=when
        )
    announce_enrolment(  # the welcome e-mail, through the outbox
        session,
        campaign=campaign,
        participant_id=participant.id,
        code=row.code,
        created=created,
        salt=salt,
        now=when,
    )
    return Enrolment(
        campaign_id=campaign.id,
        person_id=person.id,
        participant_id=participant.id,
        email=normal,
        code=row.code,
        created=created,
    )
