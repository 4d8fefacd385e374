"""Pickup latency: a single insert's commit → its worker starting, on an idle queue.

Run:  .venv/bin/python benchmarks/bench_latency.py [--dsn DSN] [--jobs 200] [--gap-ms 20]

One ``Node`` (queue limit 10, an ``async def`` worker that records ``time.perf_counter()``
when it starts) serves a fresh database. A thread inserts ``--jobs`` jobs ``--gap-ms``
apart, each with its own committed ``Client.enqueue`` on the thread's own connection, and
records ``perf_counter()`` right after ``enqueue`` returned (the commit is done then;
the insert notification goes out at that commit). Same process, same clock: latency =
worker start − commit returned (a lower bound: the loop thread may hear the notification
and start the job before the inserting thread gets the GIL back, hence a negative min).
Also shown: from the ``enqueue`` call (an upper bound, the insert's round trip included).
Prints p50/p90/p99/max in ms, checks every job completed, and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import threading
import time

from _common import (
    DEFAULT_DSN,
    QUEUE,
    footer,
    fresh_database,
    header,
    stop_node,
    verify_completed,
)

from bridge import Client, Job
from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, Worker, worker

BENCH = Registry()
STARTED: dict[int, float] = {}


@worker("bench.Latency", queue=QUEUE, registry=BENCH)
async def record_start(job: Job) -> None:
    STARTED[job.args["i"]] = time.perf_counter()


LATENCY: Worker = record_start  # type: ignore[assignment]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def enqueue_all(dsn: str, count: int, gap: float, sent: dict[int, tuple[float, float]]) -> None:
    with Client(dsn) as client:
        client.enqueue(LATENCY.name, {"i": -1}, queue=QUEUE)  # warm-up: connect, schema check
        time.sleep(0.2)
        t0 = time.perf_counter()
        for i in range(count):
            before = time.perf_counter()
            client.enqueue(LATENCY.name, {"i": i}, queue=QUEUE)
            sent[i] = (before, time.perf_counter())
            pause = t0 + (i + 1) * gap - time.perf_counter()
            if pause > 0:
                time.sleep(pause)


async def measure(dsn: str, count: int, gap: float) -> dict[int, tuple[float, float]]:
    node = Node(dsn, queues={QUEUE: 10}, workers=[LATENCY], node="bench-latency")
    await node.start()
    await asyncio.sleep(0.5)  # listener up, first (empty) fetch done: an idle queue
    sent: dict[int, tuple[float, float]] = {}
    thread = threading.Thread(target=enqueue_all, args=(dsn, count, gap, sent))
    thread.start()
    deadline = time.perf_counter() + count * gap + 30
    while (thread.is_alive() or node.acker.landed < count + 1) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    thread.join()
    await stop_node(node)
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    args = parser.parse_args()
    header(args.dsn)
    with fresh_database(args.dsn) as dsn:
        sent = asyncio.run(measure(dsn, args.jobs, args.gap_ms / 1000))
        checked = verify_completed(dsn, args.jobs + 1)
    missing = [i for i in range(args.jobs) if i not in STARTED]
    assert not missing, f"{len(missing)} jobs never started: {missing[:10]}"
    print(f"{args.jobs} jobs, one committed Client.enqueue each, {args.gap_ms:g} ms apart")
    for label, pick in (("commit returned", 1), ("enqueue called", 0)):
        ms = [(STARTED[i] - sent[i][pick]) * 1000 for i in range(args.jobs)]
        print(
            f"  from {label:<16} p50 {percentile(ms, 50):6.2f} ms   "
            f"p90 {percentile(ms, 90):6.2f} ms"
            f"   p99 {percentile(ms, 99):6.2f} ms   max {max(ms):6.2f} ms   min {min(ms):6.2f} ms"
        )
    inserts = [(sent[i][1] - sent[i][0]) * 1000 for i in range(args.jobs)]
    print(f"  enqueue round trip p50 {percentile(inserts, 50):.2f} ms, max {max(inserts):.2f} ms")
    print(f"verified: {checked} (incl. 1 warm-up job)")
    footer()


if __name__ == "__main__":
    main()
