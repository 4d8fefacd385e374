"""One structured event per finished job, in the shape Oban's default logger uses.

``event`` is ``job:stop`` or ``job:exception``; the fields are those of Oban's
``[:oban, :job, :stop | :exception]`` telemetry metadata that a log reader wants (id,
worker, queue, attempt, max_attempts, args, meta, tags, state, duration and queue_time
in ms). Hooks are plain callables taking the event dict: error reporters, metrics.
A hook that raises is logged and never affects the job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bridge.wire.job import Job
from bridge.wire.outcome import Ack

log = logging.getLogger("bridge.job")

Hook = Callable[[dict[str, Any]], None]


def job_event(job: Job, ack: Ack, duration_ms: float, error: str | None = None) -> dict[str, Any]:
    # mirrors lib/oban/telemetry.ex default_logger/4 (event, source, worker, queue, …)
    queue_time = None
    if job.attempted_at is not None and job.scheduled_at is not None:
        queue_time = max(0.0, (job.attempted_at - job.scheduled_at).total_seconds() * 1000)
    event: dict[str, Any] = {
        "event": ack.event,
        "source": "oban",
        "id": job.id,
        "worker": job.worker,
        "queue": job.queue,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "args": job.args,
        "meta": job.meta,
        "tags": job.tags,
        "state": ack.status,
        "duration": round(duration_ms, 3),
        "queue_time": None if queue_time is None else round(queue_time, 3),
    }
    if error is not None:
        event["error"] = error
    return event


class Events:
    """Where job events go: the ``bridge.job`` logger (text or JSON) and the hooks."""

    def __init__(self, hooks: Sequence[Hook] = (), json_format: bool = False):
        self.hooks = list(hooks)
        self.json_format = json_format

    @property
    def wanted(self) -> bool:
        return bool(self.hooks) or log.isEnabledFor(logging.INFO)

    def emit(self, job: Job, ack: Ack, started: float, finished: float) -> None:
        error = ack.error["error"] if ack.error else None
        event = job_event(job, ack, (finished - started) * 1000, error)
        if log.isEnabledFor(logging.INFO):
            level = logging.WARNING if ack.event == "job:exception" else logging.INFO
            log.log(level, "%s", self.render(event))
        for hook in self.hooks:
            try:
                hook(event)
            except Exception:
                log.exception("job event hook %r failed", hook)

    def render(self, event: dict[str, Any]) -> str:
        if self.json_format:
            return json.dumps(event, ensure_ascii=False, default=_default, sort_keys=False)
        error = event.get("error")
        first = error.splitlines()[0] if isinstance(error, str) and error else ""
        text = (
            f"{event['event']} id={event['id']} worker={event['worker']} queue={event['queue']} "
            f"attempt={event['attempt']}/{event['max_attempts']} state={event['state']} "
            f"duration={event['duration']}ms queue_time={event['queue_time']}ms"
        )
        return f"{text} error={first!r}" if first else text


def _default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else repr(value)
