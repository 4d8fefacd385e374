"""Jobs as Oban stores them: the row, the changeset rules, and the insert parameters.

``Job`` has exactly the columns of ``oban_jobs`` (plus Oban's virtual
``conflict?`` flag as ``conflict``). ``Job.new`` plays the part of Elixir's
``Oban.Job.new/2``: it validates and normalises the options *before* anything
touches the database and returns a :class:`NewJob`, the changeset equivalent.
Time is never read here: a relative ``schedule_in`` is resolved against a
``now`` the caller passes in.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring,
)
from typing import TYPE_CHECKING, Any, TypedDict

from bridge.errors import DecodeError, ValidationError
from bridge.names import JobState
from bridge.wire import _unicode
from bridge.wire.unique import (
    Replace,
    ReplaceOption,
    Unique,
    UniqueOption,
    cast_replace,
    cast_unique,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


_AVAILABLE, _SCHEDULED = JobState.AVAILABLE, JobState.SCHEDULED

#: the columns of oban_jobs, in a fresh install's physical order (lib/oban/job.ex schema)
COLUMNS = (
    "id",
    "state",
    "queue",
    "worker",
    "args",
    "errors",
    "attempt",
    "max_attempts",
    "inserted_at",
    "scheduled_at",
    "attempted_at",
    "completed_at",
    "attempted_by",
    "discarded_at",
    "priority",
    "tags",
    "meta",
    "cancelled_at",
)

DEFAULT_QUEUE = "default"  # mirrors lib/oban/job.ex schema default
DEFAULT_MAX_ATTEMPTS = 20  # mirrors lib/oban/job.ex schema default
MAX_NAME_LENGTH = 127  # mirrors the queue_length/worker_length CHECKs of v02.ex (< 128 chars)

#: time units accepted by schedule_in / unique period (lib/oban/job.ex @time_units)
TIME_UNITS: Mapping[str, int] = {
    "second": 1,
    "seconds": 1,
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86_400,
    "days": 86_400,
    "week": 604_800,
    "weeks": 604_800,
}

Period = int | timedelta | tuple[int, str]


class JobOptions(TypedDict, total=False):
    """The options of ``Oban.Job.new/2`` (lib/oban/job.ex @permitted_params + virtuals)."""

    queue: str
    priority: int | None
    max_attempts: int
    tags: Iterable[Any]
    meta: Mapping[str, Any] | None
    scheduled_at: datetime | None
    schedule_in: Period | None
    unique: UniqueOption
    replace: ReplaceOption


def to_seconds(value: Period, name: str) -> int:
    """Cast ``60``, ``timedelta(minutes=1)`` or ``(1, "minute")`` to whole seconds."""
    # mirrors lib/oban/period.ex to_seconds/1
    if isinstance(value, bool):
        raise ValidationError(name, f"expected an integer, a timedelta or (n, unit), got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and value[1] in TIME_UNITS
    ):
        return value[0] * TIME_UNITS[value[1]]
    raise ValidationError(name, f"expected an integer, a timedelta or (n, unit), got {value!r}")


def normalize_tags(tags: Iterable[Any]) -> list[str]:
    """String, trim, lowercase, drop empties, dedupe keeping order (``Job.normalize_tags``)."""
    # mirrors lib/oban/job.ex normalize_tags/1
    if not tags:
        return []
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise ValidationError("tags", f"expected a list of strings, got {tags!r}")
    out: list[str] = []
    for tag in tags:
        if type(tag) is not str:
            if isinstance(tag, bool) or not isinstance(tag, (str, int, float)):
                raise ValidationError("tags", f"expected strings, got {tag!r}")
            tag = str(tag)
        # String.trim/1 then String.downcase/1 exactly (not str.strip/str.lower: _unicode)
        text = _unicode.downcase(_unicode.trim(tag))
        if text and text not in out:
            out.append(text)
    return out


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} value {value!r}")


# mirrors Jason's defaults: UTF-8 text, no NaN/Infinity (jsonb rejects them); non-string
# keys are stringified as Jason does with String.Chars (%{1 => x} → {"1": x})
_JSON = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_refuse
)
# the same encoder built once (JSONEncoder.encode builds a new C encoder on every call,
# which is most of its cost for the small maps job args are)
_C_JSON = (
    c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, False)
    if c_make_encoder is not None
    else None
)


def encode_json(value: Any, name: str) -> str:
    """Serialise args/meta as PostgreSQL will store them, refusing what JSON can't hold."""
    if not isinstance(value, Mapping):
        raise ValidationError(name, f"must be a JSON object (dict), got {type(value).__name__}")
    if not value:
        return "{}"
    try:
        if _C_JSON is not None and type(value) is dict:
            text = "".join(_C_JSON(value, 0))
        else:
            text = _JSON.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(name, f"is not JSON-serialisable: {exc}") from None
    if "\\u0000" in text and _holds_nul(value):  # rare: look closer only then
        raise ValidationError(name, _NUL)
    return text


