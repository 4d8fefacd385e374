"""``oban-bridge enqueue --unique … --replace …`` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.pg

UNIQUE = '{"fields": ["args", "worker"], "keys": ["k"], "period": "infinity"}'


def cli(*argv: str, dsn: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": dsn}
    return subprocess.run(
        [sys.executable, "-m", "bridge", "enqueue", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_replace_per_state_on_a_unique_conflict(dsn: str) -> None:
    first = cli("W", "--args", '{"k": 1}', "--unique", UNIQUE, "--schedule-in", "60", dsn=dsn)
    assert first.returncode == 0, first.stderr
    again = cli(
        "W", "--args", '{"k": 1, "n": 2}', "--unique", UNIQUE, "--schedule-in", "3600",
        "--priority", "3", "--replace", "scheduled=scheduled_at,args",
        "--replace", "available=priority", "--json", dsn=dsn,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    row = json.loads(again.stdout)
    assert row["id"] == int(first.stdout) and row["conflict?"] is True
    assert row["args"] == {"k": 1, "n": 2} and row["priority"] == 0  # scheduled: not priority
    assert again.stderr == f"unique conflict: job {row['id']} (scheduled) already existed\n"
    plain = cli("W", "--args", '{"k": 1}', "--unique", UNIQUE, "--replace", "queue,tags", dsn=dsn)
    assert plain.returncode == 0 and plain.stdout.strip() == first.stdout.strip()


def test_unique_alone_is_oban_unique_true(dsn: str) -> None:
    runs = [cli("W", "--args", '{"a": 1}', "--unique", dsn=dsn) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and int(runs[0].stdout) > 0
    assert "unique conflict" in runs[1].stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--replace", "queue"), "--replace acts only on a unique conflict: add --unique"),
        (("--unique", "--replace", "scheduled=bogus"), "replace: has an invalid field: 'bogus'"),
        (("--unique", "--replace", "running=args"), "replace: has an invalid state: 'running'"),
        (("--unique", "--replace", "args", "--replace", "scheduled=args"), "not both"),
        (("--unique", "[1]"), "--unique must be a JSON object"),
    ],
)
def test_bad_replace_is_one_line_and_writes_nothing(
    dsn: str, argv: tuple[str, ...], message: str
) -> None:
    out = cli("W", *argv, dsn=dsn)
    assert out.returncode != 0 and message in out.stderr and len(out.stderr.splitlines()) == 1
    assert out.stdout == ""
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM oban_jobs").fetchone() == (0,)
