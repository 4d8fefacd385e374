"""Job operations named as Oban's engine callbacks: insert_job, insert_all_jobs, cancel_job, …

Pure generators over :class:`~bridge.ops.Statement`; each mirrors the SQL Elixir
Oban's Basic engine sends (oban-wire-spec §2), so rows come out identical.
``now`` is always a parameter: the app clock, in UTC, as Elixir uses its own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bridge.errors import JobNotFound
from bridge.names import JobState
from bridge.ops import _copy
from bridge.ops._types import Op, Rows, Statement
from bridge.wire import notify
from bridge.wire.changes import cast_update, changed, replace_changes, with_state
from bridge.wire.job import (
    Job,
    NewJob,
    decode_job,
    encode_json,
    mark_conflict,
    utc_aware,
    utc_naive,
)
from bridge.wire.query import UNTOUCHED, JobFilter
from bridge.wire.unique import lock_key, lookup_predicate, states_for_schema

_AVAILABLE = JobState.AVAILABLE

_NOTIFY = (
    # mirrors lib/oban/notifiers/postgres.ex notify/3: one pg_notify per encoded payload
    "SELECT pg_notify(%s, payload) FROM json_array_elements_text(%s::json) AS payload"
)


def notify_op(prefix: str, channel: str, payloads: Sequence[str]) -> Op[None]:
    """Send payloads on ``<prefix>.oban_<channel>``; delivered when the transaction commits."""
    if payloads:
        name = notify.channel_name(prefix, channel)
        yield Statement(_NOTIFY, (name, json.dumps(list(payloads))), fetch=False)


def _insert_columns(
    job: NewJob, now: datetime, inserted_at: datetime | None = None
) -> dict[str, Any]:
    # mirrors lib/oban/job.ex to_map/1: non-nil permitted fields; priority and scheduled_at
    # only when set, inserted_at never (the DB default, transaction time)
    columns: dict[str, Any] = {
        "args": job.args_json,
        "attempt": 0,
        "errors": [],
        "max_attempts": job.max_attempts,
        "meta": job.meta_json,
        "queue": job.queue,
        "state": job.state.value,
        "tags": list(job.tags),
        "worker": job.worker,
    }
    if job.priority is not None:
        columns["priority"] = job.priority
    scheduled_at = job.resolve_scheduled_at(now)
    if scheduled_at is not None:
        columns["scheduled_at"] = scheduled_at
    if inserted_at is not None:  # ours: cron stamps the minute it inserts for (ops.cron)
        columns["inserted_at"] = inserted_at
    return columns


_CASTS = {
    "args": "::jsonb",
    "meta": "::jsonb",
    "errors": "::jsonb[]",
    "state": "::{prefix}.oban_job_state",
    "tags": "::text[]",
}


def _insert_one(
    prefix: str, job: NewJob, now: datetime, inserted_at: datetime | None = None
) -> Op[Job | None]:
    columns = _insert_columns(job, now, inserted_at)
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(f"%s{_CASTS.get(name, '')}" for name in columns)
    # mirrors lib/oban/engines/basic.ex insert_job/3 (v2.23.1): INSERT … ON CONFLICT DO NOTHING
    rows = yield Statement(
        f"INSERT INTO {{prefix}}.oban_jobs AS o0 ({names}) VALUES ({values}) "
        "ON CONFLICT DO NOTHING RETURNING *",
        list(columns.values()),
        prefix=prefix,
    )
    return decode_job(rows[0]) if rows else None


def _find_unique(prefix: str, job: NewJob, now: datetime, schema_version: int) -> Op[Job | None]:
    unique = job.unique
    assert unique is not None
    conditions, params = lookup_predicate(unique, job.args, job.meta, job.queue, job.worker)
    # our own lock, outside Elixir's key range (see bridge.wire.unique)
    yield Statement(
        "SELECT pg_advisory_xact_lock(%s)", (lock_key(prefix, unique, params),), fetch=False
    )
    where = ['o0."state" = ANY(%s::{prefix}.oban_job_state[])']
    head: list[Any] = [states_for_schema(unique.states, schema_version)]
    if unique.period != "infinity":
        # mirrors lib/oban/engines/basic.ex since_period/3: timestamp >= now - period (app clock)
        where.append(f'o0."{unique.timestamp}" >= %s')
        head.append(now - timedelta(seconds=unique.period))
    # mirrors lib/oban/engines/basic.ex unique_query/1: SELECT … LIMIT 1
    rows = yield Statement(
        "SELECT * FROM {prefix}.oban_jobs AS o0 WHERE "
        + " AND ".join(where + conditions)
        + " LIMIT 1",
        head + params,
        prefix=prefix,
    )
    return decode_job(rows[0]) if rows else None


def insert_job(
    prefix: str,
    job: NewJob,
    *,
    now: datetime,
    schema_version: int = 14,
    inserted_at: datetime | None = None,
) -> Op[Job]:
    """Insert one job (unique-aware) and announce it on ``oban_insert`` if available.

    Must run inside a transaction (the drivers provide one) so that the lookup,
    the insert and the notification commit together.
    """
    inserted = None
    if job.unique is not None:
        existing = yield from _find_unique(prefix, job, now, schema_version)
        if existing is not None:
            inserted = yield from _resolve_conflict(prefix, job, existing, now)
    if inserted is None:
        inserted = yield from _insert_one(prefix, job, now, inserted_at)
    if inserted is None:  # pragma: no cover - only with a conflicting unique index of the user's
        raise JobNotFound("the insert was skipped by ON CONFLICT DO NOTHING")
    if inserted.state is JobState.AVAILABLE:
        # mirrors lib/oban/engine.ex notify_trigger/2: for the job returned, conflict or not
        yield from notify_op(prefix, "insert", notify.insert_messages([inserted.queue]))
    return inserted


def _resolve_conflict(prefix: str, job: NewJob, existing: Job, now: datetime) -> Op[Job]:
    # mirrors lib/oban/engines/basic.ex insert_unique/3 and resolve_conflict/4: the existing
    # job, with the replace fields of its state written over it, as {:ok, %{job | conflict?: true}}
    changes = replace_changes(job, existing, now)
    if changes:
        existing = yield from write_changes(prefix, existing, changes)
    return mark_conflict(existing)


def _column_value(name: str, value: Any) -> Any:
    if name in ("args", "meta"):
        return encode_json(value, name)
    if name == "scheduled_at":
        return utc_naive(value)
    return value.value if isinstance(value, JobState) else value


def write_changes(prefix: str, job: Job, changes: Mapping[str, Any]) -> Op[Job]:
    """Write ``changes`` over ``job``'s row and return the row as it now is."""
    # mirrors Ecto's Repo.update/2 of a changeset: UPDATE … SET <changed fields> WHERE id = …
    sets = ", ".join(f'"{name}" = %s{_CASTS.get(name, "")}' for name in changes)
    params = [_column_value(name, value) for name, value in changes.items()]
    rows = yield Statement(
        f"UPDATE {{prefix}}.oban_jobs SET {sets} WHERE id = %s RETURNING *",
        [*params, job.id],
        prefix=prefix,
    )
    if not rows:  # mirrors basic.ex resolve_conflict/4: Ecto.StaleEntryError, the row is gone
        raise JobNotFound(f"job {job.id} was deleted before its changes could be written")
    return decode_job(rows[0])