#: jsonb and text columns cannot hold U+0000; the server would refuse the whole statement
_NUL = "contains a NUL character (U+0000), which PostgreSQL cannot store"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


def _check_name(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, f"must be a string, got {type(value).__name__}")
    if not value:
        raise ValidationError(name, "can't be blank")
    if "\x00" in value:
        raise ValidationError(name, _NUL)
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            name, f"should be at most {MAX_NAME_LENGTH} character(s), got {len(value)}"
        )
    return value


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(name, f"must be {bound}, got {value}")
    return value


def _utc_naive(value: datetime, name: str) -> datetime:
    """Columns are ``timestamp without time zone`` holding UTC (oban-wire-spec §1.1).

    A naive datetime is refused, never guessed: ``datetime.now()`` is the machine's local
    time, and taking it as UTC would silently move the job by the machine's UTC offset.
    """
    if not isinstance(value, datetime):
        raise ValidationError(name, f"must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValidationError(
            name,
            "must be timezone-aware (a naive datetime could be local time or UTC), "
            "e.g. datetime.now(timezone.utc) + timedelta(hours=1)",
        )
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def utc_aware(value: datetime | None) -> datetime | None:
    """A column value (naive UTC, as Oban stores time) as a timezone-aware UTC datetime."""
    if value is None or value.tzinfo is timezone.utc:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def utc_naive(value: datetime) -> datetime:
    """The inverse of :func:`utc_aware`: how a time is stored (naive UTC)."""
    return value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(slots=True)
class NewJob:
    """A validated job ready for insertion: Elixir's insert changeset, as data.

    ``args_json`` / ``meta_json`` are the serialised forms (done once, at validation).
    Treat it as immutable: build another with ``Job.new`` (not frozen only because a
    frozen dataclass costs a third of ``Job.new``'s time in bulk inserts).
    """

    worker: str
    args: dict[str, Any]
    queue: str = DEFAULT_QUEUE
    priority: int | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    tags: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    schedule_in: int | None = None
    unique: Unique | None = None
    replace: Replace | None = None
    args_json: str = "{}"
    meta_json: str = "{}"
    state: JobState = JobState.AVAILABLE

    def resolve_scheduled_at(self, now: datetime) -> datetime | None:
        """The absolute ``scheduled_at`` (app clock), or None for the DB default."""
        if self.scheduled_at is not None:
            return self.scheduled_at
        if self.schedule_in is not None:
            # mirrors lib/oban/job.ex to_timestamp/1: DateTime.add(utc_now(), seconds)
            return utc_naive(now) + timedelta(seconds=self.schedule_in)
        return None


@dataclass(slots=True)
class Job:
    """One ``oban_jobs`` row; field names are the column names.

    Read from the database, its datetimes are timezone-aware UTC (the columns hold naive UTC).
    """

    id: int | None
    state: JobState
    queue: str
    worker: str
    args: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    attempt: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    inserted_at: datetime | None = None
    scheduled_at: datetime | None = None
    attempted_at: datetime | None = None
    completed_at: datetime | None = None
    attempted_by: list[str] | None = None
    discarded_at: datetime | None = None
    priority: int = 0
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    cancelled_at: datetime | None = None
    #: Oban's virtual ``conflict?``: True when a unique insert found this existing job
    conflict: bool = field(default=False, compare=False)

    @staticmethod
    def new(
        worker: str, args: Mapping[str, Any] | None = None, **options: Unpack[JobOptions]
    ) -> NewJob:
        """Validate a job like ``Oban.Job.new/2`` and return the insert parameters.

        Raises ``ValidationError`` naming the field, before anything is written.
        """
        return new_job(worker, args, **options)

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data, timestamps in ISO-8601 (naive UTC, like row_to_json)."""
        out: dict[str, Any] = {}
        for name in COLUMNS:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = utc_naive(value).isoformat()
            elif isinstance(value, JobState):
                value = value.value
            out[name] = value
        return out


def _refuse_unknown(options: Mapping[str, Any]) -> None:
    """A misspelled option is a ValidationError naming it, not Python's TypeError."""
    name = sorted(options)[0]
    known = sorted(JobOptions.__annotations__)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"options are {', '.join(known)}"
    raise ValidationError(name, f"unknown option; {hint}")


