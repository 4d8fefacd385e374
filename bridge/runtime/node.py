"""``Node``: a Python process serving Oban queues next to (or instead of) Elixir nodes.

Connections: a small pool (fetches, acks, maintenance) and one dedicated listener
connection, which also holds each producer's liveness lock. Lifecycle: ``start`` →
producers fetch; ``stop`` → stop fetching, let running jobs finish within the grace
period (15 s, like Elixir's ``shutdown_grace_period``), hand back the rest, flush acks,
resign leadership. ``run`` does it all under SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from bridge.errors import ConfigError, DecodeError
from bridge.names import JobState
from bridge.ops import Op
from bridge.pg.listen import Listener
from bridge.pg.source import AsyncSource
from bridge.runtime.acker import Acker
from bridge.runtime.clock import utc_now
from bridge.runtime.cron import Cron, CronInput, crontab_for
from bridge.runtime.events import Events, Hook
from bridge.runtime.executor import Executor
from bridge.runtime.gossip import GOSSIP_INTERVAL, Gossip
from bridge.runtime.midwife import Midwife
from bridge.runtime.notifier import LISTENED, Notifier
from bridge.runtime.plugins import (
    PRUNE_INTERVAL,
    RESCUE_INTERVAL,
    STAGE_INTERVAL,
    Peer,
    Pruner,
    Rescuer,
    Stager,
    every,
)
from bridge.runtime.processes import ProcessPool
from bridge.runtime.producer import POLL_INTERVAL, Producer
from bridge.runtime.sonar import Sonar
from bridge.runtime.worker import REGISTRY, Worker
from bridge.wire.outcome import Ack, SnoozeStyle, error_element
from bridge.wire.signals import Signal, decode_signal

log = logging.getLogger("bridge.node")

GRACE_PERIOD = 15.0  # mirrors lib/oban/config.ex shutdown_grace_period (15 s)
DEFAULT_PEER_NAME = "Bridge"  # not Elixir's "Oban": a separate election (see ops.peers)


def default_node_name() -> str:
    """``hostname.pid``: unique per process, no whitespace (lib/oban/config.ex node_name)."""
    host = socket.gethostname().split(".")[0] or "python"
    return f"{''.join(host.split())}.{os.getpid()}"


class Node:
    """Runs the given queues with the given (or all registered) workers.

    Example:
        >>> node = Node("postgresql://localhost/app", queues={"badges": 10})
        >>> node.run()  # until SIGTERM / SIGINT
    """

    def __init__(
        self,
        source: str | AsyncConnectionPool | AsyncSource,
        *,
        queues: Mapping[str, int],
        workers: Iterable[Worker] | None = None,
        node: str | None = None,
        prefix: str = "public",
        schema_version: int = 14,
        instance: str = "Oban",
        peer_name: str = DEFAULT_PEER_NAME,
        snooze: SnoozeStyle = "max_attempts",
        grace_period: float = GRACE_PERIOD,
        poll_interval: float = POLL_INTERVAL,
        durable_claims: bool = False,
        stage: bool = True,
        rescue: bool = True,
        rescue_interval: float = RESCUE_INTERVAL,
        prune: bool = False,
        prune_max_age: int = 60,
        prune_limit: int = 10_000,
        threads: int | None = None,
        processes: int | None = None,
        hooks: Sequence[Hook] = (),
        log_format: str = "text",
        sonar: bool = True,
        gossip_interval: float | None = GOSSIP_INTERVAL,
        crontab: Sequence[CronInput] = (),
        cron_timezone: str = "Etc/UTC",
    ):
        self.name = node or default_node_name()
        if not self.name or any(ch.isspace() for ch in self.name):
            raise ConfigError(f"node name must be non-empty without whitespace, got {self.name!r}")
        if not queues:
            raise ConfigError("a node needs at least one queue, e.g. queues={'default': 10}")
        for queue, limit in queues.items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ConfigError(f"queue {queue!r}: limit must be an integer >= 1, got {limit!r}")
        if snooze not in ("max_attempts", "attempt"):
            raise ConfigError(f"snooze must be 'max_attempts' or 'attempt', got {snooze!r}")
        if isinstance(source, AsyncSource):
            if source.is_callers_connection:
                raise ConfigError("a node owns its connections: give it a DSN or a pool")
            self.source = source
        elif isinstance(source, (str, AsyncConnectionPool)):
            size = None if isinstance(source, AsyncConnectionPool) else 4
            self.source = AsyncSource(
                source,
                prefix=prefix,
                schema_version=schema_version,
                pool_size=size,
                configure=_configure,
            )
        else:
            raise ConfigError("Node takes a DSN or a psycopg_pool.AsyncConnectionPool")
        if self.source.dsn is None:
            raise ConfigError("the node needs a DSN for its LISTEN connection")
        chosen = list(workers) if workers is not None else REGISTRY.all()
        self.instance = instance
        self.ident = f"{instance}.{self.name}"  # mirrors lib/oban/config.ex to_ident/1
        self.grace_period = grace_period
        self.events = Events(hooks, json_format=log_format == "json")
        self.acker = Acker(self.source)
        total = sum(queues.values())
        pool = ProcessPool(processes or os.cpu_count() or 2) if _uses(chosen, "process") else None
        self.executor = Executor(
            self.acker,
            self.events,
            snooze=snooze,
            threads=threads or min(max(total, 4), 64),
            processes=pool,
        )
        self.peer = Peer(self.source, peer_name, self.name)
        entries = crontab_for(crontab, chosen, cron_timezone)
        self.cron = Cron(self.source, self.peer, entries, workers=chosen) if entries else None
        self.rescuer = Rescuer(self.source)
        self._opts = {"stage": stage, "rescue": rescue, "prune": prune, "poll": poll_interval}
        self.durable_claims = durable_claims
        self.rescue_interval = rescue_interval
        self._prune = (prune_max_age, prune_limit)
        self.sonar = Sonar(self.source, self.name)
        self.gossip = Gossip(self.source, instance, self._all, gossip_interval or 0.0)
        self._opts.update(sonar=sonar, gossip=gossip_interval is not None)
        self.notifier = Notifier(
            self.ident,
            {
                "insert": self._on_insert,
                "signal": self._on_signal,
                "leader": self._on_leader,
                "sonar": self.sonar.heard,
            },
        )
        self.listener = Listener(
            self.source.dsn, self.source.prefix, LISTENED, self.notifier.deliver, self._on_status
        )
        self.midwife = Midwife(
            self.source,
            self.executor,
            self.listener,
            node=self.name,
            queues=queues,
            workers=chosen,
            options={"poll_interval": poll_interval, "durable": durable_claims},
        )
        self.queues = self.midwife.queues  # queue → limit, as started and stopped
        self.producers = self.midwife.producers
        self._tasks: list[asyncio.Task[Any]] = []
        self._peer_task: asyncio.Task[None] | None = None

    # -- notifications ----------------------------------------------------------------------

    def _on_insert(self, message: dict[str, Any]) -> None:
        queue = message.get("queue")
        if not isinstance(queue, str):
            raise DecodeError(f"insert queue must be a string, got {queue!r:.60}")
        producer = self.producers.get(queue)
        if producer is not None:
            producer.notify()

    def _on_signal(self, message: dict[str, Any]) -> None:
        """Obey a signal in scope (the notifier checked ``ident``); a bad one raises
        ``DecodeError``, which the notifier logs and counts."""
        signal = decode_signal(message)
        if signal.action == "pkill":
            # mirrors lib/oban/queue/producer.ex pkill: the running job with that id, if ours
            run = self.executor.running.get(signal.job_id)  # type: ignore[arg-type]
            if run is not None and self.executor.kill(run):
                log.info("job %d killed by a pkill signal", signal.job_id)
        elif signal.action == "start":
            self.midwife.start_queue(signal)
        elif signal.action == "stop":
            self.midwife.stop_queue(signal)
        else:
            for producer in self.producers.values():
                if signal.targets(producer.queue):
                    _apply(signal, producer)
        if signal.action != "pkill":
            self.gossip.kick()  # Oban Web shows the change now, not at the next check-in

    def _on_leader(self, message: dict[str, Any]) -> None:
        # mirrors lib/oban/peers/database.ex handle_info {:notification, :leader, %{"down" => …}};
        # {"lock": node} is Oban.Peers.Global's and no business of a database peer
        down = message.get("down", "")
        if not isinstance(down, str):
            raise DecodeError(f"leader down must be a peer name, got {down!r:.60}")
        if down:
            self.peer.down(down)

    def _on_status(self, up: bool) -> None:
        for producer in self.producers.values():
            producer.notify()  # re-arm its poll timer: 1 s while deaf, 60 s when listening

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Open connections, take locks, start producers and plugins."""
        self.executor.emit = self.events.wanted
        await self.source.open()
        await self.source.run(_noop())  # the schema check, before anything is claimed
        self.acker.start()
        self._tasks.append(asyncio.create_task(self.listener.run(), name="bridge-listener"))
        await self.midwife.start()
        self._peer_task = asyncio.create_task(self.peer.loop(), name="bridge-peer")
        self._tasks.append(self._peer_task)
        if self._opts["stage"]:
            stager = Stager(self.source, self.peer)
            self._tasks.append(
                asyncio.create_task(every("stage", lambda: STAGE_INTERVAL, stager.step))
            )
        if self._opts["rescue"]:
            self._tasks.append(
                asyncio.create_task(
                    every("rescue", lambda: self.rescue_interval, self.rescuer.step)
                )
            )
        if self._opts["prune"]:
            pruner = Pruner(self.source, self.peer, *self._prune)
            self._tasks.append(
                asyncio.create_task(every("prune", lambda: PRUNE_INTERVAL, pruner.step))
            )
        if self.cron is not None:
            self._tasks.append(asyncio.create_task(self.cron.loop(), name="bridge-cron"))
        if self._opts["sonar"]:
            self._tasks.append(asyncio.create_task(self.sonar.loop(), name="bridge-sonar"))
        if self._opts["gossip"]:
            self._tasks.append(asyncio.create_task(self.gossip.loop(), name="bridge-gossip"))
        log.info("node %s serving %s (ident %s)", self.name, self.queues, self.ident)

    def _all(self) -> list[Producer]:
        return self.midwife.all()

    async def stop(self, grace_period: float | None = None) -> None:
        """Stop fetching, wait for running jobs, hand back the rest, flush acks, resign."""
        grace = self.grace_period if grace_period is None else grace_period
        await self.midwife.stop()
        log.debug("node %s: producers stopped", self.name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.executor.running and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self._hand_back(grace)
        if not await self.acker.close(timeout=max(grace, 5.0)):
            log.error("%d acks could not be written before shutdown", self.acker.pending)
        log.debug("node %s: acks flushed", self.name)
        # the peer loop ends first: an election in flight, or one kicked by this node's own
        # {"down"} notice, would otherwise land after the resignation and leave this stopped
        # node as the leader for a whole lease
        self.peer.stop()
        if self._peer_task is not None:
            await asyncio.wait({self._peer_task}, timeout=5.0)
        try:
            await self.peer.resign()
        except Exception as exc:
            log.warning("could not resign leadership: %s", exc)
        await self.midwife.close()
        for task in self._tasks:
            task.cancel()
        self.listener.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        log.debug("node %s: background tasks ended", self.name)
        self.executor.shutdown()
        await self.source.close()
        log.info("node %s stopped", self.name)

    def _hand_back(self, grace: float) -> None:
        now = utc_now()
        for run in list(self.executor.running.values()):
            job = run.job
            assert job.id is not None and job.attempted_at is not None
            text = (
                f"** (bridge.Shutdown) node {self.name} stopped before the job finished "
                f"(grace period {grace:g}s elapsed); the job was handed back"
            )
            # mirrors lib/oban/plugins/lifeline.ex: available again, or discarded when out
            # of attempts — at shutdown, instead of leaving the row executing
            last = job.attempt >= job.max_attempts
            state = JobState.DISCARDED if last else JobState.AVAILABLE
            ack = Ack(
                job.id, job.attempted_at, state, now, error=error_element(now, job.attempt, text)
            )
            log.warning("job %d (%s) handed back: %s", job.id, job.worker, state.value)
            self.executor.hand_back(run, ack)

    def run(self) -> None:
        """Start, serve until SIGTERM or SIGINT, then stop gracefully."""
        asyncio.run(self.serve())

    async def serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # non-main thread
                loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
            log.info("node %s: shutdown signal received", self.name)
        finally:
            await self.stop()


def _apply(signal: Signal, producer: Producer) -> None:
    # mirrors lib/oban/queue/producer.ex handle_info {:notification, :signal, …}: pause and
    # resume set paused; scale puts limit (and paused) in the meta; then a dispatch
    if signal.action in ("pause", "resume"):
        producer.paused = signal.action == "pause"
    if signal.limit is not None:
        producer.limit = signal.limit
    if signal.paused is not None:
        producer.paused = signal.paused
    producer.notify()


def _noop() -> Op[None]:
    """An op with no statement: ``run`` still performs the one-time schema check."""
    return None
    yield  # pragma: no cover


_decode_json = json.JSONDecoder().decode


def _loads(data: str | bytes) -> Any:
    """psycopg's jsonb loader, minus the encoding sniffing of ``json.loads`` (rows are UTF-8)."""
    if data == b"{}":
        return {}
    return _decode_json(data.decode() if isinstance(data, bytes) else data)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(_loads, conn)


def _uses(workers: Iterable[Worker], executor: str) -> bool:
    return any(w.executor == executor for w in workers)
