"""Read queries behind the overviews: matched posts with their facts, threads, conversions.

Every function takes a connection (or session) and keyword-only arguments and returns
plain rows (dicts); the figures are computed by ``grapevine.listening`` (volumes,
sentiment shares, top authors and terms, top stories, threads) and
``grapevine.referrals`` (conversions over time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

__all__ = [
    "CONVERSION_KINDS",
    "conversion_bounds",
    "conversion_rows",
    "matched_posts",
    "mention_bounds",
    "post_children",
    "post_rows",
    "posts_by_keys",
    "story_ranking",
]

CONVERSION_KINDS = ("signup", "purchase")
"""The referral events that count as conversions."""

_POST_COLUMNS = (
    "p.id AS post_id, p.platform, p.external_id, a.handle AS author, "
    "a.followers AS author_followers, p.time, p.text, p.url, p.parent_external_id, "
    "p.likes, p.reshares, p.replies, ps.language, ps.label, ps.p_negative"
)
_POST_FROM = (
    "FROM posts p JOIN persons a ON a.id = p.author_id "
    "LEFT JOIN post_sentiment ps ON ps.post_id = p.id"
)


def mention_bounds(conn: Connection) -> tuple[float | None, float | None]:
    """The time of the oldest and of the newest matched post (None, None when none)."""
    row = conn.execute(
        text("SELECT min(time), max(time) FROM mentions WHERE time IS NOT NULL")
    ).one()
    return (
        None if row[0] is None else float(row[0]),
        None if row[1] is None else float(row[1]),
    )


def matched_posts(
    conn: Connection,
    *,
    since: float | None = None,
    until: float | None = None,
    rule: str | None = None,
    post_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The matched posts of ``[since, until)`` (of one rule, by name, when given; of these
    posts, when ``post_ids`` is given: at most 500 at a time), one row per post and rule: ``rule``
    plus the post's columns (author, followers, counters, language, sentiment label),
    oldest first."""
    params: dict[str, Any] = {}
    where = _window(since, until, params)
    if rule is not None:
        where.append("r.name = :rule")
        params["rule"] = rule
    if post_ids is not None:
        ids = list(dict.fromkeys(int(i) for i in post_ids))
        if not ids:
            return []
        where.append("m.post_id IN (" + ", ".join(f":p{j}" for j in range(len(ids))) + ")")
        params.update({f"p{j}": v for j, v in enumerate(ids)})
    sql = (
        f"SELECT r.name AS rule, {_POST_COLUMNS} FROM mentions m "
        "JOIN watch_rules r ON r.id = m.rule_id "
        "JOIN posts p ON p.id = m.post_id JOIN persons a ON a.id = p.author_id "
        "LEFT JOIN post_sentiment ps ON ps.post_id = p.id WHERE "
        + " AND ".join(where)
        + " ORDER BY m.time, p.id, r.name"
    )
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def _window(since: float | None, until: float | None, params: dict[str, Any]) -> list[str]:
    """The conditions of mentions timed in ``[since, until)``; binds the bounds in ``params``."""
    where = ["m.time IS NOT NULL"]
    if since is not None:
        where.append("m.time >= :since")
        params["since"] = since
    if until is not None:
        where.append("m.time < :until")
        params["until"] = until
    return where


def _mention_filter(
    since: float | None, until: float | None, rule: str | None, params: dict[str, Any]
) -> str:
    where = _window(since, until, params)
    if rule is not None:
        where.append("m.rule_id IN (SELECT r.id FROM watch_rules r WHERE r.name = :rule)")
        params["rule"] = rule
    return " AND ".join(where)


