"""Gossip: this node's queues on ``<prefix>.oban_gossip``, so Oban Web shows them.

oban_met's Examiner (running in Elixir nodes beside Oban Web) stores every check it hears
for 30 s under ``{node, name, queue}``; ``Oban.Met.checks/0`` and Oban Web's queue pages
read that table. Each check-in is one ``{"checks": […]}`` NOTIFY per node (several when
the checks pass PostgreSQL's 8000-byte cap; see ``bridge.wire.gossip.encode_gossip``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from bridge.errors import BridgeError
from bridge.ops.jobs import notify_op
from bridge.pg.source import AsyncSource
from bridge.runtime.clock import utc_now, wait_event
from bridge.runtime.producer import Producer
from bridge.wire.gossip import encode_gossip

log = logging.getLogger("bridge.gossip")

# oban_met's Examiner keeps a check for its ttl, 30 s (lib/oban/met/examiner.ex ttl), and
# itself gossips every 750 ms. Every 5 s keeps a Python queue listed with 6 check-ins per
# ttl (lost notifications never make it blink out) at 0.2 statements/s, inside the
# runtime's idle budget of < 1 statement/s per node (benchmarks/bench_idle.py); running
# counts in Oban Web lag by up to 5 s.
GOSSIP_INTERVAL = 5.0
# a signal that changed a queue (pause, scale, start, stop) is gossiped at once, so Oban Web's
# pause button shows its effect without waiting up to 5 s; at most one such early check-in per
# EARLY_SPACING, however many signals arrive
EARLY_SPACING = 0.5


class Gossip:
    """Sends one check per producer (running and draining ones) every ``interval``."""

    def __init__(
        self,
        source: AsyncSource,
        name: str,
        producers: Callable[[], Iterable[Producer]],
        interval: float = GOSSIP_INTERVAL,
    ):
        self.source = source
        self.name = name  # the instance name, as Elixir's inspect(conf.name) prints it
        self.interval = interval
        self.sent = 0
        self._producers = producers
        self._kick = asyncio.Event()

    def payloads(self) -> list[str]:
        now = utc_now()
        encoded = encode_gossip([p.check(self.name, now) for p in self._producers()])
        for queue in encoded.trimmed:
            log.warning("gossip for queue %r lists only part of its running jobs (8 KB)", queue)
        for queue in encoded.dropped:
            log.warning("gossip for queue %r does not fit one notification; not sent", queue)
        return encoded.payloads

    async def step(self) -> None:
        payloads = self.payloads()
        if payloads:
            op = notify_op(self.source.prefix, "gossip", payloads)
            await self.source.run(op, atomic=False)  # one statement, no BEGIN/COMMIT
            self.sent += len(payloads)

    def kick(self) -> None:
        """Check in soon: a queue's state changed."""
        self._kick.set()

    async def loop(self) -> None:
        """Check in every ``interval``, and soon after a kick; failures are logged, not fatal."""
        while True:
            self._kick.clear()  # a kick from here on is for the next check-in
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except (BridgeError, OSError) as exc:
                log.warning("gossip failed: %s", exc)
            except Exception:
                log.exception("gossip failed")
            await asyncio.sleep(min(EARLY_SPACING, self.interval))
            await wait_event(self._kick, self.interval - min(EARLY_SPACING, self.interval))
