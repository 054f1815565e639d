"""The webcare inbox: a priority per matched post with its parts shown, and the actions on it.

Priority
    ``priority = w_neg * negativity + w_inf * influence + w_vel * velocity + w_rec * recency``,
    each part in [0, 1] and the weights summing to 1 (defaults 0.40, 0.25, 0.20, 0.15), so
    the priority is in [0, 1] too:

    - negativity: the model's P(negative) (1 or 0 for a manual correction; 1/3 when the
      language is unscored: not known, so neither pushed up nor buried);
    - influence: a stored influence score of the author (``persons.attributes['influence']``
      in [0, 1], written by the roles analysis) where present, else
      ``log(1 + followers) / log(1 + followers_ref)`` capped at 1 (0 when unknown);
    - velocity: shares and replies per hour since posting (the larger of the post's own
      counters and the reshares/replies of it in the store), as ``v / (v + velocity_ref)``;
    - recency: ``2 ** (-age / half_life)``.

Actions
    assign, draft, approve, send, resolve: each checks the item's status, changes it and
    writes one audit row (who, what, when). ``send`` posts the approved draft through the
    source's ``reply`` where the platform allows (Mastodon, Bluesky, Reddit); an item from a
    source without a reply API (feeds, Hacker News, files, archives) is refused and stays
    approved: nothing was sent, so nothing counts as a response (answer it on the platform,
    then ``resolve`` it with a note). First-response time: from the moment the item entered
    the inbox to the first reply sent.
"""

from __future__ import annotations

import functools
import math
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from grapevine._validation import check_number
from grapevine.errors import BadInput, InvalidParameter

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.store import Store

__all__ = [
    "PARTS",
    "Priority",
    "PriorityWeights",
    "approve",
    "assign",
    "draft",
    "inbox_items",
    "priority",
    "resolve",
    "response_stats",
    "send",
]

