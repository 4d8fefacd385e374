"""Python twins of the Elixir harness's test workers, for the ``runtime.*`` scenarios.

``EchoWorker`` behaves like ``BridgeHarness.EchoWorker`` (``args["mode"]`` picks the
outcome) and ``TimeoutWorker`` like ``BridgeHarness.TimeoutWorker`` (a 100 ms timeout,
then sleeps ``args["ms"]``). They live in their own ``REGISTRY`` so that importing this
module never adds workers to an application's process-wide registry. A scenario's node
serves them in the queues the ``bridge.start_node`` step names (see ``for_queue``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bridge.conformance.terms import build
from bridge.runtime.worker import Registry, Worker, worker
from bridge.wire.job import Job
from bridge.wire.outcome import Cancel, Discard, Record, Snooze

REGISTRY = Registry()
TIMEOUT_MS = 100  # BridgeHarness.TimeoutWorker's timeout/1
# The names scenarios and recorded vectors use (this module was ``conformance.workers``
# before it moved inside ``bridge``): explicit, so they never follow the module's path.
PREFIX = "conformance.workers"


@worker(f"{PREFIX}.EchoWorker", registry=REGISTRY)
class EchoWorker:
    """ok | ok_value (+ record) | raise | snooze | cancel | discard | sleep, as in Elixir."""

    async def process(self, job: Job) -> Any:
        args = job.args
        mode = args.get("mode")
        if mode == "ok":
            return None
        if mode == "ok_value":
            value = build(args.get("value"))
            return Record(value) if args.get("record") is True else value
        if mode == "raise":
            raise ValueError("kaboom")  # Elixir's twin: raise ArgumentError, "kaboom"
        if mode == "snooze":
            return Snooze(int(args.get("seconds", 30)))
        if mode == "cancel":
            return Cancel(args.get("reason", "nope"))
        if mode == "discard":
            return Discard(args.get("reason", "nope"))
        if mode == "sleep":
            await asyncio.sleep(int(args.get("ms", 1000)) / 1000)
            return None
        raise ValueError(f"unknown mode {mode!r}")


@worker(f"{PREFIX}.TimeoutWorker", registry=REGISTRY, timeout=TIMEOUT_MS / 1000)
class TimeoutWorker:
    """Times out after 100 ms; sleeps ``args["ms"]`` (default 1000)."""

    async def process(self, job: Job) -> None:
        await asyncio.sleep(int(job.args.get("ms", 1000)) / 1000)


def for_queue(name: str, queue: str) -> Worker:
    """The registered worker ``name``, served in ``queue`` by a scenario's node."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise LookupError(f"no conformance worker {name!r}; known: {REGISTRY.names()}")
    return dataclasses.replace(spec, queue=queue, defaults={**spec.defaults, "queue": queue})
