"""A node obeying signals on real PostgreSQL, as Elixir's producers and midwife do: pause, resume,
scale, start and stop queue, scoped by ``ident`` (``"any"``, ``"<instance>.<node>"``), by queue
(``"*"``) and by prefix; bad values are counted, never obeyed; a pause outlives a reconnect.
Also sonar (pings heard both ways) and gossip (check-ins in oban_met's shape).

Signals are sent with raw ``pg_notify``, in Elixir's recorded shapes, so these tests do not
depend on the sending side.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest
from runtime_support import (
    QUEUE,
    connect,
    outcome,
    row,
    run,
    serving,
    wait_state,
    wait_until,
)

from bridge import AsyncClient
from bridge.names import PRODUCER_LOCK_CLASS
from bridge.pg.migrations import migrate
from bridge.runtime.node import Node
from bridge.runtime.worker import Registry, worker
from bridge.wire.job import Job
from bridge.wire.notify import decode_payload

pytestmark = pytest.mark.pg

BETA = "beta"
REGISTRY = Registry()


@worker("BridgeTest.Beta", queue=BETA, registry=REGISTRY)
async def beta(job: Job) -> None:
    await asyncio.sleep(job.args.get("seconds", 0))


WORKERS = [outcome, beta]
Conn = psycopg.AsyncConnection[Any]


async def notify(conn: Conn, message: dict[str, Any], channel: str = "public.oban_signal") -> None:
    await conn.execute("SELECT pg_notify(%s, %s)", (channel, json.dumps(message)))


def ident(node: Node) -> str:
    return node.ident  # "Oban.pytest-<pid>": what Oban.pause_queue(node: …) targets


async def enqueue(client: AsyncClient, queue: str = QUEUE, **args: Any) -> int:
    worker_name = "BridgeTest.Beta" if queue == BETA else "BridgeTest.Outcome"
    job = await client.enqueue(worker_name, args or {"mode": "ok"}, queue=queue)
    assert job.id is not None
    return job.id


async def stays_available(conn: Conn, job_id: int, seconds: float = 1.0) -> bool:
    await asyncio.sleep(seconds)
    return (await row(conn, job_id))["state"] == "available"


async def marker(conn: Conn, node: Node, limit: int, queue: str = QUEUE) -> None:
    """Scale ``queue`` to ``limit`` and wait for it: every signal sent before is handled."""
    await notify(conn, {"action": "scale", "ident": "any", "limit": limit, "queue": queue})
    producer = node.producers[queue]
    await wait_until(lambda: producer.limit == limit, 5, f"the marker scale to {limit}")


# --- pause, resume, scale ------------------------------------------------------------------------


def test_pause_stops_fetching_resume_restarts_and_scale_changes_the_limit(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client, serving(dsn, WORKERS) as node:
            producer = node.producers[QUEUE]
            await notify(conn, {"action": "pause", "ident": "any", "queue": QUEUE})
            await wait_until(lambda: producer.paused, 5, "the pause")
            job = await enqueue(client)
            assert await stays_available(conn, job)
            await notify(conn, {"action": "resume", "ident": "any", "queue": QUEUE})
            assert (await wait_state(conn, job, timeout=5))["state"] == "completed"
            await notify(conn, {"action": "scale", "ident": "any", "limit": 2, "queue": QUEUE})
            await wait_until(lambda: producer.limit == 2, 5, "the scale")
            jobs = [await enqueue(client, mode="sleep", seconds=0.6) for _ in range(5)]
            peak = 0
            while True:
                cur = await conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'executing'), "
                    "count(*) FILTER (WHERE state = 'completed') FROM oban_jobs WHERE id = ANY(%s)",
                    (jobs,),
                )
                executing, completed = await cur.fetchone() or (0, 0)
                peak = max(peak, executing)
                if completed == len(jobs):
                    break
                await asyncio.sleep(0.05)
            assert peak == 2, f"at most {peak} executing at once"
            assert node.notifier.rejected == 0

    run(body())


def test_a_scale_may_pause_and_ignores_keys_it_has_no_use_for(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, serving(dsn, WORKERS) as node:
            producer = node.producers[QUEUE]
            message = {"action": "scale", "queue": QUEUE, "limit": 3, "paused": True}
            await notify(conn, {**message, "ident": "any", "local_only": True, "node": "x"})
            await wait_until(lambda: producer.paused and producer.limit == 3, 5, "the scale")
            assert node.name == producer.attempted_by[0]  # not 2.18.3's meta.node overwrite

    run(body())


def test_bad_values_are_counted_and_change_nothing(dsn: str) -> None:
    bad: list[dict[str, Any]] = [
        {"action": "scale", "queue": QUEUE, "limit": "ten"},
        {"action": "scale", "queue": QUEUE, "limit": -4},
        {"action": "scale", "queue": QUEUE, "limit": 0},
        {"action": "scale", "limit": 3},
        {"action": "pause"},
        {"action": "pause", "queue": 7},
        {"action": "start", "queue": "gamma"},
        {"action": "start", "queue": "gamma", "limit": "2"},
        {"action": "pkill", "job_id": "1"},
        {"action": "self-destruct", "queue": QUEUE},
    ]

    async def body() -> None:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client, serving(dsn, WORKERS) as node:
            for message in bad:
                await notify(conn, {**message, "ident": "any"})
            await marker(conn, node, 4)
            assert node.notifier.rejected == len(bad)
            producer = node.producers[QUEUE]
            assert (producer.paused, sorted(node.producers)) == (False, [QUEUE])
            job = await enqueue(client)
            assert (await wait_state(conn, job, timeout=5))["state"] == "completed"

    run(body())


# --- start and stop ------------------------------------------------------------------------------


def test_start_queue_starts_a_producer_for_this_nodes_workers(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client, serving(dsn, WORKERS) as node:
            await notify(conn, {"action": "start", "ident": "any", "limit": 1, "queue": BETA})
            await wait_until(lambda: BETA in node.producers, 5, "the start")
            producer = node.producers[BETA]
            assert producer.limit == 1 and not producer.paused
            assert producer.check("Oban", producer.started_at).workers == ("BridgeTest.Beta",)
            job = await enqueue(client, BETA)
            done = await wait_state(conn, job, timeout=5)
            assert done["state"] == "completed"
            assert done["attempted_by"] == [node.name, producer.uuid]
            # a start for a queue already running here is left alone (midwife.ex)
            await notify(conn, {"action": "start", "ident": "any", "limit": 9, "queue": BETA})
            await notify(conn, {"action": "start", "ident": "any", "limit": 2, "queue": "gamma"})
            await wait_until(lambda: "gamma" in node.producers, 5, "the second start")
            assert node.producers[BETA] is producer and producer.limit == 1
            assert node.producers["gamma"].workers == {}  # started; there is nothing to fetch

    run(body())


def test_start_queue_paused_and_stop_queue_lets_running_jobs_finish(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client, serving(dsn, WORKERS) as node:
            message = {"action": "start", "ident": "any", "queue": BETA}
            await notify(conn, {**message, "limit": 2, "paused": True})
            await wait_until(lambda: BETA in node.producers, 5, "the start")
            producer = node.producers[BETA]
            waiting = await enqueue(client, BETA)
            assert producer.paused and await stays_available(conn, waiting, 0.5)
            await notify(conn, {"action": "resume", "ident": "any", "queue": BETA})
            await wait_state(conn, waiting, ("completed",), timeout=5)
            long = await enqueue(client, BETA, seconds=1.0)
            await wait_state(conn, long, ("executing",), timeout=5)
            await notify(conn, {"action": "stop", "ident": "any", "queue": BETA})
            await wait_until(lambda: BETA not in node.producers, 5, "the stop")
            assert producer.check("Oban", producer.started_at).paused  # shutting down
            assert (await row(conn, long))["state"] == "executing"
            objid = int(producer.uuid[:8], 16)
            assert await _lock_held(conn, objid)  # kept while its job runs: never rescued
            assert (await wait_state(conn, long, timeout=5))["state"] == "completed"
            await wait_until(lambda: not node.midwife.draining, 5, "the drain")
            await wait_until(lambda: _lock_free(conn, objid), 5, "the lock to be let go")
            after = await enqueue(client, BETA)
            assert await stays_available(conn, after, 0.5)
            # stopping a queue that does not run here is nothing (midwife.ex {:error, :not_found})
            await notify(conn, {"action": "stop", "ident": "any", "queue": "nowhere"})
            await notify(conn, {"action": "start", "ident": "any", "queue": BETA, "limit": 1})
            assert (await wait_state(conn, after, timeout=5))["state"] == "completed"
            assert node.notifier.rejected == 0

    run(body())


async def _lock_held(conn: Conn, objid: int) -> bool:
    cur = await conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND classid = %s AND objid = %s AND objsubid = 2",
        (PRODUCER_LOCK_CLASS, objid),
    )
    found = await cur.fetchone()
    return bool(found and found[0])


async def _lock_free(conn: Conn, objid: int) -> bool:
    return not await _lock_held(conn, objid)


# --- scope ---------------------------------------------------------------------------------------


def test_ident_scopes_a_signal_to_this_node_or_any(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, serving(dsn, WORKERS, queues={QUEUE: 5, BETA: 5}) as node:
            alpha, other = node.producers[QUEUE], node.producers[BETA]
            elsewhere = [
                {"action": "pause", "queue": QUEUE, "ident": "Oban.other-node"},
                {"action": "pause", "queue": QUEUE, "ident": f"MyApp.Oban.{node.name}"},
                {"action": "pause", "queue": QUEUE, "ident": node.name},
                {"action": "scale", "queue": QUEUE, "limit": 1, "ident": "Oban.other-node"},
            ]
            for message in elsewhere:
                await notify(conn, message)
            await marker(conn, node, 4)
            assert not alpha.paused
            await notify(conn, {"action": "pause", "queue": QUEUE, "ident": ident(node)})
            await wait_until(lambda: alpha.paused, 5, "the pause for this node")
            assert not other.paused
            await notify(conn, {"action": "pause", "queue": "*"})  # no ident: every node
            await wait_until(lambda: other.paused, 5, "pause all")
            await notify(conn, {"action": "resume", "queue": "*", "ident": "any"})
            await wait_until(lambda: not (alpha.paused or other.paused), 5, "resume all")
            await notify(conn, {"action": "scale", "queue": "*", "limit": 1, "ident": "any"})
            await notify(conn, {"action": "stop", "queue": "*", "ident": "any"})
            await marker(conn, node, 3, BETA)
            assert (alpha.limit, len(node.producers)) == (4, 2)  # "*" pauses and resumes only
            assert node.notifier.rejected == 0

    run(body())


def test_a_named_instance_answers_to_its_own_ident(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, serving(dsn, WORKERS, instance="MyApp.Oban") as node:
            producer = node.producers[QUEUE]
            await notify(conn, {"action": "pause", "queue": QUEUE, "ident": f"Oban.{node.name}"})
            await notify(
                conn, {"action": "scale", "queue": QUEUE, "limit": 2, "ident": ident(node)}
            )
            await wait_until(lambda: producer.limit == 2, 5, "the scale for this instance")
            assert not producer.paused
            await notify(conn, {"action": "pause", "queue": QUEUE, "ident": ident(node)})
            await wait_until(lambda: producer.paused, 5, "the pause")
            assert ident(node) == f"MyApp.Oban.{node.name}"

    run(body())


def test_a_prefixed_node_listens_only_on_its_prefixs_channels(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as setup:
        migrate(setup, prefix="tenant_a", version=14)

    async def body() -> None:
        conn = await connect(dsn)
        async with conn, serving(dsn, WORKERS, prefix="tenant_a") as node:
            producer = node.producers[QUEUE]
            await notify(conn, {"action": "pause", "queue": QUEUE, "ident": "any"})
            await notify(conn, {"node": "public-node", "ping": True}, "public.oban_sonar")
            await notify(
                conn, {"action": "scale", "queue": QUEUE, "limit": 2}, "tenant_a.oban_signal"
            )
            await wait_until(lambda: producer.limit == 2, 5, "the tenant_a scale")
            assert not producer.paused and "public-node" not in node.sonar.nodes()
            await notify(conn, {"action": "pause", "queue": QUEUE}, "tenant_a.oban_signal")
            await wait_until(lambda: producer.paused, 5, "the tenant_a pause")

    run(body())


# --- reconnects ----------------------------------------------------------------------------------


def test_a_paused_queue_stays_paused_across_a_listener_reconnect(dsn: str) -> None:
    async def body() -> None:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client, serving(dsn, WORKERS) as node:
            producer, listener = node.producers[QUEUE], node.listener
            await notify(conn, {"action": "pause", "ident": "any", "queue": QUEUE})
            await wait_until(lambda: producer.paused, 5, "the pause")
            await conn.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
            await wait_until(lambda: listener.reconnects == 1 and listener.up.is_set(), 10, "up")
            job = await enqueue(client)
            assert await stays_available(conn, job, 1.5)  # the deaf-time polls fetched nothing
            assert producer.paused and node.producers[QUEUE] is producer
            await notify(conn, {"action": "resume", "ident": "any", "queue": QUEUE})
            assert (await wait_state(conn, job, timeout=5))["state"] == "completed"

    run(body())


# --- sonar and gossip ----------------------------------------------------------------------------


async def listen(dsn: str, channel: str) -> Conn:
    conn = await connect(dsn)
    await conn.execute(f'LISTEN "public.oban_{channel}"')
    return conn


async def next_payload(conn: Conn, timeout: float) -> dict[str, Any]:
    async for note in conn.notifies(timeout=timeout):
        return decode_payload(note.payload)
    raise AssertionError(f"nothing heard within {timeout}s")


def test_sonar_pings_and_hears_other_nodes(dsn: str) -> None:
    async def body() -> None:
        ear = await listen(dsn, "sonar")
        async with ear, serving(dsn, WORKERS) as node:
            ping = await next_payload(ear, 5)
            assert ping == {"node": node.name, "ping": True}  # no "time"
            await wait_until(lambda: node.name in node.sonar.nodes(), 5, "its own ping")
            assert node.sonar.status() == "solitary"
            await notify(ear, {"node": "vec-elixir-1", "ping": True}, "public.oban_sonar")
            await notify(ear, {"node": "liar", "ping": True, "time": 10**12}, "public.oban_sonar")
            await wait_until(lambda: "liar" in node.sonar.nodes(), 5, "the other nodes")
            heard_at = node.sonar.nodes()
            assert heard_at["liar"] <= heard_at["vec-elixir-1"] + 5  # our clock, not "time"
            assert node.sonar.status() == "clustered"
            await notify(ear, {"ping": True}, "public.oban_sonar")
            await wait_until(lambda: node.notifier.rejected == 1, 5, "a ping without a node")

    run(body())


def test_gossip_checks_in_every_queue_in_oban_mets_shape(dsn: str) -> None:
    async def body() -> None:
        ear = await listen(dsn, "gossip")
        conn = await connect(dsn)
        async with (
            ear,
            conn,
            AsyncClient(dsn) as client,
            serving(dsn, WORKERS, queues={QUEUE: 5, BETA: 3}, gossip_interval=0.2) as node,
        ):
            job = await enqueue(client, BETA, seconds=1.5)
            await wait_state(conn, job, ("executing",), timeout=5)
            await notify(conn, {"action": "pause", "ident": "any", "queue": QUEUE})
            await wait_until(lambda: node.producers[QUEUE].paused, 5, "the pause")
            while True:  # the first check-in after both
                checks = {c["queue"]: c for c in (await next_payload(ear, 5))["checks"]}
                if checks[QUEUE]["paused"] and checks[BETA]["running"]:
                    break
            alpha, beta_check = checks[QUEUE], checks[BETA]
            assert set(checks) == {QUEUE, BETA}
            assert {k: alpha[k] for k in ("node", "name", "queue", "limit", "paused")} == {
                "node": node.name,
                "name": "Oban",
                "queue": QUEUE,
                "limit": 5,
                "paused": True,
            }
            assert alpha["workers"] == ["BridgeTest.Outcome"]
            assert beta_check["workers"] == ["BridgeTest.Beta"]
            assert beta_check["running"] == [job] and beta_check["limit"] == 3
            assert beta_check["uuid"] == node.producers[BETA].uuid
            assert beta_check["uuid"].endswith("627269646765")
            assert beta_check["refresh_interval"] == 60_000
            assert beta_check["shutdown_started_at"] is None
            assert node.gossip.sent >= 1

    run(body())


def test_a_pause_is_gossiped_at_once_not_at_the_next_check_in(dsn: str) -> None:
    async def body() -> float:
        ear = await listen(dsn, "gossip")
        async with ear, serving(dsn, WORKERS) as node:  # the default 5 s interval
            assert not (await next_payload(ear, 5))["checks"][0]["paused"]  # the first check-in
            sent = asyncio.get_running_loop().time()
            await notify(ear, {"action": "pause", "ident": "any", "queue": QUEUE})
            (check,) = (await next_payload(ear, 3))["checks"]
            assert check["paused"] and node.producers[QUEUE].paused
            return asyncio.get_running_loop().time() - sent

    assert run(body()) < 2.0


def test_a_node_without_sonar_or_gossip_sends_neither(dsn: str) -> None:
    async def body() -> None:
        ear = await listen(dsn, "sonar")
        await ear.execute('LISTEN "public.oban_gossip"')
        async with ear, serving(dsn, WORKERS, sonar=False, gossip_interval=None) as node:
            await asyncio.sleep(0.5)
            assert node.sonar.pings == 0 and node.gossip.sent == 0
            heard_any = [n async for n in ear.notifies(timeout=0.3)]
            assert heard_any == []

    run(body())
