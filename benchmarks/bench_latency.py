"""Pickup latency: a single insert's commit → its worker starting, on an idle queue.

Run:  .venv/bin/python benchmarks/bench_latency.py [--dsn DSN] [--jobs 200] [--gap-ms 20]
          [--rounds 3] [--obanpy PYTHON]

Each system runs as two processes of its own (``latency_peer.py``): a node serving queue
``bench`` (limit 10, an ``async def`` worker that records when it starts) and an inserter
that commits ``--jobs`` single jobs ``--gap-ms`` apart, recording when each commit
returned. Both read ``CLOCK_MONOTONIC``, so latency = worker start − commit returned,
with no GIL shared between the two sides (the enqueuing service is another process in
real life, too). Also shown: from the ``enqueue`` call (the insert's round trip included).

``--obanpy PYTHON`` (or ``$OBANPY_PYTHON``): an interpreter with PyPI's ``oban``
(oban-py, Python ≥ 3.12) installed; oban-py then runs the same workload on its own schema,
rounds interleaved with this project's, each round on a fresh database. Prints
p50/p90/p99/max per round and over all rounds, checks every job completed, and the load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from _common import DEFAULT_DSN, footer, fresh_database, header, load, verify_completed

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latency_peer.py")
Sample = dict[str, list[float]]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@contextmanager
def database(system: str, admin: str) -> Iterator[str]:
    """Ours is migrated by this project; oban-py installs its own tables at start."""
    with fresh_database(admin, version=14 if system == "bridge" else None) as dsn:
        yield dsn


def verify_obanpy(dsn: str, count: int) -> str:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'completed') FROM oban_jobs"
        ).fetchone()
    assert row is not None and row[0] == row[1] == count, f"oban-py rows: {row}"
    return f"{row[1]}/{count} completed"


def one_round(system: str, python: str, admin: str, jobs: int, gap_ms: float) -> Sample:
    with database(system, admin) as dsn:
        work = subprocess.Popen(
            [python, PEER, system, "work", dsn],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert work.stdout is not None and work.stdin is not None
        ready = work.stdout.readline().strip()
        assert ready == "ready", f"{system} worker did not start: {ready!r}"
        out = subprocess.run(
            [python, PEER, system, "insert", dsn, str(jobs), str(gap_ms)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        sent = {int(k): v for k, v in json.loads(out).items()}
        time.sleep(0.5)  # the last job starts and its ack lands
        work.stdin.write("stop\n")
        work.stdin.flush()
        started = {int(k): v for k, v in json.loads(work.communicate(timeout=60)[0]).items()}
        verify = verify_completed if system == "bridge" else verify_obanpy
        checked = verify(dsn, jobs + 1)
    missing = [i for i in range(jobs) if i not in started]
    assert not missing, f"{system}: {len(missing)} jobs never started: {missing[:10]}"
    print(f"  {system}: {checked} (incl. 1 warm-up job)", flush=True)
    return {
        "commit": [(started[i] - sent[i][1]) / 1e6 for i in range(jobs)],
        "call": [(started[i] - sent[i][0]) / 1e6 for i in range(jobs)],
        "insert": [(sent[i][1] - sent[i][0]) / 1e6 for i in range(jobs)],
    }


def show(label: str, sample: Sample) -> None:
    for key, text in (("commit", "commit returned"), ("call", "enqueue called")):
        ms = sample[key]
        print(
            f"  {label:<22} from {text:<16} p50 {percentile(ms, 50):6.2f}"
            f"   p90 {percentile(ms, 90):6.2f}   p99 {percentile(ms, 99):6.2f}"
            f"   max {max(ms):6.2f}   min {min(ms):6.2f} ms"
        )
    print(f"  {'':<22} enqueue round trip p50 {percentile(sample['insert'], 50):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--obanpy", default=os.environ.get("OBANPY_PYTHON"))
    args = parser.parse_args()
    header(args.dsn)
    systems = {"bridge": sys.executable}
    if args.obanpy:
        systems["obanpy"] = args.obanpy
    else:
        print("oban-py not run: pass --obanpy PYTHON (an interpreter with PyPI's oban)")
    print(f"{args.jobs} jobs per round, one committed enqueue each, {args.gap_ms:g} ms apart")
    totals: dict[str, Sample] = {s: {"commit": [], "call": [], "insert": []} for s in systems}
    for n in range(args.rounds):
        for system, python in systems.items():
            sample = one_round(system, python, args.dsn, args.jobs, args.gap_ms)
            show(f"round {n + 1} {system}", sample)
            print(f"  {'':<22} load {load()}", flush=True)
            for key, values in sample.items():
                totals[system][key].extend(values)
    print(f"all {args.rounds} rounds ({args.rounds * args.jobs} jobs per system):")
    for system, sample in totals.items():
        show(system, sample)
    if "obanpy" in totals:
        ours, theirs = totals["bridge"]["commit"], totals["obanpy"]["commit"]
        print(
            f"  bridge / oban-py: p50 {percentile(ours, 50) / percentile(theirs, 50):.2f}×,"
            f" p99 {percentile(ours, 99) / percentile(theirs, 99):.2f}× (lower is faster)"
        )
    footer()


if __name__ == "__main__":
    main()