PARTS = ("negativity", "influence", "velocity", "recency")
_UNSCORED_NEGATIVITY = 1.0 / 3.0


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the priority's parts and the scales of its normalisations.

    Parameters
    ----------
    negativity, influence, velocity, recency : float
        Non-negative weights; they are divided by their sum.
    half_life_hours : float
        Recency halves every this many hours.
    followers_ref : float
        Followers that count as full influence (log scale).
    velocity_ref : float
        Shares plus replies per hour at which the velocity part is 0.5.
    """

    negativity: float = 0.40
    influence: float = 0.25
    velocity: float = 0.20
    recency: float = 0.15
    half_life_hours: float = 6.0
    followers_ref: float = 1_000_000.0
    velocity_ref: float = 10.0

    def normalized(self) -> dict[str, float]:
        """The four weights divided by their sum."""
        owner = "PriorityWeights"
        w = {k: float(getattr(self, k)) for k in PARTS}
        for k, v in w.items():
            check_number(v, k, owner, low=0)
        total = sum(w.values())
        if total <= 0:
            raise InvalidParameter("weights", owner, "weights with a positive sum", w)
        check_number(self.half_life_hours, "half_life_hours", owner, low=0, low_closed=False)
        check_number(self.followers_ref, "followers_ref", owner, low=1, low_closed=False)
        check_number(self.velocity_ref, "velocity_ref", owner, low=0, low_closed=False)
        return {k: v / total for k, v in w.items()}


@functools.lru_cache(maxsize=64)
def _normalized(weights: PriorityWeights) -> dict[str, float]:
    # checked and divided once per set of weights, not once per scored post
    return weights.normalized()


@dataclass(frozen=True)
class Priority:
    """A priority in [0, 1] and its four parts (each in [0, 1], before weighting)."""

    score: float
    negativity: float
    influence: float
    velocity: float
    recency: float

    def parts(self) -> dict[str, float]:
        return {
            "negativity": self.negativity,
            "influence": self.influence,
            "velocity": self.velocity,
            "recency": self.recency,
        }


def priority(
    *,
    p_negative: float | None,
    followers: int | None,
    influence: float | None = None,
    reshares: int | None = None,
    replies: int | None = None,
    children: int = 0,
    posted_at: float | None,
    now: float,
    weights: PriorityWeights | None = None,
) -> Priority:
    """The priority of one post, with its parts.

    Parameters
    ----------
    p_negative : float or None
        P(negative) from the sentiment model; None when the post is unscored.
    followers : int or None
        The author's followers.
    influence : float or None
        A stored influence score in [0, 1]; preferred over followers when given.
    reshares, replies : int or None
        The post's own counters, as the platform reported them.
    children : int
        Reshares and replies of the post found in the store.
    posted_at : float or None
        Unix seconds; None (unknown) counts as posted ``now``.
    now : float
    weights : PriorityWeights, optional

    Examples
    --------
    >>> p = priority(p_negative=0.9, followers=10_000, reshares=20, replies=5,
    ...              posted_at=0.0, now=3600.0)
    >>> round(p.score, 3), round(p.negativity, 2), round(p.velocity, 3)
    (0.803, 0.9, 0.714)
    """
    w = weights or PriorityWeights()
    wn = _normalized(w)
    neg = _UNSCORED_NEGATIVITY if p_negative is None else min(1.0, max(0.0, float(p_negative)))
    if influence is not None and math.isfinite(influence):
        inf = min(1.0, max(0.0, float(influence)))
    elif followers is not None and followers > 0:
        inf = min(1.0, math.log1p(followers) / math.log1p(w.followers_ref))
    else:
        inf = 0.0
    age_h = 0.0 if posted_at is None else max(0.0, (now - posted_at) / 3600.0)
    shares = max((reshares or 0) + (replies or 0), children)
    rate = shares / max(age_h, 0.25)  # no post is younger than 15 minutes for this
    vel = rate / (rate + w.velocity_ref)
    rec = 2.0 ** (-age_h / w.half_life_hours)
    parts = {"negativity": neg, "influence": inf, "velocity": vel, "recency": rec}
    score = sum(wn[k] * parts[k] for k in PARTS)
    return Priority(min(1.0, max(0.0, score)), neg, inf, vel, rec)


# ---------------------------------------------------------------------------- listing
def inbox_items(
    store: Store,
    *,
    statuses: Sequence[str] | None = None,
    assignee: str | None = None,
    now: float | None = None,
    weights: PriorityWeights | None = None,
) -> list[dict[str, Any]]:
    """The inbox, highest priority first, each item re-scored at ``now`` with its parts.

    Recency (and velocity) change as time passes, so the priority shown is computed again
    from the stored facts; the values stored at ingestion are in ``stored_priority``.
    """
    from grapevine.store import listening_repo as repo
    from grapevine.store.listening_models import INBOX_STATUSES

    for status in statuses or ():
        if status not in INBOX_STATUSES:
            raise InvalidParameter(
                "statuses", "inbox_items", f"statuses among {list(INBOX_STATUSES)}", status
            )
    now = _time.time() if now is None else now
    with store.engine.connect() as conn:
        rows = repo.inbox_rows(conn, statuses=statuses, assignee=assignee)
        facts = repo.author_facts(conn, post_ids=[r["post_id"] for r in rows])
    out = []
    for r in rows:
        f = facts.get(r["post_id"])
        p = priority(
            p_negative=r["p_negative"],
            followers=r["author_followers"],
            influence=f.influence if f else None,
            reshares=r["reshares"],
            replies=r["replies"],
            children=f.children if f else 0,
            posted_at=r["post_time"],
            now=now,
            weights=weights,
        )
        item = dict(r)
        item["stored_priority"] = item.pop("priority")
        item["priority"] = p.score
        item.update(p.parts())
        out.append(item)
    out.sort(key=lambda i: (-i["priority"], i["id"]))
    return out


# ---------------------------------------------------------------------------- actions
def _act(
    store: Store,
    item_id: int,
    *,
    action: str,
    actor: str,
    allowed: Sequence[str],
    values: Mapping[str, Any],
    detail: str | None,
    now: float | None,
) -> dict[str, Any]:
    from grapevine.store import listening_repo as repo

    if not isinstance(actor, str) or not actor.strip():
        raise InvalidParameter("actor", f"inbox {action}", "a non-empty name", actor)
    now = _time.time() if now is None else now
    with store.engine.begin() as conn:
        item = repo.get_item(conn, item_id=item_id)
        if item is None:
            raise BadInput(f"no inbox item {item_id}", field="id")
        if item["status"] not in allowed:
            raise InvalidParameter(
                "id",
                f"inbox {action}",
                f"an item whose status is one of {list(allowed)}",
                f"item {item_id} is {item['status']}",
            )
        repo.update_item(conn, item_id=item_id, values={**values, "updated_at": now})
        repo.add_audit(conn, item_id=item_id, actor=actor, action=action, detail=detail, now=now)
        updated = repo.get_item(conn, item_id=item_id)
    assert updated is not None
    return updated


_OPEN = ("new", "assigned", "drafted", "approved")


def assign(
    store: Store, item_id: int, assignee: str, *, actor: str, now: float | None = None
) -> dict[str, Any]:
    """Give the item to ``assignee`` (an open item only; a new one becomes 'assigned')."""
    if not isinstance(assignee, str) or not assignee.strip():
        raise InvalidParameter("assignee", "inbox assign", "a non-empty name", assignee)
    from grapevine.store import listening_repo as repo

    with store.engine.connect() as conn:
        item = repo.get_item(conn, item_id=item_id)
    status = item["status"] if item else "new"
    values: dict[str, Any] = {"assignee": assignee.strip()}
    if status == "new":
        values["status"] = "assigned"
    return _act(
        store,
        item_id,
        action="assign",
        actor=actor,
        allowed=_OPEN,
        values=values,
        detail=assignee.strip(),
        now=now,
    )


def draft(
    store: Store, item_id: int, text: str, *, actor: str, now: float | None = None
) -> dict[str, Any]:
    """Write (or rewrite) the reply; a rewritten approved draft needs approving again."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter("text", "inbox draft", "a non-empty reply", text)
    return _act(
        store,
        item_id,
        action="draft",
        actor=actor,
        allowed=_OPEN,
        values={"draft": text, "status": "drafted"},
        detail=text,
        now=now,
    )


