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

from collections.abc import Iterable

from bridge.wire.doctor._facts import (
    MAX_PER_RULE,
    RECENT,
    RESCUE_AFTER,
    Attempt,
    DbFacts,
    Facts,
    Finding,
    Rule,
    Sample,
    SchemaFacts,
    Severity,
)
from bridge.wire.doctor.cluster import compression, heard, leadership, notifier
from bridge.wire.doctor.queues import (
    python_jobs_in_elixir_queues,
    shared_queues,
    unclaimed_jobs,
    unknown_workers,
)
from bridge.wire.doctor.rows import exhausted_available, long_executing, shapes
from bridge.wire.doctor.schema import schema_variants, schema_version

__all__ = [
    "MAX_PER_RULE",
    "RECENT",
    "RESCUE_AFTER",
    "RULES",
    "Attempt",
    "DbFacts",
    "Facts",
    "Finding",
    "Rule",
    "Sample",
    "SchemaFacts",
    "Severity",
    "diagnose",
    "exit_code",
]

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
