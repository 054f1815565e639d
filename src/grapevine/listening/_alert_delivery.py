"""Deliver listening alerts: each :class:`BuzzAlert` becomes an ``alert.raised`` message.

The alerts are computed from the stored mentions (:func:`buzz_alerts`); :func:`raise_alerts`
puts them in the outbox (``grapevine.outbound.emit``) in the caller's transaction, for the
tenant's alert channels (Slack, Microsoft Teams, Mattermost, e-mail) and webhooks. Each alert
has a key (rule, series, hour), so raising the same alerts again (the next run of a
scheduled check) sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from grapevine.listening._alerts_store import BuzzAlert

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

__all__ = ["alert_payload", "raise_alerts"]


def _explanation(grew: Any) -> str:
    summary = getattr(grew, "summary", None)
    return str(summary()) if callable(summary) else ("" if grew is None else str(grew))


def alert_payload(alert: BuzzAlert, *, origin: str | None = None) -> dict[str, Any]:
    """The ``alert.raised`` payload of an alert: its figures, sentence, explanation and link.

    ``origin`` (``https://gv.shop.example``) makes ``link`` point to the dashboard's
    listening page of the alert's rule.
    """
    return {
        "rule": alert.rule,
        "series": alert.series,
        "time": alert.time,
        "value": float(alert.value),
        "expected": round(float(alert.expected), 3),
        "score": round(float(alert.score), 3),
        "why": alert.why,
        "explanation": _explanation(alert.what_grew),
        "window_posts": alert.window_posts,
        "baseline_posts": alert.baseline_posts,
        "link": f"{origin.rstrip('/')}/listening?rule={quote(alert.rule)}" if origin else None,
    }


def raise_alerts(
    session: Session,
    *,
    tenant_id: int,
    alerts: Sequence[BuzzAlert],
    origin: str | None = None,
    now: float | None = None,
) -> list[int]:
    """Queue an ``alert.raised`` message per new alert for the tenant's channels.

    Parameters
    ----------
    session : Session
        The caller's transaction (commit it to send).
    tenant_id : int
        Whose channels receive the alerts.
    alerts : sequence of BuzzAlert
        From :func:`buzz_alerts`.
    origin : str, optional
        The public origin of the dashboard, for each alert's link.
    now : float, optional
        When the messages are due (default the clock).

    Returns
    -------
    list of int
        The ids of the messages queued (alerts raised before are left out).
    """
    from grapevine.outbound import emit  # the store's models: loaded when alerts are raised

    ids: list[int] = []
    for alert in alerts:
        ids += emit(
            session,
            tenant_id=tenant_id,
            event="alert.raised",
            payload=alert_payload(alert, origin=origin),
            key=f"{alert.rule}|{alert.series}|{int(alert.time)}",
            now=now,
        )
    return ids