def approve(store: Store, item_id: int, *, actor: str, now: float | None = None) -> dict[str, Any]:
    """Approve the drafted reply."""
    return _act(
        store,
        item_id,
        action="approve",
        actor=actor,
        allowed=("drafted",),
        values={"status": "approved"},
        detail=None,
        now=now,
    )


def send(
    store: Store,
    item_id: int,
    *,
    actor: str,
    source: Any | None = None,
    lookup: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """Send the approved reply.

    Through ``source.reply(post_external_id, draft)`` when the source has one (Mastodon,
    Bluesky, Reddit);
    the id of the reply is kept and the first-response time is taken. With ``lookup`` and
    no ``source``, the source that delivered the post is built from its stored
    configuration (a Mastodon, Bluesky or Reddit source can reply).

    Raises
    ------
    BadInput
        For an unknown item, or an item whose source has no reply API (a feed, a file, an
        archive): nothing is sent, the item stays approved and no response is counted;
        answer it on the platform and close it with :func:`resolve` (with a note).
    InvalidParameter
        For an item that is not approved.
    """
    from grapevine.store import listening_repo as repo

    with store.engine.connect() as conn:
        item = repo.get_item(conn, item_id=item_id)
    if item is None:
        raise BadInput(f"no inbox item {item_id}", field="id")
    if item["status"] != "approved":
        raise InvalidParameter(
            "id",
            "inbox send",
            "an item whose status is ['approved']",
            f"item {item_id} is {item['status']}",
        )
    now = _time.time() if now is None else now
    built = source is None and lookup and item["source_id"] is not None
    if built:
        source = _stored_source(store, int(item["source_id"]))
    reply = getattr(source, "reply", None) if source is not None else None
    if not callable(reply):
        raise BadInput(
            f"inbox item {item_id} came from {item['platform']}, which has no reply API here: "
            "nothing was sent and the item stays approved. Post the reply on the platform "
            f"yourself, then close the item with `grapevine inbox resolve {item_id} --note "
            "'answered on the platform'`",
            field="id",
        )
    try:
        reply_id = reply(item["external_id"], item["draft"])
    finally:
        close = getattr(source, "close", None) if built else None
        if callable(close):
            close()  # the connection of a source built here
    values: dict[str, Any] = {
        "status": "sent",
        "send_mode": "api",
        "reply_external_id": str(reply_id),
    }
    detail = f"sent through {getattr(source, 'name', 'the source')}: {reply_id}"
    if item["first_response_at"] is None:
        values["first_response_at"] = now
    return _act(
        store,
        item_id,
        action="send",
        actor=actor,
        allowed=("approved",),
        values=values,
        detail=detail,
        now=now,
    )


def _stored_source(store: Store, source_id: int) -> Any | None:
    from grapevine.listening._pipeline import build_source
    from grapevine.store import listening_repo as repo

    with store.engine.connect() as conn:
        row = repo.find_source(conn, source_id=source_id)
    if row is None or row["kind"] not in ("mastodon", "bluesky", "reddit", "x"):
        return None
    return build_source(row)


def resolve(
    store: Store, item_id: int, *, actor: str, note: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """Close the item (answered or not)."""
    return _act(
        store,
        item_id,
        action="resolve",
        actor=actor,
        allowed=(*_OPEN, "sent"),
        values={"status": "resolved"},
        detail=note,
        now=now,
    )


def _figures(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"answered": 0, "median_s": None, "p90_s": None}
    arr = np.asarray(seconds, dtype=np.float64)
    return {
        "answered": len(seconds),
        "median_s": float(np.median(arr)),
        "p90_s": float(np.percentile(arr, 90)),
    }


def response_stats(store: Store) -> dict[str, Any]:
    """First-response times (median, 90th percentile) overall and per assignee, and counts.

    A response time runs from the moment the item entered the inbox to its first reply sent;
    items not answered yet are counted as ``open`` (or ``resolved_without_reply``).
    """
    from grapevine.store import listening_repo as repo

    with store.engine.connect() as conn:
        rows = repo.response_rows(conn)
    by_status: dict[str, int] = {}
    per: dict[str, list[float]] = {}
    overall: list[float] = []
    unanswered_resolved = 0
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        if r["first_response_at"] is not None:
            dt = max(0.0, r["first_response_at"] - r["created_at"])
            overall.append(dt)
            per.setdefault(r["assignee"] or "(unassigned)", []).append(dt)
        elif r["status"] == "resolved":
            unanswered_resolved += 1
    return {
        "items": len(rows),
        "by_status": by_status,
        "open": sum(by_status.get(s, 0) for s in _OPEN),
        "resolved_without_reply": unanswered_resolved,
        "overall": _figures(overall),
        "per_assignee": {k: _figures(v) for k, v in sorted(per.items())},
    }
