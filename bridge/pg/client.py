"""``Client``: the synchronous shell over the job operations.

A client runs over a :class:`~bridge.pg.source.Source` (or anything a source takes: a
DSN, a ``psycopg_pool.ConnectionPool``, or **the caller's own psycopg connection**, whose
transaction it joins without ever committing — see ``bridge.pg.source``). Insert
notifications are sent in the same transaction, so PostgreSQL delivers them at commit and
never for a rolled-back insert.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bridge.errors import WaitTimeout
from bridge.ops.jobs import Changes
from bridge.pg._calls import Calls
from bridge.pg.source import Source, SyncInput
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


class Client:
    """Enqueue and manage Oban jobs from synchronous Python code.

    Example:
        >>> with Client("postgresql://localhost/app") as client:
        ...     job = client.enqueue("MyApp.Workers.Mailer", {"to": "a@b.c"}, queue="mailers")
    """

    def __init__(
        self,
        source: SyncInput | Source,
        *,
        prefix: str = "public",
        schema_version: int = 14,
        check_schema: bool = True,
        compress_signals: bool = False,
    ):
        if isinstance(source, Source):
            self.source = source
        else:
            self.source = Source(
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

    def close(self) -> None:
        """Close what the client opened itself (never the caller's connection or pool)."""
        self.source.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- jobs ---------------------------------------------------------------------------------

    def enqueue(
        self, worker: str, args: Mapping[str, Any] | None = None, **options: Unpack[JobOptions]
    ) -> Job:
        """Insert one job for ``worker`` (an Elixir module name or any worker string).

        ``options`` are ``Oban.Job.new/2``'s (``bridge.wire.job.JobOptions``): queue,
        priority, max_attempts, tags, meta, scheduled_at / schedule_in, unique, replace.
        Returns the inserted row, or with ``unique`` the existing job flagged
        ``conflict=True`` — with ``replace``, after writing the fields listed for its state
        (``replace={"scheduled": ["scheduled_at"]}``; a plain list: every state).
        """
        return self._run(self._calls.enqueue(worker, args, **options))

    def insert(self, job: NewJob) -> Job:
        """Insert a job built with ``Job.new(...)``."""
        return self._run(self._calls.insert(job))

    def insert_all(self, jobs: Iterable[NewJob]) -> list[Job]:
        """Insert many jobs in one transaction (uniqueness ignored, as in Oban's Basic engine)."""
        return self._run(self._calls.insert_all(jobs))

    def get_job(self, job_id: int) -> Job:
        return self._run(self._calls.get_job(job_id))

    def list_jobs(
        self,
        *,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """The newest ``limit`` jobs matching every criterion (several states: any of them)."""
        return self._run(
            self._calls.list_jobs(state=state, queue=queue, worker=worker, limit=limit)
        )

    def count_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """How many jobs match every criterion."""
        return self._run(self._calls.count_jobs(ids=ids, state=state, queue=queue, worker=worker))

    def cancel_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.cancel_all_jobs/2``: cancel the matching jobs that are not final (executing
        ones also get ``pkill``); returns how many were cancelled. No criteria: every job."""
        return self._run(
            self._calls.cancel_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    def retry_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.retry_all_jobs/2``: make the matching jobs available again (not available or
        executing ones); returns how many were retried."""
        return self._run(
            self._calls.retry_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    def delete_all_jobs(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> int:
        """``Oban.delete_all_jobs/2``: delete the matching jobs that are not executing; returns
        how many were deleted."""
        return self._run(
            self._calls.delete_all_jobs(ids=ids, state=state, queue=queue, worker=worker)
        )

    def cancel_job(self, job_id: int) -> Job:
        """Cancel unless final; an executing job also gets Oban's ``pkill`` signal."""
        return self._run(self._calls.cancel_job(job_id))

    def retry_job(self, job_id: int) -> Job:
        """Make a job available again (not if it is available or executing)."""
        return self._run(self._calls.retry_job(job_id))

    def delete_job(self, job_id: int) -> bool:
        """Delete a job unless it is executing; returns whether a row was deleted."""
        return self._run(self._calls.delete_job(job_id))

    def update_job(self, job: Job | int, changes: Changes) -> Job:
        """``Oban.update_job/3`` (Oban ≥ 2.20): change some fields of a job, under a row lock.

        ``changes`` maps fields to new values — only args, max_attempts, meta, priority,
        queue, scheduled_at, tags and worker (anything else is a ``ValidationError`` naming
        it, checked before any I/O) — or is a function of the locked job returning such a
        mapping. Values are checked as ``Job.new`` checks them, except that tags are stored
        as given (Oban does not normalise them here). A new ``scheduled_at`` makes the job
        ``scheduled``. Raises ``JobNotFound`` when there is no such job or another
        transaction holds it locked (e.g. while a producer fetches it).
        """
        return self._run(self._calls.update_job(job, changes))

    def record(
        self, job_id: int, value: Any, *, compressed: bool | int = True, limit: int = RECORDED_LIMIT
    ) -> Job:
        """Record ``value`` as the job's output (ETF in ``meta.return``), keeping other meta.

        The value is encoded and checked against ``limit`` (characters of encoded
        text, Pro's 32,000 by default) before anything is written.
        """
        return self._run(self._calls.record(job_id, value, compressed=compressed, limit=limit))

    def fetch_recorded(self, job: Job | int) -> Any:
        """The recorded output of a job (or job id); ``RecordedMissing`` when there is none."""
        if isinstance(job, int):
            job = self.get_job(job)
        return fetch_recorded(job)

    def wait(self, job: Job | int, *, timeout: float | None = DEFAULT_WAIT) -> Finished:
        """Block until the job is completed, discarded or cancelled; return it with its recorded
        output decoded (``Finished.value``) — e.g. an Elixir worker's answer.

        Polls the row (10 ms, backing off to 250 ms): Oban sends no notification when a job
        finishes, so there is nothing to LISTEN for. ``WaitTimeout`` (a ``TimeoutError``)
        names the job and its last state after ``timeout`` seconds (``None``: no limit).
        On your own connection, the job must be committed for a node to run it.
        """
        limit = check_timeout(timeout)
        job_id = job_id_of(job)
        deadline = None if limit is None else time.monotonic() + limit
        for delay in poll_delays():
            current = self.get_job(job_id)
            if is_final(current):
                return finished(current)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise WaitTimeout(job_id, current.state.value, limit or 0)
            time.sleep(delay if left is None else min(delay, left))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- queues: Oban's signals, obeyed by Elixir and Python nodes alike ----------------------

    def pause_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Stop new jobs of ``queue`` starting anywhere (or on ``node`` only) while running ones
        finish — what ``Oban.pause_queue/2`` sends, so Elixir producers obey it too.

        ``instance`` is the Elixir instance name a ``node`` is addressed under (its ident is
        ``"<instance>.<node>"``). Sent at commit; there is no reply, as in Oban.
        """
        self._run(self._calls.pause_queue(queue, node=node, instance=instance))

    def resume_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Undo :meth:`pause_queue` (``Oban.resume_queue/2``)."""
        self._run(self._calls.resume_queue(queue, node=node, instance=instance))

    def pause_all_queues(
        self, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Pause every queue, including ones this process has never heard of
        (``Oban.pause_all_queues/2``)."""
        self._run(self._calls.pause_queue(ALL_QUEUES, node=node, instance=instance))

    def resume_all_queues(
        self, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Undo :meth:`pause_all_queues` (``Oban.resume_all_queues/2``)."""
        self._run(self._calls.resume_queue(ALL_QUEUES, node=node, instance=instance))

    def scale_queue(
        self, queue: str, limit: int, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Throttle or widen a running queue without a deploy, e.g. when a partner API
        rate-limits (``Oban.scale_queue/2``); ``limit`` is per node."""
        self._run(self._calls.scale_queue(queue, limit, node=node, instance=instance))

    def start_queue(
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
        self._run(
            self._calls.start_queue(queue, limit, paused=paused, node=node, instance=instance)
        )

    def stop_queue(
        self, queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE
    ) -> None:
        """Shut a queue down until the nodes restart (``Oban.stop_queue/2``); running jobs get
        the nodes' grace period."""
        self._run(self._calls.stop_queue(queue, node=node, instance=instance))
