"""``/api/outbound``: the tenant's webhook endpoints and alert channels, and the delivery log.

Admin keys manage endpoints and redeliver; read keys read the log. A new webhook's signing
secret is in the answer once; listings never show it. Another tenant's endpoints and messages
are not found.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from grapevine import outbound
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._domains import Text
from grapevine.service.deps import AdminKey, ReadKey, SessionDep, SettingsDep, StoreDep

__all__ = ["router"]

router = APIRouter(prefix="/api/outbound", tags=["outbound"], responses=AUTH_RESPONSES)

MAX_ID = 2**63 - 1
"""The largest row id the store holds (a signed 64-bit integer)."""
EndpointId = Annotated[int, Path(ge=1, le=MAX_ID, description="The endpoint's id.")]
MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="The message's id.")]
EventName = Annotated[Text, Field(max_length=32)]


class EndpointCreate(BaseModel):
    """A new endpoint: a signed webhook, or an alert channel."""

    kind: Literal["webhook", "slack", "teams", "mattermost", "email"] = Field(
        description="webhook (signed POSTs of the events), slack / teams / mattermost (an "
        "incoming webhook URL; alerts only) or email (an address; alerts only)."
    )
    target: Text = Field(max_length=2048, description="The https URL, or the e-mail address.")
    events: list[EventName] | None = Field(
        default=None,
        max_length=16,
        description="What a webhook receives (default reward.earned, reward.paid, "
        "referral.converted, alert.raised).",
    )
    language: Text | None = Field(
        default=None,
        max_length=16,
        description="Language of an e-mail alert channel: en, nl, de or sv (default en).",
    )
    description: Text | None = Field(default=None, max_length=255)
    secret: Text | None = Field(
        default=None,
        min_length=16,
        max_length=255,
        description="A webhook's signing secret (default: a new random whsec_..., returned once).",
    )


class EndpointPublic(BaseModel):
    """An endpoint as listed (no secret)."""

    id: int
    kind: str
    target: str
    events: list[str]
    language: str | None
    description: str | None
    hint: str | None
    created_at: float
    removed_at: float | None


class EndpointCreated(EndpointPublic):
    """A new endpoint with its signing secret (webhooks), shown this once."""

    secret: str | None


class AttemptPublic(BaseModel):
    """One delivery attempt."""

    attempt: int
    at: float
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    manual: bool


class MessagePublic(BaseModel):
    """One outbound message with its attempts."""

    id: int
    event: str
    channel: str
    endpoint_id: int | None
    participant_id: int | None
    campaign_id: int | None
    status: str
    attempts: int
    max_attempts: int
    created_at: float
    next_try_at: float | None
    delivered_at: float | None
    last_error: str | None
    payload: dict[str, Any]
    log: list[AttemptPublic]


def _endpoint(view: outbound.EndpointView) -> EndpointPublic:
    data = asdict(view)
    data["events"] = list(view.events)
    return EndpointPublic(**data)


def _message(detail: outbound.MessageDetail) -> MessagePublic:
    return MessagePublic(
        **asdict(detail.message),
        payload=detail.payload,
        log=[AttemptPublic(**asdict(a)) for a in detail.attempts],
    )


@router.get("/endpoints")
def list_endpoints(
    session: SessionDep,
    key: AdminKey,
    removed: Annotated[bool, Query(description="Include removed endpoints.")] = False,
) -> list[EndpointPublic]:
    """The tenant's endpoints, oldest first."""
    views = outbound.list_endpoints(session, tenant_id=key.tenant_id, include_removed=removed)
    return [_endpoint(v) for v in views]


@router.post("/endpoints", status_code=status.HTTP_201_CREATED)
def add_endpoint(
    body: EndpointCreate, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> EndpointCreated:
    """Register an endpoint. The URL must be a public https (webhooks: http or https)
    address; 422 for a bad URL, address or event, or while GRAPEVINE_SECRETS_KEY is unset."""
    new = outbound.add_endpoint(
        session,
        tenant_id=key.tenant_id,
        kind=body.kind,
        target=body.target,
        secrets_key=settings.secrets_key.get_secret_value() if settings.secrets_key else None,
        events=body.events,
        language=body.language,
        description=body.description,
        secret=body.secret,
    )
    session.commit()
    return EndpointCreated(**_endpoint(new.endpoint).model_dump(), secret=new.secret)


@router.delete("/endpoints/{endpoint_id}")
def remove_endpoint(endpoint_id: EndpointId, session: SessionDep, key: AdminKey) -> EndpointPublic:
    """Stop sending to an endpoint; its pending messages are skipped, its log is kept."""
    view = outbound.remove_endpoint(session, tenant_id=key.tenant_id, endpoint_id=endpoint_id)
    session.commit()
    return _endpoint(view)


@router.get("/messages")
def list_messages(
    session: SessionDep,
    key: ReadKey,
    status_: Annotated[
        Literal["pending", "delivered", "failed", "skipped"] | None, Query(alias="status")
    ] = None,
    event: Annotated[Text | None, Query(max_length=32)] = None,
    endpoint_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Page: messages older than this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[MessagePublic]:
    """The delivery log: the tenant's messages, newest first, each with every attempt
    (status code, latency, error)."""
    details = outbound.list_messages(
        session,
        tenant_id=key.tenant_id,
        status=status_,
        event=event,
        endpoint_id=endpoint_id,
        before_id=before_id,
        limit=limit,
    )
    return [_message(d) for d in details]


@router.get("/messages/{message_id}")
def get_message(message_id: MessageId, session: SessionDep, key: ReadKey) -> MessagePublic:
    """One message with its payload and attempts."""
    return _message(
        outbound.message_detail(session, tenant_id=key.tenant_id, message_id=message_id)
    )


@router.post("/messages/{message_id}/redeliver")
def redeliver(
    message_id: MessageId, store: StoreDep, settings: SettingsDep, key: AdminKey
) -> MessagePublic:
    """Deliver a message again now, whatever its state; the answer holds the new attempt."""
    detail = outbound.redeliver(
        lambda: Session(store.engine),
        tenant_id=key.tenant_id,
        message_id=message_id,
        config=outbound.OutboundConfig.from_settings(settings),
    )
    return _message(detail)
