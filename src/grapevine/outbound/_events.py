"""The events Grapevine sends out, and what each becomes.

Every event may go to a tenant's signed webhooks; the participant events also become an
e-mail to the participant (:data:`PARTICIPANT_TEMPLATES`), ``alert.raised`` also goes to the
tenant's alert channels (Slack, Microsoft Teams, Mattermost, e-mail).
"""

from __future__ import annotations

__all__ = [
    "ALERT_CHANNELS",
    "DEFAULT_WEBHOOK_EVENTS",
    "EVENTS",
    "LANGUAGES",
    "PARTICIPANT_TEMPLATES",
]

EVENTS = (
    "participant.enrolled",
    "friend.joined",
    "referral.converted",
    "reward.earned",
    "reward.paid",
    "alert.raised",
)
"""Every event :func:`~grapevine.outbound.emit` accepts."""

DEFAULT_WEBHOOK_EVENTS = ("reward.earned", "reward.paid", "referral.converted", "alert.raised")
"""What a webhook endpoint receives when it names no events."""

PARTICIPANT_TEMPLATES = {
    "participant.enrolled": "welcome",
    "friend.joined": "friend_joined",
    "reward.earned": "reward_earned",
    "reward.paid": "reward_paid",
}
"""Events that e-mail the participant they name, and the template of that e-mail."""

ALERT_CHANNELS = ("slack", "teams", "mattermost", "email")
"""Endpoint kinds that carry alerts (``alert.raised`` only)."""

LANGUAGES = ("en", "nl", "de", "sv")
"""Languages of the participant and alert e-mails; anything else falls back to English."""
