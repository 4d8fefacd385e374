"""The listener path under fire, in a running node on real PostgreSQL: 10,000 fuzzed payloads on
each channel the node LISTENs on leave it running and obeying, and a listener whose backend is
terminated is back and obeying a pause within 5 s. Times and counts are printed (``pytest -s``).

The node runs in this process (its notifier's counters are the evidence); the payloads go
through real ``pg_notify`` from another connection.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import string
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest

from bridge.runtime.node import Node
from bridge.runtime.notifier import LISTENED
from bridge.runtime.worker import Registry, worker
from bridge.wire.job import Job
from bridge.wire.notify import encode_legacy

pytestmark = [pytest.mark.faults, pytest.mark.pg]

QUEUE = "fuzzed"
NODE = "fuzz-node"
REGISTRY = Registry()
AConn = psycopg.AsyncConnection[Any]


@worker("Fault.Fuzzed", queue=QUEUE, registry=REGISTRY)
async def fuzzed(job: Job) -> None:
    return None


@asynccontextmanager
async def serving(dsn: str) -> AsyncIterator[Node]:
    node = Node(dsn, queues={QUEUE: 5}, workers=[fuzzed], node=NODE, grace_period=2)
    await node.start()
    try:
        yield node
    finally:
        await asyncio.wait_for(node.stop(), timeout=60)


async def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def signal(conn: AConn, message: dict[str, Any]) -> None:
    await conn.execute("SELECT pg_notify('public.oban_signal', %s)", (json.dumps(message),))


async def job_state(conn: AConn, job_id: int) -> str:
    cur = await conn.execute("SELECT state::text FROM oban_jobs WHERE id = %s", (job_id,))
    found = await cur.fetchone()
    assert found is not None
    return str(found[0])


async def insert(conn: AConn) -> int:
    cur = await conn.execute(
        "INSERT INTO oban_jobs (worker, queue, args) VALUES ('Fault.Fuzzed', %s, '{}') "
        "RETURNING id",
        (QUEUE,),
    )
    found = await cur.fetchone()
    assert found is not None
    await conn.execute(
        "SELECT pg_notify('public.oban_insert', %s)", (json.dumps({"queue": QUEUE}),)
    )
    return int(found[0])


async def completes(conn: AConn, job_id: int, timeout: float = 10) -> None:
    deadline = time.perf_counter() + timeout
    while await job_state(conn, job_id) != "completed":
        assert time.perf_counter() < deadline, f"job {job_id} not completed in {timeout}s"
        await asyncio.sleep(0.02)


# --- the fuzzer -----------------------------------------------------------------------------------


ACTIONS = ("pause", "resume", "scale", "start", "stop", "pkill", "PAUSE", "", "explode")


class Fuzzer:
    """Seeded payloads: garbage text, odd JSON, Oban's messages with mutated keys and values,
    and all of it in the three encodings, well-formed or broken."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def payload(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.10:
            text = self.text(rng.randint(0, 300))
        elif kind < 0.13:
            text = self.text(rng.randint(7000, 7990), ascii_only=True)  # near PostgreSQL's cap
        elif kind < 0.30:
            text = json.dumps(self.value(3))
        else:
            text = json.dumps(self.message(), ensure_ascii=rng.random() < 0.5)
        payload = self.wrap(text)
        # PostgreSQL refuses 8000 bytes or more: cut there (a cut payload is garbage too)
        return payload.encode()[:7999].decode(errors="ignore")

    def wrap(self, text: str) -> str:
        rng = self.rng
        form = rng.random()
        if form < 0.6:
            return text
        data = text.encode()
        gz = base64.b64encode(_gzip(data)).decode()
        if form < 0.70:
            return "Z:" + gz
        if form < 0.78:
            return gz  # legacy, starts H4sI
        if form < 0.84:  # a broken base64 or gzip body
            cut = rng.randint(0, max(len(gz) - 1, 0))
            return rng.choice(["Z:", ""]) + gz[:cut] + rng.choice(["", "!", "====", "AAAA"])
        if form < 0.88:  # valid base64 of something that is not gzip
            return rng.choice(["Z:", "H4sI"]) + base64.b64encode(data[:3000]).decode()
        if form < 0.91:  # a gzip bomb: 2 MiB of zeros
            return BOMB
        if form < 0.95:  # gzip of bytes that are not UTF-8
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
            return "Z:" + base64.b64encode(_gzip(raw)).decode()
        return "Z:" + gz + "\n"

    def message(self) -> dict[str, Any]:
        rng = self.rng
        pick = rng.choice
        message: dict[str, Any] = {}
        shape = rng.random()
        if shape < 0.6:  # a signal
            message["action"] = pick([*ACTIONS, self.value(1)])
            options: dict[str, list[Any]] = {
                "queue": [QUEUE, "*", "other", "", None, 5, [QUEUE], {"q": 1}, self.text(9)],
                "limit": [1, 3, 5, 0, -1, "ten", "5", 2.5, True, None, 2**64, [], {}],
                "paused": [True, False, "true", 1, None],
                "job_id": [1, 7, -1, "7", 2.0, None, 2**70, [1]],
                "ident": ["any", f"Oban.{NODE}", "Oban.other", NODE, 5, None, ""],
                "local_only": [True, "yes"],
                "node": [NODE, 7],
            }
            for key, values in options.items():
                if rng.random() < 0.6:
                    message[key] = pick(values)
        elif shape < 0.75:
            message["queue"] = pick([QUEUE, "other", 5, None, [], self.text(20)])
        elif shape < 0.87:
            message["node"] = pick(["elixir-1", NODE, "", 5, None, [], self.text(30)])
            message["ping"] = pick([True, False, "yes"])
            if rng.random() < 0.3:
                message["time"] = pick([0, -(2**60), "now", 1.5])
        else:
            message["down"] = pick(["Oban", "Bridge-other", 5, None, self.text(10)])
        for _ in range(rng.randint(0, 3)):
            message[self.text(rng.randint(0, 12))] = self.value(2)
        return message

    def value(self, depth: int) -> Any:
        rng = self.rng
        kind = rng.randint(0, 7 if depth > 0 else 5)
        if kind == 0:
            return None
        if kind == 1:
            return rng.random() < 0.5
        if kind == 2:
            return rng.randint(-(2**70), 2**70)
        if kind == 3:
            return rng.uniform(-1e300, 1e300)
        if kind in (4, 5):
            return self.text(rng.randint(0, 30))
        if kind == 6:
            return [self.value(depth - 1) for _ in range(rng.randint(0, 4))]
        return {
            self.text(rng.randint(0, 8)): self.value(depth - 1) for _ in range(rng.randint(0, 4))
        }

    def text(self, size: int, ascii_only: bool = False) -> str:
        if ascii_only or self.rng.random() < 0.5:
            alphabet = string.printable
            return "".join(self.rng.choice(alphabet) for _ in range(size))
        # any code point but NUL (text cannot hold it) and lone surrogates (not UTF-8)
        out = []
        while len(out) < size:
            point = self.rng.randint(1, 0x10FFFF)
            if not 0xD800 <= point <= 0xDFFF:
                out.append(chr(point))
        return "".join(out)


def _gzip(data: bytes) -> bytes:
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    return deflate.compress(data) + deflate.flush()


BOMB = "Z:" + base64.b64encode(_gzip(b"0" * (2 << 20))).decode()


def test_fuzzer_payloads_fit_a_notify() -> None:
    fuzzer = Fuzzer(1)
    sizes = [len(fuzzer.payload().encode()) for _ in range(2_000)]
    assert max(sizes) < 8000 and min(sizes) >= 0


# --- the tests ------------------------------------------------------------------------------------

PER_CHANNEL = 10_000
BATCH = 500


def test_ten_thousand_fuzzed_payloads_per_channel_crash_nothing(fault_dsn: str) -> None:
    fuzzer = Fuzzer(20261201)
    batches = [
        (f"public.oban_{channel}", [fuzzer.payload() for _ in range(BATCH)])
        for channel in LISTENED
        for _ in range(PER_CHANNEL // BATCH)
    ]

    async def body() -> dict[str, Any]:
        conn = await psycopg.AsyncConnection.connect(fault_dsn, autocommit=True)
        async with conn, serving(fault_dsn) as node:
            started = time.perf_counter()
            base = node.notifier.received
            sent = 0
            for channel, payloads in batches:
                # one statement per batch, one transaction: identical payloads fold into one
                await conn.execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (channel, payloads)
                )
                sent += len(set(payloads))
            await settled(lambda: node.notifier.received - base >= sent, node, 120)
            took = time.perf_counter() - started
            alive = [t.get_name() for t in node._tasks if t.done()]
            assert alive == [], f"node tasks ended: {alive}"
            assert node.listener.reconnects == 0 and node.listener.up.is_set()
            # whatever the fuzz paused, scaled or stopped: put the queue back, then prove it
            # runs, then that a final pause is still obeyed
            await signal(conn, {"action": "start", "queue": QUEUE, "limit": 5})
            await signal(conn, {"action": "resume", "queue": "*"})
            await signal(conn, {"action": "scale", "queue": QUEUE, "limit": 5, "paused": False})
            await wait_until(lambda: _running(node), 10, "the queue to run again")
            await completes(conn, await insert(conn))
            sent_at = time.perf_counter()
            await signal(conn, {"action": "pause", "queue": QUEUE, "ident": f"Oban.{NODE}"})
            await wait_until(lambda: node.producers[QUEUE].paused, 5, "the final pause")
            obeyed = time.perf_counter() - sent_at
            held = await insert(conn)
            await asyncio.sleep(1.0)
            assert await job_state(conn, held) == "available"
            return {
                "sent": sent,
                "received": node.notifier.received - base,
                "rejected": node.notifier.rejected,
                "took": took,
                "obeyed": obeyed,
                "queues": sorted(node.producers),
                "sonar nodes": len(node.sonar.nodes()),
            }

    result = asyncio.run(body())
    print(
        f"\nfuzz: {result['sent']} distinct payloads on {len(LISTENED)} channels "
        f"({', '.join(LISTENED)}) in {result['took']:.1f}s; {result['rejected']} rejected "
        f"(logged and counted), 0 crashes, 0 reconnects; final pause obeyed in "
        f"{result['obeyed'] * 1000:.0f} ms; queues after: {result['queues']}; "
        f"sonar heard {result['sonar nodes']} node names"
    )
    lost = max(0, result["sent"] - result["received"])
    print(f"fuzz: {lost} payloads never delivered to the notifier")
    assert lost == 0  # every payload PostgreSQL delivered reached the notifier
    assert result["rejected"] > result["sent"] // 4


