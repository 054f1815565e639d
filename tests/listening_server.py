"""A local HTTP server that replays recorded feed and Mastodon API responses (no live network).

:class:`ReplayServer` is a real ``http.server`` on ``127.0.0.1`` (a free port, a daemon
thread). It serves the bodies under ``tests/fixtures/listening/`` the way the real services
do: feeds with ``ETag`` / ``Last-Modified`` and ``304`` answers to conditional requests; the
Mastodon API's timelines, hashtag timeline, search and notifications paged by ``min_id`` /
``max_id`` / ``since_id`` / ``limit`` with ``Link`` headers; single statuses; posting a status
(with ``Idempotency-Key``); ``401`` for a bad token. :meth:`ReplayServer.script` queues canned
answers (a ``429`` with rate-limit headers, a ``503``...) served before the normal ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "listening"
VALID_TOKEN = "test-token"
_FEED_TYPES = {
    "atom.xml": "application/atom+xml; charset=utf-8",
    "rss2.xml": "application/rss+xml; charset=UTF-8",
    "rdf.xml": "application/rdf+xml",
    "malformed.xml": "text/html; charset=utf-8",
    "bozo_with_entries.xml": "application/rss+xml",
}
_LAST_MODIFIED = "Fri, 20 Nov 2026 09:45:12 GMT"


@dataclass
class Reply:
    """A canned answer.

    ``reset_in`` adds the ``X-RateLimit-*`` headers of a Mastodon 429, with the reset that
    many seconds after the moment it is served. ``drop`` closes the connection without an
    answer (a network error).
    """

    status: int
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset_in: float | None = None
    drop: bool = False


def rate_limited(reset_in: float = 30.0, *, retry_after: str | None = None) -> Reply:
    """The 429 Mastodon answers when a rate limit is exhausted (fixtures/error_429.json)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Reply(429, (FIXTURES / "mastodon" / "error_429.json").read_bytes(), headers, reset_in)


def _id_key(sid: str) -> tuple[int, str]:
    return (len(sid), sid)


