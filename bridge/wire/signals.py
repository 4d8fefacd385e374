"""Signals a node receives on ``<prefix>.oban_signal``, checked before anything acts on them.

Elixir's producer and midwife act on a signal's keys as they come: a ``"limit": "ten"`` is
stored and poisons later dispatches, an unknown key in ``scale`` or ``start`` crashes the
process (oban-wire-spec §3.5). We decode a signal into a :class:`Signal` first; anything a
Basic-engine producer could not apply is a ``DecodeError`` naming the key, so the receiver
logs, counts and skips it. Keys we have no use for (``local_only``, ``node``, ``ident``, an
Oban Pro ``global_limit``…) are ignored, never turned into anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import DecodeError
from bridge.wire.job import MAX_NAME_LENGTH
from bridge.wire.notify import ALL_QUEUES, MAX_LIMIT

#: every action Oban sends on the signal channel (lib/oban.ex)
ACTIONS = ("pause", "resume", "scale", "start", "stop", "pkill")


@dataclass(frozen=True, slots=True)
class Signal:
    """One decoded signal; fields an action does not use stay ``None``."""

    action: str
    queue: str | None = None
    limit: int | None = None
    paused: bool | None = None
    job_id: int | None = None

    def targets(self, queue: str) -> bool:
        """Whether this signal is for a producer of ``queue``."""
        # mirrors lib/oban/queue/producer.ex handle_info {:notification, :signal, …}: "*"
        # matches only pause and resume; scale (and midwife.ex start/stop) match by name
        if self.queue == ALL_QUEUES and self.action in ("pause", "resume"):
            return True
        return self.queue == queue


def decode_signal(message: Mapping[str, Any]) -> Signal:
    """A :class:`Signal` from a decoded payload, or ``DecodeError`` saying what is wrong."""
    action = message.get("action")
    if action not in ACTIONS:
        raise DecodeError(f"unknown signal action {action!r:.60}")
    if action == "pkill":
        # mirrors lib/oban/queue/producer.ex: %{"action" => "pkill", "job_id" => jid}
        return Signal("pkill", job_id=_integer(message, "job_id", minimum=1, required=True))
    queue = _queue(message)
    if action in ("pause", "resume", "stop"):
        return Signal(action, queue)
    if action == "start" and len(queue) > MAX_NAME_LENGTH:
        # mirrors the queue_length CHECK of lib/oban/migrations/postgres/v02.ex: no job can
        # ever be in such a queue, so a producer for it would only cost polls
        raise DecodeError(f"start signal queue is over {MAX_NAME_LENGTH} characters")
    limit = _integer(message, "limit", minimum=1, required=action == "start")
    paused = _boolean(message, "paused")
    if action == "scale" and limit is None and paused is None:
        # mirrors lib/oban/engines/basic.ex: limit and paused are all a Basic producer holds
        raise DecodeError("scale signal without a limit or paused to apply")
    return Signal(action, queue, limit=limit, paused=paused)


def _queue(message: Mapping[str, Any]) -> str:
    # mirrors lib/oban.ex validate_queue_opts!/1: a non-empty name
    queue = message.get("queue")
    if not isinstance(queue, str) or not queue:
        raise DecodeError(f"signal queue must be a non-empty string, got {queue!r:.60}")
    return queue


def _integer(message: Mapping[str, Any], key: str, *, minimum: int, required: bool) -> int | None:
    # mirrors lib/oban/engines/basic.ex validate_meta_opt({:limit, …}): an integer > 0, and
    # within the bigint a fetch's LIMIT (or a job id) is
    if key not in message and not required:
        return None
    value = message.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_LIMIT:
        raise DecodeError(
            f"signal {key} must be an integer in {minimum}..2**63-1, got {value!r:.60}"
        )
    return value


def _boolean(message: Mapping[str, Any], key: str) -> bool | None:
    # mirrors lib/oban/engines/basic.ex validate_meta_opt({:paused, …}): a boolean
    if key not in message:
        return None
    value = message[key]
    if not isinstance(value, bool):
        raise DecodeError(f"signal {key} must be a boolean, got {value!r:.60}")
    return value
