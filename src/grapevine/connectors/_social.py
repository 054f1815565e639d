"""What the JSON-API listening sources (Hacker News, Bluesky, Reddit, X) share.

:class:`ApiCaller` sends one request with retries: network errors, ``408``/``425``/``429``
and ``5xx`` are retried after the wait the platform asks for (each platform names its own
rate-limit headers, read by the ``wait_of`` function it passes) or an exponential backoff;
``401``/``403`` fail at once as ``unauthorized``; other ``4xx`` fail at once with the
platform's own error message. When the platform says that no request is left in the current
window (``remaining_of`` gives ``0``), the next request waits for the window to reset.

:func:`walk_back` reads a search that lists the newest first, page by page, down to a
watermark (a time and the ids already returned at that time), and keeps the oldest ``limit``
new items: fetches resume where the last one stopped even when more arrived in between than
one fetch may return.

:func:`field` reads a field of a decoded JSON document and fails with ``malformed``, naming
the platform, the call and the field's path, when it is missing or of the wrong type.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import SplitResult, urlsplit

import httpx

from grapevine._validation import check_number
from grapevine.connectors._listen import parse_retry_after, retry_delay
from grapevine.errors import InvalidParameter, SourceFailed

__all__ = [
    "ApiCaller",
    "ApiSource",
    "Watermark",
    "count",
    "field",
    "header_number",
    "header_wait",
    "http_url",
    "iso_epoch",
    "load_watermark",
    "walk_back",
]

USER_AGENT = "grapevine-listening/0.1 (+https://github.com/grapevine)"
_RETRY_STATUS = frozenset((408, 425, 429, 500, 502, 503, 504))
_SEEN_CAP = 2000

HeaderReader = Callable[[httpx.Headers, float], float | None]


def _no_header(headers: httpx.Headers, now: float) -> float | None:
    return None


def header_number(name: str) -> HeaderReader:
    """A reader of the number in the header ``name`` (None when absent or not a number).

    >>> header_number("x-left")(httpx.Headers({"x-left": "7"}), 0.0)
    7.0
    """

    def read(headers: httpx.Headers, now: float) -> float | None:
        try:
            return float(headers[name])
        except (KeyError, ValueError):
            return None

    return read


def header_wait(name: str, *, unix_time: bool) -> HeaderReader:
    """A reader of the seconds to wait that the header ``name`` gives: a Unix time the
    rate-limit window resets at (``unix_time``), else the seconds left in it; never below 0.

    >>> header_wait("reset", unix_time=True)(httpx.Headers({"reset": "130"}), 100.0)
    30.0
    """
    number = header_number(name)

    def read(headers: httpx.Headers, now: float) -> float | None:
        value = number(headers, now)
        if value is None:
            return None
        return max(0.0, value - now if unix_time else value)

    return read


def http_url(url: Any, key: str, owner: str, given: Any = None) -> SplitResult:
    """``url`` split, checked to be an http(s) URL with a host.

    Raises
    ------
    grapevine.errors.InvalidParameter
        Naming ``key`` of ``owner`` and ``given`` (``url`` when not given).
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(key, owner, "an http(s) URL", url if given is None else given)
    return parts


