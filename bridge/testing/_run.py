"""The runtime's executor driven one job at a time outside a node: its acks are kept (not
written), the worker's return value and raised exception too, on an event loop of our own."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from bridge.runtime.events import Events
from bridge.runtime.executor import Executor, Run
from bridge.runtime.worker import Worker
from bridge.wire.job import Job
from bridge.wire.outcome import Ack, Raised, Result, Returned, SnoozeStyle


class Capture:
    """Stands in for the node's acker: keeps the ack instead of writing it."""

    def __init__(self) -> None:
        self.acks: list[Ack] = []

    def add(self, ack: Ack) -> None:
        self.acks.append(ack)


class LocalExecutor(Executor):
    """The runtime's executor, also keeping each raised exception for ``with_safety=False``."""

    def __init__(self, snooze: SnoozeStyle, rng: Callable[[], float]):
        self.capture = Capture()
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


class Loop:
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
class Session:
    loop: Loop
    executor: LocalExecutor

    def run(self, job: Job, worker: Worker) -> Outcome:
        return cast(Outcome, self.loop.run(self.executor.execute(job, worker)))


@contextlib.contextmanager
def session(snooze: SnoozeStyle, rng: Callable[[], float]) -> Iterator[Session]:
    loop = Loop()
    executor = LocalExecutor(snooze, rng)
    try:
        yield Session(loop, executor)
    finally:
        executor.shutdown()
        loop.close()
