"""Participants of a campaign and their referral codes.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grapevine.store.models import (
    Participant,
    ReferralCode,
)

__all__ = [
    "add_code",
    "code_exists",
    "code_for",
    "find_code",
    "find_participant",
    "get_or_create_participant",
    "list_participants",
    "participant_count",
]


def get_or_create_participant(
    session: Session,
    *,
    campaign_id: int,
    person_id: int,
    email: str,
    now: float,
    device_hash: str | None = None,
    payout_hash: str | None = None,
) -> tuple[Participant, bool]:
    """The person's participation in the campaign and whether it is new.

    Hashes given for an existing participant fill in the ones it lacks.
    """
    found = session.scalars(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.person_id == person_id
        )
    ).first()
    if found is not None:
        found.device_hash = found.device_hash or device_hash
        found.payout_hash = found.payout_hash or payout_hash
        return found, False
    participant = Participant(
        campaign_id=campaign_id,
        person_id=person_id,
        email=email,
        device_hash=device_hash,
        payout_hash=payout_hash,
        created_at=now,
    )
    session.add(participant)
    session.flush()
    return participant, True


def find_participant(session: Session, *, campaign_id: int, person_id: int) -> Participant | None:
    """The person's participation in the campaign, or None."""
    return session.scalars(
        select(Participant).where(
            Participant.campaign_id == campaign_id, Participant.person_id == person_id
        )
    ).first()


def participant_count(session: Session, *, campaign_id: int) -> int:
    """How many participants the campaign has."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.campaign_id == campaign_id)
        )
        or 0
    )


def code_for(session: Session, *, campaign_id: int, person_id: int) -> ReferralCode | None:
    """The person's active code in the campaign, or None."""
    return session.scalars(
        select(ReferralCode)
        .where(
            ReferralCode.campaign_id == campaign_id,
            ReferralCode.person_id == person_id,
            ReferralCode.disabled_at.is_(None),
        )
        .order_by(ReferralCode.id)
    ).first()


def code_exists(session: Session, *, code: str) -> bool:
    """Whether ``code`` (normalised) was ever issued, in any campaign."""
    return session.scalar(select(ReferralCode.id).where(ReferralCode.code == code)) is not None


def add_code(
    session: Session, *, code: str, campaign_id: int, person_id: int, now: float
) -> ReferralCode:
    """Issue ``code``; the unique index refuses a duplicate (IntegrityError at flush)."""
    row = ReferralCode(code=code, campaign_id=campaign_id, person_id=person_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def find_code(session: Session, *, code: str) -> ReferralCode | None:
    """The active code ``code`` (normalised), or None (unknown or disabled)."""
    return session.scalars(
        select(ReferralCode).where(ReferralCode.code == code, ReferralCode.disabled_at.is_(None))
    ).first()


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def list_participants(
    session: Session,
    *,
    campaign_id: int,
    search: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> tuple[list[tuple[Participant, str | None]], int]:
    """One page of the campaign's participants with their active code, by id, and the total.

    ``search`` keeps those whose (normalised) e-mail starts with it; ``after_id`` starts the
    page after that participant id (keyset paging: a page does not shift when someone
    enrols meanwhile). The total counts every match, not only this page.
    """
    where = [Participant.campaign_id == campaign_id]
    if search:
        where.append(Participant.email.like(_like_prefix(search), escape="\\"))
    total = int(session.scalar(select(func.count()).select_from(Participant).where(*where)) or 0)
    if after_id is not None:
        where.append(Participant.id > after_id)
    code = (
        select(ReferralCode.code)
        .where(
            ReferralCode.campaign_id == Participant.campaign_id,
            ReferralCode.person_id == Participant.person_id,
            ReferralCode.disabled_at.is_(None),
        )
        .order_by(ReferralCode.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Participant, code).where(*where).order_by(Participant.id).limit(limit)
    ).all()
    return [(p, c) for p, c in rows], total
