"""Client sources (DSN, pool, the caller's connection), the async twin, job management,
and bad input: each a clear typed error with no row written."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from bridge import (
    AsyncClient,
    Client,
    ConfigError,
    DatabaseError,
    Job,
    JobNotFound,
    JobState,
    SchemaMissing,
    SchemaOutdated,
    ValidationError,
)

pytestmark = pytest.mark.pg


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM oban_jobs").fetchone()[0]  # type: ignore[index]


def test_pool_source(dsn: str) -> None:
    with ConnectionPool(dsn, min_size=1, max_size=2, open=True) as pool:
        client = Client(pool)
        job = client.enqueue("W", {"a": 1})
        assert client.get_job(job.id).args == {"a": 1}  # type: ignore[arg-type]


def test_caller_transaction_is_joined_via_savepoint(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE orders (id int)")
        conn.execute("INSERT INTO orders VALUES (1)")  # the caller's transaction is open
        client = Client(conn)
        client.enqueue("W", {"order": 1})
        with pytest.raises(ValidationError):
            client.enqueue("W", {"order": 1}, priority=10)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()  # the caller decides: both the order and the job vanish
    assert _count(dsn) == 0


def test_caller_autocommit_connection_commits_each_call(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        Client(conn).enqueue("W", {})
    assert _count(dsn) == 1


def test_job_management_follows_oban(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {}, max_attempts=1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE oban_jobs SET state='discarded', attempt=1, discarded_at=now() WHERE id=%s",
                (job.id,),
            )
        retried = client.retry_job(job.id)  # type: ignore[arg-type]
        # mirrors Engine.retry_all_jobs: max_attempts = GREATEST(max_attempts, attempt + 1)
        assert (retried.state, retried.max_attempts, retried.discarded_at) == (
            JobState.AVAILABLE,
            2,
            None,
        )
        cancelled = client.cancel_job(job.id)  # type: ignore[arg-type]
        assert cancelled.state is JobState.CANCELLED and cancelled.cancelled_at is not None
        assert client.cancel_job(job.id).cancelled_at == cancelled.cancelled_at  # final: no-op
        assert client.delete_job(job.id) is True  # type: ignore[arg-type]
        with pytest.raises(JobNotFound):
            client.get_job(job.id)  # type: ignore[arg-type]
        with pytest.raises(JobNotFound):
            client.delete_job(10**9)


def test_cancel_of_an_executing_job_sends_pkill(dsn: str) -> None:
    listener = psycopg.connect(dsn, autocommit=True)
    listener.execute('LISTEN "public.oban_signal"')
    with Client(dsn) as client:
        job = client.enqueue("W", {})
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE oban_jobs SET state='executing', attempt=1 WHERE id=%s", (job.id,))
        client.cancel_job(job.id)  # type: ignore[arg-type]
    got = [n.payload for n in listener.notifies(timeout=0.5, stop_after=1)]
    listener.close()
    assert got == [f'{{"action":"pkill","job_id":{job.id}}}']


def test_executing_job_is_not_deleted(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {})
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE oban_jobs SET state='executing', attempt=1 WHERE id=%s", (job.id,))
        assert client.delete_job(job.id) is False  # type: ignore[arg-type]
    assert _count(dsn) == 1


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda c: c.enqueue("W", [1, 2]), ValidationError, "args"),
        (lambda c: c.enqueue("W" * 128, {}), ValidationError, "worker"),
        (lambda c: c.enqueue("W", {}, priority=10), ValidationError, "priority"),
        (lambda c: c.enqueue("W", {}, max_attempts=0), ValidationError, "max_attempts"),
        (lambda c: c.insert_all([Job.new("W", {}), {"worker": "W"}]), ConfigError, None),
    ],
)
def test_bad_input_writes_nothing(dsn: str, call: Any, error: type, field: str | None) -> None:
    with Client(dsn) as client, pytest.raises(error) as info:
        call(client)
    if field is not None:
        assert info.value.field == field
    assert _count(dsn) == 0


def test_prefix_with_a_double_quote_is_refused_before_io(dsn: str) -> None:
    # Elixir cannot quote it (lib/oban/migrations/postgres.ex quoted_prefix): refused at once
    with pytest.raises(ConfigError, match="double quote"):
        Client(dsn, prefix='x"; drop table oban_jobs; --')
    with psycopg.connect(dsn) as conn:  # the real table is untouched
        assert conn.execute("SELECT to_regclass('public.oban_jobs')").fetchone() == ("oban_jobs",)


def test_hostile_prefix_is_quoted_never_executed(dsn: str) -> None:
    # looked up as one quoted name, which does not exist
    with Client(dsn, prefix="x; drop table oban_jobs; --") as client, pytest.raises(SchemaMissing):
        client.enqueue("W", {})
    with psycopg.connect(dsn) as conn:  # the real table is untouched
        assert conn.execute("SELECT to_regclass('public.oban_jobs')").fetchone() == ("oban_jobs",)


def test_unmigrated_database_is_a_clear_error(empty_dsn: str) -> None:
    with Client(empty_dsn) as client, pytest.raises(SchemaMissing, match="migrate"):
        client.enqueue("W", {})


def test_v12_database_when_v14_is_required(migrated: Any) -> None:
    dsn = migrated(12)
    with Client(dsn) as client, pytest.raises(SchemaOutdated) as info:
        client.enqueue("W", {})
    assert (info.value.found, info.value.required) == (12, 14)
    assert _count(dsn) == 0


def test_unreachable_database() -> None:
    client = Client("postgresql://postgres@127.0.0.1:1/nope")
    with pytest.raises(DatabaseError, match="cannot connect"):
        client.enqueue("W", {})


def test_db_constraint_errors_are_typed(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE oban_jobs ADD CONSTRAINT no_zz CHECK (queue <> 'zz')")
    with Client(dsn) as client, pytest.raises(DatabaseError, match="no_zz"):
        client.enqueue("W", {}, queue="zz")


def test_async_client_mirrors_sync(dsn: str) -> None:
    async def main() -> None:
        async with AsyncClient(dsn) as client:
            job = await client.enqueue("W", {"a": 1}, queue="alpha", unique=True)
            again = await client.enqueue("W", {"a": 1}, queue="alpha", unique=True)
            assert again.conflict and again.id == job.id
            jobs = await client.insert_all([Job.new("W", {"b": i}) for i in range(3)])
            assert [j.args for j in await client.list_jobs(worker="W", limit=10)][:3] == [
                {"b": 2},
                {"b": 1},
                {"b": 0},
            ]
            assert (await client.cancel_job(jobs[0].id)).state is JobState.CANCELLED  # type: ignore[arg-type]
        async with AsyncConnectionPool(dsn, open=False) as pool:
            assert (await AsyncClient(pool).get_job(job.id)).id == job.id  # type: ignore[arg-type]
        aconn = await psycopg.AsyncConnection.connect(dsn)
        await AsyncClient(aconn).enqueue("W", {"rolled": "back"})
        await aconn.rollback()
        await aconn.close()

    asyncio.run(main())
    assert _count(dsn) == 4  # the rolled-back insert left nothing


def test_sync_and_async_expose_the_same_api() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            n: inspect.signature(f)
            for n, f in vars(cls).items()
            if callable(f) and not n.startswith("_") and n != "close"
        }

    sync, coro = public(Client), public(AsyncClient)
    assert sync.keys() == coro.keys()
    for name in sync:
        assert list(sync[name].parameters) == list(coro[name].parameters), name
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name


# -- issue 9: times, typed errors before I/O, filters and bulk actions ----------------------------

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nope"


def test_times_are_aware_utc_whatever_the_session_time_zone(dsn: str) -> None:
    from datetime import datetime, timedelta, timezone

    from bridge.ops.acks import ack_jobs
    from bridge.pg.source import Source
    from bridge.wire.outcome import Ack

    new_york = timezone(timedelta(hours=-5))
    when = datetime(2030, 1, 1, 9, 0, tzinfo=new_york)  # 14:00 UTC
    options = "-c TimeZone=America/New_York"
    with psycopg.connect(dsn, autocommit=True, options=options) as conn:
        client = Client(conn)
        job = client.enqueue("W", {}, scheduled_at=when)
        read = client.get_job(job.id)  # type: ignore[arg-type]
        assert read.scheduled_at == when and read.scheduled_at.tzinfo is timezone.utc  # type: ignore[union-attr]
        assert job.inserted_at is not None and job.inserted_at.tzinfo is timezone.utc
        stored = conn.execute("SELECT scheduled_at FROM oban_jobs").fetchone()
        assert stored == (datetime(2030, 1, 1, 14, 0),)  # naive UTC, as Oban stores it
        # a time read back (aware) and written again lands on the same instant: the ack guard
        conn.execute(
            "UPDATE oban_jobs SET state = 'executing', attempt = 1, attempted_at = "
            "timezone('UTC', now()) WHERE id = %s",
            (job.id,),
        )
        running = client.get_job(job.id)  # type: ignore[arg-type]
        assert running.attempted_at is not None and running.attempted_at.tzinfo is timezone.utc
        error = {"at": "2030-01-01T14:00:00.000000Z", "attempt": 1, "error": "** (E) x"}
        now = datetime.now(timezone.utc)
        ack = Ack(job.id, running.attempted_at, JobState.DISCARDED, now, error=error)  # type: ignore[arg-type]
        landed = Source(conn).run(ack_jobs("public", [ack], now=ack.at))
        assert landed == {job.id}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.list_jobs(state="bogus"), "state"),
        (lambda c: c.list_jobs(limit=-1), "limit"),
        (lambda c: c.count_jobs(state=["available", "paused"]), "state"),
        (lambda c: c.get_job("12"), "id"),
        (lambda c: c.cancel_job(-1), "id"),
        (lambda c: c.enqueue("W", {}, queu="mailers"), "queu"),
        (lambda c: c.enqueue("W", {"name": "a\x00b"}), "args"),
        (
            lambda c: c.enqueue("W", {}, scheduled_at=__import__("datetime").datetime(2030, 1, 1)),
            "scheduled_at",
        ),
    ],
)
def test_bad_input_is_a_validation_error_before_any_io(call: Any, field: str) -> None:
    # the database is unreachable: reaching it would be a DatabaseError, not this
    with Client(UNREACHABLE) as client, pytest.raises(ValidationError) as info:
        call(client)
    assert info.value.field == field


def _job(client: Client, state: str, queue: str = "q", worker: str = "W") -> int:
    job = client.enqueue(worker, {}, queue=queue)
    assert job.id is not None
    if state != "available":
        with psycopg.connect(client.source._input, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(
                "UPDATE oban_jobs SET state = %s, attempt = 1 WHERE id = %s", (state, job.id)
            )
    return job.id


def test_filters_combine_and_count(dsn: str) -> None:
    with Client(dsn) as client:
        ids = {s: _job(client, s) for s in ("available", "scheduled", "completed", "discarded")}
        _job(client, "completed", queue="other")
        listed = client.list_jobs(state=["completed", "discarded"], queue="q")
        assert [j.id for j in listed] == [ids["discarded"], ids["completed"]]
        assert client.count_jobs(state=["completed", "discarded"]) == 3
        assert client.count_jobs(queue="q", worker="W") == 4
        assert client.count_jobs(ids=[ids["available"], 10**9]) == 1
        assert client.count_jobs() == 5


def test_bulk_actions_leave_alone_what_oban_leaves_alone(dsn: str) -> None:
    listener = psycopg.connect(dsn, autocommit=True)
    listener.execute('LISTEN "public.oban_signal"')
    with Client(dsn) as client:
        ids = {s: _job(client, s) for s in ("available", "executing", "completed", "retryable")}
        _job(client, "available", queue="other")
        # mirrors lib/oban/engines/basic.ex cancel_all_jobs/2: not completed/cancelled/discarded
        assert client.cancel_all_jobs(queue="q") == 3
        assert client.cancel_all_jobs(queue="q") == 0
        assert client.get_job(ids["completed"]).state is JobState.COMPLETED
        assert client.get_job(ids["executing"]).state is JobState.CANCELLED
        # retry_all_jobs/2: not available or executing
        assert client.retry_all_jobs(state="cancelled") == 3
        assert client.count_jobs(state="available") == 4
        # delete_all_jobs/2: not executing
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE oban_jobs SET state = 'executing' WHERE id = %s", (ids["available"],)
            )
        assert client.delete_all_jobs(queue="q") == 3
        assert [j.id for j in client.list_jobs(queue="q")] == [ids["available"]]
    got = [n.payload for n in listener.notifies(timeout=0.5, stop_after=1)]
    listener.close()
    assert got == [f'{{"action":"pkill","job_id":{ids["executing"]}}}']
