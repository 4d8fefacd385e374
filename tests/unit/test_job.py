"""Oban's changeset rules (lib/oban/job.ex new/2) as ``Job.new`` applies them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bridge import Job, JobState, ValidationError
from bridge.errors import DecodeError
from bridge.wire.job import decode_job, normalize_tags

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inserts"


def test_defaults_match_oban() -> None:
    job = Job.new("MyApp.Workers.Example", {"id": 1})
    assert (job.queue, job.max_attempts, job.priority, job.tags, job.meta) == (
        "default",
        20,
        None,
        (),
        {},
    )
    assert job.state is JobState.AVAILABLE


@pytest.mark.parametrize("version", ["2.18.3", "2.23.1"])
def test_tags_normalised_like_elixir(version: str) -> None:
    case = json.loads((FIXTURES / f"oban-{version}.json").read_text())["inserts"]
    options = case["insert_all_options"]["call"]["job_options"]
    assert normalize_tags(options["tags"]) == case["insert_all_options"]["row"]["tags"]


def test_tags_coerced_to_strings_and_deduped_in_order() -> None:
    assert normalize_tags([" Foo ", "bar", "foo", 7, "", "  "]) == ["foo", "bar", "7"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"args": [1, 2]}, "args"),
        ({"args": "x"}, "args"),
        ({"worker": "W" * 128}, "worker"),
        ({"worker": ""}, "worker"),
        ({"queue": "q" * 128}, "queue"),
        ({"priority": 10}, "priority"),
        ({"priority": -1}, "priority"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"meta": [1]}, "meta"),
        ({"args": {"x": float("nan")}}, "args"),
        ({"args": {"when": datetime(2024, 1, 1)}}, "args"),
        ({"tags": "a,b"}, "tags"),
        ({"schedule_in": "soon"}, "schedule_in"),
        ({"schedule_in": (1, "fortnight")}, "schedule_in"),
        ({"unique": {"period": 0}}, "unique"),
        ({"unique": {"fields": ["nope"]}}, "unique"),
        ({"unique": {"states": "finished"}}, "unique"),
        ({"unique": {"keys": ["id"], "fields": ["queue"]}}, "unique"),
        ({"unique": {"bogus": 1}}, "unique"),
    ],
)
def test_invalid_options_name_the_field(kwargs: dict, field: str) -> None:
    params = {"worker": "MyApp.Worker", "args": {}}
    params.update(kwargs)
    with pytest.raises(ValidationError) as info:
        Job.new(params.pop("worker"), params.pop("args"), **params)
    assert info.value.field == field


def test_127_characters_is_the_longest_worker() -> None:
    assert Job.new("W" * 127, {}).worker == "W" * 127


def test_schedule_in_units_and_state() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0)
    job = Job.new("W", {}, schedule_in=(2, "minutes"))
    assert job.state is JobState.SCHEDULED
    assert job.resolve_scheduled_at(now) == now + timedelta(minutes=2)
    assert Job.new("W", {}, schedule_in=timedelta(hours=1)).schedule_in == 3600


def test_scheduled_at_in_the_past_is_still_scheduled() -> None:
    # mirrors lib/oban/job.ex normalize_state/1: any scheduled_at → "scheduled"
    past = datetime(2000, 1, 1, tzinfo=timezone.utc)
    job = Job.new("W", {}, scheduled_at=past)
    assert job.state is JobState.SCHEDULED
    assert job.scheduled_at == datetime(2000, 1, 1)  # stored naive UTC


def test_aware_datetimes_are_converted_to_utc() -> None:
    local = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert Job.new("W", {}, scheduled_at=local).scheduled_at == datetime(2026, 1, 1, 10, 0)


def test_unique_true_is_infinite_with_default_states() -> None:
    unique = Job.new("W", {}, unique=True).unique
    assert unique is not None
    assert unique.period == "infinity"
    assert unique.states == (
        "suspended",
        "available",
        "scheduled",
        "executing",
        "retryable",
        "completed",
    )
    assert unique.fields == ("args", "queue", "worker")


def test_decode_job_rejects_unknown_state_and_keeps_null_meta_empty() -> None:
    row = {
        "id": 1,
        "state": "available",
        "queue": "q",
        "worker": "W",
        "args": {},
        "attempt": 0,
        "max_attempts": 20,
        "meta": None,
        "tags": None,
        "errors": None,
    }
    job = decode_job(row)
    assert job.meta == {} and job.tags == [] and job.errors == []
    with pytest.raises(DecodeError):
        decode_job({**row, "state": "paused"})


# -- issue 9: naive datetimes, misspelled options, NUL --------------------------------------------


def test_a_naive_scheduled_at_is_refused_not_taken_as_utc() -> None:
    # datetime.now() is local time: taken as UTC, a job meant for in an hour on a New York
    # machine was stored four hours in the past
    with pytest.raises(ValidationError) as info:
        Job.new("W", {}, scheduled_at=datetime(2026, 1, 1, 12, 0) + timedelta(hours=1))
    assert info.value.field == "scheduled_at" and "timezone-aware" in info.value.message


def test_rows_are_read_as_aware_utc_and_written_out_as_oban_stores_them() -> None:
    row = {
        "id": 1,
        "state": "completed",
        "queue": "q",
        "worker": "W",
        "args": {},
        "attempt": 1,
        "max_attempts": 20,
        "inserted_at": datetime(2026, 1, 1, 12, 0, 0, 5),
        "scheduled_at": datetime(2026, 1, 1, 12, 0, 0, 5),
        "completed_at": datetime(2026, 1, 1, 12, 0, 1),
    }
    job = decode_job(row)
    assert job.completed_at == datetime(2026, 1, 1, 12, 0, 1, tzinfo=timezone.utc)
    assert job.completed_at.tzinfo is timezone.utc  # type: ignore[union-attr]
    assert job.attempted_at is None
    # the JSON row stays row_to_json's shape: naive UTC text
    assert job.to_dict()["completed_at"] == "2026-01-01T12:00:01"


@pytest.mark.parametrize(("typo", "hint"), [("queu", "'queue'"), ("sheduled_in", "'schedule_in'")])
def test_a_misspelled_option_is_a_validation_error_naming_it(typo: str, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        Job.new("W", {}, **{typo: 1})  # type: ignore[misc]
    assert info.value.field == typo and hint in info.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"args": {"name": "a\x00b"}}, "args"),
        ({"args": {"deep": [{"k\x00": 1}]}}, "args"),
        ({"meta": {"note": "\x00"}}, "meta"),
        ({"worker": "W\x00"}, "worker"),
        ({"queue": "q\x00"}, "queue"),
        ({"tags": ["a\x00"]}, "tags"),
    ],
)
def test_nul_is_refused_before_the_server_sees_it(kwargs: dict, field: str) -> None:
    params = {"worker": "W", "args": {}}
    params.update(kwargs)
    with pytest.raises(ValidationError) as info:
        Job.new(params.pop("worker"), params.pop("args"), **params)
    assert info.value.field == field and "NUL" in info.value.message


def test_a_backslash_u0000_text_is_not_a_nul() -> None:
    assert Job.new("W", {"text": "\\u0000"}).args == {"text": "\\u0000"}
