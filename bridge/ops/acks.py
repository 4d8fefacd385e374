"""The producer's statements: fetch jobs, and acknowledge what their workers returned.

Fetch is Elixir's (``lib/oban/engines/basic.ex fetch_jobs/3``) plus one predicate,
``worker = ANY(<the workers this node implements>)``, so a queue shared with Elixir
never hands Python a job it cannot run. Acks write exactly the columns Elixir's
``complete_job`` / ``error_job`` / ``discard_job`` / ``cancel_job`` / ``snooze_job``
write, many jobs per statement, and only to rows still ``executing`` *for this run*
(``attempted_at`` of the fetch): a job cancelled or rescued meanwhile is never
resurrected (spec §7.8; Elixir's own complete_job has no such guard). A cancel ack also
lands on a row already ``cancelled`` for this attempt: ``Oban.cancel_job`` marks the row
first and the killed job's ack then appends ``{:cancel, :shutdown}``, as Elixir's
unguarded cancel_job does (once: a redelivered ack finds its error already there).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from bridge.names import JobState
from bridge.ops._types import Op, Statement
from bridge.wire.job import COLUMNS, utc_naive
from bridge.wire.outcome import Ack

_FETCH = """\
WITH "subset" AS (
  SELECT so0."id" AS "id" FROM {prefix}.oban_jobs AS so0
  WHERE (so0."state" = 'available') AND (so0."queue" = %s) AND (so0."worker" = ANY(%s::text[]))
  ORDER BY so0."priority", so0."scheduled_at", so0."id"
  LIMIT %s FOR UPDATE SKIP LOCKED)
UPDATE {prefix}.oban_jobs AS o0
SET "state" = 'executing', "attempted_at" = %s, "attempted_by" = %s::text[],
    "attempt" = o0."attempt" + 1
FROM "subset" AS f1{claim}
WHERE (o0."id" = f1."id") AND (o0."attempt" < o0."max_attempts")
RETURNING """ + ", ".join(
    # args/meta as text: parsing them here costs a fifth of psycopg's jsonb loader
    f'o0."{name}"::text' if name in ("args", "meta") else f'o0."{name}"'
    for name in COLUMNS
)
# The claim's own transaction commits without waiting for its WAL flush: SET LOCAL for
# the one statement, the session stays as configured. Lost only if PostgreSQL itself
# crashes within ~3 × wal_writer_delay, and then the jobs are 'available' again (their
# acks no longer match and land nowhere): re-run, as a crashed node's jobs are.
_FETCH_ASYNC = _FETCH.replace(
    "{claim}", ", (SELECT set_config('synchronous_commit', 'off', true)) AS c2"
)
_FETCH = _FETCH.replace("{claim}", "")


def fetch_jobs(
    prefix: str,
    queue: str,
    workers: Sequence[str],
    demand: int,
    *,
    now: datetime,
    attempted_by: Sequence[str],
    durable: bool = True,
) -> Op[list[tuple[Any, ...]]]:
    """Claim up to ``demand`` available jobs of ``queue`` that this node can run.

    Rows come back as tuples in ``COLUMNS`` order (named, never ``*``: a table upgraded by
    Oban 2.21.0 has ``state`` last); ``bridge.wire.job.decode_fetched`` reads them.
    ``durable=False`` commits the claim without waiting for its WAL flush (see
    ``_FETCH_ASYNC``): the job starts a flush sooner, which is most of an idle
    queue's pickup latency on a slow disk.
    """
    # mirrors lib/oban/engines/basic.ex fetch_jobs/3 (+ the worker predicate, see module doc)
    if demand <= 0 or not workers:
        return []
    rows = yield Statement(
        _FETCH if durable else _FETCH_ASYNC,
        (queue, list(workers), demand, now, list(attempted_by)),
        prefix=prefix,
        tuples=True,
    )
    return rows  # type: ignore[return-value]


_COMPLETE = """\
UPDATE {prefix}.oban_jobs AS o0 SET "state" = 'completed', "completed_at" = %s
FROM unnest(%s::text::bigint[], %s::text::timestamp[]) AS a(id, attempted_at)
WHERE o0."id" = a.id AND o0."state" = 'executing' AND o0."attempted_at" = a.attempted_at
RETURNING o0."id\""""

