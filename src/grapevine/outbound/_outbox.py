"""The transactional outbox: :func:`emit` queues messages in the caller's transaction.

A workflow that changes something worth telling (a reward earned, a referral converted, an
alert raised) calls :func:`emit` with the session of its own transaction. The messages are
rows of ``outbound_messages``: they commit with the change or roll back with it, so a message
exists if and only if the change does, and the dispatcher (:func:`~grapevine.outbound.
deliver_due`) sends them later, with retries, outside any request.
"""

from __future__ import annotations

import hashlib
import json
import time as _time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from grapevine.errors import InvalidParameter, NotFound
from grapevine.outbound._events import ALERT_CHANNELS, EVENTS, PARTICIPANT_TEMPLATES
from grapevine.store import outbound_repo as repo
from grapevine.store.models import Participant
from grapevine.store.outbound_models import OutboundMessage

__all__ = ["MAX_ATTEMPTS", "emit"]

MAX_ATTEMPTS = {"webhook": 8, "email": 5, "slack": 5, "teams": 5, "mattermost": 5}
"""Tries per channel before a message is marked ``failed`` (a manual redeliver tries again)."""


def _dedupe(tenant_id: int, event: str, key: str, channel: str, to: int | None) -> str:
    raw = f"{tenant_id}|{event}|{key}|{channel}|{to}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def emit(
    session: Session,
    *,
    tenant_id: int,
    event: str,
    payload: Mapping[str, Any],
    participant_id: int | None = None,
    campaign_id: int | None = None,
    key: str | None = None,
    now: float | None = None,
) -> list[int]:
    """Queue the messages of one event, inside the caller's transaction.

    Call it with the session of the transaction that makes the change; commit as usual. Nothing
    is sent here: :func:`~grapevine.outbound.deliver_due` (the service's background task, or
    ``grapevine outbound deliver``) sends the committed messages.

    The event becomes:

    - an e-mail to the participant, for the events of :data:`PARTICIPANT_TEMPLATES`
      (``participant.enrolled``: welcome with their link; ``friend.joined``; ``reward.earned``;
      ``reward.paid``) when ``participant_id`` is given and they have not unsubscribed,
      in their language (else the campaign's, else English);
    - a signed POST to each of the tenant's webhook endpoints subscribed to ``event``;
    - for ``alert.raised``, a message to each of the tenant's alert channels (Slack,
      Microsoft Teams, Mattermost, e-mail).

    Parameters
    ----------
    session : Session
        The caller's session; :func:`emit` adds rows and flushes, never commits.
    tenant_id : int
        Whose event: only this tenant's endpoints receive it.
    event : str
        One of :data:`EVENTS`: ``participant.enrolled``, ``friend.joined``,
        ``referral.converted``, ``reward.earned``, ``reward.paid``, ``alert.raised``.
    payload : mapping
        JSON-serialisable facts of the event: sent as the webhook's ``data`` and given to the
        e-mail templates. Keys the templates use (all optional; missing ones are left out):
        ``campaign_name``, ``share_url`` (the participant's link, welcome e-mail),
        ``page_url`` (their participant page), ``friend_name`` (friend joined),
        ``amount`` and ``currency`` (rewards), ``reward_id``, ``event_key``. For
        ``alert.raised``: ``rule``, ``series``, ``time``, ``value``, ``expected``, ``why``
        (the detector's sentence), ``explanation`` (what grew, as text) and ``link``.
    participant_id : int, optional
        The participant the event is about (the e-mail's recipient).
    campaign_id : int, optional
        The campaign (default: the participant's); its language is the e-mail's fallback.
    key : str, optional
        Idempotency key (a reward key, an event key): emitting the same ``event`` with the
        same key again queues nothing new, so a retried workflow sends each message once.
    now : float, optional
        Unix seconds of the event (default the clock): the messages are due from then.

    Returns
    -------
    list of int
        The ids of the messages queued (empty when nothing was new or nobody listens).

    Raises
    ------
    InvalidParameter
        An unknown event, or a payload that is not a JSON object.
    NotFound
        ``participant_id`` names no participant.

    Examples
    --------
    >>> from grapevine.outbound import emit
    >>> with Session(engine) as session, session.begin():  # doctest: +SKIP
    ...     reward = ledger.earn(...)  # the business change
    ...     emit(session, tenant_id=t, event="reward.earned", participant_id=p,
    ...          payload={"amount": 10.0, "currency": "EUR"}, key=reward.key)
    """
    if event not in EVENTS:
        raise InvalidParameter("event", "emit", f"one of {', '.join(EVENTS)}", event)
    if not isinstance(payload, Mapping):
        raise InvalidParameter("payload", "emit", "a mapping (a JSON object)", payload)
    try:
        data: dict[str, Any] = json.loads(json.dumps(dict(payload), allow_nan=False))
    except (TypeError, ValueError):
        raise InvalidParameter(
            "payload", "emit", "JSON-serialisable (str, numbers, lists, mappings)", payload
        ) from None
    at = _time.time() if now is None else float(now)
    rows: list[dict[str, Any]] = []

    def add(channel: str, endpoint_id: int | None, person: int | None) -> None:
        to = endpoint_id if endpoint_id is not None else person
        rows.append(
            {
                "tenant_id": tenant_id,
                "event": event,
                "channel": channel,
                "endpoint_id": endpoint_id,
                "participant_id": participant_id,
                "campaign_id": campaign_id,
                "payload": data,
                "dedupe_key": None if key is None else _dedupe(tenant_id, event, key, channel, to),
                "status": "pending",
                "attempts": 0,
                "max_attempts": MAX_ATTEMPTS[channel],
                "created_at": at,
                "next_try_at": at,
            }
        )

    if participant_id is not None:
        person = session.get(Participant, participant_id)
        if person is None:
            raise NotFound("participant", participant_id)
        if campaign_id is None:
            campaign_id = person.campaign_id
        if event in PARTICIPANT_TEMPLATES and person.unsubscribed_at is None:
            add("email", None, participant_id)
    for ep in repo.endpoints_of(session, tenant_id=tenant_id):
        if event not in (ep.events or []):
            continue
        if ep.kind in ALERT_CHANNELS and event != "alert.raised":
            continue
        add(ep.kind, ep.id, None)
    for row in rows:
        row["campaign_id"] = campaign_id
    return _insert(session, rows)


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(OutboundMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(OutboundMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover - the store runs on SQLite and PostgreSQL only
        from sqlalchemy import insert

        stmt = insert(OutboundMessage)
    ids: list[int] = []
    for row in rows:  # one statement a row: RETURNING of a multi-row upsert is not ordered
        ids.extend(session.scalars(stmt.values(**row).returning(OutboundMessage.id)).all())
    return ids
