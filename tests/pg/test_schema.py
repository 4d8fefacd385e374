"""bridge's migrations against the catalogs live Elixir Oban produced (tests/fixtures/schema)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from catalog import (
    FIXTURES,
    SHARED_VECTORS,
    as_public,
    differences,
    fixture,
    read_summary,
    run_migrations,
)

from bridge.errors import (
    ConfigError,
    SchemaError,
    SchemaManagedExternally,
    SchemaMissing,
    SchemaOutdated,
)
from bridge.ops import Statement
from bridge.ops.schema import check, migrate, migrated_version, require_version
from bridge.pg.source import Source

pytestmark = pytest.mark.pg

Migrated = Callable[..., str]
FRESH = {12: "v12_fresh", 14: "v14_fresh"}
#: (versions migrated, in separate runs) → the fixture the result must equal exactly
ORACLE = [
    ((14,), "v14_fresh"),  # Oban 2.23.1 fresh install
    ((12,), "v12_fresh"),  # Oban 2.18.3 fresh install
    ((11, 12), "v12_fresh"),  # Oban 2.18.3 N-1 → N
    ((12, 14), "v14_upgraded_from_2_18_3"),  # 2.18.3 install upgraded by 2.23.1
    ((13, 14), "v14_upgraded_from_2_18_3"),  # our V13 is 2.20's (7 labels): see schema/README.md
    ((14, 0, 14), "v14_fresh"),  # down to 0 leaves nothing behind
]


def sql(dsn: str, text: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(text, params)
        return cur.fetchall() if cur.description else []


def run(dsn: str, op: Any) -> Any:
    with Source(dsn, schema_version=None) as source:
        return source.run(op)


def without_attnums(data: dict[str, Any]) -> dict[str, Any]:
    """A summary minus physical column positions and enum sort keys (labels stay ordered)."""
    data = strip_attnums(data)
    for enum in data["enums"].values():
        enum.pop("sortorder")
    return data


@pytest.mark.parametrize(("versions", "name"), ORACLE, ids=lambda v: str(v))
def test_catalog_equals_live_oban(migrated: Migrated, versions: tuple[int, ...], name: str) -> None:
    dsn = migrated(*versions)
    assert differences(fixture(name)["summary"], read_summary(dsn)) == []


@pytest.mark.parametrize("name", ["v14_fresh", "v12_fresh", "v14_upgraded_from_2_18_3"])
def test_pg_dump_equals_live_oban(migrated: Migrated, name: str) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not on PATH")
    versions = {"v14_fresh": (14,), "v12_fresh": (12,), "v14_upgraded_from_2_18_3": (12, 14)}
    dsn = migrated(*versions[name])
    dump = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "-d", dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def norm(text: str) -> str:
        # drop pg_dump's version banner and random \restrict keys; pg_dump 17+ also sets
        # transaction_timeout and leaves one more blank line (the schema itself is the same)
        text = re.sub(r"(?m)^(-- Dumped (from|by) .*|\\(un)?restrict .*)\n", "", text)
        text = re.sub(r"(?m)^SET transaction_timeout = 0;\n", "", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()

    assert norm(dump) == norm((FIXTURES / f"{name}.pg_dump.sql").read_text())


@pytest.mark.parametrize("version", range(1, 15))
def test_each_step_up_equals_fresh(migrated: Migrated, version: int) -> None:
    fresh = read_summary(migrated(version))
    stepped = read_summary(migrated(version - 1, version))  # 0 → 1 starts from nothing
    if version == 14:  # 13 → 14 adds 'suspended' with enumsortorder 1.5, as a real upgrade does
        assert without_attnums(stepped) == without_attnums(fresh)
        assert stepped["enums"]["oban_job_state"]["sortorder"]["suspended"] == 1.5
    else:
        assert differences(fresh, stepped) == []


@pytest.mark.parametrize("version", range(1, 15))
def test_each_step_down_and_up_again(migrated: Migrated, version: int) -> None:
    fresh = read_summary(migrated(version))
    again = read_summary(migrated(version, version - 1, version))
    assert without_attnums(again) == without_attnums(fresh)


#: what N → N-1 leaves different from a fresh N-1 (besides attnums): Oban's own down/1 quirks
DOWN_QUIRKS = {
    14: {"enums/oban_job_state/labels", "enums/oban_job_state/sortorder"},  # 'suspended' stays
    12: {"tables/oban_jobs/constraints"},  # v12.ex down/1 re-adds priority_range NOT VALID
    10: {"tables/oban_jobs/indexes"},  # v10.ex down/1 keeps the GIN indexes, not the V07 one
    9: {"enums/oban_job_state/labels", "enums/oban_job_state/sortorder"},  # 'cancelled' stays
}


@pytest.mark.parametrize("version", range(1, 15))
def test_each_step_down_is_oban_down(migrated: Migrated, version: int) -> None:
    fresh = read_summary(migrated(version - 1))
    down = read_summary(migrated(version, version - 1))
    found = differences(strip_attnums(fresh), strip_attnums(down))
    coarse = {re.sub(r"\[\d+\]", "", "/".join(d.split(":")[0].split("/")[1:4])) for d in found}
    assert coarse == DOWN_QUIRKS.get(version, set()), found


def strip_attnums(data: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    for table in data["tables"].values():
        table["dropped_attnums"] = []
        for column in table["columns"]:
            column.pop("attnum")
    return data


def test_down_to_1_and_back_to_14(migrated: Migrated) -> None:
    again = read_summary(migrated(14, 1, 14))
    expected = fixture("v14_fresh")["summary"]
    # Only physical positions differ: V03/V08/V09 down dropped columns, up re-added them.
    assert without_attnums(again) == without_attnums(expected)
    assert again["tables"]["oban_jobs"]["dropped_attnums"] == [13, 14, 15, 16, 17, 18]
    assert again["enums"] == expected["enums"]  # down never removes labels; V01 did not rerun


def test_down_to_0_removes_everything(migrated: Migrated) -> None:
    dsn = migrated(14, 0)
    assert read_summary(dsn) == {
        "prefix": "public",
        "tables": {},
        "enums": {},
        "sequences": [],
        "functions": [],
    }
    assert run(dsn, migrated_version("public")) == 0


@pytest.mark.parametrize("version", [12, 14])
def test_prefix_equals_public_modulo_schema_name(migrated: Migrated, version: int) -> None:
    dsn = migrated(version, prefix="tenant_a")
    got = read_summary(dsn, "tenant_a")
    assert got["tables"]["oban_jobs"]["columns"][1]["type"] == "tenant_a.oban_job_state"
    assert differences(fixture(FRESH[version])["summary"], as_public(got, "tenant_a")) == []
    assert read_summary(dsn, "public")["tables"] == {}  # nothing leaks into public
    assert run(dsn, migrated_version("tenant_a")) == version


def test_prefix_upgrade_and_down_to_0(migrated: Migrated) -> None:
    dsn = migrated(12, 14, prefix="tenant_a")
    got = as_public(read_summary(dsn, "tenant_a"), "tenant_a")
    assert differences(fixture("v14_upgraded_from_2_18_3")["summary"], got) == []
    run_migrations(dsn, [0], "tenant_a")
    assert read_summary(dsn, "tenant_a")["tables"] == {}
    assert sql(dsn, "SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_a'") == [(1,)]


@pytest.mark.parametrize("prefix", ["x'; drop table oban_jobs; --$$", "Tenant A.b", "ünï-code"])
def test_odd_prefix_is_a_literal_schema_name(migrated: Migrated, prefix: str) -> None:
    dsn = migrated(14)  # public holds a table the "injection" would drop
    run_migrations(dsn, [14], prefix)
    assert sql(dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (prefix,)) == [(1,)]
    assert run(dsn, migrated_version(prefix)) == 14
    assert run(dsn, migrated_version("public")) == 14


def test_prefix_with_double_quote_is_refused_before_any_sql(empty_dsn: str) -> None:
    with pytest.raises(ConfigError, match="double quote"):
        run(empty_dsn, migrate('x"; drop table oban_jobs; --'))
    assert sql(empty_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'x%%'") == [(0,)]


def tap(op: Any, seen: list[Statement]) -> Any:
    """Pass ``op`` through, recording every statement it yields."""
    try:
        stmt = next(op)
        while True:
            seen.append(stmt)
            stmt = op.send((yield stmt))
    except StopIteration as done:
        return done.value


def test_migrate_twice_runs_no_ddl(migrated: Migrated) -> None:
    dsn = migrated(14)
    seen: list[Statement] = []
    result = run(dsn, tap(migrate("public", 14), seen))
    assert not result.changed and result.describe() == "public is already at version 14"
    # server version, advisory lock, version read — and no DDL, no COMMENT
    assert [s.sql.split()[1].split("(")[0] for s in seen] == [
        "pg_catalog.current_setting",
        "pg_catalog.pg_advisory_xact_lock",
        "pg_catalog.obj_description",
    ]


def test_elixir_install_is_adopted(empty_dsn: str) -> None:
    """Load the schema 2.18.3 made (its pg_dump), then upgrade it: equals 2.23.1's upgrade."""
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute((FIXTURES / "v12_fresh.pg_dump.sql").read_text())
    assert run(empty_dsn, check("public", 12)).variants == ()
    result = run(empty_dsn, migrate("public", 14))
    assert (result.from_version, result.steps) == (12, (13, 14))
    assert (
        differences(fixture("v14_upgraded_from_2_18_3")["summary"], read_summary(empty_dsn)) == []
    )


