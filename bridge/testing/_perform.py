"""``perform_job`` and ``drain_queue``: run jobs in-process through the runtime's own executor
and ``wire.outcome.decide`` — the code a node runs — without starting a node.

``perform_job`` builds the job as Oban.Testing's ``build_job/3`` does (validated like
``Job.new``, args and meta JSON round-tripped, attempt 1) and writes nothing: it returns what
the worker returned and the :class:`~bridge.wire.outcome.Ack` a node would write.
``drain_queue`` claims a queue's available jobs with the node's fetch, runs them one by one
and writes the real acks, as lib/oban/queue/drainer.ex does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from bridge.errors import ValidationError
from bridge.names import JobState
from bridge.ops.acks import ack_jobs, fetch_jobs
from bridge.ops.testing import stage_queue
from bridge.runtime.clock import utc_now
from bridge.runtime.events import Events
from bridge.runtime.executor import Executor, Run
from bridge.runtime.worker import REGISTRY, Registry, Worker
from bridge.testing._enqueued import Target, client_for
from bridge.wire.job import Job, decode_fetched, utc_naive
from bridge.wire.outcome import Ack, Raised, Result, Returned, SnoozeStyle
from bridge.wire.recorded import fetch_recorded

#: drain counts, Oban's keys (lib/oban/queue/drainer.ex: cancelled, discard, failure, …)
DRAIN_KEYS = ("cancelled", "discard", "failure", "snoozed", "success")
INFINITE = 100_000_000  # mirrors lib/oban/queue/drainer.ex @infinite
_IDS = itertools.count(1)  # mirrors build_job's System.unique_integer([:positive])


@dataclass(frozen=True)
class Performed:
    """One run of a job: what the worker returned (or raised) and the ack a node would write."""

    job: Job
    ack: Ack
    result: Any = None  # the worker's return value (None when it raised or timed out)
    exception: BaseException | None = None

    @property
    def state(self) -> JobState:
        """The state the row would be left in (completed, retryable, scheduled, …)."""
        return self.ack.state

    @property
    def status(self) -> str:
        """Oban's result kind: success, failure, cancelled, discard or snoozed."""
        return self.ack.status

    @property
    def error(self) -> str | None:
        """The error text appended to ``errors`` (Elixir's format), if any."""
        return None if self.ack.error is None else str(self.ack.error["error"])

    @property
    def recorded(self) -> Any:
        """The recorded output, decoded; ``RecordedMissing`` when nothing was recorded."""
        return fetch_recorded({"recorded": self.ack.record is not None, **(self.ack.record or {})})


class _Capture:
    """Stands in for the node's acker: keeps the ack instead of writing it."""

    def __init__(self) -> None:
        self.acks: list[Ack] = []

    def add(self, ack: Ack) -> None:
        self.acks.append(ack)


class _Executor(Executor):
    """The runtime's executor, also keeping each raised exception for ``with_safety=False``."""

    def __init__(self, snooze: SnoozeStyle, rng: Callable[[], float]):
        self.capture = _Capture()
        super().__init__(cast(Any, self.capture), Events(), snooze=snooze, threads=4, rng=rng)
        self.raised: dict[int, BaseException] = {}
        self.returned: dict[int, Any] = {}

    def settle(self, run: Run, result: Result) -> None:
        if isinstance(result, Returned) and not run.done:
            self.returned[cast(int, run.job.id)] = result.value
        if isinstance(result, Raised) and not run.done:
            original = sys.exc_info()[1]  # an eager async job raises inside an except block
            task = run.task
            if original is None and task is not None and task.done() and not task.cancelled():
                original = task.exception()
            if original is not None:
                self.raised[cast(int, run.job.id)] = original
        super().settle(run, result)

    async def execute(self, job: Job, worker: Worker) -> Outcome:
        done = asyncio.Event()
        self.start_run(Run(job, worker, lambda _run: done.set()))
        await done.wait()
        ack, key = self.capture.acks.pop(), cast(int, job.id)
        error = self.raised.pop(key, None)
        text = ack.error["error"] if ack.error is not None else ""
        if error is None and text.startswith("** (Oban.TimeoutError)"):
            error = TimeoutError(text[len("** (Oban.TimeoutError) ") :])
        return Outcome(ack, self.returned.pop(key, None), error)


