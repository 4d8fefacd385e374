"""The leader's crontab: at each minute boundary, insert the entries due in that minute.

As Oban's Cron plugin (lib/oban/plugins/cron.ex): every node wakes at each wall-clock
minute, only the leader inserts, all due entries in one transaction, with the worker's
options and meta ``cron``/``cron_expr``/``cron_tz``; ``@reboot`` entries on this node's
first evaluation as leader. One addition: a node that becomes leader mid-minute
evaluates that minute too (within a second), so a minute whose boundary fell between
two leaders is not lost; ``ops.cron`` makes that second look insert nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import BridgeError, ConfigError, ValidationError
from bridge.ops.cron import insert_cron_jobs
from bridge.pg.source import AsyncSource
from bridge.runtime.clock import utc_now
from bridge.runtime.plugins import Peer
from bridge.runtime.worker import REGISTRY, Worker
from bridge.wire import cron
from bridge.wire.job import Job

log = logging.getLogger("bridge.cron")

LOOK_INTERVAL = 1.0  # ours: how soon a new leader notices a minute nobody evaluated
CronInput = tuple[str, str] | tuple[str, str, Mapping[str, Any]] | cron.Entry


def load_zone(name: str) -> tzinfo:
    """``ZoneInfo(name)``, or ConfigError (Oban: ``Validation.validate_timezone``)."""
    if name in ("Etc/UTC", "UTC"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}: {exc}") from None


def crontab_for(
    crontab: Iterable[Any], workers: Iterable[Worker], timezone_name: str
) -> list[cron.Entry]:
    """The node's entries: its ``crontab=`` plus each worker's ``cron=``; ConfigError on a
    bad one (naming it)."""
    load_zone(timezone_name)
    inputs = list(crontab) + [(w.cron, w.name) for w in workers if w.cron is not None]
    try:
        entries = [cron.cast_entry(item, timezone_name) for item in inputs]
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None
    for entry in entries:
        load_zone(entry.timezone)
    return entries


class Cron:
    """Evaluates ``entries`` each minute while ``peer`` leads. ``clock`` (UTC now) and
    ``sleep`` are seams for tests that move time across minutes without waiting."""

    def __init__(
        self,
        source: AsyncSource,
        peer: Peer,
        entries: Sequence[cron.Entry],
        *,
        workers: Iterable[Worker] = (),
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ):
        self.source, self.peer, self.clock, self._sleep = source, peer, clock, sleep
        self.entries = list(entries)
        self.zones = {e.timezone: load_zone(e.timezone) for e in self.entries}
        self._defaults = {w.name: w.defaults for w in workers}
        self.evaluated: datetime | None = None  # the last minute this node evaluated
        self.inserted = 0

    def due(self, minute: datetime) -> list[cron.Entry]:
        """The entries due in ``minute`` (naive UTC), each in its own timezone."""
        return [
            e
            for e in self.entries
            if cron.matches(e.expr, cron.local_minute(minute, self.zones[e.timezone]))
        ]

    async def evaluate(self, now: datetime | None = None) -> list[Job]:
        """Insert the entries due in ``now``'s minute (default: the clock), one transaction.

        The caller checks leadership; tests and the conformance suite call this directly.
        """
        now = self.clock() if now is None else now
        minute = cron.minute_of(now)
        jobs = [cron.entry_job(e, self._worker_defaults(e.worker)) for e in self.due(minute)]
        inserted = await self.source.run(
            insert_cron_jobs(
                self.source.prefix,
                jobs,
                minute=minute,
                now=now,
                schema_version=self.source.policy.schema_version or 14,
            )
        )
        self.evaluated = minute
        self.entries = [e for e in self.entries if not e.expr.reboot]  # cron.ex discard_reboots
        self.inserted += len(inserted)
        if inserted:
            log.info("cron inserted %d jobs for %s", len(inserted), minute.isoformat())
        return inserted

    async def step(self) -> float:
        """Evaluate this minute if leading and not done yet; the seconds to sleep next."""
        now = self.clock()
        if self.peer.leader and cron.minute_of(now) != self.evaluated:
            try:
                await self.evaluate(now)
            except (BridgeError, OSError) as exc:
                log.warning("cron failed: %s", exc)  # retried at the next look
            except Exception:
                log.exception("cron failed")  # as plugins.every: never fatal
        return min(LOOK_INTERVAL, cron.seconds_to_next_minute(self.clock()) + 0.001)

    async def loop(self) -> None:
        while True:
            await self._sleep(await self.step())

    def _worker_defaults(self, name: str) -> Mapping[str, Any]:
        if name in self._defaults:
            return self._defaults[name]
        known = REGISTRY.get(name)
        return known.defaults if known is not None else {}
