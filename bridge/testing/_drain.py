"""``drain_queue``: a queue's available jobs claimed with the node's fetch, run one by one
in this process through the node's executor, each real ack written — as
lib/oban/queue/drainer.ex does, without a node."""

from __future__ import annotations

import random
import uuid
from datetime import datetime
from typing import Any, cast

from bridge.errors import ValidationError
from bridge.ops.acks import ack_jobs, fetch_jobs
from bridge.ops.testing import stage_queue
from bridge.runtime.clock import utc_now
from bridge.runtime.worker import REGISTRY, Registry, Worker
from bridge.testing._enqueued import Target, client_for
from bridge.testing._perform import aware
from bridge.testing._run import session
from bridge.wire.job import decode_fetched, utc_naive
from bridge.wire.outcome import SnoozeStyle

#: drain counts, Oban's keys (lib/oban/queue/drainer.ex: cancelled, discard, failure, …)
DRAIN_KEYS = ("cancelled", "discard", "failure", "snoozed", "success")
INFINITE = 100_000_000  # mirrors lib/oban/queue/drainer.ex @infinite


def drain_queue(
    target: Target,
    queue: str,
    *,
    with_scheduled: bool | datetime = False,
    with_recursion: bool = False,
    with_limit: int | None = None,
    with_safety: bool = True,
    snooze: SnoozeStyle = "max_attempts",
    registry: Registry | None = None,
    prefix: str | None = None,
) -> dict[str, int]:
    """Run the queue's available jobs here, one by one, writing each real ack; returns Oban's
    counts ``{"cancelled", "discard", "failure", "snoozed", "success"}``.

    Only jobs of registered workers are claimed, as a node claims them (a job for an Elixir
    worker stays available). ``with_scheduled``: first make scheduled and retryable jobs
    available (all, or those due by a datetime); ``with_recursion``: drain again while runs
    enqueue more; ``with_limit``: jobs per round; ``with_safety=False``: re-raise a worker's
    exception after writing its ack.
    """
    limit = _drain_options(queue, with_scheduled, with_limit)
    workers = registry or REGISTRY
    until = utc_naive(with_scheduled) if isinstance(with_scheduled, datetime) else None
    counts = dict.fromkeys(DRAIN_KEYS, 0)
    attempted_by = [_node_name(), str(uuid.uuid4())]  # a v4 uuid: never taken for ours
    with session(snooze, random.random) as running, client_for(target, prefix) as client:
        run = client.source.run
        while True:
            before = dict(counts)
            if with_scheduled is not False:
                run(stage_queue(client.prefix, queue, until))
            # mirrors lib/oban/queue/drainer.ex fetch_available/2: the engine's fetch_jobs
            rows = run(
                fetch_jobs(
                    client.prefix, queue, workers.names(), limit,
                    now=utc_now(), attempted_by=attempted_by,
                )
            )  # fmt: skip
            for job in map(decode_fetched, rows):
                spec = cast(Worker, workers.get(job.worker))
                outcome = running.run(job, spec)
                run(ack_jobs(client.prefix, [outcome.ack], now=outcome.ack.at))
                counts[outcome.ack.status] += 1
                if outcome.error is not None and not with_safety:
                    raise outcome.error  # mirrors executor.ex reraise_unsafe/1, after the ack
            if not with_recursion or counts == before:
                return counts


def _drain_options(queue: Any, with_scheduled: Any, with_limit: Any) -> int:
    if not isinstance(queue, str) or not queue:
        raise ValidationError("queue", f"must be a queue name, got {queue!r}")
    if not isinstance(with_scheduled, (bool, datetime)):
        raise ValidationError(
            "with_scheduled", f"must be a bool or a datetime, got {with_scheduled!r}"
        )
    if isinstance(with_scheduled, datetime):
        aware(with_scheduled, "with_scheduled")
    if with_limit is None:
        return INFINITE
    if isinstance(with_limit, bool) or not isinstance(with_limit, int) or with_limit < 1:
        raise ValidationError("with_limit", f"must be an integer >= 1, got {with_limit!r}")
    return with_limit


def _node_name() -> str:
    from bridge.runtime.node import default_node_name

    return default_node_name()
