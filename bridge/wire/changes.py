"""Changes to an existing job: ``replace`` on a unique conflict and ``Oban.update_job/3``.

Both end in Ecto's ``Repo.update`` of a changeset, whose rule decides the row: a value
equal to the job's current one is *no change* (nothing written, and with no change at all
no statement), and Elixir's ``==`` is the equality (``1 == 1.0``, but ``true != 1``). For
``replace``, the candidates are the *changes* of the insert changeset — what
``Job.new`` cast — so a value equal to the schema default (queue ``"default"``,
max_attempts 20, empty meta or tags) is never written over the existing job's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.errors import ValidationError
from bridge.names import JobState
from bridge.wire.job import (
    _NUL,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_QUEUE,
    Job,
    NewJob,
    _check_int,
    _check_name,
    _utc_naive,
    encode_json,
    utc_aware,
)
from bridge.wire.unique import REPLACE_FIELDS

#: fields ``Oban.update_job/3`` may change (lib/oban/job.ex @updatable_params, 2.20 to 2.23.1)
UPDATE_FIELDS = REPLACE_FIELDS


def insert_changes(job: NewJob, now: datetime) -> dict[str, Any]:
    """The replaceable fields the insert changeset holds as changes, as a ``Job`` holds them."""
    # mirrors lib/oban/job.ex new/2 cast/3 over the schema defaults: Ecto skips a param equal
    # to the struct's value (queue "default", max_attempts 20, meta %{}, tags []; args,
    # worker and priority default to nil, so any value is a change)
    changes: dict[str, Any] = {"args": job.args, "worker": job.worker}
    if job.queue != DEFAULT_QUEUE:
        changes["queue"] = job.queue
    if job.max_attempts != DEFAULT_MAX_ATTEMPTS:
        changes["max_attempts"] = job.max_attempts
    if job.meta:
        changes["meta"] = job.meta
    if job.tags:
        changes["tags"] = list(job.tags)
    if job.priority is not None:
        changes["priority"] = job.priority
    scheduled_at = job.resolve_scheduled_at(now)
    if scheduled_at is not None:  # lib/oban/job.ex put_scheduling/2 for schedule_in
        changes["scheduled_at"] = utc_aware(scheduled_at)
    return changes


def replace_changes(job: NewJob, existing: Job, now: datetime) -> dict[str, Any]:
    """What a unique conflict writes over ``existing`` (empty: nothing to write)."""
    # mirrors lib/oban/engines/basic.ex resolve_conflict/4: the fields listed for the existing
    # job's state (Keyword.get(replace, state, [])) taken from changeset.changes, then
    # Changeset.change/2 against the job
    fields = (job.replace or {}).get(existing.state.value, ())
    wanted = {k: v for k, v in insert_changes(job, now).items() if k in fields}
    return changed(wanted, existing)


def changed(wanted: Mapping[str, Any], existing: Job) -> dict[str, Any]:
    """``wanted`` without the values ``existing`` already holds (Ecto's change/2, cast/3)."""
    return {k: v for k, v in wanted.items() if not same(v, getattr(existing, k))}


def same(a: Any, b: Any) -> bool:
    """Elixir's ``==`` on JSON-shaped data: numbers by value, booleans never equal numbers."""
    # mirrors deps/ecto/lib/ecto/type.ex equal?/3: term1 == term2 for :map, :string, :integer
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def cast_update(changes: Any) -> dict[str, Any]:
    """Validate ``update_job``'s changes with ``Job.update/2``'s rules, before any I/O.

    Unlike Oban, which silently drops fields it doesn't allow, an unknown field is a
    ``ValidationError`` naming it. Tags are stored as given: ``Job.update/2`` does not
    normalise them as ``Job.new/2`` does.
    """
    if not isinstance(changes, Mapping):
        raise ValidationError("changes", f"must be a mapping, got {type(changes).__name__}")
    for name in changes:
        if name not in UPDATE_FIELDS:
            raise ValidationError(
                str(name), f"can't be changed by update_job; fields are {UPDATE_FIELDS}"
            )
    # mirrors lib/oban/job.ex update/2: cast @updatable_params, validate_length queue/worker,
    # max_attempts > 0, priority 0..9
    return {name: _cast(name, value) for name, value in changes.items()}


def _cast(name: str, value: Any) -> Any:
    if name in ("args", "meta"):
        encode_json(value, name)  # a JSON object PostgreSQL can store
        return dict(value)
    if name in ("queue", "worker"):
        return _check_name(value, name)
    if name == "priority":
        return _check_int(value, name, 0, 9)
    if name == "max_attempts":
        return _check_int(value, name, 1, 2**31 - 1)
    if name == "scheduled_at":
        return utc_aware(_utc_naive(value, name))
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValidationError(name, f"expected a list of strings, got {value!r}")
    if not all(isinstance(tag, str) for tag in value):
        raise ValidationError(name, f"expected a list of strings, got {value!r}")
    if any("\x00" in tag for tag in value):
        raise ValidationError(name, _NUL)
    return list(value)


def with_state(changes: dict[str, Any]) -> dict[str, Any]:
    """A changed ``scheduled_at`` makes the job ``scheduled``, whatever its state."""
    # mirrors lib/oban/job.ex normalize_state/1 (called by update/2)
    if "scheduled_at" in changes:
        return {**changes, "state": JobState.SCHEDULED}
    return changes
