"""``replace`` on a unique conflict and ``update_job``: the rows Oban's Basic engine leaves.

The live conformance scenario ``enqueue.replace_on_conflict`` compares with Elixir itself;
these pin the rules (per state, Ecto's change rule, the row lock) on a plain database.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge import AsyncClient, Client, JobNotFound, JobState, ValidationError

pytestmark = pytest.mark.pg

UNIQUE = {"fields": ["args", "worker"], "keys": ["k"], "period": "infinity"}
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)
MUCH_LATER = datetime(2031, 6, 1, 8, 30, 0, 123456, tzinfo=timezone.utc)


def _row(conn: psycopg.Connection[Any], job_id: int | None) -> dict[str, Any]:
    rows = conn.execute("SELECT row_to_json(j.*) FROM oban_jobs j WHERE id = %s", (job_id,))
    value: dict[str, Any] = rows.fetchone()[0]  # type: ignore[index]
    return value


def _xmin(conn: psycopg.Connection[Any], job_id: int | None) -> str:
    rows = conn.execute("SELECT xmin::text FROM oban_jobs WHERE id = %s", (job_id,))
    return str(rows.fetchone()[0])  # type: ignore[index]


def test_replace_writes_the_fields_listed_for_the_existing_jobs_state(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        first = client.enqueue("W", {"k": 1, "n": 1}, scheduled_at=LATER, unique=UNIQUE)
        replace = {"scheduled": ["scheduled_at", "args", "priority"], "available": ["queue"]}
        second = client.enqueue(
            "W", {"k": 1, "n": 2}, queue="other", priority=4, scheduled_at=MUCH_LATER,
            unique=UNIQUE, replace=replace,
        )  # fmt: skip
        assert (second.id, second.conflict) == (first.id, True)
        row = _row(conn, first.id)
        assert row["args"] == {"k": 1, "n": 2} and row["priority"] == 4
        assert row["scheduled_at"] == "2031-06-01T08:30:00.123456"
        assert (row["queue"], row["state"]) == ("default", "scheduled")  # not listed for it
        # the job returned is the row as written
        assert second == client.get_job(first.id)  # type: ignore[arg-type]


def test_replace_skips_states_not_listed_and_values_equal_to_defaults(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        first = client.enqueue("W", {"k": 2}, queue="q", meta={"m": 1}, unique=UNIQUE)
        before = _xmin(conn, first.id)
        # queue "default" and empty meta equal the schema defaults: Ecto casts no change
        again = client.enqueue(
            "W", {"k": 2}, queue="default", unique=UNIQUE, replace=["queue", "meta", "args"]
        )
        assert again.conflict and _xmin(conn, first.id) == before  # no UPDATE at all
        scheduled_only = {"scheduled": ["queue"]}
        client.enqueue("W", {"k": 2}, queue="z", unique=UNIQUE, replace=scheduled_only)
        assert _row(conn, first.id)["queue"] == "q"  # the job is available, not scheduled


def test_a_plain_list_replaces_in_every_state_and_the_new_queue_is_woken(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        first = client.enqueue("W", {"k": 3}, unique=UNIQUE)
        conn.execute('LISTEN "public.oban_insert"')
        moved = client.enqueue(
            "W", {"k": 3}, queue="fast", max_attempts=3, unique=UNIQUE,
            replace=["queue", "max_attempts"],
        )  # fmt: skip
        assert (moved.queue, moved.max_attempts, moved.state) == ("fast", 3, JobState.AVAILABLE)
        notes = [(n.channel, n.payload) for n in conn.notifies(timeout=0.5, stop_after=1)]
        # lib/oban/engine.ex notify_trigger/2: the returned (conflicting) job, when available
        assert notes == [("public.oban_insert", '{"queue":"fast"}')]
        assert _row(conn, first.id)["queue"] == "fast"


def test_update_job_changes_fields_and_a_new_scheduled_at_schedules(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        job = client.enqueue("W", {"a": 1}, tags=["x"])
        updated = client.update_job(job, {"priority": 2, "tags": ["Urgent "], "meta": {"m": 1}})
        row = _row(conn, job.id)
        assert (row["priority"], row["tags"], row["meta"]) == (2, ["Urgent "], {"m": 1})
        assert updated == client.get_job(job.id) and row["state"] == "available"
        later = client.update_job(job.id, lambda j: {"scheduled_at": MUCH_LATER, "args": j.args})
        assert later.state is JobState.SCHEDULED and later.scheduled_at == MUCH_LATER
        before = _xmin(conn, job.id)
        assert client.update_job(job.id, {"priority": 2, "args": {"a": 1.0}}) == later
        assert _xmin(conn, job.id) == before  # nothing differed: no UPDATE, as Repo.update


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"state": "completed"}, "state"), ({"priority": 11}, "priority"), ({"id": 9}, "id")],
)
def test_update_job_refuses_fields_oban_does_not_allow(
    dsn: str, changes: dict[str, Any], field: str
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        job = client.enqueue("W", {})
        before = _row(conn, job.id)
        with pytest.raises(ValidationError) as info:
            client.update_job(job.id, changes)
        assert info.value.field == field
        with pytest.raises(ValidationError, match="can't be changed"):
            client.update_job(job.id, lambda _: {"attempt": 5})
        assert _row(conn, job.id) == before


def test_update_job_of_a_missing_or_locked_job_is_job_not_found(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        job = client.enqueue("W", {})
        with pytest.raises(JobNotFound):
            client.update_job(job.id + 1, {"priority": 1})  # type: ignore[operator]
        locked, release = threading.Event(), threading.Event()

        def hold() -> None:
            with psycopg.connect(dsn) as other, other.transaction():
                other.execute("SELECT 1 FROM oban_jobs WHERE id = %s FOR UPDATE", (job.id,))
                locked.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert locked.wait(5)
            # lib/oban/engines/basic.ex update_job/3: FOR UPDATE SKIP LOCKED, never waits
            with pytest.raises(JobNotFound, match="locked"):
                client.update_job(job.id, {"priority": 1})  # type: ignore[arg-type]
        finally:
            release.set()
            holder.join()
        assert client.update_job(job.id, {"priority": 1}).priority == 1  # type: ignore[arg-type]


def test_async_client_replaces_and_updates(dsn: str) -> None:
    async def main() -> None:
        async with AsyncClient(dsn) as client:
            first = await client.enqueue("W", {"k": 9}, unique=UNIQUE)
            second = await client.enqueue("W", {"k": 9}, priority=7, unique=UNIQUE,
                                          replace={"available": ["priority"]})  # fmt: skip
            assert (second.id, second.conflict, second.priority) == (first.id, True, 7)
            updated = await client.update_job(first, {"queue": "elsewhere"})
            assert updated.queue == "elsewhere"

    asyncio.run(main())


UPDATE_FIXTURE = Path(__file__).parents[1] / "fixtures" / "update_job" / "oban-2.23.1.json"


def _changes(raw: dict[str, Any]) -> dict[str, Any]:
    if "scheduled_at" in raw:
        text = raw["scheduled_at"].replace("Z", "+00:00")
        return {**raw, "scheduled_at": datetime.fromisoformat(text)}
    return raw


def test_update_job_leaves_the_rows_live_oban_2_23_1_left(dsn: str) -> None:
    fixture = json.loads(UPDATE_FIXTURE.read_text())
    inserted = fixture["inserted"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        for case in fixture["cases"]:
            job = client.enqueue(inserted["worker"], inserted["args"], tags=inserted["tags"],
                                 meta=inserted["meta"])  # fmt: skip
            if "bridge" in case:  # Oban drops the fields it doesn't allow; we refuse them
                with pytest.raises(ValidationError):
                    client.update_job(job, _changes(case["changes"]))
                continue
            client.update_job(job, _changes(case["changes"]))
            drop = ["id", "inserted_at"] + (
                ["scheduled_at"] if "scheduled_at" not in case["row"] else []
            )
            row = conn.execute(
                "SELECT to_jsonb(j) - %s::text[] FROM oban_jobs j WHERE id = %s", (drop, job.id)
            ).fetchone()
            assert row is not None and row[0] == case["row"], case["name"]
