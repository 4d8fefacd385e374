"""Runtime throughput: 100k no-op jobs in one queue, worked by one node, side by side.

Run:  .venv/bin/python benchmarks/bench_runtime.py [--dsn DSN] [--jobs 100000] [--reps 3]
          [--limits 50 1000] [--harness DIR] [--no-thread] [--profile FILE]

With a live Elixir Oban (``source /opt/oban-live/env-2.23.1.sh`` sets
``OBAN_BRIDGE_HARNESS`` and puts ``mix`` on PATH, or pass ``--harness``), each repetition
runs, every one on a fresh database (CREATE DATABASE + ``migrate``) with the jobs inserted
first while nothing listens (``Client.insert_all``, then ``ANALYZE``: see
``_common.insert_noop_jobs``):

* ``bare``: PostgreSQL's own claim+ack ceiling — two psycopg connections; one claims
  batches of 1,000 with the fetch statement's shape (``bridge/ops/acks.py``), the other
  completes what was handed over with one batched UPDATE per round;
* ``python@L``: one ``Node`` (queue limit L) with an ``async def`` no-op worker, timed
  from ``Node.start()`` until the acker has landed every job;
* ``thread@L`` (secondary): the same with a plain ``def`` worker (thread pool);
* ``elixir@L``: Oban 2.23.1 on the harness (``bench`` command, BridgeHarness.NoopWorker,
  no plugins, no stager), timed inside Elixir from the queue's start to the last ack.

Afterwards every row must be ``completed`` with attempt 1, completed_at set and no errors.
Prints each run, the medians, python/elixir at each limit (target ≥ 3×) and
python/bare (target ≥ 40 %), the versions and the machine's load. ``--profile FILE`` adds
one cProfile'd python run at the highest limit and prints its top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import io
import os
import pstats
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from _common import (
    DEFAULT_DSN,
    QUEUE,
    cpu_seconds,
    footer,
    fresh_database,
    header,
    insert_noop_jobs,
    median,
    stop_node,
    verify_completed,
)

from bridge import Job
from bridge.conformance.harness import Harness
from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, Worker, worker

ELIXIR_WORKER = "BridgeHarness.NoopWorker"
BENCH = Registry()  # private: nothing else in the process is registered here


@worker("bench.AsyncNoop", queue=QUEUE, registry=BENCH)
async def async_noop(job: Job) -> None:
    return None


@worker("bench.ThreadNoop", queue=QUEUE, registry=BENCH)
def thread_noop(job: Job) -> None:
    return None


ASYNC: Worker = async_noop  # type: ignore[assignment]
THREAD: Worker = thread_noop  # type: ignore[assignment]


@dataclass
class Run:
    kind: str
    limit: int
    seconds: float
    cpu: float | None = None  # this process's CPU seconds (python runs)
    note: str = ""


# -- python ---------------------------------------------------------------------------------


async def _work(dsn: str, spec: Worker, limit: int, count: int, timeout: float) -> Run:
    node = Node(
        dsn,
        queues={QUEUE: limit},
        workers=[spec],
        node="bench-python",
        stage=False,  # nothing is scheduled; the harness runs Oban without a stager too
        rescue=False,
        grace_period=30,
    )
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    await node.start()
    started = time.perf_counter() - t0
    deadline = t0 + timeout
    acker = node.acker
    while acker.landed + acker.skipped < count:
        await asyncio.sleep(0.005)
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{acker.landed}/{count} acks landed after {timeout:.0f} s")
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    await stop_node(node)
    fetched = sum(p.fetched for p in node.producers.values())
    note = f"start() {started * 1000:.0f} ms, fetched {fetched}"
    if acker.skipped or acker.failures:
        note += f", ack skipped {acker.skipped}, ack failures {acker.failures}"
    return Run("python" if spec is ASYNC else "thread", limit, elapsed, cpu, note)


def python_run(dsn: str, spec: Worker, limit: int, count: int, timeout: float) -> Run:
    return asyncio.run(_work(dsn, spec, limit, count, timeout))


# -- bare PostgreSQL --------------------------------------------------------------------------

# the shape of bridge/ops/acks.py _FETCH (lib/oban/engines/basic.ex fetch_jobs/3)
BARE_FETCH = """\
WITH "subset" AS (
  SELECT so0."id" AS "id" FROM public.oban_jobs AS so0
  WHERE (so0."state" = 'available') AND (so0."queue" = %s) AND (so0."worker" = ANY(%s::text[]))
  ORDER BY so0."priority", so0."scheduled_at", so0."id"
  LIMIT %s FOR UPDATE SKIP LOCKED)
