"""``perform_job``: one job run in-process through the runtime's own executor and
``wire.outcome.decide`` — the code a node runs — without a node or a database write.

The job is built as Oban.Testing's ``build_job/3`` does (validated like ``Job.new``, args and
meta JSON round-tripped, attempt 1); the result is what the worker returned and the
:class:`~bridge.wire.outcome.Ack` a node would write.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bridge.errors import ValidationError
from bridge.names import JobState
from bridge.runtime.worker import REGISTRY, Registry, Worker
from bridge.testing._run import session
from bridge.wire.job import Job, utc_naive
from bridge.wire.outcome import Ack, SnoozeStyle
from bridge.wire.recorded import fetch_recorded

_IDS = itertools.count(1)  # mirrors build_job's System.unique_integer([:positive])


@dataclass(frozen=True)
class Performed:
    """One run of a job: what the worker returned (or raised) and the ack a node would write."""

    job: Job
    ack: Ack
    result: Any = None  # the worker's return value (None when it raised or timed out)
    exception: BaseException | None = None

    @property
    def state(self) -> JobState:
        """The state the row would be left in (completed, retryable, scheduled, …)."""
        return self.ack.state

    @property
    def status(self) -> str:
        """Oban's result kind: success, failure, cancelled, discard or snoozed."""
        return self.ack.status

    @property
    def error(self) -> str | None:
        """The error text appended to ``errors`` (Elixir's format), if any."""
        return None if self.ack.error is None else str(self.ack.error["error"])

    @property
    def recorded(self) -> Any:
        """The recorded output, decoded; ``RecordedMissing`` when nothing was recorded."""
        return fetch_recorded({"recorded": self.ack.record is not None, **(self.ack.record or {})})


def resolve_worker(worker: Worker | str, registry: Registry | None = None) -> Worker:
    """A ``@worker`` or a registered name; mirrors build_job's assert_valid_worker/1."""
    if isinstance(worker, Worker):
        return worker
    found = (registry or REGISTRY).get(worker) if isinstance(worker, str) else None
    if found is None:
        raise AssertionError(
            f"Expected worker to be a @worker or the name of a registered one, got:\n\n{worker!r}"
        )
    return found


_BUILD_KEYS = ("id", "attempt", "attempted_at", "inserted_at")


def build_job(
    worker: Worker | str,
    args: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    **options: Any,
) -> Job:
    """The job ``perform_job`` runs: ``Job.new``'s rules, args/meta JSON round-tripped,
    attempt 1 and every time now unless given (``id``, ``attempt``, ``attempted_at``, …)."""
    # mirrors lib/oban/testing.ex build_job/3 (v2.23.1)
    spec = resolve_worker(worker, registry)
    extra = {key: options.pop(key) for key in _BUILD_KEYS if key in options}
    try:
        new = spec.new(args, **options)
    except ValidationError as exc:
        raise AssertionError(
            f"Expected args and opts to build a valid job, got validation errors:\n\n{exc}"
        ) from exc
    now = datetime.now(timezone.utc)
    at = {key: aware(extra.get(key), key) or now for key in ("attempted_at", "inserted_at")}
    scheduled = new.resolve_scheduled_at(utc_naive(now))
    return Job(
        id=extra.get("id") or next(_IDS),
        state=new.state,
        queue=new.queue,
        worker=new.worker,
        args=json.loads(new.args_json),
        attempt=extra.get("attempt", 1),
        max_attempts=new.max_attempts,
        inserted_at=at["inserted_at"],
        scheduled_at=now if scheduled is None else scheduled.replace(tzinfo=timezone.utc),
        attempted_at=at["attempted_at"],
        priority=new.priority or 0,
        tags=list(new.tags),
        meta=json.loads(new.meta_json),
    )


def aware(value: Any, name: str) -> datetime | None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValidationError(name, f"must be a timezone-aware datetime, got {value!r}")
    return value


def perform_job(
    worker: Worker | str,
    args: Mapping[str, Any] | None = None,
    *,
    with_safety: bool = False,
    snooze: SnoozeStyle = "max_attempts",
    rng: Callable[[], float] = random.random,
    registry: Registry | None = None,
    **options: Any,
) -> Performed:
    """Run ``worker`` on a job built from ``args`` and ``options`` (``Job.new``'s, plus
    ``id``, ``attempt``, ``attempted_at``, ``inserted_at``), in this process, through the
    node's executor and outcome rules; nothing is written.

    As Oban's ``perform_job`` (which runs unsafe), an exception the worker raises — or a
    ``TimeoutError`` past its timeout — propagates; ``with_safety=True`` returns it as the
    ``retryable``/``discarded`` ack a node would write instead. An ``executor="process"``
    worker runs in a thread here (no child process).
    """
    job = build_job(worker, args, registry=registry, **options)
    spec = resolve_worker(worker, registry)
    with session(snooze, rng) as running:
        outcome = running.run(job, spec)
    if outcome.error is not None and not with_safety:
        raise outcome.error
    return Performed(job, outcome.ack, outcome.value, outcome.error)
