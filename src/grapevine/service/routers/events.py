"""``/api/events``: signups, purchases and refunds, idempotent on their key."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grapevine import referrals as rf
from grapevine._validation import EVENT_TIME, TIME, Domain
from grapevine.config import Settings
from grapevine.errors import BadInput
from grapevine.service import _risk
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service.deps import IngestKey, SessionDep, SettingsDep
from grapevine.service.routers.campaigns import load_campaign, window_seconds
from grapevine.service.routers.redirects import VISITOR_COOKIE
from grapevine.service.schemas import EventBody, EventCreate, EventPublic, RewardPublic
from grapevine.store import referrals_repo as repo
from grapevine.store.models import Campaign, ReferralEvent

__all__ = ["EVENT_TIME_RULE", "REPLAY_HEADER", "event_times", "record_event", "router", "salt_of"]

router = APIRouter(prefix="/api/events", tags=["events"], responses=AUTH_RESPONSES)

REPLAY_HEADER = "Idempotent-Replayed"
"""Set to ``true`` on the answer to a retried event (same body as the first answer)."""


def event_rewards(session: Session, campaign_id: int, event_key: str) -> list[RewardPublic]:
    """The rewards an event earned, as the API shows them."""
    return [
        RewardPublic(
            key=r.reward_key,
            person_id=r.person_id,
            role=r.role,
            amount=r.amount,
            status=r.status,
            available_at=r.available_at,
        )
        for r in repo.rewards_for_event(session, campaign_id=campaign_id, event_key=event_key)
    ]


def _render(session: Session, event: ReferralEvent) -> EventPublic:
    return EventPublic(
        event_id=event.id,
        campaign_id=event.campaign_id,
        kind=event.kind,
        person_id=event.person_id,
        referrer_id=event.referrer_id,
        code=event.code,
        order_id=event.order_id,
        value=event.value,
        time=event.time,
        rewards=event_rewards(session, event.campaign_id, event.idempotency_key),
    )


def _person_id(session: Session, email: str | None) -> int:
    if not email or "@" not in email:
        raise BadInput("a signup or purchase needs the customer's e-mail", field="email")
    handle = rf.normalize_email(email)
    return repo.get_or_create_person(session, platform=repo.EMAIL_PLATFORM, handle=handle).id


COUPON_CHANNEL = "coupon"
"""The ``channel`` of a conversion credited through a coupon code rather than a click."""


def _attribute(
    session: Session, campaign: Campaign, body: EventBody, person: int, when: float
) -> tuple[int | None, str | None, str | None]:
    """``(referrer_id, code, channel)`` of a signup or purchase under the campaign's rule.

    The channel is the one of the credited click (its link's ``ch``), ``"coupon"`` for a
    coupon, and for a purchase with neither, the channel of the person's referred signup.
    """
    visits = (
        repo.visitor_clicks(session, campaign_id=campaign.id, visitor_id=body.visitor_id)
        if body.visitor_id
        else []
    )
    clicks = [(code, t) for code, t, _ in visits]
    valid = {code for code, _ in clicks}
    if body.coupon_code:
        try:
            coupon = rf.normalize_code(body.coupon_code)
        except BadInput:
            coupon = None
        row = None if coupon is None else repo.find_code(session, code=coupon)
        if coupon is not None and row is not None and row.campaign_id == campaign.id:
            valid.add(coupon)
    found = rf.attribute(
        clicks,
        when,
        rule=str((campaign.rules or {}).get("attribution", "last")),
        window_seconds=window_seconds(campaign),
        coupon_code=body.coupon_code,
        valid_codes=valid,
    )
    if found.code is not None:
        code_row = repo.find_code(session, code=found.code)
        if code_row is not None and code_row.person_id != person:
            channel = COUPON_CHANNEL if found.source == "coupon" else None
            if found.source == "click":
                channel = next(
                    (ch for code, t, ch in visits if code == found.code and t == found.time), None
                )
            return code_row.person_id, found.code, channel
        return None, None, None  # self-referral: no credit
    if body.kind == "purchase":  # no click or coupon: the referrer of the signup, if any
        signup = repo.signup_referrer(session, campaign_id=campaign.id, person_id=person)
        if signup is not None and signup[0] != person:
            return signup
    return None, None, None


def record_event(
    session: Session, campaign: Campaign, body: EventBody, *, salt: str | None = None
) -> tuple[EventPublic, bool]:
    """Record one conversion event and update the rewards; ``(result, replayed)``.

    A referred signup or purchase is assessed for fraud first (:func:`_risk.assess`, with
    ``salt`` the secret the device hashes were made with): at or above the campaign's
    review threshold its rewards wait in the review queue.

    A key seen before returns the first result and changes nothing, also when two deliveries
    race (the unique index decides; the loser reads the winner's row). Purchases and refunds
    are idempotent on their order as well: a second purchase (or refund) of an order, under
    any key, returns the first one (``replayed``) and changes nothing (partial unique
    indexes decide races).

    ``time`` must lie in the campaign's time range (:func:`event_times`), else
    :class:`BadInput` naming ``time``.
    """
    key = body.idempotency_key
    found = repo.find_event(session, campaign_id=campaign.id, idempotency_key=key)
    if found is not None:
        return _render(session, found), True
    now = time.time()
    when = now if body.time is None else body.time
    problem = event_times(campaign).problem(when)
    if problem is not None:
        raise BadInput(problem, field="time")
    if body.kind == "refund":
        if not body.order_id:
            raise BadInput("a refund needs the order_id of its purchase", field="order_id")
        purchase = repo.purchase_for_order(session, campaign_id=campaign.id, order_id=body.order_id)
        if purchase is None:
            raise BadInput(f"no purchase with order_id {body.order_id!r}", field="order_id")
        earlier = repo.refund_of_order(session, campaign_id=campaign.id, order_id=body.order_id)
        if earlier is not None:  # refunded already (another key): one refund per order
            return _render(session, earlier), True
        person: int | None = purchase.person_id
        referrer, code, channel = purchase.referrer_id, purchase.code, purchase.channel
        value = body.value if body.value is not None else purchase.value
    else:
        if body.kind == "purchase":
            if not body.order_id:
                raise BadInput("a purchase needs an order_id", field="order_id")
            bought = repo.purchase_for_order(
                session, campaign_id=campaign.id, order_id=body.order_id
            )
            if bought is not None:  # recorded already (another key): one purchase per order
                return _render(session, bought), True
        person = _person_id(session, body.email)
        referrer, code, channel = _attribute(session, campaign, body, person, when)
        value = body.value
    try:
        event = repo.add_event(
            session,
            campaign_id=campaign.id,
            kind=body.kind,
            time=when,
            code=code,
            referrer_id=referrer,
            person_id=person,
            value=value,
            currency=(body.currency or campaign.currency or "").upper() or None,
            idempotency_key=key,
            order_id=body.order_id,
            visitor_id=body.visitor_id,
            channel=channel,
        )
        if body.kind in ("signup", "purchase"):
            _risk.assess(session, campaign, event, salt=salt, now=now)
        if body.kind in ("purchase", "refund"):
            _risk.update_rewards(session, campaign, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = repo.find_event(session, campaign_id=campaign.id, idempotency_key=key)
        if found is None and body.kind == "refund" and body.order_id:
            found = repo.refund_of_order(session, campaign_id=campaign.id, order_id=body.order_id)
        if found is None and body.kind == "purchase" and body.order_id:
            found = repo.purchase_for_order(
                session, campaign_id=campaign.id, order_id=body.order_id
            )
        if found is None:
            raise
        return _render(session, found), True
    return _render(session, event), False


EVENT_TIME_RULE = "event_time_range"
"""The ``Campaign.rules`` key of a campaign's own event time range: ``[earliest, latest)``."""


def event_times(campaign: Campaign) -> Domain:
    """The times a campaign's events may have: ``rules.event_time_range`` (``[earliest,
    latest)`` in Unix seconds, inside years 1900-2099) or by default years 2000-2099.

    A malformed range is a :class:`BadInput` naming ``rules.event_time_range``.
    """
    given = (campaign.rules or {}).get(EVENT_TIME_RULE)
    if given is None:
        return EVENT_TIME
    ok = isinstance(given, list | tuple) and len(given) == 2
    ok = ok and all(TIME.contains(v) or v == TIME.high for v in given) and given[0] < given[1]
    if not ok:
        raise BadInput(
            f"must be [earliest, latest) Unix seconds inside {TIME.expected}; got {given!r}",
            field=f"rules.{EVENT_TIME_RULE}",
        )
    return TIME.within(float(given[0]), float(given[1]), note="the campaign's time range")


def salt_of(settings: Settings) -> str | None:
    """The service secret of the device hashes, if set (the fraud checks compare them)."""
    return None if settings.ip_salt is None else settings.ip_salt.get_secret_value() or None


@router.post("")
def post_event(
    body: EventCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    key: IngestKey,
) -> EventPublic:
    """Record a signup, purchase or refund (idempotent on ``idempotency_key``).

    The visitor is named by ``visitor_id`` or, for a request from the visitor's own browser,
    by the attribution cookie. Needs an ingest or admin key of the campaign's tenant.
    """
    if not 0 < body.campaign_id < 2**63:  # past the id columns: no such campaign (not a 500)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no campaign {body.campaign_id}")
    campaign = load_campaign(session, body.campaign_id, key)
    if body.visitor_id is None and VISITOR_COOKIE in request.cookies:
        body = body.model_copy(update={"visitor_id": request.cookies[VISITOR_COOKIE][:64]})
    result, replayed = record_event(session, campaign, body, salt=salt_of(settings))
    if replayed:
        response.headers[REPLAY_HEADER] = "true"
    return result