UPDATE public.oban_jobs AS o0
SET "state" = 'executing', "attempted_at" = %s, "attempted_by" = %s::text[],
    "attempt" = o0."attempt" + 1
FROM "subset" AS f1
WHERE (o0."id" = f1."id") AND (o0."attempt" < o0."max_attempts")
RETURNING o0.*"""

# the shape of bridge/ops/acks.py _COMPLETE
BARE_COMPLETE = """\
UPDATE public.oban_jobs AS o0 SET "state" = 'completed', "completed_at" = a.at
FROM unnest(%s::bigint[], %s::timestamp[], %s::timestamp[]) AS a(id, attempted_at, at)
WHERE o0."id" = a.id AND o0."state" = 'executing' AND o0."attempted_at" = a.attempted_at
RETURNING o0."id\""""


def _utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def bare_run(dsn: str, worker_name: str, count: int, batch: int = 1000) -> Run:
    handed: queue.Queue[list[tuple[int, datetime]] | None] = queue.Queue()
    errors: list[BaseException] = []
    rounds = [0, 0]

    def claim() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while True:
                    now = _utc()
                    rows = conn.execute(
                        BARE_FETCH, (QUEUE, [worker_name], batch, now, ["bare", "claimer"])
                    ).fetchall()
                    rounds[0] += 1
                    if rows:
                        handed.put([(r[0], now) for r in rows])  # id (first column), attempted_at
                    if len(rows) < batch:
                        return
        except BaseException as exc:
            errors.append(exc)
        finally:
            handed.put(None)

    def ack() -> None:
        done = 0
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                finished = False
                while not finished:
                    items: list[tuple[int, datetime]] = []
                    got = handed.get()
                    while True:
                        if got is None:
                            finished = True
                        else:
                            items.extend(got)
                        try:
                            got = handed.get_nowait()
                        except queue.Empty:
                            break
                    if items:
                        now = _utc()
                        landed = conn.execute(
                            BARE_COMPLETE,
                            ([i for i, _ in items], [a for _, a in items], [now] * len(items)),
                        ).fetchall()
                        rounds[1] += 1
                        done += len(landed)
        except BaseException as exc:
            errors.append(exc)
        assert errors or done == count, (done, count)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=claim), threading.Thread(target=ack)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return Run("bare", 0, elapsed, note=f"{rounds[0]} claims, {rounds[1]} ack statements")


# -- elixir -----------------------------------------------------------------------------------


def elixir_run(harness: Path, dsn: str, limit: int, count: int, timeout: float) -> Run:
    with Harness(harness, dsn) as h:
        h.call("start", queues={}, stager=False, node="bench-elixir")
        result: dict[str, Any] = h.call(
            "bench",
            timeout=timeout + 30,
            queue=QUEUE,
            limit=limit,
            count=count,
            timeout_ms=int(timeout * 1000),
        )
        versions = f"Oban {h.oban_version}, Elixir {h.elixir_version}, OTP {h.otp_version}"
    assert result["finished"] == count and result["exceptions"] == 0, result
    mix_env = os.environ.get("BRIDGE_HARNESS_MIX_ENV", "dev")
    note = f"{versions}, MIX_ENV={mix_env}, Repo pool_size {result['pool_size']}"
    return Run("elixir", limit, result["elapsed_ms"] / 1000, note=note)


# -- driver -----------------------------------------------------------------------------------


