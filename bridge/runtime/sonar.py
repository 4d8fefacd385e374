"""Sonar: ping on ``<prefix>.oban_sonar`` so Elixir counts this node, and track who else pings.

Elixir's ``Oban.Notifier.status/1`` is ``:isolated`` (heard nobody), ``:solitary`` (only
itself) or ``:clustered``: once a Python node pings, Elixir nodes see it, and
``node.sonar.nodes()`` here lists every node (Elixir or Python) heard within the stale window.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from bridge.ops.jobs import notify_op
from bridge.pg.source import AsyncSource
from bridge.runtime.plugins import every
from bridge.wire.gossip import decode_sonar, encode_sonar

log = logging.getLogger("bridge.sonar")

MIN_INTERVAL = 5.0  # seconds; mirrors lib/oban/sonar.ex min_interval (2.23.1; 2.18.3: always 5 s)
MAX_INTERVAL = 60.0  # seconds; mirrors lib/oban/sonar.ex max_interval (2.23.1)
STALE_AFTER = 120.0  # seconds; mirrors lib/oban/sonar.ex stale_after (2.23.1)


class Sonar:
    """Pings at Oban 2.23.1's adaptive interval and records the nodes it hears.

    2.23.1 pings every 5 s after any change, doubling up to 60 s while nothing changes
    (5 s × the peer count when clustered), and forgets a node after 120 s of silence. Our
    pings therefore reach a 2.23.1 node well inside its window (≤ 66 s with jitter), and a
    2.18.3 node (which pings every 5 s) never forgets a node at all.
    """

    def __init__(
        self,
        source: AsyncSource,
        node: str,
        *,
        min_interval: float = MIN_INTERVAL,
        max_interval: float = MAX_INTERVAL,
        stale_after: float = STALE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.source = source
        self.node = node
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.stale_after = stale_after
        self.interval = min_interval
        self.pings = 0
        self._clock = clock
        self._heard: dict[str, float] = {}
        self._status = "unknown"

    # -- what it hears ------------------------------------------------------------------

    def heard(self, message: dict[str, Any]) -> None:
        """Notifier handler for the sonar channel (a bad payload raises ``DecodeError``)."""
        self._heard[decode_sonar(message)] = self._clock()

    def nodes(self) -> dict[str, float]:
        """Node name → when it was last heard (``time.monotonic()``), stale ones dropped."""
        self._prune()
        return dict(self._heard)

    def status(self) -> str:
        """``isolated``, ``solitary`` or ``clustered``, as ``Oban.Notifier.status/1`` says it."""
        # mirrors lib/oban/sonar.ex update_status/1
        names = self.nodes()
        if not names:
            return "isolated"
        return "solitary" if list(names) == [self.node] else "clustered"

    def _prune(self) -> None:
        # mirrors lib/oban/sonar.ex prune_stale_nodes/1 (2.23.1): older than stale_after
        cut = self._clock() - self.stale_after
        for name in [n for n, at in self._heard.items() if at < cut]:
            del self._heard[name]

    # -- pinging ------------------------------------------------------------------------

    async def ping(self) -> None:
        op = notify_op(self.source.prefix, "sonar", [encode_sonar(self.node)])
        await self.source.run(op, atomic=False)  # one statement, no BEGIN/COMMIT
        self.pings += 1

    def next_interval(self) -> float:
        """The next pause between pings, adapted to what changed since the last one."""
        # mirrors lib/oban/sonar.ex adjust_interval/2 and schedule_ping/1 (Backoff.jitter ±10 %)
        before = (self._status, sorted(self._heard))
        self._status = self.status()
        if (self._status, sorted(self._heard)) != before:
            self.interval = self.min_interval
        else:
            peers = max(len(self._heard), 1)
            target = {
                "clustered": min(self.min_interval * peers, self.max_interval),
                "solitary": self.max_interval,
            }.get(self._status, self.min_interval)
            self.interval = min(self.interval * 2, target)
        return self.interval * random.uniform(0.9, 1.1)

    async def loop(self) -> None:
        """Ping at start and then at the adaptive interval; failures are logged, not fatal."""
        await every("sonar ping", self.next_interval, self.ping)
