"""What the referral workflows tell the outside world, through the outbox (grapevine.outbound).

Called inside the workflows' own transactions, so a message exists if and only if the change
committed; every message has a key, so a retried workflow announces nothing twice:

- an enrolment (a new participant): ``participant.enrolled``, the welcome e-mail with the
  participant's link and page;
- a referred signup or purchase: ``referral.converted`` (webhooks), and for a signup
  ``friend.joined`` to the referrer;
- each reward the conversion earns (in its hold or granted; not one held for review or void):
  ``reward.earned``, e-mailed to its earner when they are a participant.

A reward held for review is announced when the review approves it (:func:`announce_rewards`
from :func:`grapevine.referrals.decide`); the key makes that once, whichever comes first.
``reward.paid`` is announced by the payouts (:mod:`grapevine.referrals._payouts`).
"""

from __future__ import annotations

import time as _time

from sqlalchemy.orm import Session

from grapevine.outbound import emit
from grapevine.referrals._codes import referral_path
from grapevine.referrals._share import page_token
from grapevine.store import codes_repo, rewards_repo
from grapevine.store.models import Campaign, ReferralEvent

__all__ = ["announce_conversion", "announce_enrolment", "announce_rewards"]

_EARNED = ("pending", "granted")


def announce_enrolment(
    session: Session,
    *,
    campaign: Campaign,
    participant_id: int,
    code: str,
    created: bool,
    salt: str,
    now: float | None = None,
) -> list[int]:
    """Queue the welcome of a new participant (nothing for a repeated enrolment).

    The payload carries the paths of their link and page (``share_path``, ``page_path``);
    the dispatcher prefixes the service's public origin.
    """
    if not created:
        return []
    return emit(
        session,
        tenant_id=campaign.tenant_id,
        event="participant.enrolled",
        participant_id=participant_id,
        campaign_id=campaign.id,
        payload={
            "campaign_name": campaign.name,
            "code": code,
            "share_path": referral_path(code),
            "page_path": f"/p/{page_token(participant_id, salt)}",
        },
        key=f"participant:{participant_id}",
        now=now,
    )


def announce_conversion(
    session: Session, *, campaign: Campaign, event: ReferralEvent, now: float | None = None
) -> list[int]:
    """Queue the messages of a recorded signup or purchase (nothing for other kinds, or for
    a conversion that nobody referred). Call after the rewards were updated."""
    if event.kind not in ("signup", "purchase") or event.referrer_id is None:
        return []
    at = _time.time() if now is None else now
    referrer = codes_repo.find_participant(
        session, campaign_id=campaign.id, person_id=event.referrer_id
    )
    base = {"campaign_name": campaign.name, "event_key": event.idempotency_key}
    ids = emit(
        session,
        tenant_id=campaign.tenant_id,
        event="referral.converted",
        participant_id=None if referrer is None else referrer.id,
        campaign_id=campaign.id,
        payload={
            **base,
            "kind": event.kind,
            "time": event.time,
            "order_id": event.order_id,
            "value": event.value,
            "currency": event.currency,
            "code": event.code,
            "channel": event.channel,
            "reward_note": event.reward_note,
        },
        key=f"converted:{event.idempotency_key}",
        now=at,
    )
    if event.kind == "signup" and referrer is not None:
        ids += emit(
            session,
            tenant_id=campaign.tenant_id,
            event="friend.joined",
            participant_id=referrer.id,
            campaign_id=campaign.id,
            payload={**base, "share_path": referral_path(event.code) if event.code else None},
            key=f"friend:{event.idempotency_key}",
            now=at,
        )
    ids += announce_rewards(session, campaign=campaign, event_key=event.idempotency_key, now=at)
    return ids


def announce_rewards(
    session: Session, *, campaign: Campaign, event_key: str, now: float | None = None
) -> list[int]:
    """Queue ``reward.earned`` for each reward of the event that is earned (in its hold or
    granted); a reward held for review or void is not, and one announced before is not again
    (the message key is the reward's key). Call after the rewards were updated."""
    at = _time.time() if now is None else now
    base = {"campaign_name": campaign.name, "event_key": event_key}
    ids: list[int] = []
    for reward in rewards_repo.rewards_for_event(
        session, campaign_id=campaign.id, event_key=event_key
    ):
        if reward.status not in _EARNED:
            continue
        earner = None
        if reward.person_id is not None:
            earner = codes_repo.find_participant(
                session, campaign_id=campaign.id, person_id=reward.person_id
            )
        ids += emit(
            session,
            tenant_id=campaign.tenant_id,
            event="reward.earned",
            participant_id=None if earner is None else earner.id,
            campaign_id=campaign.id,
            payload={
                **base,
                "reward_id": reward.id,
                "reward_key": reward.reward_key,
                "role": reward.role,
                "amount": float(reward.amount),
                "currency": campaign.currency,
                "available_on": _time.strftime("%Y-%m-%d", _time.gmtime(reward.available_at)),
                "order_id": reward.order_id,
            },
            key=f"reward.earned:{reward.reward_key}",
            now=at,
        )
    return ids
