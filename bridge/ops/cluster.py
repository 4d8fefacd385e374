"""What ``status`` and ``doctor`` read from the tables: counts, leaders, and hazards in rows.

Read-only. Each function is one operation (run it in one transaction for one snapshot);
the decisions about what the rows mean live in ``bridge.wire.cluster`` and
``bridge.wire.doctor``. Several of these statements scan ``oban_jobs`` — no Oban index
covers ``jsonb_typeof(args)`` or ``attempted_by`` — which is fine for a command an
operator runs, not for a loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bridge.errors import SchemaError
from bridge.names import FINAL_STATES
from bridge.ops import schema
from bridge.ops._types import Op, Statement
from bridge.wire.doctor import Attempt, DbFacts, Sample, SchemaFacts
from bridge.wire.producer_id import UUID_PATTERN
from bridge.wire.status import DbStatus, PeerRow

#: ids listed per finding
SAMPLE_IDS = 10
#: (queue, worker, state) groups read at most
MAX_GROUPS = 1000

_PEERS = 'SELECT "name", "node", "started_at", "expires_at" FROM {prefix}.oban_peers ORDER BY 1'

_COUNTS = """\
SELECT o0."queue", o0."state"::text AS state, count(*) AS count,
       min(o0."scheduled_at") FILTER (WHERE o0."state" = 'available') AS oldest
FROM {prefix}.oban_jobs AS o0 GROUP BY 1, 2"""

# attempted_by = [node, producer uuid] — mirrors lib/oban/engines/basic.ex fetch_jobs/3
_EXECUTING = """\
SELECT o0."attempted_by"[1] AS node, count(*) AS count,
       coalesce(bool_or(o0."attempted_by"[2] ~ %s), false) AS python
FROM {prefix}.oban_jobs AS o0
WHERE o0."state" = 'executing' AND o0."attempted_by"[1] IS NOT NULL GROUP BY 1"""


def _peers(prefix: str) -> Op[tuple[PeerRow, ...]]:
    rows = yield Statement(_PEERS, prefix=prefix)
    return tuple(PeerRow(r["name"], r["node"], r["started_at"], r["expires_at"]) for r in rows)


def status_rows(prefix: str) -> Op[DbStatus]:
    """Leaders, job counts per queue and state, the oldest available job, executing per node."""
    peers = yield from _peers(prefix)
    counts = yield Statement(_COUNTS, prefix=prefix)
    executing = yield Statement(_EXECUTING, (UUID_PATTERN,), prefix=prefix)
    return DbStatus(
        peers=peers,
        counts={(r["queue"], r["state"]): r["count"] for r in counts},
        oldest_available={r["queue"]: r["oldest"] for r in counts if r["oldest"] is not None},
        executing={r["node"]: (r["count"], r["python"]) for r in executing},
    )


# --- doctor --------------------------------------------------------------------------------

_LABELS_SINCE = {"cancelled": 9, "suspended": 14}  # v09.ex, v14.ex


def schema_facts(prefix: str) -> Op[tuple[SchemaFacts, set[str]]]:
    """The version and every variant ``bridge.ops.schema.check`` knows, with the names of
    what is missing or wrong; and which of oban_jobs / oban_peers exist."""
    rows = yield Statement(schema.VERSION_SQL, (prefix,))
    comment = rows[0]["version"] if rows else None
    bad: str | None = None
    try:
        version = schema.parse_version(comment, prefix)
    except SchemaError:
        version, bad = None, comment
    relations = {r["name"]: r for r in (yield Statement(schema.RELATIONS_SQL, (prefix,)))}
    columns = yield Statement(schema.COLUMNS_SQL, (prefix,))
    indexes = yield Statement(schema.INDEXES_SQL, (prefix,))
    labels = [r["label"] for r in (yield Statement(schema.LABELS_SQL, (prefix,)))]
    at = schema.CURRENT_VERSION if version is None else version
    variants = schema.detect(version if bad is None else at, relations, columns, indexes, labels)
    has_jobs = "oban_jobs" in relations
    names = {i["name"] for i in indexes}
    return SchemaFacts(
        version=version,
        bad_comment=bad,
        variants=tuple((v.code, v.detail) for v in variants),
        commented_columns=tuple(c["name"] for c in columns if c["comment"] is not None),
        missing_indexes=tuple(
            n for n in schema.expected_indexes(at) if has_jobs and n not in names
        ),
        invalid_indexes=tuple(sorted(i["name"] for i in indexes if not i["valid"])),
        missing_labels=tuple(
            x for x, v in _LABELS_SINCE.items() if has_jobs and at >= v and x not in labels
        ),
    ), set(relations)


_WAITING = f"""\
SELECT o0."queue", o0."worker", o0."state"::text AS state, count(*) AS count
FROM {{prefix}}.oban_jobs AS o0
WHERE o0."state" IN ('available', 'scheduled', 'retryable')
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT {MAX_GROUPS}"""

_ATTEMPTS = f"""\
SELECT o0."queue", o0."attempted_by"[1] AS node,
       coalesce(o0."attempted_by"[2] ~ %s, false) AS python, count(*) AS count
