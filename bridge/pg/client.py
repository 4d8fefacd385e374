"""``Client``: the synchronous shell over the job operations.

A client runs over one of three sources:

* a DSN — it opens (lazily) and owns one autocommit connection; each call is its
  own transaction;
* a ``psycopg_pool.ConnectionPool`` — each call borrows a connection;
* **the caller's own psycopg connection** — calls join the caller's
  transaction and nothing is committed on the caller's behalf: inside an open
  transaction a call runs in a savepoint; on an idle non-autocommit connection
  its statements open the transaction the caller will commit (or roll back);
  on an autocommit connection each call is one atomic transaction.

Insert notifications are sent in the same transaction, so PostgreSQL delivers
them at commit and never for a rolled-back insert.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool

from bridge.errors import ConfigError
from bridge.ops import Op
from bridge.ops.schema import require_version
from bridge.pg._calls import Calls
from bridge.pg._drive import drive
from bridge.pg.connect import connect
from bridge.wire.job import Job, JobOptions, NewJob
from bridge.wire.recorded import RECORDED_LIMIT, fetch_recorded

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")
Source = str | psycopg.Connection[Any] | ConnectionPool


class Client:
    """Enqueue and manage Oban jobs from synchronous Python code.

    Example:
        >>> with Client("postgresql://localhost/app") as client:
        ...     job = client.enqueue("MyApp.Workers.Mailer", {"to": "a@b.c"}, queue="mailers")
    """

    def __init__(
        self,
        source: Source,
        *,
        prefix: str = "public",
        schema_version: int = 14,
        check_schema: bool = True,
    ):
        if not isinstance(source, (str, psycopg.Connection, ConnectionPool)):
            raise ConfigError("Client takes a DSN, a psycopg Connection or a ConnectionPool")
        self._source = source
        self._calls = Calls(prefix, schema_version)
        self._check_schema = check_schema
        self._owned: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        return self._calls.prefix

    # -- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self._source, ConnectionPool):
            with self._source.connection() as conn:
                yield conn
        elif isinstance(self._source, psycopg.Connection):
            yield self._source
        else:
            with self._lock:
                if self._owned is None or self._owned.closed:
                    self._owned = connect(self._source, autocommit=True)
                yield self._owned

    def _transaction(self, conn: psycopg.Connection[Any]) -> contextlib.AbstractContextManager[Any]:
        idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
        if conn is self._source and not conn.autocommit and idle:
            return contextlib.nullcontext()  # the caller's transaction; the caller commits
        return conn.transaction()

    def _run(self, op: Op[T]) -> T:
        with self._connection() as conn:
            if self._check_schema:
                drive(require_version(self.prefix, self._calls.schema_version), conn)
                self._check_schema = False
            with self._transaction(conn):
                return drive(op, conn)

    def close(self) -> None:
        """Close the connection the client opened itself (never the caller's)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

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
        priority, max_attempts, tags, meta, scheduled_at / schedule_in, unique. Returns
        the inserted row, or with ``unique`` the existing job flagged ``conflict=True``.
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
        state: str | None = None,
        queue: str | None = None,
        worker: str | None = None,
        limit: int = 100,
    ) -> list[Job]:
        return self._run(
            self._calls.list_jobs(state=state, queue=queue, worker=worker, limit=limit)
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
