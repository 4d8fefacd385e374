"""bridge.ops.schema without a database: statement choice, version parsing, variants, prefixes."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import pytest

from bridge.errors import (
    ConfigError,
    SchemaError,
    SchemaManagedExternally,
    SchemaMissing,
    SchemaOutdated,
)
from bridge.ops import Rows, Statement
from bridge.ops.schema import (
    CURRENT_VERSION,
    MigrateResult,
    SchemaReport,
    Variant,
    check,
    detect,
    migrate,
    parse_version,
    plan,
    require_version,
    statements,
    validate_prefix,
)

Answer = Callable[[Statement], Rows]


def fake_db(comment: str | None, *, enum: bool = False, server: int = 150000) -> Answer:
    """Answers the read queries the way PostgreSQL would for one recorded comment."""

    def answer(stmt: Statement) -> Rows:
        if "server_version_num" in stmt.sql:
            return [{"num": server}]
        if "obj_description" in stmt.sql:
            return [] if comment is None else [{"version": comment}]
        if "pg_type" in stmt.sql:
            return [{"?column?": 1}] if enum else []
        return []

    return answer


def drive(op: Any, answer: Answer) -> tuple[Any, list[Statement]]:
    seen: list[Statement] = []
    try:
        stmt = next(op)
        while True:
            seen.append(stmt)
            stmt = op.send(answer(stmt))
    except StopIteration as done:
        return done.value, seen


def ddl(seen: list[Statement]) -> list[Statement]:
    return [s for s in seen if not s.fetch]


# --- the SQL files -----------------------------------------------------------------------


@pytest.mark.parametrize("version", range(1, CURRENT_VERSION + 1))
@pytest.mark.parametrize("direction", ["up", "down"])
def test_sql_files_are_well_formed(version: int, direction: Any) -> None:
    named = statements(version, direction)
    names = [name for name, _ in named]
    assert len(names) == len(set(names)), names
    assert (version == 6) == (named == ())  # V06 is Oban's no-op
    for name, text in named:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        assert fields <= {"prefix"}, (name, fields)  # psycopg's sql.SQL.format sees only {prefix}
        assert text.rstrip().endswith(";"), name
        for body in text.split("$$")[1::2]:  # never paste the prefix inside a dollar-quoted body
            assert "{prefix}" not in body, name
        for table in ("oban_jobs", "oban_peers", "oban_job_state", "oban_jobs_notify"):
            # every object reference is schema-qualified, never resolved through search_path
            bare = text.replace(f"{{prefix}}.{table}", "").replace(f"{table}_", "")
            assert f" {table}" not in bare and f"({table}" not in bare, (name, table)


# --- migrate -----------------------------------------------------------------------------


def test_fresh_install_to_14_creates_the_8_label_enum() -> None:
    result, seen = drive(migrate("public", 14), fake_db(None))
    steps = ddl(seen)
    assert result == MigrateResult("public", 0, 14, "up", tuple(range(1, 15)))
    assert not any("CREATE SCHEMA" in s.sql for s in steps)
    enum = [s.sql for s in steps if "CREATE TYPE" in s.sql]
    assert len(enum) == 1 and "'suspended'" in enum[0] and "'cancelled'" in enum[0]
    assert steps[-1].sql == "COMMENT ON TABLE {prefix}.oban_jobs IS '14'"
    assert all(s.prefix == "public" and s.params is None for s in steps)


@pytest.mark.parametrize("target", [1, 9, 12, 13])
def test_fresh_install_below_14_creates_the_6_label_enum(target: int) -> None:
    _, seen = drive(migrate("public", target), fake_db(None))
    enum = [s.sql for s in ddl(seen) if "CREATE TYPE" in s.sql]
    assert len(enum) == 1 and "'suspended'" not in enum[0] and "'cancelled'" not in enum[0]


def test_existing_enum_is_not_recreated() -> None:
    _, seen = drive(migrate("public", 14), fake_db(None, enum=True))
    assert not any("CREATE TYPE" in s.sql for s in seen)


def test_other_prefix_creates_its_schema_first() -> None:
    _, seen = drive(migrate("tenant_a", 14), fake_db(None))
    steps = ddl(seen)
    assert steps[0].sql == "CREATE SCHEMA IF NOT EXISTS {prefix};"
    assert {s.prefix for s in seen if not s.params} == {None, "tenant_a"}
    assert all(s.params == ("tenant_a",) for s in seen if s.params)  # bound, never pasted


def test_unlogged_false_keeps_peers_logged() -> None:
    _, seen = drive(migrate("public", 14, unlogged=False), fake_db(None))
    assert not any("SET UNLOGGED" in s.sql for s in seen)


def test_down_runs_in_reverse_and_records_the_target() -> None:
    result, seen = drive(migrate("public", 12), fake_db("14"))
    assert result == MigrateResult("public", 14, 12, "down", (14, 13))
    assert [s.sql for s in ddl(seen)][-1] == "COMMENT ON TABLE {prefix}.oban_jobs IS '12'"
    result, seen = drive(migrate("public", 0), fake_db("14"))
    assert result.steps == tuple(range(14, 0, -1)) and "COMMENT" not in ddl(seen)[-1].sql


def test_same_version_is_a_no_op() -> None:
    result, seen = drive(migrate("public", 14), fake_db("14"))
    assert not result.changed and ddl(seen) == []
    assert result.describe() == "public is already at version 14"


def test_refusals() -> None:
    with pytest.raises(SchemaManagedExternally):
        drive(migrate(), fake_db("∞"))
    with pytest.raises(SchemaError, match="PostgreSQL 12"):
        drive(migrate(), fake_db(None, server=110000))
    for version in (-1, 15):
        with pytest.raises(ConfigError):
            drive(migrate("public", version), fake_db(None))


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (0, 14, ("up", tuple(range(1, 15)))),
        (12, 14, ("up", (13, 14))),
        (14, 14, (None, ())),
        (14, 1, ("down", tuple(range(14, 1, -1)))),
        (3, 0, ("down", (3, 2, 1))),
    ],
)
def test_plan(current: int, target: int, expected: Any) -> None:
    assert plan(current, target) == expected


# --- version read-back -------------------------------------------------------------------


@pytest.mark.parametrize(("comment", "version"), [(None, 0), ("14", 14), ("1", 1), ("∞", None)])
def test_parse_version(comment: str | None, version: int | None) -> None:
    assert parse_version(comment) == version


@pytest.mark.parametrize("comment", ["", "v14", "1.5", "١٤", " 14"])
def test_unreadable_version_comment(comment: str) -> None:
    with pytest.raises(SchemaError):
        parse_version(comment)


def test_require_version() -> None:
    with pytest.raises(SchemaMissing):
        drive(require_version("public", 14), fake_db(None))
    with pytest.raises(SchemaOutdated) as info:
        drive(require_version("public", 14), fake_db("12"))
    assert (info.value.found, info.value.required) == (12, 14)
    assert drive(require_version("public", 12), fake_db("14"))[0] is None
    assert drive(require_version("public", 14), fake_db("∞"))[0] is None


# --- prefixes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    ["public", "tenant_a", "Tenant A", "x'; drop table oban_jobs; --", "a$$b", "é" * 24, "p" * 49],
)
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        'x"; drop table oban_jobs; --',
        "a\\b",
        "a#{b}",
        "tab\there",
        "new\nline",
        "nul\x00",
        "pg_temp",
        "p" * 50,
        "é" * 25,
    ],
)
def test_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(ConfigError):
        validate_prefix(prefix)
    with pytest.raises(ConfigError):
        drive(migrate(prefix), fake_db(None))  # refused before any statement


# --- check / variants --------------------------------------------------------------------

JOBS = {"name": "oban_jobs", "kind": "r", "persistence": "p"}
PEERS = {"name": "oban_peers", "kind": "r", "persistence": "u"}
FRESH_INDEXES = [
    {"name": n, "valid": True}
    for n in (
        "oban_jobs_pkey",
        "oban_jobs_args_index",
        "oban_jobs_meta_index",
        "oban_jobs_state_queue_priority_scheduled_at_id_index",
        "oban_jobs_state_cancelled_at_index",
        "oban_jobs_state_discarded_at_index",
    )
]
LABELS = [
    "available",
    "suspended",
    "scheduled",
    "executing",
    "retryable",
    "completed",
    "discarded",
    "cancelled",
]


def columns(state_attnum: int = 2, comment: str | None = None) -> list[dict[str, Any]]:
    return [
        {"name": "id", "attnum": 1, "comment": None},
        {"name": "state", "attnum": state_attnum, "comment": None},
        {"name": "args", "attnum": 5, "comment": comment},
    ]


def codes(**kw: Any) -> list[str]:
    args: dict[str, Any] = {
        "version": 14,
        "relations": {"oban_jobs": JOBS, "oban_peers": PEERS},
        "columns": columns(),
        "indexes": FRESH_INDEXES,
        "labels": LABELS,
    }
    args.update(kw)
    return [v.code for v in detect(**args)]


def test_fresh_schema_has_no_variant() -> None:
    assert codes() == []


def test_variants() -> None:
    assert codes(version=None) == ["managed_externally"]
    assert codes(version=0, relations={}, columns=[], indexes=[], labels=[]) == ["missing_table"]
    assert codes(relations={"oban_jobs": JOBS}) == ["missing_table"]
    assert (
        codes(
            version=10,
            relations={"oban_jobs": JOBS},
            labels=LABELS[:1] + LABELS[2:],
            indexes=FRESH_INDEXES[:4],
        )
        == []
    )
    assert codes(version=0) == ["no_version_comment"]
    assert codes(relations={"oban_jobs": {**JOBS, "kind": "p"}, "oban_peers": PEERS}) == [
        "partitioned"
    ]
    assert codes(columns=columns(state_attnum=19), indexes=FRESH_INDEXES[:3]) == [
        "state_column_moved",
        "missing_indexes",
    ]
    assert codes(
        indexes=[{**i, "valid": i["name"] != "oban_jobs_args_index"} for i in FRESH_INDEXES]
    ) == ["invalid_indexes"]
    assert codes(relations={"oban_jobs": JOBS, "oban_peers": {**PEERS, "persistence": "p"}}) == [
        "peers_logged"
    ]
    assert codes(columns=columns(comment="x")) == ["column_comments"]
    assert codes(labels=LABELS[:1] + LABELS[2:]) == ["missing_labels"]


def test_check_reads_without_writing() -> None:
    report, seen = drive(check("public", 14), fake_db("12"))
    assert all(s.fetch for s in seen)
    assert report == SchemaReport(
        "public", 12, 14, (Variant("missing_table", "oban_jobs, oban_peers not found"),)
    )
    assert report.describe()[0] == "public is at version 12, wanted 14"


def test_report_lines() -> None:
    assert SchemaReport("public", 14, 14).describe() == ["public is at version 14"]
    assert SchemaReport("public", 0, 14).describe() == [
        "public is not migrated (version 0), wanted 14"
    ]
    lines = SchemaReport("t", None, 14, (Variant("managed_externally", "x"),)).describe()
    assert lines == [
        "t is managed externally (table comment '∞'), wanted 14",
        "variant managed_externally: x",
    ]
