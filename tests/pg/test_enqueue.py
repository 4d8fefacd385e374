"""Rows written by bridge equal the rows live Elixir Oban wrote (apart from id and clocks).

The expected rows are the project's fixtures (``tests/fixtures/inserts``), taken
from ``../shared/vectors``; ``test_fixtures_match_shared_vectors`` cross-checks
them whenever ``../shared`` sits beside the repository.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge import Client, Job

pytestmark = pytest.mark.pg

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inserts"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
VERSIONS = {"2.18.3": 12, "2.23.1": 14}
CLOCKS = ("id", "inserted_at", "scheduled_at")


def _cases(version: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"oban-{version}.json").read_text())["inserts"]


def _kwargs(call: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    options = dict(call["job_options"])
    worker = options.pop("worker")
    return worker, call["job_args"], options


def _row(conn: psycopg.Connection[Any], job_id: int) -> dict[str, Any]:
    rows = conn.execute("SELECT row_to_json(j.*) FROM oban_jobs j WHERE id = %s", (job_id,))
    value: dict[str, Any] = rows.fetchone()[0]  # type: ignore[index]
    return value


def _stable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in CLOCKS}


def _parse(text: str) -> datetime:
    """row_to_json trims trailing zeros of the fraction; Python 3.10 wants 0, 3 or 6 digits."""
    head, _, fraction = text.partition(".")
    return datetime.fromisoformat(f"{head}.{fraction.ljust(6, '0')}" if fraction else head)


def _delay(row: dict[str, Any]) -> float:
    return (_parse(row["scheduled_at"]) - _parse(row["inserted_at"])).total_seconds()


@pytest.fixture(params=sorted(VERSIONS))
def versioned(request: pytest.FixtureRequest, migrated: Any) -> tuple[str, str, int]:
    version: str = request.param
    schema = VERSIONS[version]
    return version, migrated(schema), schema


def test_fixtures_match_shared_vectors() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present: cross-check against the shared vectors skipped")
    for version in VERSIONS:
        shared = json.loads((SHARED / f"oban-{version}" / "jobs.json").read_text())["inserts"]
        assert _cases(version) == shared


def test_single_inserts_equal_elixir_rows(versioned: tuple[str, str, int]) -> None:
    version, dsn, schema = versioned
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn, schema_version=schema)
        for name in ("insert_default", "insert_all_options"):
            case = _cases(version)[name]
            worker, args, options = _kwargs(case["call"])
            job = client.enqueue(worker, args, **options)
            row = _row(conn, job.id)  # type: ignore[arg-type]
            assert _stable(row) == _stable(case["row"]), name
            assert _delay(row) == pytest.approx(_delay(case["row"]), abs=1.0), name
            assert job.conflict is case["elixir_returned"]["conflict?"]


def test_insert_all_equals_elixir_rows(versioned: tuple[str, str, int]) -> None:
    version, dsn, schema = versioned
    case = _cases(version)["insert_all"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn, schema_version=schema)
        specs = [_kwargs(spec) for spec in case["call"]["jobs"]]
        jobs = client.insert_all(Job.new(w, a, **o) for w, a, o in specs)
        rows = [_row(conn, job.id) for job in jobs]  # type: ignore[arg-type]
        assert [_stable(r) for r in rows] == [_stable(r) for r in case["rows"]]
        for row, expected in zip(rows, case["rows"], strict=True):
            assert _delay(row) == pytest.approx(_delay(expected), abs=1.0)
        # one transaction, as Elixir's single INSERT: one inserted_at for all rows
        assert len({r["inserted_at"] for r in rows}) == 1
        # the jobs returned are the rows written, field for field
        for job, row in zip(jobs, rows, strict=True):
            assert job.to_dict()["inserted_at"] == _parse(row["inserted_at"]).isoformat()
            assert _stable(job.to_dict()) == _stable(row)


def test_unique_conflict_returns_the_existing_job(versioned: tuple[str, str, int]) -> None:
    version, dsn, schema = versioned
    case = _cases(version)["insert_unique_conflict"]
    worker, args, options = _kwargs(case["call"])
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn, schema_version=schema)
        first = client.enqueue(worker, args, **options)
        second = client.enqueue(worker, args, **options)
        count = conn.execute("SELECT count(*) FROM oban_jobs WHERE worker = %s", (worker,))
        assert count.fetchone() == (case["rows_with_that_worker_after_second_call"],)
        assert (first.conflict, second.conflict) == (False, True)
        assert second.id == first.id
        expected = case["existing_row_after_second_call"]
        assert _stable(_row(conn, first.id)) == _stable(expected)  # type: ignore[arg-type]
        assert _stable(second.to_dict()) == _stable(expected)


def test_unique_options_follow_elixirs_predicate(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        client = Client(conn)
        by_key = {"fields": ["args", "worker"], "keys": ["account"], "period": "infinity"}
        a = client.enqueue("W", {"account": 1, "x": 1}, unique=by_key)
        b = client.enqueue("W", {"account": 1, "x": 2}, queue="other", unique=by_key)
        c = client.enqueue("W", {"account": 2}, unique=by_key)
        assert (b.id, b.conflict) == (a.id, True) and not c.conflict
        # states: a completed job does not block when only incomplete states count
        conn.execute("UPDATE oban_jobs SET state = 'completed' WHERE id = %s", (a.id,))
        d = client.enqueue("W", {"account": 1}, unique={**by_key, "states": "incomplete"})
        assert not d.conflict
        # period: an old job is outside a 60 s window
        conn.execute("UPDATE oban_jobs SET inserted_at = inserted_at - interval '2 minutes'")
        e = client.enqueue("W", {"account": 3}, unique={"period": 60})
        f = client.enqueue("W", {"account": 3}, unique={"period": 60})
        assert f.conflict and f.id == e.id
        # empty args: matched with args <@ '{}' exactly like Elixir
        g = client.enqueue("Empty", {}, unique=True)
        h = client.enqueue("Empty", {}, unique=True)
        assert h.conflict and h.id == g.id


def test_unique_on_a_v12_schema_skips_the_missing_suspended_label(migrated: Any) -> None:
    with psycopg.connect(migrated(12), autocommit=True) as conn:
        client = Client(conn, schema_version=12)
        assert not client.enqueue("W", {"a": 1}, unique=True).conflict
        assert client.enqueue("W", {"a": 1}, unique=True).conflict
