"""Acks in batches, none ever lost.

Executors hand over acks; a single flusher writes everything pending in one round trip
(``ops.acks.ack_jobs``) as soon as the previous write returns — under load the batches
grow by themselves, idle they are one ack each. A failed write is retried with backoff
until it lands or the node stops; ``flush`` (at shutdown) writes what is left. An ack
that matches no row (the job was cancelled or rescued meanwhile) is logged, not retried.
"""

from __future__ import annotations

import asyncio
import logging

from bridge.errors import BridgeError
from bridge.ops.acks import ack_jobs
from bridge.pg.source import AsyncSource
from bridge.runtime.clock import utc_now, wait_event
from bridge.wire.outcome import Ack

log = logging.getLogger("bridge.acker")

MAX_BATCH = 5_000  # acks per statement
RETRY_MIN, RETRY_MAX = 0.05, 2.0  # seconds


class Acker:
    def __init__(self, source: AsyncSource):
        self._source = source
        self._pending: list[Ack] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.landed = 0
        self.skipped = 0
        self.failures = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bridge-acker")

    def add(self, ack: Ack) -> None:
        self._pending.append(ack)
        self._idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        delay = RETRY_MIN
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                try:
                    landed = await self._source.run(
                        ack_jobs(self._source.prefix, batch, now=utc_now()), atomic=False
                    )
                except Exception as exc:  # never let the flusher die: acks would pile up
                    self.failures += 1
                    if not isinstance(exc, (BridgeError, OSError)):
                        log.exception("unexpected error writing acks")
                    log.warning(
                        "ack of %d jobs failed (%s); retrying in %.2fs", len(batch), exc, delay
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                delay = RETRY_MIN
                del self._pending[: len(batch)]
                self._settle(batch, landed)
            self._idle.set()
            if self._closing:
                return

    def _settle(self, batch: list[Ack], landed: set[int]) -> None:
        self.landed += len(landed)
        if len(landed) != len(batch):
            for ack in batch:
                if ack.job_id not in landed:
                    self.skipped += 1
                    log.info(
                        "job %d was no longer executing for this attempt (cancelled or "
                        "rescued meanwhile); its %s ack was not written",
                        ack.job_id,
                        ack.state.value,
                    )

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything pending has landed; False on timeout."""
        self._wake.set()
        if not await wait_event(self._idle, 1e9 if timeout is None else timeout):
            return False
        return not self._pending

    async def close(self, timeout: float | None = None) -> bool:
        """Flush, then stop the flusher. Returns whether every ack landed."""
        self._closing = True
        done = await self.flush(timeout)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return done