def count(value: Any) -> int | None:
    """A JSON whole number as a count (None for anything else, ``true`` included)."""
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def iso_epoch(value: Any) -> float | None:
    """An ISO 8601 time (``Z`` or an offset; none is UTC) in Unix seconds, else None.

    >>> iso_epoch("1970-01-01T00:01:00.000Z")
    60.0
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class ApiCaller:
    """Sends a platform's API requests with retries and its rate-limit waits.

    Parameters
    ----------
    name : str
        The source's name (named in every :class:`~grapevine.errors.SourceFailed`).
    platform : str
        The platform's name in words (``"Bluesky"``), named in error details.
    client : httpx.Client, optional
        Made (and closed by :meth:`close`) when not given.
    retries, backoff, timeout, max_wait
        As for the other sources: retries after a transient failure, the first wait in
        seconds (doubling), seconds per request, the longest single wait.
    wait_of : callable
        ``(headers, now) -> seconds or None``: how long a rate-limited answer asks to wait
        (``Retry-After`` is read first in any case).
    remaining_of : callable
        ``(headers, now) -> requests left or None`` in the current rate-limit window.
    sleep : callable
        How to wait (``time.sleep``).
    """

    def __init__(
        self,
        name: str,
        platform: str,
        *,
        client: httpx.Client | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        max_wait: float = 300.0,
        wait_of: HeaderReader = _no_header,
        remaining_of: HeaderReader = _no_header,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        owner = f"the {platform} source"
        check_number(retries, "retries", owner, kind=int, low=0)
        check_number(backoff, "backoff", owner, low=0.0)
        check_number(timeout, "timeout", owner, low=0.0, low_closed=False)
        check_number(max_wait, "max_wait", owner, low=0.0)
        self.name = name
        self.platform = platform
        self.retries = retries
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        self.max_wait = float(max_wait)
        self._wait_of = wait_of
        self._remaining_of = remaining_of
        self._sleep = sleep
        self._clock = clock
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )
        self._window_wait: float | None = None  # set when the window is used up
        self.requests = 0

    def close(self) -> None:
        """Close the HTTP client if this caller made it."""
        if self._own_client:
            self.client.close()

    def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer of one request (retried as the class says).

        Raises
        ------
        grapevine.errors.SourceFailed
            ``network``, ``rate_limited`` or ``http_5xx`` after the retries; ``unauthorized``
            and other ``http_4xx`` at once; ``malformed`` for an answer that is not JSON.
        """
        last: SourceFailed | None = None
        for attempt in range(self.retries + 1):
            if attempt and last is not None:
                self._sleep(retry_delay(attempt - 1, self.backoff, last.retry_after, self.max_wait))
            elif self._window_wait:
                self._sleep(min(self._window_wait, self.max_wait))
            self._window_wait = None
            try:
                self.requests += 1
                response = self.client.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=json_body,
                    data=dict(data) if data else None,
                    headers=dict(headers) if headers else None,
                    auth=auth,
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                detail = f"{self.platform} {what}: {type(exc).__name__}: {exc}"
                last = SourceFailed(self.name, "network", detail=detail)
                continue
            now = self._clock()
            status = response.status_code
            if self._remaining_of(response.headers, now) == 0:
                self._window_wait = self._wait_of(response.headers, now)
            if status < 400:
                return self._decode(response, what)
            message = f"{self.platform} {what}: HTTP {status}{self._message(response)}"
            if status in (401, 403):
                raise SourceFailed(self.name, "unauthorized", detail=message)
            wait = parse_retry_after(response.headers.get("retry-after"), now)
            if wait is None:
                wait = self._wait_of(response.headers, now)
            reason = "rate_limited" if status == 429 else f"http_{status}"
            failure = SourceFailed(self.name, reason, retry_after=wait, detail=message)
            if status not in _RETRY_STATUS:
                raise failure
            last = failure
        assert last is not None
        raise last

    def _decode(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            detail = f"{self.platform} {what}: the answer is not JSON ({kind})"
            raise SourceFailed(self.name, "malformed", detail=detail) from None

    @staticmethod
    def _message(response: httpx.Response) -> str:
        """The platform's own words from an error body (``error``, ``message``, X's
        ``title`` and ``detail``)."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        parts = [
            str(body[k])
            for k in ("error", "message", "error_description", "title", "detail")
            if isinstance(body.get(k), str | int) and str(body[k])
        ]
        return ": " + " - ".join(parts) if parts else ""


class ApiSource:
    """What a source built on an :class:`ApiCaller` (its ``_api``) does for ``with``:
    :meth:`close` closes the caller's HTTP client if the caller made it."""

    _api: ApiCaller

    def close(self) -> None:
        """Close the HTTP client if this source made it."""
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def field(
    doc: Any,
    path: str,
    kind: type | tuple[type, ...],
    *,
    name: str,
    platform: str,
    what: str,
    required: bool = True,
) -> Any:
    """``doc``'s value at ``path`` (dots and ``[i]``), checked to be of ``kind``.

    A missing optional field (``required=False``) or a JSON ``null`` gives None.

    Raises
    ------
    grapevine.errors.SourceFailed
        ``malformed``, naming the platform, the call and the path.

    >>> field({"a": [{"b": "x"}]}, "a[0].b", str, name="n", platform="P", what="call")
    'x'
    """
    value: Any = doc
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            break
    if value is None:
        if not required:
            return None
        detail = f"{platform} {what}: the field {path!r} is missing"
        raise SourceFailed(name, "malformed", detail=detail)
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        value = object()  # a JSON true is not a count
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        detail = f"{platform} {what}: the field {path!r} must be {expected}, not {value!r}"
        raise SourceFailed(name, "malformed", detail=detail)
    return value


# ---------------------------------------------------------------------------- cursors
@dataclass(frozen=True)
class Watermark:
    """Where the last fetch stopped: the newest time returned and the ids at that time."""

    after: float | None = None
    seen: tuple[str, ...] = ()

    def dumps(self) -> str:
        return json.dumps({"after": self.after, "seen": list(self.seen)}, ensure_ascii=False)


def load_watermark(cursor: str | None, owner: str) -> Watermark:
    """The watermark in a cursor a source returned (None: start at the newest page)."""
    if cursor is None:
        return Watermark()
    try:
        state = json.loads(cursor)
    except ValueError:
        state = None
    after = state.get("after") if isinstance(state, dict) else None
    seen = state.get("seen") if isinstance(state, dict) else None
    if (
        not isinstance(state, dict)
        or not (after is None or (isinstance(after, int | float) and not isinstance(after, bool)))
        or not isinstance(seen, list)
        or not all(isinstance(s, str) for s in seen)
    ):
        raise InvalidParameter("cursor", f"{owner}.fetch", "a cursor it returned", cursor)
    return Watermark(None if after is None else float(after), tuple(seen))


Page = tuple[list[Any], Any]


def walk_back(
    first_page: Callable[[], Page],
    next_page: Callable[[Any], Page],
    *,
    time_of: Callable[[Any], float],
    id_of: Callable[[Any], str],
    mark: Watermark,
    limit: int,
    max_pages: int = 100,
) -> tuple[list[Any], Watermark]:
    """Read a newest-first listing down to ``mark``; the oldest ``limit`` new items and the
    watermark after them.

    ``first_page()`` and ``next_page(token)`` return ``(items, token)``, ``token`` None at
    the end. Without a watermark (a first fetch), only the first page is read; when it is
    empty, the watermark returned is the epoch, so that everything found later is new. Items
    at the watermark's time whose ids it holds, and items older than it, are not returned.
    """
    items, token = first_page()
    found: dict[str, Any] = {}
    seen = set(mark.seen)
    pages = 1
    while True:
        reached = False
        for item in items:
            t, key = time_of(item), id_of(item)
            if mark.after is not None and (t < mark.after or (t == mark.after and key in seen)):
                reached = True
                continue
            found.setdefault(key, item)
        if mark.after is None or reached or token is None or not items or pages >= max_pages:
            break
        items, token = next_page(token)
        pages += 1
    new = sorted(found.values(), key=lambda it: (time_of(it), id_of(it)))[:limit]
    if not new:  # nothing matches yet: from now on, everything that comes is new
        return [], mark if mark.after is not None else Watermark(0.0, ())
    top = time_of(new[-1])
    at_top = [id_of(it) for it in new if time_of(it) == top]
    if mark.after is not None and top == mark.after:
        at_top = list(mark.seen) + at_top
    return new, Watermark(top, tuple(at_top[-_SEEN_CAP:]))
