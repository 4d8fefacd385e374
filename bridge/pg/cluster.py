"""Listening to a cluster for a few seconds, for ``status`` and ``doctor``.

A plain synchronous LISTEN session on sonar, gossip and signal (and a channel of its own
for the notifier round trip), closed when the command ends. Not ``bridge.pg.listen``'s
``Listener``: that is a node's asyncio connection, which reconnects forever and holds
producer locks; a command that listens for a window and exits needs neither, and what it
hears goes through the same pure decoding (``bridge.wire.cluster.Heard``).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql

from bridge.ops.cluster import doctor_facts, status_rows
from bridge.ops.jobs import notify_op
from bridge.pg.connect import connect
from bridge.pg.source import Source
from bridge.wire.cluster import HEARD_CHANNELS, Heard
from bridge.wire.doctor import RECENT, Facts
from bridge.wire.notify import channel_name, encode_payload
from bridge.wire.status import ClusterStatus, cluster_status

#: our own channel for the round trip ("<prefix>.oban_bridge_doctor"): no Oban or oban_met
#: process listens there, so the ping disturbs nobody (lib/oban/notifier.ex @type channel)
PING_CHANNEL = "bridge_doctor"


def utc_now() -> datetime:
    """The app clock: naive UTC, as the ``timestamp`` columns hold it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class ClusterListener:
    """Hears sonar, gossip and signal payloads into ``heard``; times are ``time.monotonic``."""

    def __init__(self, dsn: str, prefix: str, heard: Heard | None = None):
        self.heard = heard if heard is not None else Heard()
        self.prefix = prefix
        self._names = {channel_name(prefix, c): c for c in (*HEARD_CHANNELS, PING_CHANNEL)}
        self._conn: psycopg.Connection[Any] = connect(dsn, autocommit=True)
        for name in self._names:
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
        self._token: str | None = None
        self._echo: float | None = None

    def listen(self, seconds: float) -> None:
        """Take in what arrives for ``seconds`` (at least one poll)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            for note in self._conn.notifies(timeout=max(left, 0.0), stop_after=100):
                self._take(note.channel, note.payload)
            if time.monotonic() >= deadline:
                return

    def _take(self, channel: str, payload: str) -> None:
        short = self._names.get(channel)
        if short == PING_CHANNEL:
            if payload == self._token and self._echo is None:
                self._echo = time.monotonic()
        elif short is not None:
            self.heard.hear(short, payload, time.monotonic())

    def round_trip(self, source: Source, timeout: float = 5.0) -> float | None:
        """Seconds for a NOTIFY sent on another connection to reach this LISTEN, or None."""
        self._token, self._echo = encode_payload({"ping": uuid.uuid4().hex}), None
        sent = time.monotonic()
        source.run(notify_op(self.prefix, PING_CHANNEL, [self._token]))
        deadline = sent + timeout
        while self._echo is None and time.monotonic() < deadline:
            left = max(deadline - time.monotonic(), 0.0)
            for note in self._conn.notifies(timeout=left, stop_after=1):
                self._take(note.channel, note.payload)
        return None if self._echo is None else self._echo - sent

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ClusterListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_status(source: Source, listener: ClusterListener, window: float) -> ClusterStatus:
    """The tables' rows now, merged with what ``listener`` heard (stale sightings dropped)."""
    db = source.run(status_rows(source.prefix))
    at = time.monotonic()
    listener.heard.forget(at)
    return cluster_status(source.prefix, listener.heard, db, now=utc_now(), at=at, window=window)


def gather_facts(
    source: Source,
    listener: ClusterListener,
    *,
    window: float,
    rescue_after: float,
    compress_signals: bool,
) -> Facts:
    """Listen for ``window`` seconds, time a round trip, and read the tables."""
    trip = listener.round_trip(source)
    listener.listen(window)
    db = source.run(
        doctor_facts(source.prefix, now=utc_now(), rescue_after=rescue_after, recent=RECENT)
    )
    heard = listener.heard
    heard.forget(time.monotonic())
    return Facts(
        db=db,
        window=window,
        nodes=tuple(sorted(heard.nodes.values(), key=lambda s: s.node)),
        checks=tuple(heard.live_checks()),
        round_trip=trip,
        z_enabled=compress_signals,
        z_signals=heard.z_signals,
        rescue_after=rescue_after,
    )
