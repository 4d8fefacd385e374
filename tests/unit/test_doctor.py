"""``doctor``'s rules, one hazard at a time against a healthy cluster."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bridge.wire.cluster import Check, Sighting
from bridge.wire.doctor import (
    MAX_PER_RULE,
    RULES,
    Attempt,
    DbFacts,
    Facts,
    Finding,
    Sample,
    SchemaFacts,
    diagnose,
    exit_code,
)
from bridge.wire.producer_id import producer_uuid
from bridge.wire.status import PeerRow

NOW = datetime(2026, 12, 1, 12, 0, 0)
PY_UUID = producer_uuid(77, 1)
EX_UUID = "6f1d1c62-3a4e-4c3c-9a53-0b6a4f3c2e11"


def _check(node: str, queue: str, *, python: bool, workers: tuple[str, ...] = ()) -> Check:
    uuid = PY_UUID if python else EX_UUID
    return Check(node, "Oban", queue, 10, False, 0, uuid, workers=workers if python else None)


HEALTHY = Facts(
    db=DbFacts(
        prefix="public",
        read_at=NOW,
        schema=SchemaFacts(version=14),
        peers=(PeerRow("Oban", "web-1", NOW, NOW + timedelta(seconds=20)),),
        waiting=(
            ("mail", "MyApp.Mailer", "available", 3),
            ("py", "py.Send", "available", 2),
            ("py", "py.Send", "scheduled", 1),
        ),
    ),
    window=6.0,
    nodes=(
        Sighting("web-1", 1.0, {"sonar", "gossip"}, {"plain"}),
        Sighting("py-1", 1.0, {"sonar", "gossip"}, {"plain"}),
    ),
    checks=(
        _check("web-1", "mail", python=False),
        _check("py-1", "py", python=True, workers=("py.Send",)),
    ),
    round_trip=0.004,
)


def _db(**changes: Any) -> Facts:
    return replace(HEALTHY, db=replace(HEALTHY.db, **changes))


def _schema(**changes: Any) -> Facts:
    return _db(schema=replace(HEALTHY.db.schema, **changes))


def _only(facts: Facts, code: str) -> Finding:
    found = [f for f in diagnose(facts) if f.code == code]
    assert len(found) == 1, diagnose(facts)
    return found[0]


def _problems(facts: Facts) -> list[Finding]:
    return [f for f in diagnose(facts) if f.severity != "info"]


def test_a_healthy_cluster_has_only_information() -> None:
    assert _problems(HEALTHY) == []
    assert exit_code(diagnose(HEALTHY)) == 0
    codes = {f.code for f in diagnose(HEALTHY)}
    assert codes == {"leader", "notifier", "nodes_heard"}


# --- schema --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "severity", "fix"),
    [
        ({"bad_comment": "fourteen"}, "schema_comment", "error", "COMMENT ON TABLE"),
        ({"version": None}, "schema_managed_externally", "warning", "Oban ≥ 2.23"),
        ({"version": 0}, "schema_missing", "error", "oban-bridge migrate --prefix public"),
        ({"version": 11}, "schema_outdated", "error", "--version 12"),
        ({"version": 12}, "schema_version", "info", "--version 14"),
    ],
)
def test_schema_versions(changes: dict[str, Any], code: str, severity: str, fix: str) -> None:
    finding = _only(_schema(**changes), code)
    assert finding.severity == severity
    assert finding.fix is not None and fix in finding.fix


def test_v2_21_0s_dropped_indexes_come_with_their_ddl() -> None:
    missing = (
        "oban_jobs_state_queue_priority_scheduled_at_id_index",
        "oban_jobs_state_discarded_at_index",
    )
    finding = _only(_schema(missing_indexes=missing), "missing_indexes")
    assert finding.severity == "warning"
    assert finding.fix == (
        "CREATE INDEX CONCURRENTLY oban_jobs_state_queue_priority_scheduled_at_id_index ON "
        '"public".oban_jobs (state, queue, priority, scheduled_at, id); CREATE INDEX '
        'CONCURRENTLY oban_jobs_state_discarded_at_index ON "public".oban_jobs '
        "(state, discarded_at)"
    )


def test_column_comments_break_oban_2_18s_version_read() -> None:
    finding = _only(_schema(commented_columns=("args", "meta")), "column_comments")
    assert finding.severity == "error" and "2.18" in finding.message
    assert finding.fix == (
        'COMMENT ON COLUMN "public".oban_jobs.args IS NULL; '
        'COMMENT ON COLUMN "public".oban_jobs.meta IS NULL'
    )


def test_invalid_indexes_labels_and_tables() -> None:
    facts = _schema(
        invalid_indexes=("oban_jobs_x",),
        missing_labels=("suspended",),
        variants=(("missing_table", "oban_peers not found"), ("state_column_moved", "…")),
    )
    assert _only(facts, "invalid_indexes").severity == "warning"
    label = _only(facts, "missing_labels")
    assert label.fix == (
        "ALTER TYPE \"public\".oban_job_state ADD VALUE IF NOT EXISTS 'suspended' BEFORE "
        "'scheduled'"
    )
    assert _only(facts, "missing_table").severity == "error"
    assert _only(facts, "state_column_moved").severity == "info"


# --- leader, notifier, compression ---------------------------------------------------------


def test_no_leader() -> None:
    assert "oban_peers is empty" in _only(_db(peers=()), "no_leader").message
    expired = PeerRow("Oban", "web-1", NOW, NOW - timedelta(minutes=3))
    finding = _only(_db(peers=(expired,)), "no_leader")
    assert finding.severity == "error" and "expired 3m ago" in finding.message
    assert finding.fix is not None and "oban-bridge work" in finding.fix


def test_two_elections_are_information() -> None:
    both = (*HEALTHY.db.peers, PeerRow("Bridge", "py-1", NOW, NOW + timedelta(seconds=9)))
    finding = _only(_db(peers=both), "several_elections")
    assert finding.severity == "info" and "cron" in finding.message


@pytest.mark.parametrize(
    ("trip", "code", "severity"),
    [
        (None, "notifier_down", "error"),
        (2.5, "notifier_slow", "warning"),
        (0.01, "notifier", "info"),
    ],
)
def test_notifier_round_trip(trip: float | None, code: str, severity: str) -> None:
    assert _only(replace(HEALTHY, round_trip=trip), code).severity == severity


OLD = Sighting("old-1", 1.0, {"sonar"}, {"legacy"})
NEW_Z = Sighting("web-2", 1.0, {"gossip"}, {"z"})


@pytest.mark.parametrize(
    "changes",
    [
        {"nodes": (OLD,), "z_enabled": True},
        {"nodes": (OLD, NEW_Z)},
        {"nodes": (OLD,), "z_signals": 2},
    ],
)
def test_z_payloads_next_to_an_oban_2_20_node(changes: dict[str, Any]) -> None:
    finding = _only(replace(HEALTHY, **changes), "z_with_legacy_nodes")
    assert finding.severity == "error" and "old-1" in finding.message
    assert finding.fix is not None and "compression off" in finding.fix


def test_z_without_old_nodes() -> None:
    assert _problems(replace(HEALTHY, z_enabled=True)) == []
    old_schema = replace(_schema(version=13), z_enabled=True)
    assert _only(old_schema, "z_with_old_schema").severity == "warning"
    assert _only(replace(HEALTHY, nodes=(OLD,)), "legacy_nodes").severity == "info"


# --- queues and workers --------------------------------------------------------------------


def test_a_python_queue_also_served_by_elixir() -> None:
    by_gossip = replace(HEALTHY, checks=(*HEALTHY.checks, _check("web-1", "py", python=False)))
    by_attempts = _db(attempts=(Attempt("py", "web-9", False, 4),))
    for facts in (by_gossip, by_attempts):
        finding = _only(facts, "python_queue_served_by_elixir")
        assert finding.severity == "error" and "'py'" in finding.message
        assert finding.fix is not None and "stop 'py' on the Elixir nodes" in finding.fix


def test_python_jobs_in_an_elixir_queue() -> None:
    facts = _db(waiting=(*HEALTHY.db.waiting, ("mail", "py.Send", "retryable", 5)))
    finding = _only(facts, "python_jobs_in_elixir_queue")
    assert finding.severity == "error"
    assert "unknown worker: py.Send" in finding.message and "5 retryable" in finding.message
    assert finding.fix is not None and "WHERE queue = 'mail' AND worker = 'py.Send'" in finding.fix


def test_unknown_worker_errors_name_the_right_fix() -> None:
    facts = _db(unknown_worker=(("mail", "MyApp.Gone", 2), ("mail", "py.Send", 1)))
    found = [f for f in diagnose(facts) if f.code == "unknown_worker_errors"]
    assert [f.severity for f in found] == ["warning", "warning"]
    assert found[0].fix is not None and "deploy MyApp.Gone" in found[0].fix
    assert found[1].fix is not None and "move them to a Python queue" in found[1].fix


def test_unclaimed_jobs() -> None:
    waiting = (
        ("orphans", "MyApp.Nobody", "available", 4),  # no node runs "orphans"
        ("other", "py.Send", "available", 1),  # py.Send is served on "py" only
        ("orphans", "MyApp.Later", "scheduled", 9),  # not available: not counted
    )
    found = [f for f in diagnose(_db(waiting=waiting)) if f.code == "unclaimed_jobs"]
    assert [f.severity for f in found] == ["warning", "warning"]
    assert "4 available jobs of MyApp.Nobody" in found[0].message
    assert "no live Python node runs 'py.Send' on queue 'other'" in found[1].message
    # a Python job in an Elixir queue is python_jobs_in_elixir_queue's, not "unclaimed"
    elixirs = _db(waiting=(("mail", "py.Send", "available", 1),))
    assert {f.code for f in _problems(elixirs)} == {"python_jobs_in_elixir_queue"}
    # a recent Elixir attempt on the queue counts as serving it
    served = _db(waiting=waiting[:1], attempts=(Attempt("orphans", "web-3", False, 1),))
    assert _problems(served) == []


def test_each_rule_shows_at_most_a_few_findings() -> None:
    waiting = tuple((f"q{i}", "MyApp.W", "available", 1) for i in range(MAX_PER_RULE + 5))
    found = [f for f in diagnose(_db(waiting=waiting)) if f.code == "unclaimed_jobs"]
    assert len(found) == MAX_PER_RULE + 1
    assert found[-1].message == "… and 5 more like these"


# --- rows ----------------------------------------------------------------------------------


def test_jobs_executing_past_rescue_after() -> None:
    sample = Sample(12, (5, 6), NOW - timedelta(hours=3))
    finding = _only(_db(long_executing=sample), "executing_too_long")
    assert finding.severity == "warning"
    assert "12 jobs executing longer than rescue_after (1h)" in finding.message
    assert "ids 5, 6, …" in finding.message and "2026-12-01 09:00:00" in finding.message


def test_available_jobs_out_of_attempts() -> None:
    finding = _only(_db(exhausted=Sample(1, (9,))), "available_exhausted")
    assert finding.severity == "warning" and "ids 9)" in finding.message
    assert finding.fix is not None and "SET max_attempts = attempt + 1" in finding.fix


def test_rows_elixir_cannot_load() -> None:
    facts = _db(bad_args=Sample(2, (1, 2)), bad_meta=Sample(1, (3,)), null_meta=Sample(1, (4,)))
    args, meta, null = (
        _only(facts, c) for c in ("non_object_args", "non_object_meta", "null_meta")
    )
    assert (args.severity, meta.severity, null.severity) == ("error", "error", "warning")
    assert args.fix is not None and "jsonb_typeof(args) <> 'object'" in args.fix
    assert null.fix is not None and "SET meta = '{}' WHERE meta IS NULL" in null.fix


# --- verdict -------------------------------------------------------------------------------


def test_errors_come_first_and_decide_the_exit_code() -> None:
    facts = _db(peers=(), exhausted=Sample(1, (9,)))
    found = diagnose(facts)
    assert [f.severity for f in found][:2] == ["error", "warning"]
    assert exit_code(found) == 2
    assert exit_code(diagnose(_db(exhausted=Sample(1, (9,))))) == 1
    assert exit_code([]) == 0


def test_every_rule_is_registered() -> None:
    import bridge.wire.doctor as doctor

    rules = set()
    for info in pkgutil.iter_modules(doctor.__path__, doctor.__name__ + "."):
        module = importlib.import_module(info.name)
        rules |= {
            value
            for name, value in vars(module).items()
            if inspect.isfunction(value)
            and value.__module__ == module.__name__
            and not name.startswith("_")
            and list(inspect.signature(value).parameters) == ["facts"]
            and value.__annotations__.get("return") == "list[Finding]"
        }
    assert len(rules) >= 13
    assert rules == set(RULES)
