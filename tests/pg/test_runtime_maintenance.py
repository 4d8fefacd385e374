"""The Python-only rescue (``ops.maintenance.find_orphans`` / ``rescue_jobs``) and the SQL twin
of ``producer_id.lock_objid``, on real rows and real advisory locks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import psycopg
import pytest

from bridge.names import PRODUCER_LOCK_CLASS
from bridge.ops.maintenance import find_orphans, rescue_jobs
from bridge.pg.source import Source
from bridge.wire.producer_id import MAX_OBJID, lock_objid, lock_objid_sql, producer_uuid

pytestmark = pytest.mark.pg

ELIXIR_UUID = "46e6d583-8571-4533-9467-3d3ff9bdfce3"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def parse(text: str) -> datetime:
    head, _, fraction = text.partition(".")
    return datetime.fromisoformat(f"{head}.{fraction.ljust(6, '0')}" if fraction else head)


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


def executing(
    conn: psycopg.Connection[Any], uuid: str, attempt: int = 1, max_attempts: int = 3
) -> int:
    found = conn.execute(
        "INSERT INTO oban_jobs (state, queue, worker, args, attempt, max_attempts, attempted_at,"
        " attempted_by) VALUES ('executing', 'rq', 'W', '{}', %s, %s, %s, %s) RETURNING id",
        (attempt, max_attempts, now(), ["py-1", uuid]),
    ).fetchone()
    assert found is not None
    job_id: int = found[0]
    return job_id


def state(conn: psycopg.Connection[Any], job_id: int) -> dict[str, Any]:
    found = conn.execute(
        "SELECT row_to_json(j.*) FROM oban_jobs j WHERE id = %s", (job_id,)
    ).fetchone()
    assert found is not None
    value: dict[str, Any] = found[0]
    return value


@pytest.mark.parametrize("objid", [1, 2, 0x7FFF, 0x8000_0000 - 2, MAX_OBJID])
def test_lock_objid_sql_equals_lock_objid(conn: psycopg.Connection[Any], objid: int) -> None:
    uuid = producer_uuid(objid, 2**62 - 1)
    found = conn.execute(f"SELECT {lock_objid_sql('%s')}", (uuid,)).fetchone()
    assert found == (lock_objid(uuid),) == (objid,)
    # and pg_locks shows a two-int advisory lock with that objid
    conn.execute("SELECT pg_advisory_lock(%s, %s)", (PRODUCER_LOCK_CLASS, objid))
    held = conn.execute(
        f"SELECT count(*) FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 2 "
        f"AND l.classid = %s AND l.objid::bigint = {lock_objid_sql('%s')}",
        (PRODUCER_LOCK_CLASS, uuid),
    ).fetchone()
    assert held == (1,)


def test_only_jobs_of_dead_python_producers_are_orphans(
    conn: psycopg.Connection[Any], dsn: str
) -> None:
    alive_uuid, dead_uuid = producer_uuid(11, 1 << 40), producer_uuid(12, 2 << 40)
    alive = executing(conn, alive_uuid)
    dead = executing(conn, dead_uuid)
    elixir = executing(conn, ELIXIR_UUID)
    with psycopg.connect(dsn, autocommit=True) as producer:
        producer.execute("SELECT pg_advisory_lock(%s, %s)", (PRODUCER_LOCK_CLASS, 11))
        source = Source(conn)
        assert source.run(find_orphans("public")) == {dead}
        rescued = source.run(rescue_jobs("public", {alive, dead, elixir}, now=now()))
        assert rescued == [dead]  # the candidates are re-checked: live and Elixir jobs stay
    assert [state(conn, j)["state"] for j in (alive, dead, elixir)] == [
        "executing",
        "available",
        "executing",
    ]


def test_rescue_writes_what_lifeline_writes(conn: psycopg.Connection[Any]) -> None:
    uuid = producer_uuid(21, 0)
    retry = executing(conn, uuid, attempt=1, max_attempts=3)
    last = executing(conn, uuid, attempt=3, max_attempts=3)
    before = {j: state(conn, j) for j in (retry, last)}
    at = now()
    source = Source(conn)
    # the runtime's two looks: suspects first, rescue of those still orphaned next
    suspects = source.run(find_orphans("public"))
    assert source.run(rescue_jobs("public", suspects, now=at)) == sorted(suspects)
    after = {j: state(conn, j) for j in (retry, last)}
    changed = {j: {c for c in after[j] if after[j][c] != before[j][c]} for j in (retry, last)}
    # Lifeline: available (state only) while attempts remain, else discarded + discarded_at;
    # no error appended, attempt kept
    assert changed == {retry: {"state"}, last: {"state", "discarded_at"}}
    assert (after[retry]["state"], after[last]["state"]) == ("available", "discarded")
    assert parse(after[last]["discarded_at"]) == at
    assert source.run(find_orphans("public")) == set()


def test_rescue_wakes_the_queues_of_rescued_jobs(conn: psycopg.Connection[Any], dsn: str) -> None:
    job = executing(conn, producer_uuid(31, 0))
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute('LISTEN "public.oban_insert"')
        Source(conn).run(rescue_jobs("public", {job}, now=now()))
        heard = [json.loads(n.payload) for n in listener.notifies(timeout=2, stop_after=1)]
    assert heard == [{"queue": "rq"}]


def test_a_lock_taken_between_the_two_looks_saves_the_job(
    conn: psycopg.Connection[Any], dsn: str
) -> None:
    uuid = producer_uuid(41, 0)
    job = executing(conn, uuid)
    source = Source(conn)
    suspects = source.run(find_orphans("public"))
    assert suspects == {job}
    with psycopg.connect(dsn, autocommit=True) as producer:
        # the producer's listener reconnected and re-took its lock meanwhile
        producer.execute("SELECT pg_advisory_lock(%s, %s)", (PRODUCER_LOCK_CLASS, 41))
        assert source.run(rescue_jobs("public", suspects, now=now())) == []
    assert state(conn, job)["state"] == "executing"
