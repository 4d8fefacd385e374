"""A thread pool whose threads never hold the process open.

``concurrent.futures.ThreadPoolExecutor`` joins its threads at interpreter exit, so one
job still running after the shutdown grace period (its row already handed back) would
keep a SIGTERM'd node alive until the job returned. These threads are daemons: when the
node is done, the process exits, as Elixir's does after its grace period.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_STOP = object()


class DaemonThreadPool:
    def __init__(self, max_workers: int, name: str = "bridge-job"):
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._max = max_workers
        self._name = name
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, fn, args))
        with self._lock:
            if self._idle == 0 and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
            if item is _STOP:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        """Let idle threads end; busy ones end with their job (or with the process)."""
        for _ in self._threads:
            self._queue.put(_STOP)
