"""The payloads of an alert for the chat tools' incoming webhooks.

- Slack: ``{"text": ..., "blocks": [...]}`` (Block Kit, ``mrkdwn`` text; ``text`` is the
  notification fallback). https://api.slack.com/messaging/webhooks
- Microsoft Teams: a ``message`` with one Adaptive Card attachment
  (``application/vnd.microsoft.card.adaptive``, version 1.4), what both a Workflows (Power
  Automate) "post to a channel when a webhook request is received" flow and a classic incoming
  webhook accept. https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
- Mattermost: ``{"text": ..., "username": "Grapevine"}`` (Markdown).
  https://developers.mattermost.com/integrate/webhooks/incoming/

Each carries the alert's sentence (``why``), what grew (``explanation``) and the link.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

__all__ = ["alert_context", "chat_payload", "mattermost_payload", "slack_payload", "teams_payload"]


def alert_context(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The alert's fields with ``title`` and ``when`` (ISO 8601 UTC hour) added."""
    ctx = dict(payload)
    rule = ctx.get("rule") or "?"
    series = ctx.get("series") or "mentions"
    ctx.setdefault("why", f"Alert on {rule}")
    ctx["title"] = f"Grapevine alert: {rule} ({series})"
    t = ctx.get("time")
    if isinstance(t, int | float):
        ctx["when"] = _dt.datetime.fromtimestamp(float(t), tz=_dt.UTC).strftime(
            "%Y-%m-%d %H:%M UTC"
        )
    return ctx


def _escape_slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for an alert.

    >>> p = slack_payload({"rule": "brand", "why": "3x the usual", "link": "https://gv/a/1"})
    >>> p["text"]
    'Grapevine alert: brand (mentions): 3x the usual'
    >>> p["blocks"][0]["type"]
    'header'
    """
    ctx = alert_context(payload)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": ctx["title"][:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _escape_slack(str(ctx["why"]))}},
    ]
    if ctx.get("explanation"):
        text = "*What grew*\n" + _escape_slack(str(ctx["explanation"]))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if ctx.get("link"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Grapevine"},
                        "url": str(ctx["link"]),
                    }
                ],
            }
        )
    if ctx.get("when"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ctx["when"]}]})
    return {"text": f"{ctx['title']}: {ctx['why']}", "blocks": blocks}


def teams_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Microsoft Teams message with an Adaptive Card for an alert.

    >>> card = teams_payload({"rule": "brand", "why": "3x"})["attachments"][0]
    >>> card["contentType"], card["content"]["type"]
    ('application/vnd.microsoft.card.adaptive', 'AdaptiveCard')
    """
    ctx = alert_context(payload)
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": ctx["title"],
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": str(ctx["why"]), "wrap": True},
    ]
    facts = [
        {"title": name, "value": str(ctx[key])}
        for name, key in (
            ("Rule", "rule"),
            ("Series", "series"),
            ("Hour", "when"),
            ("Count", "value"),
            ("Expected", "expected"),
        )
        if ctx.get(key) is not None
    ]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if ctx.get("explanation"):
        body.append({"type": "TextBlock", "text": "What grew", "weight": "Bolder"})
        body.append({"type": "TextBlock", "text": str(ctx["explanation"]), "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if ctx.get("link"):
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in Grapevine", "url": str(ctx["link"])}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def mattermost_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Mattermost incoming-webhook message (Markdown) for an alert.

    >>> mattermost_payload({"rule": "brand", "why": "3x", "link": "https://gv/a"})["text"]
    '#### Grapevine alert: brand (mentions)\\n3x\\n\\n[Open in Grapevine](https://gv/a)'
    """
    ctx = alert_context(payload)
    lines = [f"#### {ctx['title']}", str(ctx["why"])]
    if ctx.get("explanation"):
        lines += ["", "**What grew**", str(ctx["explanation"])]
    if ctx.get("link"):
        lines += ["", f"[Open in Grapevine]({ctx['link']})"]
    return {"text": "\n".join(lines), "username": "Grapevine"}


def chat_payload(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload for the chat tool ``kind`` (slack, teams or mattermost)."""
    makers = {"slack": slack_payload, "teams": teams_payload, "mattermost": mattermost_payload}
    return makers[kind](payload)
