"""Periodic work: the peer election, and the leader's stager and pruner; rescue runs on
every node (it only ever touches jobs of dead Python producers, so it needs no leader).

Each loop logs and survives database errors; none of them can stop the node.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from bridge.errors import BridgeError
from bridge.ops import maintenance, peers
from bridge.pg.source import AsyncSource
from bridge.runtime.clock import utc_now, wait_event

log = logging.getLogger("bridge.plugins")

STAGE_INTERVAL = 1.0  # mirrors lib/oban/stager.ex default interval (1 s)
RESCUE_INTERVAL = 15.0  # ours: a dead producer's jobs are back within 2 intervals (≤ 30 s)
PRUNE_INTERVAL = 30.0  # mirrors lib/oban/plugins/pruner.ex default interval


async def every(
    name: str, interval: Callable[[], float], step: Callable[[], Awaitable[None]]
) -> None:
    """Run ``step`` forever, ``interval()`` seconds apart; errors are logged, never fatal."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except (BridgeError, OSError) as exc:
            log.warning("%s failed: %s", name, exc)
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(interval())


class Peer:
    """Oban 2.23.1's database peer under ``name``: elect, renew, resign."""

    def __init__(self, source: AsyncSource, name: str, node: str):
        self.source, self.name, self.node = source, name, node
        self.leader = False
        self._kick = asyncio.Event()
        self._stopping = False

    def interval(self) -> float:
        # mirrors lib/oban/peers/database.ex: leaders every interval/2 (jitter down 10 %),
        # followers every interval (up to 10 % less)
        base = peers.LEASE_SECONDS / 2 if self.leader else peers.LEASE_SECONDS
        return base * random.uniform(0.9, 1.0)

    async def elect(self) -> None:
        try:
            won = await self.source.run(
                peers.elect(self.source.prefix, self.name, self.node, now=utc_now())
            )
        except (BridgeError, OSError):
            self.leader = False  # mirrors database.ex: a failed election gives up leadership
            raise
        if won != self.leader:
            log.info("node %s %s leadership of %r", self.node, "took" if won else "lost", self.name)
        self.leader = won

    async def loop(self) -> None:
        """Elect until :meth:`stop`; an election in flight always finishes first, so the
        resignation that follows can never be overtaken by it."""
        while not self._stopping:
            try:
                await self.elect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("peer election failed: %s", exc)
            self._kick.clear()
            if not self._stopping:
                await wait_event(self._kick, self.interval())

    def stop(self) -> None:
        self._stopping = True
        self._kick.set()

    def down(self, name: str) -> None:
        """``{"down": name}`` on the leader channel: elect at once if it is ours."""
        # mirrors lib/oban/peers/database.ex handle_info {:notification, :leader, %{"down"}}
        if name == self.name and not self.leader:
            self._kick.set()

    async def resign(self) -> None:
        if self.leader:
            self.leader = False
            await self.source.run(peers.resign(self.source.prefix, self.name, self.node))


class Stager:
    def __init__(self, source: AsyncSource, peer: Peer):
        self.source, self.peer = source, peer

    async def step(self) -> None:
        if self.peer.leader:
            await self.source.run(
                maintenance.stage_jobs(self.source.prefix, now=utc_now()), atomic=False
            )


class Rescuer:
    """Two looks, one interval apart: only a job orphaned in both is rescued, so a
    producer whose lock connection is merely reconnecting is never mistaken for dead."""

    def __init__(self, source: AsyncSource):
        self.source = source
        self.suspects: set[int] = set()
        self.rescued = 0

    async def step(self) -> None:
        prefix = self.source.prefix
        if self.suspects:
            rescued = await self.source.run(
                maintenance.rescue_jobs(prefix, self.suspects, now=utc_now())
            )
            if rescued:
                self.rescued += len(rescued)
                log.warning("rescued %d jobs of dead Python producers: %s", len(rescued), rescued)
        self.suspects = await self.source.run(maintenance.find_orphans(prefix), atomic=False)


class Pruner:
    def __init__(self, source: AsyncSource, peer: Peer, max_age: int, limit: int):
        self.source, self.peer, self.max_age, self.limit = source, peer, max_age, limit

    async def step(self) -> None:
        if self.peer.leader:
            await self.source.run(
                maintenance.prune_jobs(
                    self.source.prefix, now=utc_now(), max_age=self.max_age, limit=self.limit
                ),
                atomic=False,
            )
