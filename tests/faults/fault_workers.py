"""Workers for the fault tier, imported by ``fault_node.py`` inside the node subprocess.

Each execution records ``(job_id, attempt, node)`` in the side table ``fault_runs`` of the same
database just before it returns, so the tests can check that every attempt ran at most once
and that the attempt which completed a job ran exactly once. ``DSN`` and ``NODE`` are set by
the runner before the node starts.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import psycopg
from fault_support import MARKER_APP

from bridge.runtime.worker import Registry, Worker, worker
from bridge.wire.job import Job

DSN = ""
NODE = ""

REGISTRY = Registry()
_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DSN, autocommit=True, application_name=MARKER_APP)
        _local.conn = conn
    return conn


def record_run(job: Job) -> None:
    _connection().execute(
        "INSERT INTO fault_runs (job_id, attempt, node) VALUES (%s, %s, %s)",
        (job.id, job.attempt, NODE),
    )


@worker("Fault.Sleep", queue="faults", max_attempts=50, registry=REGISTRY)
def sleep(job: Job) -> None:
    """A thread job: sleeps ``args["ms"]``, then records its run."""
    time.sleep(job.args["ms"] / 1000)
    record_run(job)


@worker("Fault.AsyncSleep", queue="faults", max_attempts=50, registry=REGISTRY)
async def async_sleep(job: Job) -> None:
    """An async job (cancellable at shutdown): sleeps ``args["ms"]``, then records its run."""
    await asyncio.sleep(job.args["ms"] / 1000)
    await asyncio.to_thread(record_run, job)


@worker("Fault.Long", queue="long", max_attempts=50, registry=REGISTRY)
async def long(job: Job) -> None:
    """Like AsyncSleep, in queue ``long``."""
    await asyncio.sleep(job.args["ms"] / 1000)
    await asyncio.to_thread(record_run, job)


@worker("Fault.Orphan", queue="orphan", max_attempts=50, registry=REGISTRY)
async def orphan(job: Job) -> None:
    """Like AsyncSleep, in queue ``orphan`` (its node gets killed)."""
    await asyncio.sleep(job.args["ms"] / 1000)
    await asyncio.to_thread(record_run, job)


ALL: tuple[Worker, ...] = (sleep, async_sleep, long, orphan)
