"""Cron on the node: one insert per entry per due minute, whoever leads and however often
leadership moves. Two Python nodes' Cron plugins share one controllable clock that the
test moves across minute boundaries (no sleeping for minutes); their Peers hold real
elections in ``oban_peers``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from runtime_support import QUEUE, connect, outcome, run, wait_until

from bridge.errors import ConfigError
from bridge.pg.source import AsyncSource
from bridge.runtime.cron import Cron, crontab_for
from bridge.runtime.node import Node
from bridge.runtime.plugins import Peer
from bridge.runtime.worker import Registry, worker

pytestmark = pytest.mark.pg

START = datetime(2030, 1, 1, 10, 0, 30)  # naive UTC, as the app clock
CRONTAB = [
    ("* * * * *", "BridgeTest.Cron", {"args": {"n": 1}}),
    ("*/2 * * * *", "BridgeTest.Cron", {"args": {"n": 2}, "queue": "reports"}),
    # 15:35 in Kolkata (UTC+05:30) is 10:05 UTC
    ("35 15 * * *", "BridgeTest.Cron", {"args": {"n": 3}, "timezone": "Asia/Kolkata"}),
]


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _plugin(dsn: str, name: str, clock: Clock) -> Cron:
    source = AsyncSource(dsn, pool_size=2)
    await source.open()
    peer = Peer(source, "Bridge", name)
    return Cron(source, peer, crontab_for(CRONTAB, [], "Etc/UTC"), clock=clock)


async def _handover(old: Cron, new: Cron) -> None:
    await old.peer.resign()
    await new.peer.elect()
    assert new.peer.leader and not old.peer.leader


async def _rows(dsn: str) -> list[tuple[Any, ...]]:
    conn = await connect(dsn)
    async with conn:
        cur = await conn.execute(
            "SELECT (args->>'n')::int, inserted_at, queue, meta FROM oban_jobs ORDER BY id"
        )
        return await cur.fetchall()


def test_leadership_moving_within_minutes_neither_duplicates_nor_misses(dsn: str) -> None:
    clock = Clock(START)

    async def body() -> list[tuple[Any, ...]]:
        a, b = await _plugin(dsn, "py-a", clock), await _plugin(dsn, "py-b", clock)
        await a.peer.elect()
        await b.peer.elect()
        assert a.peer.leader and not b.peer.leader
        for _ in range(8 * 4 + 1):  # 10:00:30 … 10:08:30, every 15 s
            now = clock.now
            if now == datetime(2030, 1, 1, 10, 1, 15):
                await _handover(a, b)  # B leads after A did 10:01: B's look must not redo it
            elif now == datetime(2030, 1, 1, 10, 2, 0):
                await _handover(b, a)  # at the boundary, before either looked
            elif now == datetime(2030, 1, 1, 10, 3, 45):
                await a.peer.resign()  # nobody leads at the 10:04 boundary…
            elif now == datetime(2030, 1, 1, 10, 4, 30):
                await b.peer.elect()  # …and B, elected mid-minute, catches 10:04 up
            elif now == datetime(2030, 1, 1, 10, 5, 0):
                a.peer.leader = True  # both believe they lead (a stale lease), both look
                await asyncio.gather(a.step(), b.step())
                a.peer.leader = False
            elif now in (datetime(2030, 1, 1, 10, 6, 15), datetime(2030, 1, 1, 10, 6, 45)):
                await _handover(b, a) if b.peer.leader else await _handover(a, b)
            await asyncio.gather(a.step(), b.step())
            clock.now += timedelta(seconds=15)
        for plugin in (a, b):
            await plugin.peer.resign()
            await plugin.source.close()
        return await _rows(dsn)

    rows = run(body())
    inserted = Counter((n, at) for n, at, _, _ in rows)
    assert max(inserted.values()) == 1, f"duplicates: {inserted}"
    minutes = [datetime(2030, 1, 1, 10, m) for m in range(9)]
    assert sorted(inserted) == sorted(
        [(1, m) for m in minutes]
        + [(2, m) for m in minutes if m.minute % 2 == 0]
        + [(3, datetime(2030, 1, 1, 10, 5))]
    )
    by_n = {n: (queue, meta) for n, _, queue, meta in rows}
    assert by_n[1] == ("default", {"cron": True, "cron_expr": "* * * * *", "cron_tz": "Etc/UTC"})
    assert by_n[2][0] == "reports"
    assert by_n[3][1]["cron_tz"] == "Asia/Kolkata"


def test_a_follower_inserts_nothing(dsn: str) -> None:
    clock = Clock(START)

    async def body() -> list[tuple[Any, ...]]:
        plugin = await _plugin(dsn, "py-f", clock)
        for _ in range(5):
            await plugin.step()  # never elected: peer.leader stays False
            clock.now += timedelta(seconds=30)
        await plugin.source.close()
        return await _rows(dsn)

    assert run(body()) == []


def test_a_node_inserts_its_crontab_and_its_workers_cron(dsn: str) -> None:
    registry = Registry()

    @worker("BridgeTest.Every", queue=QUEUE, max_attempts=3, cron="* * * * *", registry=registry)
    async def every(job: Any) -> None:
        return None

    async def body() -> list[tuple[Any, ...]]:
        node = Node(
            dsn,
            queues={QUEUE: 1},
            workers=[outcome, every],
            node="py-cron",
            crontab=[("@reboot", "Elixir.Worker", {"queue": "elixir", "args": {"x": 1}})],
        )
        await node.start()
        try:
            cron = node.cron
            assert cron is not None
            await wait_until(lambda: cron.inserted >= 2, 30, "the node's first cron look")
        finally:
            await node.stop(grace_period=1)
        conn = await connect(dsn)
        async with conn:
            cur = await conn.execute(
                "SELECT worker, queue, max_attempts, args, meta->>'cron_expr', inserted_at"
                " FROM oban_jobs ORDER BY worker"
            )
            return await cur.fetchall()

    rows = run(body())
    assert [r[:5] for r in rows] == [
        ("BridgeTest.Every", QUEUE, 3, {}, "* * * * *"),
        ("Elixir.Worker", "elixir", 20, {"x": 1}, "@reboot"),
    ]
    assert all(r[5].second == 0 and r[5].microsecond == 0 for r in rows)


@pytest.mark.parametrize(
    ("crontab", "says"),
    [
        ([("61 * * * *", "W")], "crontab entry ('61 * * * *', 'W')"),
        ([("* * * * *", "W", {"timezone": "Mars/Olympus"})], "unknown timezone 'Mars/Olympus'"),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_it(dsn: str, crontab: list[Any], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Node(dsn, queues={QUEUE: 1}, workers=[outcome], crontab=crontab)
    assert says in str(caught.value)
