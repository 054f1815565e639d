"""The webcare inbox.

- ``GET /inbox``: the items, highest priority first, with the four parts of each priority
  (``?status=open`` by default, a status, or ``all``; ``?mine=1`` for one's own),
  :data:`PAGE_SIZE` a page (``?page=2`` for the next ones; the CSV has them all), and the
  first-response times overall and per assignee.
- ``GET /inbox/{item_id}``: the item, its post in its thread, its audit trail and the
  actions its status allows.
- ``POST /inbox/{item_id}/{action}``: assign, draft, approve, send, resolve, through the
  workflows of :mod:`grapevine.listening` (each changes the item and writes the audit
  trail, the signed-in user as the actor); editors and admins only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from grapevine import listening
from grapevine.dashboard._access import DbSession, Editor, Viewer, ViewerDep
from grapevine.dashboard._format import clip, when
from grapevine.dashboard._render import render
from grapevine.dashboard._tables import Table
from grapevine.errors import BadInput, InvalidParameter, NotFound
from grapevine.store import Store, listening_repo
from grapevine.store.listening_models import INBOX_STATUSES

__all__ = ["ACTIONS", "PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

OPEN = ("new", "assigned", "drafted", "approved")
ACTIONS = {
    "assign": OPEN,
    "draft": OPEN,
    "approve": ("drafted",),
    "send": ("approved",),
    "resolve": (*OPEN, "sent"),
}
"""Each action and the statuses it applies to (as the workflows check them)."""

PAGE_SIZE = 100
"""Inbox items shown a page, highest priority first (the CSV download has every item)."""


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def _response_table(stats: dict[str, Any]) -> Table:
    rows = [
        (
            "everyone",
            stats["overall"]["answered"],
            _duration(stats["overall"]["median_s"]),
            _duration(stats["overall"]["p90_s"]),
        )
    ]
    rows += [
        (who, f["answered"], _duration(f["median_s"]), _duration(f["p90_s"]))
        for who, f in stats["per_assignee"].items()
    ]
    return Table(
        "response_times",
        ["Assignee", "Answered", "Median first response", "90th percentile"],
        rows,
        caption="First-response times",
    )


@router.get("/inbox")
def inbox_page(request: Request, session: DbSession, viewer: ViewerDep) -> Response:
    """The ranked inbox (or its tables as CSV)."""
    store = _store(request)
    status = request.query_params.get("status", "open")
    if status == "open":
        statuses: tuple[str, ...] | None = OPEN
    elif status == "all":
        statuses = None
    elif status in INBOX_STATUSES:
        statuses = (status,)
    else:
        raise HTTPException(
            400, f"status must be open, all or one of {', '.join(INBOX_STATUSES)}; got {status!r}"
        )
    mine = request.query_params.get("mine") == "1"
    raw_page = request.query_params.get("page", "1")
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise HTTPException(400, f"page must be a whole number from 1, got {raw_page!r}")
    page = int(raw_page)
    items = listening.inbox_items(
        store, statuses=statuses, assignee=viewer.username if mine else None
    )
    pages = max(1, -(-len(items) // PAGE_SIZE))
    count = len(items)
    if request.query_params.get("format") != "csv":
        items = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    table = Table(
        "inbox",
        [
            "Priority",
            "Negativity",
            "Influence",
            "Velocity",
            "Recency",
            "Status",
            "Assignee",
            "Author",
            "Post",
            "Rules",
            "Posted (UTC)",
        ],
        [
            (
                round(i["priority"], 3),
                round(i["negativity"], 2),
                round(i["influence"], 2),
                round(i["velocity"], 2),
                round(i["recency"], 2),
                i["status"],
                i["assignee"] or "",
                i["author"],
                clip(i["text"]),
                i["rules"],
                when(i["post_time"]),
            )
            for i in items
        ],
        caption="Inbox, highest priority first",
        links={"Post": [f"/inbox/{i['id']}" for i in items]},
    )
    stats = listening.response_stats(store)
    return render(
        request,
        "inbox.html",
        {
            "status": status,
            "mine": mine,
            "statuses": ("open", "all", *INBOX_STATUSES),
            "stats": stats,
            "count": count,
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1,
            "last": (page - 1) * PAGE_SIZE + len(items),
            "can_act": viewer.can("editor"),
        },
        viewer=viewer,
        active="inbox",
        tables=[table, _response_table(stats)],
    )


def _item(store: Store, item_id: int) -> dict[str, Any]:
    for item in listening.inbox_items(store):
        if item["id"] == item_id:
            return item
    raise HTTPException(404, f"no inbox item {item_id}")


def _item_page(
    request: Request,
    viewer: Viewer,
    item_id: int,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    store = _store(request)
    item = _item(store, item_id)
    try:
        thread = listening.post_thread(store, post_id=int(item["post_id"]))
    except NotFound:  # the post was erased after the item was made
        thread = None
    with store.engine.connect() as conn:
        audit = listening_repo.audit_trail(conn, item_id=item_id)
    audit_table = Table(
        "audit",
        ["When (UTC)", "Who", "Action", "Detail"],
        [(when(a["at"]), a["actor"], a["action"], a["detail"] or "") for a in audit],
        caption="Audit trail",
    )
    thread_rows = []
    if thread is not None:
        thread_rows = [
            *({**p, "depth": -(len(thread.ancestors) - i)} for i, p in enumerate(thread.ancestors)),
            {**thread.post, "depth": 0},
            *thread.replies,
        ]
    thread_table = Table(
        "thread",
        ["Level", "Posted (UTC)", "Author", "Post", "Sentiment"],
        [
            (r["depth"], when(r["time"]), r["author"], clip(r["text"], 280), r["label"] or "")
            for r in thread_rows
        ],
        caption="Thread",
        links={"Post": [f"/listening/posts/{r['post_id']}" for r in thread_rows]},
    )
    allowed = [a for a, statuses in ACTIONS.items() if item["status"] in statuses]
    return render(
        request,
        "inbox_item.html",
        {
            "item": item,
            "when": when,
            "allowed": allowed if viewer.can("editor") else [],
            "error": error,
            "done": done,
        },
        viewer=viewer,
        active="inbox",
        tables=[thread_table, audit_table],
        status_code=status_code,
    )


@router.get("/inbox/{item_id}")
def item_page(request: Request, item_id: int, session: DbSession, viewer: ViewerDep) -> Response:
    """One inbox item with its thread, audit trail and actions."""
    done = request.query_params.get("done")
    return _item_page(request, viewer, item_id, done=done if done in ACTIONS else None)


@router.post("/inbox/{item_id}/{action}")
def act(
    request: Request,
    item_id: int,
    action: str,
    session: DbSession,
    viewer: Editor,
    assignee: Annotated[str, Form(max_length=255)] = "",
    text: Annotated[str, Form(max_length=10_000)] = "",
    note: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    """Run one action on the item, then show it again (303), or the page with the error."""
    if action not in ACTIONS:
        raise HTTPException(404, f"no inbox action {action!r}")
    store = _store(request)
    actor = viewer.username
    try:
        if action == "assign":
            listening.assign(store, item_id, assignee.strip() or actor, actor=actor)
        elif action == "draft":
            listening.draft(store, item_id, text, actor=actor)
        elif action == "approve":
            listening.approve(store, item_id, actor=actor)
        elif action == "send":
            listening.send(store, item_id, actor=actor)
        else:
            listening.resolve(store, item_id, actor=actor, note=note.strip() or None)
    except (BadInput, InvalidParameter) as exc:
        if isinstance(exc, BadInput) and str(exc).startswith("id: no inbox item"):
            raise HTTPException(404, f"no inbox item {item_id}") from None
        code = 409 if isinstance(exc, InvalidParameter) and exc.name == "id" else 400
        if isinstance(exc, BadInput) and action == "send":
            code = 409  # no reply API: nothing sent, the item stays approved
        return _item_page(request, viewer, item_id, error=str(exc), status_code=code)
    return RedirectResponse(f"/inbox/{item_id}?done={action}", status_code=303)