Changes = Mapping[str, Any] | Callable[[Job], Any]


def update_job(prefix: str, job_id: int, changes: Changes) -> Op[Job]:
    """``Oban.update_job/3``: change some fields of one job under a row lock.

    ``changes`` is a mapping, or a function of the locked job returning one (Elixir calls
    it on a job read before the lock; here it sees the row as it is locked).
    """
    # mirrors lib/oban/engines/basic.ex update_job/3: in a transaction, SELECT … FOR UPDATE
    # SKIP LOCKED; none → {:error, :locked_or_not_found}
    rows = yield Statement(
        "SELECT * FROM {prefix}.oban_jobs WHERE id = %s FOR UPDATE SKIP LOCKED", (job_id,), prefix
    )
    if not rows:
        raise JobNotFound(f"no job with id {job_id}, or another transaction holds it locked")
    job = decode_job(rows[0])
    wanted = cast_update(changes(job) if callable(changes) else changes)
    # mirrors lib/oban/job.ex update/2 + Repo.update/2: only what differs; nothing, no UPDATE
    diff = with_state(changed(wanted, job))
    if not diff:
        return job
    return (yield from write_changes(prefix, job, diff))


def quoted_table(prefix: str) -> str:
    """``"prefix".oban_jobs`` as text, for ``pg_get_serial_sequence`` (a bound parameter)."""
    return '"' + prefix.replace('"', '""') + '".oban_jobs'


