"""Referral campaigns: links, codes, attribution, rewards, fraud checks.

Pure domain logic over plain values (no HTTP, no database): the service and the store call
it. See docs/referrals.md.

- Codes and links: :func:`new_code`, :func:`normalize_code`, :func:`format_code`,
  :func:`referral_path` (``/r/{code}``).
- Safe redirects: :func:`resolve_destination`, :func:`add_params`.
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

from grapevine.cascades import k_factor, projected_growth, viral_cycle_time
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
from grapevine.referrals._redirects import add_params, resolve_destination
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
    channel_link,
    embed_signature,
    page_token,
    read_page_token,
    share_links,
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

__all__ = [
    "CHANNELS",
    "CODE_ALPHABET",
    "DEFAULT_WINDOW_SECONDS",
    "EMBED_TOLERANCE_SECONDS",
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
    "Offer",
    "ReplayCache",
    "Reward",
    "RewardLedger",
    "Ring",
    "RiskDecision",
    "Tier",
    "TrafficClass",
    "add_params",
    "attribute",
    "channel_link",
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
    "new_code",
    "normalize_code",
    "normalize_email",
    "page_token",
    "projected_growth",
    "read_page_token",
    "referral_path",
    "resolve_destination",
    "review_queue",
    "self_referral",
    "share_links",
    "sign_webhook",
    "stripe_signature_header",
    "truncate_ip",
    "velocity_bursts",
    "verify_embed_signature",
    "verify_stripe_signature",
    "verify_webhook",
    "viral_cycle_time",
]
