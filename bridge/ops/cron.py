"""insert_cron_jobs: the leader's inserts for one cron minute, at most once per entry.

Oban's Cron plugin inserts the due entries in one transaction with ``Oban.insert!``
(lib/oban/plugins/cron.ex insert_scheduled_jobs) and relies on there being one leader at
each minute boundary. We also let a node that takes leadership mid-minute evaluate that
minute, so the minute is never lost; what keeps that from inserting twice is this op:
each job is stamped with its minute as ``inserted_at`` (a column no later transition
changes), and under an advisory lock per entry the insert happens only when no job of
the same entry (worker, args, ``cron_expr``, ``cron_tz``) carries that ``inserted_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bridge.ops._types import Op, Statement
from bridge.ops.jobs import insert_job
from bridge.wire import cron
from bridge.wire.job import Job, NewJob, encode_json, utc_naive

_DONE = (
    "SELECT id FROM {prefix}.oban_jobs AS o0 WHERE o0.worker = %s AND o0.inserted_at = %s "
    "AND o0.args = %s::jsonb AND o0.meta @> %s::jsonb LIMIT 1"
)


def insert_cron_jobs(
    prefix: str,
    jobs: Sequence[NewJob],
    *,
    minute: datetime,
    now: datetime,
    schema_version: int = 14,
) -> Op[list[Job]]:
    """Insert each job unless its entry already has one for ``minute`` (naive UTC).

    Must run in one transaction. Locks are taken in key order, so two nodes evaluating
    the same minute never deadlock; the second waits, then finds the first's rows.
    """
    minute = utc_naive(minute)
    inserted: list[Job] = []
    for job in sorted(jobs, key=lambda j: cron.lock_key(prefix, j)):
        key = cron.lock_key(prefix, job)
        yield Statement("SELECT pg_advisory_xact_lock(%s)", (key,), fetch=False)
        marker = {k: job.meta[k] for k in ("cron", "cron_expr", "cron_tz") if k in job.meta}
        rows = yield Statement(
            _DONE,
            (job.worker, minute, job.args_json, encode_json(marker, "meta")),
            prefix=prefix,
        )
        if not rows:
            job_row = yield from insert_job(
                prefix, job, now=now, schema_version=schema_version, inserted_at=minute
            )
            inserted.append(job_row)
    return inserted
