"""A tenant's endpoints: signed webhooks and the alert channels (Slack, Teams, Mattermost, e-mail).

A webhook's signing secret and a chat webhook's URL (which is its own credential) are sealed
under ``GRAPEVINE_SECRETS_KEY`` like the tenants' inbound webhook secrets
(``store/_secretbox.py``); listings show the target without its secret part.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from grapevine.errors import InvalidParameter, NotFound
from grapevine.outbound._events import ALERT_CHANNELS, DEFAULT_WEBHOOK_EVENTS, EVENTS, LANGUAGES
from grapevine.store import outbound_repo as repo
from grapevine.store._secretbox import SecretBox
from grapevine.store.outbound_models import ENDPOINT_KINDS, OutboundEndpoint

__all__ = [
    "EndpointView",
    "NewEndpoint",
    "add_endpoint",
    "endpoint_credential",
    "list_endpoints",
    "remove_endpoint",
    "secret_box",
]

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as listings show it (never its secret)."""

    id: int
    kind: str
    target: str
    events: tuple[str, ...]
    language: str | None
    description: str | None
    hint: str | None
    created_at: float
    removed_at: float | None


@dataclass(frozen=True)
class NewEndpoint:
    """A new endpoint, and (for a webhook) its signing secret, shown this once."""

    endpoint: EndpointView
    secret: str | None


def view(row: OutboundEndpoint) -> EndpointView:
    """The :class:`EndpointView` of a row."""
    return EndpointView(
        id=row.id,
        kind=row.kind,
        target=row.target,
        events=tuple(row.events or ()),
        language=row.language,
        description=row.description,
        hint=row.hint,
        created_at=row.created_at,
        removed_at=row.disabled_at,
    )


def secret_box(secrets_key: str | None) -> SecretBox:
    """The :class:`SecretBox` of ``GRAPEVINE_SECRETS_KEY``; a clear error when it is unset."""
    if not secrets_key:
        raise InvalidParameter(
            "GRAPEVINE_SECRETS_KEY",
            "the outbound endpoints",
            "set (32+ random characters): webhook secrets and chat webhook URLs are sealed "
            "under it",
            None,
        )
    return SecretBox(secrets_key)


def _context(tenant_id: int, kind: str) -> str:
    return f"tenant {tenant_id} outbound {kind}"


def endpoint_credential(row: OutboundEndpoint, box: SecretBox) -> str:
    """The sealed part of an endpoint: a webhook's secret, a chat webhook's URL."""
    if row.sealed is None:
        raise InvalidParameter("endpoint", "endpoint_credential", "a sealed endpoint", row.id)
    return box.open(row.sealed, context=_context(row.tenant_id, row.kind))


def _check_url(url: str, kind: str, allow_private: bool) -> str:
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    schemes = ("https",) if kind != "webhook" and not allow_private else ("http", "https")
    if parts.scheme not in schemes or not host or parts.username or parts.password:
        raise InvalidParameter(
            "url", f"a {kind} endpoint", f"an absolute {' or '.join(schemes)} URL", url
        )
    if not allow_private:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
        try:
            addr = ipaddress.ip_address(host)
            private = private or not addr.is_global
        except ValueError:
            pass
        if private:
            raise InvalidParameter(
                "url",
                f"a {kind} endpoint",
                "a public address (a private, loopback or link-local one needs allow_private)",
                url,
            )
    return url.strip()


def _events(kind: str, events: Sequence[str] | None) -> list[str]:
    if kind in ALERT_CHANNELS:
        if events and list(events) != ["alert.raised"]:
            raise InvalidParameter(
                "events", f"a {kind} endpoint", "['alert.raised'] (alert channels)", events
            )
        return ["alert.raised"]
    chosen = list(DEFAULT_WEBHOOK_EVENTS) if not events else list(dict.fromkeys(events))
    bad = [e for e in chosen if e not in EVENTS]
    if bad:
        raise InvalidParameter("events", "a webhook endpoint", f"among {', '.join(EVENTS)}", bad)
    return chosen


def _language(value: str) -> str:
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    if primary not in LANGUAGES:
        raise InvalidParameter("language", "an endpoint", f"one of {', '.join(LANGUAGES)}", value)
    return primary


