"""The Store: one object to open a database, import into it and read it back as tables."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from grapevine._validation import check_choice
from grapevine._vocabulary import INTERACTION_KINDS, TIE_KINDS
from grapevine.errors import BadInput, GrapevineError, StoreError
from grapevine.store._engine import check_schema, make_engine, migrate, require_store
from grapevine.store.models import ImportRun, Person, Post, Tie

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from grapevine.connectors import Batch
    from grapevine.graph import Graph
    from grapevine.store._write import WriteResult

# numpy, pandas and the bulk writer load with the first import or table export, so that
# commands that only open the store (campaign list, info) start without them.

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


_HOST = socket.gethostname()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie does not count)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # pragma: no cover - the heartbeat decides there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


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
        SQLAlchemy URL, or the path of a SQLite file; the settings' ``database_url`` when
        omitted (``GRAPEVINE_DATABASE_URL``, default ``sqlite:///grapevine.db``).
    migrate : bool
        Bring the schema to the current revision on open (default). With
        False, an out-of-date schema raises :class:`SchemaOutOfDate`.
    create : bool
        Create the store when there is none (default). With False, a missing SQLite file
        or a database without Grapevine's schema raises :class:`StoreNotFound` and nothing
        is created: what commands that only read use.
    engine : Engine, optional
        Use this engine instead of making one (tests, connection sharing).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        migrate: bool = True,
        engine: Engine | None = None,
        create: bool = True,
    ) -> None:
        if engine is None:
            if url is None:
                from grapevine.config import get_settings

                url = get_settings().database_url
            if not create:
                require_store(url)
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
        from grapevine.store._write import write_batch

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
        self.mark_interrupted_runs(now=started)
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
                    host=_HOST,
                    pid=os.getpid(),
                    heartbeat_at=started,
                )
                .returning(ImportRun.id)
            ).scalar_one()
        report = ImportReport(
            source=source, format=format, new={"persons": 0, "ties": 0, "posts": 0}
        )
        status, message = "failed", None
        try:
            for batch in batches:
                result = self._write_progress(batch, run_id, report)
                report.batches += 1
                report.notes.extend(batch.notes)
                if on_batch is not None:
                    on_batch(batch, result)
            status = "done"
        except GrapevineError as exc:
            message = str(exc)
            raise
        except BaseException as exc:  # interrupted: say so in the run record
            status, message = "interrupted", f"interrupted: {type(exc).__name__}"
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

    def _write_progress(self, batch: Batch, run_id: int, report: ImportReport) -> WriteResult:
        """Write one batch and, in the same transaction, the run's counts and heartbeat: a
        killed import leaves a run row that counts exactly the batches committed."""
        from grapevine.store._write import write_batch

        try:
            with self.engine.begin() as conn:
                result = write_batch(conn, batch)
                rows_read = report.rows_read + batch.rows
                new = {k: report.new.get(k, 0) + v for k, v in result.new.items()}
                conn.execute(
                    update(ImportRun)
                    .where(ImportRun.id == run_id)
                    .values(
                        rows_read=rows_read,
                        rows_new=sum({**report.new, **new}.values()),
                        heartbeat_at=_time.time(),
                    )
                )
        except GrapevineError:
            raise
        except (SQLAlchemyError, OSError, ValueError) as exc:  # driver errors (COPY) included
            raise StoreError(f"writing a batch failed: {exc}") from exc
        report.rows_read = rows_read
        report.new.update(new)
        return result

    def mark_interrupted_runs(
        self, *, stale_seconds: float | None = None, now: float | None = None
    ) -> int:
        """Mark ``running`` import runs whose importer is gone as ``interrupted``; how many.

        A run is gone when it was started on this host by a process that no longer exists
        (or is a zombie), or when its last sign of life (its start, then each committed
        batch) is older than ``stale_seconds`` (the settings' ``import_stale_seconds``,
        600 s). Rows of a killed import are whole batches (each is one transaction), and the
        run's ``rows_read`` counts exactly them. Called before every import and by
        :meth:`summary`; an import still going that was marked (no batch for longer than
        the limit) writes its real outcome when it ends.
        """
        if stale_seconds is None:
            from grapevine.config import get_settings

            stale_seconds = get_settings().import_stale_seconds
        now = _time.time() if now is None else now
        with self.engine.begin() as conn:
            running = conn.execute(
                select(
                    ImportRun.id,
                    ImportRun.host,
                    ImportRun.pid,
                    ImportRun.heartbeat_at,
                    ImportRun.started_at,
                ).where(ImportRun.status == "running")
            ).all()
            marked = 0
            for run_id, host, pid, beat, started in running:
                last = beat if beat is not None else started
                if host == _HOST and pid is not None and not _alive(int(pid)):
                    why = f"the importing process (pid {pid} on {host}) is gone"
                elif now - last > stale_seconds:
                    why = f"no sign of life for {now - last:,.0f} s (limit {stale_seconds:g} s)"
                else:
                    continue
                marked += conn.execute(
                    update(ImportRun)
                    .where(ImportRun.id == run_id, ImportRun.status == "running")
                    .values(
                        status="interrupted",
                        finished_at=now,
                        message=f"interrupted: {why}; the batches committed before it stay",
                    )
                ).rowcount
        return marked

    # ------------------------------------------------------------------ reading
    def summary(self) -> dict[str, Any]:
        """What the store holds: counts per platform and kind, time spans, import runs
        (runs whose importer is gone are marked interrupted first, when the database can be
        written)."""
        with contextlib.suppress(SQLAlchemyError):  # read-only: show the rows as they are
            self.mark_interrupted_runs()
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
                    ImportRun.message,
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
                    "message": m,
                }
                for s, f, st, r, n, t, m in runs
            ],
        }

    def _table(
        self, sql: str, columns: list[str], conditions: dict[str, tuple[str, object]]
    ) -> pd.DataFrame:
        """Run ``sql`` with the conditions that are set (``{param: (clause, value)}``).

        A condition with an empty clause only binds its parameter (for IN lists).
        """
        import numpy as np
        import pandas as pd

        where = [clause for clause, value in conditions.values() if value is not None and clause]
        params = {name: value for name, (_, value) in conditions.items() if value is not None}
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        # plain tuples: pandas inspects each Row object attribute by attribute otherwise
        frame = pd.DataFrame([tuple(row) for row in rows], columns=columns)
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
        from grapevine.connectors._records import POST_COLUMNS

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
        import numpy as np

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
