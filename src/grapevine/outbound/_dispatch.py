"""The dispatcher: claim the due messages, deliver each, log every attempt, retry with backoff.

:func:`deliver_due` claims a batch in one short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two dispatchers never take the same message; SQLite has one writer at a time),
then delivers each message outside any transaction and writes its attempt and new state in
another. A message claimed by a dispatcher that dies is due again when its lease ends.

A failed attempt is retried after an exponential backoff with jitter: attempt ``n`` waits a
random time in ``[d/2, d]`` with ``d = min(BACKOFF_CAP, BACKOFF_BASE * 2**(n-1))`` ("equal
jitter"), so that many receivers coming back at once are not hit in lockstep; after
``max_attempts`` the message is ``failed`` (``redeliver`` tries it again).
"""

from __future__ import annotations

import json
import random
import secrets as _secrets
import ssl
import time as _time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from grapevine._signatures import SIGNATURE_HEADER, sign_webhook
from grapevine.outbound._channels import alert_context, chat_payload
from grapevine.outbound._endpoints import endpoint_credential, secret_box
from grapevine.outbound._events import PARTICIPANT_TEMPLATES
from grapevine.outbound._mail import SmtpServer, build_message, parse_smtp_url, send_message
from grapevine.outbound._render import (
    campaign_language,
    choose_language,
    format_amount,
    render_mail,
)
from grapevine.outbound._unsubscribe import unsubscribe_token
from grapevine.store import outbound_repo as repo
from grapevine.store.models import Campaign, Participant
from grapevine.store.outbound_models import OutboundAttempt, OutboundEndpoint, OutboundMessage

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DeliveryReport",
    "OutboundConfig",
    "backoff",
    "deliver_due",
]

BACKOFF_BASE = 60.0
"""Seconds before the first retry (before jitter)."""
BACKOFF_CAP = 6 * 3600.0
"""Longest wait between two attempts (before jitter)."""
LEASE_SECONDS = 300.0
"""How long a claimed message stays out of other dispatchers' hands."""
_PERMANENT = "permanent"


@dataclass(frozen=True)
class OutboundConfig:
    """What the dispatcher needs from the settings.

    Attributes
    ----------
    smtp : SmtpServer or None
        ``GRAPEVINE_SMTP_URL`` (None: e-mail waits, retried, until it is set).
    mail_from : str or None
        ``GRAPEVINE_MAIL_FROM``.
    public_origin : str
        Where the unsubscribe links point (``GRAPEVINE_PUBLIC_URL``).
    token_secret : str or None
        ``GRAPEVINE_IP_SALT``: signs the unsubscribe links.
    secrets_key : str or None
        ``GRAPEVINE_SECRETS_KEY``: opens the endpoints' secrets.
    http_timeout : float
        Seconds a webhook receiver has to answer.
    """

    smtp: SmtpServer | None
    mail_from: str | None
    public_origin: str
    token_secret: str | None
    secrets_key: str | None
    http_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> OutboundConfig:
        """From :class:`grapevine.config.Settings`."""

        def secret(value: Any) -> str | None:
            return value.get_secret_value() or None if value is not None else None

        url = secret(settings.smtp_url)
        return cls(
            smtp=parse_smtp_url(url) if url else None,
            mail_from=settings.mail_from,
            public_origin=settings.public_origin(),
            token_secret=secret(settings.ip_salt),
            secrets_key=secret(settings.secrets_key),
        )


@dataclass(frozen=True)
class DeliveryReport:
    """What one :func:`deliver_due` call did."""

    claimed: int
    delivered: int
    retried: int
    failed: int
    skipped: int


