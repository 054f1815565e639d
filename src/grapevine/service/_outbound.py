"""The service's background dispatcher of outbound messages (``GRAPEVINE_OUTBOUND_POLL_SECONDS``).

Every poll it calls :func:`grapevine.outbound.deliver_due` in a worker thread (the deliveries
block on SMTP and HTTP) until nothing is due, then sleeps. Several workers or hosts may each
run one: the claim is safe on PostgreSQL (``FOR UPDATE SKIP LOCKED``). Errors are logged and
the loop goes on; stopping waits for the batch in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grapevine.config import Settings

__all__ = ["OutboundDispatcher"]

log = logging.getLogger("grapevine.outbound")


class OutboundDispatcher:
    """Deliver due outbound messages every ``interval`` seconds while the app runs."""

    def __init__(self, engine: Engine, settings: Settings, *, batch: int = 100) -> None:
        self.engine = engine
        self.settings = settings
        self.interval = float(settings.outbound_poll_seconds)
        self.batch = batch
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def _once(self) -> int:
        from grapevine.outbound import OutboundConfig, deliver_due

        report = deliver_due(
            lambda: Session(self.engine),
            limit=self.batch,
            config=OutboundConfig.from_settings(self.settings),
        )
        return report.claimed

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while await asyncio.to_thread(self._once) >= self.batch and not self._stop.is_set():
                    pass
            except Exception:  # keep delivering: one bad batch must not stop the loop
                log.exception("outbound delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def start(self) -> OutboundDispatcher:
        """Start the loop (no-op when the interval is 0)."""
        if self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def close(self) -> None:
        """Stop after the batch in hand."""
        self._stop.set()
        if self._task is not None:
            await self._task
