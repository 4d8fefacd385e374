"""What the cluster says about itself: sonar pings and gossip check-ins.

Elixir nodes announce themselves on ``sonar`` (``{"node": n, "ping": true}``) and, where
oban_met runs, their queues on ``gossip`` (``{"checks": [check, …]}``); Python nodes do both.
:class:`Heard` keeps what was said, keyed as Elixir keys it, with receipt times on the caller's
clock (monotonic seconds); :func:`bridge.wire.status.cluster_status` merges it with the
tables. Pure: no clock, no I/O — times are parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bridge.errors import DecodeError
from bridge.wire.notify import decode_payload
from bridge.wire.producer_id import lock_objid

#: a node not heard for this long is dropped — mirrors lib/oban/sonar.ex stale_after (v2.23.1;
#: it pings every 5–60 s, adaptive; v2.18.3 every 5 s)
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
