"""``doctor``'s decisions: facts about a live cluster in, findings (severity, why, fix) out.

Each rule is a small function of :class:`Facts`. The facts come from the tables
(``bridge.ops.cluster.doctor_facts``), from listening to sonar and gossip
(:class:`~bridge.wire.cluster.Heard`) and from a notifier round trip; the clock is
``DbFacts.read_at``, read by the caller.

Who runs what: a check whose producer uuid ends in ``627269646765`` is a Python producer
(``bridge.wire.producer_id``), any other uuid an Elixir one. Python checks name their
workers, so a worker is Python's when a live Python check lists it, and Elixir's otherwise.
A queue is served by a language when a live check of that language names it (Elixir nodes
gossip only where oban_met runs) or when one of its jobs was attempted by such a producer
within ``RECENT`` seconds (``attempted_by``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bridge.names import FINAL_STATES
from bridge.wire.cluster import Check, PeerRow, Sighting, duration

Severity = Literal["error", "warning", "info"]

#: Lifeline's default rescue_after — mirrors lib/oban/plugins/lifeline.ex (60 minutes)
RESCUE_AFTER = 3600.0
#: how far back ``attempted_by`` counts as "this node runs this queue"
RECENT = 900.0
#: a notifier round trip slower than this gets a warning
SLOW_ROUND_TRIP = 1.0
#: findings of one rule shown at most (then one line says how many more)
MAX_PER_RULE = 10
_NOT_FINAL = ", ".join(f"'{s}'" for s in FINAL_STATES)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Sample:
    """How many rows match, the first few ids (oldest first), and the oldest time."""

    count: int = 0
    ids: tuple[int, ...] = ()
    oldest: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    """``count`` jobs of ``queue`` attempted recently by ``node`` (``attempted_by``)."""

    queue: str
    node: str
    python: bool
    count: int


@dataclass(frozen=True)
class SchemaFacts:
    #: the recorded version: None for '∞', 0 when not migrated
    version: int | None
    #: the table comment when Oban cannot read it as a version (String.to_integer raises)
    bad_comment: str | None = None
    #: (code, detail) of every known variant (``bridge.ops.schema.detect``)
    variants: tuple[tuple[str, str], ...] = ()
    commented_columns: tuple[str, ...] = ()
    missing_indexes: tuple[str, ...] = ()
    invalid_indexes: tuple[str, ...] = ()
    missing_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class DbFacts:
    prefix: str
    #: when the tables were read (app clock, naive UTC)
    read_at: datetime
    schema: SchemaFacts
    peers: tuple[PeerRow, ...] = ()
    #: (queue, worker, state, count) of available, scheduled and retryable jobs
    waiting: tuple[tuple[str, str, str, int], ...] = ()
    attempts: tuple[Attempt, ...] = ()
    #: (queue, worker, count): jobs whose last error is Elixir's "unknown worker"
    unknown_worker: tuple[tuple[str, str, int], ...] = ()
    long_executing: Sample = Sample()
    exhausted: Sample = Sample()
    #: jobs not in a final state whose args / meta is not a JSON object (meta NULL apart)
    bad_args: Sample = Sample()
    bad_meta: Sample = Sample()
    null_meta: Sample = Sample()


@dataclass(frozen=True)
class Facts:
    db: DbFacts
    #: seconds spent listening to sonar and gossip
    window: float
    nodes: tuple[Sighting, ...] = ()
    checks: tuple[Check, ...] = ()
    #: seconds for our NOTIFY to come back to our LISTEN; None when it never came
    round_trip: float | None = None
    #: Python senders are configured to compress payloads over 512 bytes as "Z:"
    #: (``compress_signals``)
    z_enabled: bool = False
    #: "Z:" payloads heard on the signal channel while listening
    z_signals: int = 0
    rescue_after: float = RESCUE_AFTER


Rule = Callable[[Facts], list[Finding]]


def _jobs(facts: Facts) -> str:
    return f'"{facts.db.prefix}".oban_jobs'


def _ids(sample: Sample) -> str:
    return ", ".join(map(str, sample.ids)) + (", …" if sample.count > len(sample.ids) else "")


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def python_workers(facts: Facts) -> set[str]:
    return {w for c in facts.checks if c.language == "python" for w in c.workers or ()}


def served(facts: Facts, language: str) -> dict[str, set[str]]:
    """queue → nodes of ``language`` running it (live checks, recent attempts)."""
    found: dict[str, set[str]] = {}
    for c in facts.checks:
        if c.language == language:
            found.setdefault(c.queue, set()).add(c.node)
    for a in facts.db.attempts:
        if a.python == (language == "python"):
            found.setdefault(a.queue, set()).add(a.node)
    return found


# --- schema --------------------------------------------------------------------------------


def schema_version(facts: Facts) -> list[Finding]:
    schema, prefix, jobs = facts.db.schema, facts.db.prefix, _jobs(facts)
    migrate = f"oban-bridge migrate --prefix {prefix}"
    if schema.bad_comment is not None:
        # mirrors lib/oban/migrations/postgres.ex migrated_version/1: String.to_integer/1
        return [
            Finding(
                "schema_comment",
                "error",
                f"{jobs} carries the table comment {schema.bad_comment!r}: Oban reads its version "
                "from that comment with String.to_integer and crashes",
                f"COMMENT ON TABLE {jobs} IS '<the last migration run, e.g. 14>' (and find out "
                "who changed it: nothing may comment oban_jobs)",
            )
        ]
    if schema.version is None:
        # mirrors lib/oban/migrations/postgres.ex: '∞' reads as :infinity from v2.23.0
        return [
            Finding(
                "schema_managed_externally",
                "warning",
                f"{jobs} carries '∞' (Oban Pro's DynamicPartitioner): Oban < 2.23 crashes reading "
                "its version, and oban-bridge migrate leaves it alone",
                "keep every Elixir node at Oban ≥ 2.23 and migrate with Oban Pro",
            )
        ]
    if schema.version == 0:
        return [
            Finding(
                "schema_missing",
                "error",
                f"no Oban schema in {prefix!r}: oban_jobs is missing or has no version",
                migrate,
            )
        ]
    if schema.version < 12:
        return [
            Finding(
                "schema_outdated",
                "error",
                f"{prefix} is at V{schema.version}; Oban ≥ 2.18 and oban-bridge need V12 or later",
                f"{migrate} --version 12  (14 once every node runs Oban ≥ 2.21)",
            )
        ]
    if schema.version < 14:
        # names.SCHEMA_VERSIONS: V12 for Oban ≤ 2.19, V13 for 2.20, V14 from 2.21
        return [
            Finding(
                "schema_version",
                "info",
                f"{prefix} is at V{schema.version}, as Oban ≤ 2.20 nodes need; Python nodes run "
                f"with --schema-version {schema.version}",
                f"{migrate} --version 14  (once every node runs Oban ≥ 2.21)",
            )
        ]
    return []


def _index_sql(prefix: str, name: str) -> str:
    # mirrors lib/oban/migrations/postgres/v08.ex (state index), v10.ex (GIN), v13.ex
    columns = {
        "oban_jobs_state_queue_priority_scheduled_at_id_index": "(state, queue, priority, "
        "scheduled_at, id)",
        "oban_jobs_state_cancelled_at_index": "(state, cancelled_at)",
        "oban_jobs_state_discarded_at_index": "(state, discarded_at)",
        "oban_jobs_args_index": "USING gin (args)",
        "oban_jobs_meta_index": "USING gin (meta)",
    }
    if name not in columns:
        return f'ALTER TABLE "{prefix}".oban_jobs ADD PRIMARY KEY (id)'
    return f'CREATE INDEX CONCURRENTLY {name} ON "{prefix}".oban_jobs {columns[name]}'


def schema_variants(facts: Facts) -> list[Finding]:
    schema, prefix, jobs = facts.db.schema, facts.db.prefix, _jobs(facts)
    found: list[Finding] = []
    if schema.missing_indexes:
        # mirrors lib/oban/migrations/postgres/v14.ex@v2.21.0: the enum type swap drops every
        # index on state and v2.21.1 cannot recreate them (wire spec §1.6)
        found.append(
            Finding(
                "missing_indexes",
                "warning",
                f"{jobs} lacks {', '.join(schema.missing_indexes)} (dropped by v2.21.0's V14): "
                "fetches, pruning and cancels scan the whole table",
                "; ".join(_index_sql(prefix, n) for n in schema.missing_indexes),
            )
        )
    if schema.commented_columns:
        # mirrors lib/oban/migrations/postgres.ex@v2.18.3 migrated_version/1: the
        # pg_description join returns a row per column comment, so the version reads as 0
        found.append(
            Finding(
                "column_comments",
                "error",
                f"comments on {jobs} columns ({', '.join(schema.commented_columns)}) make Oban "
                "2.18's version check read 0 and re-run every migration from V01",
                "; ".join(
                    f"COMMENT ON COLUMN {jobs}.{c} IS NULL" for c in schema.commented_columns
                ),
            )
        )
    if schema.invalid_indexes:
        # mirrors lib/oban/plugins/reindexer.ex: every invalid oban_jobs* index is dropped
        found.append(
            Finding(
                "invalid_indexes",
                "warning",
                f"invalid indexes on {jobs}: {', '.join(schema.invalid_indexes)} (a failed CREATE "
                "INDEX CONCURRENTLY); Oban's Reindexer drops them",
                "; ".join(f'DROP INDEX CONCURRENTLY "{prefix}".{n}' for n in schema.invalid_indexes)
                + ", then create them again",
            )
        )
    if schema.missing_labels:
        # mirrors lib/oban/migrations/postgres/v09.ex (cancelled) and v14.ex (suspended)
        before = {"suspended": " BEFORE 'scheduled'"}
        found.append(
            Finding(
                "missing_labels",
                "error",
                f"oban_job_state lacks {', '.join(schema.missing_labels)}: Elixir's inserts and "
                "cancels that name them fail",
                "; ".join(
                    f'ALTER TYPE "{prefix}".oban_job_state ADD VALUE IF NOT EXISTS '
                    f"'{x}'{before.get(x, '')}"
                    for x in schema.missing_labels
                ),
            )
        )
    for code, detail in schema.variants:
        if code == "missing_table":
            found.append(Finding(code, "error", detail, f"oban-bridge migrate --prefix {prefix}"))
        elif code in ("state_column_moved", "partitioned", "peers_logged"):
            found.append(Finding(code, "info", detail))
    return found


# --- leadership and notifications ----------------------------------------------------------


def leadership(facts: Facts) -> list[Finding]:
    now = facts.db.read_at
    live = [p for p in facts.db.peers if p.expires_at >= now]
    start = (
        "start a node: any Elixir node (peer: Oban.Peers.Database, the default) or "
        "oban-bridge work (elects under 'Bridge'; --peer-name Oban joins Elixir's election)"
    )
    if not live:
        # mirrors lib/oban/peers/database.ex: the leader renews its 30 s lease; the stager,
        # pruner, lifeline and cron run only on a leader (wire spec §4)
        gone = "; ".join(
            f"{p.name!r} held by {p.node} expired {duration((now - p.expires_at).total_seconds())}"
            " ago"
            for p in facts.db.peers
        )
        why = f" ({gone})" if gone else " (oban_peers is empty)"
        return [
            Finding(
                "no_leader",
                "error",
                f"no live leader{why}: nothing stages scheduled or retryable jobs, prunes, "
                "rescues or inserts cron jobs",
                start,
            )
        ]
    if len(live) > 1:
        names = ", ".join(f"{p.name!r} led by {p.node}" for p in live)
        return [
            Finding(
                "several_elections",
                "info",
                f"{len(live)} elections: {names}. Each leader stages and prunes (harmless); "
                "run cron on one side only, or its jobs are inserted twice",
            )
        ]
    return [Finding("leader", "info", f"{live[0].node} leads the {live[0].name!r} election")]


def notifier(facts: Facts) -> list[Finding]:
    fix = (
        "connect nodes to PostgreSQL directly or through a session-mode pooler (LISTEN does "
        "not survive transaction pooling)"
    )
    if facts.round_trip is None:
        return [
            Finding(
                "notifier_down",
                "error",
                "a NOTIFY sent by this doctor never came back to its own LISTEN: signals, "
                "insert wake-ups, sonar and gossip do not reach nodes connected this way",
                fix,
            )
        ]
    took = f"{facts.round_trip * 1000:.0f} ms"
    if facts.round_trip > SLOW_ROUND_TRIP:
        return [
            Finding(
                "notifier_slow",
                "warning",
                f"notifier round trip took {took}: signals and wake-ups arrive as late",
                "look for long transactions holding the notification queue "
                "(pg_notification_queue_usage()) and for an overloaded server",
            )
        ]
    return [Finding("notifier", "info", f"notifier round trip {took}")]


def heard(facts: Facts) -> list[Finding]:
    if facts.nodes:
        parts = (f"{s.node} ({'+'.join(sorted(s.channels))})" for s in facts.nodes)
        return [Finding("nodes_heard", "info", "nodes heard: " + ", ".join(parts))]
    return [
        Finding(
            "nodes_heard",
            "info",
            f"no node heard on sonar or gossip within {facts.window:g}s (Oban ≥ 2.21 pings "
            "every 5–60 s, so a node can be silent that long; ≤ 2.20 every 5 s); rules that "
            "need a node's queues rely on recent attempts only",
        )
    ]


def compression(facts: Facts) -> list[Finding]:
    """≤ 2.20 nodes (detected: every payload they send is base64(gzip), ``H4sI…``) must never
    receive ``Z:`` payloads — mirrors lib/oban/notifier.ex@v2.18.3 decode/1 (Jason.decode!)."""
    legacy = sorted(s.node for s in facts.nodes if s.legacy)
    senders = sorted(s.node for s in facts.nodes if "z" in s.forms)
    version = facts.db.schema.version
    if legacy and (facts.z_enabled or senders or facts.z_signals):
        who = ", ".join(
            (["Python senders (compress_signals)"] if facts.z_enabled else [])
            + [f"{n} (heard)" for n in senders]
            + ([f"{_n(facts.z_signals, 'signal')} heard"] if facts.z_signals else [])
        )
        return [
            Finding(
                "z_with_legacy_nodes",
                "error",
                f"Oban ≤ 2.20 node(s) {', '.join(legacy)} (heard sending base64-gzip payloads) "
                f"share the notifier with 'Z:' payloads from {who}: one 'Z:' payload crashes "
                "their notifier and leaves their producers deaf until restarted",
                "turn 'Z:' compression off in every Python sender, and upgrade "
                f"{', '.join(legacy)} to Oban ≥ 2.21 before any Elixir payload exceeds 512 "
                "bytes",
            )
        ]
    if facts.z_enabled and version is not None and 0 < version < 14:
        return [
            Finding(
                "z_with_old_schema",
                "warning",
                f"'Z:' compression is configured while the schema is at V{version}, which only "
                "clusters with Oban ≤ 2.20 nodes keep",
                "turn 'Z:' compression off until every node runs Oban ≥ 2.21 and the schema "
                "is at V14",
            )
        ]
    if legacy:
        return [
            Finding(
                "legacy_nodes",
                "info",
                f"Oban ≤ 2.20 node(s) {', '.join(legacy)} heard: keep 'Z:' compression off",
            )
        ]
    return []


# --- queues and workers across languages ---------------------------------------------------


def _capped(code: str, found: list[Finding]) -> list[Finding]:
    if len(found) <= MAX_PER_RULE:
        return found
    rest = Finding(code, found[0].severity, f"… and {len(found) - MAX_PER_RULE} more like these")
    return [*found[:MAX_PER_RULE], rest]


def unclaimed_jobs(facts: Facts) -> list[Finding]:
    """Available jobs no live node runs: a Python worker on a queue no Python producer with
    that worker serves; any other worker on a queue no Elixir producer is known to serve."""
    workers, elixir = python_workers(facts), served(facts, "elixir")
    found: list[Finding] = []
    for queue, worker, state, count in facts.db.waiting:
        if state != "available":
            continue
        if worker in workers:
            if queue in elixir or any(
                c.queue == queue and worker in (c.workers or ()) for c in facts.checks
            ):
                continue  # served, or python_jobs_in_elixir_queues says what is wrong
            why = f"no live Python node runs {worker!r} on queue {queue!r}"
            fix = f"oban-bridge work --queues {queue}=10 --import <the module defining it>"
        elif queue not in elixir:
            why = (
                f"no node is known to run queue {queue!r}: no Elixir check on gossip (only "
                f"nodes with oban_met send them), no attempt within {duration(RECENT)}, and no "
                f"Python node announcing {worker!r}"
            )
            fix = (
                f"start {queue!r} on an Elixir node (queues: [{queue}: 10]) or a Python node "
                f"serving {worker!r}; if one runs it, ignore this"
            )
        else:
            continue
        found.append(
            Finding(
                "unclaimed_jobs",
                "warning",
                f"{_n(count, 'available job')} of {worker}: " + why,
                fix,
            )
        )
    return _capped("unclaimed_jobs", found)


def _waiting_by_worker(facts: Facts) -> dict[tuple[str, str], dict[str, int]]:
    found: dict[tuple[str, str], dict[str, int]] = {}
    for queue, worker, state, count in facts.db.waiting:
        found.setdefault((queue, worker), {})[state] = count
    return found


def python_jobs_in_elixir_queues(facts: Facts) -> list[Finding]:
    """Elixir fetches by queue alone and fails a worker it has no module for."""
    # mirrors lib/oban/worker.ex from_string/1 ("unknown worker: …"), failed like an error
    workers, elixir = python_workers(facts), served(facts, "elixir")
    found: list[Finding] = []
    for (queue, worker), states in _waiting_by_worker(facts).items():
        if worker not in workers or queue not in elixir:
            continue
        held = ", ".join(f"{n:,} {state}" for state, n in states.items())
        found.append(
            Finding(
                "python_jobs_in_elixir_queue",
                "error",
                f"queue {queue!r} is run by Elixir node(s) {', '.join(sorted(elixir[queue]))} "
                f"and holds jobs of Python worker {worker} ({held}): Elixir fails them as "
                f'"unknown worker: {worker}" and discards them when attempts run out',
                f"UPDATE {_jobs(facts)} SET queue = '<a queue only Python runs>' WHERE queue = "
                f"'{queue}' AND worker = '{worker}' AND state IN ('available', 'scheduled', "
                "'retryable')",
            )
        )
    return _capped("python_jobs_in_elixir_queue", found)


def shared_queues(facts: Facts) -> list[Finding]:
    elixir, python = served(facts, "elixir"), served(facts, "python")
    return [
        Finding(
            "python_queue_served_by_elixir",
            "error",
            f"queue {q!r} is run by Python node(s) {', '.join(sorted(python[q]))} and Elixir "
            f"node(s) {', '.join(sorted(elixir[q]))}: Elixir claims every Python job inserted "
            'there and fails it as "unknown worker"',
            f"stop {q!r} on the Elixir nodes (drop it from queues:, or Oban.stop_queue(queue: "
            f":{q}, node: ...)), or give the Python workers a queue of their own",
        )
        for q in sorted(set(elixir) & set(python))
    ]


def unknown_workers(facts: Facts) -> list[Finding]:
    workers = python_workers(facts)
    found = [
        Finding(
            "unknown_worker_errors",
            "warning",
            f"{_n(count, 'job')} of {worker} in queue {queue!r} last failed with Elixir's "
            '"unknown worker": an Elixir node claimed jobs it has no module for',
            (
                f"move them to a Python queue: UPDATE {_jobs(facts)} SET queue = '<python "
                f"queue>' WHERE queue = '{queue}' AND worker = '{worker}'; then oban-bridge "
                f"jobs retry --queue <python queue> --worker {worker}"
            )
            if worker in workers
            else (
                f"deploy {worker} to every Elixir node running {queue!r} (or move the jobs to "
                f"a queue whose nodes have it), then oban-bridge jobs retry --queue {queue} "
                f"--worker {worker}"
            ),
        )
        for queue, worker, count in facts.db.unknown_worker
    ]
    return _capped("unknown_worker_errors", found)


# --- rows Elixir mishandles ----------------------------------------------------------------


def long_executing(facts: Facts) -> list[Finding]:
    sample = facts.db.long_executing
    if not sample.count:
        return []
    since = f", the oldest since {sample.oldest:%Y-%m-%d %H:%M:%S} UTC" if sample.oldest else ""
    # mirrors lib/oban/plugins/lifeline.ex: rescue is time-only (attempted_at < now - rescue_after)
    return [
        Finding(
            "executing_too_long",
            "warning",
            f"{_n(sample.count, 'job')} executing longer than rescue_after "
            f"({duration(facts.rescue_after)}){since} (ids {_ids(sample)}): Elixir's Lifeline "
            "re-runs them although they may still be running, and without Lifeline an "
            "orphan stays executing forever",
            "finish jobs within rescue_after or raise it (lifeline: [rescue_after: ...]); "
            "cancel the strays: oban-bridge jobs cancel ID",
        )
    ]


def exhausted_available(facts: Facts) -> list[Finding]:
    sample = facts.db.exhausted
    if not sample.count:
        return []
    # mirrors lib/oban/engines/basic.ex fetch_jobs/3: WHERE attempt < max_attempts
    return [
        Finding(
            "available_exhausted",
            "warning",
            f"{_n(sample.count, 'available job')} with attempt >= max_attempts (ids "
            f"{_ids(sample)}): no producer of either language ever fetches them",
            f"UPDATE {_jobs(facts)} SET max_attempts = attempt + 1 WHERE state = 'available' "
            "AND attempt >= max_attempts  (or delete them: oban-bridge jobs delete ID)",
        )
    ]


def shapes(facts: Facts) -> list[Finding]:
    db, jobs = facts.db, _jobs(facts)
    where = f"state NOT IN ({_NOT_FINAL})"
    found: list[Finding] = []
    for column, sample in (("args", db.bad_args), ("meta", db.bad_meta)):
        if sample.count:
            # mirrors wire spec §7.1: Ecto raises "cannot load … as type :map" in the fetch,
            # which rolls back, so the row stays available and poisons the queue
            found.append(
                Finding(
                    f"non_object_{column}",
                    "error",
                    f"{_n(sample.count, 'job')} whose {column} is not a JSON object (ids "
                    f"{_ids(sample)}): Elixir's fetch crashes on each and the queue stops",
                    f"UPDATE {jobs} SET state = 'cancelled', cancelled_at = timezone('UTC', "
                    f"now()) WHERE jsonb_typeof({column}) <> 'object' AND {where}",
                )
            )
    if db.null_meta.count:
        # mirrors lib/oban/engines/basic.ex snooze_job (main): Map.update(meta, …) fails on nil
        found.append(
            Finding(
                "null_meta",
                "warning",
                f"{_n(db.null_meta.count, 'job')} with meta NULL (ids {_ids(db.null_meta)}): "
                "Oban's snooze (main) and Python's meta reads expect an object",
                f"UPDATE {jobs} SET meta = '{{}}' WHERE meta IS NULL AND {where}",
            )
        )
    return found


RULES: tuple[Rule, ...] = (
    schema_version,
    schema_variants,
    leadership,
    notifier,
    heard,
    compression,
    shared_queues,
    python_jobs_in_elixir_queues,
    unknown_workers,
    unclaimed_jobs,
    long_executing,
    exhausted_available,
    shapes,
)

_ORDER = {"error": 0, "warning": 1, "info": 2}


def diagnose(facts: Facts, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """Every rule's findings, errors first (stable within a severity)."""
    found = [finding for rule in rules for finding in rule(facts)]
    return sorted(found, key=lambda f: _ORDER[f.severity])


def exit_code(findings: Iterable[Finding]) -> int:
    """0 all well (info only), 1 warnings, 2 errors."""
    severities = {f.severity for f in findings}
    return 2 if "error" in severities else 1 if "warning" in severities else 0