def backoff(attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), jitter included.

    >>> rng = random.Random(0)
    >>> [30 <= backoff(1, rng) <= 60, 60 <= backoff(2, rng) <= 120]
    [True, True]
    >>> backoff(30, rng) <= BACKOFF_CAP
    True
    """
    d = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** max(0, attempt - 1))
    return d / 2 + rng.random() * d / 2


class _Skip(Exception):
    """Nothing to deliver to (unsubscribed, erased, endpoint removed)."""


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    permanent: bool = False


Sender = Callable[[], _Outcome]


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of milliseconds: once per process, not per request.
    return ssl.create_default_context()


def _http_post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> _Outcome:
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, verify=_tls()) as client:
            answer = client.post(url, content=body, headers=dict(headers))
    except httpx.HTTPError as exc:
        return _Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= answer.status_code < 300:
        return _Outcome(True, answer.status_code, None)
    excerpt = answer.text[:200].strip()
    return _Outcome(
        False,
        answer.status_code,
        f"HTTP {answer.status_code}" + (f": {excerpt}" if excerpt else ""),
    )


def _webhook_body(msg: OutboundMessage) -> bytes:
    document = {
        "id": f"msg_{msg.id}",
        "event": msg.event,
        "created_at": msg.created_at,
        "tenant_id": msg.tenant_id,
        "campaign_id": msg.campaign_id,
        "data": msg.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _prepare_webhook(msg: OutboundMessage, ep: OutboundEndpoint, cfg: OutboundConfig) -> Sender:
    secret = endpoint_credential(ep, secret_box(cfg.secrets_key))
    body = _webhook_body(msg)
    url, attempt = ep.target, msg.attempts + 1

    def send() -> _Outcome:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Grapevine-Webhooks/1",
            "X-Grapevine-Event": msg.event,
            "X-Grapevine-Delivery": f"msg_{msg.id}",
            "X-Grapevine-Attempt": str(attempt),
            # signed when sent: the receiver checks the timestamp against its clock
            SIGNATURE_HEADER: sign_webhook(body, secret),
        }
        return _http_post(url, body, headers, cfg.http_timeout)

    return send


def _prepare_chat(msg: OutboundMessage, ep: OutboundEndpoint, cfg: OutboundConfig) -> Sender:
    url = endpoint_credential(ep, secret_box(cfg.secrets_key))
    body = json.dumps(chat_payload(ep.kind, msg.payload)).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "Grapevine-Alerts/1"}
    return lambda: _http_post(url, body, headers, cfg.http_timeout)


def _smtp_sender(cfg: OutboundConfig, build: Callable[[str], Any]) -> Sender:
    if cfg.smtp is None or not cfg.mail_from:
        missing = "GRAPEVINE_SMTP_URL" if cfg.smtp is None else "GRAPEVINE_MAIL_FROM"
        return lambda: _Outcome(False, None, f"{missing} is not set: e-mail cannot be sent")
    server, message = cfg.smtp, build(cfg.mail_from)

    def send() -> _Outcome:
        import smtplib

        try:
            send_message(server, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return _Outcome(
                False,
                codes[0] if codes else None,
                f"recipient refused: {exc}",
                permanent=bool(codes) and all(c >= 500 for c in codes),
            )
        except smtplib.SMTPResponseException as exc:
            return _Outcome(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:
            return _Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        return _Outcome(True, 250, None)

    return send


def _participant_context(
    session: Session, msg: OutboundMessage, person: Participant, cfg: OutboundConfig
) -> tuple[str, dict[str, Any]]:
    campaign = session.get(Campaign, person.campaign_id)
    lang = choose_language(person.language, campaign_language(campaign))
    ctx: dict[str, Any] = dict(msg.payload)
    ctx["campaign"] = ctx.get("campaign_name") or (campaign.name if campaign else "")
    amount = ctx.get("amount")
    if isinstance(amount, int | float):
        currency = ctx.get("currency") or (campaign.currency if campaign else None)
        ctx["amount"] = format_amount(float(amount), currency, lang)
    ctx["friend"] = ctx.get("friend_name")
    for link in ("share", "page"):  # workflows without the origin send paths
        path = ctx.get(f"{link}_path")
        if not ctx.get(f"{link}_url") and isinstance(path, str) and path.startswith("/"):
            ctx[f"{link}_url"] = cfg.public_origin + path
    return lang, ctx


def _prepare_participant_mail(
    session: Session, msg: OutboundMessage, cfg: OutboundConfig
) -> Sender:
    person = session.get(Participant, msg.participant_id) if msg.participant_id else None
    if person is None:
        raise _Skip("the participant is gone (erased)")
    if person.unsubscribed_at is not None:
        raise _Skip("unsubscribed")
    if not person.email or "@" not in person.email:  # an erasure leaves a tombstone handle
        raise _Skip("no e-mail address (erased)")
    if not cfg.token_secret:
        return lambda: _Outcome(
            False, None, "GRAPEVINE_IP_SALT is not set: the unsubscribe link cannot be signed"
        )
    lang, ctx = _participant_context(session, msg, person, cfg)
    unsubscribe_url = f"{cfg.public_origin}/u/{unsubscribe_token(person.id, cfg.token_secret)}"
    ctx["unsubscribe_url"] = unsubscribe_url
    mail = render_mail(PARTICIPANT_TEMPLATES[msg.event], lang, ctx)
    to = person.email

    def build(sender: str) -> Any:
        return build_message(
            sender=sender,
            to=to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            language=mail.language,
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Grapevine-Event": msg.event,
            },
        )

    return _smtp_sender(cfg, build)


def _prepare_alert_mail(msg: OutboundMessage, ep: OutboundEndpoint, cfg: OutboundConfig) -> Sender:
    ctx = alert_context(msg.payload)
    mail = render_mail("alert", ep.language or "en", ctx)
    to = ep.target

    def build(sender: str) -> Any:
        return build_message(
            sender=sender,
            to=to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            language=mail.language,
            headers={"X-Grapevine-Event": msg.event},
        )

    return _smtp_sender(cfg, build)


def _prepare(session: Session, msg: OutboundMessage, cfg: OutboundConfig) -> Sender:
    if msg.channel == "email" and msg.endpoint_id is None:
        return _prepare_participant_mail(session, msg, cfg)
    ep = session.get(OutboundEndpoint, msg.endpoint_id) if msg.endpoint_id else None
    if ep is None or ep.disabled_at is not None:
        raise _Skip("endpoint removed")
    if ep.kind == "webhook":
        return _prepare_webhook(msg, ep, cfg)
    if ep.kind == "email":
        return _prepare_alert_mail(msg, ep, cfg)
    return _prepare_chat(msg, ep, cfg)


def _finish(
    session_factory: Callable[[], Session],
    msg_id: int,
    claim: str,
    outcome: _Outcome | None,
    skip: str | None,
    latency_ms: float,
    now: float,
    rng: random.Random,
    manual: bool,
) -> str:
    with session_factory() as session, session.begin():
        msg = session.get(OutboundMessage, msg_id)
        if msg is None:
            return "skipped"
        if skip is not None:
            msg.status, msg.last_error, msg.claimed_by = "skipped", skip, None
            return "skipped"
        assert outcome is not None
        msg.attempts += 1
        session.add(
            OutboundAttempt(
                message_id=msg.id,
                attempt=msg.attempts,
                at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                latency_ms=round(latency_ms, 3),
                error=outcome.error,
                manual=manual,
            )
        )
        msg.claimed_by = None
        if outcome.ok:
            msg.status, msg.delivered_at, msg.last_error = "delivered", now, None
            return "delivered"
        msg.last_error = outcome.error
        if outcome.permanent or msg.attempts >= msg.max_attempts:
            msg.status = "failed"
            return "failed"
        msg.status, msg.next_try_at = "pending", now + backoff(msg.attempts, rng)
        return "retried"


def deliver_one(
    session_factory: Callable[[], Session],
    message_id: int,
    *,
    claim: str,
    now: float,
    config: OutboundConfig,
    rng: random.Random,
    manual: bool = False,
) -> str:
    """Deliver one claimed message; ``delivered``, ``retried``, ``failed`` or ``skipped``."""
    skip: str | None = None
    sender: Sender | None = None
    with session_factory() as session:
        msg = session.get(OutboundMessage, message_id)
        if msg is None or msg.claimed_by != claim:
            return "skipped"  # taken over after this dispatcher's lease ran out
        try:
            sender = _prepare(session, msg, config)
        except _Skip as exc:
            skip = str(exc)
        except Exception as exc:  # a sealed secret that does not open, a template error
            err = f"{type(exc).__name__}: {exc}"[:500]
            sender = lambda: _Outcome(False, None, err)  # noqa: E731
    outcome: _Outcome | None = None
    latency = 0.0
    if sender is not None:
        started = _time.perf_counter()
        outcome = sender()
        latency = (_time.perf_counter() - started) * 1000.0
    return _finish(session_factory, message_id, claim, outcome, skip, latency, now, rng, manual)


def deliver_due(
    session_factory: Callable[[], Session],
    *,
    now: float | None = None,
    limit: int = 100,
    config: OutboundConfig | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver the messages due at ``now`` (at most ``limit``); what happened.

    Parameters
    ----------
    session_factory : callable
        Makes a new :class:`~sqlalchemy.orm.Session` (``sessionmaker(engine)``,
        ``lambda: Session(engine)``); each step uses its own short transaction.
    now : float, optional
        Unix seconds (default the clock): messages with ``next_try_at <= now`` are due;
        attempts are logged at ``now`` and retries scheduled from it.
    limit : int
        The most messages this call claims.
    config : OutboundConfig, optional
        Default :meth:`OutboundConfig.from_settings` of :func:`grapevine.config.get_settings`.
    rng : random.Random, optional
        The jitter's random source (for reproducible schedules in tests).
    """
    from grapevine.config import get_settings

    cfg = OutboundConfig.from_settings(get_settings()) if config is None else config
    at = _time.time() if now is None else float(now)
    jitter = rng if rng is not None else random.Random()
    claim = _secrets.token_hex(8)
    with session_factory() as session, session.begin():
        ids = repo.claim_due(
            session, now=at, limit=limit, lease_until=at + LEASE_SECONDS, claim=claim
        )
    counts = {"delivered": 0, "retried": 0, "failed": 0, "skipped": 0}
    for message_id in ids:
        result = deliver_one(
            session_factory, message_id, claim=claim, now=at, config=cfg, rng=jitter
        )
        counts[result] += 1
    return DeliveryReport(claimed=len(ids), **counts)
