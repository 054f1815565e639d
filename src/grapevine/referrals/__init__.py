"""Referral campaigns: links, codes, attribution, rewards, fraud checks.

The domain core is pure logic over plain values (no HTTP, no database). The workflows over
a database session (campaigns and their lifecycle, enrolment, conversions, the review queue,
erasure) load SQLAlchemy and the store on first use; the service, the CLI and the dashboard
are thin adapters around them. See docs/referrals.md.

- Campaigns: :func:`create_campaign`, :func:`update_campaign` (checked by
  :func:`check_campaign`), :func:`pause_campaign`, :func:`resume_campaign`,
  :func:`end_campaign`, :func:`get_campaign`, :func:`list_campaigns`,
  :func:`list_participants`, :func:`campaign_audit`.
- Enrolment and conversions: :func:`enrol`, :func:`record_event`,
  :func:`record_stripe_checkout`, :func:`record_stripe_refund`.
- Review and erasure: :func:`review_entries`, :func:`decide`, :func:`erase`.
- Coupons at checkout and payouts: :func:`issue_coupon`, :func:`import_pool`,
  :func:`approve_rewards`, :func:`export_payouts`, :func:`import_results`,
  :func:`pay_with_credit` (docs/coupons-and-payouts.md).
- Figures, from the rollups: :func:`campaign_stats`, :func:`leaderboard`,
  :func:`participant_stats`, :func:`rebuild_rollups`.

- Codes and links: :func:`new_code`, :func:`normalize_code`, :func:`format_code`,
  :func:`referral_path` (``/r/{code}``).
- Safe redirects: :func:`resolve_destination`, :func:`add_params`; UTM tags
  (:func:`add_utm`) and landing pages for links that cannot refer (:func:`miss_destination`,
  :func:`link_misses`, :func:`set_landing_page`).
- The share page: :class:`PageSettings` (language, branding, UTM, previews, landing page),
  :func:`share_page`, :func:`offer_text`, :func:`share_texts`; languages
  (:func:`choose_language`, :func:`negotiate_language`, :func:`messages`).
- Attribution: :func:`attribute` (last or first click in a window, or a coupon code).
- Offers and rewards: :class:`Offer`, :class:`Incentive`, :class:`Tier`,
  :class:`RewardLedger` and its twin :func:`compute_rewards`.
- Webhooks: :func:`sign_webhook` / :func:`verify_webhook`, and Stripe's
  :func:`verify_stripe_signature`; the thank-you page snippet's :func:`embed_signature` /
  :func:`verify_embed_signature`.
- Fraud and bots: :func:`normalize_email`, :func:`is_disposable_email`,
  :func:`self_referral`, :func:`velocity_bursts`, :func:`find_rings`, :func:`review_queue`,
  :func:`classify_request`, :func:`classify_user_agent`.
- Request facts: :func:`truncate_ip`, :func:`hash_ip`.
- Programme growth (from :mod:`grapevine.cascades`): :func:`k_factor`,
  :func:`viral_cycle_time`, :func:`projected_growth`.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from grapevine.referrals._attribution import DEFAULT_WINDOW_SECONDS, Attribution, Click, attribute
from grapevine.referrals._codes import (
    CODE_ALPHABET,
    code_space_bits,
    format_code,
    new_code,
    normalize_code,
    referral_path,
)
from grapevine.referrals._email import (
    PLUS_TAG_DOMAINS,
    disposable_domains,
    is_disposable_email,
    normalize_email,
)
from grapevine.referrals._fraud import (
    RISK_LEVELS,
    Burst,
    Identity,
    Ring,
    RiskDecision,
    combine,
    find_rings,
    review_queue,
    self_referral,
    velocity_bursts,
)
from grapevine.referrals._i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Messages,
    choose_language,
    messages,
    negotiate_language,
    parse_accept_language,
)
from grapevine.referrals._page import PageSettings, Preview, Utm, campaign_slug
from grapevine.referrals._redirects import (
    MISS_REASONS,
    add_params,
    add_utm,
    miss_destination,
    plain_url,
    resolve_destination,
    same_origin,
)
from grapevine.referrals._rewards import (
    Incentive,
    LedgerEvent,
    Offer,
    Reward,
    RewardLedger,
    Tier,
    compute_rewards,
)
from grapevine.referrals._share import (
    CHANNELS,
    EMBED_TOLERANCE_SECONDS,
    ShareTexts,
    channel_link,
    embed_signature,
    offer_text,
    page_token,
    read_page_token,
    share_links,
    share_texts,
    verify_embed_signature,
)
from grapevine.referrals._traffic import (
    TrafficClass,
    classify_request,
    classify_user_agent,
    hash_ip,
    truncate_ip,
)
from grapevine.referrals._webhooks import (
    SIGNATURE_HEADER,
    STRIPE_TOLERANCE_SECONDS,
    InvalidSignature,
    ReplayCache,
    sign_webhook,
    stripe_signature_header,
    verify_stripe_signature,
    verify_webhook,
)

if _TYPE_CHECKING:
    from grapevine.cascades import k_factor, projected_growth, viral_cycle_time
    from grapevine.referrals._campaign_spec import (
        CAMPAIGN_FIELDS,
        RISK_FIELDS,
        RiskRules,
        check_campaign,
    )
    from grapevine.referrals._campaigns import (
        MAX_PAGE,
        AuditEntry,
        CampaignView,
        ParticipantPage,
        ParticipantRow,
        campaign_audit,
        create_campaign,
        end_campaign,
        get_campaign,
        list_campaigns,
        list_participants,
        pause_campaign,
        resume_campaign,
        update_campaign,
    )
    from grapevine.referrals._conversions import (
        ConversionSeries,
        conversion_bounds,
        conversions_over_time,
    )
    from grapevine.referrals._earned import EventReward
    from grapevine.referrals._enrolment import Enrolment, enrol, keyed_hash
    from grapevine.referrals._erasure import Erasure, erase, ref_hash
    from grapevine.referrals._events import (
        REFUND_EVENTS,
        STRIPE_CAMPAIGN_KEY,
        EventInput,
        RecordedEvent,
        StripeOutcome,
        record_event,
        record_stripe_checkout,
        record_stripe_refund,
    )
    from grapevine.referrals._landing import (
        LinkMisses,
        landing_page,
        link_misses,
        set_landing_page,
    )
    from grapevine.referrals._lookup import event_times
    from grapevine.referrals._risk import (
        ReviewDecision,
        ReviewEntry,
        decide,
        mask_email,
        review_entries,
        risk_rules,
        ua_class,
    )
    from grapevine.referrals._share_page import SharePage, share_page
    from grapevine.referrals._stats import (
        CONVERSION_EVENTS,
        LEADERBOARD_METRICS,
        CampaignStats,
        CohortK,
        LeaderboardEntry,
        ParticipantStats,
        campaign_stats,
        conversion_event,
        leaderboard,
        participant_stats,
        rebuild_rollups,
    )

__all__ = [
    "CHANNELS",
    "CODE_ALPHABET",
    "DEFAULT_LANGUAGE",
    "DEFAULT_WINDOW_SECONDS",
    "EMBED_TOLERANCE_SECONDS",
    "LANGUAGES",
    "MISS_REASONS",
    "PLUS_TAG_DOMAINS",
    "RISK_LEVELS",
    "SIGNATURE_HEADER",
    "STRIPE_TOLERANCE_SECONDS",
    "Attribution",
    "Burst",
    "Click",
    "Identity",
    "Incentive",
    "InvalidSignature",
    "LedgerEvent",
    "LinkMisses",
    "Messages",
    "Offer",
    "PageSettings",
    "Preview",
    "ReplayCache",
    "Reward",
    "RewardLedger",
    "Ring",
    "RiskDecision",
    "SharePage",
    "ShareTexts",
    "Tier",
    "TrafficClass",
    "Utm",
    "add_params",
    "add_utm",
    "attribute",
    "campaign_slug",
    "channel_link",
    "choose_language",
    "classify_request",
    "classify_user_agent",
    "code_space_bits",
    "combine",
    "compute_rewards",
    "disposable_domains",
    "embed_signature",
    "find_rings",
    "format_code",
    "hash_ip",
    "is_disposable_email",
    "k_factor",
    "landing_page",
    "link_misses",
    "messages",
    "miss_destination",
    "negotiate_language",
    "new_code",
    "normalize_code",
    "normalize_email",
    "offer_text",
    "page_token",
    "parse_accept_language",
    "plain_url",
    "projected_growth",
    "read_page_token",
    "referral_path",
    "resolve_destination",
    "review_queue",
    "same_origin",
    "self_referral",
    "set_landing_page",
    "share_links",
    "share_page",
    "share_texts",
    "sign_webhook",
    "stripe_signature_header",
    "truncate_ip",
    "velocity_bursts",
    "verify_embed_signature",
    "verify_stripe_signature",
    "verify_webhook",
    "viral_cycle_time",
]

# The workflows work on a database session: they load on first use (SQLAlchemy, the store),
# so that importing the domain core stays free of both.
_WORKFLOWS = {
    # The growth functions of grapevine.cascades load numpy and pandas: on first use too.
    **dict.fromkeys(("k_factor", "projected_growth", "viral_cycle_time"), "grapevine.cascades"),
    **dict.fromkeys(
        ("CAMPAIGN_FIELDS", "RISK_FIELDS", "RiskRules", "check_campaign"),
        "grapevine.referrals._campaign_spec",
    ),
    **dict.fromkeys(
        (
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
        ),
        "grapevine.referrals._campaigns",
    ),
    **dict.fromkeys(
        ("ConversionSeries", "conversion_bounds", "conversions_over_time"),
        "grapevine.referrals._conversions",
    ),
    "EventReward": "grapevine.referrals._earned",
    **dict.fromkeys(("Enrolment", "enrol", "keyed_hash"), "grapevine.referrals._enrolment"),
    **dict.fromkeys(("Erasure", "erase", "ref_hash"), "grapevine.referrals._erasure"),
    **dict.fromkeys(
        (
            "REFUND_EVENTS",
            "STRIPE_CAMPAIGN_KEY",
            "EventInput",
            "RecordedEvent",
            "StripeOutcome",
            "record_event",
            "record_stripe_checkout",
            "record_stripe_refund",
        ),
        "grapevine.referrals._events",
    ),
    "event_times": "grapevine.referrals._lookup",
    **dict.fromkeys(
        (
            "ReviewDecision",
            "ReviewEntry",
            "decide",
            "mask_email",
            "review_entries",
            "risk_rules",
            "ua_class",
        ),
        "grapevine.referrals._risk",
    ),
    **dict.fromkeys(
        (
            "CONVERSION_EVENTS",
            "LEADERBOARD_METRICS",
            "CampaignStats",
            "CohortK",
            "LeaderboardEntry",
            "ParticipantStats",
            "campaign_stats",
            "conversion_event",
            "leaderboard",
            "participant_stats",
            "rebuild_rollups",
        ),
        "grapevine.referrals._stats",
    ),
}
__all__ += [
    "CAMPAIGN_FIELDS",
    "MAX_PAGE",
    "REFUND_EVENTS",
    "RISK_FIELDS",
    "STRIPE_CAMPAIGN_KEY",
    "AuditEntry",
    "CampaignView",
    "ConversionSeries",
    "Enrolment",
    "Erasure",
    "EventInput",
    "EventReward",
    "ParticipantPage",
    "ParticipantRow",
    "RecordedEvent",
    "ReviewDecision",
    "ReviewEntry",
    "RiskRules",
    "StripeOutcome",
    "campaign_audit",
    "check_campaign",
    "conversion_bounds",
    "conversions_over_time",
    "create_campaign",
    "decide",
    "end_campaign",
    "enrol",
    "erase",
    "event_times",
    "get_campaign",
    "keyed_hash",
    "list_campaigns",
    "list_participants",
    "mask_email",
    "pause_campaign",
    "record_event",
    "record_stripe_checkout",
    "record_stripe_refund",
    "ref_hash",
    "resume_campaign",
    "review_entries",
    "risk_rules",
    "ua_class",
    "update_campaign",
]
__all__ += [  # the figures (grapevine.referrals._stats)
    "CONVERSION_EVENTS",
    "LEADERBOARD_METRICS",
    "CampaignStats",
    "CohortK",
    "LeaderboardEntry",
    "ParticipantStats",
    "campaign_stats",
    "conversion_event",
    "leaderboard",
    "participant_stats",
    "rebuild_rollups",
]


if _TYPE_CHECKING:  # coupons at checkout and payouts (docs/coupons-and-payouts.md)
    from grapevine.referrals._coupons import (
        COUPON_RULE,
        CouponConfig,
        IssuedCoupon,
        PoolImport,
        ShopInfo,
        configure_coupons,
        connect_shop,
        coupon_referral,
        import_pool,
        issue_coupon,
        issue_credit,
        list_coupons,
        redeem_coupon,
        shop_provider,
    )
    from grapevine.referrals._payouts import (
        EXPORT_FORMATS,
        ApproveResult,
        CreditResult,
        ExportResult,
        ImportResult,
        PayoutRow,
        TransitionRow,
        approve_rewards,
        export_payouts,
        import_results,
        list_payouts,
        pay_with_credit,
        payout_audit,
        payout_reference,
    )
    from grapevine.referrals._shop_orders import (
        ShopifyOutcome,
        record_shopify_order,
        shopify_hmac,
        verify_shopify_hmac,
    )
    from grapevine.referrals._shops import (
        CouponProvider,
        Discount,
        IssuedCode,
        Retry,
        ShopifyDiscounts,
        StripeCoupons,
    )
_WORKFLOWS.update(
    {
        **dict.fromkeys(
            (
                "COUPON_RULE",
                "CouponConfig",
                "IssuedCoupon",
                "PoolImport",
                "ShopInfo",
                "configure_coupons",
                "connect_shop",
                "coupon_referral",
                "import_pool",
                "issue_coupon",
                "issue_credit",
                "list_coupons",
                "redeem_coupon",
                "shop_provider",
            ),
            "grapevine.referrals._coupons",
        ),
        **dict.fromkeys(
            (
                "EXPORT_FORMATS",
                "ApproveResult",
                "CreditResult",
                "ExportResult",
                "ImportResult",
                "PayoutRow",
                "TransitionRow",
                "approve_rewards",
                "export_payouts",
                "import_results",
                "list_payouts",
                "pay_with_credit",
                "payout_audit",
                "payout_reference",
            ),
            "grapevine.referrals._payouts",
        ),
        **dict.fromkeys(
            (
                "ShopifyOutcome",
                "record_shopify_order",
                "shopify_hmac",
                "verify_shopify_hmac",
            ),
            "grapevine.referrals._shop_orders",
        ),
        **dict.fromkeys(
            (
                "CouponProvider",
                "Discount",
                "IssuedCode",
                "Retry",
                "ShopifyDiscounts",
                "StripeCoupons",
            ),
            "grapevine.referrals._shops",
        ),
    }
)
__all__ += [  # coupons at checkout and payouts
    "COUPON_RULE",
    "EXPORT_FORMATS",
    "ApproveResult",
    "CouponConfig",
    "CouponProvider",
    "CreditResult",
    "Discount",
    "ExportResult",
    "ImportResult",
    "IssuedCode",
    "IssuedCoupon",
    "PayoutRow",
    "PoolImport",
    "Retry",
    "ShopInfo",
    "ShopifyDiscounts",
    "ShopifyOutcome",
    "StripeCoupons",
    "TransitionRow",
    "approve_rewards",
    "configure_coupons",
    "connect_shop",
    "coupon_referral",
    "export_payouts",
    "import_pool",
    "import_results",
    "issue_coupon",
    "issue_credit",
    "list_coupons",
    "list_payouts",
    "pay_with_credit",
    "payout_audit",
    "payout_reference",
    "record_shopify_order",
    "redeem_coupon",
    "shop_provider",
    "shopify_hmac",
    "verify_shopify_hmac",
]

# The share page and the landing pages read the store: loaded on first use as well.
_WORKFLOWS.update(
    {
        **dict.fromkeys(
            ("LinkMisses", "landing_page", "link_misses", "set_landing_page"),
            "grapevine.referrals._landing",
        ),
        **dict.fromkeys(("SharePage", "share_page"), "grapevine.referrals._share_page"),
    }
)


def __getattr__(name: str) -> object:
    if name in _WORKFLOWS:
        import importlib

        value = getattr(importlib.import_module(_WORKFLOWS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grapevine.referrals' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WORKFLOWS))
