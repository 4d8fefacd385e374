"""Nodes as real processes, hurt: kill -9 mid-batch, connections terminated, SIGTERM with jobs
running, and a dead node's jobs rescued next to a live node's long job.

Every job records ``(job_id, attempt, node)`` in ``fault_runs`` as it finishes (see
``fault_workers.py``); ``fault_support.run_invariants`` then checks that no attempt ran twice and
that the attempt which completed a job ran exactly once. Durations are printed (``pytest -s``);
only the ones the runtime promises (rescue within 60 s, exit within the grace period) are
asserted, with slack for a busy machine.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fault_support import (
    MARKER_APP,
    MONITOR_APP,
    NodeProcess,
    executing_by,
    run_invariants,
    scalar,
    states,
    wait_for,
)

from bridge import Client, Job

pytestmark = [pytest.mark.faults, pytest.mark.pg]
Connection = psycopg.Connection[Any]

#: pool and listener connections of the nodes: every client backend but ours and the markers
_NODE_BACKENDS = (
    "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
    f"AND application_name NOT IN ('{MONITOR_APP}', '{MARKER_APP}')"
)


def sleeps(worker: str, queue: str, ms: list[int]) -> list[Any]:
    return [Job.new(worker, {"ms": m}, queue=queue, max_attempts=50) for m in ms]


# --- (a) kill -9 mid-batch, 20 times -------------------------------------------------------------


def test_kill_9_mid_batch_loses_nothing_and_runs_each_attempt_once(
    fault_dsn: str, conn: Connection, client: Client, tmp_path: Path
) -> None:
    rounds, per_round = 20, 25
    rng = random.Random(20261201)
    fast = ("--rescue-interval", "0.5")
    node = NodeProcess(fault_dsn, "kill-0", "faults=10", tmp_path, *fast)
    starts, rescues, orphaned = [node.start_time], [], []
    started = time.perf_counter()
    try:
        for round_ in range(rounds):
            ms = [rng.randint(20, 200) for _ in range(per_round)]
            client.insert_all(sleeps("Fault.Sleep", "faults", ms))
            victim = node
            wait_for(lambda: executing_by(conn, victim.name) >= 2, 60, "jobs executing")  # noqa: B023
            time.sleep(rng.uniform(0.0, 0.15))  # somewhere in the middle of the batch
            victim.kill()
            orphaned.append(executing_by(conn, victim.name))
            node = NodeProcess(fault_dsn, f"kill-{round_ + 1}", "faults=10", tmp_path, *fast)
            starts.append(node.start_time)
            rescues.append(
                wait_for(
                    lambda: executing_by(conn, victim.name) == 0,  # noqa: B023
                    60,
                    f"the jobs of {victim.name} to be rescued",
                )
            )
        total = rounds * per_round
        drained = wait_for(
            lambda: states(conn) == {"completed": total}, 180, "every job to complete"
        )
        code, stopped = node.terminate(timeout=60)
        assert code == 0, node.log_tail()
    finally:
        node.kill()
    counts = run_invariants(conn)
    print(
        f"\n(a) {rounds} kill -9 rounds in {time.perf_counter() - started:.1f}s: "
        f"{sum(orphaned)} jobs orphaned ({orphaned}), rescued in "
        f"{min(rescues):.2f}–{max(rescues):.2f}s after the next node started; node start "
        f"{min(starts):.2f}–{max(starts):.2f}s; drained {drained:.2f}s; SIGTERM exit "
        f"{stopped:.2f}s; {counts}"
    )
    assert counts["jobs"] == total
    assert sum(orphaned) > 0 and counts["retried"] > 0  # the kills really hit running jobs


# --- (b) pool (and listener) connections terminated mid-run --------------------------------------


def test_terminated_connections_reconnect_and_finish_every_job(
    fault_dsn: str, conn: Connection, client: Client, tmp_path: Path
) -> None:
    total = 600
    rng = random.Random(7)
    node = NodeProcess(fault_dsn, "cut-0", "faults=10", tmp_path)
    try:
        client.insert_all(
            sleeps("Fault.Sleep", "faults", [rng.randint(30, 90) for _ in range(total)])
        )
        cut: list[int] = []
        for round_ in range(4):
            wait_for(lambda: executing_by(conn, node.name) >= 3, 60, "jobs executing")
            # rounds 0–2: the pool's connections only; round 3: the listener's as well
            pool_only = "" if round_ == 3 else " AND query NOT LIKE 'LISTEN%'"
            pool_only += "" if round_ == 3 else " AND query NOT LIKE '%pg_try_advisory_lock%'"
            cut.append(
                scalar(
                    conn,
                    f"SELECT count(pg_terminate_backend(pid)) FROM ({_NODE_BACKENDS}{pool_only}) s",
                )
            )
            time.sleep(0.4)
        assert all(n > 0 for n in cut), cut
        drained = wait_for(
            lambda: states(conn) == {"completed": total}, 180, "every job to complete"
        )
        assert node.proc.poll() is None, "the node died:\n" + node.log_tail()
        code, stopped = node.terminate(timeout=60)
        assert code == 0, node.log_tail()
        log = node.log_path.read_text(errors="replace")
        assert "listener connection lost" in log  # round 3 cut the listener too
    finally:
        node.kill()
    counts = run_invariants(conn)
    print(
        f"\n(b) backends terminated per round {cut}; all {total} jobs completed "
        f"{drained:.2f}s after the last cut; SIGTERM exit {stopped:.2f}s; {counts}"
    )
    assert counts["jobs"] == total and counts["runs"] >= total


# --- (c) SIGTERM with jobs running ---------------------------------------------------------------


def test_sigterm_exits_0_within_grace_and_leaves_nothing_executing(
    fault_dsn: str, conn: Connection, client: Client, tmp_path: Path
) -> None:
    grace = 5.0
    node = NodeProcess(fault_dsn, "term-0", "faults=20", tmp_path, "--grace", str(grace))
    try:
        # short jobs end within the grace period, long ones outlast it
        short = client.insert_all(sleeps("Fault.AsyncSleep", "faults", [2000] * 8))
        threads = client.insert_all(sleeps("Fault.Sleep", "faults", [1500] * 4))
        long = client.insert_all(sleeps("Fault.AsyncSleep", "faults", [60_000] * 3))
        wait_for(lambda: executing_by(conn, node.name) == 15, 60, "all 15 jobs executing")
        code, took = node.terminate(timeout=grace + 30)
        assert code == 0, node.log_tail()
    finally:
        node.kill()
    print(f"\n(c) SIGTERM → exit 0 in {took:.2f}s (grace {grace}s)")
    assert took < grace + 10
    rows = {
        r[0]: r[1:]
        for r in conn.execute("SELECT id, state::text, attempt, errors FROM oban_jobs").fetchall()
    }
    assert "executing" not in {state for state, _, _ in rows.values()}
    for job in short + threads:
        assert rows[job.id][0] == "completed"
    for job in long:
        state, attempt, errors = rows[job.id]
        assert (state, attempt) == ("available", 1)  # handed back, its attempt spent
        assert len(errors) == 1 and errors[0]["error"].startswith(
            f"** (bridge.Shutdown) node {node.name} stopped before the job finished"
        )
    run_invariants(conn)


def test_sigterm_exits_within_grace_even_with_a_thread_job_running(
    fault_dsn: str, conn: Connection, client: Client, tmp_path: Path
) -> None:
    grace = 2.0
    node = NodeProcess(fault_dsn, "term-1", "faults=5", tmp_path, "--grace", str(grace))
    try:
        client.insert_all(sleeps("Fault.Sleep", "faults", [40_000]))
        wait_for(lambda: executing_by(conn, node.name) == 1, 60, "the job executing")
        code, took = node.terminate(timeout=grace + 10)
        print(f"\n(c') SIGTERM with a 40 s thread job: exit {code} after {took:.2f}s")
    finally:
        node.kill()
    assert code == 0
    assert states(conn) == {"available": 1}  # handed back at the end of the grace period


# --- (d) a dead node's jobs come back; a live node's long job is never rescued -------------------


def test_dead_nodes_jobs_are_rescued_but_a_live_long_job_is_not(
    fault_dsn: str, conn: Connection, client: Client, tmp_path: Path
) -> None:
    # the live node rescues with the default interval (15 s: back within two, ≤ 30 s)
    live = NodeProcess(fault_dsn, "live-0", "long=1", tmp_path, "--grace", "1")
    doomed = NodeProcess(fault_dsn, "doomed-0", "orphan=5", tmp_path)
    try:
        (long_job,) = client.insert_all(sleeps("Fault.Long", "long", [120_000]))
        orphans = client.insert_all(sleeps("Fault.Orphan", "orphan", [120_000] * 3))
        wait_for(lambda: executing_by(conn, "live-0") == 1, 60, "the long job executing")
        wait_for(lambda: executing_by(conn, "doomed-0") == 3, 60, "the doomed jobs executing")
        snapshot = "SELECT state::text, attempt, attempted_at, attempted_by FROM oban_jobs "
        long_before = conn.execute(snapshot + "WHERE id = %s", (long_job.id,)).fetchone()
        doomed.kill()
        killed = time.perf_counter()
        seen: list[Any] = []

        def rescued() -> bool:
            seen.append(conn.execute(snapshot + "WHERE id = %s", (long_job.id,)).fetchone())
            return states(conn, "orphan") == {"available": 3}

        took = wait_for(rescued, 60, "the dead node's jobs to be available again")
        # keep watching the live job across more rescue rounds
        while time.perf_counter() - killed < took + 16:
            seen.append(conn.execute(snapshot + "WHERE id = %s", (long_job.id,)).fetchone())
            time.sleep(0.5)
        code, _ = live.terminate(timeout=30)
        assert code == 0, live.log_tail()
    finally:
        live.kill()
        doomed.kill()
    print(
        f"\n(d) the killed node's 3 jobs available again {took:.2f}s after kill -9; the live "
        f"node's long job watched {len(seen)} times over {time.perf_counter() - killed:.1f}s"
    )
    assert took <= 60
    assert long_before is not None and long_before[:2] == ("executing", 1)
    assert all(row == long_before for row in seen), "the live node's job was touched"
    rows = conn.execute(
        "SELECT state::text, attempt, errors FROM oban_jobs WHERE queue = 'orphan'"
    ).fetchall()
    # Lifeline's columns: available again, the spent attempt kept, no error appended
    assert rows == [("available", 1, [])] * len(orphans)
