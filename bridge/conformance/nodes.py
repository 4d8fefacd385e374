"""Python nodes inside a scenario: a ``bridge.runtime.node.Node`` on its own event loop.

Each node runs in a background thread with its own asyncio loop, in this process (so a
test can monkeypatch bridge and see a scenario fail). Steps talk to it through
``run_coroutine_threadsafe``; ``stop`` is Node's own graceful stop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from bridge.runtime.node import Node
from bridge.runtime.worker import Worker
from bridge.wire.outcome import SnoozeStyle

T = TypeVar("T")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0  # the scenario nodes' grace period is 2 s


class NodeStopTimeout(Exception):
    """Node.stop() hung (a bug in bridge's shutdown)."""


class PythonNode:
    """One ``Node`` serving ``queues`` with ``workers`` until ``stop``."""

    def __init__(
        self,
        dsn: str,
        *,
        name: str,
        queues: Mapping[str, int],
        workers: Sequence[Worker],
        schema_version: int,
        prefix: str = "public",
        instance: str = "Oban",
        peer_name: str = "Bridge",
        snooze: SnoozeStyle = "max_attempts",
        grace_period: float = 2.0,
        crontab: Sequence[Any] = (),
    ):
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"conformance-node-{name}", daemon=True
        )
        self._thread.start()
        self._stopped = False

        async def make() -> Node:  # on the node's loop: its asyncio objects belong there
            return Node(
                dsn,
                queues=dict(queues),
                workers=list(workers),
                node=name,
                prefix=prefix,
                instance=instance,
                schema_version=schema_version,
                peer_name=peer_name,
                snooze=snooze,
                grace_period=grace_period,
                crontab=[tuple(entry) for entry in crontab],
            )

        try:
            self.node = self._call(make(), START_TIMEOUT)
            self._call(self.node.start(), START_TIMEOUT)
        except BaseException:
            self._halt()
            raise

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def check(self, queue: str) -> dict[str, Any] | None:
        """The queue's producer as ``Oban.check_queue/2`` reports one (``None``: not running
        here), read on the node's own loop."""

        async def read() -> dict[str, Any] | None:
            producer = self.node.producers.get(queue)
            if producer is None:
                return None
            return {
                "paused": producer.paused,
                "limit": producer.limit,
                "running": sorted(producer.running),
            }

        return self._call(read(), 5)

    def sonar(self) -> dict[str, Any]:
        """What the node's sonar heard: its status and the nodes, as the harness shows Elixir's."""

        async def read() -> dict[str, Any]:
            return {"status": self.node.sonar.status(), "nodes": sorted(self.node.sonar.nodes())}

        return self._call(read(), 5)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Node.stop (running jobs get the grace period, acks are flushed), then the loop.

        ``NodeStopTimeout`` when Node.stop does not return in time; the node's tasks are
        then cancelled once more so that its connections still close.
        """
        if self._stopped:
            return
        self._stopped = True
        stopping = asyncio.run_coroutine_threadsafe(self.node.stop(), self._loop)
        try:
            stopping.result(timeout)
        except concurrent.futures.TimeoutError:
            stuck = self._call(_cancel_all(), 5)
            with contextlib.suppress(BaseException):
                stopping.result(5)
            raise NodeStopTimeout(
                f"Node.stop() of {self.name} did not return within {timeout:g} s; "
                f"still running: {stuck}"
            ) from None
        finally:
            self._halt()

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


async def _cancel_all() -> list[str]:
    """Cancel every other task on this loop; their names and where they wait."""
    stuck = []
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task():
            stuck.append(f"{task.get_name()} ({_where(task)})")
            task.cancel()
    return sorted(stuck)


def _where(task: asyncio.Task[Any]) -> str:
    frames = task.get_stack(limit=1)
    if not frames:
        return "?"
    code = frames[0].f_code
    return f"{code.co_filename.rsplit('/', 1)[-1]}:{frames[0].f_lineno} {code.co_name}"
