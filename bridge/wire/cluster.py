"""What the cluster says about itself: sonar pings, gossip check-ins, and the merged status.

Elixir nodes announce themselves on ``sonar`` (``{"node": n, "ping": true}``) and, where
oban_met runs, their queues on ``gossip`` (``{"checks": [check, …]}``); Python nodes do both.
:class:`Heard` keeps what was said, keyed as Elixir keys it, with receipt times on the caller's
clock (monotonic seconds); :func:`cluster_status` merges it with the database's rows. Pure: no
clock, no I/O — times are parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bridge.errors import DecodeError
from bridge.names import STATES
from bridge.wire.notify import decode_payload
from bridge.wire.producer_id import lock_objid

#: Elixir ≥ 2.21 pings every 5–60 s (adaptive); ≤ 2.20 every 5 s — lib/oban/sonar.ex
SONAR_INTERVAL = (5.0, 60.0)
#: a node not heard for this long is dropped — mirrors lib/oban/sonar.ex stale_after (v2.23.1)
SONAR_STALE_AFTER = 120.0
#: a check older than this is dropped — mirrors oban_met lib/oban/met/examiner.ex ttl (30 s)
GOSSIP_TTL = 30.0
#: the channels this module reads (signals only for how they are encoded)
HEARD_CHANNELS = ("sonar", "gossip", "signal")

Form = Literal["plain", "z", "legacy"]
Language = Literal["python", "elixir", "unknown"]


def payload_form(payload: str) -> Form:
    """How a payload was encoded: ``legacy`` base64(gzip) is what every Oban ≤ 2.20 sends."""
    # mirrors lib/oban/notifier.ex encode/1: v2.18.3 always base64(gzip) ("H4sI…");
    # v2.21+ plain JSON ≤ 512 bytes, else "Z:" + base64(gzip)
    if payload.startswith("Z:"):
        return "z"
    if payload.startswith("H4sI"):
        return "legacy"
    return "plain"


@dataclass(frozen=True)
class Check:
    """One producer's check-in, with Oban's keys (``Basic.init`` / ``check_meta`` meta)."""

    node: str
    name: str
    queue: str
    limit: int | None
    paused: bool
    running: int
    uuid: str
    started_at: str | None = None
    updated_at: str | None = None
    #: worker names the producer runs: only Python checks carry them
    workers: tuple[str, ...] | None = None

    @property
    def language(self) -> Language:
        """``python`` for an oban-bridge producer uuid (``bridge.wire.producer_id``)."""
        return "python" if lock_objid(self.uuid) is not None else "elixir"


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise DecodeError(f"gossip check without a string {key!r}")
    return value


def decode_check(raw: Any) -> Check:
    """A check from its JSON object; ``node``, ``name`` and ``queue`` are required."""
    if not isinstance(raw, dict):
        raise DecodeError(f"gossip check is not an object: {type(raw).__name__}")
    # mirrors oban_met lib/oban/met/examiner.ex store/3: %{"node", "name", "queue"} required,
    # and normalize_limit/1: "limit" is stored as "local_limit" (Pro checks carry that key)
    limit = raw.get("limit", raw.get("local_limit"))
    running = raw.get("running", [])
    workers = raw.get("workers")
    return Check(
        node=_text(raw, "node"),
        name=_text(raw, "name"),
        queue=_text(raw, "queue"),
        limit=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        paused=raw.get("paused") is True,
        # mirrors lib/oban/engines/basic.ex check_meta/3: running is the list of job ids
        running=len(running) if isinstance(running, list) else 0,
        uuid=str(raw.get("uuid", "")),
        started_at=_optional(raw.get("started_at")),
        updated_at=_optional(raw.get("updated_at")),
        workers=tuple(str(w) for w in workers) if isinstance(workers, list) else None,
    )


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Sighting:
    """A node heard on sonar or gossip: when last (caller's clock), where, in which forms."""

    node: str
    at: float
    channels: set[str] = field(default_factory=set)
    forms: set[Form] = field(default_factory=set)

    @property
    def legacy(self) -> bool:
        """Sent a base64(gzip) ping or Elixir check: only Oban ≤ 2.20 does (≥ 2.21 sends
        those small payloads as plain JSON)."""
        return "legacy" in self.forms


class Heard:
    """Sonar and gossip messages, kept as Elixir keeps them (a node per name, a check per
    ``{node, name, queue}``); malformed ones are counted in ``rejected`` and skipped."""

    def __init__(self) -> None:
        self.nodes: dict[str, Sighting] = {}
        self.checks: dict[tuple[str, str, str], tuple[float, Check]] = {}
        self.rejected = 0
        #: "Z:" payloads heard on the signal channel (they carry no sender)
        self.z_signals = 0

    def hear(self, channel: str, payload: str, at: float) -> None:
        try:
            message = decode_payload(payload)
        except DecodeError:
            self.rejected += 1
            return
        form = payload_form(payload)
        if channel == "sonar":
            self._sonar(message, form, at)
        elif channel == "gossip":
            self._gossip(message, form, at)
        elif channel == "signal" and form == "z":
            self.z_signals += 1

    def _sonar(self, message: dict[str, Any], form: Form, at: float) -> None:
        # mirrors lib/oban/sonar.ex handle_info({:notification, :sonar, %{"node" => node}})
        node = message.get("node")
        if not isinstance(node, str) or not node:
            self.rejected += 1
            return
        self._seen(node, "sonar", form, at)

    def _gossip(self, message: dict[str, Any], form: Form, at: float) -> None:
        # mirrors oban_met lib/oban/met/examiner.ex handle_info({:notification, :gossip, …})
        checks = message.get("checks")
        if not isinstance(checks, list):
            self.rejected += 1
            return
        for raw in checks:
            try:
                check = decode_check(raw)
            except DecodeError:
                self.rejected += 1
                continue
            self.checks[(check.node, check.name, check.queue)] = (at, check)
            # a Python node sends a check too big for plain JSON in the legacy form
            # (bridge.wire.gossip._oversized): that says nothing of an Oban version
            python = check.language == "python"
            self._seen(check.node, "gossip", None if python and form == "legacy" else form, at)

    def _seen(self, node: str, channel: str, form: Form | None, at: float) -> None:
        sighting = self.nodes.setdefault(node, Sighting(node, at))
        sighting.at = max(sighting.at, at)
        sighting.channels.add(channel)
        if form is not None:
            sighting.forms.add(form)

    def forget(self, at: float, *, stale_after: float = SONAR_STALE_AFTER) -> None:
        """Drop nodes silent for ``stale_after`` and checks older than the gossip TTL."""
        # mirrors lib/oban/sonar.ex prune_stale_nodes/1 and examiner.ex purge/2
        self.nodes = {n: s for n, s in self.nodes.items() if at - s.at <= stale_after}
        self.checks = {k: v for k, v in self.checks.items() if at - v[0] <= GOSSIP_TTL}

    def live_checks(self) -> list[Check]:
        return sorted((c for _, c in self.checks.values()), key=lambda c: (c.queue, c.node))


# --- the database's side, and the merge ----------------------------------------------------


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
