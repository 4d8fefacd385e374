"""bridge.testing's selection rules: Oban.Testing's contains?/2 and the accepted fields."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from bridge import ValidationError
from bridge.testing import ANY
from bridge.testing._match import contains, recode, select


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        ({"id": 1}, {"id": 1, "other": 2}, True),  # a subset
        ({"id": 1, "x": 2}, {"id": 1}, False),
        ({"config": {"on": True}}, {"config": {"on": True, "n": 1}}, True),  # nested subset
        ({"config": {"on": True}}, {"config": None}, False),
        ({"config": {"on": True}}, {"config": [1]}, False),
        ({"list": [1, 2]}, {"list": [1, 2, 3]}, False),  # lists compare whole
        ({"batch": ANY}, {"batch": None}, True),  # the wildcard needs the key only
        ({"batch": ANY}, {}, False),
        ({"gone": None}, {}, True),  # Map.get/2 of an absent key is nil
        ({}, {"a": 1}, True),
    ],
)
def test_contains_mirrors_oban(expected: object, actual: object, result: bool) -> None:
    assert contains(recode(expected, "args"), actual) is result


def test_values_are_json_recoded() -> None:
    assert recode({1: (2, 3)}, "args") == {"1": [2, 3]}
    with pytest.raises(ValidationError) as info:
        recode({"x": object()}, "meta")
    assert info.value.field == "meta"


def test_fields_are_checked_before_io() -> None:
    with pytest.raises(ValidationError) as info:
        select({"wroker": "W"})
    assert info.value.field == "wroker"
    for name, value in [("priority", "1"), ("state", "bogus"), ("tags", "a"), ("queue", 1)]:
        with pytest.raises(ValidationError) as info:
            select({name: value})
        assert info.value.field == name
    with pytest.raises(ValidationError):
        select({"scheduled_at": datetime(2026, 1, 1)})  # naive: which zone?


def test_timestamps_match_within_a_delta() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    ((_, (low, high)),) = select({"scheduled_at": at}).conditions
    assert high - low == timedelta(seconds=2) and low.tzinfo is None
    ((_, (low, high)),) = select({"inserted_at": (at, timedelta(seconds=10))}).conditions
    assert high - low == timedelta(seconds=20)


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, bridge.testing.pytest_plugin; "
        "print([m for m in ('psycopg', 'asyncio', 'bridge.pg.client') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
