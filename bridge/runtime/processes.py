"""``executor="process"``: CPU-bound workers in child processes that can be killed.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one task, so a timeout or a
``pkill`` could not end the work. Here each child runs one job at a time over a pipe; to
stop a job its child is killed (SIGKILL) and replaced. Children are started with
``spawn`` (no inherited event loop or sockets) and import the worker's module themselves,
so a process worker must be a module-level function or class.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from bridge.wire.outcome import Raised

if TYPE_CHECKING:
    from bridge.runtime.executor import Run

log = logging.getLogger("bridge.processes")


def _child(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    from bridge.runtime.worker import REGISTRY

    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        module, name, job = message
        try:
            importlib.import_module(module)
            spec = REGISTRY.get(name)
            if spec is None:
                raise LookupError(f"worker {name!r} is not registered in module {module}")
            value = spec.perform(job)
            conn.send(("ok", value))
        except BaseException as exc:
            raised = Raised.of(exc)
            conn.send(("raised", (raised.kind, raised.message, raised.frames)))


class _Child:
    def __init__(self, context: Any):
        parent, child = context.Pipe()
        self.conn: Connection = parent
        self.process = context.Process(target=_child, args=(child,), daemon=True)
        self.process.start()
        child.close()


class ProcessPool:
    """``size`` children; a job waits for a free one."""

    def __init__(self, size: int):
        self._context = multiprocessing.get_context("spawn")
        self._size = size
        self._idle: list[_Child] = []
        self._count = 0
        self._free = asyncio.Semaphore(size)
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, run: Run) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        task = loop.create_task(self._execute(run, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return future

    async def _execute(self, run: Run, future: asyncio.Future[Any]) -> None:
        async with self._free:
            if future.done():
                return
            child = self._idle.pop() if self._idle else _Child(self._context)
            run.proc = child
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            fd = child.conn.fileno()
            loop.add_reader(fd, _set_once, ready)
            try:
                child.conn.send((run.worker.target[0], run.worker.name, run.job))
                await ready
                kind, value = child.conn.recv()
            except (EOFError, OSError, asyncio.CancelledError) as exc:
                _end(child)
                if not future.done():
                    future.set_exception(RuntimeError(f"worker process ended: {exc!r}"))
                return
            finally:
                loop.remove_reader(fd)
                run.proc = None
            self._idle.append(child)
            if future.done():
                return
            if kind == "ok":
                future.set_result(value)
            else:
                future.set_exception(_Reraised(*value))

    def kill(self, run: Run) -> None:
        """SIGKILL the child running ``run``; its ``_execute`` sees EOF and retires it."""
        child = run.proc
        if isinstance(child, _Child) and child.process.is_alive():
            log.info("killing the process running job %s", run.job.id)
            child.process.kill()

    def shutdown(self) -> None:
        for child in self._idle:
            _end(child)
        self._idle.clear()


class _Reraised(Exception):
    """An exception from a child, carried as text (its traceback stayed in the child)."""

    def __init__(self, kind: str, message: str, frames: tuple[str, ...]):
        super().__init__(message)
        self.raised = Raised(kind, message, tuple(frames))


def _end(child: _Child) -> None:
    if child.process.is_alive():
        child.process.kill()
    child.process.join(timeout=5)
    child.conn.close()


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