def add_endpoint(
    session: Session,
    *,
    tenant_id: int,
    kind: str,
    target: str,
    secrets_key: str | None,
    events: Sequence[str] | None = None,
    language: str | None = None,
    description: str | None = None,
    secret: str | None = None,
    allow_private: bool = False,
    now: float | None = None,
) -> NewEndpoint:
    """Register an endpoint of the tenant.

    Parameters
    ----------
    kind : str
        ``webhook`` (signed POSTs of the events), ``slack``, ``teams``, ``mattermost`` (an
        incoming webhook URL) or ``email`` (an address); the last four carry alerts only.
    target : str
        The URL, or the e-mail address for ``email``.
    secrets_key : str or None
        ``GRAPEVINE_SECRETS_KEY`` (required except for ``email``).
    events : sequence of str, optional
        What a webhook receives (default :data:`DEFAULT_WEBHOOK_EVENTS`).
    language : str, optional
        Language of an ``email`` alert channel's e-mails: ``en``, ``nl``, ``de`` or ``sv``
        (a region subtag such as ``nl-BE`` is accepted and dropped; default English).
    secret : str, optional
        A webhook's signing secret (default a new random ``whsec_...``, returned once).
    allow_private : bool
        Accept a private, loopback or link-local address (and http for chat webhooks):
        for a receiver on the same network. Off by default so that a tenant cannot make the
        server call its own internal services.

    Raises
    ------
    InvalidParameter
        An unknown kind, a bad URL or address, unknown events, a language other than
        :data:`LANGUAGES`, or no secrets key.
    """
    if kind not in ENDPOINT_KINDS:
        raise InvalidParameter("kind", "add_endpoint", f"one of {', '.join(ENDPOINT_KINDS)}", kind)
    if language is not None:
        language = _language(language)
    chosen = _events(kind, events)
    at = _time.time() if now is None else float(now)
    sealed: str | None = None
    hint: str | None = None
    shown: str | None = None
    if kind == "email":
        address = target.strip()
        if not _EMAIL.match(address):
            raise InvalidParameter("target", "an email endpoint", "an e-mail address", target)
        shown_target = address
    else:
        url = _check_url(target, kind, allow_private)
        box = secret_box(secrets_key)
        if kind == "webhook":
            shown = secret or "whsec_" + secrets.token_urlsafe(32)
            if len(shown) < 16:
                raise InvalidParameter(
                    "secret", "a webhook endpoint", "at least 16 characters", "(too short)"
                )
            sealed = box.seal(shown, context=_context(tenant_id, kind))
            hint = shown[-4:]
            shown_target = url
        else:  # the URL is the credential: show its origin only
            sealed = box.seal(url, context=_context(tenant_id, kind))
            hint = url[-4:]
            parts = urlsplit(url)
            shown_target = f"{parts.scheme}://{parts.netloc}/…"
    row = OutboundEndpoint(
        tenant_id=tenant_id,
        kind=kind,
        target=shown_target,
        sealed=sealed,
        hint=hint,
        events=chosen,
        language=language,
        description=description,
        created_at=at,
        disabled_at=None,
    )
    session.add(row)
    session.flush()
    return NewEndpoint(endpoint=view(row), secret=shown)


def list_endpoints(
    session: Session, *, tenant_id: int, include_removed: bool = False
) -> list[EndpointView]:
    """The tenant's endpoints, oldest first."""
    return [
        view(r)
        for r in repo.endpoints_of(session, tenant_id=tenant_id, include_removed=include_removed)
    ]


def remove_endpoint(
    session: Session, *, tenant_id: int, endpoint_id: int, now: float | None = None
) -> EndpointView:
    """Stop sending to an endpoint; its pending messages are skipped, its log is kept.

    Raises
    ------
    NotFound
        No such endpoint of the tenant.
    """
    row = repo.endpoint_of(session, tenant_id=tenant_id, endpoint_id=endpoint_id)
    if row is None:
        raise NotFound("outbound endpoint", endpoint_id)
    if row.disabled_at is None:
        row.disabled_at = _time.time() if now is None else float(now)
        repo.skip_pending_of_endpoint(session, endpoint_id=row.id, reason="endpoint removed")
        session.flush()
    return view(row)
