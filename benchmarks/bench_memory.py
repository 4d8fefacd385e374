"""Memory: a node's RSS over 1,000,000 jobs, printed every 100k.

Run:  .venv/bin/python benchmarks/bench_memory.py [--dsn DSN] [--jobs 1000000]
          [--step 100000] [--limit 1000]

The jobs (no-op, one queue) are inserted up front by a child process (``Client.insert_all``
in chunks of 100k, then ``ANALYZE``), so building them never touches this process's heap. Then one
``Node`` with an ``async def`` no-op worker works them; at every ``--step`` acks landed,
this process's VmRSS (``/proc/self/status``) is printed. Growth from the first step to
the end: target < 10 %. Afterwards every row must be completed (attempt 1, no errors).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time

from _common import (
    DEFAULT_DSN,
    QUEUE,
    footer,
    fresh_database,
    header,
    insert_noop_jobs,
    rss_kib,
    stop_node,
    verify_completed,
)

from bridge import Job
from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, Worker, worker

BENCH = Registry()


@worker("bench.MemoryNoop", queue=QUEUE, registry=BENCH)
async def noop(job: Job) -> None:
    return None


NOOP: Worker = noop  # type: ignore[assignment]


def _insert(dsn: str, count: int) -> None:  # in a child process
    insert_noop_jobs(dsn, NOOP.name, count)


async def work(dsn: str, count: int, step: int, limit: int) -> list[tuple[int, int, float]]:
    node = Node(dsn, queues={QUEUE: limit}, workers=[NOOP], node="bench-memory", rescue=False)
    print(f"  RSS before Node()          {rss_kib() / 1024:8.1f} MiB", flush=True)
    t0 = time.perf_counter()
    await node.start()
    print(f"  RSS after start()          {rss_kib() / 1024:8.1f} MiB", flush=True)
    marks: list[tuple[int, int, float]] = []
    mark = step
    acker = node.acker
    while mark <= count:
        await asyncio.sleep(0.01)
        if acker.landed >= mark:
            done, rss, elapsed = acker.landed, rss_kib(), time.perf_counter() - t0
            marks.append((done, rss, elapsed))
            print(
                f"  {done:>9,} jobs  RSS {rss / 1024:8.1f} MiB  "
                f"({done / elapsed:,.0f} jobs/s so far)",
                flush=True,
            )
            mark += step
    await stop_node(node)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--step", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    header(args.dsn)
    with fresh_database(args.dsn) as dsn:
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=_insert, args=(dsn, args.jobs))
        child.start()
        child.join()
        assert child.exitcode == 0, f"the insert process failed ({child.exitcode})"
        print(
            f"inserted {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s "
            f"(child process); node limit {args.limit}",
            flush=True,
        )
        marks = asyncio.run(work(dsn, args.jobs, args.step, args.limit))
        checked = verify_completed(dsn, args.jobs)
    first, last = marks[0], marks[-1]
    growth = (last[1] - first[1]) / first[1]
    print(
        f"RSS growth {first[0]:,} → {last[0]:,} jobs: {first[1] / 1024:.1f} → "
        f"{last[1] / 1024:.1f} MiB = {growth:+.1%} (target < 10 %)"
    )
    print(f"verified: {checked}")
    footer()


if __name__ == "__main__":
    main()