FROM {{prefix}}.oban_jobs AS o0
WHERE o0."attempted_at" >= %s AND o0."attempted_by"[1] IS NOT NULL
GROUP BY 1, 2, 3 ORDER BY 1, 2 LIMIT {MAX_GROUPS}"""

# mirrors lib/oban/worker.ex from_string/1: "** (RuntimeError) unknown worker: <worker>" or
# "… module is not a worker: <Mod>" as the last error of a retried or discarded job
_UNKNOWN_WORKER = f"""\
SELECT o0."queue", o0."worker", count(*) AS count
FROM {{prefix}}.oban_jobs AS o0
WHERE o0."state" IN ('available', 'scheduled', 'retryable', 'discarded')
  AND cardinality(o0."errors") > 0
  AND o0."errors"[array_upper(o0."errors", 1)]->>'error'
      ~ '(unknown worker|module is not a worker): '
GROUP BY 1, 2 ORDER BY 1, 2 LIMIT {MAX_GROUPS}"""

_EXECUTING_SINCE = 'o0."state" = \'executing\' AND o0."attempted_at" < %s'
_LIVE = 'o0."state" NOT IN ({})'.format(", ".join(f"'{s}'" for s in FINAL_STATES))


def _sample(
    prefix: str, where: str, params: tuple[Any, ...] = (), at: str | None = None
) -> Op[Sample]:
    """How many rows match ``where``, the first ids (smallest ``at`` first), the least ``at``."""
    order = f'{at}, o0."id"' if at else 'o0."id"'
    rows = yield Statement(
        f'SELECT count(*) OVER () AS total, o0."id", {at or "NULL"} AS at '
        f"FROM {{prefix}}.oban_jobs AS o0 WHERE {where} ORDER BY {order} LIMIT {SAMPLE_IDS}",
        params,
        prefix=prefix,
    )
    if not rows:
        return Sample()
    oldest = rows[0]["at"] if isinstance(rows[0]["at"], datetime) else None
    return Sample(rows[0]["total"], tuple(r["id"] for r in rows), oldest)


def doctor_facts(prefix: str, *, now: datetime, rescue_after: float, recent: float) -> Op[DbFacts]:
    """Everything the doctor's rules read from the tables (``now`` is the app clock)."""
    found, relations = yield from schema_facts(prefix)
    facts = DbFacts(prefix, now, found)
    if "oban_jobs" not in relations:
        return facts
    peers = (yield from _peers(prefix)) if "oban_peers" in relations else ()
    waiting = yield Statement(_WAITING, prefix=prefix)
    since = now - timedelta(seconds=recent)
    attempts = yield Statement(_ATTEMPTS, (UUID_PATTERN, since), prefix=prefix)
    unknown = yield Statement(_UNKNOWN_WORKER, prefix=prefix)
    cut = now - timedelta(seconds=rescue_after)
    # mirrors lib/oban/plugins/lifeline.ex: executing AND attempted_at < now - rescue_after
    long = _sample(prefix, _EXECUTING_SINCE, (cut,), 'o0."attempted_at"')
    # mirrors lib/oban/engines/basic.ex fetch_jobs/3: only attempt < max_attempts is fetched
    exhausted = _sample(prefix, 'o0."state" = \'available\' AND o0."attempt" >= o0."max_attempts"')
    return DbFacts(
        prefix,
        now,
        found,
        peers=peers,
        waiting=tuple((r["queue"], r["worker"], r["state"], r["count"]) for r in waiting),
        attempts=tuple(Attempt(r["queue"], r["node"], r["python"], r["count"]) for r in attempts),
        unknown_worker=tuple((r["queue"], r["worker"], r["count"]) for r in unknown),
        long_executing=(yield from long),
        exhausted=(yield from exhausted),
        bad_args=(yield from _sample(prefix, f"{_LIVE} AND jsonb_typeof(o0.\"args\") <> 'object'")),
        bad_meta=(yield from _sample(prefix, f"{_LIVE} AND jsonb_typeof(o0.\"meta\") <> 'object'")),
        null_meta=(yield from _sample(prefix, f'{_LIVE} AND o0."meta" IS NULL')),
    )
