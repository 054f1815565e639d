"""The service's edge: which origin it names, and whose forwarded headers it believes.

Two things a client controls must never decide what the service writes:

- **The Host header.** :class:`PublicOrigin` replaces it (and, when ``GRAPEVINE_PUBLIC_URL``
  is set, the scheme) before the app sees the request, so every URL that Starlette and
  FastAPI build (``request.base_url``, ``url_for``, the trailing-slash redirect of
  ``/r/CODE/``) starts with the configured origin: the participant links, the share texts,
  the thank-you snippet's answer, the page links. Unset, the origin is ``http://HOST:PORT``
  of the settings.
- **X-Forwarded-For / X-Forwarded-Proto.** uvicorn believes them from ``127.0.0.1`` unless
  told otherwise; :func:`server_options` (what ``grapevine serve`` passes to uvicorn) believes
  them only from ``GRAPEVINE_FORWARDED_ALLOW_IPS``, and from nobody when it is unset, so
  rotating ``X-Forwarded-For`` cannot buy a client a fresh rate-limit bucket.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from grapevine.config import Settings

__all__ = ["PublicOrigin", "server_options"]


def server_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` that the edge needs.

    Proxy headers are read only from the proxies named in ``forwarded_allow_ips`` (none
    when unset), and uvicorn does not announce itself (no ``server`` header).

    >>> server_options(Settings(forwarded_allow_ips=None))
    {'proxy_headers': False, 'forwarded_allow_ips': '', 'server_header': False}
    >>> server_options(Settings(forwarded_allow_ips="10.0.0.5"))["forwarded_allow_ips"]
    '10.0.0.5'
    """
    trusted = settings.forwarded_allow_ips or ""
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
        "server_header": False,
    }


class PublicOrigin:
    """ASGI middleware: the request's ``Host`` becomes the configured origin's.

    With ``GRAPEVINE_PUBLIC_URL`` set the scheme becomes its scheme too (a TLS-terminating
    proxy in front is then not needed to say so); unset, the scheme stays what uvicorn saw
    (the connection, or a trusted proxy's ``X-Forwarded-Proto``).
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        parts = urlsplit(settings.public_origin())
        self.host = parts.netloc.encode("latin-1")
        self.scheme = parts.scheme if settings.public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            scope = dict(scope)
            headers = [item for item in scope["headers"] if item[0] != b"host"]
            headers.append((b"host", self.host))
            scope["headers"] = headers
            if self.scheme is not None:
                secure = self.scheme == "https"
                if kind == "http":
                    scope["scheme"] = "https" if secure else "http"
                else:
                    scope["scheme"] = "wss" if secure else "ws"
        await self.app(scope, receive, send)