class ReplayServer:
    """The replay server; use as a context manager (``with ReplayServer() as srv``)."""

    def __init__(self, fixtures: Path = FIXTURES) -> None:
        self.fixtures = fixtures
        self.feeds: dict[str, bytes] = {
            p.name: p.read_bytes() for p in sorted((fixtures / "feeds").glob("*.xml"))
        }
        self.statuses: list[dict[str, Any]] = json.loads(
            (fixtures / "mastodon" / "statuses.json").read_text("utf-8")
        )
        self.notifications: list[dict[str, Any]] = json.loads(
            (fixtures / "mastodon" / "notifications.json").read_text("utf-8")
        )
        self.instance = (fixtures / "mastodon" / "instance.json").read_bytes()
        self.posted: list[dict[str, Any]] = []
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def script(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` (in order) to the next requests of ``path``, then the normal ones."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(replies)

    def requests_to(self, path: str) -> list[tuple[str, str, dict[str, str]]]:
        """The logged requests (method, path with query, headers) whose path is ``path``."""
        return [r for r in self.log if urlsplit(r[1]).path == path]

    # ------------------------------------------------------------------------ routing
    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        with self._lock:
            self.log.append((method, target, headers))
            queue = self._scripts.get(path)
            if queue:
                return queue.popleft()
        if path.startswith("/feeds/"):
            return self._feed(path.removeprefix("/feeds/"), headers)
        if path.startswith("/api/"):
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if token and token != VALID_TOKEN:
                return self._error(401)
            return self._api(method, path, query, headers, body, authed=bool(token))
        return Reply(404, b"not found", {"Content-Type": "text/plain"})

    def _feed(self, name: str, headers: dict[str, str]) -> Reply:
        content = self.feeds.get(name)
        if content is None:
            return Reply(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})
        etag = '"' + hashlib.sha1(content).hexdigest()[:16] + '"'
        common = {"ETag": etag, "Last-Modified": _LAST_MODIFIED}
        if headers.get("if-none-match") == etag:
            return Reply(304, b"", common)
        kind = _FEED_TYPES.get(name, "application/xml")
        return Reply(200, content, {"Content-Type": kind, **common})

    def _error(self, status: int) -> Reply:
        name = {401: "error_401.json", 404: "error_404.json", 429: "error_429.json"}[status]
        body = (self.fixtures / "mastodon" / name).read_bytes()
        return Reply(status, body, {"Content-Type": "application/json; charset=utf-8"})

    def _api(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        *,
        authed: bool,
    ) -> Reply:
        if method == "GET" and path == "/api/v1/instance":
            return Reply(200, self.instance, {"Content-Type": "application/json; charset=utf-8"})
        if method == "GET" and path == "/api/v1/timelines/public":
            items = self.statuses
            if _flag(query, "local"):
                items = [s for s in items if "@" not in s["account"]["acct"]]
            return self._page(path, query, items)
        if method == "GET" and path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            items = [s for s in self.statuses if tag in {t["name"] for t in s["tags"]}]
            return self._page(path, query, items)
        if method == "GET" and path == "/api/v2/search":
            if not authed:  # full-text search of statuses needs a logged-in user
                return _json({"accounts": [], "statuses": [], "hashtags": []})
            q = (query.get("q") or [""])[0]
            if q.startswith("http"):
                found = [s for s in self.statuses if q in (s["uri"], s["url"])]
            else:
                found = [s for s in self.statuses if q.lower() in s["content"].lower()]
            page = self._slice(query, found)
            return _json({"accounts": [], "statuses": page, "hashtags": []})
        if method == "GET" and path == "/api/v1/notifications":
            if not authed:
                return self._error(401)
            return self._page(path, query, self.notifications)
        if method == "GET" and path.startswith("/api/v1/statuses/"):
            sid = path.rsplit("/", 1)[1]
            for s in self.statuses + self.posted:
                for cand in (s, s.get("reblog")):
                    if cand and cand["id"] == sid:
                        return _json(cand)
            return self._error(404)
        if method == "POST" and path == "/api/v1/statuses":
            if not authed:
                return self._error(401)
            return self._post_status(headers, body)
        return self._error(404)

    def _post_status(self, headers: dict[str, str], body: bytes) -> Reply:
        key = headers.get("idempotency-key")
        if key and key in self.idempotency:
            return _json(self.idempotency[key])
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        status = copy.deepcopy(
            json.loads((self.fixtures / "mastodon" / "status_post.json").read_text("utf-8"))
        )
        sid = str(113500000000000100 + len(self.posted))
        status["id"] = sid
        status["uri"] = f"https://social.example/users/brewly/statuses/{sid}"
        status["url"] = f"https://social.example/@brewly/{sid}"
        status["content"] = "<p>" + form.get("status", "") + "</p>"
        status["in_reply_to_id"] = form.get("in_reply_to_id")
        status["created_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.posted.append(status)
        if key:
            self.idempotency[key] = status
        return _json(status)

    def _slice(self, query: dict[str, list[str]], items: list[dict[str, Any]]) -> list[Any]:
        """Mastodon's paging: newest first; max_id, since_id, min_id and limit."""
        limit = min(int((query.get("limit") or ["20"])[0]), 40)
        items = sorted(items, key=lambda s: _id_key(s["id"]), reverse=True)
        if max_id := (query.get("max_id") or [None])[0]:
            items = [s for s in items if _id_key(s["id"]) < _id_key(max_id)]
        if since_id := (query.get("since_id") or [None])[0]:
            items = [s for s in items if _id_key(s["id"]) > _id_key(since_id)]
        if min_id := (query.get("min_id") or [None])[0]:
            items = [s for s in items if _id_key(s["id"]) > _id_key(min_id)]
            return items[-limit:]  # the page immediately newer than min_id
        return items[:limit]

    def _page(self, path: str, query: dict[str, list[str]], items: list[Any]) -> Reply:
        page = self._slice(query, items)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if page:
            keep = {k: v[0] for k, v in query.items() if k not in ("max_id", "min_id", "since_id")}
            nxt = urlencode({**keep, "max_id": page[-1]["id"]})
            prev = urlencode({**keep, "min_id": page[0]["id"]})
            headers["Link"] = (
                f'<{self.url}{path}?{nxt}>; rel="next", <{self.url}{path}?{prev}>; rel="prev"'
            )
        return Reply(200, json.dumps(page, ensure_ascii=False), headers)


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or ["false"])[0].lower() in ("1", "true")


def _json(value: Any) -> Reply:
    return Reply(
        200,
        json.dumps(value, ensure_ascii=False),
        {"Content-Type": "application/json; charset=utf-8"},
    )


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.answer(self.command, self.path, headers, body)
            if reply.drop:
                self.close_connection = True
                self.connection.close()
                return
            data = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.reset_in is not None:
                reset = datetime.now(UTC) + timedelta(seconds=reply.reset_in)
                self.send_header("X-RateLimit-Limit", "300")
                self.send_header("X-RateLimit-Remaining", "0")
                self.send_header("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_HEAD = _serve

    return Handler
