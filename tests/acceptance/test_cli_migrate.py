"""``oban-bridge migrate`` as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"


def cli(*args: str, dsn: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    return subprocess.run(
        [sys.executable, "-m", "bridge", "migrate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        input="",  # never a terminal: going down needs --yes
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_migrate_check_and_down(empty_dsn: str) -> None:
    proc = cli("--check", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (
        1,
        "public is not migrated (version 0), wanted 14\n"
        "variant missing_table: oban_jobs not found\n",
    )

    proc = cli(dsn=empty_dsn)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "migrated public from 0 to 14\n", "")
    proc = cli(dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (0, "public is already at version 14\n")
    proc = cli("--check", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (0, "public is at version 14\n")

    proc = cli("--version", "12", "--yes", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (0, "migrated public from 14 to 12\n")
    proc = cli("--check", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (1, "public is at version 12, wanted 14\n")
    proc = cli("--check", "--version", "12", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (0, "public is at version 12\n")


def test_prefix_and_dsn_option(empty_dsn: str) -> None:
    proc = cli("--dsn", empty_dsn, "--prefix", "tenant_a", dsn=None)
    assert (proc.returncode, proc.stdout) == (0, "migrated tenant_a from 0 to 14\n")
    with psycopg.connect(empty_dsn) as conn:
        row = conn.execute("SELECT obj_description('tenant_a.oban_jobs'::regclass)").fetchone()
    assert row == ("14",)


def test_check_reports_variants(empty_dsn: str) -> None:
    assert cli(dsn=empty_dsn).returncode == 0
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute("COMMENT ON COLUMN oban_jobs.meta IS 'note'")
    proc = cli("--check", dsn=empty_dsn)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[1].startswith("variant column_comments: comments on oban_jobs")


def test_managed_externally_is_refused(empty_dsn: str) -> None:
    assert cli(dsn=empty_dsn).returncode == 0
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute("COMMENT ON TABLE oban_jobs IS '∞'")
    assert "managed externally" in one_error_line(cli(dsn=empty_dsn))
    proc = cli("--check", dsn=empty_dsn)
    assert proc.returncode == 1
    assert proc.stdout.startswith("public is managed externally (table comment '∞'), wanted 14")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--prefix", 'x"; drop table oban_jobs; --'), "double quote"),
        (("--version", "15"), "version must be between 0 and 14"),
    ],
)
def test_bad_options_are_one_line(empty_dsn: str, args: tuple[str, ...], expected: str) -> None:
    assert expected in one_error_line(cli(*args, dsn=empty_dsn))


def test_unreachable_database_is_one_line() -> None:
    line = one_error_line(cli(dsn=UNREACHABLE))
    assert line.startswith("oban-bridge: error: cannot connect to PostgreSQL at 127.0.0.1:1/x")


def test_no_database_given() -> None:
    assert "DATABASE_URL" in one_error_line(cli(dsn=None))


def test_going_down_needs_yes_and_says_what_it_drops(empty_dsn: str) -> None:
    assert cli(dsn=empty_dsn).returncode == 0
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        for _ in range(3):
            conn.execute("INSERT INTO oban_jobs (worker, args) VALUES ('W', '{}')")
    line = one_error_line(cli("--version", "0", dsn=empty_dsn))
    assert line == (
        "oban-bridge: error: Migrate public down from 14 to 0, dropping oban_jobs and its 3 jobs? "
        "Not done: pass --yes to confirm (no terminal to ask on)"
    )
    line = one_error_line(cli("--version", "12", dsn=empty_dsn))
    assert "down from 14 to 12, undoing V13–V14 on an oban_jobs holding 3 jobs?" in line
    with psycopg.connect(empty_dsn) as conn:  # nothing happened
        assert conn.execute("SELECT count(*) FROM oban_jobs").fetchone() == (3,)
    proc = cli("--version", "0", "--yes", dsn=empty_dsn)
    assert (proc.returncode, proc.stdout) == (0, "migrated public from 14 to 0\n")
    proc = cli("--version", "14", dsn=empty_dsn)  # up never asks
    assert (proc.returncode, proc.stdout) == (0, "migrated public from 0 to 14\n")
