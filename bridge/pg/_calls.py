"""The operations a client can run, built once for both the sync and async shells.

Each method returns a pure op (``bridge.ops``) with the client's prefix, schema
version and the app clock filled in; ``Client`` drives it over a connection and
``AsyncClient`` awaits it. Keeping this here means the two shells cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from bridge.errors import ConfigError
from bridge.ops import Op
from bridge.ops import jobs as job_ops
from bridge.ops import signals as signal_ops
from bridge.wire import notify
from bridge.wire.changes import cast_update
from bridge.wire.job import Job, JobOptions, NewJob, new_job
from bridge.wire.query import JobFilter, StateFilter, check_id, check_limit, job_filter
from bridge.wire.recorded import RECORDED_LIMIT, encode_recorded

if TYPE_CHECKING:
    from typing_extensions import Unpack


def utc_now() -> datetime:
    """The app clock as Oban uses it: UTC, stored naive in ``timestamp`` columns."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Calls:
    """Builds ops for one prefix and schema version."""

    def __init__(self, prefix: str, schema_version: int, *, compress_signals: bool = False):
        self.prefix = prefix
        self.schema_version = schema_version
        if not isinstance(compress_signals, bool):
            raise ConfigError(f"compress_signals must be True or False, got {compress_signals!r}")
        self.compress_signals = compress_signals

    def enqueue(
        self, worker: str, args: Mapping[str, Any] | None, **options: Unpack[JobOptions]
    ) -> Op[Job]:
        return self.insert(new_job(worker, args, **options))

    def insert(self, job: NewJob) -> Op[Job]:
        if not isinstance(job, NewJob):
            raise ConfigError("insert() takes a job built with Job.new(...)")
        return job_ops.insert_job(
            self.prefix, job, now=utc_now(), schema_version=self.schema_version
        )

    def insert_all(self, jobs: Iterable[NewJob]) -> Op[list[Job]]:
        batch = list(jobs)
        if not all(isinstance(job, NewJob) for job in batch):
            raise ConfigError("insert_all() takes jobs built with Job.new(...)")
        return job_ops.insert_all_jobs(self.prefix, batch, now=utc_now())

    def get_job(self, job_id: int) -> Op[Job]:
        return job_ops.get_job(self.prefix, check_id(job_id))

    def select(
        self,
        *,
        ids: Iterable[int] | None = None,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
    ) -> JobFilter:
        """Validated criteria (before any I/O); states this schema lacks match nothing."""
        return job_filter(
            ids=ids, state=state, queue=queue, worker=worker, schema_version=self.schema_version
        )

    def list_jobs(
        self,
        *,
        state: StateFilter = None,
        queue: str | None = None,
        worker: str | None = None,
        limit: int = 100,
    ) -> Op[list[Job]]:
        selected = self.select(state=state, queue=queue, worker=worker)
        return job_ops.list_jobs(self.prefix, selected, limit=check_limit(limit))

    def count_jobs(self, **criteria: Any) -> Op[int]:
        return job_ops.count_jobs(self.prefix, self.select(**criteria))

    def cancel_all_jobs(self, **criteria: Any) -> Op[int]:
        return job_ops.cancel_all_jobs(self.prefix, self.select(**criteria), now=utc_now())

    def retry_all_jobs(self, **criteria: Any) -> Op[int]:
        return job_ops.retry_all_jobs(self.prefix, self.select(**criteria), now=utc_now())

    def delete_all_jobs(self, **criteria: Any) -> Op[int]:
        return job_ops.delete_all_jobs(self.prefix, self.select(**criteria))

    def cancel_job(self, job_id: int) -> Op[Job]:
        return job_ops.cancel_job(self.prefix, check_id(job_id), now=utc_now())

    def retry_job(self, job_id: int) -> Op[Job]:
        return job_ops.retry_job(self.prefix, check_id(job_id), now=utc_now())

    def delete_job(self, job_id: int) -> Op[bool]:
        return job_ops.delete_job(self.prefix, check_id(job_id))

    def update_job(self, job: Job | int, changes: job_ops.Changes) -> Op[Job]:
        job_id = check_id(job.id if isinstance(job, Job) else job)
        # a mapping is validated here, before any I/O; a function's result once it has run
        return job_ops.update_job(
            self.prefix, job_id, changes if callable(changes) else cast_update(changes)
        )

    def record(
        self, job_id: int, value: Any, *, compressed: bool | int = True, limit: int = RECORDED_LIMIT
    ) -> Op[Job]:
        # encoded (and size-checked) before the database is touched: RecordTooLarge is raised
        # here, never half-way through a write
        text = encode_recorded(value, compressed=compressed, limit=limit)
        return job_ops.record_job(self.prefix, check_id(job_id), text)

    # -- signals: every payload is built (and validated) here, before any I/O -----------------

    def pause_queue(self, queue: str, *, node: str | None, instance: str) -> Op[None]:
        return self._signal(notify.pause_message, queue, node=node, instance=instance)

    def resume_queue(self, queue: str, *, node: str | None, instance: str) -> Op[None]:
        return self._signal(notify.resume_message, queue, node=node, instance=instance)

    def scale_queue(self, queue: str, limit: int, *, node: str | None, instance: str) -> Op[None]:
        return self._signal(notify.scale_message, queue, limit, node=node, instance=instance)

    def start_queue(
        self, queue: str, limit: int, *, paused: bool, node: str | None, instance: str
    ) -> Op[None]:
        return self._signal(
            notify.start_message, queue, limit, paused=paused, node=node, instance=instance
        )

    def stop_queue(self, queue: str, *, node: str | None, instance: str) -> Op[None]:
        return self._signal(notify.stop_message, queue, node=node, instance=instance)

    def _signal(self, build: Callable[..., str], *args: Any, **options: Any) -> Op[None]:
        payload = build(*args, compress=self.compress_signals, **options)
        return signal_ops.notify_signal(self.prefix, payload)
