"""Writing batches of records: stage in temporary tables, then set-based upserts.

One code path for SQLite and PostgreSQL: rows go into per-connection
staging tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL), and a
handful of ``INSERT ... SELECT ... ON CONFLICT`` statements move them into
the real tables, resolving handles to person ids with joins. Everything
happens inside the caller's transaction, so a batch is written whole or not
at all, and the natural keys make a re-run a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from grapevine.connectors import Batch
from grapevine.connectors._records import PERSON_COLUMNS, POST_COLUMNS, TIE_COLUMNS, check_batch
from grapevine.errors import StoreError

__all__ = ["WriteResult", "write_batch"]

_STAGE = {
    "stage_persons": (
        "handle TEXT, display_name TEXT, followers BIGINT, attributes TEXT",
        PERSON_COLUMNS,
    ),
    "stage_ties": (
        "source TEXT, target TEXT, kind TEXT, weight DOUBLE PRECISION, time DOUBLE PRECISION",
        TIE_COLUMNS,
    ),
    "stage_posts": (
        "external_id TEXT, author TEXT, time DOUBLE PRECISION, text TEXT, language TEXT, "
        "url TEXT, parent_external_id TEXT, cascade_id TEXT, likes BIGINT, reshares BIGINT, "
        "replies BIGINT, views BIGINT",
        POST_COLUMNS,
    ),
}


@dataclass
class WriteResult:
    """New rows written per table (rows already present are not counted)."""

    new: dict[str, int] = field(default_factory=lambda: {"persons": 0, "ties": 0, "posts": 0})

    def add(self, other: WriteResult) -> None:
        for k, v in other.new.items():
            self.new[k] = self.new.get(k, 0) + v

    @property
    def total(self) -> int:
        return sum(self.new.values())


def _ensure_staging(conn: Connection) -> None:
    pg = conn.dialect.name == "postgresql"
    for name, (cols, _) in _STAGE.items():
        if pg:
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols}) ON COMMIT DELETE ROWS"
            )
        else:
            conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols})")
            conn.exec_driver_sql(f"DELETE FROM {name}")


def _column_values(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    cols: list[list[Any]] = []
    n = len(frame)
    for c in columns:
        if c not in frame.columns:
            cols.append([None] * n)
            continue
        s = frame[c]
        if c == "attributes":
            cols.append(
                [
                    None
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else json.dumps(v, sort_keys=True, default=str)
                    for v in s.tolist()
                ]
            )
        elif s.dtype.kind == "f":
            values = s.to_numpy()
            obj = values.astype(object)
            obj[np.isnan(values)] = None
            if c in ("followers", "likes", "reshares", "replies", "views"):
                obj = np.array([None if v is None else int(v) for v in obj], dtype=object)
            cols.append(obj.tolist())
        else:
            cols.append(s.astype(object).where(s.notna(), None).tolist())
    return list(zip(*cols, strict=True)) if n else []


def _stage(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    columns = _STAGE[table][1]
    rows = _column_values(frame, columns)
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection
        try:
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:  # psycopg's errors are not SQLAlchemy's
            raise StoreError(f"COPY into {table} failed: {exc}") from exc
    else:
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _dedupe(frame: pd.DataFrame | None, key: list[str]) -> pd.DataFrame | None:
    if frame is None or frame.empty:
        return None
    return frame.drop_duplicates(subset=key, keep="last")


def write_batch(conn: Connection, batch: Batch) -> WriteResult:
    """Write one validated batch inside the caller's transaction; return the new-row counts.

    :func:`grapevine.connectors._records.check_batch` runs first, whatever made the batch: a
    value outside its domain (a time past 2099, a NUL) is a :class:`BadInput` before any row
    is written.
    """
    check_batch(batch)
    result = WriteResult()
    pg = conn.dialect.name == "postgresql"
    as_json = "CAST(attributes AS JSON)" if pg else "attributes"
    persons = _dedupe(batch.persons, ["handle"])
    ties = batch.ties if batch.ties is not None and not batch.ties.empty else None
    posts = _dedupe(batch.posts, ["external_id"])
    if persons is None and ties is None and posts is None:
        return result
    _ensure_staging(conn)
    params = {"platform": batch.platform}
    if persons is not None:
        _stage(conn, "stage_persons", persons)
        result.new["persons"] += conn.execute(
            text(
                "SELECT count(*) FROM stage_persons sp WHERE NOT EXISTS (SELECT 1 FROM persons p "
                "WHERE p.platform = :platform AND p.handle = sp.handle)"
            ),
            params,
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO persons (platform, handle, display_name, followers, attributes) "
                f"SELECT :platform, handle, display_name, followers, {as_json} "
                "FROM stage_persons WHERE true "
                "ON CONFLICT (platform, handle) DO UPDATE SET "
                "display_name = COALESCE(excluded.display_name, persons.display_name), "
                "followers = COALESCE(excluded.followers, persons.followers), "
                "attributes = COALESCE(excluded.attributes, persons.attributes)"
            ),
            params,
        )
    referenced = []
    if ties is not None:
        _stage(conn, "stage_ties", ties)
        referenced += ["SELECT source AS h FROM stage_ties", "SELECT target AS h FROM stage_ties"]
    if posts is not None:
        _stage(conn, "stage_posts", posts)
        referenced += ["SELECT author AS h FROM stage_posts"]
    if referenced:
        result.new["persons"] += conn.execute(
            text(
                "INSERT INTO persons (platform, handle) SELECT :platform, h FROM ("
                + " UNION ".join(referenced)
                + ") AS referenced WHERE true ON CONFLICT (platform, handle) DO NOTHING"
            ),
            params,
        ).rowcount
    if ties is not None:
        result.new["ties"] = conn.execute(
            text(
                "INSERT INTO ties (source_id, target_id, kind, weight, time) "
                "SELECT s.id, t.id, st.kind, st.weight, st.time FROM stage_ties st "
                "JOIN persons s ON s.platform = :platform AND s.handle = st.source "
                "JOIN persons t ON t.platform = :platform AND t.handle = st.target "
                "WHERE true ON CONFLICT DO NOTHING"
            ),
            params,
        ).rowcount
    if posts is not None:
        result.new["posts"] = conn.execute(
            text(
                "INSERT INTO posts (platform, external_id, author_id, time, text, language, url, "
                "parent_external_id, cascade_id, likes, reshares, replies, views) "
                "SELECT :platform, sp.external_id, a.id, sp.time, sp.text, sp.language, sp.url, "
                "sp.parent_external_id, sp.cascade_id, sp.likes, sp.reshares, sp.replies, "
                "sp.views FROM stage_posts sp "
                "JOIN persons a ON a.platform = :platform AND a.handle = sp.author "
                "WHERE true ON CONFLICT DO NOTHING"
            ),
            params,
        ).rowcount
    return result
