"""What the runtime benchmarks share: fresh databases, bulk no-op jobs, the correctness
check, and the header/footer lines (versions, machine load).

Imported by the ``bench_*.py`` scripts next to it (``python benchmarks/bench_x.py`` puts
this directory on ``sys.path``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import platform
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bridge import Client, Job
from bridge.pg.migrations import migrate

if TYPE_CHECKING:
    from bridge.runtime.node import Node

DEFAULT_DSN = os.environ.get("BRIDGE_TEST_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
QUEUE = "bench"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def server_version(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    assert row is not None
    return str(row[0])


def header(dsn: str) -> None:
    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"PostgreSQL {server_version(dsn)}, {os.cpu_count()} CPUs, psycopg {psycopg.__version__}"
    )
    print(f"code: {code_state()}")
    print(f"load average before: {load()}", flush=True)


def code_state() -> str:
    """The commit, and a digest of uncommitted changes under bridge/ (what was measured)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "bridge"], cwd=root, capture_output=True
        ).stdout
        untracked = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", "bridge"],
            cwd=root,
            capture_output=True,
        ).stdout
    except OSError:
        return "unknown (no git)"
    if not diff and not untracked:
        return f"{head}, bridge/ clean"
    digest = hashlib.sha1(diff + untracked).hexdigest()[:10]
    return f"{head} + uncommitted bridge/ changes (diff digest {digest})"


def footer() -> None:
    print(f"load average after: {load()}", flush=True)


@contextlib.contextmanager
def fresh_database(admin: str, version: int | None = 14) -> Iterator[str]:
    """A new database migrated to ``version`` by ``bridge.pg.migrations.migrate`` (``None``:
    left empty); dropped after."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        dsn = make_conninfo(admin, dbname=name)
        if version is not None:
            migrate(dsn, version=version)
        yield dsn
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def insert_noop_jobs(dsn: str, worker: str, count: int, *, queue: str = QUEUE) -> float:
    """``count`` jobs with empty args through ``Client.insert_all``, then ``ANALYZE``.

    Without the ANALYZE the planner still believes the table is empty (autovacuum analyzes
    only after its next nap, up to a minute later) and every fetch — Oban's and ours alike —
    becomes a bitmap scan plus a sort of *all* available rows instead of an ordered index
    scan that stops at LIMIT: O(backlog) per fetch. Returns seconds taken.
    """
    started = time.perf_counter()
    with Client(dsn) as client:
        for first in range(0, count, 100_000):
            n = min(100_000, count - first)
            inserted = client.insert_all(Job.new(worker, {}, queue=queue) for _ in range(n))
            assert len(inserted) == n, (len(inserted), n)
            del inserted
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE oban_jobs")
    return time.perf_counter() - started


def verify_completed(dsn: str, count: int) -> str:
    """Every row ``completed`` with attempt 1, completed_at set, no errors (else AssertionError)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """SELECT count(*),
                      count(*) FILTER (WHERE state = 'completed'),
                      count(*) FILTER (WHERE state = 'completed' AND attempt = 1
                                       AND completed_at IS NOT NULL
                                       AND cardinality(errors) = 0)
               FROM oban_jobs"""
        ).fetchone()
    assert row is not None
    total, completed, clean = row
    text = f"{clean}/{count} completed, attempt=1, completed_at set, errors empty"
    assert total == completed == clean == count, f"{text} (rows {total}, completed {completed})"
    return text


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cpu_seconds(pid: int | str = "self") -> float:
    """utime + stime of a process from /proc (seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib() -> int:
    """VmRSS of this process, KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def stop_node(node: Node, grace: float = 5.0) -> str:
    """``node.stop()``, guarded: returns "" or what had to be done (also printed).

    Before 65f67b5 ``Peer.loop`` waited with ``asyncio.wait_for``, which on Python < 3.12
    can swallow a cancellation racing with its inner future (gh-86296); ``Node.stop``
    resigns — the ``{"down": …}`` notification comes back through the node's own listener
    and kicks that very wait — right before cancelling the peer task, so now and then the
    task survived, re-elected itself and ``stop`` waited forever. Should a node task
    survive again, it is cancelled again here and a WARNING says so.
    """
    stopping = asyncio.ensure_future(node.stop(grace_period=grace))
    await asyncio.wait({stopping}, timeout=grace + 10)
    note = ""
    while not stopping.done():
        stuck = [task for task in node._tasks if not task.done()]
        note = f"node.stop() hung on {[t.get_name() for t in stuck]}; cancelled again"
        for task in stuck:
            task.cancel()
        await asyncio.wait({stopping}, timeout=1)
    stopping.result()
    if note:
        print(f"  WARNING: {note}", flush=True)
    return note
