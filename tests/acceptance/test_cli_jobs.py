"""The CLI as a user runs it: a subprocess, real PostgreSQL, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.pg


def cli(*argv: str, dsn: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    return subprocess.run(
        [sys.executable, "-m", "bridge", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_enqueue_list_and_manage(dsn: str) -> None:
    out = cli(
        "enqueue",
        "MyApp.Workers.Mailer",
        "--args",
        '{"to": "a@b.c"}',
        "--queue",
        "mailers",
        "--tags",
        " Urgent ,urgent",
        "--priority",
        "2",
        dsn=dsn,
    )
    assert out.returncode == 0, out.stderr
    job_id = int(out.stdout)
    row = json.loads(cli("enqueue", "MyApp.W", "--schedule-in", "60", "--json", dsn=dsn).stdout)
    assert row["state"] == "scheduled" and row["conflict?"] is False
    table = cli("jobs", dsn=dsn)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "STATE", "QUEUE"]
    assert "MyApp.Workers.Mailer" in table.stdout
    listed = [
        json.loads(line)
        for line in cli("jobs", "--json", "--queue", "mailers", dsn=dsn).stdout.splitlines()
    ]
    assert [(r["id"], r["tags"], r["priority"]) for r in listed] == [(job_id, ["urgent"], 2)]
    assert cli("jobs", "cancel", str(job_id), dsn=dsn).stdout.strip() == f"job {job_id}: cancelled"
    assert cli("jobs", "retry", str(job_id), dsn=dsn).stdout.strip() == f"job {job_id}: available"
    assert (
        cli("jobs", "--dsn", dsn, "delete", str(job_id)).stdout.strip() == f"job {job_id}: deleted"
    )
    missing = cli("jobs", "delete", str(job_id), dsn=dsn)
    assert missing.returncode == 1 and missing.stderr.strip() == (
        f"oban-bridge: error: no job with id {job_id}"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("enqueue", "W", "--args", "{nope"), "--args is not valid JSON"),
        (("enqueue", "W", "--args", "[1, 2]"), "--args must be a JSON object"),
        (("enqueue", "W", "--priority", "10"), "priority: must be between 0 and 9"),
        (("enqueue", "W" * 128), "worker: should be at most 127 character(s)"),
        (("enqueue", "W", "--max-attempts", "0"), "max_attempts: must be"),
        (("enqueue", "W", "--frobnicate"), "unrecognized arguments: --frobnicate"),
        (("jobs", "--state", "paused"), "invalid choice: 'paused'"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(dsn: str, argv: tuple[str, ...], message: str) -> None:
    out = cli(*argv, dsn=dsn)
    assert out.returncode != 0
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "no jobs" in cli("jobs", dsn=dsn).stdout  # nothing was written


def test_database_problems_are_one_line(empty_dsn: str) -> None:
    for dsn, text in (
        ("postgresql://postgres@127.0.0.1:1/nope", "cannot connect to PostgreSQL"),
        (empty_dsn, "oban-bridge migrate"),
        (None, "no database given"),
    ):
        out = cli("enqueue", "W", dsn=dsn)
        assert out.returncode == 1, out
        assert text in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_v12_cluster_is_addressed_with_schema_version(migrated: Any) -> None:
    dsn = migrated(12)
    refused = cli("enqueue", "W", dsn=dsn)
    assert refused.returncode == 1 and "version 12, version 14 is required" in refused.stderr
    out = cli("enqueue", "W", "--schema-version", "12", "--json", dsn=dsn)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["state"] == "available"
    assert cli("jobs", "--schema-version", "12", dsn=dsn).returncode == 0
