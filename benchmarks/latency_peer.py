"""One side of ``bench_latency.py``, run as its own process: a worker node, or an inserter.

    python latency_peer.py bridge|obanpy work DSN
    python latency_peer.py bridge|obanpy insert DSN COUNT GAP_MS

``work`` starts a node with queue ``bench`` (limit 10) whose worker records the time it
starts, prints ``ready``, and on a ``stop`` line from stdin stops and prints
``{"i": start_ns}`` as JSON. ``insert`` enqueues one warm-up job, then COUNT jobs GAP_MS
apart, each committed on its own, and prints ``{"i": [before_ns, after_ns]}``.

Both sides read ``CLOCK_MONOTONIC``, which all processes of one Linux machine share, so
worker start − commit returned is a true interval with no process sharing a GIL with
another. ``obanpy`` runs PyPI's ``oban`` (oban-py) and needs its interpreter (Python ≥
3.12 with ``oban`` installed); ``bridge`` runs this project. The worker name is the same
``__main__.Latency`` on both sides of one system.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

QUEUE = "bench"
LIMIT = 10
STARTED: dict[int, int] = {}


def now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


async def stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def paced(count: int, gap: float) -> Any:
    """Yield 0..count-1 at ``gap`` seconds apart (from a fixed start, so drift never adds up)."""
    t0 = time.perf_counter()
    for i in range(count):
        yield i
        pause = t0 + (i + 1) * gap - time.perf_counter()
        if pause > 0:
            time.sleep(pause)


# -- this project ------------------------------------------------------------------------


def bridge_work(dsn: str) -> None:
    from bridge import Job, worker
    from bridge.runtime.node import Node
    from bridge.runtime.worker import Registry

    registry = Registry()

    @worker("__main__.Latency", queue=QUEUE, registry=registry)
    async def latency(job: Job) -> None:
        STARTED[job.args["i"]] = now_ns()

    async def main() -> None:
        node = Node(dsn, queues={QUEUE: LIMIT}, workers=[latency], node="latency-bridge")
        await node.start()
        await asyncio.sleep(0.5)  # listener up, first (empty) fetch done: an idle queue
        print("ready", flush=True)
        await stdin_line()
        await node.stop()

    asyncio.run(main())


def bridge_insert(dsn: str, count: int, gap: float) -> dict[int, tuple[int, int]]:
    from bridge import Client

    sent: dict[int, tuple[int, int]] = {}
    with Client(dsn) as client:
        client.enqueue("__main__.Latency", {"i": -1}, queue=QUEUE)  # connect, schema check
        time.sleep(0.2)
        for i in paced(count, gap):
            before = now_ns()
            client.enqueue("__main__.Latency", {"i": i}, queue=QUEUE)
            sent[i] = (before, now_ns())
    return sent


# -- oban-py (PyPI `oban`) ---------------------------------------------------------------


def obanpy_setup() -> Any:
    from oban import worker  # type: ignore[import-not-found]

    class Latency:
        async def process(self, job: Any) -> None:
            STARTED[job.args["i"]] = now_ns()

    # oban-py registers "module.qualname" when decorating: name it as a top-level class
    Latency.__module__, Latency.__qualname__ = "__main__", "Latency"
    return worker(queue=QUEUE)(Latency)


def obanpy_work(dsn: str) -> None:
    from oban import Oban
    from oban.schema import install  # type: ignore[import-not-found]

    obanpy_setup()

    async def main() -> None:
        pool = await Oban.create_pool(dsn)
        await install(pool)
        async with Oban(pool=pool, queues={QUEUE: LIMIT}, node="latency-obanpy"):
            await asyncio.sleep(0.5)
            print("ready", flush=True)
            await stdin_line()
        await pool.close()

    asyncio.run(main())


def obanpy_insert(dsn: str, count: int, gap: float) -> dict[int, tuple[int, int]]:
    from oban import Oban

    latency = obanpy_setup()
    sent: dict[int, tuple[int, int]] = {}

    async def main() -> None:
        pool = await Oban.create_pool(dsn, min_size=1, max_size=1)
        async with Oban(pool=pool):
            await latency.enqueue({"i": -1})
            await asyncio.sleep(0.2)
            t0 = time.perf_counter()
            for i in range(count):
                before = now_ns()
                await latency.enqueue({"i": i})
                sent[i] = (before, now_ns())
                pause = t0 + (i + 1) * gap - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
        await pool.close()

    asyncio.run(main())
    return sent


def main(argv: list[str]) -> None:
    system, mode, dsn = argv[:3]
    if mode == "work":
        {"bridge": bridge_work, "obanpy": obanpy_work}[system](dsn)
        print(json.dumps(STARTED), flush=True)
    else:
        count, gap = int(argv[3]), float(argv[4]) / 1000
        sent = {"bridge": bridge_insert, "obanpy": obanpy_insert}[system](dsn, count, gap)
        print(json.dumps(sent), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
