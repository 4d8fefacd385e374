"""The facts ``doctor``'s rules read, the findings they make, and helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bridge.names import FINAL_STATES
from bridge.wire.cluster import Check, Sighting
from bridge.wire.status import PeerRow

Severity = Literal["error", "warning", "info"]

#: Lifeline's default rescue_after — mirrors lib/oban/plugins/lifeline.ex (60 minutes)
RESCUE_AFTER = 3600.0
#: how far back ``attempted_by`` counts as "this node runs this queue"
RECENT = 900.0
#: a notifier round trip slower than this gets a warning
SLOW_ROUND_TRIP = 1.0
#: findings of one rule shown at most (then one line says how many more)
MAX_PER_RULE = 10
#: the final states as an SQL list, for ``state NOT IN (…)``
FINAL_SQL = ", ".join(f"'{s}'" for s in FINAL_STATES)


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


def jobs_table(facts: Facts) -> str:
    return f'"{facts.db.prefix}".oban_jobs'


def ids(sample: Sample) -> str:
    return ", ".join(map(str, sample.ids)) + (", …" if sample.count > len(sample.ids) else "")


def plural(count: int, word: str) -> str:
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
