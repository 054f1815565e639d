"""Campaign workflows: create, edit, pause, resume, end, read, and list participants.

Every workflow takes a session and keyword-only arguments, returns frozen dataclasses and
raises :mod:`grapevine.errors`; none commits (the caller owns the transaction). Pass the
caller's ``tenant_id`` whenever it speaks for one: another tenant's campaign is then
:class:`~grapevine.errors.CampaignNotFound`, exactly like a missing one.

Lifecycle
    ``active`` → ``paused`` → ``active`` ...; ``active`` or ``paused`` → ``ended`` (final).

    - paused: links keep redirecting and clicks are recorded; nobody new may enrol
      (:class:`~grapevine.errors.CampaignClosed`); conversions are recorded but earn no
      rewards (their ``reward_note`` says why).
    - ended: nobody new may enrol; conversions earn no rewards; links go to the campaign's
      landing page; rewards earned before keep their lifecycle (holds end, refunds claw
      back, payouts go on).
    - resume: paused → active; an ended campaign cannot resume (``CampaignClosed``).

    Asking for the state a campaign is already in changes nothing (``changed`` false).

Edits
    :func:`update_campaign` applies a partial document to the stored one and checks the
    result exactly like a creation (:func:`~grapevine.referrals.check_campaign`), so the fraud
    thresholds (``review_threshold``, ``velocity_limit``...) are refused outside their range
    with the field named. The offer cannot change once the campaign has rewards (every
    purchase replays the ledger with the campaign's offer: a new offer would rewrite rewards
    already earned). Every creation, edit and state change appends a row to the audit trail
    (:func:`campaign_audit`): who, when, and the fields changed as ``[before, after]``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grapevine._validation import text_problem
from grapevine.errors import BadInput, CampaignClosed, Conflict, NotFound
from grapevine.referrals._campaign_spec import (
    CAMPAIGN_FIELDS,
    RULE_FIELDS,
    RiskRules,
    check_campaign,
    split_document,
)
from grapevine.referrals._email import is_disposable_email
from grapevine.referrals._lookup import MAX_ID, load_campaign
from grapevine.referrals._risk import risk_rules
from grapevine.store import campaigns_repo, codes_repo
from grapevine.store.models import Campaign, Reward

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "MAX_PAGE",
    "AuditEntry",
    "CampaignView",
    "ParticipantPage",
    "ParticipantRow",
    "campaign_audit",
    "create_campaign",
    "end_campaign",
    "get_campaign",
    "list_campaigns",
    "list_participants",
    "pause_campaign",
    "resume_campaign",
    "update_campaign",
]

DEFAULT_WINDOW_DAYS = 30.0
"""The attribution window of a campaign created without one (the service passes its
``cookie_window_days`` setting instead)."""

MAX_PAGE = 500
"""The most participants one page holds."""


@dataclass(frozen=True)
class CampaignView:
    """A campaign as plain values: its document, its lifecycle and its fraud thresholds.

    ``changed`` is false when the workflow that returned it had nothing to do (pausing a
    paused campaign); true otherwise.
    """

    id: int
    tenant_id: int
    name: str
    goal: str | None
    offer: dict[str, Any] | None
    destinations: tuple[str, ...]
    window_days: float
    attribution: str
    budget: float | None
    currency: str | None
    status: str
    paused_at: float | None
    ended_at: float | None
    risk: RiskRules
    event_time_range: tuple[float, float] | None = None
    page: dict[str, Any] | None = None
    """The share page settings (:class:`~grapevine.referrals.PageSettings` as JSON)."""
    changed: bool = True

    def record(self) -> dict[str, Any]:
        """The fields of ``GET /api/campaigns/{id}`` (JSON-ready)."""
        return {
            "id": self.id,
            "name": self.name,
            "goal": self.goal,
            "offer": self.offer,
            "destinations": list(self.destinations),
            "window_days": self.window_days,
            "attribution": self.attribution,
            "budget": self.budget,
            "currency": self.currency,
            "status": self.status,
            "paused_at": self.paused_at,
            "ended_at": self.ended_at,
            "review_threshold": self.risk.review_threshold,
            "ip_window_seconds": self.risk.ip_window_seconds,
            "velocity_limit": self.risk.velocity_limit,
            "velocity_window_seconds": self.risk.velocity_window_seconds,
            "event_time_range": None
            if self.event_time_range is None
            else list(self.event_time_range),
            "page": self.page,
        }


def _document(campaign: Campaign) -> dict[str, Any]:
    """The stored campaign as a document (every field of :data:`CAMPAIGN_FIELDS`)."""
    rules = campaign.rules or {}
    return {
        "name": campaign.name,
        "goal": campaign.goal,
        "offer": campaign.offer,
        "budget": campaign.budget,
        "currency": campaign.currency,
        **{k: rules.get(k) for k in RULE_FIELDS},
    }


def _view(campaign: Campaign, *, changed: bool = True) -> CampaignView:
    rules = campaign.rules or {}
    span = rules.get("event_time_range")
    return CampaignView(
        id=campaign.id,
        tenant_id=campaign.tenant_id,
        name=campaign.name,
        goal=campaign.goal,
        offer=campaign.offer,
        destinations=tuple(rules.get("destinations", ())),
        window_days=float(rules.get("window_days", DEFAULT_WINDOW_DAYS)),
        attribution=str(rules.get("attribution", "last")),
        budget=campaign.budget,
        currency=campaign.currency,
        status=campaign.status or "active",
        paused_at=campaign.paused_at,
        ended_at=campaign.ended_at,
        risk=risk_rules(campaign),
        event_time_range=None if span is None else (float(span[0]), float(span[1])),
        page=rules.get("page"),
        changed=changed,
    )


def _clock(now: float | None) -> float:
    return time.time() if now is None else now


def create_campaign(
    session: Session,
    *,
    tenant_id: int,
    document: Mapping[str, Any],
    default_window_days: float = DEFAULT_WINDOW_DAYS,
    actor: str | None = None,
    now: float | None = None,
) -> CampaignView:
    """Check ``document`` and add the tenant's campaign, active (flushed, not committed).

    Parameters
    ----------
    tenant_id : int
        The owner.
    document : Mapping
        The campaign (:data:`~grapevine.referrals.CAMPAIGN_FIELDS`; ``name`` and
        ``destinations`` are required).
    default_window_days : float
        The attribution window when the document gives none.
    actor : str, optional
        Who creates it, for the audit trail (``"api key gv_ab12"``, ``"cli"``).

    Raises
    ------
    BadInput
        A field outside its domain, naming it.
    Conflict
        The tenant has a campaign of that name (another tenant's names are not looked at).
    """
    checked = check_campaign(document, default_window_days=default_window_days)
    name = str(checked["name"])
    if campaigns_repo.find_campaign_by_name(session, name=name, tenant_id=tenant_id) is not None:
        raise Conflict(f"a campaign named {name!r} exists", what="campaign", state="exists")
    columns, rules = split_document(checked)
    campaign = campaigns_repo.create_campaign(
        session,
        tenant_id=tenant_id,
        name=name,
        goal=columns["goal"],
        offer=columns["offer"],
        rules=rules,
        budget=columns["budget"],
        currency=columns["currency"],
    )
    campaigns_repo.add_audit(
        session, campaign_id=campaign.id, action="create", actor=actor, now=_clock(now)
    )
    return _view(campaign)


def _has_rewards(session: Session, campaign_id: int) -> bool:
    count = session.scalar(
        select(func.count()).select_from(Reward).where(Reward.campaign_id == campaign_id)
    )
    return bool(count)


def update_campaign(
    session: Session,
    *,
    campaign_id: int,
    changes: Mapping[str, Any],
    tenant_id: int | None = None,
    actor: str | None = None,
    now: float | None = None,
) -> CampaignView:
    """Apply a partial edit (flushed, not committed), checked exactly like a creation.

    ``changes`` maps fields of :data:`~grapevine.referrals.CAMPAIGN_FIELDS` to new values
    (None clears an optional field; a fraud threshold cleared goes back to its default).
    The audit trail records the fields that changed as ``[before, after]``; an edit that
    changes nothing writes nothing (``changed`` false).

    Raises
    ------
    CampaignNotFound
        No such campaign (for the tenant).
    BadInput
        An unknown field, or a value outside its domain, naming it (``velocity_limit``:
        an int in [2, inf); ``review_threshold``: low, medium or high...).
    Conflict
        The new name is another campaign's; the offer changes on a campaign with rewards;
        the campaign has ended (:class:`~grapevine.errors.CampaignClosed`).
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    for key in changes:
        if key not in CAMPAIGN_FIELDS:
            raise BadInput(
                f"unknown field; a campaign has {', '.join(CAMPAIGN_FIELDS)}", field=str(key)
            )
    if (campaign.status or "active") == "ended":
        raise CampaignClosed(
            campaign.id, "ended", f"campaign {campaign.id} has ended: it cannot be edited"
        )
    before = _document(campaign)
    window = before["window_days"]
    checked = check_campaign(
        {**before, **changes}, default_window_days=DEFAULT_WINDOW_DAYS if window is None else window
    )
    diff = {k: [before[k], checked[k]] for k in CAMPAIGN_FIELDS if before[k] != checked[k]}
    if not diff:
        return _view(campaign, changed=False)
    if "name" in diff:
        taken = campaigns_repo.find_campaign_by_name(
            session, name=str(checked["name"]), tenant_id=campaign.tenant_id
        )
        if taken is not None and taken.id != campaign.id:
            raise Conflict(
                f"a campaign named {checked['name']!r} exists", what="campaign", state="exists"
            )
    if "offer" in diff and _has_rewards(session, campaign.id):
        raise Conflict(
            f"campaign {campaign.id} has rewards: its offer cannot change (end it and "
            "create a campaign with the new offer)",
            what="campaign",
            state="has rewards",
        )
    columns, rules = split_document(checked)
    kept = {k: v for k, v in (campaign.rules or {}).items() if k not in RULE_FIELDS}
    campaigns_repo.update_campaign(
        session, campaign=campaign, values={**columns, "rules": {**kept, **rules}}
    )
    campaigns_repo.add_audit(
        session,
        campaign_id=campaign.id,
        action="edit",
        actor=actor,
        now=_clock(now),
        changes=diff,
    )
    return _view(campaign)


_MOVES = {
    # action: (the statuses it leaves, the status it reaches)
    "pause": (("active",), "paused"),
    "resume": (("paused",), "active"),
    "end": (("active", "paused"), "ended"),
}


def _move(
    session: Session,
    action: str,
    *,
    campaign_id: int,
    tenant_id: int | None,
    actor: str | None,
    now: float | None,
) -> CampaignView:
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    sources, target = _MOVES[action]
    status = campaign.status or "active"
    if status == target:
        return _view(campaign, changed=False)
    if status not in sources:  # only ended is left: it is final
        raise CampaignClosed(
            campaign.id, status, f"campaign {campaign.id} has ended: it cannot {action}"
        )
    when = _clock(now)
    campaigns_repo.set_status(session, campaign=campaign, status=target, now=when)
    campaigns_repo.add_audit(
        session,
        campaign_id=campaign.id,
        action=action,
        actor=actor,
        now=when,
        changes={"status": [status, target]},
    )
    return _view(campaign)


def pause_campaign(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    actor: str | None = None,
    now: float | None = None,
) -> CampaignView:
    """Pause an active campaign (flushed, not committed): links keep working and clicks are
    counted, nobody new may enrol, conversions earn no rewards until it resumes.

    Raises :class:`~grapevine.errors.CampaignNotFound`, or
    :class:`~grapevine.errors.CampaignClosed` when it has ended.
    """
    return _move(
        session, "pause", campaign_id=campaign_id, tenant_id=tenant_id, actor=actor, now=now
    )


def resume_campaign(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    actor: str | None = None,
    now: float | None = None,
) -> CampaignView:
    """Make a paused campaign active again (flushed, not committed).

    Raises :class:`~grapevine.errors.CampaignNotFound`, or
    :class:`~grapevine.errors.CampaignClosed` when it has ended (ending is final).
    """
    return _move(
        session, "resume", campaign_id=campaign_id, tenant_id=tenant_id, actor=actor, now=now
    )


def end_campaign(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    actor: str | None = None,
    now: float | None = None,
) -> CampaignView:
    """End a campaign for good (flushed, not committed): nobody new may enrol, conversions
    earn nothing, links go to its landing page; rewards earned before keep their lifecycle.

    Raises :class:`~grapevine.errors.CampaignNotFound`.
    """
    return _move(session, "end", campaign_id=campaign_id, tenant_id=tenant_id, actor=actor, now=now)


def get_campaign(
    session: Session,
    *,
    campaign_id: int | None = None,
    name: str | None = None,
    tenant_id: int | None = None,
) -> CampaignView:
    """One campaign, by id or (with ``tenant_id``) by name.

    Raises :class:`~grapevine.errors.CampaignNotFound` (``campaign_id`` 0 when named).
    """
    if name is not None and tenant_id is not None:
        found = campaigns_repo.find_campaign_by_name(session, name=name, tenant_id=tenant_id)
        if found is not None:
            return _view(found)
    if campaign_id is None:
        raise NotFound("campaign", name, f"no campaign {name!r}")
    return _view(load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id))


