"""A local HTTP server that answers like Hacker News' Algolia API, Bluesky and Reddit.

:class:`SocialServer` is a real ``http.server`` on ``127.0.0.1`` (a free port, a daemon
thread) built from the request and response shapes the platforms document:

* Algolia HN Search (https://hn.algolia.com/api): ``/api/v1/search_by_date`` with
  ``query``, ``tags``, ``numericFilters`` on ``created_at_i``, ``hitsPerPage`` and ``page``;
  hits newest first with ``objectID``, ``created_at_i``, ``author``, ``title``,
  ``comment_text``, ``parent_id``, ``points``, ``num_comments``, ``_tags``.
* Bluesky XRPC (https://docs.bsky.app/docs/category/http-reference):
  ``com.atproto.server.createSession``, ``app.bsky.feed.searchPosts`` (``q``, ``sort``,
  ``since``, ``limit``, ``cursor``; ``posts[]`` of postViews), ``app.bsky.feed.getPosts``,
  ``com.atproto.repo.createRecord``; errors as ``{"error", "message"}``; ``ratelimit-*``
  headers; an access token that can be made to expire (``400 ExpiredToken``).
* Reddit (https://www.reddit.com/dev/api, https://github.com/reddit-archive/reddit/wiki/OAuth2):
  ``POST /api/v1/access_token`` (Basic auth; ``client_credentials`` or ``password``),
  ``/search``, ``/r/SUB/new``, ``/r/SUB/comments`` as Listings paged by ``after``,
  ``POST /api/comment``; ``X-Ratelimit-Used/Remaining/Reset`` headers.

:meth:`SocialServer.script` queues canned answers (a ``429``, a ``503``, a dropped
connection) served before the normal ones.
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from listening_server import Reply

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "=": operator.eq}
T0 = 1793613600  # 2026-11-02T10:00:00Z
BSKY_HANDLE = "brand.bsky.social"
BSKY_DID = "did:plc:brand000000000000000000"
BSKY_PASSWORD = "abcd-efgh-ijkl-mnop"
REDDIT_ID, REDDIT_SECRET = "app-id", "app-secret"
REDDIT_USER, REDDIT_PASSWORD = "brand_team", "hunter2"
X_APP_TOKEN, X_USER_TOKEN = "x-app-bearer", "x-user-bearer"


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    h = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return Reply(status, json.dumps(value, ensure_ascii=False), h)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------- data
def hn_hit(n: int, t: int, *, comment_on: int | None = None, text: str = "") -> dict[str, Any]:
    """An Algolia hit: a story, or a comment on item ``comment_on``."""
    if comment_on is None:
        return {
            "objectID": str(n),
            "created_at": _iso(t),
            "created_at_i": t,
            "author": f"user{n % 7}",
            "title": text or f"Show HN: Grapevine story {n}",
            "url": f"https://example.com/{n}",
            "story_text": None,
            "points": n % 50,
            "num_comments": n % 9,
            "story_id": n,
            "_tags": ["story", f"author_user{n % 7}", f"story_{n}"],
        }
    return {
        "objectID": str(n),
        "created_at": _iso(t),
        "created_at_i": t,
        "author": f"user{n % 7}",
        "comment_text": text or f"<p>I tried grapevine &amp; liked it ({n})</p>",
        "parent_id": comment_on,
        "story_id": comment_on,
        "points": None,
        "_tags": ["comment", f"author_user{n % 7}", f"story_{comment_on}"],
    }


def bsky_view(n: int, t: float, *, reply_to: str | None = None, text: str = "") -> dict[str, Any]:
    """A postView as searchPosts returns it."""
    handle = f"fan{n % 5}.bsky.social"
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text or f"grapevine is great, post {n}",
        "createdAt": _iso(t),
        "langs": ["en"],
    }
    if reply_to is not None:
        ref = {"uri": reply_to, "cid": "bafyparent" + hashlib.sha1(reply_to.encode()).hexdigest()}
        record["reply"] = {"root": ref, "parent": ref}
    return {
        "uri": f"at://did:plc:fan{n % 5}/app.bsky.feed.post/3k{n:011d}",
        "cid": f"bafyrei{n:040d}",
        "author": {"did": f"did:plc:fan{n % 5}", "handle": handle, "displayName": f"Fan {n % 5}"},
        "record": record,
        "replyCount": n % 3,
        "repostCount": n % 4,
        "likeCount": n % 10,
        "quoteCount": 0,
        "indexedAt": _iso(t + 1),
    }


def x_tweet(n: int, t: float, *, reply_to: str | None = None) -> dict[str, Any]:
    """An API v2 post with the fields the connector asks for; ids grow with time."""
    tweet: dict[str, Any] = {
        "id": str(1_850_000_000_000_000_000 + n),
        "text": f"grapevine &amp; friends {n}",
        "author_id": str(100 + n % 3),
        "created_at": _iso(t),
        "lang": "en",
        "conversation_id": str(1_850_000_000_000_000_000 + n),
        "public_metrics": {
            "retweet_count": n % 2,
            "reply_count": 0,
            "like_count": n % 5,
            "quote_count": 0,
        },
    }
    if reply_to is not None:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
    return tweet


X_USERS = [
    {
        "id": str(100 + k),
        "username": f"xuser{k}",
        "name": f"X User {k}",
        "public_metrics": {"followers_count": 10 * k},
    }
    for k in range(3)
]


def reddit_thing(
    n: int, t: float, *, sub: str = "grapevine", comment_on: str | None = None
) -> dict[str, Any]:
    """A Listing child: a ``t3`` post, or a ``t1`` comment on the fullname ``comment_on``."""
    if comment_on is None:
        return {
            "kind": "t3",
            "data": {
                "id": f"p{n}",
                "name": f"t3_p{n}",
                "author": f"redditor{n % 4}",
                "title": f"Anyone tried grapevine? ({n})",
                "selftext": "Looking for opinions.",
                "subreddit": sub,
                "created_utc": float(t),
                "permalink": f"/r/{sub}/comments/p{n}/anyone/",
                "url": f"https://www.reddit.com/r/{sub}/comments/p{n}/anyone/",
                "score": n % 30,
                "num_comments": n % 5,
            },
        }
    return {
        "kind": "t1",
        "data": {
            "id": f"c{n}",
            "name": f"t1_c{n}",
            "author": f"redditor{n % 4}",
            "body": f"grapevine worked for us ({n})",
            "subreddit": sub,
            "created_utc": float(t),
            "parent_id": comment_on,
            "link_id": comment_on,
            "permalink": f"/r/{sub}/comments/x/y/c{n}/",
            "score": n % 11,
        },
    }


class SocialServer:
    """The server; use as a context manager (``with SocialServer() as srv``)."""

    def __init__(self) -> None:
        self.hn: list[dict[str, Any]] = []
        self.bsky: list[dict[str, Any]] = []
        self.reddit: dict[str, list[dict[str, Any]]] = {"new": [], "comments": []}
        self.bsky_requires_auth = True
        self.bsky_records: dict[str, dict[str, Any]] = {}
        self.reddit_comments: list[dict[str, str]] = []
        self.reddit_locked: set[str] = set()
        self.x: list[dict[str, Any]] = []
        self.x_posted: list[dict[str, Any]] = []
        self.rate_remaining: int | None = None  # sent in the rate-limit headers when set
        self._tokens: dict[str, str] = {}  # token -> "bsky" / "reddit-app" / "reddit-user"
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

    def __enter__(self) -> SocialServer:
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
        return [r for r in self.log if urlsplit(r[1]).path == path]

    def expire_tokens(self) -> None:
        """Make every token issued so far expire (Bluesky answers ``400 ExpiredToken``)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = "expired"

    # ------------------------------------------------------------------------ routing
    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        with self._lock:
            self.log.append((method, target, headers))
            queue = self._scripts.get(path)
            if queue:
                return queue.popleft()
        if path == "/api/v1/search_by_date":
            return self._hn(query)
        if path.startswith("/xrpc/"):
            return self._bluesky(method, path.removeprefix("/xrpc/"), query, headers, body)
        if path.startswith("/2/"):
            return self._x(method, path, query, headers, body)
        if path == "/api/v1/access_token":
            return self._reddit_token(headers, body)
        return self._reddit(method, path, query, headers, body)

    # ------------------------------------------------------------------------ HN
    def _hn(self, q: dict[str, list[str]]) -> Reply:
        query = (q.get("query") or [""])[0].lower()
        tags = (q.get("tags") or ["(story,comment)"])[0]
        wanted = tags.strip("()").split(",")
        hits = [h for h in self.hn if any(t in h["_tags"] for t in wanted)]
        if query:
            hits = [
                h for h in hits if query in (h.get("title") or h.get("comment_text") or "").lower()
            ]
        for flt in (q.get("numericFilters") or [""])[0].split(","):
            for op in (">=", "<=", ">", "<", "="):
                if op in flt:
                    name, value = flt.split(op, 1)
                    fn = _OPS[op]
                    hits = [h for h in hits if fn(h[name.strip()], int(value))]
                    break
        hits.sort(key=lambda h: (h["created_at_i"], int(h["objectID"])), reverse=True)
        per = int((q.get("hitsPerPage") or ["20"])[0])
        page = int((q.get("page") or ["0"])[0])
        chunk = hits[page * per : (page + 1) * per]
        return _json(
            {
                "hits": chunk,
                "nbHits": len(hits),
                "page": page,
                "nbPages": -(-len(hits) // per),
                "hitsPerPage": per,
                "exhaustiveNbHits": True,
                "query": query,
            }
        )

    # ------------------------------------------------------------------------ Bluesky
    def _rate(self, reddit: bool = False) -> dict[str, str]:
        if self.rate_remaining is None:
            return {}
        if reddit:
            return {
                "X-Ratelimit-Used": "1",
                "X-Ratelimit-Remaining": str(self.rate_remaining),
                "X-Ratelimit-Reset": "7",
            }
        return {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(self.rate_remaining),
            "ratelimit-reset": str(int(time.time()) + 7),
            "ratelimit-policy": "3000;w=300",
        }

    def _bsky_error(self, status: int, error: str, message: str) -> Reply:
        return _json({"error": error, "message": message}, status)

    def _bluesky(
        self, method: str, nsid: str, q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Reply:
        if nsid == "com.atproto.server.createSession" and method == "POST":
            data = json.loads(body or b"{}")
            if (
                data.get("identifier") not in (BSKY_HANDLE, BSKY_DID)
                or data.get("password") != BSKY_PASSWORD
            ):
                return self._bsky_error(
                    401, "AuthenticationRequired", "Invalid identifier or password"
                )
            token = "jwt-" + hashlib.sha1(f"{time.time_ns()}".encode()).hexdigest()
            with self._lock:
                self._tokens[token] = "bsky"
            return _json(
                {
                    "accessJwt": token,
                    "refreshJwt": "refresh-" + token,
                    "handle": BSKY_HANDLE,
                    "did": BSKY_DID,
                    "active": True,
                }
            )
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth else ""
        if token:
            state = self._tokens.get(token)
            if state is None:
                return self._bsky_error(401, "InvalidToken", "Token could not be verified")
            if state == "expired":
                return self._bsky_error(400, "ExpiredToken", "Token has expired")
        elif self.bsky_requires_auth or method == "POST":
            return self._bsky_error(401, "AuthMissing", "Authentication Required")
        if nsid == "app.bsky.feed.searchPosts":
            return self._search_posts(q)
        if nsid == "app.bsky.feed.getPosts":
            uris = set(q.get("uris") or [])
            views = [v for v in self.bsky if v["uri"] in uris]
            return _json({"posts": views})
        if nsid == "com.atproto.repo.createRecord" and method == "POST":
            return self._create_record(json.loads(body or b"{}"))
        return self._bsky_error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")

    def _search_posts(self, q: dict[str, list[str]]) -> Reply:
        text = (q.get("q") or [""])[0].lower()
        if not text:
            return self._bsky_error(
                400, "InvalidRequest", 'Error: Params must have the property "q"'
            )
        limit = int((q.get("limit") or ["25"])[0])
        if not 1 <= limit <= 100:
            return self._bsky_error(400, "InvalidRequest", "Error: limit must be <= 100")

        def sort_at(v: dict[str, Any]) -> float:
            indexed = _epoch(v["indexedAt"])
            try:  # the index keeps the earlier of the two; a bad createdAt is ignored
                return min(_epoch(v["record"]["createdAt"]), indexed)
            except ValueError:
                return indexed

        views = [v for v in self.bsky if text in v["record"]["text"].lower()]
        if q.get("since"):
            since = _epoch(q["since"][0])
            views = [v for v in views if sort_at(v) >= since]
        views.sort(key=lambda v: (sort_at(v), v["uri"]), reverse=True)
        start = int((q.get("cursor") or ["0"])[0])
        chunk = views[start : start + limit]
        out: dict[str, Any] = {"posts": chunk, "hitsTotal": len(views)}
        if start + limit < len(views):
            out["cursor"] = str(start + limit)
        return _json(out, headers=self._rate())

    def _create_record(self, data: dict[str, Any]) -> Reply:
        if data.get("repo") not in (BSKY_DID, BSKY_HANDLE):
            return self._bsky_error(400, "InvalidRequest", "Input/repo must be the session's DID")
        record = data.get("record") or {}
        if data.get("collection") != "app.bsky.feed.post" or not isinstance(
            record.get("text"), str
        ):
            return self._bsky_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
        reply = record.get("reply") or {}
        for part in ("root", "parent"):
            ref = reply.get(part) or {}
            if not (isinstance(ref.get("uri"), str) and isinstance(ref.get("cid"), str)):
                return self._bsky_error(
                    400, "InvalidRequest", f"Invalid app.bsky.feed.post record: reply/{part}"
                )
        rkey = str(data.get("rkey") or f"3l{len(self.bsky_records):011d}")
        uri = f"at://{BSKY_DID}/app.bsky.feed.post/{rkey}"
        with self._lock:
            if uri in self.bsky_records:
                return self._bsky_error(400, "InvalidRequest", "Record already exists")
            self.bsky_records[uri] = record
        return _json({"uri": uri, "cid": "bafyreply" + hashlib.sha1(uri.encode()).hexdigest()})

    # ------------------------------------------------------------------------ X
    def _x(
        self, method: str, path: str, q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Reply:
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        problem = "https://api.twitter.com/2/problems/"
        if token not in (X_APP_TOKEN, X_USER_TOKEN):
            return _json({"title": "Unauthorized", "type": "about:blank", "status": 401,
                          "detail": "Unauthorized"}, 401)  # fmt: skip
        rate = {}
        if self.rate_remaining is not None:
            rate = {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": str(self.rate_remaining),
                "x-rate-limit-reset": str(int(time.time()) + 9),
            }
        if path == "/2/tweets" and method == "POST":
            if token != X_USER_TOKEN:
                return _json({"title": "Unsupported Authentication", "status": 403,
                              "detail": "Authenticating with OAuth 2.0 Application-Only is "
                              "forbidden for this endpoint.",
                              "type": problem + "unsupported-authentication"}, 403)  # fmt: skip
            data = json.loads(body or b"{}")
            n = len(self.x_posted)
            self.x_posted.append(data)
            return _json({"data": {"id": str(1_900_000_000_000_000_000 + n),
                                   "text": data.get("text")}}, 201)  # fmt: skip
        if path != "/2/tweets/search/recent":
            return _json({"title": "Not Found Error", "status": 404, "detail": path}, 404)
        size = int((q.get("max_results") or ["10"])[0])
        if not 10 <= size <= 100:
            return _json({"errors": [{"parameters": {"max_results": [str(size)]},
                                      "message": "The `max_results` query parameter value "
                                      f"[{size}] is not between 10 and 100"}],
                          "title": "Invalid Request",
                          "detail": "One or more parameters to your request was invalid.",
                          "type": problem + "invalid-request"}, 400)  # fmt: skip
        words = (q.get("query") or [""])[0].lower().split()
        items = [t for t in self.x if all(w in t["text"].lower() for w in words)]
        if q.get("since_id"):
            since = int(q["since_id"][0])
            items = [t for t in items if int(t["id"]) > since]
        items.sort(key=lambda t: int(t["id"]), reverse=True)
        start = int((q.get("next_token") or ["0"])[0])
        chunk = items[start : start + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if not chunk:
            return _json({"meta": meta}, headers=rate)
        meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if start + size < len(items):
            meta["next_token"] = str(start + size)
        authors = {t["author_id"] for t in chunk}
        users = [u for u in X_USERS if u["id"] in authors]
        return _json({"data": chunk, "includes": {"users": users}, "meta": meta}, headers=rate)

    # ------------------------------------------------------------------------ Reddit
    def _reddit_token(self, headers: dict[str, str], body: bytes) -> Reply:
        expected = base64.b64encode(f"{REDDIT_ID}:{REDDIT_SECRET}".encode()).decode()
        if headers.get("authorization", "") != f"Basic {expected}":
            return _json({"message": "Unauthorized", "error": 401}, 401)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "password":
            if form.get("username") != REDDIT_USER or form.get("password") != REDDIT_PASSWORD:
                return _json({"error": "invalid_grant"})
            kind = "reddit-user"
        elif grant == "client_credentials":
            kind = "reddit-app"
        else:
            return _json({"error": "unsupported_grant_type"}, 400)
        token = "rt-" + hashlib.sha1(f"{time.time_ns()}".encode()).hexdigest()
        with self._lock:
            self._tokens[token] = kind
        return _json(
            {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def _reddit(
        self, method: str, path: str, q: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Reply:
        auth = headers.get("authorization", "")
        kind = self._tokens.get(auth.removeprefix("bearer ").strip())
        if kind not in ("reddit-app", "reddit-user"):
            return _json({"message": "Unauthorized", "error": 401}, 401)
        if path == "/api/comment" and method == "POST":
            if kind != "reddit-user":
                return _json({"message": "Forbidden", "error": 403}, 403)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            thing = form.get("thing_id", "")
            if thing in self.reddit_locked:
                errors = [["THREAD_LOCKED", "Comments are locked.", "parent"]]
                return _json({"json": {"errors": errors}})
            n = len(self.reddit_comments)
            self.reddit_comments.append(form)
            data = {"name": f"t1_r{n}", "id": f"r{n}", "body": form.get("text"), "parent_id": thing}
            return _json(
                {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": data}]}}},
                headers=self._rate(True),
            )
        if path == "/search":
            text = (q.get("q") or [""])[0].lower()
            items = [
                t for t in self.reddit["new"] if text in (t["data"].get("title") or "").lower()
            ]
        elif path.startswith("/r/") and path.endswith("/new"):
            sub = path.split("/")[2]
            items = [t for t in self.reddit["new"] if t["data"]["subreddit"] == sub]
        elif path.startswith("/r/") and path.endswith("/comments"):
            sub = path.split("/")[2]
            items = [t for t in self.reddit["comments"] if t["data"]["subreddit"] == sub]
        else:
            return _json({"message": "Not Found", "error": 404}, 404)
        items = sorted(
            items, key=lambda t: (t["data"]["created_utc"], t["data"]["name"]), reverse=True
        )
        limit = min(100, int((q.get("limit") or ["25"])[0]))
        start = 0
        if q.get("after"):
            names = [t["data"]["name"] for t in items]
            start = names.index(q["after"][0]) + 1 if q["after"][0] in names else len(items)
        chunk = items[start : start + limit]
        after = chunk[-1]["data"]["name"] if start + limit < len(items) and chunk else None
        listing = {
            "kind": "Listing",
            "data": {"after": after, "before": None, "dist": len(chunk), "children": chunk},
        }
        return _json(listing, headers=self._rate(True))


def _handler(server: SocialServer) -> type[BaseHTTPRequestHandler]:
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
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler
