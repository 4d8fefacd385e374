"""Waiting for a job to finish: the poll schedule and the finished job's answer.

Oban (open source) announces no job completion: ``oban_insert`` fires on inserts, and the
notifications a node sends on completion are its own in-process telemetry, never a
PostgreSQL NOTIFY that another process could LISTEN for. So a waiter polls the row: every
10 ms at first (a short job is seen almost at once), backing off by half each time to
250 ms (a long job costs four cheap primary-key reads a second). Nothing here sleeps or
reads a clock; the clients do, over this schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bridge.errors import ValidationError
from bridge.names import FINAL_STATES, JobState
from bridge.wire.job import Job
from bridge.wire.query import check_id
from bridge.wire.recorded import fetch_recorded

POLL_FIRST = 0.010  # seconds: Oban.Testing's own @wait_interval (lib/oban/testing.ex)
POLL_MAX = 0.250  # seconds
POLL_FACTOR = 1.5
DEFAULT_WAIT = 30.0  # seconds


def poll_delays() -> Iterator[float]:
    """10 ms, 15 ms, 22.5 ms, … up to 250 ms, then 250 ms for ever."""
    delay = POLL_FIRST
    while True:
        yield delay
        delay = min(delay * POLL_FACTOR, POLL_MAX)


def check_timeout(value: Any) -> float | None:
    """Seconds to wait (``None``: no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError("timeout", f"must be a positive number of seconds, got {value!r}")
    return float(value)


def job_id_of(job: Job | int) -> int:
    """The id of a job or of a job id, checked before any I/O."""
    return check_id(job.id if isinstance(job, Job) else job)


def is_final(job: Job) -> bool:
    """Completed, discarded or cancelled: a state a job never leaves on its own."""
    return job.state.value in FINAL_STATES


@dataclass(frozen=True)
class Finished:
    """A job in a final state, with its recorded output decoded.

    ``recorded`` says whether the job recorded output (``meta.recorded`` with a ``return``,
    as Oban Pro's recorded workers and bridge's ``Record`` write it); ``value`` is that
    output decoded from ETF, or ``None`` when there is none.
    """

    job: Job
    recorded: bool = False
    value: Any = None

    @property
    def state(self) -> JobState:
        return self.job.state

    @property
    def completed(self) -> bool:
        return self.job.state is JobState.COMPLETED


def finished(job: Job) -> Finished:
    """The answer for a finished job; a malformed recording raises ``DecodeError``."""
    meta = job.meta
    if meta.get("recorded") is not True or meta.get("return") is None:
        return Finished(job)
    return Finished(job, True, fetch_recorded(meta))
