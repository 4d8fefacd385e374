"""The CLI as a user runs it: a subprocess, real PostgreSQL, exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.pg


def cli(
    *argv: str, dsn: str | None = None, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    return subprocess.run(
        [sys.executable, "-m", "bridge", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        input=stdin,  # never a terminal: confirmations need --yes
        cwd=cwd,
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
    # both ways out, the one that keeps Oban ≤ 2.19 nodes working first (issue 9, item 2)
    assert "pass --schema-version 12" in refused.stderr and "Oban ≥ 2.20" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    out = cli("enqueue", "W", "--schema-version", "12", "--json", dsn=dsn)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["state"] == "available"
    assert cli("jobs", "--schema-version", "12", dsn=dsn).returncode == 0


# -- issue 9 ---------------------------------------------------------------------------------


def _set_state(dsn: str, state: str, *ids: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE oban_jobs SET state = %s, attempt = 1 WHERE id = ANY(%s)", (state, list(ids))
        )


def _enqueue(dsn: str, *argv: str) -> int:
    out = cli("enqueue", *argv, dsn=dsn)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_args_and_meta_from_a_file_and_from_stdin(dsn: str, tmp_path: Path) -> None:
    big = {"ids": list(range(20_000))}  # too long for a comfortable command line
    (tmp_path / "args.json").write_text(json.dumps(big))
    out = cli(
        "enqueue", "W", "--args", "@args.json", "--meta", "-", "--json",
        dsn=dsn, stdin='{"source": "stdin"}', cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert (row["args"], row["meta"]) == (big, {"source": "stdin"})
    missing = cli("enqueue", "W", "--args", "@nope.json", dsn=dsn, cwd=tmp_path)
    assert missing.returncode == 1 and "--args: cannot read 'nope.json'" in missing.stderr
    both = cli("enqueue", "W", "--args", "-", "--meta", "-", dsn=dsn)
    assert both.returncode == 1 and "cannot both read stdin" in both.stderr


def test_a_no_op_exits_1_with_the_reason_unless_if_possible(dsn: str) -> None:
    done, running = _enqueue(dsn, "W"), _enqueue(dsn, "W")
    _set_state(dsn, "completed", done)
    _set_state(dsn, "executing", running)
    for argv, reason in (
        (("cancel", str(done)), f"job {done} is completed: not cancelled"),
        (("retry", str(running)), f"job {running} is executing: not retried"),
        (("delete", str(running)), f"job {running} is executing: not deleted"),
    ):
        out = cli("jobs", *argv, dsn=dsn)
        assert (out.returncode, out.stdout) == (1, ""), out
        assert out.stderr.startswith(f"oban-bridge: {reason}") and out.stderr.count("\n") == 1
        lenient = cli("jobs", *argv, "--if-possible", dsn=dsn)
        assert lenient.returncode == 0 and reason in lenient.stderr
    assert cli("jobs", "retry", str(done), dsn=dsn).stdout.strip() == f"job {done}: available"


def test_names_with_control_characters_are_escaped(dsn: str) -> None:
    _enqueue(dsn, "Evil\x1b[31mWorker\nsecond line", "--queue", "q\u202eeuq")
    table = cli("jobs", dsn=dsn).stdout
    assert "\x1b" not in table and "\u202e" not in table and len(table.splitlines()) == 2
    assert "Evil\\x1b[31mWorker\\nsecond line" in table and "q\\u202eeuq" in table
    line = cli("jobs", "--json", dsn=dsn).stdout
    assert line.count("\n") == 1 and "\x1b" not in line and "\u202e" not in line
    assert json.loads(line)["worker"] == "Evil\x1b[31mWorker\nsecond line"


def test_the_list_says_when_the_limit_cut_it(dsn: str) -> None:
    for n in range(5):
        _enqueue(dsn, "W", "--args", json.dumps({"n": n}))
    out = cli("jobs", "--limit", "3", dsn=dsn)
    assert out.stdout.splitlines()[-1] == "… 3 of 5 shown (--limit N shows more)"
    quiet = cli("jobs", "--limit", "5", dsn=dsn)
    assert "shown" not in quiet.stdout and len(quiet.stdout.splitlines()) == 6
    as_json = cli("jobs", "--limit", "2", "--json", dsn=dsn)
    assert len(as_json.stdout.splitlines()) == 2 and "… 2 of 5 shown" in as_json.stderr
    bad = cli("jobs", "--limit", "-1", dsn=dsn)
    assert bad.returncode == 1 and "limit: must be at least 1" in bad.stderr


def test_repeated_state_filters_combine(dsn: str) -> None:
    ids = [_enqueue(dsn, "W") for _ in range(3)]
    _set_state(dsn, "completed", ids[0])
    _set_state(dsn, "discarded", ids[1])
    out = cli("jobs", "--json", "--state", "completed", "--state", "discarded", dsn=dsn)
    assert [json.loads(line)["id"] for line in out.stdout.splitlines()] == [ids[1], ids[0]]


def test_show_prints_the_whole_job(dsn: str) -> None:
    from bridge import Client

    job_id = _enqueue(dsn, "MyApp.Workers.Report", "--args", '{"day": 1}', "--tags", "a,b")
    error = "** (RuntimeError) boom\n    lib/report.ex:1: MyApp.Workers.Report.perform/1\n"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE oban_jobs SET state = 'retryable', attempt = 1, errors = ARRAY["
            "jsonb_build_object('at', '2030-01-01T00:00:00.000000Z', 'attempt', 1,"
            " 'error', %s::text)] WHERE id = %s",
            (error, job_id),
        )
    with Client(dsn) as client:
        client.record(job_id, {"rows": 42})
    out = cli("jobs", "show", str(job_id), dsn=dsn)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:4] == [
        f"id            {job_id}",
        "state         retryable",
        "queue         default",
        "worker        MyApp.Workers.Report",
    ]
    assert 'args          {"day": 1}' in lines and "tags          a, b" in lines
    assert 'recorded      %{"rows" => 42}' in lines
    assert lines[-3:] == [
        "  attempt 1 at 2030-01-01T00:00:00.000000Z:",
        "    ** (RuntimeError) boom",
        "        lib/report.ex:1: MyApp.Workers.Report.perform/1",
    ]
    assert any(line.startswith("inserted_at   ") and line.endswith(" UTC") for line in lines)
    assert json.loads(cli("jobs", "show", str(job_id), "--json", dsn=dsn).stdout)["id"] == job_id
    missing = cli("jobs", "show", "999999", dsn=dsn)
    assert missing.returncode == 1 and "no job with id 999999" in missing.stderr


def test_bulk_actions_count_and_need_a_yes(dsn: str) -> None:
    mail = [_enqueue(dsn, "Mailer", "--queue", "mailers") for _ in range(3)]
    other = _enqueue(dsn, "Report", "--queue", "reports")
    _set_state(dsn, "completed", mail[0])
    refused = cli("jobs", "cancel", "--queue", "mailers", dsn=dsn)
    assert refused.returncode == 1
    assert "Cancel 2 jobs (queue mailers)? Not done: pass --yes" in refused.stderr
    done = cli("jobs", "cancel", "--queue", "mailers", "--yes", dsn=dsn)
    assert (done.returncode, done.stdout) == (0, "cancelled 2 jobs\n")
    again = cli("jobs", "cancel", "--queue", "mailers", "--yes", dsn=dsn)
    assert again.returncode == 1 and "no job (queue mailers) can be cancelled" in again.stderr
    assert cli("jobs", "cancel", "--queue", "mailers", "--if-possible", dsn=dsn).returncode == 0
    out = cli(
        "jobs", "retry", "--worker", "Mailer", "--state", "cancelled", "--state", "completed",
        "-y", dsn=dsn,
    )  # fmt: skip
    assert out.stdout == "retried 3 jobs\n", out.stderr
    out = cli("jobs", "delete", "--worker", "Mailer", "--yes", dsn=dsn)
    assert out.stdout == "deleted 3 jobs\n"
    listed = [json.loads(line)["id"] for line in cli("jobs", "--json", dsn=dsn).stdout.splitlines()]
    assert listed == [other]
    for argv in (("cancel",), ("cancel", str(other), "--queue", "reports")):
        usage = cli("jobs", *argv, dsn=dsn)
        assert usage.returncode == 1 and "give a job id" in usage.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("enqueue", "W"),
        ("jobs",),
        ("jobs", "show", "1"),
        ("jobs", "cancel", "--queue", "q", "--yes"),
        ("migrate",),
        ("migrate", "--check"),
        ("demo",),
        ("work", "--queues", "q=1"),
        ("conformance", "--offline", "-k", "enqueue.tags"),
    ],
)
@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://app:s3cret PW@127.0.0.1:5432/db",  # the unescaped space libpq quotes
        "host=127.0.0.1 port=1 user=app password=s3cret PW",
    ],
)
def test_passwords_never_reach_the_terminal(argv: tuple[str, ...], dsn: str) -> None:
    out = cli(*argv, dsn=dsn)
    assert out.returncode == 1, out
    assert "s3cret" not in out.stdout + out.stderr and '"PW"' not in out.stderr
    assert "invalid database DSN" in out.stderr and "Traceback" not in out.stderr
