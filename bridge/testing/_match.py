"""Which enqueued jobs an ``assert_enqueued`` means: the fields Oban.Testing accepts, checked
before any I/O, split into column conditions (run in SQL) and JSON subsets (args, meta).

Mirrors lib/oban/testing.ex (v2.23.1): ``args`` and ``meta`` match as *subsets* — every
given key must be present with an equal value, nested maps recursively, lists exactly — and
``"_"`` (Elixir's ``:_``) matches any value of a present key. Values are JSON round-tripped
first, so ``{1: (2, 3)}`` means ``{"1": [2, 3]}``, as the row stores it. Timestamps match
within a second either side, or ``(time, delta)`` for another delta in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.errors import ValidationError
from bridge.names import STATES, JobState
from bridge.ops.testing import Condition
from bridge.runtime.worker import Worker
from bridge.wire.job import Job, encode_json, utc_naive

#: Elixir's ``:_`` wildcard after JSON recoding (lib/oban/testing.ex contains?/2)
ANY = "_"

JSON_FIELDS = ("args", "meta")  # mirrors @json_fields
TIMESTAMP_FIELDS = (  # mirrors @timestamp_fields
    "attempted_at",
    "cancelled_at",
    "completed_at",
    "discarded_at",
    "inserted_at",
    "scheduled_at",
)
COLUMN_FIELDS = (
    "id",
    "state",
    "queue",
    "worker",
    "priority",
    "attempt",
    "max_attempts",
    "tags",
    "attempted_by",
    "errors",
)
FIELDS = (*COLUMN_FIELDS, *JSON_FIELDS, *TIMESTAMP_FIELDS)
DEFAULT_DELTA = 1.0  # seconds, mirrors conditions/2's default {time, 1}


@dataclass(frozen=True)
class Match:
    """A validated ``assert_enqueued`` selection."""

    fields: dict[str, Any]  # as given (for messages)
    conditions: tuple[Condition, ...]  # for SQL
    json: tuple[tuple[str, Any], ...]  # args/meta subsets, recoded
    errors: Any = None  # compared in Python (jsonb[] has no handy equality)

    def matches(self, job: Job) -> bool:
        if self.errors is not None and job.errors != self.errors:
            return False
        return all(contains(expected, getattr(job, key)) for key, expected in self.json)


def recode(value: Any, name: str) -> Any:
    """The value as the row would hold it (``json_recode/1``); a ValidationError if it can't."""
    if isinstance(value, Mapping):
        return json.loads(encode_json(value, name))
    return json.loads(encode_json({"v": value}, name))["v"]


def contains(expected: Any, actual: Any) -> bool:
    """Oban.Testing's ``contains?/2``: ``expected`` (a map) is a subset of ``actual``."""
    return _contains("v", expected, {"v": actual})


def _contains(key: str, value: Any, data: dict[str, Any]) -> bool:
    # mirrors lib/oban/testing.ex contains?/2, clause by clause
    if value == ANY and key in data:
        return True
    if isinstance(value, dict):
        sub = data.get(key)
        if sub is None:
            return False
        if not isinstance(sub, dict):
            return False  # (Elixir raises BadMapError here)
        return all(_contains(k, v, sub) for k, v in value.items())
    return bool(data.get(key) == value)  # an absent key equals nil, as Map.get/2


def _time_range(value: Any, name: str) -> tuple[datetime, datetime]:
    delta: Any = DEFAULT_DELTA
    if isinstance(value, tuple) and len(value) == 2:
        value, delta = value
    if isinstance(delta, timedelta):
        delta = delta.total_seconds()
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(name, f"must be a timezone-aware datetime, got {value!r}")
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta < 0:
        raise ValidationError(name, f"delta must be a number of seconds >= 0, got {delta!r}")
    at, span = utc_naive(value), timedelta(seconds=delta)
    return at - span, at + span


def _column(name: str, value: Any) -> Any:
    if name == "worker":
        return value.name if isinstance(value, Worker) else _text(value, name)
    if name == "queue":
        return _text(value, name)
    if name == "state":
        label = value.value if isinstance(value, JobState) else value
        if label not in STATES:
            raise ValidationError(name, f"must be one of {', '.join(STATES)}, got {value!r}")
        return label
    if name in ("tags", "attempted_by"):
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ValidationError(name, f"must be a list of strings, got {value!r}")
        return [_text(item, name) for item in value]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, f"must be an integer, got {value!r}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, f"must be a string, got {value!r}")
    return value


def select(fields: Mapping[str, Any]) -> Match:
    """Check the fields (a misspelled one names itself) and split them for SQL and Python."""
    conditions: list[Condition] = []
    json_fields: list[tuple[str, Any]] = []
    errors = None
    for name, value in fields.items():
        if name not in FIELDS:
            raise ValidationError(name, f"unknown field; fields are {', '.join(FIELDS)}")
        if name in JSON_FIELDS:
            json_fields.append((name, recode(value, name)))
        elif name in TIMESTAMP_FIELDS:
            conditions.append((name, _time_range(value, name)))
        elif name == "errors":
            errors = recode(list(value), name)
        else:
            conditions.append((name, _column(name, value)))
    return Match(dict(fields), tuple(conditions), tuple(json_fields), errors)


def describe(job: Job, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The job's values for the asserted fields (the "Instead found" part of a failure)."""
    # mirrors lib/oban/testing.ex available_jobs/2: select map(j, ^Keyword.keys(opts))
    keys = list(fields) or ["id", "worker", "queue", "args"]
    return {key: _plain(getattr(job, key)) for key in keys}


def _plain(value: Any) -> Any:
    if isinstance(value, JobState):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value
