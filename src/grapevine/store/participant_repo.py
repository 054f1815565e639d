"""What a participant's own page shows: their link, their referrals and their rewards.

Read-only queries over a :class:`~sqlalchemy.orm.Session`, by participant id (the page token
names it). Counts come from the referrer rollups (:func:`grapevine.store.rollups_repo.
referrer_figures`; human clicks only: bots and link previews are not referrals) and amounts
from ``rewards``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store import rollups_repo
from grapevine.store.models import Campaign, Participant, ReferralCode, Reward

__all__ = ["ParticipantView", "RewardLine", "participant_view"]


@dataclass(frozen=True)
class RewardLine:
    """One reward of the participant: as referrer or as the referred friend."""

    role: str
    amount: float
    status: str
    available_at: float
    reason: str

    def status_at(self, now: float) -> str:
        """The stored status, with a hold that has run out read as ``granted``."""
        return "granted" if self.status == "pending" and now >= self.available_at else self.status


@dataclass(frozen=True)
class ParticipantView:
    """Everything the participant page shows, read in one transaction."""

    participant_id: int
    person_id: int
    email: str
    campaign_id: int
    campaign_name: str
    offer: dict[str, object] | None
    currency: str | None
    destination: str | None
    code: str | None
    clicks: int
    clicks_by_channel: dict[str, int]
    signups: int
    purchases: int
    rewards: list[RewardLine] = field(default_factory=list)

    def total(self, now: float, *statuses: str) -> float:
        """The sum of the rewards whose status at ``now`` is one of ``statuses``."""
        return float(sum(r.amount for r in self.rewards if r.status_at(now) in statuses))


def participant_view(session: Session, *, participant_id: int) -> ParticipantView | None:
    """The participant's page data, or None when there is no such participant."""
    row = session.get(Participant, participant_id)
    if row is None:
        return None
    campaign = session.get(Campaign, row.campaign_id)
    if campaign is None:  # pragma: no cover - the foreign key cascades
        return None
    code = session.scalars(
        select(ReferralCode.code).where(
            ReferralCode.campaign_id == row.campaign_id,
            ReferralCode.person_id == row.person_id,
            ReferralCode.disabled_at.is_(None),
        )
    ).first()
    # The counts come from the per-referrer rollups, not the events: a busy referrer's
    # page costs two primary-key reads.
    figures = rollups_repo.referrer_figures(
        session, campaign_id=row.campaign_id, person_id=row.person_id
    )
    rewards = [
        RewardLine(
            role=r.role,
            amount=float(r.amount),
            status=r.status,
            available_at=float(r.available_at),
            reason=r.reason,
        )
        for r in session.scalars(
            select(Reward)
            .where(Reward.campaign_id == row.campaign_id, Reward.person_id == row.person_id)
            .order_by(Reward.earned_at, Reward.id)
        ).all()
    ]
    destinations = list((campaign.rules or {}).get("destinations", []))
    return ParticipantView(
        participant_id=row.id,
        person_id=row.person_id,
        email=row.email,
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        offer=campaign.offer,
        currency=campaign.currency,
        destination=destinations[0] if destinations else None,
        code=code,
        clicks=figures["clicks"],
        clicks_by_channel=figures["clicks_by_channel"],
        signups=figures["signups"],
        purchases=figures["purchases"],
        rewards=rewards,
    )
