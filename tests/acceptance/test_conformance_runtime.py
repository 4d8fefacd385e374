"""The ``runtime.*`` conformance scenarios (issue 7) can fail, and their row comparison is sound.

The replay of every recorded scenario is in ``test_conformance_offline.py``; here a
deliberately broken ack makes a named runtime scenario fail with a readable diff, and
``row_shape`` is checked to tell apart what must be equal from what may differ.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import pytest

from bridge.conformance.actions import Failed, row_shape, rows_alike
from bridge.conformance.runner import VECTORS, load_recording, run_scenario
from bridge.conformance.scenario import load_all

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
UUID_A = "0a1b2c3d-0000-8000-8000-000000000001"
UUID_B = "4e5f6a7b-0000-8000-8000-000000000002"


@pytest.fixture(scope="module")
def admin_dsn(pg_available: None) -> str:
    return os.environ.get("BRIDGE_TEST_DSN", ADMIN)


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 1,
        "state": "retryable",
        "queue": "ex",
        "worker": "BridgeHarness.EchoWorker",
        "args": {"mode": "raise"},
        "meta": {},
        "tags": [],
        "errors": [
            {
                "at": "2025-01-01T00:00:01.5Z",
                "attempt": 1,
                "error": "** (ArgumentError) kaboom\n    (bridge_harness) lib/w.ex:1: f/1\n",
            }
        ],
        "attempt": 1,
        "max_attempts": 20,
        "priority": 0,
        "attempted_by": ["harness-1", UUID_A],
        "inserted_at": "2025-01-01T00:00:00.1",
        "scheduled_at": "2025-01-01T00:00:18.6",
        "attempted_at": "2025-01-01T00:00:00.25",
        "completed_at": None,
        "discarded_at": None,
        "cancelled_at": None,
    }
    row.update(changes)
    return row


def _python_row(**changes: Any) -> dict[str, Any]:
    error = {
        "at": "2025-01-01T00:00:01.700001Z",
        "attempt": 1,
        "error": '** (ValueError) kaboom\n    File "w.py", line 3, in process\n',
    }
    base = {
        "id": 2,
        "queue": "py",
        "worker": "conformance.workers.EchoWorker",
        "attempted_by": ["py-1", UUID_B],
        "errors": [error],
        "scheduled_at": "2025-01-01T00:00:17.9",
    }
    return _row(**{**base, **changes})


BACKOFF = {"scheduled_at": ["attempted_at", 17, 20]}


def test_rows_alike_ignores_names_clocks_producers_and_frames() -> None:
    result = rows_alike(
        None,  # type: ignore[arg-type]  # the check needs no database
        {"python": _python_row(), "elixir": _row(), "mask_kind": True, "deltas": BACKOFF},
    )
    assert result["python"]["errors"] == [
        {"attempt": 1, "at": "set", "error": "** (<Kind>) kaboom"}
    ]
    assert result["python"]["scheduled_at - attempted_at"] == "in [17, 20] s"


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"state": "discarded"}, '"state": "discarded"'),
        ({"max_attempts": 21}, '"max_attempts": 21'),
        ({"discarded_at": "2025-01-01T00:00:01"}, '"discarded_at": "set"'),
        ({"meta": {"snoozed": 1}}, '"snoozed": 1'),
        ({"attempted_by": ["py-1"]}, '"py-1"'),
        ({"errors": []}, '"errors": []'),
    ],
)
def test_rows_alike_fails_on_what_must_be_equal(change: dict[str, Any], shown: str) -> None:
    with pytest.raises(Failed) as failure:
        rows_alike(None, {"python": _python_row(**change), "elixir": _row()})  # type: ignore[arg-type]
    assert shown in str(failure.value)


def test_rows_alike_fails_outside_the_delta_window() -> None:
    late = {"scheduled_at": "2025-01-01T00:00:40"}
    with pytest.raises(Failed, match=r"scheduled_at - attempted_at"):
        rows_alike(
            None,  # type: ignore[arg-type]
            {"python": _python_row(**late), "elixir": _row(), "deltas": BACKOFF},
        )


def test_error_text_is_compared_exactly_unless_the_kind_is_masked() -> None:
    with pytest.raises(Failed, match="ValueError"):
        rows_alike(None, {"python": _python_row(), "elixir": _row()})  # type: ignore[arg-type]
    other = _python_row(
        errors=[{"at": "2025-01-01T00:00:01Z", "attempt": 1, "error": "** (ValueError) boom"}]
    )
    with pytest.raises(Failed, match="boom"):
        rows_alike(None, {"python": other, "elixir": _row(), "mask_kind": True})  # type: ignore[arg-type]


def test_row_shape_reads_pg_trimmed_fractions() -> None:
    row = _row(scheduled_at="2025-01-01T00:00:17", attempted_at="2025-01-01T00:00:00.5")
    shape = row_shape(row, deltas={"scheduled_at": ["attempted_at", 16.5, 16.5]})
    assert shape["scheduled_at - attempted_at"] == "in [16.5, 16.5] s"


@pytest.mark.pg
def test_a_broken_snooze_ack_fails_the_named_runtime_scenario(
    admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's node really runs the job offline: an ack that forgets max_attempts + 1 fails."""
    from bridge.ops.acks import ack_jobs as real

    def forgets_max_attempts(prefix: str, acks: Sequence[Any], **kwargs: Any) -> Any:
        return real(prefix, [dataclasses.replace(a, max_attempts_add=0) for a in acks], **kwargs)

    monkeypatch.setattr("bridge.runtime.acker.ack_jobs", forgets_max_attempts)
    scenario = next(s for s in load_all() if s.id == "runtime.outcome_snooze")
    recording = load_recording(VECTORS / "oban-2.23.1", scenario.id)
    outcome = run_scenario(
        scenario, admin_dsn=admin_dsn, oban_version="2.23.1", recording=recording
    )
    assert outcome.status == "failed", outcome.message
    assert "bridge.wait_job" in outcome.message
    assert '-  "max_attempts": 21,' in outcome.message
    assert '+  "max_attempts": 20,' in outcome.message