_ACK = """\
UPDATE {prefix}.oban_jobs AS o0 SET
  "state" = a.state::{prefix}.oban_job_state,
  "completed_at" = CASE WHEN a.state = 'completed' THEN a.at ELSE o0."completed_at" END,
  "discarded_at" = CASE WHEN a.state = 'discarded' THEN a.at ELSE o0."discarded_at" END,
  "cancelled_at" = CASE WHEN a.state = 'cancelled' THEN a.at ELSE o0."cancelled_at" END,
  "scheduled_at" = coalesce(a.scheduled_at, o0."scheduled_at"),
  "errors" = CASE WHEN a.error IS NULL THEN o0."errors" ELSE o0."errors" || a.error::jsonb END,
  "meta" = CASE WHEN a.meta IS NOT NULL THEN a.meta::jsonb
                WHEN a.record IS NOT NULL THEN coalesce(o0."meta", '{{}}'::jsonb) || a.record::jsonb
                ELSE o0."meta" END,
  "max_attempts" = o0."max_attempts" + a.max_attempts_add,
  "attempt" = o0."attempt" + a.attempt_add
FROM unnest(%s::bigint[], %s::timestamp[], %s::text[], %s::timestamp[], %s::timestamp[],
            %s::text[], %s::text[], %s::text[], %s::int[], %s::int[])
     AS a(id, attempted_at, state, at, scheduled_at, error, record, meta,
          max_attempts_add, attempt_add)
WHERE o0."id" = a.id AND o0."attempted_at" = a.attempted_at
  AND (o0."state" = 'executing'
       OR (a.state = 'cancelled' AND o0."state" = 'cancelled'
           AND NOT (a.error::jsonb = ANY(o0."errors"))))
RETURNING o0."id\""""


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ack_jobs(prefix: str, acks: Sequence[Ack], *, now: datetime) -> Op[set[int]]:
    """Write many acks in one or two statements; returns the ids whose ack landed.

    Plain completions (the common case) take a narrow statement with ``completed_at =
    now`` (the write's time, as Elixir's ack time) and arrays sent as literals built here
    (cheaper than adapting thousands of values one by one); everything else — errors,
    discards, cancels, snoozes, recorded output — the general one, with each ack's times.
    """
    landed: set[int] = set()
    plain: list[Ack] = []
    other: list[Ack] = []
    for ack in acks:
        (plain if ack.plain_complete else other).append(ack)
    if plain:
        # mirrors lib/oban/engines/basic.ex complete_job/2: state completed, completed_at
        rows = yield Statement(
            _COMPLETE,
            (now, _int_array(a.job_id for a in plain), _timestamp_array(plain)),
            prefix=prefix,
            tuples=True,
        )
        landed.update(row[0] for row in cast("list[tuple[int]]", rows))
    if other:
        # mirrors lib/oban/engines/basic.ex error_job/3, discard_job/2, cancel_job/2,
        # snooze_job/3 (each writes only its own columns; CASE keeps the rest as they are)
        rows = yield Statement(_ACK, _columns(other), prefix=prefix, tuples=True)
        landed.update(row[0] for row in cast("list[tuple[int]]", rows))
    return landed


def _int_array(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _timestamp_array(acks: Sequence[Ack]) -> str:
    seen: dict[datetime, str] = {}  # a fetch batch shares one attempted_at: format it once
    out = []
    for ack in acks:
        text = seen.get(ack.attempted_at)
        if text is None:
            text = seen[ack.attempted_at] = utc_naive(ack.attempted_at).isoformat()
        out.append(text)
    return "{" + ",".join(out) + "}"


def _columns(acks: Sequence[Ack]) -> tuple[list[Any], ...]:
    return (
        [a.job_id for a in acks],
        [a.attempted_at for a in acks],
        [a.state.value for a in acks],
        [a.at for a in acks],
        [a.scheduled_at for a in acks],
        [_json(a.error) for a in acks],
        [_json(a.record) for a in acks],
        [_json(a.meta) for a in acks],
        [a.max_attempts_add for a in acks],
        [a.attempt_add for a in acks],
    )


def _one(prefix: str, ack: Ack, state: JobState) -> Op[bool]:
    if ack.state is not state:
        raise ValueError(f"a {ack.state.value} ack given to the {state.value} statement")
    landed = yield from ack_jobs(prefix, [ack], now=ack.at)
    return ack.job_id in landed


def complete_job(prefix: str, ack: Ack) -> Op[bool]:
    """``completed`` + ``completed_at`` (+ recorded output merged into meta)."""
    return (yield from _one(prefix, ack, JobState.COMPLETED))


def error_job(prefix: str, ack: Ack) -> Op[bool]:
    """``retryable``, the error appended, ``scheduled_at`` = now + backoff."""
    return (yield from _one(prefix, ack, JobState.RETRYABLE))


def discard_job(prefix: str, ack: Ack) -> Op[bool]:
    """``discarded``, the error appended, ``discarded_at``."""
    return (yield from _one(prefix, ack, JobState.DISCARDED))


def cancel_job(prefix: str, ack: Ack) -> Op[bool]:
    """``cancelled``, the error appended, ``cancelled_at``."""
    return (yield from _one(prefix, ack, JobState.CANCELLED))


def snooze_job(prefix: str, ack: Ack) -> Op[bool]:
    """``scheduled`` at now + seconds, with the snooze bookkeeping of the cluster's release."""
    return (yield from _one(prefix, ack, JobState.SCHEDULED))
