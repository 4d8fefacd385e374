"""``replace`` and ``update_job``'s changes: Oban's validation and Ecto's change rule, pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bridge import Job, JobState, ValidationError
from bridge.names import STATES
from bridge.wire.changes import cast_update, changed, insert_changes, replace_changes, same
from bridge.wire.unique import REPLACE_FIELDS

NOW = datetime(2026, 1, 1, 12, 0, 0)
LATER = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _existing(state: str = "scheduled", **fields: Any) -> Job:
    row: dict[str, Any] = {
        "args": {"id": 1},
        "queue": "default",
        "worker": "W",
        "max_attempts": 20,
        "priority": 0,
        "tags": [],
        "meta": {},
        "scheduled_at": datetime(2029, 1, 1, tzinfo=timezone.utc),
    }
    row.update(fields)
    return Job(id=7, state=JobState(state), **row)


def test_a_plain_list_applies_to_every_state() -> None:
    # lib/oban/job.ex put_replace/3: for state <- states(), do: {state, fields}
    assert Job.new("W", {}, replace=["args", "tags"]).replace == dict.fromkeys(
        STATES, ("args", "tags")
    )


def test_a_mapping_is_per_state() -> None:
    job = Job.new("W", {}, replace={"scheduled": ["scheduled_at"], JobState.AVAILABLE: []})
    assert job.replace == {"scheduled": ("scheduled_at",), "available": ()}
    assert Job.new("W", {}).replace is None
    assert Job.new("W", {}, replace=[]).replace == dict.fromkeys(STATES, ())


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["state"], "invalid field: 'state'"),
        (["id"], "invalid field: 'id'"),
        ({"running": ["args"]}, "invalid state: 'running'"),
        ({"scheduled": "scheduled_at"}, "expected a list of fields"),
        ("args", "expected a list of fields"),
        (3, "expected a list of fields"),
        ({"scheduled": ["scheduled_at", "inserted_at"]}, "invalid field: 'inserted_at'"),
    ],
)
def test_invalid_replace_is_a_validation_error(option: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        Job.new("W", {}, replace=option)
    assert info.value.field == "replace"


def test_every_replace_field_is_accepted() -> None:
    assert Job.new("W", {}, replace=list(REPLACE_FIELDS)).replace is not None


def test_insert_changes_leave_out_schema_defaults() -> None:
    # Ecto's cast/3 skips a param equal to the struct default (lib/oban/job.ex schema)
    plain = Job.new("W", {}, queue="default", max_attempts=20, meta={}, tags=[" "])
    assert insert_changes(plain, NOW) == {"args": {}, "worker": "W"}
    full = Job.new(
        "W", {"a": 1}, queue="q", max_attempts=3, meta={"m": 1}, tags=["T"], priority=0,
        schedule_in=60,
    )  # fmt: skip
    assert insert_changes(full, NOW) == {
        "args": {"a": 1},
        "worker": "W",
        "queue": "q",
        "max_attempts": 3,
        "meta": {"m": 1},
        "tags": ["t"],
        "priority": 0,
        "scheduled_at": (NOW + timedelta(seconds=60)).replace(tzinfo=timezone.utc),
    }


def test_replace_takes_the_fields_of_the_existing_jobs_state() -> None:
    new = Job.new("W", {"id": 2}, priority=5, scheduled_at=LATER, replace={
        "scheduled": ["scheduled_at", "args"], "available": ["priority"],
    })  # fmt: skip
    assert replace_changes(new, _existing("scheduled"), NOW) == {
        "scheduled_at": LATER,
        "args": {"id": 2},
    }
    assert replace_changes(new, _existing("available"), NOW) == {"priority": 5}
    assert replace_changes(new, _existing("executing"), NOW) == {}


def test_replace_never_writes_a_default_or_an_equal_value() -> None:
    new = Job.new("W", {"id": 1}, queue="default", replace=["queue", "args", "meta", "tags"])
    assert replace_changes(new, _existing(queue="other", meta={"k": 1}, tags=["x"]), NOW) == {}
    assert replace_changes(Job.new("W", {}), _existing(), NOW) == {}  # no replace option


def test_equality_is_elixirs() -> None:
    assert same({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same({"a": True}, {"a": 1})
    assert not same([1], [1, 1])
    assert not same({"a": 1}, {"b": 1})
    assert changed({"args": {"id": 1.0}, "priority": 0}, _existing()) == {}


def test_update_changes_are_validated_before_io() -> None:
    assert cast_update({"priority": 1, "tags": ["Mixed Case "]}) == {
        "priority": 1,
        "tags": ["Mixed Case "],  # lib/oban/job.ex update/2 does not normalise tags
    }
    assert cast_update({"scheduled_at": LATER})["scheduled_at"] == LATER


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"state": "available"}, "state"),
        ({"attempt": 0}, "attempt"),
        ({"inserted_at": LATER}, "inserted_at"),
        ({"priority": 10}, "priority"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"queue": ""}, "queue"),
        ({"worker": "W" * 128}, "worker"),
        ({"args": [1]}, "args"),
        ({"meta": {"k": "\x00"}}, "meta"),
        ({"tags": "a"}, "tags"),
        ({"tags": [1]}, "tags"),
        ({"scheduled_at": datetime(2030, 1, 1)}, "scheduled_at"),
    ],
)
def test_bad_update_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        cast_update(changes)
    assert info.value.field == field


def test_update_changes_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="mapping"):
        cast_update([("priority", 1)])
