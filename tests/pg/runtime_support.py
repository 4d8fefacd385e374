"""Workers and helpers for the runtime tests (``tests/pg/test_runtime*.py``).

The workers are module-level, named ``BridgeTest.*``, and kept in this module's own
``REGISTRY`` — except the process worker: a ``spawn`` child of the process executor imports
this module by name and looks the worker up in the global registry (the child inherits the
parent's ``sys.path``, which holds ``tests/pg``). A test gives its node the workers it wants
explicitly; nothing here runs unless a node is started.

pytest-asyncio is not installed: a test body is a coroutine run with :func:`run`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import psycopg

from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, Worker, worker
from bridge.wire.etf import Atom
from bridge.wire.job import Job
from bridge.wire.outcome import Cancel, Discard, Record, Snooze

T = TypeVar("T")
QUEUE = "rt"
FINAL = ("completed", "discarded", "cancelled")
REGISTRY = Registry()


# --- workers ------------------------------------------------------------------------------------


@worker("BridgeTest.Outcome", queue=QUEUE, registry=REGISTRY)
async def outcome(job: Job) -> Any:
    """Does what ``args["mode"]`` says (the vectors' OutcomeWorker, in Python)."""
    mode = job.args["mode"]
    if mode == "ok":
        return None
    if mode == "value":
        return {"result": 42}
    if mode == "error":
        raise RuntimeError("boom")
    if mode == "raise":
        raise ValueError("kaboom")
    if mode == "cancel":
        return Cancel("nope")
    if mode == "discard":
        return Discard("bad input")
    if mode == "snooze":
        return Snooze(job.args.get("seconds", 30))
    if mode == "snooze_until":  # snooze (1 s) until meta.snoozed reaches args["times"]
        return Snooze(1) if job.meta.get("snoozed", 0) < job.args["times"] else "done"
    if mode == "record":
        return Record((Atom("ok"), job.args["value"]))
    if mode == "sleep":
        await asyncio.sleep(job.args["seconds"])
        return None
    raise AssertionError(f"unknown mode {mode!r}")


@worker("BridgeTest.FastRetry", queue=QUEUE, backoff=lambda job: 1, registry=REGISTRY)
async def fast_retry(job: Job) -> None:
    """The vectors' FastRetryWorker: fails every attempt, retries after 1 second."""
    raise RuntimeError("boom")


@worker("BridgeTest.Recorded", queue=QUEUE, recorded=True, registry=REGISTRY)
async def recorded(job: Job) -> Any:
    return job.args["value"]


@worker("BridgeTest.ThreadSleep", queue=QUEUE, timeout=0.5, registry=REGISTRY)
def thread_sleep(job: Job) -> str:
    """A thread job that ignores its timeout; it notes when it really ended."""
    time.sleep(job.args["seconds"])
    THREAD_DONE.append(job.id or 0)
    return "late"


THREAD_DONE: list[int] = []


@worker(
    "BridgeTest.Process",
    queue=QUEUE,
    executor="process",
    timeout=lambda job: job.args.get("timeout", 60),
)
def process_job(job: Job) -> int:
    """Runs in a spawn child: writes its pid to ``args["pidfile"]``, then sleeps."""
    with open(job.args["pidfile"], "w", encoding="utf-8") as out:
        out.write(str(os.getpid()))
    time.sleep(job.args.get("seconds", 0))
    return os.getpid()


ALL: tuple[Worker, ...] = (outcome, fast_retry, recorded, thread_sleep, process_job)


# --- running a node inside a test ---------------------------------------------------------------


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a test body on a fresh event loop (there is no pytest-asyncio here)."""
    return asyncio.run(coro)


async def stop(node: Node, grace: float = 5.0) -> None:
    """``node.stop()``, bounded so that a hang fails the test instead of blocking the run."""
    await asyncio.wait_for(node.stop(grace_period=grace), timeout=grace + 60)


@asynccontextmanager
async def serving(
    dsn: str,
    workers: Iterable[Worker] = ALL,
    queues: dict[str, int] | None = None,
    grace: float = 5.0,
    **options: Any,
) -> AsyncIterator[Node]:
    node = Node(
        dsn,
        queues=queues or {QUEUE: 5},
        workers=list(workers),
        node=f"pytest-{os.getpid()}",
        **options,
    )
    await node.start()
    try:
        yield node
    finally:
        await stop(node, grace)


async def connect(dsn: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(dsn, autocommit=True)


async def row(conn: psycopg.AsyncConnection[Any], job_id: int) -> dict[str, Any]:
    cur = await conn.execute("SELECT row_to_json(j.*) FROM oban_jobs j WHERE id = %s", (job_id,))
    found = await cur.fetchone()
    assert found is not None, f"job {job_id} is gone"
    value: dict[str, Any] = found[0]
    return value


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]], timeout: float = 30.0, what: str = "condition"
) -> float:
    """Poll ``check`` (sync or async) until true; returns the seconds it took."""
    started = time.perf_counter()
    while not await _truth(check()):
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def _truth(value: bool | Awaitable[bool]) -> bool:
    return await value if inspect.isawaitable(value) else bool(value)


async def wait_state(
    conn: psycopg.AsyncConnection[Any],
    job_id: int,
    states: Iterable[str] = FINAL,
    timeout: float = 30.0,
) -> dict[str, Any]:
    wanted = tuple(states)
    latest: dict[str, Any] = {}

    async def reached() -> bool:
        latest.update(await row(conn, job_id))
        return latest["state"] in wanted

    await wait_until(reached, timeout, f"job {job_id} to be {'/'.join(wanted)}")
    return latest


def parse(text: str) -> datetime:
    """A row_to_json timestamp (fraction trimmed) or an errors ``at`` (``Z``)."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction.ljust(6, '0')}" if fraction else head)


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {column for column in after if before[column] != after[column]}


def pkill(job_id: int) -> str:
    return json.dumps({"action": "pkill", "job_id": job_id})
