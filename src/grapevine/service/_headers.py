"""Security headers on every response: one pure ASGI middleware, a few tuples per answer.

What each header is for (a header the route already set is left as it is):

- ``X-Content-Type-Options: nosniff``: a JSON body or a script is never run as another type.
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page can be framed
  (clickjacking of the participant page's buttons).
- ``Content-Security-Policy``: HTML pages load scripts, styles and figures from this origin
  only and run no inline script (:data:`PAGE_CSP`; the pages' scripts are files under
  ``/static``); every other answer gets :data:`API_CSP`, which allows nothing.
- ``Referrer-Policy: no-referrer``: a participant page's token never leaves in a Referer.
- ``Cross-Origin-Resource-Policy``: ``same-origin``, except for the thank-you snippet
  (``/embed.js``, ``/embed/enrol``), which shops load from their own pages.
- ``Strict-Transport-Security``: only when the service is reached over https (the public
  URL is https, or the request came over https).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "CROSS_ORIGIN_PATHS",
    "HSTS",
    "PAGE_CSP",
    "SecurityHeaders",
    "security_headers",
]

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""The policy of the HTML pages (participant page, error pages, ``/docs``)."""

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""The policy of everything else (JSON, redirects, scripts, styles)."""

HSTS = "max-age=31536000"
"""A year; no ``includeSubDomains``: the service rarely owns its parent domain."""

CROSS_ORIGIN_PATHS = frozenset({"/embed.js", "/embed/enrol"})
"""Paths that other sites load (the shop's thank-you page): ``Cross-Origin-Resource-Policy:
cross-origin``."""

_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_OURS = frozenset(
    {
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
        b"content-security-policy",
        b"cross-origin-resource-policy",
        b"strict-transport-security",
    }
)


def security_headers(
    *, html: bool = False, cross_origin: bool = False, https: bool = False
) -> tuple[tuple[bytes, bytes], ...]:
    """The headers :class:`SecurityHeaders` adds to an answer of that kind (raw, as ASGI
    sends them), for an answer built outside it: the ``/r/`` fast path appends them itself.

    >>> [name.decode() for name, _ in security_headers(https=True)][-1]
    'strict-transport-security'
    """
    csp = PAGE_CSP if html else API_CSP
    corp = b"cross-origin" if cross_origin else b"same-origin"
    hsts = ((b"strict-transport-security", HSTS.encode()),) if https else ()
    return (
        *_FIXED,
        (b"content-security-policy", csp.encode()),
        (b"cross-origin-resource-policy", corp),
        *hsts,
    )


class SecurityHeaders:
    """ASGI middleware adding the headers above to each HTTP response.

    ``https`` says the service is public over https (``GRAPEVINE_PUBLIC_URL``); without it
    HSTS is sent only on requests that came over https. The eight possible sets of headers
    are built once; a response costs one pass over its own headers and one list.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        https: bool = False,
        cross_origin_paths: Iterable[str] = CROSS_ORIGIN_PATHS,
    ) -> None:
        self.app = app
        self.https = https
        self.cross_origin_paths = frozenset(cross_origin_paths)
        self._sets = {
            (html, cross, secure): security_headers(html=html, cross_origin=cross, https=secure)
            for html in (False, True)
            for cross in (False, True)
            for secure in (False, True)
        }

    def _headers(
        self, headers: Iterable[tuple[bytes, bytes]], *, path: str, https: bool
    ) -> list[tuple[bytes, bytes]]:
        out = list(headers)
        content_type = b""
        present: set[bytes] | None = None
        for name, value in out:
            if name == b"content-type":
                content_type = value
            elif name in _OURS:
                present = {name} if present is None else present | {name}
        add = self._sets[
            (content_type.startswith(b"text/html"), path in self.cross_origin_paths, https)
        ]
        if present is None:
            out.extend(add)
        else:  # what the route set stays
            out.extend(item for item in add if item[0] not in present)
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        https = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(
                    message.get("headers", ()), path=path, https=https
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)
