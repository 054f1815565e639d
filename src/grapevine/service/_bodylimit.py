"""A cap on request bodies: 413 with a message that names the limit, before any parsing.

Nothing in the API takes more than a few kilobytes (an event, a Stripe checkout session);
a larger body is refused before a route reads it, so an oversized webhook costs neither
memory nor a signature check.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]


class BodyLimit:
    """ASGI middleware: refuse request bodies larger than ``max_bytes`` with a 413.

    A ``Content-Length`` over the limit is refused at once, unread; a body sent without
    one (chunked) is read here up to the limit, refused past it, else handed on whole.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    def _message(self, size: int | None) -> bytes:
        got = "more than that" if size is None else f"{size:,} bytes"
        detail = (
            f"the request body is too large: at most {self.max_bytes:,} bytes are accepted "
            f"(GRAPEVINE_MAX_BODY_BYTES), got {got}"
        )
        return json.dumps({"error": "ContentTooLarge", "detail": detail}).encode()

    async def _refuse(self, send: Send, size: int | None) -> None:
        body = self._message(size)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(body)),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(send, declared)
            else:  # the server reads no more than it declares: nothing to count
                await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read it here, up to the limit, then hand it on.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send, None)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
