"""Request (``Create``) and response (``Public``) bodies of the referral API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grapevine import referrals as rf
from grapevine.service._domains import EventTime, JsonObject, Money, Text

__all__ = [
    "CampaignCreate",
    "CampaignPublic",
    "CampaignStats",
    "CampaignUpdate",
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
    "Leaderboard",
    "LeaderboardEntry",
    "ParticipantCreate",
    "ParticipantItem",
    "ParticipantList",
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


_THRESHOLDS = "Fraud threshold (default in grapevine.referrals.RiskRules)."
_PAGE = (
    "Share page and link settings (grapevine.referrals.PageSettings): language, "
    "display_name, color, logo_url, logo_allowlist, landing_url, utm, preview."
)


class _RiskFields(BaseModel):
    """The per-campaign fraud thresholds (checked by grapevine.referrals.check_campaign)."""

    review_threshold: Literal["low", "medium", "high"] | None = Field(
        default=None, description="The lowest risk held for review (default medium)."
    )
    ip_window_seconds: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description=_THRESHOLDS
    )
    velocity_limit: int | None = Field(default=None, ge=2, description=_THRESHOLDS)
    velocity_window_seconds: float | None = Field(
        default=None, gt=0, allow_inf_nan=False, description=_THRESHOLDS
    )
    event_time_range: list[EventTime] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="[earliest, latest) Unix seconds of the campaign's events.",
    )


class CampaignCreate(_RiskFields):
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
    conversion_event: Literal["signup", "purchase"] = Field(
        "signup", description="What counts as a conversion in the K-factor."
    )
    budget: Money | None = None
    currency: Text | None = Field(default=None, min_length=3, max_length=3)
    page: JsonObject | None = Field(default=None, description=_PAGE)


class CampaignUpdate(_RiskFields):
    """A partial edit: only the fields given change (null clears an optional one), and the
    result is checked exactly like a new campaign."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, min_length=1, max_length=255)
    goal: Text | None = Field(default=None, max_length=1000)
    offer: JsonObject | None = None
    destinations: list[Text] | None = Field(default=None, min_length=1, max_length=100)
    window_days: float | None = Field(default=None, gt=0, le=400, allow_inf_nan=False)
    attribution: Literal["last", "first"] | None = None
    conversion_event: Literal["signup", "purchase"] | None = None
    budget: Money | None = None
    currency: Text | None = Field(default=None, min_length=3, max_length=3)
    page: JsonObject | None = Field(default=None, description=_PAGE)


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
    status: Literal["active", "paused", "ended"] = Field(
        description="active; paused (links work, no enrolment, no rewards); ended (final)."
    )
    paused_at: float | None = None
    ended_at: float | None = None
    review_threshold: str
    ip_window_seconds: float
    velocity_limit: int
    velocity_window_seconds: float
    event_time_range: list[float] | None = None
    page: dict[str, Any] | None = Field(default=None, description=_PAGE)

    @classmethod
    def of(cls, view: rf.CampaignView) -> CampaignPublic:
        """The API's form of a campaign."""
        return cls.model_validate(view.record())


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


class ParticipantItem(BaseModel):
    """One participant of a listing."""

    participant_id: int
    person_id: int
    email: str
    code: str | None
    created_at: float
    disposable_email: bool


class ParticipantList(BaseModel):
    """One page of participants; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[ParticipantItem]
    total: int = Field(description="Participants matching the search, on every page.")
    next_cursor: str | None = Field(description="None on the last page.")

    @classmethod
    def of(cls, page: rf.ParticipantPage) -> ParticipantList:
        """The API's form of a page."""
        return cls(
            items=[ParticipantItem.model_validate(item.__dict__) for item in page.items],
            total=page.total,
            next_cursor=page.next_cursor,
        )


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

    def to_input(self) -> rf.EventInput:
        """The event as the workflow takes it."""
        return rf.EventInput(
            kind=self.kind,
            idempotency_key=self.idempotency_key,
            email=self.email,
            visitor_id=self.visitor_id,
            coupon_code=self.coupon_code,
            order_id=self.order_id,
            value=self.value,
            currency=self.currency,
            time=self.time,
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

    @classmethod
    def of(cls, reward: rf.EventReward) -> RewardPublic:
        """The API's form of a reward."""
        return cls.model_validate(reward.__dict__)


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
    reward_note: str | None = Field(
        default=None,
        description="Why the event earns no reward whatever the offer: the campaign was "
        "paused, or had ended, when it was recorded.",
    )

    @classmethod
    def of(cls, event: rf.RecordedEvent) -> EventPublic:
        """The API's form of a recorded event."""
        return cls(
            event_id=event.event_id,
            campaign_id=event.campaign_id,
            kind=event.kind,
            person_id=event.person_id,
            referrer_id=event.referrer_id,
            code=event.code,
            order_id=event.order_id,
            value=event.value,
            time=event.time,
            rewards=[RewardPublic.of(r) for r in event.rewards],
            reward_note=event.reward_note,
        )


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
    """K of one cohort: persons its adopters referred who converted, per adopter."""

    cohort: str
    adopters: int
    invitations: int
    signups: int = Field(description="Referred persons who signed up.")
    purchases: int = Field(0, description="Referred persons who bought (customers).")
    conversions: int = Field(
        0, description="Referred persons with the campaign's conversion event."
    )
    k: float | None


class Projection(BaseModel):
    """Customers the viral loop projects after ``cycles`` cycles (``t_s`` seconds)."""

    t_s: float
    cycles: float
    customers: float | None


class CampaignStats(BaseModel):
    """The campaign's figures, read from its rollups (grapevine.referrals.campaign_stats)."""

    campaign_id: int
    conversion_event: Literal["signup", "purchase"] = Field(
        "signup", description="What counts as a conversion in K (rules.conversion_event)."
    )
    clicks: ClickCounts
    visitors: int = Field(0, description="Distinct visitor ids of the human clicks (exact).")
    shares: int = 0
    signups: int
    referred_signups: int
    purchases: int
    referred_purchases: int = 0
    refunds: int
    revenue: float = Field(0.0, description="The value of the purchases.")
    refunded: float = Field(0.0, description="The value of the refunds.")
    k_factor: float | None
    invitation_kind: str = Field(
        "none", description="What counts as an invitation: share, click (no share) or none."
    )
    cycle_time_median_s: float | None
    cycle_time_days: float | None = None
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
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Why each figure without a value (null, or an empty list) has none, "
        "by field name.",
    )


class LeaderboardEntry(BaseModel):
    """One referrer of a campaign's leaderboard."""

    rank: int
    person_id: int
    email: str | None
    clicks: int
    shares: int
    signups: int
    purchases: int
    customers: int
    revenue: float
    rewards: float
    generation: int | None


class Leaderboard(BaseModel):
    campaign_id: int
    by: str
    entries: list[LeaderboardEntry]


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

    @classmethod
    def of(cls, decision: rf.ReviewDecision) -> ReviewPublic:
        """The API's form of a review decision."""
        return cls(
            event_key=decision.event_key,
            outcome=decision.outcome,
            reviewer=decision.reviewer,
            note=decision.note,
            reviewed_at=decision.reviewed_at,
            risk=decision.risk,
            reasons=list(decision.reasons),
            replayed=not decision.changed,
            rewards=[RewardPublic.of(r) for r in decision.rewards],
        )


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
