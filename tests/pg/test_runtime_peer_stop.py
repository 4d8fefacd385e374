"""Stopping a leader: nothing may elect it again after it resigned.

``Node.stop`` resigns: it deletes the node's ``oban_peers`` row and sends ``{"down": name}``.
The node's own listener hears that notice too, and ``Peer.down`` kicks the election loop.
When the listener delivered it before ``stop`` had cancelled the loop, the loop elected at
once and re-inserted the row: a stopped node stayed leader for a whole lease (a rare
failure of the start/stop cycle test under load). The first test makes that ordering
certain; the second overlaps a slow election with the resignation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from runtime_support import QUEUE, connect, outcome, run, wait_until

from bridge.ops import Statement, peers
from bridge.runtime import plugins
from bridge.runtime.node import Node

pytestmark = pytest.mark.pg

SLOW = 0.5  # seconds the election sleeps on the server before it upserts


def test_hearing_its_own_down_notice_does_not_re_elect_a_stopping_node(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = plugins.Peer.resign

    async def resign(self: plugins.Peer) -> None:
        await real(self)
        self.down(self.name)  # as if the listener delivered the notice right now
        await asyncio.sleep(0.3)  # and the loop got every chance to act on it

    monkeypatch.setattr(plugins.Peer, "resign", resign)

    async def body() -> list[Any]:
        node = Node(dsn, queues={QUEUE: 1}, workers=[outcome], node="resigner")
        await node.start()
        await wait_until(lambda: node.peer.leader, 30, "leadership")
        await asyncio.wait_for(node.stop(), 10)
        conn = await connect(dsn)
        async with conn:
            cur = await conn.execute("SELECT node FROM oban_peers")
            return await cur.fetchall()

    assert run(body()) == [], "the stopped node elected itself again"


def test_an_election_in_flight_cannot_outlive_the_resignation(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = peers.elect
    slow = asyncio.Event()

    def elect(prefix: str, name: str, node: str, **kw: Any) -> Iterator[Statement]:
        if slow.is_set():
            yield Statement(f"SELECT pg_sleep({SLOW})", (), fetch=False)
        return (yield from real(prefix, name, node, **kw))

    monkeypatch.setattr(plugins.peers, "elect", elect)

    async def body() -> list[Any]:
        node = Node(dsn, queues={QUEUE: 1}, workers=[outcome], node="racer")
        await node.start()
        await wait_until(lambda: node.peer.leader, 30, "leadership")
        slow.set()
        node.peer._kick.set()  # a new round starts at once and sleeps on the server
        await asyncio.sleep(0.1)
        await asyncio.wait_for(node.stop(), 10)
        await asyncio.sleep(SLOW)  # whatever was in flight has landed by now
        conn = await connect(dsn)
        async with conn:
            cur = await conn.execute("SELECT node FROM oban_peers")
            return await cur.fetchall()

    assert run(body()) == [], "the stopped node is still the leader"
