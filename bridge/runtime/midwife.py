"""Midwife: a node's producers, one per queue — started at boot and by ``start`` signals,
stopped by ``stop`` signals (running jobs finish first) and at shutdown.

Each producer gets a fresh uuid naming its liveness lock (``bridge.wire.producer_id``); the
listener takes the lock before the producer fetches, and a stopped producer lets it go only
once its last job is done, so the rescuer never mistakes a draining queue for a dead one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any

from bridge.pg.listen import Listener
from bridge.pg.source import AsyncSource
from bridge.runtime.executor import Executor
from bridge.runtime.producer import Producer
from bridge.runtime.worker import Worker
from bridge.wire.producer_id import MAX_OBJID, producer_uuid
from bridge.wire.signals import Signal

log = logging.getLogger("bridge.midwife")

LOCK_TIMEOUT = 10.0  # seconds a new producer waits for its lock before starting anyway


class Midwife:
    """Owns ``producers`` (queue → producer) and ``queues`` (queue → configured limit)."""

    def __init__(
        self,
        source: AsyncSource,
        executor: Executor,
        listener: Listener,
        *,
        node: str,
        queues: Mapping[str, int],
        workers: Iterable[Worker],
        options: Mapping[str, Any],
    ):
        self.source, self.executor, self.listener = source, executor, listener
        self.node = node
        self.queues = dict(queues)
        self.options = dict(options)  # Producer keywords: poll_interval, durable
        self.producers: dict[str, Producer] = {}
        self.draining: set[Producer] = set()  # stopped by a signal, their jobs still running
        self.stopping = False
        self._chosen = list(workers)
        self.workers = {q: self._workers_for(q) for q in self.queues}
        self._rng = random.SystemRandom()
        self._tasks: set[asyncio.Task[None]] = set()

    def all(self) -> list[Producer]:
        """Running and draining producers (what gossip reports, what shutdown stops)."""
        return [*self.producers.values(), *self.draining]

    async def start(self) -> None:
        """The configured queues, each started once its lock is held."""
        for queue, limit in self.queues.items():
            self.producers[queue] = self._producer(queue, limit)
        for producer in list(self.producers.values()):
            await self._launch(producer)

    async def stop(self) -> None:
        """Every producer stops fetching (running jobs are the node's to wait for)."""
        self.stopping = True
        for producer in self.all():
            await producer.stop()

    async def close(self) -> None:
        """End the start/drain tasks of signals (after the node handed back running jobs)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- signals ----------------------------------------------------------------------------

    def start_queue(self, signal: Signal) -> None:
        # mirrors lib/oban/midwife.ex start_queue/2: a queue already running is left as it is
        queue, limit = signal.queue, signal.limit
        assert queue is not None and limit is not None  # decode_signal requires both
        if queue in self.producers or self.stopping:
            log.info("start signal for queue %r ignored: already running here", queue)
            return
        producer = self._producer(queue, limit)
        producer.paused = bool(signal.paused)
        self.producers[queue] = producer
        self.queues[queue] = limit
        self._spawn(self._launch(producer), f"bridge-start-{queue}")
        log.info("queue %r started by a signal (limit %d)", queue, limit)

    def stop_queue(self, signal: Signal) -> None:
        # mirrors lib/oban/midwife.ex stop_queue/2: only a queue running here; running jobs
        # finish (Elixir's Watchman drains them), then the liveness lock is let go
        producer = self.producers.pop(signal.queue or "", None)
        if producer is None:
            return
        self.queues.pop(producer.queue, None)
        producer.paused = True  # mirrors lib/oban/engines/basic.ex shutdown/2: paused at once
        self.draining.add(producer)
        self._spawn(self._drain(producer), f"bridge-stop-{producer.queue}")
        log.info("queue %r stopped by a signal", producer.queue)

    # -- producers --------------------------------------------------------------------------

    def _workers_for(self, queue: str) -> dict[str, Worker]:
        found = {w.name: w for w in self._chosen if w.queue == queue}
        if not found:
            log.warning("queue %r has no registered worker: nothing will be fetched", queue)
        return found

    def _producer(self, queue: str, limit: int) -> Producer:
        """A producer for ``queue`` with a fresh uuid; its liveness lock is requested."""
        if queue not in self.workers:
            self.workers[queue] = self._workers_for(queue)
        objid = self._rng.randint(1, MAX_OBJID)
        uuid = producer_uuid(objid, self._rng.getrandbits(62))
        self.listener.want_lock(objid)
        return Producer(
            self.source,
            self.executor,
            queue=queue,
            limit=limit,
            workers=self.workers[queue],
            attempted_by=[self.node, uuid],
            lock_held=lambda: self.listener.holds(objid),
            listening=self.listener.up.is_set,
            **self.options,
        )

    async def _launch(self, producer: Producer) -> None:
        await self.listener.wait_for_lock(lock_of(producer), timeout=LOCK_TIMEOUT)
        if self.producers.get(producer.queue) is producer and not self.stopping:
            producer.start()

    async def _drain(self, producer: Producer) -> None:
        await producer.stop()
        while producer.running:
            await asyncio.sleep(0.05)
        self.listener.drop_lock(lock_of(producer))
        self.draining.discard(producer)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())


def lock_of(producer: Producer) -> int:
    """The lock objid a producer's uuid names (its first group, ``bridge.wire.producer_id``)."""
    return int(producer.uuid[:8], 16)
