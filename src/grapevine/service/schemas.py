"""Request (``Create``) and response (``Public``) bodies of the referral API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grapevine.service._domains import EventTime, JsonObject, Money, Text

__all__ = [
    "CampaignCreate",
    "CampaignPublic",
    "CampaignStats",
    "ChannelFunnel",
    "ClickCounts",
    "CohortK",
    "ErasurePublic",
    "EventBody",
    "EventCreate",
    "EventPublic",
    "KeyCreate",
    "KeyCreated",
    "KeyPublic",
    "ParticipantCreate",
    "ParticipantPublic",
    "Projection",
    "ReviewCreate",
    "ReviewItem",
    "ReviewPublic",
    "RewardPublic",
    "RewardTotal",
    "WebhookSecretCreated",
    "WebhookSecretPublic",
    "WebhookSecretRotate",
]


class CampaignCreate(BaseModel):
    """A new campaign: its offer (``grapevine.referrals.Offer`` as JSON) and where links go."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=255)
    goal: Text | None = Field(default=None, max_length=1000)
    offer: JsonObject | None = Field(
        default=None, description="Offer.from_dict JSON: referrer, friend, tiers, budget..."
    )
    destinations: list[Text] = Field(
        min_length=1,
        max_length=100,
        description="Allowlisted absolute http(s) URLs; the first is the default.",
    )
    window_days: float | None = Field(
        default=None,
        gt=0,
        le=400,
        allow_inf_nan=False,
        description="Attribution window (default: the setting).",
    )
    attribution: Literal["last", "first"] = "last"
    budget: Money | None = None
    currency: Text | None = Field(default=None, min_length=3, max_length=3)


class CampaignPublic(BaseModel):
    id: int
    name: str
    goal: str | None
    offer: dict[str, Any] | None
    destinations: list[str]
    window_days: float
    attribution: str
    budget: float | None
    currency: str | None


class ParticipantCreate(BaseModel):
    """Someone joining a campaign as a referrer; device and payout ids are stored hashed."""

    model_config = ConfigDict(extra="forbid")

    email: Text = Field(min_length=3, max_length=320)
    device_id: Text | None = Field(default=None, max_length=512)
    payout_account: Text | None = Field(default=None, max_length=512)


class ParticipantPublic(BaseModel):
    person_id: int
    email: str
    code: str
    link: str
    created: bool
    disposable_email: bool