def list_campaigns(
    session: Session, *, tenant_id: int, status: str | None = None
) -> list[CampaignView]:
    """The tenant's campaigns (of one ``status`` when given), oldest first."""
    return [
        _view(c) for c in campaigns_repo.list_campaigns(session, tenant_id=tenant_id, status=status)
    ]


@dataclass(frozen=True)
class AuditEntry:
    """One change of a campaign: when, who, what, and an edit's ``[before, after]``."""

    at: float
    actor: str | None
    action: str
    changes: dict[str, Any]


def campaign_audit(
    session: Session, *, campaign_id: int, tenant_id: int | None = None
) -> list[AuditEntry]:
    """The campaign's audit trail, oldest first (raises ``CampaignNotFound``)."""
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    return [
        AuditEntry(at=float(r.at), actor=r.actor, action=r.action, changes=dict(r.changes or {}))
        for r in campaigns_repo.audit_trail(session, campaign_id=campaign.id)
    ]


@dataclass(frozen=True)
class ParticipantRow:
    """One participant: their e-mail (normalised), code and when they joined."""

    participant_id: int
    person_id: int
    email: str
    code: str | None
    created_at: float
    disposable_email: bool


@dataclass(frozen=True)
class ParticipantPage:
    """One page of participants, the number matching in all, and the cursor of the next
    page (None on the last one)."""

    items: tuple[ParticipantRow, ...]
    total: int
    next_cursor: str | None