def test_managed_externally(migrated: Migrated) -> None:
    dsn = migrated(14)
    sql(dsn, "COMMENT ON TABLE oban_jobs IS '∞'")
    assert run(dsn, migrated_version()) is None
    with pytest.raises(SchemaManagedExternally):
        run(dsn, migrate())
    report = run(dsn, check())
    assert not report.ok and [v.code for v in report.variants] == ["managed_externally"]
    run(dsn, require_version())  # Oban's verify_migrated! lets :infinity through


def test_column_comment_is_a_variant(migrated: Migrated) -> None:
    dsn = migrated(14)
    sql(dsn, "COMMENT ON COLUMN oban_jobs.args IS 'job arguments'")
    assert run(dsn, migrated_version()) == 14  # the 2.23 query is immune; 2.18.3's is not
    report = run(dsn, check())
    assert report.ok and [v.code for v in report.variants] == ["column_comments"]
    assert "args" in report.variants[0].detail


def test_v2_21_0_type_swap_is_detected(migrated: Migrated) -> None:
    dsn = migrated(13)
    sql(dsn, V2_21_0_V14)  # mirrors lib/oban/migrations/postgres/v14.ex up/1 @v2.21.0
    report = run(dsn, check())
    assert report.ok
    codes = {v.code: v.detail for v in report.variants}
    assert set(codes) == {"state_column_moved", "missing_indexes"}
    assert "attnum 19 (the last column)" in codes["state_column_moved"]
    assert "oban_jobs_state_queue_priority_scheduled_at_id_index" in codes["missing_indexes"]


