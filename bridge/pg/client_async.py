"""``AsyncClient``: the asyncio twin of :class:`bridge.pg.client.Client`.

Same names, same semantics, over an :class:`~bridge.pg.source.AsyncSource` (a DSN, an
``AsyncConnectionPool`` or the caller's own ``AsyncConnection``, whose transaction it
joins without ever committing on the caller's behalf); every method is awaited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bridge.errors import WaitTimeout
from bridge.ops.jobs import Changes
from bridge.pg._calls import Calls
from bridge.pg.source import AsyncInput, AsyncSource
from bridge.wire.job import Job, JobOptions, NewJob
from bridge.wire.notify import ALL_QUEUES, DEFAULT_INSTANCE
from bridge.wire.query import StateFilter
from bridge.wire.recorded import RECORDED_LIMIT, fetch_recorded
from bridge.wire.wait import (
    DEFAULT_WAIT,
    Finished,
    check_timeout,
    finished,
    is_final,
    job_id_of,
    poll_delays,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


class AsyncClient:
    """Enqueue and manage Oban jobs from asyncio code; the twin of ``Client``.

    Example:
        >>> async with AsyncClient("postgresql://localhost/app") as client:
        ...     job = await client.enqueue("MyApp.Workers.Mailer", {"to": "a@b.c"}, queue="mailers")
    """

    def __init__(
        self,
        source: AsyncInput | AsyncSource,
        *,
        prefix: str = "public",
        schema_version: int = 14,
        check_schema: bool = True,
        compress_signals: bool = False,
    ):
        if isinstance(source, AsyncSource):
            self.source = source
        else:
            self.source = AsyncSource(
                source, prefix=prefix, schema_version=schema_version, check_schema=check_schema
            )
        # compress_signals: only when every Elixir node runs Oban ≥ 2.21 (Z: kills older notifiers)
        self._calls = Calls(
            self.source.prefix,
            self.source.policy.schema_version or 14,
            compress_signals=compress_signals,
        )
        self._run = self.source.run

    @property
    def prefix(self) -> str:
        return self.source.prefix

    async def close(self) -> None:
        """Close what the client opened itself (never the caller's connection or pool)."""
        await self.source.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- jobs ---------------------------------------------------------------------------------

    async def enqueue(
        self, worker: str, args: Mapping[str, Any] | None = None, **options: Unpack[JobOptions]
    ) -> Job:
        """Insert one job for ``worker`` (an Elixir module name or any worker string).

        ``options`` are ``Oban.Job.new/2``'s (``bridge.wire.job.JobOptions``): queue,
        priority, max_attempts, tags, meta, scheduled_at / schedule_in, unique, replace.
        Returns the inserted row, or with ``unique`` the existing job flagged
        ``conflict=True`` — with ``replace``, after writing the fields listed for its state
        (``replace={"scheduled": ["scheduled_at"]}``; a plain list: every state).
        """
        return await self._run(self._calls.enqueue(worker, args, **options))

    async def insert(self, job: NewJob) -> Job:
        """Insert a job built with ``Job.new(...)``."""
        return await self._run(self._calls.insert(job))

    async def insert_all(self, jobs: Iterable[NewJob]) -> list[Job]:
        """Insert many jobs in one transaction (uniqueness ignored, as in Oban's Basic engine)."""
        return await self._run(self._calls.insert_all(jobs))

    async def get_job(self, job_id: int) -> Job:
        return await self._run(self._calls.get_job(job_id))

    async def list_jobs(
        self,
        *,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """The newest ``limit`` jobs matching every criterion (several states: any of them)."""
        return await self._run(
            self._calls.list_jobs(state=state, queue=queue, worker=worker, limit=limit)
        )

    async def count_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """How many jobs match every criterion."""
        return await self._run(
            self._calls.count_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    async def cancel_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.cancel_all_jobs/2``: cancel the matching jobs that are not final (executing
        ones also get ``pkill``); returns how many were cancelled. No criteria: every job."""
        return await self._run(
            self._calls.cancel_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    async def retry_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.retry_all_jobs/2``: make the matching jobs available again (not available or
        executing ones); returns how many were retried."""
        return await self._run(
            self._calls.retry_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    async def delete_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.delete_all_jobs/2``: delete the matching jobs that are not executing; returns
        how many were deleted."""
        return await self._run(
            self._calls.delete_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    async def cancel_job(self, job_id: int) -> Job:
        """Cancel unless final; an executing job also gets Oban's ``pkill`` signal."""
        return await self._run(self._calls.cancel_job(job_id))

    async def retry_job(self, job_id: int) -> Job:
        """Make a job available again (not if it is available or executing)."""
        return await self._run(self._calls.retry_job(job_id))

    async def delete_job(self, job_id: int) -> bool:
        """Delete a job unless it is executing; returns whether a row was deleted."""
        return await self._run(self._calls.delete_job(job_id))

    async def update_job(self, job: Job | int, changes: Changes) -> Job:
        """``Oban.update_job/3`` (Oban ≥ 2.20): change some fields of a job, under a row lock.

        ``changes`` maps fields to new values — only args, max_attempts, meta, priority,
        queue, scheduled_at, tags and worker (anything else is a ``ValidationError`` naming
        it, checked before any I/O) — or is a function of the locked job returning such a
        mapping. Values are checked as ``Job.new`` checks them, except that tags are stored
        as given (Oban does not normalise them here). A new ``scheduled_at`` makes the job
        ``scheduled``. Raises ``JobNotFound`` when there is no such job or another
        transaction holds it locked (e.g. while a producer fetches it).
        """
        return await self._run(self._calls.update_job(job, changes))

    async def record(
        self, job_id: int, value: Any, *, compressed: bool | int = True, limit: int = RECORDED_LIMIT
    ) -> Job:
        """Record ``value`` as the job's output (ETF in ``meta.return``), keeping other meta.

        The value is encoded and checked against ``limit`` (characters of encoded
        text, Pro's 32,000 by default) before anything is written.
        """
        return await self._run(
            self._calls.record(job_id, value, compressed=compressed, limit=limit)
        )

    async def fetch_recorded(self, job: Job | int) -> Any:
        """The recorded output of a job (or job id); ``RecordedMissing`` when there is none."""
        if isinstance(job, int):
            job = await self.get_job(job)
        return fetch_recorded(job)

    async def wait(self, job: Job | int, *, timeout: float | None = DEFAULT_WAIT) -> Finished:
        """Await the job's completion, discard or cancel; see :meth:`Client.wait`."""
        limit = check_timeout(timeout)
        job_id = job_id_of(job)
        deadline = None if limit is None else time.monotonic() + limit
        for delay in poll_delays():
            current = await self.get_job(job_id)
            if is_final(current):
                return finished(current)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeout(job_id, current.state.value, limit or 0)
            await asyncio.sleep(delay if left is None else min(delay, left))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- queues: Oban's signals, obeyed by Elixir and Python nodes alike ----------------------

    async def pause_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Stop new jobs of ``queue`` starting anywhere (or on ``node`` only) while running ones
        finish — what ``Oban.pause_queue/2`` sends, so Elixir producers obey it too.

        ``instance`` is the Elixir instance name a ``node`` is addressed under (its ident is
        ``"<instance>.<node>"``). Sent at commit; there is no reply, as in Oban.
        """
        await self._run(self._calls.pause_queue(queue, node=node, instance=instance))

    async def resume_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Undo :meth:`pause_queue` (``Oban.resume_queue/2``)."""
        await self._run(self._calls.resume_queue(queue, node=node, instance=instance))

    async def pause_all_queues(
        self, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Pause every queue, including ones this process has never heard of
        (``Oban.pause_all_queues/2``)."""
        await self._run(self._calls.pause_queue(ALL_QUEUES, node=node, instance=instance))

    async def resume_all_queues(
        self, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Undo :meth:`pause_all_queues` (``Oban.resume_all_queues/2``)."""
        await self._run(self._calls.resume_queue(ALL_QUEUES, node=node, instance=instance))

    async def scale_queue(
        self, queue: str, limit: int, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Throttle or widen a running queue without a deploy, e.g. when a partner API
        rate-limits (``Oban.scale_queue/2``); ``limit`` is per node."""
        await self._run(self._calls.scale_queue(queue, limit, node=node, instance=instance))

    async def start_queue(
        self,
        queue: str,
        limit: int,
        *,
        paused: bool = False,
        node: str | None = None,
        instance: str = DEFAULT_INSTANCE,
    ) -> None:
        """Run a queue the nodes were not configured with (``Oban.start_queue/2``); it lasts
        until they restart. ``paused`` starts it paused, to resume when ready."""
        await self._run(
            self._calls.start_queue(queue, limit, paused=paused, node=node, instance=instance)
        )

    async def stop_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Shut a queue down until the nodes restart (``Oban.stop_queue/2``); running jobs get
        the nodes' grace period."""
        await self._run(self._calls.stop_queue(queue, node=node, instance=instance))