def one(admin: str, label: str, worker_name: str, count: int, go: Callable[[str], Run]) -> Run:
    with fresh_database(admin) as dsn:
        insert_noop_jobs(dsn, worker_name, count)
        gc.collect()
        run = go(dsn)
        checked = verify_completed(dsn, count)
    cpu = f", python CPU {run.cpu / count * 1e6:.0f} µs/job" if run.cpu is not None else ""
    print(
        f"  {label:<14} {count / run.seconds:>9,.0f} jobs/s  {run.seconds * 1000:>8,.0f} ms"
        f"{cpu}  [{run.note}]  verified: {checked}",
        flush=True,
    )
    return run


def profile_run(admin: str, count: int, limit: int, out: str) -> None:
    with fresh_database(admin) as dsn:
        insert_noop_jobs(dsn, ASYNC.name, count)
        gc.collect()
        profiler = cProfile.Profile()
        profiler.enable()
        run = python_run(dsn, ASYNC, limit, count, 900)
        profiler.disable()
        verify_completed(dsn, count)
    profiler.dump_stats(out)
    print(
        f"\nprofile (cProfile, python@{limit}): {count / run.seconds:,.0f} jobs/s under the "
        f"profiler; stats in {out}"
    )
    for key in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(key).print_stats(30)
        body = text.getvalue()
        print(f"--- top 30 by {key} ---")
        print(body[body.find("   ncalls") :].rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--limits", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--harness", default=os.environ.get("OBAN_BRIDGE_HARNESS"))
    parser.add_argument("--no-thread", action="store_true", help="skip the thread-pool runs")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare PostgreSQL runs")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--profile", metavar="FILE", help="add a cProfile'd python run")
    parser.add_argument(
        "--mix-env",
        default="prod",
        help="Mix env the Elixir harness is built and run in (default prod, as deployed)",
    )
    args = parser.parse_args()
    harness = Path(args.harness) if args.harness else None
    count = args.jobs
    os.environ["BRIDGE_HARNESS_MIX_ENV"] = args.mix_env  # read by conformance.harness

    header(args.dsn)
    print(
        f"{count:,} no-op jobs in queue {QUEUE!r}, limits {args.limits}, {args.reps} reps, "
        f"elixir: {harness or 'not configured (--harness or OBAN_BRIDGE_HARNESS)'}",
        flush=True,
    )
    runs: list[Run] = []
    for rep in range(1, args.reps + 1):
        print(f"rep {rep}:", flush=True)
        if not args.no_bare:
            bare = functools.partial(bare_run, worker_name=ASYNC.name, count=count)
            runs.append(one(args.dsn, "bare", ASYNC.name, count, bare))
        for limit in args.limits:
            py = functools.partial(
                python_run, spec=ASYNC, limit=limit, count=count, timeout=args.timeout
            )
            runs.append(one(args.dsn, f"python@{limit}", ASYNC.name, count, py))
            if not args.no_thread:
                th = functools.partial(
                    python_run, spec=THREAD, limit=limit, count=count, timeout=args.timeout
                )
                runs.append(one(args.dsn, f"thread@{limit}", THREAD.name, count, th))
            if harness is not None:
                ex = functools.partial(
                    elixir_run, harness, limit=limit, count=count, timeout=args.timeout
                )
                runs.append(one(args.dsn, f"elixir@{limit}", ELIXIR_WORKER, count, ex))

    def rate(kind: str, limit: int = 0) -> float:
        return median([count / r.seconds for r in runs if r.kind == kind and r.limit == limit])

    print(f"\nmedians of {args.reps} (jobs/s):")
    bare = rate("bare") if not args.no_bare else float("nan")
    if not args.no_bare:
        print(f"  bare PostgreSQL claim+ack   {bare:>9,.0f}")
    for limit in args.limits:
        py = rate("python", limit)
        line = f"  limit {limit:<5} python {py:>9,.0f}"
        if not args.no_thread:
            line += f"   thread {rate('thread', limit):>9,.0f}"
        if harness is not None:
            ex = rate("elixir", limit)
            line += f"   elixir {ex:>9,.0f}   python/elixir {py / ex:5.2f}x (target ≥ 3x)"
        if not args.no_bare:
            line += f"   python/bare {py / bare:6.1%} (target ≥ 40 %)"
        print(line)
    footer()
    if args.profile:
        profile_run(args.dsn, count, max(args.limits), args.profile)


if __name__ == "__main__":
    main()
