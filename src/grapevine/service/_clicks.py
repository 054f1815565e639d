"""Fast short links: a cache of codes and the group commit of clicks.

A redirect needs two things from the database: what a code points to (read often, changes
rarely) and a row for the click (written once, read later). :class:`LinkCache` keeps the
first in memory for a few seconds; :class:`ClickWriter` takes the second off the request
path: the route hands it the click and answers at once, and a background thread writes the
clicks it has gathered in one transaction every ``flush_interval`` seconds (or as soon as
``max_batch`` are waiting). That is group commit: one commit (one fsync on PostgreSQL) for
hundreds of clicks instead of one each.

Durability
----------
Two modes; the operator chooses (``grapevine serve --durable``, ``GRAPEVINE_DURABLE_CLICKS``).

* **default**: the route answers as soon as its click is queued. A click is durable once its
  batch commits, so a crash of the process (SIGKILL, OOM) loses the clicks accepted but not
  yet committed: those answered in the last ``flush_interval``, plus those that arrived
  while the previous batch was being written, and never more than ``max_queue`` (when that
  many are waiting, the route waits for room, then writes its click itself before
  answering: backpressure, never a silent drop). How many that is depends on the load and
  on how fast the batches commit: ``benchmarks/crash_loss.py`` measures it.
* **durable** (``durable=True``): the route still hands its click to the same group commit,
  then waits for the commit of the batch that holds it before answering. Nothing
  acknowledged is lost; the writer does not wait for ``flush_interval`` (the requests are
  waiting): a batch is every click that arrived while the previous one was being written.

A graceful stop (SIGTERM, Ctrl-C) drains the queue before the process exits.
Each click carries its own idempotency key (``click:<writer id>-q<n>``), and the insert skips
a key already stored, so retrying a batch whose commit outcome is unknown never doubles a
click.

Read-your-writes: :meth:`ClickWriter.flush` waits until every click accepted so far is
committed; the service calls it before any route that reads clicks (conversions, stats),
so within one process a conversion always sees the visitor's clicks. Across several worker
processes a conversion may miss a click answered by another worker less than one
``flush_interval`` earlier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import chain
from typing import Any

import psycopg
from fastapi import HTTPException, Request
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from grapevine import referrals as rf
from grapevine.errors import InvalidParameter, StoreError
from grapevine.store import rollups_repo
from grapevine.store.models import Campaign, ReferralCode
from grapevine.store.sharing_models import TenantPage

__all__ = [
    "CLICK_COLUMNS",
    "Click",
    "ClickWriter",
    "Link",
    "LinkCache",
    "clicks_committed",
    "insert_clicks",
]

_log = logging.getLogger("grapevine.service.clicks")

CLICK_COLUMNS = (
    "campaign_id",
    "kind",
    "time",
    "code",
    "referrer_id",
    "ip_hash",
    "user_agent",
    "idempotency_key",
    "visitor_id",
    "traffic",
    "channel",
)


# ---------------------------------------------------------------------------- the link cache
@dataclass(frozen=True, slots=True)
class Link:
    """What a code points to: enough to answer a redirect without the database."""

    code: str
    campaign_id: int
    person_id: int
    destinations: tuple[str, ...]
    window_seconds: float
    default_target: str
    """Where the link sends a request that asks for no page (``?ref=`` added)."""
    miss: str | None = None
    """None when the link refers; ``disabled`` or ``ended`` (:data:`grapevine.referrals.
    MISS_REASONS`) when it sends people to a landing page instead."""
    landing: str | None = None
    """Where a miss goes (:func:`grapevine.referrals.miss_destination` without the
    installation's landing page, which the redirect adds); None: nowhere known."""
    utm: tuple[str, str, str] | None = None
    """(utm_source, utm_medium, utm_campaign) added to destinations; None: no tags."""
    preview: rf.Preview | None = None
    """What link-preview crawlers are shown instead of the redirect; None: they follow it."""
    language: str | None = None
    """The campaign's language (for the page of a miss)."""


class LinkCache:
    """Known codes, kept ``ttl`` seconds after they were read from the store.

    A code of an ended campaign and a disabled code are cached too (as misses, with where
    they go); a code nobody has is never cached.

    Parameters
    ----------
    engine : Engine
        The store's engine.
    ttl : float, default 5.0
        Seconds an entry is trusted. Disabling a code (``referral_codes.disabled_at``),
        ending a campaign or changing its destinations or page settings takes effect within
        ``ttl`` in every worker, or at once in this process after :meth:`invalidate`.
    max_entries : int, default 100_000
        The cache is emptied when it grows past this (a crude bound against floods of
        distinct valid codes; unknown codes are never cached).
    """

    def __init__(self, engine: Engine, *, ttl: float = 5.0, max_entries: int = 100_000) -> None:
        if not ttl >= 0:
            raise InvalidParameter("ttl", "LinkCache", "a float in the range [0, inf)", ttl)
        if not max_entries >= 1:
            raise InvalidParameter(
                "max_entries", "LinkCache", "an int in the range [1, inf)", max_entries
            )
        self._engine = engine
        self.ttl = float(ttl)
        self.max_entries = int(max_entries)
        self._entries: dict[str, tuple[float, Link]] = {}

    def get(self, code: str) -> Link | None:
        """The cached link of ``code`` (normalised) if still fresh; never touches the store."""
        hit = self._entries.get(code)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def load(self, code: str) -> Link | None:
        """Read ``code`` from the store (blocking) and cache it; None if nobody has it.

        One query: the code, its campaign (rules, status, name) and its tenant's landing
        page. A paused campaign's links redirect as usual; an ended one's, and a disabled
        code, come back as misses (:attr:`Link.miss`).
        """
        with self._engine.connect() as conn:
            row = conn.execute(
                select(
                    ReferralCode.campaign_id,
                    ReferralCode.person_id,
                    ReferralCode.disabled_at,
                    Campaign.rules,
                    Campaign.status,
                    Campaign.name,
                    TenantPage.landing_url,
                )
                .join(Campaign, Campaign.id == ReferralCode.campaign_id)
                .outerjoin(TenantPage, TenantPage.tenant_id == Campaign.tenant_id)
                .where(ReferralCode.code == code)
            ).first()
        if row is None:
            return None
        rules = row.rules or {}
        destinations = tuple(rules.get("destinations", ()))
        page = rf.PageSettings.stored(rules.get("page"))
        default = rf.resolve_destination(destinations, None)
        miss = (
            "disabled"
            if row.disabled_at is not None
            else "ended"
            if row.status == "ended"
            else None
        )
        utm = page.utm
        link = Link(
            code=code,
            campaign_id=int(row.campaign_id),
            person_id=int(row.person_id),
            destinations=destinations,
            window_seconds=float(rules["window_days"]) * 86400.0,
            default_target=rf.add_params(default, {"ref": code}),
            miss=miss,
            landing=None
            if miss is None
            else rf.miss_destination(
                miss,
                campaign_landing=page.landing_url,
                campaign_default=default,
                tenant_landing=row.landing_url,
            ),
            utm=(utm.source, utm.medium, utm.campaign or rf.campaign_slug(row.name))
            if utm.enabled
            else None,
            preview=None if page.preview.empty else page.preview,
            language=page.language,
        )
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[code] = (time.monotonic() + self.ttl, link)
        return link

    def invalidate(self, code: str | None = None) -> None:
        """Forget ``code`` (every code when None)."""
        if code is None:
            self._entries.clear()
        else:
            self._entries.pop(code, None)


# ---------------------------------------------------------------------------- clicks
@dataclass(frozen=True, slots=True)
class Click:
    """One click on a short link, as it will be stored in ``referral_events``.

    ``click_id`` becomes the row's idempotency key; left empty, the writer gives it a
    unique one (``click:<writer id>-q<sequence number>``; the writer id is random per process).
    """

    campaign_id: int
    code: str
    referrer_id: int | None
    time: float
    visitor_id: str
    traffic: str
    ip_hash: str | None = None
    user_agent: str | None = None
    click_id: str = ""
    channel: str | None = None

    def row(self, click_id: str) -> tuple[Any, ...]:
        """The ``referral_events`` values in :data:`CLICK_COLUMNS` order; ``click_id`` is
        the idempotency key when the click has none of its own."""
        return (
            self.campaign_id,
            "click",
            self.time,
            self.code,
            self.referrer_id,
            self.ip_hash,
            self.user_agent,
            self.click_id or click_id,
            self.visitor_id,
            self.traffic,
            self.channel,
        )


_COLUMNS = ", ".join(CLICK_COLUMNS)
_KEY = CLICK_COLUMNS.index("idempotency_key")
_RETURNING = ", ".join(rollups_repo.EVENT_COLUMNS)  # the rows inserted, for the rollups
_SQLITE_ROWS = 500  # rows per INSERT: 5,000 parameters, under SQLite's 32,766
_SQLITE_ROW = f"({', '.join('?' * len(CLICK_COLUMNS))})"


@lru_cache(maxsize=8)
def _sqlite_insert(n: int) -> str:
    # One statement for n rows: one sqlite3_step, so the writer thread gives the GIL up and
    # takes it back once per statement rather than once per row (executemany).
    return (
        f"INSERT INTO referral_events ({_COLUMNS}) VALUES {', '.join([_SQLITE_ROW] * n)} "
        f"ON CONFLICT (campaign_id, idempotency_key) DO NOTHING RETURNING {_RETURNING}"
    )


_PG_SMALL = 100  # up to this many rows, one multi-row INSERT: fewer round trips than COPY
_PG_ROW = f"({', '.join(['%s'] * len(CLICK_COLUMNS))})"


@lru_cache(maxsize=_PG_SMALL)
def _pg_insert(n: int) -> str:
    return (
        f"INSERT INTO referral_events ({_COLUMNS}) VALUES {', '.join([_PG_ROW] * n)} "
        f"ON CONFLICT (campaign_id, idempotency_key) DO NOTHING RETURNING {_RETURNING}"
    )


_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_clicks (campaign_id BIGINT, kind TEXT, "
    "time DOUBLE PRECISION, code TEXT, referrer_id BIGINT, ip_hash TEXT, user_agent TEXT, "
    "idempotency_key TEXT, visitor_id TEXT, traffic TEXT, channel TEXT) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO referral_events ({_COLUMNS}) SELECT {_COLUMNS} FROM stage_clicks "
    f"ON CONFLICT (campaign_id, idempotency_key) DO NOTHING RETURNING {_RETURNING}"
)


def insert_clicks(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert click rows (:meth:`Click.row`) in the caller's transaction, skipping known keys,
    and add the clicks really inserted to the rollups (:func:`grapevine.store.rollups_repo.
    apply_events`) in the same transaction; returns how many were inserted.

    SQLite: multi-row ``INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING`` of up to 500
    rows a statement (``executemany`` would release and retake the GIL once per row, which
    starves the writer while the event loop is busy). PostgreSQL: up to 100 rows (the small
    batches of durable mode), one multi-row ``INSERT``; more, ``COPY`` into a temporary
    staging table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (the staged
    write of :mod:`grapevine.store._write`). Every statement ends ``RETURNING`` the inserted
    rows, so a re-sent click (a known key) adds nothing to the figures either.
    """
    if not rows:
        return 0
    inserted: list[rollups_repo.EventRow] = []
    if conn.dialect.name != "postgresql":
        for start in range(0, len(rows), _SQLITE_ROWS):
            chunk = rows[start : start + _SQLITE_ROWS]
            flat = tuple(chain.from_iterable(chunk))
            result = conn.exec_driver_sql(_sqlite_insert(len(chunk)), flat)
            inserted.extend(rollups_repo.EventRow(*r) for r in result)
    elif len(rows) <= _PG_SMALL:
        result = conn.exec_driver_sql(_pg_insert(len(rows)), tuple(chain.from_iterable(rows)))
        inserted.extend(rollups_repo.EventRow(*r) for r in result)
    else:
        conn.exec_driver_sql(_PG_STAGE)
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY stage_clicks ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        inserted.extend(rollups_repo.EventRow(*r) for r in conn.exec_driver_sql(_PG_MOVE))
    rollups_repo.apply_events(conn, inserted)
    return len(inserted)


class ClickWriter:
    """Write clicks in batches from a background thread (group commit).

    Parameters
    ----------
    engine : Engine
        The store's engine (SQLite or PostgreSQL).
    flush_interval : float, default 0.05
        Seconds a click may wait for others before its batch is written.
    max_batch : int, default 2000
        A batch is written as soon as this many clicks wait.
    max_queue : int, default 10_000
        Clicks accepted and not yet committed, at most. When the writer falls this far
        behind, :meth:`submit` waits for room (``wait``) and then refuses, and the route
        writes the click itself with :meth:`write_now` before answering (backpressure).
    retry_interval : float, default 0.5
        Seconds between two attempts to write a batch the database refused.
    durable : bool, default False
        :meth:`record` returns only once the click is committed, and the writer writes as
        soon as it is free instead of waiting ``flush_interval`` for more clicks.
    commit_wait : float, default 5.0
        Seconds :meth:`record` waits for the commit in durable mode before it gives up
        (:class:`~grapevine.errors.StoreError`: the route answers 503).

    Notes
    -----
    The largest loss on a crash is the clicks accepted and not yet committed: none in
    durable mode; otherwise at most ``max_queue``, and when the writer keeps up, those of
    the last ``flush_interval`` plus those that arrived while the last batch was written
    (measured by ``benchmarks/crash_loss.py``). The insert is ``INSERT ... ON CONFLICT
    (campaign_id, idempotency_key) DO NOTHING``, so a batch retried after an unknown commit
    outcome adds nothing twice.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        flush_interval: float = 0.05,
        max_batch: int = 2000,
        max_queue: int = 10_000,
        retry_interval: float = 0.5,
        durable: bool = False,
        commit_wait: float = 5.0,
    ) -> None:
        owner = "ClickWriter"
        if not flush_interval >= 0:
            raise InvalidParameter(
                "flush_interval", owner, "a float in the range [0, inf)", flush_interval
            )
        if not max_batch >= 1:
            raise InvalidParameter("max_batch", owner, "an int in the range [1, inf)", max_batch)
        if not max_queue >= 1:
            raise InvalidParameter("max_queue", owner, "an int in the range [1, inf)", max_queue)
        if not commit_wait > 0:
            raise InvalidParameter(
                "commit_wait", owner, "a float in the range (0, inf)", commit_wait
            )
        self._engine = engine
        self.flush_interval = float(flush_interval)
        self.max_batch = int(max_batch)
        self.max_queue = int(max_queue)
        self.retry_interval = float(retry_interval)
        self.durable = bool(durable)
        self.commit_wait = float(commit_wait)
        self._pending: deque[tuple[Any, ...]] = deque()  # rows, oldest first
        self._oldest = 0.0  # time.monotonic() when the oldest pending click was queued
        # (sequence number, future) of the clicks whose requests wait for their commit
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._id = f"click:{secrets.token_hex(6)}-"  # per writer: workers never collide
        self._direct = 0
        self._cond = threading.Condition()
        self._submitted = 0  # sequence number of the last click queued
        self._committed = 0  # every click up to this sequence number is committed
        self._urgent = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self.written = 0
        """Clicks committed by the background thread."""
        self.written_directly = 0
        """Clicks written by :meth:`write_now` (the queue was full)."""
        self.waits = 0
        """Times a :meth:`submit` waited for room in a full queue."""
        self.batches = 0
        """Transactions committed by the background thread."""
        self.failures = 0
        """Batch writes that failed and were retried."""
        self.rejected = 0
        """Clicks the database refused one by one (logged at ERROR; e.g. a deleted campaign)."""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ClickWriter:
        """Start the background thread (once)."""
        with self._cond:
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._run, name="grapevine-click-writer", daemon=True
                )
                self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> bool:
        """Stop accepting clicks, write those waiting and stop the thread.

        Returns True when everything accepted was committed within ``timeout`` seconds.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            drained = self._committed == self._submitted
            if not drained:
                _log.error(
                    "click writer stopped with %d clicks not written",
                    self._submitted - self._committed,
                )
                self._settle(self._submitted, StoreError("the click writer stopped"))
            if self.waits or self.written_directly:
                _log.warning(
                    "the click queue was full: %d clicks waited for room, %d were written by "
                    "their requests (of %d clicks): the writer fell behind",
                    self.waits,
                    self.written_directly,
                    self.written + self.written_directly,
                )
            self._thread = None
            return drained

    def __enter__(self) -> ClickWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ producers
    @property
    def backlog(self) -> int:
        """Clicks accepted and not yet committed."""
        return self._submitted - self._committed

    def submit(
        self,
        click: Click,
        *,
        wait: float = 0.0,
        committed: asyncio.Future[None] | None = None,
    ) -> bool:
        """Queue a click for the next batch; False (nothing done) when the queue is full.

        ``wait`` seconds (blocking) are spent waiting for room first: a full queue means the
        writer is behind, and its next commit frees a whole batch of places. On False the
        caller applies backpressure: :meth:`write_now` the click before answering, or refuse
        the request. A click is never dropped silently.

        ``committed``, a future of the caller's event loop, gets its result (None) when the
        batch holding the click commits, or a :class:`~grapevine.errors.StoreError` when the
        store refuses the click or the writer stops before writing it (it is set from the
        writer thread with ``call_soon_threadsafe``). A batch the database cannot take is
        retried meanwhile: the caller bounds its wait (:meth:`record`: ``commit_wait``).

        Raises
        ------
        StoreError
            When the writer is not running.
        """
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if self._closing or self._thread is None:
                    raise StoreError("the click writer is not running")
                if self._submitted - self._committed < self.max_queue:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.waits += 1
                self._cond.wait(left)
            self._submitted += 1
            self._pending.append(click.row(f"{self._id}q{self._submitted:x}"))
            if committed is not None:
                self._waiters.append((self._submitted, committed))
            if len(self._pending) == 1:
                self._oldest = time.monotonic()
                self._cond.notify_all()
            elif len(self._pending) >= self.max_batch:
                self._cond.notify_all()
            return True

    async def record(self, click: Click, *, room_wait: float = 2.0) -> None:
        """Record the click of a request, as the mode says: queued, or queued and committed.

        The default mode returns once the click is queued; durable mode once the batch
        holding it has committed (at most ``commit_wait`` seconds). When the queue is full,
        waits up to ``room_wait`` seconds (in a thread) for the writer's next commit to free
        room, and if it is still full writes the click itself in its own transaction
        (committed, in either mode).

        Raises
        ------
        StoreError
            The click is not known to be recorded: the writer is not running, the store
            refused the click or its batch, or (durable) the commit took over
            ``commit_wait`` seconds. It may still be committed later.
        """
        done = asyncio.get_running_loop().create_future() if self.durable else None
        if not self.submit(click, committed=done) and not await run_in_threadpool(
            partial(self.submit, click, wait=room_wait, committed=done)
        ):
            await run_in_threadpool(self.write_now, click)
            return
        if done is not None:
            try:
                async with asyncio.timeout(self.commit_wait):
                    await done
            except TimeoutError:
                raise StoreError(
                    f"the click was not committed within {self.commit_wait:g} s"
                ) from None

    def write_now(self, click: Click) -> None:
        """Write one click in its own transaction (blocking): the queue-full path.

        Raises
        ------
        StoreError
            When the database refuses it: the click was not recorded.
        """
        with self._cond:
            self._direct += 1
            row = click.row(f"{self._id}w{self._direct:x}")  # q and w: not hex digits
        self._write([row])
        with self._cond:
            self.written_directly += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every click accepted so far is committed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._submitted
            if self._committed >= target:
                return True
            self._urgent = True
            self._cond.notify_all()
            while self._committed < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(left)
            return True

    # ------------------------------------------------------------------ the writer thread
    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        try:
            with self._engine.begin() as conn:
                insert_clicks(conn, rows)
        except (SQLAlchemyError, psycopg.Error) as exc:
            raise StoreError(f"cannot record {len(rows)} click(s): {exc}") from exc

    def _write_one_by_one(self, rows: list[tuple[Any, ...]]) -> dict[int, str]:
        """Write each row in its own transaction; the rows the store refused, by index."""
        refused: dict[int, str] = {}
        for i, row in enumerate(rows):
            try:
                self._write([row])
            except StoreError as exc:
                if not isinstance(exc.__cause__, IntegrityError | psycopg.IntegrityError):
                    raise
                self.rejected += 1
                refused[i] = f"the store refused the click: {exc}"
                _log.error("click %s refused by the store: %s", row[_KEY], exc)
        return refused

    def _settle(
        self, upto: int, error: StoreError | None, refused: dict[int, str] | None = None
    ) -> None:
        """Answer the requests waiting on the clicks up to ``upto`` (sequence numbers):
        committed, or ``error``; ``refused`` maps a sequence number to why the store refused
        that click. Called with the lock held. A batch the database cannot take is retried
        and its requests keep waiting, up to ``commit_wait``."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], str | None]]]
        by_loop = {}
        while self._waiters and self._waiters[0][0] <= upto:
            seq, future = self._waiters.popleft()
            why = str(error) if error is not None else (refused or {}).get(seq)
            by_loop.setdefault(future.get_loop(), []).append((future, why))
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, items)

    def _take(self) -> tuple[list[tuple[Any, ...]], int] | None:
        """The next batch and the sequence number of its last click; None when closed."""
        with self._cond:
            while not self._pending:
                if self._closing:
                    return None
                self._cond.wait()
            # The oldest click's wait counts from when it was queued, not from now: a writer
            # back from a long commit writes what is overdue at once. Durable mode never
            # waits (the requests are waiting): a batch is what came in during the last one.
            interval = 0.0 if self.durable else self.flush_interval
            deadline = self._oldest + interval
            while len(self._pending) < self.max_batch and not self._urgent and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            n = min(len(self._pending), self.max_batch)
            batch = [self._pending.popleft() for _ in range(n)]
            upto = self._submitted - len(self._pending)
            if self._pending:  # queued before this batch was taken: overdue next time
                self._oldest = time.monotonic() - interval
            else:
                self._urgent = False
            return batch, upto

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            batch, upto = taken
            attempt = 0
            refused: dict[int, str] = {}
            while True:
                try:
                    if attempt < 3:
                        self._write(batch)
                    else:  # one bad row must not hold the others back forever
                        first = upto - len(batch) + 1
                        refused = {
                            first + i: why for i, why in self._write_one_by_one(batch).items()
                        }
                    break
                except StoreError as exc:
                    attempt += 1
                    self.failures += 1
                    _log.warning(
                        "click batch of %d not written (try %d): %s", len(batch), attempt, exc
                    )
                    time.sleep(self.retry_interval)
            with self._cond:
                self._committed = upto
                self.written += len(batch)
                self.batches += 1
                if self._waiters:
                    self._settle(upto, None, refused)
                self._cond.notify_all()


def _resolve(items: list[tuple[asyncio.Future[None], str | None]]) -> None:
    # Runs in the event loop of the futures (call_soon_threadsafe from the writer thread).
    for future, why in items:
        if future.done():  # the request stopped waiting (commit_wait)
            continue
        if why is None:
            future.set_result(None)
        else:
            future.set_exception(StoreError(why))


async def clicks_committed(request: Request) -> None:
    """Dependency of the routes that read clicks: wait for the clicks accepted so far.

    Answers 503 when they cannot be committed within 10 s (the database is down): a
    conversion attributed without its click would be wrong for good.
    """
    writer: ClickWriter | None = getattr(request.app.state, "click_writer", None)
    if writer is None or writer.backlog == 0:
        return
    if not await run_in_threadpool(writer.flush):
        raise HTTPException(
            503, "recent clicks are not written yet; try again", headers={"Retry-After": "1"}
        )
