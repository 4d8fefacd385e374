"""Job filters (``bridge.wire.query``): every bad criterion a ValidationError naming it."""

from __future__ import annotations

from typing import Any

import pytest

from bridge import JobState, ValidationError
from bridge.wire.query import JobFilter, check_id, check_limit, job_filter


def test_states_combine_deduplicated_and_accept_jobstate() -> None:
    selected = job_filter(state=["available", JobState.SCHEDULED, "available"], queue="q")
    assert selected == JobFilter(None, ("available", "scheduled"), "q", None)
    assert job_filter(state="completed").states == ("completed",)
    assert job_filter().everything and not selected.everything


def test_suspended_before_v14_matches_nothing() -> None:
    # the label only exists from V14 on (v14.ex); asking for it alone selects no job
    assert job_filter(state="suspended", schema_version=12).ids == ()
    assert job_filter(state=["suspended", "available"], schema_version=12).states == ("available",)
    assert job_filter(state="suspended").states == ("suspended",)


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"state": "bogus"}, "state"),
        ({"state": ["available", "paused"]}, "state"),
        ({"state": 3}, "state"),
        ({"queue": 1}, "queue"),
        ({"worker": ["W"]}, "worker"),
        ({"ids": ["1"]}, "id"),
        ({"ids": [0]}, "id"),
    ],
)
def test_bad_criteria_name_the_field(criteria: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        job_filter(**criteria)
    assert info.value.field == field


@pytest.mark.parametrize("value", [-1, 0, 1.5, "10", True, None])
def test_limit_is_a_positive_integer(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        check_limit(value)
    assert info.value.field == "limit"


@pytest.mark.parametrize("value", [-5, 0, 2**63, "7", True])
def test_ids_are_positive_bigints(value: Any) -> None:
    with pytest.raises(ValidationError):
        check_id(value)
    assert check_id(2**63 - 1) == 2**63 - 1
