"""Run one job: call its worker on the loop, in a thread or in a child process, then hand
the decided ack to the acker.

``async def`` workers start *eagerly*: the coroutine runs right away and only becomes a
task if it actually waits for something, so a job that finishes without awaiting costs no
task at all (Python 3.12's eager tasks, done by hand for 3.10+). Timeouts and ``pkill``
cancel a task, kill a child process, and — since a thread cannot be killed — record a
timed-out thread job as failed and leave the thread to finish (logged); its late result
is ignored because its ack no longer matches an executing row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from bridge.runtime.clock import utc_now
from bridge.runtime.events import Events
from bridge.runtime.threads import DaemonThreadPool
from bridge.runtime.worker import Worker
from bridge.wire.job import Job
from bridge.wire.outcome import (
    Ack,
    Killed,
    Raised,
    Result,
    Returned,
    SnoozeStyle,
    TimedOut,
    decide,
)

if TYPE_CHECKING:
    from bridge.runtime.acker import Acker
    from bridge.runtime.processes import ProcessPool

log = logging.getLogger("bridge.executor")
RUNTIME_DIR = os.path.dirname(__file__) + os.sep  # frames of ours, left out of error texts
WORKING_DIR = os.getcwd() + os.sep  # frame paths below it are shown relative, as Elixir's


class _Continue:
    """Awaitable that resumes a coroutine already started with ``send(None)``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any):
        self.coro, self.first = coro, first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _resume(coro: Coroutine[Any, Any, Any], first: Any) -> Any:
    return await _Continue(coro, first)


class Run:
    """One running job: what to cancel on timeout or pkill, and whether it is settled."""

    __slots__ = ("done", "job", "on_done", "proc", "started", "task", "timer", "worker")

    def __init__(self, job: Job, worker: Worker, on_done: Callable[[Run], None]):
        self.job, self.worker, self.on_done = job, worker, on_done
        self.started = time.perf_counter()
        self.done = False
        self.task: asyncio.Future[Any] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.proc: Any = None


class Executor:
    """Starts jobs and settles each exactly once (result, timeout, pkill or hand-back)."""

    def __init__(
        self,
        acker: Acker,
        events: Events,
        *,
        snooze: SnoozeStyle = "max_attempts",
        threads: int = 10,
        processes: ProcessPool | None = None,
        rng: Callable[[], float] = random.random,
    ):
        self.acker = acker
        self.events = events
        self.snooze = snooze
        self.rng = rng
        self.threads = DaemonThreadPool(threads)
        self.processes = processes
        self.emit = events.wanted  # refreshed by the node at start (logging may change)
        self.running: dict[int, Run] = {}

    # -- starting ----------------------------------------------------------------------------

    def start_run(self, run: Run) -> None:
        job, worker = run.job, run.worker
        self.running[job.id] = run  # type: ignore[index]
        try:
            timeout = worker.timeout_for(job)
        except Exception as exc:
            self.settle(run, Raised.of(exc, RUNTIME_DIR, WORKING_DIR))
            return
        if worker.executor == "async":
            self._start_async(run, timeout)
        elif worker.executor == "process" and self.processes is not None:
            self._watch(run, self.processes.submit(run), timeout)
        else:
            future = asyncio.wrap_future(self.threads.submit(worker.perform, job))
            self._watch(run, future, timeout)

    def _start_async(self, run: Run, timeout: float | None) -> None:
        try:
            coro = run.worker.perform(run.job)
            first = coro.send(None)
        except StopIteration as stop:
            self.settle(run, Returned(stop.value))
            return
        except Exception as exc:
            self.settle(run, Raised.of(exc, RUNTIME_DIR, WORKING_DIR))
            return
        self._watch(run, asyncio.ensure_future(_resume(coro, first)), timeout)

    def _watch(self, run: Run, future: asyncio.Future[Any], timeout: float | None) -> None:
        run.task = future
        future.add_done_callback(lambda f: self._completed(run, f))
        if timeout is not None:
            loop = asyncio.get_running_loop()
            run.timer = loop.call_later(timeout, self._timed_out, run, timeout)

    def _completed(self, run: Run, future: asyncio.Future[Any]) -> None:
        if run.done:
            return
        if future.cancelled():
            self.settle(run, Killed())
            return
        exc = future.exception()
        if exc is not None:
            carried = getattr(exc, "raised", None)  # from a child process, already text
            if not isinstance(carried, Raised):
                carried = Raised.of(exc, RUNTIME_DIR, WORKING_DIR)
            self.settle(run, carried)
        else:
            self.settle(run, Returned(future.result()))

    # -- stopping a job ---------------------------------------------------------------------

    def _timed_out(self, run: Run, timeout: float) -> None:
        if run.done:
            return
        if run.worker.executor == "thread":
            log.warning(
                "job %s (%s) timed out after %sms; a thread cannot be stopped, so it is "
                "recorded as failed and left to finish (its result is ignored)",
                run.job.id,
                run.worker.name,
                int(timeout * 1000),
            )
        self._stop(run)
        self.settle(run, TimedOut(int(timeout * 1000)))

    def kill(self, run: Run) -> bool:
        """``pkill``: stop the job and record it cancelled, as Elixir does."""
        if run.done:
            return False
        self._stop(run)
        self.settle(run, Killed())
        return True

    def _stop(self, run: Run) -> None:
        if run.proc is not None and self.processes is not None:
            self.processes.kill(run)
        if run.task is not None and not run.task.done():
            run.task.cancel()

    # -- settling ---------------------------------------------------------------------------

    def settle(self, run: Run, result: Result) -> None:
        if run.done:
            return
        run.done = True
        if run.timer is not None:
            run.timer.cancel()
        job = run.job
        ack = decide(
            job,
            result,
            now=utc_now(),
            rng=self.rng,
            recorded=run.worker.recorded,
            backoff=run.worker.backoff,
            snooze=self.snooze,
        )
        self.acker.add(ack)
        self.running.pop(job.id, None)  # type: ignore[arg-type]
        if self.emit:
            self.events.emit(job, ack, run.started, time.perf_counter())
        run.on_done(run)

    def hand_back(self, run: Run, ack: Ack) -> None:
        """At shutdown: stop what can be stopped and write ``ack`` (the job goes back)."""
        if run.done:
            return
        run.done = True
        if run.timer is not None:
            run.timer.cancel()
        self._stop(run)
        self.acker.add(ack)
        self.running.pop(run.job.id, None)  # type: ignore[arg-type]
        run.on_done(run)

    def shutdown(self) -> None:
        self.threads.shutdown()
        if self.processes is not None:
            self.processes.shutdown()
