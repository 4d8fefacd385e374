"""Starting, killing and watching node subprocesses for the fault tier."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "fault_node.py"
MONITOR_APP = "fault-monitor"  # application_name of the tests' own connections
MARKER_APP = "fault-marker"  # application_name of the workers' marker connections
RUNS_DDL = """\
CREATE TABLE IF NOT EXISTS fault_runs (
  job_id bigint NOT NULL, attempt int NOT NULL, node text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp())"""


class NodeProcess:
    """One ``fault_node.py`` subprocess; stderr goes to ``<logs>/<name>.log``."""

    def __init__(self, dsn: str, name: str, queues: str, logs: Path, *options: str):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, str(RUNNER), "--dsn", dsn, "--queues", queues, "--node", name,
             *options],
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=HERE,
        )  # fmt: skip
        self.ready = self._read_ready(timeout=60)
        self.start_time = time.perf_counter() - started

    def _read_ready(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise AssertionError(f"node {self.name} did not start:\n{self.log_tail()}")
            readable, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.5))
            if readable:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buffer += chunk
        ready: dict[str, Any] = json.loads(buffer.split(b"\n", 1)[0])
        return ready

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """kill -9."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def terminate(self, timeout: float) -> tuple[int | None, float]:
        """SIGTERM; returns (exit code or None if still running after ``timeout``, seconds)."""
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.perf_counter() - started

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def scalar(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    found = conn.execute(sql, params).fetchone()
    assert found is not None
    return found[0]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.perf_counter() - started


def states(conn: psycopg.Connection[Any], queue: str | None = None) -> dict[str, int]:
    rows = conn.execute(
        "SELECT state::text, count(*) FROM oban_jobs WHERE %s::text IS NULL OR queue = %s "
        "GROUP BY state",
        (queue, queue),
    ).fetchall()
    return {state: count for state, count in rows}


def executing_by(conn: psycopg.Connection[Any], node: str) -> int:
    value: int = scalar(
        conn,
        "SELECT count(*) FROM oban_jobs WHERE state = 'executing' AND attempted_by[1] = %s",
        (node,),
    )
    return value


def run_invariants(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Every attempt ran at most once; the attempt that completed a job ran exactly once."""
    duplicates = conn.execute(
        "SELECT job_id, attempt, count(*) FROM fault_runs GROUP BY job_id, attempt "
        "HAVING count(*) > 1"
    ).fetchall()
    assert duplicates == [], f"attempts that ran twice: {duplicates[:10]}"
    unmarked = conn.execute(
        "SELECT j.id, j.attempt FROM oban_jobs j WHERE j.state = 'completed' AND NOT EXISTS "
        "(SELECT 1 FROM fault_runs r WHERE r.job_id = j.id AND r.attempt = j.attempt)"
    ).fetchall()
    assert unmarked == [], f"completed without a run of their last attempt: {unmarked[:10]}"
    beyond = conn.execute(
        "SELECT r.job_id, r.attempt, j.attempt FROM fault_runs r JOIN oban_jobs j "
        "ON j.id = r.job_id WHERE r.attempt > j.attempt"
    ).fetchall()
    assert beyond == [], f"runs of attempts the row never reached: {beyond[:10]}"
    counts = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE attempt > 1), "
        "(SELECT count(*) FROM fault_runs), "
        "(SELECT count(*) FROM fault_runs r JOIN oban_jobs j ON j.id = r.job_id "
        " WHERE r.attempt < j.attempt) FROM oban_jobs"
    ).fetchone()
    assert counts is not None
    jobs, retried, runs, superseded = counts
    return {"jobs": jobs, "retried": retried, "runs": runs, "superseded_runs": superseded}
