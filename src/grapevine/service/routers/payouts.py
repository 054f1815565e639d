"""``/api/campaigns/{id}/payouts``: approve rewards, export payout files, import results,
pay as store credit, and the audit.

Thin adapters over :mod:`grapevine.referrals._payouts`. Every write needs an admin key; the
key's prefix is recorded as who made the move.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from grapevine.errors import ShopRejected, ShopUnavailable
from grapevine.referrals import _payouts as payouts
from grapevine.service._auth import AUTH_RESPONSES
from grapevine.service._webhook_secrets import secret_box
from grapevine.service.deps import AdminKey, RawBodyDep, ReadKey, SessionDep, SettingsDep

__all__ = ["router"]

router = APIRouter(prefix="/api/campaigns", tags=["payouts"], responses=AUTH_RESPONSES)

CampaignId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The campaign's id.")]
State = Literal[
    "pending", "granted", "review", "void", "clawed_back", "approved", "exported", "paid",
    "failed",
]  # fmt: skip


class ApproveBody(BaseModel):
    """Which rewards to approve: the listed ones, or (none listed) every granted one."""

    reward_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        default=None, max_length=10_000
    )
    roles: list[Literal["referrer", "milestone", "friend"]] | None = None


class ApprovePublic(BaseModel):
    approved: list[int]
    skipped: list[tuple[int, str]] = Field(description="(reward id, why not) of listed ones.")


class PayoutPublic(BaseModel):
    reward_id: int
    person_id: int | None
    payee: str | None
    role: str
    amount: float
    currency: str | None
    state: str
    ledger_status: str
    batch_id: int | None
    reference: str | None
    paid_at: float | None
    message: str | None


class TransitionPublic(BaseModel):
    reward_id: int
    from_state: str
    to_state: str
    at: float
    by: str | None
    batch_id: int | None
    note: str | None


class ImportPublic(BaseModel):
    paid: list[int]
    failed: list[int]
    unchanged: list[tuple[int, str]]
    lines: int


def _by(key: Any) -> str:
    return f"api key {key.prefix}"


@router.get("/{campaign_id}/payouts")
def list_payouts(
    campaign_id: CampaignId,
    session: SessionDep,
    key: ReadKey,
    state: Annotated[State | None, Query()] = None,
) -> list[PayoutPublic]:
    """The campaign's rewards and where their payout stands (of one state)."""
    rows = payouts.list_payouts(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, state=state
    )
    return [PayoutPublic(**r.as_dict()) for r in rows]


@router.post("/{campaign_id}/payouts/approve")
def approve(
    campaign_id: CampaignId, body: ApproveBody, session: SessionDep, key: AdminKey
) -> ApprovePublic:
    """Approve granted rewards (never one in fraud review, void or clawed back);
    approving again changes nothing."""
    result = payouts.approve_rewards(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        by=_by(key),
        reward_ids=body.reward_ids,
        roles=body.roles,
    )
    return ApprovePublic(approved=list(result.approved), skipped=list(result.skipped))


@router.post(
    "/{campaign_id}/payouts/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}, 409: {"description": "Nothing approved."}},
)
def export(
    campaign_id: CampaignId,
    session: SessionDep,
    key: AdminKey,
    format: Annotated[Literal["generic", "paypal", "wise"], Query()] = "generic",
    batch: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> PlainTextResponse:
    """Put the approved rewards in a new batch and answer its payout file (CSV); with
    ``batch``, that batch's file again. ``X-Payout-Batch`` names the batch."""
    result = payouts.export_payouts(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        format=format,
        by=_by(key),
        batch_id=batch,
    )
    return PlainTextResponse(
        result.content,
        media_type="text/csv",
        headers={
            "X-Payout-Batch": str(result.batch_id),
            "Content-Disposition": f'attachment; filename="payouts-{result.batch_id}-'
            f'{result.format}.csv"',
        },
    )


@router.post(
    "/{campaign_id}/payouts/results",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def import_results(
    campaign_id: CampaignId, raw: RawBodyDep, session: SessionDep, key: AdminKey
) -> ImportPublic:
    """Mark rewards paid or failed from a payout result file (the body, CSV: PayPal's,
    Wise's or the generic columns). Importing it again changes nothing."""
    result = payouts.import_results(
        session,
        campaign_id=campaign_id,
        tenant_id=key.tenant_id,
        data=raw,
        name="the request body",
        by=_by(key),
    )
    return ImportPublic(**result.as_dict())


@router.post(
    "/{campaign_id}/payouts/credit",
    responses={
        502: {"description": "The shop refused (its message and field)."},
        503: {"description": "The shop did not answer; run it again (nothing is paid twice)."},
    },
)
def pay_credit(
    campaign_id: CampaignId, session: SessionDep, settings: SettingsDep, key: AdminKey
) -> dict[str, Any]:
    """Pay the approved rewards as store credit: a coupon per reward, made through the
    campaign's shop; answers ``reward id -> code``."""
    box = secret_box(settings)
    if box is None:
        raise HTTPException(503, "store credit needs GRAPEVINE_SECRETS_KEY: set it")
    try:
        result = payouts.pay_with_credit(
            session, campaign_id=campaign_id, tenant_id=key.tenant_id, box=box, by=_by(key)
        )
    except (ShopRejected, ShopUnavailable) as exc:
        raise HTTPException(502 if isinstance(exc, ShopRejected) else 503, str(exc)) from None
    return {"batch_id": result.batch_id, "paid": {str(k): v for k, v in result.paid.items()}}


@router.get("/{campaign_id}/payouts/audit")
def audit(
    campaign_id: CampaignId,
    session: SessionDep,
    key: ReadKey,
    reward: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[TransitionPublic]:
    """Every move of the campaign's payouts (of one reward): who, when, from, to, batch."""
    rows = payouts.payout_audit(
        session, campaign_id=campaign_id, tenant_id=key.tenant_id, reward_id=reward
    )
    return [TransitionPublic(**t.as_dict()) for t in rows]
