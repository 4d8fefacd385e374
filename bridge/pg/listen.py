"""One dedicated connection per node: LISTEN on Oban's channels, and hold the producers'
liveness locks.

It reconnects with backoff when the connection drops (``pg_terminate_backend``, a
restart), LISTENs again and re-takes its locks; ``on_status`` tells the node whether it
is up, so producers poll every second while it is down. A payload is handed over raw:
decoding (and surviving garbage) is the notifier's job, and a callback that raises is
logged, never fatal to the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from psycopg import sql

from bridge.names import PRODUCER_LOCK_CLASS, channel_name
from bridge.pg.connect import aconnect

log = logging.getLogger("bridge.listener")

RECONNECT_MIN = 0.1  # seconds; doubled per failed attempt
RECONNECT_MAX = 5.0
IDLE_WAKE = 1.0  # seconds between checks for lock requests while no notification arrives

OnMessage = Callable[[str, str], None]
OnStatus = Callable[[bool], None]


class Listener:
    """LISTENs on ``<prefix>.oban_<channel>`` for each channel; holds advisory locks."""

    def __init__(
        self,
        dsn: str,
        prefix: str,
        channels: Iterable[str],
        on_message: OnMessage,
        on_status: OnStatus,
    ):
        self._dsn = dsn
        self._names = {channel_name(prefix, c): c for c in channels}
        self._on_message = on_message
        self._on_status = on_status
        self._locks: set[int] = set()
        self._held: set[int] = set()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._stopping = False
        self._changed = asyncio.Event()
        self.up = asyncio.Event()
        self.reconnects = 0
        self.backend_pid: int | None = None

    def want_lock(self, objid: int) -> None:
        """Hold ``(PRODUCER_LOCK_CLASS, objid)`` from now on (re-taken after reconnects)."""
        self._locks.add(objid)
        self._changed.set()

    def drop_lock(self, objid: int) -> None:
        self._locks.discard(objid)
        self._changed.set()

    def holds(self, objid: int) -> bool:
        return self.up.is_set() and objid in self._held

    async def wait_for_lock(self, objid: int, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.holds(objid):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def run(self) -> None:
        """Listen until :meth:`stop`; every failure is logged and followed by a reconnect.

        The delay doubles only while reconnecting keeps failing: a session that got as far
        as LISTEN starts the next round at ``RECONNECT_MIN`` again, so a node whose
        connection is cut now and then always comes back within a fraction of a second.
        """
        delay = RECONNECT_MIN
        while not self._stopping:
            try:
                await self._session()
                delay = RECONNECT_MIN
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    break
                if self.up.is_set():  # this session had been listening
                    delay = RECONNECT_MIN
                self._down()
                self.reconnects += 1
                log.warning(
                    "listener connection lost (%s); reconnecting in %.1fs", _one(exc), delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
        self._down()

    async def _session(self) -> None:
        conn = await aconnect(self._dsn, autocommit=True)
        self._conn = conn
        try:
            for name in self._names:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
            self.backend_pid = conn.info.backend_pid
            await self._sync_locks(conn)
            self.up.set()
            self._on_status(True)
            while not self._stopping:
                # stop_after=1: the generator ends after the whole packet that held the
                # first notification (breaking out of it mid-packet would drop the rest),
                # so a lock a signal asked for is taken right after that packet
                async for note in conn.notifies(timeout=IDLE_WAKE, stop_after=1):
                    self._deliver(note.channel, note.payload)
                if self._changed.is_set():
                    await self._sync_locks(conn)
        finally:
            self._conn = None
            await conn.close()

    async def _sync_locks(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._changed.clear()
        for objid in sorted(self._locks - self._held):
            cur = await conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s) AS ok", (PRODUCER_LOCK_CLASS, objid)
            )
            row = await cur.fetchone()
            if row and row[0]:
                self._held.add(objid)
            else:  # pragma: no cover - another live producer drew the same objid
                log.error("producer lock %d is held by another session", objid)
        for objid in sorted(self._held - self._locks):
            await conn.execute("SELECT pg_advisory_unlock(%s, %s)", (PRODUCER_LOCK_CLASS, objid))
            self._held.discard(objid)

    def _deliver(self, channel: str, payload: str) -> None:
        short = self._names.get(channel)
        if short is None:
            return
        try:
            self._on_message(short, payload)
        except Exception:  # a handler bug must not take the listener down
            log.exception("notification handler failed on %s", channel)

    def _down(self) -> None:
        self._held.clear()
        if self.up.is_set():
            self.up.clear()
            self._on_status(False)

    def stop(self) -> None:
        """Ask the loop to end; the node also cancels its task."""
        self._stopping = True
        self._changed.set()


def _one(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
