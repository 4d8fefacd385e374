"""The conformance suite's offline replay: every recorded scenario against bridge, no Elixir.

This is what CI runs without Elixir. It also proves the suite can fail: a
deliberately broken bridge makes the named scenario fail with a readable diff.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.conformance.runner import VECTORS, load_recording, run_scenario, skip_reason
from bridge.conformance.scenario import load_all

pytestmark = pytest.mark.pg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CASES = [
    (version_dir.name.removeprefix("oban-"), scenario)
    for version_dir in sorted(VECTORS.glob("oban-*"))
    for scenario in load_all()
]


@pytest.fixture(scope="module")
def admin_dsn(pg_available: None) -> str:
    import os

    return os.environ.get("BRIDGE_TEST_DSN", ADMIN)


@pytest.mark.parametrize(("version", "scenario"), CASES, ids=[f"{v}:{s.id}" for v, s in CASES])
def test_replay(version: str, scenario: Any, admin_dsn: str) -> None:
    reason = skip_reason(scenario, version)
    if reason:
        pytest.skip(reason)
    recording = load_recording(VECTORS / f"oban-{version}", scenario.id)
    assert recording is not None, f"no recording of {scenario.id} for Oban {version}: re-record"
    outcome = run_scenario(scenario, admin_dsn=admin_dsn, oban_version=version, recording=recording)
    assert outcome.status == "passed", outcome.message


def test_every_scenario_is_recorded_for_both_versions() -> None:
    for version in ("2.18.3", "2.23.1"):
        recorded = {p.stem for p in (VECTORS / f"oban-{version}").glob("*.json")}
        wanted = {s.id for s in load_all() if not skip_reason(s, version)}
        assert wanted <= recorded, f"Oban {version}: not recorded: {sorted(wanted - recorded)}"
    assert len(load_all()) >= 15


def test_a_broken_bridge_fails_the_named_scenario(
    admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bridge.wire.job as job

    def not_lowercased(tags: Any) -> list[str]:
        return [str(t).strip() for t in tags if str(t).strip()]

    monkeypatch.setattr(job, "normalize_tags", not_lowercased)
    scenario = next(s for s in load_all() if s.id == "enqueue.tags_normalised")
    recording = load_recording(VECTORS / "oban-2.23.1", scenario.id)
    outcome = run_scenario(
        scenario, admin_dsn=admin_dsn, oban_version="2.23.1", recording=recording
    )
    assert outcome.status == "failed"
    assert "bridge.enqueue" in outcome.message and '-    "foo",' in outcome.message


def test_a_broken_replace_fails_its_scenario(
    admin_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bridge.wire.changes as changes

    real = changes.insert_changes

    def defaults_too(job: Any, now: Any) -> dict[str, Any]:  # Ecto's cast rule forgotten
        return {**real(job, now), "max_attempts": job.max_attempts}

    monkeypatch.setattr(changes, "insert_changes", defaults_too)
    scenario = next(s for s in load_all() if s.id == "enqueue.replace_on_conflict")
    recording = load_recording(VECTORS / "oban-2.23.1", scenario.id)
    outcome = run_scenario(
        scenario, admin_dsn=admin_dsn, oban_version="2.23.1", recording=recording
    )
    assert outcome.status == "failed"
    assert '+  "max_attempts": 20,' in outcome.message


def test_cli_offline_writes_junit_and_json(tmp_path: Path, admin_dsn: str) -> None:
    junit, report = tmp_path / "c.xml", tmp_path / "c.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "conformance",
            "--offline",
            "--dsn",
            admin_dsn,
            "-k",
            "recorded.python_bytes",
            "--junit",
            str(junit),
            "--json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed, 0 failed, 0 skipped" in proc.stdout
    results = json.loads(report.read_text())
    assert {(r["oban_version"], r["status"]) for r in results} == {
        ("2.18.3", "passed"),
        ("2.23.1", "passed"),
    }
    assert "<testsuite" in junit.read_text()
