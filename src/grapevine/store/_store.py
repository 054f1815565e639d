"""The Store: one object to open a database, import into it and read it back as tables."""

from __future__ import annotations

import hashlib
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from grapevine._validation import check_choice
from grapevine._vocabulary import INTERACTION_KINDS, TIE_KINDS
from grapevine.connectors import Batch
from grapevine.connectors._records import POST_COLUMNS
from grapevine.errors import BadInput, GrapevineError, StoreError
from grapevine.store._engine import check_schema, make_engine, migrate
from grapevine.store._write import WriteResult, write_batch
from grapevine.store.models import ImportRun, Person, Post, Tie

if TYPE_CHECKING:  # pragma: no cover
    from grapevine.graph import Graph

__all__ = ["ImportReport", "Store"]


@dataclass
class ImportReport:
    """What one import read and wrote."""

    source: str
    format: str
    rows_read: int = 0
    new: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    batches: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else float("nan")


def _sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


class Store:
    """A Grapevine database: SQLite by default, PostgreSQL by URL.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; the settings' ``database_url`` when omitted
        (``GRAPEVINE_DATABASE_URL``, default ``sqlite:///grapevine.db``).
    migrate : bool
        Bring the schema to the current revision on open (default). With
        False, an out-of-date schema raises :class:`SchemaOutOfDate`.
    engine : Engine, optional
        Use this engine instead of making one (tests, connection sharing).
    """

    def __init__(
        self, url: str | None = None, *, migrate: bool = True, engine: Engine | None = None
    ) -> None:
        if engine is None:
            if url is None:
                from grapevine.config import get_settings

                url = get_settings().database_url
            engine = make_engine(url)
        self.engine = engine
        if migrate:
            self.migrate()
        else:
            check_schema(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision."""
        migrate(self.engine)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def write(self, batch: Batch) -> WriteResult:
        """Write one batch in its own transaction."""
        try:
            with self.engine.begin() as conn:
                return write_batch(conn, batch)
        except GrapevineError:
            raise
        except (SQLAlchemyError, OSError, ValueError) as exc:  # driver errors (COPY) included
            raise StoreError(f"writing a batch failed: {exc}") from exc

    def import_batches(
        self,
        batches: Iterable[Batch],
        *,
        source: str,
        format: str,
        on_batch: Callable[[Batch, WriteResult], None] | None = None,
    ) -> ImportReport:
        """Write batches from a connector, one transaction each, and record the run.

        A :class:`BadInput` from the connector stops the import: the batch it was
        reading is not written (earlier batches are, and a re-run skips them).
        The run is recorded in ``import_runs`` with its outcome either way.
        """
        started = _time.time()
        path = Path(source)
        digest = _sha256(path) if path.is_file() else None
        with self.engine.begin() as conn:
            run_id = conn.execute(
                insert(ImportRun)
                .values(
                    source=source,
                    format=format,
                    sha256=digest,
                    started_at=started,
                    status="running",
                    rows_read=0,
                    rows_new=0,
                )
                .returning(ImportRun.id)
            ).scalar_one()
        report = ImportReport(
            source=source, format=format, new={"persons": 0, "ties": 0, "posts": 0}
        )
        status, message = "failed", None
        try:
            for batch in batches:
                result = self.write(batch)
                report.rows_read += batch.rows
                report.batches += 1
                for k, v in result.new.items():
                    report.new[k] = report.new.get(k, 0) + v
                report.notes.extend(batch.notes)
                if on_batch is not None:
                    on_batch(batch, result)
            status = "done"
        except GrapevineError as exc:
            message = str(exc)
            raise
        except BaseException as exc:  # interrupted: say so in the run record
            message = f"interrupted: {type(exc).__name__}"
            raise
        finally:
            report.seconds = _time.time() - started
            with self.engine.begin() as conn:
                conn.execute(
                    update(ImportRun)
                    .where(ImportRun.id == run_id)
                    .values(
                        finished_at=_time.time(),
                        status=status,
                        rows_read=report.rows_read,
                        rows_new=sum(report.new.values()),
                        message=message or ("; ".join(report.notes) or None),
                    )
                )
        return report

    # ------------------------------------------------------------------ reading
    def summary(self) -> dict[str, Any]:
        """What the store holds: counts per platform and kind, time spans, import runs."""
        with self.engine.connect() as conn:
            persons = conn.execute(
                select(Person.platform, func.count())
                .group_by(Person.platform)
                .order_by(Person.platform)
            ).all()
            ties = conn.execute(
                select(
                    Person.platform,
                    Tie.kind,
                    func.count(),
                    func.count(Tie.time),
                    func.min(Tie.time),
                    func.max(Tie.time),
                )
                .join(Person, Person.id == Tie.source_id)
                .group_by(Person.platform, Tie.kind)
                .order_by(Person.platform, Tie.kind)
            ).all()
            posts = conn.execute(
                select(
                    Post.platform,
                    func.count(),
                    func.count(func.distinct(Post.cascade_id)),
                    func.count(Post.parent_external_id),
                    func.min(Post.time),
                    func.max(Post.time),
                )
                .group_by(Post.platform)
                .order_by(Post.platform)
            ).all()
            counts = {
                name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("campaigns", "referral_events")
            }
            runs = conn.execute(
                select(
                    ImportRun.source,
                    ImportRun.format,
                    ImportRun.status,
                    ImportRun.rows_read,
                    ImportRun.rows_new,
                    ImportRun.finished_at,
                )
                .order_by(ImportRun.id.desc())
                .limit(10)
            ).all()
        return {
            "url": self.url,
            "persons": [{"platform": p, "count": c} for p, c in persons],
            "ties": [
                {"platform": p, "kind": k, "count": c, "timed": ct, "first": t0, "last": t1}
                for p, k, c, ct, t0, t1 in ties
            ],
            "posts": [
                {
                    "platform": p,
                    "count": c,
                    "cascades": nc,
                    "with_parent": npar,
                    "first": t0,
                    "last": t1,
                }
                for p, c, nc, npar, t0, t1 in posts
            ],
            "campaigns": counts["campaigns"],
            "referral_events": counts["referral_events"],
            "imports": [
                {
                    "source": s,
                    "format": f,
                    "status": st,
                    "rows_read": r,
                    "rows_new": n,
                    "finished_at": t,
                }
                for s, f, st, r, n, t in runs
            ],
        }

    def _table(
        self, sql: str, columns: list[str], conditions: dict[str, tuple[str, object]]
    ) -> pd.DataFrame:
        """Run ``sql`` with the conditions that are set (``{param: (clause, value)}``).

        A condition with an empty clause only binds its parameter (for IN lists).
        """
        where = [clause for clause, value in conditions.values() if value is not None and clause]
        params = {name: value for name, (_, value) in conditions.items() if value is not None}
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("weight", "time"):
            if col in frame:
                frame[col] = frame[col].astype(np.float64)
        return frame

    def ties(
        self, *, platform: str | None = None, kinds: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Ties as a table: ``source``, ``target`` (handles), ``kind``, ``weight``, ``time``."""
        for k in kinds or ():
            check_choice(k, "kinds", "Store.ties", TIE_KINDS)
        conditions: dict[str, tuple[str, object]] = {
            "platform": ("s.platform = :platform", platform)
        }
        for i, k in enumerate(kinds or ()):
            conditions[f"k{i}"] = ("", k)
        if kinds:
            names = ", ".join(f":k{i}" for i in range(len(kinds)))
            conditions["k0"] = (f"ti.kind IN ({names})", kinds[0])
        return self._table(
            "SELECT s.handle, t.handle, ti.kind, ti.weight, ti.time FROM ties ti "
            "JOIN persons s ON s.id = ti.source_id JOIN persons t ON t.id = ti.target_id",
            ["source", "target", "kind", "weight", "time"],
            conditions,
        )

    def posts(self, *, platform: str | None = None, cascade: str | None = None) -> pd.DataFrame:
        """Posts as a table with the author's handle (``author``) in place of its id."""
        columns = ["platform", *POST_COLUMNS[:1], "author", *POST_COLUMNS[2:8]]
        return self._table(
            "SELECT p.platform, p.external_id, a.handle, p.time, p.text, p.language, p.url, "
            "p.parent_external_id, p.cascade_id FROM posts p JOIN persons a ON a.id = p.author_id",
            columns,
            {
                "platform": ("p.platform = :platform", platform),
                "cascade": ("p.cascade_id = :cascade", cascade),
            },
        )

    def graph(
        self,
        *,
        platform: str | None = None,
        kinds: Sequence[str] | None = None,
        flow: bool = True,
        directed: bool = True,
    ) -> Graph:
        """The ties as a :class:`~grapevine.graph.Graph`.

        Repeated ties between the same pair (timed interactions) become one arc
        whose weight is the sum of their weights. With ``flow`` (the default)
        interaction ties (retweeted, mentioned, replied, referred) are reversed
        so that arcs point the way influence travels: from the retweeted to the
        retweeter.
        """
        from grapevine.graph import Graph

        frame = self.ties(platform=platform, kinds=kinds)
        if frame.empty:
            raise BadInput(
                "no ties in the store for "
                f"platform={platform!r}, kinds={list(kinds) if kinds else 'all'}",
                file=self.url,
            )
        src, dst = frame["source"].to_numpy(), frame["target"].to_numpy()
        if flow:
            rev = frame["kind"].isin(INTERACTION_KINDS).to_numpy()
            src, dst = np.where(rev, dst, src), np.where(rev, src, dst)
        return Graph.from_arrays(src, dst, frame["weight"].to_numpy(), directed=directed)