@dataclass(frozen=True)
class Outcome:
    ack: Ack
    value: Any
    error: BaseException | None


class _Loop:
    """An event loop for the executor: this thread's, or a helper thread's when this thread
    already runs one (a sync helper called from an async test)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            asyncio.get_running_loop()
            self.pool: ThreadPoolExecutor | None = ThreadPoolExecutor(1, "bridge-testing")
        except RuntimeError:
            self.pool = None

    def run(self, coro: Any) -> Any:
        if self.pool is None:
            return self.loop.run_until_complete(coro)
        return self.pool.submit(self.loop.run_until_complete, coro).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.submit(self.loop.close).result()
            self.pool.shutdown()
        else:
            self.loop.close()


@dataclass
class _Session:
    loop: _Loop
    executor: _Executor

    def run(self, job: Job, worker: Worker) -> Outcome:
        return cast(Outcome, self.loop.run(self.executor.execute(job, worker)))


@contextlib.contextmanager
def _session(snooze: SnoozeStyle, rng: Callable[[], float]) -> Iterator[_Session]:
    loop = _Loop()
    executor = _Executor(snooze, rng)
    try:
        yield _Session(loop, executor)
    finally:
        executor.shutdown()
        loop.close()


def resolve_worker(worker: Worker | str, registry: Registry | None = None) -> Worker:
    """A ``@worker`` or a registered name; mirrors build_job's assert_valid_worker/1."""
    if isinstance(worker, Worker):
        return worker
    found = (registry or REGISTRY).get(worker) if isinstance(worker, str) else None
    if found is None:
        raise AssertionError(
            f"Expected worker to be a @worker or the name of a registered one, got:\n\n{worker!r}"
        )
    return found


_BUILD_KEYS = ("id", "attempt", "attempted_at", "inserted_at")


def build_job(
    worker: Worker | str,
    args: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    **options: Any,
) -> Job:
    """The job ``perform_job`` runs: ``Job.new``'s rules, args/meta JSON round-tripped,
    attempt 1 and every time now unless given (``id``, ``attempt``, ``attempted_at``, …)."""
    # mirrors lib/oban/testing.ex build_job/3 (v2.23.1)
    spec = resolve_worker(worker, registry)
    extra = {key: options.pop(key) for key in _BUILD_KEYS if key in options}
    try:
        new = spec.new(args, **options)
    except ValidationError as exc:
        raise AssertionError(
            f"Expected args and opts to build a valid job, got validation errors:\n\n{exc}"
        ) from exc
    now = datetime.now(timezone.utc)
    at = {key: _aware(extra.get(key), key) or now for key in ("attempted_at", "inserted_at")}
    scheduled = new.resolve_scheduled_at(utc_naive(now))
    return Job(
        id=extra.get("id") or next(_IDS),
        state=new.state,
        queue=new.queue,
        worker=new.worker,
        args=json.loads(new.args_json),
        attempt=extra.get("attempt", 1),
        max_attempts=new.max_attempts,
        inserted_at=at["inserted_at"],
        scheduled_at=now if scheduled is None else scheduled.replace(tzinfo=timezone.utc),
        attempted_at=at["attempted_at"],
        priority=new.priority or 0,
        tags=list(new.tags),
        meta=json.loads(new.meta_json),
    )


