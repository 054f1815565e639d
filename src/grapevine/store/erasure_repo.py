"""Erasing one person from a tenant's referral data (GDPR), and the tenant's counts.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from grapevine.store import rollups_repo
from grapevine.store.models import (
    Campaign,
    Erasure,
    Participant,
    Person,
    PersonLink,
    Post,
    ReferralCode,
    ReferralEvent,
    Reward,
    Tie,
)
from grapevine.store.persons_repo import EMAIL_PLATFORM, ERASED_PLATFORM

__all__ = [
    "erase_person",
    "find_person_in_tenant",
    "tenant_counts",
]


def _tenant_campaigns(tenant_id: int) -> Select[Any]:
    return select(Campaign.id).where(Campaign.tenant_id == tenant_id)


def find_person_in_tenant(
    session: Session,
    *,
    tenant_id: int,
    handle: str | None = None,
    person_id: int | None = None,
) -> int | None:
    """The id of the person (by e-mail ``handle`` or id) if the tenant's referral data names
    them (participant, customer, referrer, code or reward), else None."""
    if handle is not None:
        person_id = session.scalar(
            select(Person.id).where(Person.platform == EMAIL_PLATFORM, Person.handle == handle)
        )
    if person_id is None:
        return None
    campaigns = _tenant_campaigns(tenant_id)
    named = or_(
        exists().where(Participant.person_id == person_id, Participant.campaign_id.in_(campaigns)),
        exists().where(
            or_(ReferralEvent.person_id == person_id, ReferralEvent.referrer_id == person_id),
            ReferralEvent.campaign_id.in_(campaigns),
        ),
        exists().where(
            ReferralCode.person_id == person_id, ReferralCode.campaign_id.in_(campaigns)
        ),
        exists().where(Reward.person_id == person_id, Reward.campaign_id.in_(campaigns)),
    )
    return person_id if session.scalar(select(named)) else None


def _still_named(session: Session, person_id: int) -> bool:
    """Whether anything at all (any tenant, the analytics tables) still names the person."""
    checks = (
        exists().where(Participant.person_id == person_id),
        exists().where(
            or_(ReferralEvent.person_id == person_id, ReferralEvent.referrer_id == person_id)
        ),
        exists().where(ReferralCode.person_id == person_id),
        exists().where(Reward.person_id == person_id),
        exists().where(or_(Tie.source_id == person_id, Tie.target_id == person_id)),
        exists().where(Post.author_id == person_id),
        exists().where(or_(PersonLink.person_id == person_id, PersonLink.same_as_id == person_id)),
    )
    return bool(session.scalar(select(or_(*checks))))


def erase_person(
    session: Session,
    *,
    tenant_id: int,
    person_id: int,
    ref_hash: str,
    by: str | None,
    now: float,
) -> dict[str, int]:
    """Erase one person from the tenant's referral data, keeping every aggregate figure.

    In the tenant's campaigns the person becomes a tombstone (a new ``Person`` on platform
    :data:`ERASED_PLATFORM` with a random handle): events, codes, participations and rewards
    point to it, so counts, the referral graph (K-factor, cycle time) and reward totals stay
    what they were. Identifying values go: the participant's e-mail (replaced by the
    tombstone's handle), device and payout hashes, and the IP hash, user agent and visitor
    id of the person's events and of every click made with their visitor ids. Their codes
    are disabled (their link stops working). The rollups follow: the person's rows move to
    the tombstone, and their visitor ids, forgotten, leave the visitor count. The person row
    itself is deleted when nothing else (another tenant, the analytics tables) names it. An
    :class:`Erasure` row records ``ref_hash`` (a keyed hash of the reference, not the
    reference), when, by whom and the counts, which are returned.
    """
    campaigns = _tenant_campaigns(tenant_id)
    tomb = Person(platform=ERASED_PLATFORM, handle=f"erased-{uuid.uuid4().hex}")
    session.add(tomb)
    session.flush()
    visitors = select(ReferralEvent.visitor_id).where(
        ReferralEvent.campaign_id.in_(campaigns),
        ReferralEvent.person_id == person_id,
        ReferralEvent.visitor_id.is_not(None),
    )
    visitor_ids = [v for v in session.scalars(visitors.distinct()) if v]
    scrub = or_(ReferralEvent.person_id == person_id, ReferralEvent.visitor_id.in_(visitor_ids))
    rollups_repo.erasing(  # before the scrub: the visitor ids leave the visitor counts
        session,
        campaign_ids=list(session.scalars(campaigns)),
        person_id=person_id,
        tomb_id=tomb.id,
        visitor_ids=visitor_ids,
    )
    counts: dict[str, int] = {}

    def run(name: str, statement: Any) -> None:
        result = session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)

    run(
        "events_scrubbed",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), scrub)
        .values(ip_hash=None, user_agent=None, visitor_id=None),
    )
    run(
        "events_as_person",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), ReferralEvent.person_id == person_id)
        .values(person_id=tomb.id),
    )
    run(
        "events_as_referrer",
        update(ReferralEvent)
        .where(ReferralEvent.campaign_id.in_(campaigns), ReferralEvent.referrer_id == person_id)
        .values(referrer_id=tomb.id),
    )
    run(
        "participants",
        update(Participant)
        .where(Participant.campaign_id.in_(campaigns), Participant.person_id == person_id)
        .values(person_id=tomb.id, email=tomb.handle, device_hash=None, payout_hash=None),
    )
    run(
        "codes",
        update(ReferralCode)
        .where(ReferralCode.campaign_id.in_(campaigns), ReferralCode.person_id == person_id)
        .values(person_id=tomb.id, disabled_at=func.coalesce(ReferralCode.disabled_at, now)),
    )
    run(
        "rewards",
        update(Reward)
        .where(Reward.campaign_id.in_(campaigns), Reward.person_id == person_id)
        .values(person_id=tomb.id),
    )
    deleted = 0
    if not _still_named(session, person_id):
        run("person_deleted", delete(Person).where(Person.id == person_id))
        deleted = counts["person_deleted"]
    counts["person_deleted"] = deleted
    session.add(
        Erasure(tenant_id=tenant_id, person_ref_hash=ref_hash, at=now, by=by, counts=dict(counts))
    )
    session.flush()
    session.expire_all()
    return counts


def tenant_counts(session: Session, *, tenant_id: int) -> dict[str, int]:
    """How many campaigns and referral events the tenant has."""
    campaigns = _tenant_campaigns(tenant_id)
    return {
        "campaigns": int(
            session.scalar(select(func.count()).select_from(campaigns.subquery())) or 0
        ),
        "referral_events": int(
            session.scalar(
                select(func.count())
                .select_from(ReferralEvent)
                .where(ReferralEvent.campaign_id.in_(campaigns))
            )
            or 0
        ),
    }
