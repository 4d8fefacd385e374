"""Idle cost: 20 idle nodes × 3 queues on one database — statements per second and the
server's CPU while nothing is enqueued.

Run:  .venv/bin/python benchmarks/bench_idle.py [--dsn DSN] [--nodes 20] [--queues 3]
          [--seconds 60] [--settle 5] [--no-log]

Each node is its own process (``python -c``: a ``Node`` with default settings — stager,
rescuer, peer election, 60 s safety poll — and one ``async def`` worker per queue; its
pool is ``--pool-size`` connections, default 2, because 20 nodes with the node's own pool
of 4 plus a listener each would take all of a default ``max_connections = 100``). Once
all have started and ``--settle`` seconds passed, the window opens for ``--seconds``.
Statements are counted, as available, by:

* ``pg_stat_statements`` (only when ``shared_preload_libraries`` has it);
* the server log: ``ALTER DATABASE … SET log_statement = 'all'`` on the benchmark's own
  database before the nodes connect, then the lines its sessions logged in the window
  (needs a superuser and a readable log file, e.g. Debian's
  /var/log/postgresql/postgresql-<v>-main.log; ``--no-log`` skips it);
* ``pg_stat_database`` ``xact_commit + xact_rollback`` deltas (transactions; backends
  report them up to ~10 s late when idle, so short windows are rough).

CPU: utime+stime from /proc of every ``postgres`` process (and of the benchmark
database's backends alone), and of the node processes. Goal: < 1 statement/s per node.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from _common import DEFAULT_DSN, cpu_seconds, footer, fresh_database, header
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

NODE = r"""
import asyncio, signal, sys
from psycopg_pool import AsyncConnectionPool
from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, worker

dsn, name, queues, pool_size = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
registry = Registry()


async def noop(job):
    return None


workers = [worker(f"bench.Idle_{q}", queue=q, registry=registry)(noop) for q in queues]


async def main():
    source = dsn
    if pool_size:
        source = AsyncConnectionPool(
            dsn, min_size=pool_size, max_size=pool_size, kwargs={"autocommit": True}, open=False
        )
        await source.open()
    node = Node(source, queues={q: 10 for q in queues}, workers=workers, node=name)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await node.start()
    print("ready", flush=True)
    await stop.wait()
    await node.stop(grace_period=1)


