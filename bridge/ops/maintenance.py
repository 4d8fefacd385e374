"""Leader-side maintenance: stage, prune, and the Python-only rescue.

``stage_jobs`` and ``prune_jobs`` are Oban 2.23.1's statements. ``rescue_jobs`` is ours:
Elixir's Lifeline is time-only (it re-runs long jobs and never knows whether a node died);
we rescue only jobs claimed by *Python* producers whose liveness lock is no longer held —
see ``bridge.wire.producer_id`` and docs/runtime.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.names import PRODUCER_LOCK_CLASS, channel_name
from bridge.ops._types import Op, Statement
from bridge.wire import notify
from bridge.wire.producer_id import UUID_PATTERN, lock_objid_sql

STAGE_LIMIT = 5_000  # mirrors lib/oban/stager.ex @limit / default limit

_STAGE = """\
WITH staged AS (
  UPDATE {prefix}.oban_jobs AS o0 SET "state" = 'available'
  FROM (SELECT so0."id", so0."state" FROM {prefix}.oban_jobs AS so0
        WHERE (so0."state" IN ('scheduled', 'retryable')) AND (so0."scheduled_at" <= %s)
        ORDER BY so0."scheduled_at" DESC, so0."id" DESC LIMIT %s) AS s1
  WHERE (o0."id" = s1."id") RETURNING o0."id", o0."queue"),
queues AS (
  SELECT queue FROM staged
  UNION
  SELECT DISTINCT so1."queue" FROM {prefix}.oban_jobs AS so1
  WHERE so1."state" = 'available' AND so1."queue" IS NOT NULL)
SELECT (SELECT count(*) FROM staged) AS staged,
       array(SELECT queue FROM queues ORDER BY queue) AS queues,
       (SELECT count(*) FROM (SELECT pg_notify(%s, json_build_object('queue', queue)::text)
                              FROM queues) AS n) AS notified"""


def stage_jobs(
    prefix: str, *, now: datetime, limit: int = STAGE_LIMIT
) -> Op[tuple[int, list[str]]]:
    """Make due scheduled/retryable jobs available and wake every queue with available jobs.

    One statement (an idle leader costs one per second): the update, then one
    ``{"queue": q}`` insert notification per queue holding available jobs.
    """
    # mirrors lib/oban/stager.ex stage_scheduled/2 (v2.23.1: ORDER BY scheduled_at DESC, id
    # DESC LIMIT 5000) and notify_queues/1 (SELECT DISTINCT queue … state = 'available')
    rows = yield Statement(_STAGE, (now, limit, channel_name(prefix, "insert")), prefix=prefix)
    return int(rows[0]["staged"]), list(rows[0]["queues"])


_PRUNE = """\
DELETE FROM {prefix}.oban_jobs AS o0 USING (
  SELECT so0."id", so0."queue", so0."state" FROM {prefix}.oban_jobs AS so0
  WHERE (((so0."state" = 'completed') AND (so0."scheduled_at" < %s))
      OR ((so0."state" = 'cancelled') AND (so0."cancelled_at" < %s))
      OR ((so0."state" = 'discarded') AND (so0."discarded_at" < %s)))
    AND NOT (so0."queue" IS NULL)
  LIMIT %s) AS s1
WHERE o0."id" = s1."id"
RETURNING s1."id\""""

PRUNE_MAX_AGE = 60  # seconds; mirrors lib/oban/plugins/pruner.ex default max_age
PRUNE_LIMIT = 10_000  # mirrors lib/oban/plugins/pruner.ex default limit


def prune_jobs(
    prefix: str, *, now: datetime, max_age: int = PRUNE_MAX_AGE, limit: int = PRUNE_LIMIT
) -> Op[int]:
    """Delete final jobs older than ``max_age`` seconds; returns how many."""
    # mirrors lib/oban/plugins/pruner.ex delete_jobs/3 (v2.23.1 predicate per final state)
    cut = now - timedelta(seconds=max_age)
    rows = yield Statement(_PRUNE, (cut, cut, cut, limit), prefix=prefix)
    return len(rows)


_ATTEMPTED_UUID = 'o0."attempted_by"[2]'
_ALIVE = (
    "SELECT 1 FROM pg_catalog.pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted "
    f"AND l.objsubid = 2 AND l.classid = {PRODUCER_LOCK_CLASS} "
    f"AND l.objid::bigint = {lock_objid_sql(_ATTEMPTED_UUID)}"
)

_ORPHANS = f"""\
SELECT o0."id" FROM {{prefix}}.oban_jobs AS o0
WHERE o0."state" = 'executing' AND o0."attempted_by"[2] ~ %s
  AND NOT EXISTS ({_ALIVE})
ORDER BY o0."id\""""

_RESCUE = f"""\
UPDATE {{prefix}}.oban_jobs AS o0 SET
  "state" = CASE WHEN o0."attempt" < o0."max_attempts" THEN 'available'::{{prefix}}.oban_job_state
                 ELSE 'discarded'::{{prefix}}.oban_job_state END,
  "discarded_at" = CASE WHEN o0."attempt" < o0."max_attempts" THEN o0."discarded_at" ELSE %s END
WHERE o0."id" = ANY(%s::bigint[]) AND o0."state" = 'executing'
  AND o0."attempted_by"[2] ~ %s
  AND NOT EXISTS ({_ALIVE})
RETURNING o0."id", o0."queue", o0."state\""""


def find_orphans(prefix: str) -> Op[set[int]]:
    """Executing jobs of Python producers whose liveness lock nobody holds right now."""
    rows = yield Statement(_ORPHANS, (UUID_PATTERN,), prefix=prefix)
    return {row["id"] for row in rows}


def rescue_jobs(prefix: str, candidates: set[int], *, now: datetime) -> Op[list[int]]:
    """Rescue the candidates still orphaned: ``available`` again, or ``discarded`` when out
    of attempts — the columns Elixir's Lifeline writes — and wake their queues."""
    # mirrors lib/oban/plugins/lifeline.ex rescue_orphaned/1: available if attempt <
    # max_attempts, else discarded + discarded_at (no error appended)
    if not candidates:
        return []
    rows = yield Statement(_RESCUE, (now, sorted(candidates), UUID_PATTERN), prefix=prefix)
    queues = [row["queue"] for row in rows if row["state"] == "available"]
    if queues:
        from bridge.ops.jobs import notify_op

        yield from notify_op(prefix, "insert", notify.insert_messages(queues))
    return [row["id"] for row in rows]