def story_ranking(
    conn: Connection,
    *,
    since: float | None = None,
    until: float | None = None,
    rule: str | None = None,
    top: int = 10,
) -> list[tuple[int, int]]:
    """The ``top`` matched posts of ``[since, until)`` (of one rule, by name, when given)
    that travelled furthest, as (post id, spread): the spread is the larger of the post's
    own reshares + replies and the stored replies and reshares of it; ties go to more
    likes, then the newer post, then the lower id. Ranked in the database, one query."""
    params: dict[str, Any] = {"top": int(top)}
    where = _mention_filter(since, until, rule, params)
    sql = (
        "SELECT id, CASE WHEN own >= children THEN own ELSE children END AS spread FROM ("
        "SELECT p.id AS id, COALESCE(p.reshares, 0) + COALESCE(p.replies, 0) AS own, "
        "(SELECT count(*) FROM posts c WHERE c.platform = p.platform "
        "AND c.parent_external_id = p.external_id) AS children, "
        "COALESCE(p.likes, 0) AS likes, p.time AS time FROM posts p WHERE p.id IN "
        f"(SELECT m.post_id FROM mentions m WHERE {where})) s "
        "ORDER BY spread DESC, likes DESC, time DESC, id LIMIT :top"
    )
    return [(int(pid), int(spread)) for pid, spread in conn.execute(text(sql), params)]


def post_rows(conn: Connection, *, post_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Stored posts by id, with author, counters and sentiment."""
    ids = list(dict.fromkeys(int(i) for i in post_ids))
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(f":p{j}" for j in range(len(chunk)))
        out.extend(
            dict(r._mapping)
            for r in conn.execute(
                text(f"SELECT {_POST_COLUMNS} {_POST_FROM} WHERE p.id IN ({marks})"),
                {f"p{j}": v for j, v in enumerate(chunk)},
            )
        )
    return out


def posts_by_keys(
    conn: Connection, *, platform: str, external_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Stored posts of one platform by external id."""
    ids = list(dict.fromkeys(external_ids))
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(f":e{j}" for j in range(len(chunk)))
        params: dict[str, Any] = {f"e{j}": v for j, v in enumerate(chunk)}
        params["platform"] = platform
        out.extend(
            dict(r._mapping)
            for r in conn.execute(
                text(
                    f"SELECT {_POST_COLUMNS} {_POST_FROM} "
                    f"WHERE p.platform = :platform AND p.external_id IN ({marks})"
                ),
                params,
            )
        )
    return out


def post_children(
    conn: Connection, *, platform: str, external_ids: Sequence[str], limit: int = 500
) -> list[dict[str, Any]]:
    """The stored replies and reshares of these posts (at most ``limit``), oldest first."""
    ids = list(dict.fromkeys(external_ids))[:500]
    if not ids:
        return []
    marks = ", ".join(f":e{j}" for j in range(len(ids)))
    params: dict[str, Any] = {f"e{j}": v for j, v in enumerate(ids)}
    params.update(platform=platform, limit=int(limit))
    return [
        dict(r._mapping)
        for r in conn.execute(
            text(
                f"SELECT {_POST_COLUMNS} {_POST_FROM} WHERE p.platform = :platform "
                f"AND p.parent_external_id IN ({marks}) ORDER BY p.time, p.id LIMIT :limit"
            ),
            params,
        )
    ]


def conversion_bounds(conn: Connection, *, tenant_id: int) -> tuple[float | None, float | None]:
    """The time of the tenant's oldest and newest conversion (None, None when none)."""
    row = conn.execute(
        text(
            "SELECT min(e.time), max(e.time) FROM referral_events e "
            "JOIN campaigns c ON c.id = e.campaign_id "
            "WHERE c.tenant_id = :tenant AND e.kind IN ('signup', 'purchase')"
        ),
        {"tenant": tenant_id},
    ).one()
    return (
        None if row[0] is None else float(row[0]),
        None if row[1] is None else float(row[1]),
    )


def conversion_rows(
    conn: Connection, *, tenant_id: int, since: float, until: float
) -> list[dict[str, Any]]:
    """The tenant's signups and purchases of ``[since, until)``: time, kind, value,
    campaign name, oldest first."""
    sql = (
        "SELECT e.time, e.kind, e.value, c.name AS campaign FROM referral_events e "
        "JOIN campaigns c ON c.id = e.campaign_id WHERE c.tenant_id = :tenant "
        "AND e.kind IN ('signup', 'purchase') AND e.time >= :since AND e.time < :until "
        "ORDER BY e.time, e.id"
    )
    params = {"tenant": tenant_id, "since": since, "until": until}
    return [dict(r._mapping) for r in conn.execute(text(sql), params)]