_COPY = (
    "COPY {prefix}.oban_jobs (id, state, queue, worker, args, max_attempts, priority, "
    "scheduled_at, tags, meta) FROM STDIN"
)


def insert_all_jobs(prefix: str, jobs: Sequence[NewJob], *, now: datetime) -> Op[list[Job]]:
    """Bulk insert; uniqueness is ignored, exactly as the Basic engine's ``insert_all``.

    Theory of operation: Elixir sends one multi-row ``INSERT … ON CONFLICT DO
    NOTHING RETURNING *`` (``lib/oban/engines/basic.ex insert_all_jobs/3``). We
    write the very same rows faster: ids are drawn from the table's own sequence,
    the rows are streamed with ``COPY`` (3× a multi-row INSERT on this schema's
    GIN indexes), and the returned jobs are assembled from what we sent plus the
    transaction's clock — the value the ``inserted_at`` / ``scheduled_at``
    DEFAULTs take. ``errors`` and ``attempt`` take their DEFAULTs ('{}', 0), a
    missing priority 0, a missing scheduled_at the DEFAULT's value, as Ecto's
    ``insert_all`` gives. (OSS Oban has no unique index, so ON CONFLICT never
    fires there; a user-added unique index makes COPY fail loudly instead.)
    """
    if not jobs:
        return []
    rows = yield Statement(
        "SELECT timezone('UTC', now()) AS tx_now, "
        "array(SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)) "
        "AS ids",
        (quoted_table(prefix), len(jobs)),
    )
    tx_now = utc_aware(rows[0]["tx_now"])
    assert tx_now is not None
    inserted: list[Job] = []

    def lines() -> Iterator[str]:
        # Jobs are assembled while COPY streams, so Python work overlaps the server's
        for job_id, new in zip(rows[0]["ids"], jobs, strict=True):
            job = _assemble(job_id, new, now, tx_now)
            inserted.append(job)
            yield _copy_line(job, new)

    yield Statement(_COPY, prefix=prefix, copy=_copy.chunks(lines()))
    queues = [job.queue for job in inserted if job.state is _AVAILABLE]
    # mirrors lib/oban/engine.ex notify_trigger/2: one message per queue of available jobs
    yield from notify_op(prefix, "insert", notify.insert_messages(queues))
    return inserted


def _assemble(job_id: int, job: NewJob, now: datetime, tx_now: datetime) -> Job:
    return Job(
        id=job_id,
        state=job.state,
        queue=job.queue,
        worker=job.worker,
        args=job.args,
        max_attempts=job.max_attempts,
        inserted_at=tx_now,
        scheduled_at=utc_aware(job.resolve_scheduled_at(now)) or tx_now,
        priority=job.priority or 0,
        tags=list(job.tags),
        meta=job.meta,
    )