class EventBody(BaseModel):
    """A conversion event, from the merchant's backend or a signed webhook.

    Every text refuses NUL and unpaired surrogates; ``value`` is an amount of 0 to 10^12;
    ``time`` is Unix seconds inside the campaign's time range (by default 2000-01-01 to
    2100-01-01, UTC; never outside 1900-2099). A value outside is a 422 naming the field.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["signup", "purchase", "refund"]
    idempotency_key: Text = Field(min_length=1, max_length=200)
    email: Text | None = Field(default=None, max_length=320)
    visitor_id: Text | None = Field(
        default=None, max_length=64, description="The attribution cookie (gv_vid) of the visitor."
    )
    coupon_code: Text | None = Field(default=None, max_length=64)
    order_id: Text | None = Field(default=None, max_length=255)
    value: Money | None = None
    currency: Text | None = Field(default=None, min_length=3, max_length=3)
    time: EventTime | None = Field(
        default=None,
        description="Unix seconds, UTC (default: now); years 2000-2099 unless "
        "the campaign's rules.event_time_range says otherwise.",
    )


class EventCreate(EventBody):
    campaign_id: int


class RewardPublic(BaseModel):
    key: str
    person_id: int | None
    role: str
    amount: float
    status: str
    available_at: float


class EventPublic(BaseModel):
    event_id: int
    campaign_id: int
    kind: str
    person_id: int | None
    referrer_id: int | None
    code: str | None
    order_id: str | None
    value: float | None
    time: float
    rewards: list[RewardPublic]


class ClickCounts(BaseModel):
    human: int
    bot: int
    preview: int


class RewardTotal(BaseModel):
    count: int
    amount: float


class ChannelFunnel(BaseModel):
    """Shares, referred human clicks, signups and purchases of one share channel."""

    shares: int = 0
    clicks: int
    signups: int
    purchases: int


class CohortK(BaseModel):
    """K of one cohort: signups referred by its adopters per adopter."""

    cohort: str
    adopters: int
    invitations: int
    signups: int
    k: float | None


class Projection(BaseModel):
    """Customers the viral loop projects after ``cycles`` cycles (``t_s`` seconds)."""

    t_s: float
    cycles: float
    customers: float | None


class CampaignStats(BaseModel):
    campaign_id: int
    clicks: ClickCounts
    signups: int
    referred_signups: int
    purchases: int
    refunds: int
    k_factor: float | None
    cycle_time_median_s: float | None
    participants: int
    channels: dict[str, ChannelFunnel] = Field(
        default_factory=dict,
        description="The funnel per share channel (the ch= of the link; direct: none; "
        "coupon: credited through a coupon code).",
    )
    k_by_generation: list[CohortK] = Field(
        default_factory=list,
        description="K per generation of the referral tree (0: adopters referred by nobody).",
    )
    k_by_week: list[CohortK] = Field(
        default_factory=list, description="K per weekly signup cohort (Monday-Sunday, UTC)."
    )
    tree_depth: int = Field(0, description="Generations of the deepest referral chain.")
    projected_customers: list[Projection] = Field(
        default_factory=list,
        description="Customers after 0-4 viral cycles if K and the cycle time hold "
        "(grapevine.cascades.projected_growth); empty without both.",
    )
    rewards: dict[str, RewardTotal] = Field(
        description="Count and amount of the campaign's rewards by status (pending, granted, "
        "held, void, clawed_back...)."
    )
    excluded_events: dict[str, int] = Field(
        default_factory=dict,
        description="Stored events left out of every figure, counted by reason (a time "
        "outside 1900-2099, stored before the API checked times).",
    )


class KeyCreate(BaseModel):
    """A new API key of the caller's tenant."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "read", "ingest"]
    name: Text | None = Field(default=None, max_length=255)


class KeyPublic(BaseModel):
    prefix: str
    role: str
    name: str | None
    tenant: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The whole key, gv_<prefix>_<secret>: shown this once only.")


class ErasurePublic(BaseModel):
    erased: bool
    counts: dict[str, int] = Field(description="Rows changed per table, and person_deleted.")


class ReviewItem(BaseModel):
    """A signup or purchase whose rewards wait for a reviewer (e-mails masked)."""

    event_key: str
    kind: str
    time: float
    order_id: str | None
    value: float | None
    referrer_id: int | None
    referrer: str | None = Field(description="The referrer's e-mail, masked: a***@x.org.")
    friend_id: int | None
    friend: str | None = Field(description="The friend's e-mail, masked.")
    amount: float = Field(description="The rewards held for this event.")
    risk: str = Field(description="none, low, medium or high.")
    reasons: list[str]
    decided_at: float


class ReviewCreate(BaseModel):
    """A reviewer's decision about a held event."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approve", "reject"]
    note: Text | None = Field(default=None, max_length=1000)


class ReviewPublic(BaseModel):
    event_key: str
    outcome: str
    reviewer: str
    note: str | None
    reviewed_at: float
    risk: str
    reasons: list[str]
    replayed: bool = Field(description="True when the same outcome had been given before.")
    rewards: list[RewardPublic]


class WebhookSecretRotate(BaseModel):
    """A rotation of the caller's tenant's webhook secret of one kind."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["grapevine", "stripe"]
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=255,
        description="The new secret: required for stripe (the endpoint's whsec_...); for "
        "grapevine a random one is drawn when omitted.",
    )
    overlap: str | float = Field(
        default="24h",
        description="How long the secrets replaced keep verifying: seconds, or 90s, 30m, "
        "24h, 2d (at most 30d); 0 stops them at once.",
    )


class WebhookSecretPublic(BaseModel):
    """A webhook secret as listings show it: its last four characters, never the secret."""

    id: int
    kind: str
    hint: str
    created_at: float
    expires_at: float | None
    active: bool
    created_by: str | None


class WebhookSecretCreated(WebhookSecretPublic):
    secret: str = Field(description="The new secret: shown this once only.")
    previous_expire_at: float = Field(
        description="When the secrets replaced stop verifying (the end of the overlap)."
    )
