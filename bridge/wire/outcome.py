"""What a job's result does to its row: one pure decision, ``decide(job, result, now, rng)``.

A worker returns a value (``None``, anything, or one of ``Record`` / ``Snooze`` / ``Cancel`` /
``Discard``) or raises; the executor wraps what happened (``Returned``, ``Raised``,
``TimedOut``, ``Killed``) and this module turns it into the :class:`Ack` an Elixir node
would have written: the state, the timestamp column for it, the appended ``errors`` element
(Elixir's ``{at, attempt, error}`` with Elixir's error text), backoff, snooze bookkeeping and
recorded output. Nothing here reads a clock or draws randomness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any, Literal

from bridge.errors import EncodeError, ValidationError
from bridge.names import JobState
from bridge.wire.backoff import Rng, default_backoff
from bridge.wire.elixir import inspect
from bridge.wire.job import Job
from bridge.wire.recorded import encode_recorded

SnoozeStyle = Literal["max_attempts", "attempt"]
#: Oban ≤ 2.23 bumps max_attempts on snooze; Oban main decrements attempt + meta.snoozed
SNOOZE_STYLES: tuple[SnoozeStyle, ...] = ("max_attempts", "attempt")

# -- what a worker may return -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """Complete the job and record ``value`` (ETF in ``meta.return``, as Oban Pro does)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Snooze:
    """Run the job again in ``seconds`` without counting a failure (``{:snooze, seconds}``)."""

    seconds: int

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            raise ValidationError("snooze", f"seconds must be an integer, got {self.seconds!r}")
        if self.seconds < 0:
            raise ValidationError("snooze", f"seconds must be >= 0, got {self.seconds}")


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop retrying: the job ends ``cancelled`` with the reason (``{:cancel, reason}``)."""

    reason: Any = "cancelled"


@dataclass(frozen=True, slots=True)
class Discard:
    """Give up: the job ends ``discarded`` with the reason (``{:discard, reason}``)."""

    reason: Any = "discarded"


# -- what happened when the executor ran it ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Returned:
    value: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """An exception, already reduced to text (it may come back from a child process)."""

    kind: str
    message: str
    frames: tuple[str, ...] = ()

    @classmethod
    def of(cls, exc: BaseException, skip: str | None = None, root: str | None = None) -> Raised:
        """``skip``: a path prefix whose frames (the runtime calling the worker) are left out;
        ``root``: a directory that frame paths are shown relative to (as Elixir's are)."""
        frames = format_frames(exc.__traceback__, skip, root)
        return cls(exception_name(type(exc)), str(exc), tuple(frames))


@dataclass(frozen=True, slots=True)
class TimedOut:
    ms: int


@dataclass(frozen=True, slots=True)
class Killed:
    """Stopped by a ``pkill`` signal; Elixir records ``{:cancel, :shutdown}``."""


Result = Returned | Raised | TimedOut | Killed
_SPECIAL = frozenset((Record, Snooze, Cancel, Discard))

# -- the decision -----------------------------------------------------------------------------


@dataclass(slots=True)
class Ack:
    """One row change. Field names are the columns (or their deltas) the ack writes."""

    job_id: int
    attempted_at: datetime  # the guard: only this run's row is acknowledged
    state: JobState
    at: datetime  # completed_at / discarded_at / cancelled_at, by state
    scheduled_at: datetime | None = None
    error: dict[str, Any] | None = None  # appended to errors
    record: dict[str, Any] | None = None  # merged into meta
    meta: dict[str, Any] | None = None  # replaces meta (Oban main's snooze)
    max_attempts_add: int = 0
    attempt_add: int = 0
    event: str = "job:stop"  # the telemetry event: job:stop or job:exception
    status: str = "success"  # success, failure, cancelled, discard, snoozed

    @property
    def plain_complete(self) -> bool:
        return self.state is JobState.COMPLETED and self.record is None


Backoff = Callable[[Job], int]


def decide(
    job: Job,
    result: Result,
    *,
    now: datetime,
    rng: Rng,
    recorded: bool = False,
    backoff: Backoff | None = None,
    snooze: SnoozeStyle = "max_attempts",
) -> Ack:
    """The ack an Elixir node writes for ``result`` of this attempt of ``job``."""
    # mirrors lib/oban/queue/executor.ex handle_return/1 and record_finished/1
    assert job.id is not None and job.attempted_at is not None
    base = Ack(job.id, job.attempted_at, JobState.COMPLETED, now)
    if type(result) is Returned and not recorded and type(result.value) not in _SPECIAL:
        return base  # the common case first: completed
    if isinstance(result, Returned):
        return _returned(job, base, result.value, now, rng, recorded, backoff, snooze)
    if isinstance(result, Killed):
        # mirrors lib/oban/queue/producer.ex handle_info/2 {:pkill}: {:cancel, :shutdown}
        return _cancelled(job, base, perform_error(job.worker, "{:cancel, :shutdown}"))
    if isinstance(result, TimedOut):
        # mirrors lib/oban/exceptions.ex Oban.TimeoutError message/1
        text = f"** (Oban.TimeoutError) {job.worker} timed out after {result.ms}ms"
        return _failed(job, base, text, now, rng, backoff)
    return _failed(job, base, error_text(result), now, rng, backoff)


def _returned(
    job: Job,
    base: Ack,
    value: Any,
    now: datetime,
    rng: Rng,
    recorded: bool,
    backoff: Backoff | None,
    snooze: SnoozeStyle,
) -> Ack:
    if isinstance(value, Snooze):
        return _snoozed(job, base, value.seconds, now, snooze)
    if isinstance(value, Cancel):
        return _cancelled(job, base, perform_error(job.worker, _tagged("cancel", value.reason)))
    if isinstance(value, Discard):
        # mirrors lib/oban/queue/executor.ex: {:discard, reason} → discard_job, PerformError
        text = perform_error(job.worker, _tagged("discard", value.reason))
        return _with_error(job, base, JobState.DISCARDED, text, "job:stop", "discard")
    if isinstance(value, Record) or recorded:
        raw = value.value if isinstance(value, Record) else value
        try:
            # mirrors Oban Pro's recorded workers: meta.recorded + meta.return (compressed ETF)
            base.record = {"recorded": True, "return": encode_recorded(raw)}
        except EncodeError as exc:  # the worker's value, not our frames, is the problem
            raised = Raised(exception_name(type(exc)), str(exc))
            return _failed(job, base, error_text(raised), now, rng, backoff)
    return base


def _snoozed(job: Job, base: Ack, seconds: int, now: datetime, style: SnoozeStyle) -> Ack:
    base.state, base.status = JobState.SCHEDULED, "snoozed"
    base.scheduled_at = now + timedelta(seconds=seconds)
    if style == "attempt":
        # mirrors lib/oban/engines/basic.ex snooze_job/3 (main, b48d5198): attempt - 1, meta.snoozed
        meta = dict(job.meta)
        snoozed = meta.get("snoozed")
        meta["snoozed"] = (snoozed if type(snoozed) is int else 0) + 1
        base.meta, base.attempt_add = meta, -1
    else:
        # mirrors lib/oban/engines/basic.ex snooze_job/3 (v2.18.3, v2.23.1): max_attempts + 1
        base.max_attempts_add = 1
    return base


def _cancelled(job: Job, base: Ack, text: str) -> Ack:
    # mirrors lib/oban/engines/basic.ex cancel_job/2: cancelled_at + errors ||
    return _with_error(job, base, JobState.CANCELLED, text, "job:stop", "cancelled")


def _failed(
    job: Job, base: Ack, text: str, now: datetime, rng: Rng, backoff: Backoff | None
) -> Ack:
    if job.attempt >= job.max_attempts:
        # mirrors lib/oban/queue/executor.ex: exhausted attempts discard (discarded_at)
        return _with_error(job, base, JobState.DISCARDED, text, "job:exception", "discard")
    # mirrors lib/oban/engines/basic.ex error_job/3: retryable, scheduled_at = now + backoff
    seconds = backoff(job) if backoff is not None else None
    if seconds is None:
        seconds = default_backoff(job.attempt, job.max_attempts, rng)
    ack = _with_error(job, base, JobState.RETRYABLE, text, "job:exception", "failure")
    ack.scheduled_at = now + timedelta(seconds=seconds)
    return ack


def _with_error(job: Job, base: Ack, state: JobState, text: str, event: str, status: str) -> Ack:
    base.state, base.event, base.status = state, event, status
    base.error = error_element(base.at, job.attempt, text)
    return base


# -- Elixir's error text ----------------------------------------------------------------------


def error_element(at: datetime, attempt: int, text: str) -> dict[str, Any]:
    """One ``errors`` element: ``at`` with 6 fractional digits and ``Z``."""
    # mirrors lib/oban/job.ex format_attempt/1: %{at: utc_now, attempt: attempt, error: text}
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    stamp = at.isoformat(timespec="microseconds") + "Z"
    return {"at": stamp, "attempt": attempt, "error": text}


def perform_error(worker: str, returned: str) -> str:
    """``Oban.PerformError``'s text for a returned tuple such as ``{:cancel, "nope"}``."""
    # mirrors lib/oban/exceptions.ex Oban.PerformError: "#{worker} failed with #{inspect(r)}"
    return f"** (Oban.PerformError) {worker} failed with {returned}"


def _tagged(tag: str, reason: Any) -> str:
    return "{:" + tag + ", " + inspect(reason) + "}"


def error_text(raised: Raised) -> str:
    """``Exception.format/3``'s shape: the banner, then frames indented by four spaces."""
    # mirrors Elixir's Exception.format_banner/3 ("** (Module) message") + format_stacktrace
    lines = [f"** ({raised.kind}) {raised.message}"]
    lines.extend(f"    {frame}" for frame in raised.frames)
    return "\n".join(lines) + ("\n" if raised.frames else "")


def exception_name(kind: type[BaseException]) -> str:
    """``ValueError`` for built-ins, ``package.module.Error`` otherwise."""
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def format_frames(
    tb: TracebackType | None, skip: str | None = None, root: str | None = None
) -> list[str]:
    """Python's frame lines (``File "f.py", line 3, in fn``), most recent call last.

    Read from the traceback objects only: no source lines, so no file is opened here.
    """
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if skip is not None and code.co_filename.startswith(skip):
            tb = tb.tb_next
            continue
        path = code.co_filename
        if root and path.startswith(root):
            path = path[len(root) :]
        frames.append(f'File "{path}", line {tb.tb_lineno}, in {code.co_name}')
        tb = tb.tb_next
    return frames