def list_participants(
    session: Session,
    *,
    campaign_id: int,
    tenant_id: int | None = None,
    search: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ParticipantPage:
    """The campaign's participants in the order they joined, a page at a time.

    Parameters
    ----------
    search : str, optional
        Keep those whose e-mail (normalised, lower case) starts with it.
    limit : int
        Participants per page, 1 to :data:`MAX_PAGE`.
    cursor : str, optional
        The ``next_cursor`` of the page before (a page does not shift when someone enrols
        meanwhile).

    Raises
    ------
    CampaignNotFound
        No such campaign (for the tenant).
    BadInput
        ``limit`` outside [1, 500] or a ``cursor`` that no page gave, naming the field.
    """
    campaign = load_campaign(session, campaign_id=campaign_id, tenant_id=tenant_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise BadInput(
            f"must be an int in the range [1, {MAX_PAGE}]. Got {limit!r} instead.", field="limit"
        )
    after: int | None = None
    if cursor:
        if not (cursor.isascii() and cursor.isdigit() and int(cursor) <= MAX_ID):
            raise BadInput(f"not a cursor of this list: {cursor!r}", field="cursor")
        after = int(cursor)
    problem = None if search is None else text_problem(search)
    if problem is not None:
        raise BadInput(problem, field="search")
    prefix = search.strip().lower() if search else None
    rows, total = codes_repo.list_participants(
        session, campaign_id=campaign.id, search=prefix or None, limit=limit + 1, after_id=after
    )
    items = tuple(
        ParticipantRow(
            participant_id=p.id,
            person_id=p.person_id,
            email=p.email,
            code=code,
            created_at=float(p.created_at),
            disposable_email=is_disposable_email(p.email),
        )
        for p, code in rows[:limit]
    )
    more = len(rows) > limit
    return ParticipantPage(
        items=items, total=total, next_cursor=str(items[-1].participant_id) if more else None
    )
