"""Every query of listening: sources and cursors, rules, posts with sentiment, mentions, inbox.

Keyword-only functions over a :class:`~sqlalchemy.Connection`; they never commit (the caller
owns the transaction, so a batch of posts and the cursor that follows it are written together
or not at all). The rules (matching, priority, the inbox's state machine) live in
:mod:`grapevine.listening`; this module only reads and writes rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from grapevine.connectors import Batch, ListenedPost
from grapevine.connectors._records import POST_COLUMNS
from grapevine.errors import GrapevineError, InvalidParameter, StoreError
from grapevine.store._write import write_batch
from grapevine.store.listening_models import (
    InboxAudit,
    InboxItem,
    ListenSource,
    SentimentCorrection,
    WatchRuleRow,
)

__all__ = [
    "AuthorFacts",
    "ScoredPost",
    "add_audit",
    "add_correction",
    "add_inbox_items",
    "add_rule",
    "add_source",
    "advance_source",
    "audit_trail",
    "author_facts",
    "corrections",
    "existing_keys",
    "find_source",
    "get_item",
    "inbox_rows",
    "list_rules",
    "list_sources",
    "mention_rows",
    "posts_by_ids",
    "record_failure",
    "response_rows",
    "transaction",
    "update_item",
    "write_mentions",
    "write_posts",
]

_CHUNK = 500


@dataclass(frozen=True)
class ScoredPost:
    """What the pipeline learnt about one post: its language and sentiment."""

    language: str | None
    label: str
    confidence: float
    p_negative: float | None
    source: str
    text_hash: str | None


@dataclass(frozen=True)
class AuthorFacts:
    """What the store knows that a post's priority needs."""

    post_id: int
    followers: int | None
    influence: float | None
    children: int


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()``, with the database's own errors raised as :class:`StoreError`."""
    try:
        with engine.begin() as conn:
            yield conn
    except GrapevineError:
        raise
    except (SQLAlchemyError, OSError, ValueError) as exc:  # driver errors (COPY) included
        raise StoreError(f"the store refused the batch: {str(exc).splitlines()[0]}") from exc


# ---------------------------------------------------------------------------- sources
def add_source(
    conn: Connection, *, kind: str, name: str, config: Mapping[str, Any], now: float
) -> int:
    """Register a source; a name already registered is an error."""
    if conn.execute(select(ListenSource.id).where(ListenSource.name == name)).first():
        raise InvalidParameter("name", "listen add", "a source name not yet registered", name)
    return int(
        conn.execute(
            insert(ListenSource)
            .values(
                kind=kind,
                name=name,
                config=dict(config),
                status="new",
                failures=0,
                posts_seen=0,
                created_at=now,
            )
            .returning(ListenSource.id)
        ).scalar_one()
    )


def _source_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    """Every source with its cursor, status, failures and last error."""
    rows = conn.execute(select(ListenSource.__table__).order_by(ListenSource.id)).all()
    return [_source_dict(r) for r in rows]


def find_source(conn: Connection, *, source_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(ListenSource.__table__).where(ListenSource.id == source_id)).first()
    return None if row is None else _source_dict(row)


def advance_source(
    conn: Connection, *, source_id: int, cursor: str | None, posts: int, now: float
) -> None:
    """A good fetch: the new cursor, the status back to ok, the failure count reset."""
    conn.execute(
        update(ListenSource)
        .where(ListenSource.id == source_id)
        .values(
            cursor=cursor,
            status="ok",
            failures=0,
            next_attempt_at=None,
            last_run_at=now,
            posts_seen=ListenSource.posts_seen + posts,
        )
    )


def record_failure(
    conn: Connection, *, source_id: int, error: str, next_attempt_at: float, now: float
) -> None:
    """A failed fetch: the cursor is left as it was; the failure is counted and kept."""
    conn.execute(
        update(ListenSource)
        .where(ListenSource.id == source_id)
        .values(
            status="failing",
            last_error=error,
            last_error_at=now,
            failures=ListenSource.failures + 1,
            next_attempt_at=next_attempt_at,
            last_run_at=now,
        )
    )


# ---------------------------------------------------------------------------- rules
def add_rule(conn: Connection, *, name: str, query: str, now: float) -> int:
    """Add a watch rule, or replace the query of the rule with that name (reactivating it)."""
    row = conn.execute(select(WatchRuleRow.id).where(WatchRuleRow.name == name)).first()
    if row is not None:
        conn.execute(
            update(WatchRuleRow).where(WatchRuleRow.id == row[0]).values(query=query, active=True)
        )
        return int(row[0])
    return int(
        conn.execute(
            insert(WatchRuleRow)
            .values(name=name, query=query, active=True, created_at=now)
            .returning(WatchRuleRow.id)
        ).scalar_one()
    )