def new_job(
    worker: Any,
    args: Any = None,
    *,
    queue: Any = DEFAULT_QUEUE,
    priority: Any = None,
    max_attempts: Any = DEFAULT_MAX_ATTEMPTS,
    tags: Iterable[Any] = (),
    meta: Any = None,
    scheduled_at: Any = None,
    schedule_in: Any = None,
    unique: UniqueOption = None,
    replace: ReplaceOption = None,
    **unknown: Any,
) -> NewJob:
    """Implementation of :meth:`Job.new` (see there)."""
    if unknown:
        _refuse_unknown(unknown)
    # mirrors lib/oban/job.ex new/2: required fields, lengths, max_attempts > 0, priority 0..9
    worker = _check_name(worker, "worker")
    args = {} if args is None else args
    args_json = encode_json(args, "args")
    queue = _check_name(queue, "queue")
    if priority is not None:
        priority = _check_int(priority, "priority", 0, 9)
    max_attempts = _check_int(max_attempts, "max_attempts", 1, 2**31 - 1)
    meta = {} if meta is None else meta
    meta_json = encode_json(meta, "meta")
    if scheduled_at is not None and schedule_in is not None:
        raise ValidationError("schedule_in", "give either scheduled_at or schedule_in, not both")
    if scheduled_at is not None:
        scheduled_at = _utc_naive(scheduled_at, "scheduled_at")
    seconds = to_seconds(schedule_in, "schedule_in") if schedule_in is not None else None
    # mirrors lib/oban/job.ex normalize_state/1: any scheduled_at makes the job scheduled
    scheduled = scheduled_at is not None or seconds is not None
    normal_tags = tuple(normalize_tags(tags))
    if any("\x00" in tag for tag in normal_tags):
        raise ValidationError("tags", _NUL)
    return NewJob(
        worker=worker,
        args=dict(args),
        queue=queue,
        priority=priority,
        max_attempts=max_attempts,
        tags=normal_tags,
        meta=dict(meta),
        scheduled_at=scheduled_at,
        schedule_in=seconds,
        unique=cast_unique(unique),
        replace=cast_replace(replace),
        args_json=args_json,
        meta_json=meta_json,
        state=_SCHEDULED if scheduled else _AVAILABLE,
    )


def _json_value(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise DecodeError(f"{name} column holds invalid JSON: {exc}") from None
    return value


_STATES = {state.value: state for state in JobState}


def decode_job(row: Mapping[str, Any]) -> Job:
    """Map a row (dict of column → value, as psycopg returns it) to a :class:`Job`.

    Odd rows from the other side (unknown state label, NULL meta, non-object args)
    are represented faithfully where possible and raise ``DecodeError`` otherwise.
    Timestamps come back timezone-aware (UTC), so they compare and convert correctly.
    """
    state = _STATES.get(row["state"])
    if state is None:
        raise DecodeError(f"job {row.get('id')} has unknown state {row['state']!r}")
    args, meta, errors = row["args"], row.get("meta"), row.get("errors")
    return Job(
        row["id"],
        state,
        row["queue"],
        row["worker"],
        _json_value(args, "args") if type(args) is str else args,
        [_json_value(e, "errors") for e in errors] if errors else [],
        row["attempt"],
        row["max_attempts"],
        utc_aware(row.get("inserted_at")),
        utc_aware(row.get("scheduled_at")),
        utc_aware(row.get("attempted_at")),
        utc_aware(row.get("completed_at")),
        row.get("attempted_by"),
        utc_aware(row.get("discarded_at")),
        row.get("priority") or 0,
        list(row.get("tags") or ()),
        # meta is nullable in the DB (oban-wire-spec §7.2); an absent meta is an empty map
        (_json_value(meta, "meta") if type(meta) is str else meta) or {},
        utc_aware(row.get("cancelled_at")),
        bool(row.get("conflict", False)),
    )


def decode_fetched(row: tuple[Any, ...]) -> Job:
    """A fetched row (a tuple in ``COLUMNS`` order) as a :class:`Job`: the runtime's hot path.

    ``args`` and ``meta`` arrive as JSON text (``::text``) and are parsed here; ``errors``
    is already parsed; a NULL ``meta`` is ``{}``; times become aware UTC, as every read.
    """
    state = _STATES.get(row[1])
    if state is None:
        raise DecodeError(f"job {row[0]} has unknown state {row[1]!r}")
    utc = timezone.utc
    return Job(
        row[0], state, row[2], row[3], _object_text(row[4], "args"), row[5] or [], row[6],
        row[7], row[8] and row[8].replace(tzinfo=utc), row[9] and row[9].replace(tzinfo=utc),
        row[10] and row[10].replace(tzinfo=utc), row[11] and row[11].replace(tzinfo=utc),
        row[12], row[13] and row[13].replace(tzinfo=utc), row[14] or 0, row[15] or [],
        {} if row[16] is None else _object_text(row[16], "meta"),
        row[17] and row[17].replace(tzinfo=utc),
    )  # fmt: skip


_decode_text = json.JSONDecoder().decode


def _object_text(text: Any, name: str) -> Any:
    """Parse a jsonb column sent as text (any JSON value; the caller checks its shape)."""
    if text == "{}":
        return {}
    if not isinstance(text, str):
        return text
    try:
        return _decode_text(text)
    except ValueError as exc:
        raise DecodeError(f"{name} column holds invalid JSON: {exc}") from None


def mark_conflict(job: Job) -> Job:
    """The existing job returned by a unique insert, flagged like Oban's ``conflict?: true``."""
    return replace(job, conflict=True)
