"""One producer per queue: fetch what this node can run, as often as there is demand.

Demand is ``limit - running``. A producer fetches when woken — an insert notification
for its queue, a finished job, a signal — and on a poll timer: every second while the
node's listener is down, otherwise a slow safety poll (Elixir 2.23 refreshes every 60 s),
so lost notifications never strand a job and an idle queue costs almost nothing.
It fetches only while its liveness lock is held (see ``bridge.wire.producer_id``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bridge.errors import BridgeError, DecodeError
from bridge.names import JobState
from bridge.ops.acks import fetch_jobs
from bridge.pg.source import AsyncSource
from bridge.runtime.clock import utc_now, wait_event
from bridge.runtime.executor import Executor, Run
from bridge.runtime.worker import Worker
from bridge.wire.gossip import ProducerCheck
from bridge.wire.job import COLUMNS, Job, decode_fetched
from bridge.wire.outcome import Raised, decide, exception_name

log = logging.getLogger("bridge.producer")

POLL_INTERVAL = 60.0  # seconds; mirrors lib/oban/queue/producer.ex refresh_interval (2.23)
POLL_WHEN_DEAF = 1.0  # seconds between polls while the listener is down
FETCH_RETRY_MAX = 5.0


MAX_INFLIGHT = 2  # fetches in flight at once: the next batch is claimed while one runs
PIPELINE_FROM = 200  # below this limit one full-demand fetch at a time (fewer round trips)
DISPATCH_COOLDOWN = 0.005  # seconds; mirrors lib/oban/queue/producer.ex dispatch_cooldown


class Producer:
    """Keeps ``running + claimed-in-flight <= limit``, with up to two fetches in flight.

    Each fetch asks for at most half the limit, so while the jobs of one batch run, the
    next batch is already being claimed on another connection: Python and PostgreSQL
    work at the same time, and Elixir's limit still holds for the rows marked executing.
    """

    def __init__(
        self,
        source: AsyncSource,
        executor: Executor,
        *,
        queue: str,
        limit: int,
        workers: dict[str, Worker],
        attempted_by: list[str],
        lock_held: Callable[[], bool],
        listening: Callable[[], bool],
        poll_interval: float = POLL_INTERVAL,
        durable: bool = False,
    ):
        self.source = source
        self.executor = executor
        self.queue = queue
        self.limit = limit
        self.workers = workers
        self.attempted_by = attempted_by
        self.uuid = attempted_by[1]
        self.paused = False
        self.running: dict[int, Run] = {}
        self.fetched = 0
        self._names = sorted(workers)
        self._lock_held = lock_held
        self._listening = listening
        self._poll = poll_interval
        self._durable = durable
        self._reserved = 0
        self._fetches: set[asyncio.Task[None]] = set()
        self._more = True  # the last fetch came back full: there may be more right now
        self._cooldown: asyncio.TimerHandle | None = None
        self._failures = 0
        self._blocked = False
        self._starting = False
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.started_at = utc_now()
        self.shutdown_started_at: datetime | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"bridge-producer-{self.queue}")
        self.notify()

    def notify(self) -> None:
        """Something changed (insert, signal, status): look for work now."""
        self._more = True
        self._fill()

    def _timeout(self) -> float:
        if not self._listening():
            return POLL_WHEN_DEAF
        return self._poll * random.uniform(0.75, 1.0)  # mirrors producer.ex jittered refresh

    async def _run(self) -> None:
        """The poll timer: 1 s while the listener is down, the slow safety poll otherwise."""
        while not self._stopping:
            await wait_event(self._wake, self._timeout())
            self._wake.clear()
            self.notify()

    def _fill(self) -> None:
        if self._starting:
            return  # the batch being started fills once when it is done
        inflight = MAX_INFLIGHT if self.limit >= PIPELINE_FROM else 1
        chunk = max(1, -(-self.limit // inflight))
        while (
            len(self._fetches) < inflight
            and not (self._stopping or self.paused or self._blocked)
            and self._lock_held()
        ):
            demand = min(self.limit - len(self.running) - self._reserved, chunk)
            if demand <= 0:
                return
            self._reserved += demand
            task = asyncio.create_task(self._fetch(demand))
            self._fetches.add(task)
            task.add_done_callback(self._fetches.discard)

    async def _fetch(self, demand: int) -> None:
        try:
            rows = await self.source.run(
                fetch_jobs(
                    self.source.prefix,
                    self.queue,
                    self._names,
                    demand,
                    now=utc_now(),
                    attempted_by=self.attempted_by,
                    durable=self._durable,
                ),
                atomic=False,
            )
        except Exception as exc:  # a fetch must never take the producer down
            if not isinstance(exc, (BridgeError, OSError)):
                log.exception("unexpected error fetching for %r", self.queue)
            self._reserved -= demand
            self._failures += 1
            delay = min(0.05 * 2 ** min(self._failures - 1, 10), FETCH_RETRY_MAX)
            log.warning("fetch for %r failed (%s); retrying in %.2fs", self.queue, exc, delay)
            if not self._blocked:
                self._blocked = True
                asyncio.get_running_loop().call_later(delay, self._retry)
            return
        self._failures = 0
        self._reserved -= demand
        self._fetches.discard(asyncio.current_task())
        self.fetched += len(rows)
        self._more = len(rows) == demand
        self._starting = True
        try:
            for row in rows:
                self._start(row)
        finally:
            self._starting = False
        if self._more:
            self._fill()

    def _retry(self) -> None:
        self._blocked = False
        self.notify()

    def _start(self, row: tuple[Any, ...]) -> None:
        try:
            job = decode_fetched(row)
            _check_shape(job)
        except DecodeError as exc:
            self._unrunnable(row, exc)
            return
        worker = self.workers.get(job.worker)
        assert worker is not None and job.id is not None  # the fetch asked for these workers
        run = Run(job, worker, self._finished)
        self.running[job.id] = run
        self.executor.start_run(run)

    def _finished(self, run: Run) -> None:
        assert run.job.id is not None
        self.running.pop(run.job.id, None)
        if self._stopping:
            return
        if self._more:
            self._fill()
        elif self._cooldown is None:
            # the queue looked empty: batch the wake-ups of finishing jobs (Elixir's cooldown)
            self._cooldown = asyncio.get_running_loop().call_later(DISPATCH_COOLDOWN, self._cooled)

    def _cooled(self) -> None:
        self._cooldown = None
        self._fill()

    def _unrunnable(self, row: tuple[Any, ...], exc: DecodeError) -> None:
        """A row Elixir would choke on (non-object args/meta): discard it, keep the queue."""
        fields = dict(zip(COLUMNS, row, strict=True))
        log.error("job %s in queue %r cannot be run: %s", fields["id"], self.queue, exc)
        job = Job(
            id=fields["id"],
            state=JobState.EXECUTING,
            queue=fields["queue"],
            worker=fields["worker"],
            args={},
            attempt=fields["attempt"],
            max_attempts=fields["attempt"],  # no retry can fix the row: discard now
            attempted_at=fields["attempted_at"],
        )
        raised = Raised(exception_name(type(exc)), str(exc))
        self.executor.acker.add(decide(job, raised, now=utc_now(), rng=random.random))

    async def stop(self) -> None:
        """Stop fetching; rows already claimed start, and running jobs go on (the node
        waits for them)."""
        self._stopping = True
        self.shutdown_started_at = self.shutdown_started_at or utc_now()
        if self._cooldown is not None:
            self._cooldown.cancel()
        await asyncio.gather(*self._fetches, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def check(self, name: str, now: datetime) -> ProducerCheck:
        """What this producer reports on gossip (Elixir's ``Producer.check/1``)."""
        # mirrors lib/oban/queue/producer.ex handle_call(:check, …) and
        # lib/oban/engines/basic.ex check_meta/3 and shutdown/2 (a stopping queue is paused)
        return ProducerCheck(
            node=self.attempted_by[0],
            name=name,
            queue=self.queue,
            limit=self.limit,
            paused=self.paused or self._stopping,
            uuid=self.uuid,
            started_at=self.started_at,
            updated_at=now,
            refresh_interval=int(self._poll * 1000),
            running=tuple(self.running),
            shutdown_started_at=self.shutdown_started_at,
            workers=tuple(self._names),
        )


def _check_shape(job: Job) -> None:
    # Ecto loads args/meta as maps; anything else crashes Elixir's producer (spec §7.1)
    if not isinstance(job.args, dict):
        raise DecodeError(f"args must be a JSON object, got {_kind(job.args)}: {job.args!r:.80}")
    if not isinstance(job.meta, dict):
        raise DecodeError(f"meta must be a JSON object, got {_kind(job.meta)}: {job.meta!r:.80}")


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