def _aware(value: Any, name: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValidationError(name, f"must be a timezone-aware datetime, got {value!r}")
    return value


def perform_job(
    worker: Worker | str,
    args: Mapping[str, Any] | None = None,
    *,
    with_safety: bool = False,
    snooze: SnoozeStyle = "max_attempts",
    rng: Callable[[], float] = random.random,
    registry: Registry | None = None,
    **options: Any,
) -> Performed:
    """Run ``worker`` on a job built from ``args`` and ``options`` (``Job.new``'s, plus
    ``id``, ``attempt``, ``attempted_at``, ``inserted_at``), in this process, through the
    node's executor and outcome rules; nothing is written.

    As Oban's ``perform_job`` (which runs unsafe), an exception the worker raises — or a
    ``TimeoutError`` past its timeout — propagates; ``with_safety=True`` returns it as the
    ``retryable``/``discarded`` ack a node would write instead.
    """
    job = build_job(worker, args, registry=registry, **options)
    spec = resolve_worker(worker, registry)
    with _session(snooze, rng) as session:
        outcome = session.run(job, spec)
    if outcome.error is not None and not with_safety:
        raise outcome.error
    return Performed(job, outcome.ack, outcome.value, outcome.error)


def drain_queue(
    target: Target,
    queue: str,
    *,
    with_scheduled: bool | datetime = False,
    with_recursion: bool = False,
    with_limit: int | None = None,
    with_safety: bool = True,
    snooze: SnoozeStyle = "max_attempts",
    registry: Registry | None = None,
    prefix: str | None = None,
) -> dict[str, int]:
    """Run the queue's available jobs here, one by one, writing each real ack; returns Oban's
    counts ``{"cancelled", "discard", "failure", "snoozed", "success"}``.

    Only jobs of registered workers are claimed, as a node claims them (a job for an Elixir
    worker stays available). ``with_scheduled``: first make scheduled and retryable jobs
    available (all, or those due by a datetime); ``with_recursion``: drain again while runs
    enqueue more; ``with_limit``: jobs per round; ``with_safety=False``: re-raise a worker's
    exception after writing its ack.
    """
    limit = _drain_options(queue, with_scheduled, with_limit)
    workers = registry or REGISTRY
    until = utc_naive(with_scheduled) if isinstance(with_scheduled, datetime) else None
    counts = dict.fromkeys(DRAIN_KEYS, 0)
    attempted_by = [_node_name(), str(uuid.uuid4())]  # a v4 uuid: never taken for ours
    with _session(snooze, random.random) as session, client_for(target, prefix) as client:
        run = client.source.run
        while True:
            before = dict(counts)
            if with_scheduled is not False:
                run(stage_queue(client.prefix, queue, until))
            # mirrors lib/oban/queue/drainer.ex fetch_available/2: the engine's fetch_jobs
            rows = run(
                fetch_jobs(
                    client.prefix, queue, workers.names(), limit,
                    now=utc_now(), attempted_by=attempted_by,
                )
            )  # fmt: skip
            for job in map(decode_fetched, rows):
                spec = cast(Worker, workers.get(job.worker))
                outcome = session.run(job, spec)
                run(ack_jobs(client.prefix, [outcome.ack], now=outcome.ack.at))
                counts[outcome.ack.status] += 1
                if outcome.error is not None and not with_safety:
                    raise outcome.error  # mirrors executor.ex reraise_unsafe/1, after the ack
            if not with_recursion or counts == before:
                return counts


def _drain_options(queue: Any, with_scheduled: Any, with_limit: Any) -> int:
    if not isinstance(queue, str) or not queue:
        raise ValidationError("queue", f"must be a queue name, got {queue!r}")
    if not isinstance(with_scheduled, (bool, datetime)):
        raise ValidationError(
            "with_scheduled", f"must be a bool or a datetime, got {with_scheduled!r}"
        )
    if isinstance(with_scheduled, datetime):
        _aware(with_scheduled, "with_scheduled")
    if with_limit is None:
        return INFINITE
    if isinstance(with_limit, bool) or not isinstance(with_limit, int) or with_limit < 1:
        raise ValidationError("with_limit", f"must be an integer >= 1, got {with_limit!r}")
    return with_limit


def _node_name() -> str:
    from bridge.runtime.node import default_node_name

    return default_node_name()