def _copy_line(job: Job, new: NewJob) -> str:
    """One COPY line: id, state, queue, worker, args, max_attempts, priority, scheduled_at,
    tags, meta (the column list of ``_COPY``)."""
    return (
        f"{job.id}\t{job.state.value}\t{_escaped(job.queue)}\t{_escaped(job.worker)}\t"
        f"{_copy.escape(new.args_json)}\t{job.max_attempts}\t{job.priority}\t"
        f"{job.scheduled_at.replace(tzinfo=None).isoformat()}\t"  # type: ignore[union-attr]
        f"{_tags_literal(new.tags)}\t"
        f"{_copy.escape(new.meta_json)}"
    )


@functools.lru_cache(maxsize=4096)
def _escaped(name: str) -> str:
    return _copy.escape(name)


@functools.lru_cache(maxsize=4096)
def _tags_literal(tags: tuple[str, ...]) -> str:
    return _copy.escape(_copy.array_literal(tags))


def get_job(prefix: str, job_id: int) -> Op[Job]:
    rows = yield Statement("SELECT * FROM {prefix}.oban_jobs WHERE id = %s", (job_id,), prefix)
    if not rows:
        raise JobNotFound(f"no job with id {job_id}")
    return decode_job(rows[0])


def _where(selected: JobFilter, alias: str) -> tuple[str, list[Any]]:
    """The filter as one SQL condition on ``alias`` and its parameters."""
    where: list[str] = []
    params: list[Any] = []
    if selected.ids is not None:
        where.append(f'{alias}."id" = ANY(%s::bigint[])')
        params.append(list(selected.ids))
    if selected.states:
        where.append(f'{alias}."state" = ANY(%s::{{prefix}}.oban_job_state[])')
        params.append(list(selected.states))
    for column, value in (("queue", selected.queue), ("worker", selected.worker)):
        if value is not None:
            where.append(f'{alias}."{column}" = %s')
            params.append(value)
    return " AND ".join(where) or "TRUE", params


def list_jobs(prefix: str, selected: JobFilter, *, limit: int) -> Op[list[Job]]:
    """Most recent first, filtered by equality like ``Oban.Job`` queries."""
    where, params = _where(selected, "o0")
    rows = yield Statement(
        f"SELECT * FROM {{prefix}}.oban_jobs AS o0 WHERE {where} ORDER BY o0.id DESC LIMIT %s",
        [*params, limit],
        prefix,
    )
    return [decode_job(row) for row in rows]


def count_jobs(prefix: str, selected: JobFilter) -> Op[int]:
    """How many jobs match (what a listing cut by its limit leaves out, a bulk action's reach)."""
    where, params = _where(selected, "o0")
    rows = yield Statement(
        f"SELECT count(*) AS count FROM {{prefix}}.oban_jobs AS o0 WHERE {where}", params, prefix
    )
    return int(rows[0]["count"])


def _untouched(action: str) -> str:
    return ", ".join(f"'{state}'" for state in UNTOUCHED[action])


def _bulk_update(action: str, assignments: str, where: str) -> str:
    # mirrors lib/oban/engines/basic.ex cancel_all_jobs/2 and retry_all_jobs/2: an UPDATE …
    # FROM a subquery of the matching jobs, RETURNING the *old* state and the queue
    return (
        f"UPDATE {{prefix}}.oban_jobs AS o0 SET {assignments}\n"
        'FROM (SELECT so0."id" AS "id", so0."queue" AS "queue", so0."state" AS "state"\n'
        "      FROM {prefix}.oban_jobs AS so0\n"
        f'      WHERE {where} AND NOT (so0."state" IN ({_untouched(action)}))) AS s1\n'
        'WHERE o0."id" = s1."id"\n'
        'RETURNING s1."id", s1."queue", s1."state"'
    )


_CANCEL_SET = """"state" = 'cancelled', "cancelled_at" = %s"""
_RETRY_SET = (
    """"state" = 'available', "max_attempts" = GREATEST(o0."max_attempts", o0."attempt" + 1), """
    '"scheduled_at" = %s, "completed_at" = NULL, "cancelled_at" = NULL, "discarded_at" = NULL'
)