async def settled(done: Callable[[], bool], node: Node, timeout: float) -> None:
    """Until ``done()``, or until the node has heard nothing new for 2 s."""
    deadline, last, quiet = time.perf_counter() + timeout, -1, 0.0
    while not done() and quiet < 2.0:
        assert time.perf_counter() < deadline, "the listener kept hearing for too long"
        await asyncio.sleep(0.1)
        quiet = quiet + 0.1 if node.notifier.received == last else 0.0
        last = node.notifier.received


def _running(node: Node) -> bool:
    producer = node.producers.get(QUEUE)
    return producer is not None and not producer.paused and producer.limit == 5


async def terminations(dsn: str, rounds: int) -> list[float]:
    """Terminate the listener's backend ``rounds`` times; each time, pause every 100 ms (an
    operator in Oban Web) until the node obeys; the seconds from the cut to the pause."""
    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    async with conn, serving(dsn) as node:
        producer, listener = node.producers[QUEUE], node.listener
        times = []
        for round_ in range(rounds):
            assert not producer.paused
            cut = time.perf_counter()
            await conn.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
            while not producer.paused:
                await signal(conn, {"action": "pause", "queue": QUEUE, "ident": "any"})
                await asyncio.sleep(0.1)
                assert time.perf_counter() - cut < 30, "never obeyed"
            times.append(time.perf_counter() - cut)
            assert listener.reconnects == round_ + 1
            await signal(conn, {"action": "resume", "queue": QUEUE, "ident": "any"})
            await wait_until(lambda: not producer.paused, 5, "the resume")
            await completes(conn, await insert(conn))
        return times


def test_a_terminated_listener_is_back_and_obeying_a_pause_within_5_seconds(
    fault_dsn: str,
) -> None:
    times = asyncio.run(terminations(fault_dsn, 3))
    print(
        "\nlistener backend terminated → pause obeyed again after "
        + ", ".join(f"{t * 1000:.0f} ms" for t in times)
    )
    assert max(times) < 5.0


# Each cut used to double the reconnect delay for the node's lifetime (it was reset only
# when a session ended cleanly, which a listening session never does): from the 6th cut on a
# node was deaf for 5 s or more. A session that reached LISTEN now resets it.
def test_the_seventh_terminated_listener_is_still_back_within_5_seconds(fault_dsn: str) -> None:
    times = asyncio.run(terminations(fault_dsn, 7))
    print("\n7 cuts → pause obeyed after " + ", ".join(f"{t * 1000:.0f} ms" for t in times))
    assert max(times) < 5.0


# The listener used to leave its ``async for note in conn.notifies(…)`` loop as soon as a
# lock change was pending (a queue started or stopped by a signal), dropping the notifications
# psycopg had already read in the same packet. It now lets the packet finish (stop_after=1).
def test_a_signal_in_the_same_transaction_as_a_start_is_obeyed(fault_dsn: str) -> None:
    async def body() -> int:
        conn = await psycopg.AsyncConnection.connect(fault_dsn, autocommit=True)
        async with conn, serving(fault_dsn) as node:
            start = {"action": "start", "queue": "beta", "limit": 1}
            scale = {"action": "scale", "queue": QUEUE, "limit": 2}
            await conn.execute(
                "SELECT pg_notify('public.oban_signal', p) FROM unnest(%s::text[]) AS p",
                ([json.dumps(start), json.dumps(scale)],),
            )
            await wait_until(lambda: "beta" in node.producers, 5, "the start")
            await asyncio.sleep(1.5)
            return node.producers[QUEUE].limit

    assert asyncio.run(body()) == 2


def test_legacy_and_z_pauses_are_obeyed_like_plain_ones(fault_dsn: str) -> None:
    async def body() -> None:
        conn = await psycopg.AsyncConnection.connect(fault_dsn, autocommit=True)
        async with conn, serving(fault_dsn) as node:
            producer = node.producers[QUEUE]
            for paused in (True, False, True):
                message = {"action": "pause" if paused else "resume", "queue": QUEUE}
                legacy = encode_legacy(message)
                payload = legacy if not paused else "Z:" + legacy
                await conn.execute("SELECT pg_notify('public.oban_signal', %s)", (payload,))
                await wait_until(lambda: producer.paused is paused, 5, f"paused={paused}")  # noqa: B023
            assert node.notifier.rejected == 0

    asyncio.run(body())
