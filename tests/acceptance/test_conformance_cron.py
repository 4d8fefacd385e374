"""runtime.cron_entry_runs_on_elixir can fail: a cron that forgets ``cron_tz`` (what
Oban 2.18.3 writes, and not what 2.23.1 does) fails the replay with a readable diff."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bridge.conformance.runner import VECTORS, load_recording, run_scenario
from bridge.conformance.scenario import load_all
from bridge.wire import cron

pytestmark = pytest.mark.pg

SCENARIO = "runtime.cron_entry_runs_on_elixir"


def test_a_cron_without_cron_tz_fails_the_scenario(
    pg_available: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_tz(entry: cron.Entry) -> dict[str, Any]:
        return {"cron": True, "cron_expr": entry.expr.input}

    monkeypatch.setattr(cron.Entry, "meta", property(without_tz))
    scenario = next(s for s in load_all() if s.id == SCENARIO)
    recording = load_recording(VECTORS / "oban-2.23.1", scenario.id)
    outcome = run_scenario(
        scenario,
        admin_dsn=os.environ.get(
            "BRIDGE_TEST_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        oban_version="2.23.1",
        recording=recording,
    )
    assert outcome.status == "failed"
    assert "db.cron_job" in outcome.message and "cron_tz" in outcome.message
