"""Bulk insert benchmark: 100k jobs through ``Client.insert_all`` into a fresh V14 database.

Run:  .venv/bin/python benchmarks/bench_insert_all.py [--dsn DSN] [--jobs 100000] [--runs 3]

Prints jobs/s for ``insert_all`` alone (the jobs already built with ``Job.new``) and end to
end (including ``Job.new``'s validation), the best of ``--runs`` fresh-database runs, and the
machine's load. Target (issue 2): ≥ 50,000 jobs/s on the 2-core CI machine; live Elixir Oban
2.23.1's ``Oban.insert_all`` does about 10,000/s there.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import uuid

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bridge import Client, Job
from bridge.pg.migrations import migrate


def fresh_database(admin: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(admin, dbname=name)
    migrate(dsn, version=14)
    return name, dsn


def drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def one_run(admin: str, count: int) -> tuple[float, float]:
    name, dsn = fresh_database(admin)
    try:
        started = time.perf_counter()
        jobs = [
            Job.new(
                "MyApp.Workers.Mailer",
                {"user_id": i, "email": f"user{i}@example.com"},
                queue="mailers",
                tags=["bulk"],
                meta={"batch": 1},
            )
            for i in range(count)
        ]
        built = time.perf_counter()
        with Client(dsn) as client:
            inserted = client.insert_all(jobs)
        done = time.perf_counter()
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT count(*) FROM oban_jobs").fetchone()[0]  # type: ignore[index]
        assert len(inserted) == rows == count, (len(inserted), rows)
        return done - built, done - started
    finally:
        drop(admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("BRIDGE_TEST_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with psycopg.connect(args.dsn) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    print(f"python {platform.python_version()}, PostgreSQL {server}, {os.cpu_count()} CPUs")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = [one_run(args.dsn, args.jobs) for _ in range(args.runs)]
    for i, (insert, total) in enumerate(results, 1):
        print(
            f"run {i}: insert_all {args.jobs / insert:>9,.0f} jobs/s ({insert:.2f} s)   "
            f"incl. Job.new {args.jobs / total:>9,.0f} jobs/s ({total:.2f} s)"
        )
    best_insert = min(r[0] for r in results)
    best_total = min(r[1] for r in results)
    print(
        f"best: insert_all {args.jobs / best_insert:,.0f} jobs/s; "
        f"end to end {args.jobs / best_total:,.0f} jobs/s (target ≥ 50,000)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
