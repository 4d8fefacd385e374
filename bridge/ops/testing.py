"""The statements behind ``bridge.testing``: Oban.Testing's enqueued-jobs query and the
drainer's staging of a queue's scheduled jobs (no notification, as Oban's drainer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge.ops._types import Op, Statement
from bridge.wire.job import COLUMNS, Job, decode_job

#: what "enqueued" means — mirrors lib/oban/testing.ex base_query/1 (v2.23.1)
ENQUEUED_STATES = ("available", "scheduled", "suspended")

#: one condition: (column, value) for equality, or (column, (low, high)) for a time range
Condition = tuple[str, Any]


def _where(conditions: Sequence[Condition]) -> tuple[str, list[Any]]:
    # state compared as text: a V12 table has no 'suspended' label to cast to
    clauses, params = ['o0."state"::text = ANY(%s)'], [list(ENQUEUED_STATES)]
    for column, value in conditions:
        if column not in COLUMNS:
            raise ValueError(f"not a column of oban_jobs: {column!r}")
        if column == "state":
            clauses.append('o0."state"::text = %s')
            params.append(value)
        elif isinstance(value, tuple):
            # mirrors lib/oban/testing.ex conditions/2: fragment("? BETWEEN ? AND ?")
            clauses.append(f'o0."{column}" BETWEEN %s AND %s')
            params.extend(value)
        elif isinstance(value, list):
            clauses.append(f'o0."{column}" = %s::text[]')
            params.append(value)
        else:
            clauses.append(f'o0."{column}" = %s')
            params.append(value)
    return " AND ".join(clauses), params


def list_enqueued(prefix: str, conditions: Sequence[Condition] = ()) -> Op[list[Job]]:
    """Available, scheduled and suspended jobs meeting every condition, newest id first."""
    # mirrors lib/oban/testing.ex base_query/1: state in enqueued states, order_by desc: :id
    where, params = _where(conditions)
    rows = yield Statement(
        f'SELECT * FROM {{prefix}}.oban_jobs AS o0 WHERE {where} ORDER BY o0."id" DESC',
        params,
        prefix=prefix,
    )
    return [decode_job(row) for row in rows]


def stage_queue(prefix: str, queue: str, until: datetime | None) -> Op[int]:
    """Make the queue's scheduled and retryable jobs available (those due by ``until``, or all)."""
    # mirrors lib/oban/queue/drainer.ex stage_scheduled/3: update_all set state: "available"
    sql = (
        "UPDATE {prefix}.oban_jobs AS o0 SET \"state\" = 'available' "
        "WHERE o0.\"state\" IN ('scheduled', 'retryable') AND o0.\"queue\" = %s"
    )
    params: list[Any] = [queue]
    if until is not None:
        sql += ' AND o0."scheduled_at" <= %s'
        params.append(until)
    rows = yield Statement(sql + ' RETURNING o0."id"', params, prefix=prefix)
    return len(rows)
