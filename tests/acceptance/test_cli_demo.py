"""``oban-bridge demo`` on a server: its own throw-away database, never the one it was given."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

pytestmark = pytest.mark.pg


def demo(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bridge", "demo", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _databases(dsn: str, name: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname = %s", (name,))
        return [row[0] for row in rows]


def _created(stdout: str) -> str:
    found = re.search(
        r"== database: (oban_bridge_demo_[0-9a-f]{8}), created for the demo on", stdout
    )
    assert found, stdout
    return found.group(1)


def test_demo_writes_into_a_database_of_its_own_and_drops_it(empty_dsn: str) -> None:
    proc = demo("--dsn", empty_dsn)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = _created(proc.stdout)
    assert "node demo: 3 jobs acknowledged, then stopped cleanly" in proc.stdout
    assert f"database {name} is dropped now (--keep keeps it)" in proc.stdout
    assert _databases(empty_dsn, name) == []
    with psycopg.connect(empty_dsn) as conn:  # the database it was given is untouched
        assert conn.execute("SELECT to_regclass('public.oban_jobs')").fetchone() == (None,)


def test_demo_keep_leaves_the_database_to_look_at(empty_dsn: str) -> None:
    proc = demo("--dsn", empty_dsn, "--keep")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    name = _created(proc.stdout)
    try:
        assert _databases(empty_dsn, name) == [name]
        assert f"kept database {name} on" in proc.stdout
        kept = psycopg.conninfo.make_conninfo(empty_dsn, dbname=name)
        with psycopg.connect(kept) as conn:
            assert conn.execute("SELECT count(*) FROM oban_jobs").fetchone() == (9,)
    finally:
        with psycopg.connect(empty_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