def list_rules(conn: Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Rules with their match counts (all time, and negative)."""
    sql = (
        "SELECT r.id, r.name, r.query, r.active, count(m.post_id), "
        "sum(CASE WHEN ps.label = 'negative' THEN 1 ELSE 0 END), max(m.time) "
        "FROM watch_rules r LEFT JOIN mentions m ON m.rule_id = r.id "
        "LEFT JOIN post_sentiment ps ON ps.post_id = m.post_id "
    )
    if active_only:
        sql += "WHERE r.active = true "
    sql += "GROUP BY r.id, r.name, r.query, r.active ORDER BY r.id"
    return [
        {
            "id": int(i),
            "name": n,
            "query": q,
            "active": bool(a),
            "matches": int(c),
            "negative": int(neg or 0),
            "last_match": t,
        }
        for i, n, q, a, c, neg, t in conn.execute(text(sql)).all()
    ]


# ---------------------------------------------------------------------------- corrections
def corrections(conn: Connection) -> dict[str, str]:
    """Every manual label, by text hash."""
    rows = conn.execute(select(SentimentCorrection.text_hash, SentimentCorrection.label)).all()
    return {h: lab for h, lab in rows}


def add_correction(conn: Connection, *, text_hash: str, label: str, by: str, now: float) -> int:
    """Store a manual label (replacing an earlier one) and apply it to the stored posts.

    Returns the number of stored posts whose label it set.
    """
    row = conn.execute(
        select(SentimentCorrection.id).where(SentimentCorrection.text_hash == text_hash)
    ).first()
    if row is None:
        conn.execute(
            insert(SentimentCorrection).values(text_hash=text_hash, label=label, by=by, at=now)
        )
    else:
        conn.execute(
            update(SentimentCorrection)
            .where(SentimentCorrection.id == row[0])
            .values(label=label, by=by, at=now)
        )
    return int(
        conn.execute(
            text(
                "UPDATE post_sentiment SET label = :label, confidence = 1.0, "
                "p_negative = :pneg, source = 'correction', scored_at = :now "
                "WHERE text_hash = :h"
            ),
            {
                "label": label,
                "pneg": 1.0 if label == "negative" else 0.0,
                "now": now,
                "h": text_hash,
            },
        ).rowcount
    )


# ---------------------------------------------------------------------------- posts
def existing_keys(conn: Connection, *, platform: str, external_ids: Sequence[str]) -> set[str]:
    """The ids among ``external_ids`` already stored for ``platform``."""
    found: set[str] = set()
    ids = list(dict.fromkeys(external_ids))
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join(f":e{j}" for j in range(len(chunk)))
        params: dict[str, Any] = {f"e{j}": e for j, e in enumerate(chunk)}
        params["platform"] = platform
        found.update(
            r[0]
            for r in conn.execute(
                text(
                    "SELECT external_id FROM posts WHERE platform = :platform "
                    f"AND external_id IN ({marks})"
                ),
                params,
            )
        )
    return found


def _frames(posts: Sequence[ListenedPost]) -> tuple[pd.DataFrame, pd.DataFrame]:
    post_rows = [
        (
            p.external_id,
            p.author,
            p.time,
            p.text,
            p.language,
            p.url,
            p.parent_external_id,
            None,
            p.likes,
            p.reshares,
            p.replies,
            None,
        )
        for p in posts
    ]
    frame = pd.DataFrame.from_records(post_rows, columns=list(POST_COLUMNS))
    people: dict[str, tuple[str | None, int | None]] = {}
    for p in posts:
        name, followers = people.get(p.author, (None, None))
        people[p.author] = (
            p.author_name or name,
            p.author_followers if p.author_followers is not None else followers,
        )
    persons = pd.DataFrame.from_records(
        [(h, n, f, None) for h, (n, f) in people.items()],
        columns=["handle", "display_name", "followers", "attributes"],
    )
    persons["followers"] = persons["followers"].astype(float)
    return frame, persons


def write_posts(
    conn: Connection,
    *,
    posts: Sequence[ListenedPost],
    scores: Sequence[ScoredPost],
    model_version: str,
    now: float,
) -> list[int]:
    """Store posts (and their authors) with their language and sentiment; return the post ids.

    Posts already stored keep their row (natural key ``platform, external_id``) and their
    sentiment; the ids returned are aligned with ``posts``.
    """
    if len(posts) != len(scores):
        raise StoreError("write_posts: posts and scores differ in length")
    ids: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[ListenedPost]] = {}
    for p in posts:
        by_platform.setdefault(p.platform, []).append(p)
    for platform, group in by_platform.items():
        frame, persons = _frames(group)
        write_batch(conn, Batch(platform=platform, rows=len(group), persons=persons, posts=frame))
        for ext, pid in conn.execute(
            text(
                "SELECT sp.external_id, p.id FROM stage_posts sp JOIN posts p "
                "ON p.platform = :platform AND p.external_id = sp.external_id"
            ),
            {"platform": platform},
        ):
            ids[(platform, ext)] = int(pid)
    out = [ids[(p.platform, p.external_id)] for p in posts]
    rows = [
        {
            "post_id": pid,
            "language": s.language,
            "label": s.label,
            "confidence": s.confidence,
            "p_negative": s.p_negative,
            "source": s.source,
            "model_version": model_version,
            "text_hash": s.text_hash,
            "scored_at": now,
        }
        for pid, s in zip(out, scores, strict=True)
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO post_sentiment (post_id, language, label, confidence, p_negative, "
                "source, model_version, text_hash, scored_at) VALUES (:post_id, :language, "
                ":label, :confidence, :p_negative, :source, :model_version, :text_hash, "
                ":scored_at) ON CONFLICT (post_id) DO NOTHING"
            ),
            rows,
        )
    return out


def write_mentions(
    conn: Connection,
    *,
    post_ids: Sequence[int],
    rule_ids: Sequence[Sequence[int]],
    times: Sequence[float | None],
) -> int:
    """Link posts to the rules they matched (idempotent); returns the pairs given."""
    rows = [
        {"post_id": pid, "rule_id": rid, "time": t}
        for pid, rids, t in zip(post_ids, rule_ids, times, strict=True)
        for rid in rids
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO mentions (post_id, rule_id, time) VALUES (:post_id, :rule_id, :time) "
                "ON CONFLICT (post_id, rule_id) DO NOTHING"
            ),
            rows,
        )
    return len(rows)


def author_facts(conn: Connection, *, post_ids: Sequence[int]) -> dict[int, AuthorFacts]:
    """Followers, a stored influence score (``persons.attributes['influence']``) and the
    number of stored reshares/replies of each post."""
    out: dict[int, AuthorFacts] = {}
    ids = list(dict.fromkeys(post_ids))
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join(f":p{j}" for j in range(len(chunk)))
        params = {f"p{j}": v for j, v in enumerate(chunk)}
        rows = conn.execute(
            text(
                "SELECT p.id, a.followers, a.attributes, (SELECT count(*) FROM posts c "
                "WHERE c.platform = p.platform AND c.parent_external_id = p.external_id) "
                f"FROM posts p JOIN persons a ON a.id = p.author_id WHERE p.id IN ({marks})"
            ),
            params,
        ).all()
        for pid, followers, attrs, children in rows:
            if isinstance(attrs, str):
                attrs = json.loads(attrs)
            influence = None
            if isinstance(attrs, dict):
                value = attrs.get("influence")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    influence = float(value)
            out[int(pid)] = AuthorFacts(
                int(pid), None if followers is None else int(followers), influence, int(children)
            )
    return out


def posts_by_ids(conn: Connection, *, post_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Stored posts with author handle and sentiment, by id."""
    ids = list(dict.fromkeys(post_ids))
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join(f":p{j}" for j in range(len(chunk)))
        params = {f"p{j}": v for j, v in enumerate(chunk)}
        for row in conn.execute(text(_POST_SELECT + f" WHERE p.id IN ({marks})"), params):
            out[int(row[0])] = dict(row._mapping)
    return out


_POST_SELECT = (
    "SELECT p.id AS post_id, p.platform, p.external_id, a.handle AS author, "
    "a.followers AS author_followers, p.time, p.text, p.url, p.parent_external_id, "
    "p.likes, p.reshares, p.replies, ps.language, ps.label, ps.confidence, ps.p_negative "
    "FROM posts p JOIN persons a ON a.id = p.author_id "
    "LEFT JOIN post_sentiment ps ON ps.post_id = p.id"
)


def mention_rows(
    conn: Connection,
    *,
    rule_id: int | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[dict[str, Any]]:
    """Matched posts (rule id, post id, time, label, text, author, parent) in a time range."""
    where = ["m.time IS NOT NULL"]
    params: dict[str, Any] = {}
    if rule_id is not None:
        where.append("m.rule_id = :rule")
        params["rule"] = rule_id
    if since is not None:
        where.append("m.time >= :since")
        params["since"] = since
    if until is not None:
        where.append("m.time < :until")
        params["until"] = until
    sql = (
        "SELECT m.rule_id, p.id AS post_id, m.time, ps.label, ps.language, p.text, "
        "a.handle AS author, p.platform, p.external_id, p.parent_external_id "
        "FROM mentions m JOIN posts p ON p.id = m.post_id "
        "JOIN persons a ON a.id = p.author_id "
        "LEFT JOIN post_sentiment ps ON ps.post_id = m.post_id WHERE "
        + " AND ".join(where)
        + " ORDER BY m.time"
    )
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


# ---------------------------------------------------------------------------- inbox
def add_inbox_items(conn: Connection, *, items: Sequence[Mapping[str, Any]]) -> int:
    """Insert inbox items; a post already in the inbox is skipped. Returns the new ones."""
    if not items:
        return 0
    ids = list(dict.fromkeys(int(i["post_id"]) for i in items))
    present = 0
    for k in range(0, len(ids), _CHUNK):
        chunk = ids[k : k + _CHUNK]
        marks = ", ".join(f":p{j}" for j in range(len(chunk)))
        present += conn.execute(
            text(f"SELECT count(*) FROM inbox_items WHERE post_id IN ({marks})"),
            {f"p{j}": v for j, v in enumerate(chunk)},
        ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO inbox_items (post_id, source_id, rules, priority, negativity, influence, "
            "velocity, recency, scored_at, status, created_at, updated_at) VALUES (:post_id, "
            ":source_id, :rules, :priority, :negativity, :influence, :velocity, :recency, "
            ":scored_at, 'new', :created_at, :created_at) ON CONFLICT (post_id) DO NOTHING"
        ),
        list(items),
    )
    return len(ids) - int(present)


_ITEM_SELECT = (
    "SELECT i.id, i.post_id, i.source_id, i.rules, i.priority, i.negativity, i.influence, "
    "i.velocity, i.recency, i.scored_at, i.status, i.assignee, i.draft, i.send_mode, "
    "i.reply_external_id, i.first_response_at, i.created_at, i.updated_at, "
    "p.platform, p.external_id, a.handle AS author, a.followers AS author_followers, "
    "p.time AS post_time, p.text, p.url, p.reshares, p.replies, ps.label, ps.confidence, "
    "ps.p_negative, ps.language FROM inbox_items i JOIN posts p ON p.id = i.post_id "
    "JOIN persons a ON a.id = p.author_id LEFT JOIN post_sentiment ps ON ps.post_id = i.post_id"
)


def inbox_rows(
    conn: Connection,
    *,
    statuses: Sequence[str] | None = None,
    assignee: str | None = None,
) -> list[dict[str, Any]]:
    """Inbox items joined with their post, author and sentiment."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if statuses:
        marks = ", ".join(f":s{i}" for i in range(len(statuses)))
        where.append(f"i.status IN ({marks})")
        params.update({f"s{i}": s for i, s in enumerate(statuses)})
    if assignee is not None:
        where.append("i.assignee = :assignee")
        params["assignee"] = assignee
    sql = _ITEM_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY i.id"
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def get_item(conn: Connection, *, item_id: int) -> dict[str, Any] | None:
    row = conn.execute(text(_ITEM_SELECT + " WHERE i.id = :id"), {"id": item_id}).first()
    return None if row is None else dict(row._mapping)


def update_item(conn: Connection, *, item_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(InboxItem).where(InboxItem.id == item_id).values(**values))


def add_audit(
    conn: Connection, *, item_id: int, actor: str, action: str, detail: str | None, now: float
) -> None:
    conn.execute(
        insert(InboxAudit).values(
            item_id=item_id, actor=actor, action=action, detail=detail, at=now
        )
    )


def audit_trail(conn: Connection, *, item_id: int | None = None) -> list[dict[str, Any]]:
    """The audit rows (of one item, or all), oldest first."""
    stmt = select(InboxAudit.__table__).order_by(InboxAudit.id)
    if item_id is not None:
        stmt = stmt.where(InboxAudit.item_id == item_id)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def response_rows(conn: Connection) -> list[dict[str, Any]]:
    """Per item: status, assignee, when it entered the inbox and when it was first answered."""
    rows = conn.execute(
        select(
            InboxItem.id,
            InboxItem.status,
            InboxItem.assignee,
            InboxItem.created_at,
            InboxItem.first_response_at,
        ).order_by(InboxItem.id)
    ).all()
    return [dict(r._mapping) for r in rows]
