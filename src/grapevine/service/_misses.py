"""Short-link misses counted in memory, written to the store now and then.

A miss (an unknown code, a disabled code, a code of an ended campaign) must not cost the
redirect a database write: :meth:`MissCounter.add` bumps a counter in a dict, and at most
every ``interval`` seconds the next miss hands the counts to a worker thread that adds them
to ``link_misses`` in one transaction (one upsert per day, reason and campaign). The request
never waits for that write. :meth:`MissCounter.flush` writes what is counted (the service
calls it when it stops and before it answers the misses API). A crash loses the misses of
the last ``interval`` at most: they are counts, not referrals.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from grapevine.store import sharing_repo
from grapevine.store.sharing_repo import MissKey

__all__ = ["MissCounter", "misses_written"]

_log = logging.getLogger("grapevine.service.misses")


class MissCounter:
    """Counts of short-link misses, written to the store in the background.

    Parameters
    ----------
    engine : Engine
        The store's engine.
    interval : float, default 5.0
        Seconds between two writes, at least.
    """

    def __init__(self, engine: Engine, *, interval: float = 5.0) -> None:
        self._engine = engine
        self.interval = float(interval)
        self._counts: Counter[MissKey] = Counter()
        self._lock = threading.Lock()  # the writer thread swaps the dict
        self._write_lock = threading.Lock()  # one write at a time
        self._next = time.monotonic() + self.interval
        self._task: asyncio.Future[bool] | None = None
        self.failures = 0

    def add(self, reason: str, campaign_id: int | None, *, now: float | None = None) -> None:
        """Count one miss; may start a background write (never waits for it)."""
        day = int((time.time() if now is None else now) // 86400)
        with self._lock:
            self._counts[(day, reason, campaign_id)] += 1
        if time.monotonic() >= self._next and (self._task is None or self._task.done()):
            self._next = time.monotonic() + self.interval
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called outside the event loop: write now
                self.flush()
                return
            self._task = loop.run_in_executor(None, self.flush)

    @property
    def pending(self) -> int:
        """Misses counted and not yet written."""
        with self._lock:
            return sum(self._counts.values())

    def flush(self) -> bool:
        """Write the counted misses (blocking); False when the store refused (kept for the
        next write)."""
        with self._write_lock:
            with self._lock:
                counts, self._counts = self._counts, Counter()
            if not counts:
                return True
            try:
                with self._engine.begin() as conn:
                    sharing_repo.add_misses(conn, counts)
            except SQLAlchemyError as exc:
                self.failures += 1
                _log.warning("%d link misses not written yet: %s", sum(counts.values()), exc)
                with self._lock:
                    self._counts.update(counts)
                return False
            return True


async def misses_written(request: Request) -> None:
    """Dependency of the routes that read misses: write the counted ones first."""
    counter: MissCounter | None = getattr(request.app.state, "link_misses", None)
    if counter is not None and counter.pending:
        await run_in_threadpool(counter.flush)