def test_logged_peers_and_missing_table_are_variants(migrated: Migrated) -> None:
    dsn = migrated(14, unlogged=False)
    assert [v.code for v in run(dsn, check()).variants] == ["peers_logged"]
    sql(dsn, "DROP TABLE oban_peers")
    assert [v.code for v in run(dsn, check()).variants] == ["missing_table"]


def test_require_version(migrated: Migrated, empty_dsn: str) -> None:
    with pytest.raises(SchemaMissing):
        run(empty_dsn, require_version("public", 14))
    dsn = migrated(12)
    with pytest.raises(SchemaOutdated) as info:
        run(dsn, require_version("public", 14))
    assert (info.value.found, info.value.required) == (12, 14)
    run(dsn, require_version("public", 12))
    report = run(dsn, check("public", 14))
    assert not report.ok and report.describe() == ["public is at version 12, wanted 14"]


def test_unreadable_comment_is_an_error(migrated: Migrated) -> None:
    dsn = migrated(14)
    sql(dsn, "COMMENT ON TABLE oban_jobs IS 'v14'")
    with pytest.raises(SchemaError, match="not a version"):
        run(dsn, migrate())


SHARED = [
    ("oban-2.23.1", "fresh_install", (14,)),
    ("oban-2.23.1", "upgrade_from_2_18_3_install", (12, 14)),
    ("oban-2.18.3", "fresh_install", (12,)),
    ("oban-2.18.3", "upgrade_from_previous_version", (11, 12)),
]


@pytest.mark.parametrize(("oban", "block", "versions"), SHARED)
def test_against_shared_vectors(migrated: Migrated, oban: str, block: str, versions: Any) -> None:
    path = SHARED_VECTORS / oban / "schema.json"
    if not path.exists():
        pytest.skip(f"shared vectors not found at {path} (../shared beside the repository)")
    expected = json.loads(path.read_text())[block]["summary"]
    assert differences(expected, read_summary(migrated(*versions))) == []


V2_21_0_V14 = """
ALTER TYPE public.oban_job_state RENAME TO oban_job_state_old;
CREATE TYPE public.oban_job_state AS ENUM ('available', 'suspended', 'scheduled', 'executing',
  'retryable', 'completed', 'discarded', 'cancelled');
ALTER TABLE public.oban_jobs RENAME COLUMN state TO _state;
ALTER TABLE public.oban_jobs ADD state public.oban_job_state NOT NULL DEFAULT 'available';
UPDATE public.oban_jobs SET state = _state::text::public.oban_job_state;
ALTER TABLE public.oban_jobs DROP COLUMN _state;
DROP TYPE public.oban_job_state_old;
COMMENT ON TABLE public.oban_jobs IS '14';
"""