asyncio.run(main())
"""

LOG_CANDIDATES = ("/var/log/postgresql/postgresql-{major}-main.log",)


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every process named ``postgres``, by pid."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm == "postgres":
                found[int(entry.name)] = cpu_seconds(entry.name)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float], only: set[int] | None) -> float:
    """CPU used in between: per pid, new processes in full (exited ones are lost)."""
    total = 0.0
    for pid, seconds in after.items():
        if only is None or pid in only:
            total += seconds - before.get(pid, 0.0)
    return total


def xacts(admin: psycopg.Connection[tuple[object, ...]], db: str) -> int:
    admin.execute("SELECT pg_stat_clear_snapshot()")
    row = admin.execute(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (db,)
    ).fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


def server_log(admin: psycopg.Connection[tuple[object, ...]]) -> Path | None:
    row = admin.execute(
        "SELECT pg_current_logfile(), current_setting('data_directory'), "
        "current_setting('server_version_num')::int / 10000"
    ).fetchone()
    assert row is not None
    current, data_dir, major = row
    paths = [Path(str(data_dir)) / str(current)] if current else []
    paths += [Path(p.format(major=major)) for p in LOG_CANDIDATES]
    for path in paths:
        if path.is_file() and os.access(path, os.R_OK):
            return path
    return None


STATEMENT = re.compile(r"\[(\d+)\] \S*@(\S+) LOG:  (?:statement|execute [^:]*): (.*)")


def count_logged(path: Path, offset: int, db: str) -> tuple[int, collections.Counter[str]]:
    kinds: collections.Counter[str] = collections.Counter()
    with path.open("rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    total = 0
    for line in text.splitlines():
        match = STATEMENT.search(line)
        if match and match.group(2) == db:
            total += 1
            kinds[" ".join(match.group(3).split())[:70]] += 1
    return total, kinds


def stat_statements(admin_dsn: str, dsn: str) -> bool:
    with psycopg.connect(admin_dsn) as conn:
        row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    if row is None or "pg_stat_statements" not in str(row[0]):
        return False
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def statements_calls(dsn: str, reset: bool) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if reset:
            conn.execute("SELECT pg_stat_statements_reset()")
            return 0
        row = conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND s.query NOT LIKE '%%pg_stat_statements%%'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--queues", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--no-log", action="store_true", help="don't count via the server log")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=2,
        help="connections in each node's pool (0: the node's own pool of 4; 20 nodes x "
        "(4 + 1 listener) = 100 = a default max_connections)",
    )
    args = parser.parse_args()
    header(args.dsn)
    queues = ",".join(f"idle_{i}" for i in range(1, args.queues + 1))
    with fresh_database(args.dsn) as dsn, psycopg.connect(args.dsn, autocommit=True) as admin:
        db = str(conninfo_to_dict(dsn)["dbname"])
        log = None if args.no_log else server_log(admin)
        if log is not None:
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET log_statement = 'all'").format(sql.Identifier(db))
            )
        pgss = stat_statements(args.dsn, dsn)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", NODE, dsn, f"idle-{i}", queues, str(args.pool_size)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(1, args.nodes + 1)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                assert line.strip() == "ready", f"node {proc.pid} did not start: {line!r}"
            print(
                f"{args.nodes} idle nodes × {args.queues} queues started; settling "
                f"{args.settle:g} s, then measuring {args.seconds:g} s",
                flush=True,
            )
            time.sleep(args.settle)

            offset = log.stat().st_size if log is not None else 0
            if pgss:
                statements_calls(dsn, reset=True)
            x0, pg0 = xacts(admin, db), postgres_cpu()
            node0 = {p.pid: cpu_seconds(p.pid) for p in procs}
            t0 = time.perf_counter()
            time.sleep(args.seconds)
            elapsed = time.perf_counter() - t0
            x1, pg1 = xacts(admin, db), postgres_cpu()
            node1 = {p.pid: cpu_seconds(p.pid) for p in procs}
            calls = statements_calls(dsn, reset=False) if pgss else None
            logged = count_logged(log, offset, db) if log is not None else None
            backends = {
                int(r[0])  # type: ignore[call-overload]
                for r in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (db,)
                ).fetchall()
            }
        finally:
            for proc in procs:
                proc.terminate()
            hung = 0
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:  # see _common.stop_node
                    hung += 1
                    proc.kill()
                    proc.wait()
            if hung:
                print(f"  WARNING: {hung} node(s) did not stop within 20 s (killed)")
            if log is not None:
                admin.execute(
                    sql.SQL("ALTER DATABASE {} RESET log_statement").format(sql.Identifier(db))
                )

    n = args.nodes
    print(
        f"window {elapsed:.1f} s, {n} nodes (pool {args.pool_size or 'default'}), "
        f"{len(backends)} backends on the database"
    )
    per = f"{n * elapsed:.0f} node-seconds"
    if calls is not None:
        print(
            f"  pg_stat_statements: {calls} calls = {calls / elapsed:.2f}/s, "
            f"{calls / n / elapsed:.3f}/s per node (goal < 1)"
        )
    if logged is not None:
        total, kinds = logged
        print(
            f"  statements (server log): {total} = {total / elapsed:.2f}/s, "
            f"{total / n / elapsed:.3f}/s per node (goal < 1; {per})"
        )
        for text, k in kinds.most_common(8):
            print(f"    {k:>5}  {k / elapsed:6.2f}/s  {text}")
    elif calls is None:
        print("  statements: no pg_stat_statements and no readable server log")
    tx = x1 - x0
    print(
        f"  transactions (pg_stat_database): {tx} = {tx / elapsed:.2f}/s, "
        f"{tx / n / elapsed:.3f}/s per node"
    )
    server = cpu_delta(pg0, pg1, None)
    mine = cpu_delta(pg0, pg1, backends)
    print(
        f"  postgres CPU: all processes {server:.2f} s = {server / elapsed:.1%} of a core "
        f"(whole server, noisy); this database's backends {mine:.3f} s = "
        f"{mine / elapsed:.2%} of a core"
    )
    nodes = sum(node1[p] - node0[p] for p in node0)
    print(
        f"  node processes CPU: {nodes:.2f} s = {nodes / elapsed:.1%} of a core, "
        f"{nodes / n / elapsed * 1000:.1f} ms/s per node"
    )
    footer()


if __name__ == "__main__":
    main()