def cancel_all_jobs(prefix: str, selected: JobFilter, *, now: datetime) -> Op[int]:
    """Cancel the matching jobs that are not final; executing ones also get ``pkill``."""
    where, params = _where(selected, "so0")
    # mirrors lib/oban/engines/basic.ex cancel_all_jobs/2 (RETURNING the *old* state)
    rows: Rows = yield Statement(_bulk_update("cancel", _CANCEL_SET, where), [now, *params], prefix)
    # mirrors lib/oban.ex cancel_all_jobs/2: pkill for jobs that were executing
    killed = [notify.pkill_message(row["id"]) for row in rows if row["state"] == "executing"]
    yield from notify_op(prefix, "signal", killed)
    return len(rows)


def retry_all_jobs(prefix: str, selected: JobFilter, *, now: datetime) -> Op[int]:
    """Make the matching jobs available again (not available or executing ones), keeping
    their errors."""
    where, params = _where(selected, "so0")
    # mirrors lib/oban/engines/basic.ex retry_all_jobs/2
    rows: Rows = yield Statement(_bulk_update("retry", _RETRY_SET, where), [now, *params], prefix)
    # Elixir leaves the wake-up to the leader's stager (≤ 1 s); announcing it ourselves
    # lets idle producers of every version run them at once (payload as notify_trigger)
    yield from notify_op(prefix, "insert", notify.insert_messages([row["queue"] for row in rows]))
    return len(rows)


def delete_all_jobs(prefix: str, selected: JobFilter) -> Op[int]:
    """Delete the matching jobs that are not executing."""
    where, params = _where(selected, "o0")
    # mirrors lib/oban/engines/basic.ex delete_all_jobs/2: state NOT IN ('executing')
    rows = yield Statement(
        f"DELETE FROM {{prefix}}.oban_jobs AS o0 WHERE {where} "
        f'AND NOT (o0."state" IN ({_untouched("delete")})) RETURNING o0.id',
        params,
        prefix,
    )
    return len(rows)


def cancel_job(prefix: str, job_id: int, *, now: datetime) -> Op[Job]:
    """Cancel a job that is not final; an executing one also gets the ``pkill`` signal."""
    yield from cancel_all_jobs(prefix, JobFilter(ids=(job_id,)), now=now)
    return (yield from get_job(prefix, job_id))


def retry_job(prefix: str, job_id: int, *, now: datetime) -> Op[Job]:
    """Make a non-available, non-executing job available again, keeping its errors."""
    yield from retry_all_jobs(prefix, JobFilter(ids=(job_id,)), now=now)
    return (yield from get_job(prefix, job_id))


def delete_job(prefix: str, job_id: int) -> Op[bool]:
    """Delete a job unless it is executing; True when a row was deleted."""
    deleted = yield from delete_all_jobs(prefix, JobFilter(ids=(job_id,)))
    if not deleted:
        yield from get_job(prefix, job_id)  # raises JobNotFound when there is no such job
    return bool(deleted)


def record_job(prefix: str, job_id: int, text: str) -> Op[Job]:
    """Merge ``{"recorded": true, "return": text}`` into a job's meta, keeping other keys."""
    # mirrors oban-py queries/ack_job.sql (meta = meta || …), the shape Oban Web reads
    # (lib/oban/web/live/jobs/detail_component.ex): meta.recorded and meta.return
    rows = yield Statement(
        "UPDATE {prefix}.oban_jobs SET meta = coalesce(meta, '{{}}'::jsonb) || "
        "jsonb_build_object('recorded', true, 'return', %s::text) WHERE id = %s RETURNING *",
        (text, job_id),
        prefix,
    )
    if not rows:
        raise JobNotFound(f"no job with id {job_id}")
    return decode_job(rows[0])
