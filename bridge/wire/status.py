"""``status``'s view of a cluster: what was heard merged with what the tables hold.

The tables give leaders (``oban_peers``), job counts and executing jobs per node
(``bridge.ops.cluster.status_rows``); :class:`~bridge.wire.cluster.Heard` gives the nodes and
their queue check-ins. Pure: ``now`` (app clock) and ``at`` (the receipt clock) are parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.names import STATES
from bridge.wire.cluster import Check, Heard, Language


@dataclass(frozen=True)
class PeerRow:
    """One ``oban_peers`` row: the leader of the election called ``name``."""

    name: str
    node: str
    started_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class DbStatus:
    """What ``status`` reads from the tables (see ``bridge.ops.cluster.status_rows``)."""

    peers: tuple[PeerRow, ...]
    #: (queue, state) → job count
    counts: Mapping[tuple[str, str], int]
    #: queue → the earliest ``scheduled_at`` among its available jobs
    oldest_available: Mapping[str, datetime]
    #: node (``attempted_by[1]``) → (executing jobs, claimed by a Python producer)
    executing: Mapping[str, tuple[int, bool]]


@dataclass(frozen=True)
class NodeStatus:
    node: str
    language: Language
    #: seconds since last heard (None: only known from the tables)
    heard_ago: float | None
    via: tuple[str, ...]
    legacy: bool
    queues: int
    executing: int


@dataclass(frozen=True)
class Leader:
    name: str
    node: str
    #: seconds until the lease expires; negative once expired
    expires_in: float

    @property
    def live(self) -> bool:
        return self.expires_in >= 0


@dataclass(frozen=True)
class QueueJobs:
    queue: str
    counts: Mapping[str, int]
    #: seconds the oldest available job has been due (None: nothing available)
    oldest_available: float | None


@dataclass(frozen=True)
class ClusterStatus:
    prefix: str
    #: when the tables were read (app clock, naive UTC)
    read_at: datetime
    window: float
    nodes: tuple[NodeStatus, ...]
    leaders: tuple[Leader, ...]
    producers: tuple[Check, ...]
    queues: tuple[QueueJobs, ...]
    rejected: int


def _language(node: str, heard: Heard, checks: Iterable[Check], db: DbStatus) -> Language:
    if node in heard.nodes and heard.nodes[node].legacy:
        return "elixir"  # only Oban ≤ 2.20 sends base64(gzip) pings
    found = {c.language for c in checks if c.node == node}
    if len(found) == 1:
        return found.pop()
    if node in db.executing:
        return "python" if db.executing[node][1] else "elixir"
    return "unknown"


def cluster_status(
    prefix: str, heard: Heard, db: DbStatus, *, now: datetime, at: float, window: float
) -> ClusterStatus:
    """Merge what was heard (receipt times on the ``at`` clock) with the tables (``now``)."""
    checks = heard.live_checks()
    names = sorted(set(heard.nodes) | set(db.executing))
    nodes = tuple(
        NodeStatus(
            node=n,
            language=_language(n, heard, checks, db),
            heard_ago=at - heard.nodes[n].at if n in heard.nodes else None,
            via=tuple(sorted(heard.nodes[n].channels)) if n in heard.nodes else ("jobs",),
            legacy=n in heard.nodes and heard.nodes[n].legacy,
            queues=sum(1 for c in checks if c.node == n),
            executing=db.executing.get(n, (0, False))[0],
        )
        for n in names
    )
    leaders = tuple(Leader(p.name, p.node, (p.expires_at - now).total_seconds()) for p in db.peers)
    queue_names = sorted({q for q, _ in db.counts} | {c.queue for c in checks})
    queues = tuple(
        QueueJobs(
            q,
            {s: db.counts[(q, s)] for s in STATES if (q, s) in db.counts},
            _age(db.oldest_available.get(q), now),
        )
        for q in queue_names
    )
    return ClusterStatus(prefix, now, window, nodes, leaders, tuple(checks), queues, heard.rejected)


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else max(0.0, (now - since).total_seconds())


def status_dict(status: ClusterStatus) -> dict[str, Any]:
    """The JSON form of ``oban-bridge status --json`` (stable keys, Oban's words)."""
    return {
        "prefix": status.prefix,
        "read_at": status.read_at.isoformat() + "Z",
        "window": status.window,
        "nodes": [
            {
                "node": n.node,
                "language": n.language,
                "heard_ago": _round(n.heard_ago),
                "via": list(n.via),
                "legacy_encoding": n.legacy,
                "queues": n.queues,
                "executing": n.executing,
            }
            for n in status.nodes
        ],
        "leaders": [
            {"name": p.name, "node": p.node, "live": p.live, "expires_in": _round(p.expires_in)}
            for p in status.leaders
        ],
        "producers": [
            {
                "node": c.node,
                "name": c.name,
                "queue": c.queue,
                "limit": c.limit,
                "paused": c.paused,
                "running": c.running,
                "uuid": c.uuid,
                "language": c.language,
                "workers": None if c.workers is None else list(c.workers),
            }
            for c in status.producers
        ],
        "queues": [
            {
                "queue": q.queue,
                "counts": dict(q.counts),
                "oldest_available": _round(q.oldest_available),
            }
            for q in status.queues
        ],
        "rejected": status.rejected,
    }


def duration(seconds: float) -> str:
    """``42s``, ``5m``, ``2h``, ``3d``: the largest unit, rounded down."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(int(seconds), 0)}s"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
