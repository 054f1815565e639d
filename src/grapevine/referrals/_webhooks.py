"""Webhook signatures: HMAC-SHA256 over a timestamped payload, and Stripe's scheme.

The helpers live in :mod:`grapevine._signatures` (below the referral and outbound layers, so
that the webhooks Grapevine sends are signed with the scheme it verifies); re-exported here.
"""

from __future__ import annotations

from grapevine._signatures import (
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
    "SIGNATURE_HEADER",
    "STRIPE_TOLERANCE_SECONDS",
    "InvalidSignature",
    "ReplayCache",
    "sign_webhook",
    "stripe_signature_header",
    "verify_stripe_signature",
    "verify_webhook",
]
