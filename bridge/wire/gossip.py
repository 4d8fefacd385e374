"""What nodes tell each other about themselves: sonar pings and queue check-ins (gossip).

* **Sonar** (``<prefix>.oban_sonar``): ``{"node": <node>, "ping": true}``. Elixir's
  ``Oban.Sonar`` records every node it hears, so ``Oban.Notifier.status/1`` counts a Python
  node once it pings. Never a ``"time"`` key: Sonar would store it as a BEAM monotonic time.
* **Gossip** (``<prefix>.oban_gossip``): ``{"checks": [check, …]}``, the shape oban_met's
  Examiner stores and Oban Web draws its queue pages from. A check is what Elixir's
  ``Producer.check/1`` returns for a Basic-engine queue, plus ``"workers"``: the worker
  names a Python producer fetches (Elixir's ``Oban.Met``/Oban Web read checks by key, so an
  extra key is inert there; ``oban-bridge doctor`` reads it).

Pure: times come in as parameters, nothing here reads a clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, NamedTuple

from bridge.errors import DecodeError
from bridge.wire.notify import MAX_PAYLOAD_BYTES, encode_legacy, encode_payload


def encode_sonar(node: str) -> str:
    """The ping: ``{"node":"<node>","ping":true}``, byte-identical to Oban 2.23.1's."""
    # mirrors lib/oban/sonar.ex listen_notify/1: %{node: conf.node, ping: true}, no time key
    return encode_payload({"node": node, "ping": True})


def decode_sonar(message: Mapping[str, Any]) -> str:
    """The pinging node's name; a payload ``"time"`` is ignored (it is another VM's clock)."""
    # mirrors lib/oban/sonar.ex handle_info {:notification, :sonar, %{"node" => node}}
    node = message.get("node")
    if not isinstance(node, str) or not node:
        raise DecodeError(f"sonar node must be a non-empty string, got {node!r:.60}")
    return node


@dataclass(frozen=True, slots=True)
class ProducerCheck:
    """One producer's check-in; fields are the JSON keys."""

    node: str
    name: str
    queue: str
    limit: int
    paused: bool
    uuid: str
    started_at: datetime
    updated_at: datetime
    refresh_interval: int  # milliseconds
    running: tuple[int, ...] = ()
    shutdown_started_at: datetime | None = None
    workers: tuple[str, ...] = ()


def encode_check(check: ProducerCheck) -> dict[str, Any]:
    """A check as Elixir's producer reports it, plus ``workers`` (sorted)."""
    # mirrors lib/oban/engines/basic.ex init/2 and check_meta/3 (v2.23.1; v2.18.3 has no
    # shutdown_started_at — Oban Web reads it with a default) and lib/oban/queue/producer.ex
    # handle_call(:check, …); name is inspect(conf.name), as oban_met's sanitize_name/1 sends it
    return {
        "limit": check.limit,
        "name": check.name,
        "node": check.node,
        "paused": check.paused,
        "queue": check.queue,
        "refresh_interval": check.refresh_interval,
        "running": list(check.running),
        "shutdown_started_at": _elixir_time(check.shutdown_started_at),
        "started_at": _elixir_time(check.started_at),
        "updated_at": _elixir_time(check.updated_at),
        "uuid": check.uuid,
        "workers": sorted(check.workers),
    }


class Encoded(NamedTuple):
    """Encoded gossip: the payloads to send, and the queues that did not fit whole."""

    payloads: list[str]
    trimmed: list[str]  # queues whose running list was cut to fit one payload
    dropped: list[str]  # queues whose check cannot fit a payload at all


def encode_gossip(checks: Sequence[ProducerCheck], *, limit: int = MAX_PAYLOAD_BYTES) -> Encoded:
    """``{"checks": […]}`` payloads under PostgreSQL's cap, as few as the checks allow.

    oban_met's Examiner stores each check of each message on its own, so splitting a
    node's checks over several notifications loses nothing. A check too big for a plain
    payload alone is sent gzipped in the legacy form every Oban version reads; failing
    that, its ``running`` list is cut until it fits.
    """
    payloads: list[str] = []
    trimmed: list[str] = []
    dropped: list[str] = []
    batch: list[str] = []
    size = len(_HEAD) + len(_TAIL)
    for check in checks:
        part = _json(encode_check(check))
        cost = len(part.encode()) + (1 if batch else 0)
        if size + cost <= limit:
            batch.append(part)
            size += cost
            continue
        if batch:
            payloads.append(_HEAD + ",".join(batch) + _TAIL)
            batch, size = [], len(_HEAD) + len(_TAIL)
        if size + len(part.encode()) <= limit:
            batch.append(part)
            size += len(part.encode())
            continue
        alone = _oversized(check, limit)
        if alone is None:
            dropped.append(check.queue)
        else:
            payloads.append(alone[0])
            if alone[1]:
                trimmed.append(check.queue)
    if batch:
        payloads.append(_HEAD + ",".join(batch) + _TAIL)
    return Encoded(payloads, trimmed, dropped)


_HEAD = '{"checks":['
_TAIL = "]}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _oversized(check: ProducerCheck, limit: int) -> tuple[str, bool] | None:
    """One payload for a check too big for plain JSON: (payload, running was cut), or None."""
    # mirrors lib/oban/notifier.ex decode/1: the legacy base64(gzip(json)) form is read by
    # every Oban version, where "Z:" would crash ≤ 2.20's notifier (oban-wire-spec §3.2)
    legacy = encode_legacy({"checks": [encode_check(check)]})
    if len(legacy) <= limit:
        return legacy, False
    best: str | None = None
    low, high = 0, len(check.running) - 1  # lengths of the kept prefix of running
    while low <= high:
        keep = (low + high) // 2
        text = encode_legacy(
            {"checks": [encode_check(replace(check, running=check.running[:keep]))]}
        )
        if len(text) <= limit:
            best, low = text, keep + 1
        else:
            high = keep - 1
    return None if best is None else (best, True)


def _elixir_time(value: datetime | None) -> str | None:
    """``DateTime.to_iso8601/1`` of a microsecond UTC time: 6 fractional digits and ``Z``."""
    # mirrors Jason's DateTime encoding (lib/oban/engines/basic.ex stamps utc_now/0)
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"
