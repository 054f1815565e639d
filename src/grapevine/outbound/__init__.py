"""Outbound messages: e-mail to participants, signed webhooks and alert delivery.

One transactional outbox for referrals and listening (docs/messages.md). A workflow calls
:func:`emit` inside its own transaction, so a message exists if and only if its change
committed; :func:`deliver_due` (the service's background task, ``grapevine outbound
deliver``) delivers the due messages: participant e-mails over SMTP in the participant's
language (en, nl, de, sv) with a one-click unsubscribe (RFC 8058), webhooks signed like the
ones Grapevine verifies (``X-Grapevine-Signature``), alerts to Slack, Microsoft Teams,
Mattermost and e-mail; failures are retried with exponential backoff and jitter, and every
attempt is logged (:func:`list_messages`, :func:`redeliver`).
"""

from grapevine.outbound._channels import (
    mattermost_payload,
    slack_payload,
    teams_payload,
)
from grapevine.outbound._dispatch import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DeliveryReport,
    OutboundConfig,
    backoff,
    deliver_due,
)
from grapevine.outbound._endpoints import (
    EndpointView,
    NewEndpoint,
    add_endpoint,
    list_endpoints,
    remove_endpoint,
)
from grapevine.outbound._events import (
    ALERT_CHANNELS,
    DEFAULT_WEBHOOK_EVENTS,
    EVENTS,
    LANGUAGES,
    PARTICIPANT_TEMPLATES,
)
from grapevine.outbound._log import (
    AttemptView,
    MessageDetail,
    MessageView,
    list_messages,
    message_detail,
    redeliver,
)
from grapevine.outbound._mail import SmtpServer, parse_smtp_url
from grapevine.outbound._outbox import MAX_ATTEMPTS, emit
from grapevine.outbound._render import RenderedMail, choose_language, render_mail
from grapevine.outbound._unsubscribe import (
    UnsubscribeState,
    read_unsubscribe_token,
    unsubscribe,
    unsubscribe_state,
    unsubscribe_token,
)

__all__ = [
    "ALERT_CHANNELS",
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_WEBHOOK_EVENTS",
    "EVENTS",
    "LANGUAGES",
    "MAX_ATTEMPTS",
    "PARTICIPANT_TEMPLATES",
    "AttemptView",
    "DeliveryReport",
    "EndpointView",
    "MessageDetail",
    "MessageView",
    "NewEndpoint",
    "OutboundConfig",
    "RenderedMail",
    "SmtpServer",
    "UnsubscribeState",
    "add_endpoint",
    "backoff",
    "choose_language",
    "deliver_due",
    "emit",
    "list_endpoints",
    "list_messages",
    "mattermost_payload",
    "message_detail",
    "parse_smtp_url",
    "read_unsubscribe_token",
    "redeliver",
    "remove_endpoint",
    "render_mail",
    "slack_payload",
    "teams_payload",
    "unsubscribe",
    "unsubscribe_state",
    "unsubscribe_token",
]
