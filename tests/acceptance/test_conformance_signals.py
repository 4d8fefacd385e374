"""The ``signals.*`` conformance scenarios (issue 8) can fail: a deliberately broken bridge —
sending side, receiving side, sonar, gossip — fails the named scenario offline.

The replay of every recorded scenario is in ``test_conformance_offline.py``. Offline, an
``elixir.*`` step re-sends the signals Elixir sent live (its own bytes: legacy gzip from
2.18.3, ``Z:`` from 2.23.1), so a Python node in the scenario really has to obey them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from bridge.conformance.runner import VECTORS, load_recording, run_scenario
from bridge.conformance.scenario import load_all
from bridge.errors import DecodeError

pytestmark = pytest.mark.pg

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def admin_dsn(pg_available: None) -> str:
    return os.environ.get("BRIDGE_TEST_DSN", ADMIN)


def _wrong_ident(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "bridge.wire.notify.signal_ident", lambda node=None, instance="Oban": "Oban.everyone"
    )


def _plain_json_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A listener that reads plain JSON only (as oban-py does): gzip forms are rejected."""

    def decode(payload: str) -> dict[str, Any]:
        try:
            value: dict[str, Any] = json.loads(payload)
        except ValueError as exc:
            raise DecodeError(f"not JSON: {exc}") from None
        return value

    monkeypatch.setattr("bridge.runtime.notifier.decode_payload", decode)


def _scope_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bridge.runtime.notifier.Notifier.in_scope", lambda self, message: True)


def _instance_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scope by node name only (``….py-2`` matches whatever instance precedes it)."""

    def in_scope(self: Any, message: dict[str, Any]) -> bool:
        ident = str(message.get("ident", "any"))
        return ident == "any" or ident.rsplit(".", 1)[-1] == self.ident.rsplit(".", 1)[-1]

    monkeypatch.setattr("bridge.runtime.notifier.Notifier.in_scope", in_scope)


def _pkill_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bridge.runtime.executor.Executor.kill", lambda self, run: False)


def _sonar_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.wire.notify import encode_payload

    monkeypatch.setattr(
        "bridge.runtime.sonar.encode_sonar",
        lambda node: encode_payload({"node": node, "ping": True, "time": 1}),
    )


def _gossip_limit_off_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import bridge.wire.gossip as gossip

    real = gossip.encode_check

    def encode_check(check: Any) -> dict[str, Any]:
        return {**real(check), "limit": check.limit + 1}

    monkeypatch.setattr(gossip, "encode_check", encode_check)


Breakage = Callable[[pytest.MonkeyPatch], None]
CASES: list[tuple[str, str, str, Breakage, list[str]]] = [
    (
        "sending: a pause with the wrong ident",
        "signals.python_pause_resume_scale_elixir",
        "2.23.1",
        _wrong_ident,
        ["step 2 (bridge.pause_queue): notifications:", "Oban.everyone"],
    ),
    (
        "receiving: Oban 2.18's legacy gzip not read",
        "signals.elixir_pause_resume_scale_python",
        "2.18.3",
        _plain_json_only,
        ["(bridge.check_queue): timeout: queue 'py' on py-1", "wanted {'paused': True}"],
    ),
    (
        "receiving: Oban 2.23's Z: not read",
        "signals.elixir_compressed_obeyed",
        "2.23.1",
        _plain_json_only,
        ["(bridge.check_queue): timeout: queue 'zq'", "wanted {'paused': True}"],
    ),
    (
        "receiving: a signal for another node obeyed",
        "signals.node_scoped_both_ways",
        "2.18.3",
        _scope_ignored,
        ["py-2 obeyed a pause for py-1"],
    ),
    (
        "receiving: the instance name left out of the ident",
        "signals.instance_and_prefix_scoped",
        "2.23.1",
        _instance_ignored,
        ["py-2 (Oban.py-2) obeyed a pause for MyApp.Oban.py-2"],
    ),
    (
        "receiving: pkill ignored",
        "signals.pkill_both_ways",
        "2.23.1",
        _pkill_ignored,
        ["(bridge.wait_job): timeout (last state: executing, 0 error(s))"],
    ),
    (
        "sonar: a ping with a time key",
        "signals.sonar_sees_python_node",
        "2.18.3",
        _sonar_with_time,
        ["(notifications.wait): result: not what this step gave", '"time": 1'],
    ),
    (
        "gossip: a check with the wrong limit",
        "signals.python_queues_in_oban_met",
        "2.23.1",
        _gossip_limit_off_by_one,
        ["(notifications.wait): result: not what this step gave", '"limit": 4'],
    ),
]


@pytest.mark.parametrize(
    ("breakage", "scenario_id", "version", "patch", "shown"), CASES, ids=[c[0] for c in CASES]
)
def test_a_broken_bridge_fails_the_named_signals_scenario(
    breakage: str,
    scenario_id: str,
    version: str,
    patch: Breakage,
    shown: list[str],
    admin_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patch(monkeypatch)
    scenario = next(s for s in load_all() if s.id == scenario_id)
    recording = load_recording(VECTORS / f"oban-{version}", scenario_id)
    assert recording is not None
    outcome = run_scenario(scenario, admin_dsn=admin_dsn, oban_version=version, recording=recording)
    assert outcome.status == "failed", f"{breakage}: {outcome.status} {outcome.message}"
    for text in shown:
        assert text in outcome.message, outcome.message


def test_a_harness_without_oban_met_skips_with_the_reason(admin_dsn: str) -> None:
    """The met scenario replayed with the answer a plain harness gives (``null``) is skipped,
    not passed, and says why."""
    scenario = next(s for s in load_all() if s.id == "signals.python_queues_in_oban_met")
    recording = load_recording(VECTORS / "oban-2.23.1", scenario.id)
    assert recording is not None
    for step in recording["steps"]:
        if step["do"] == "elixir.met_checks":
            step["result"] = None
            break
    outcome = run_scenario(
        scenario, admin_dsn=admin_dsn, oban_version="2.23.1", recording=recording
    )
    assert outcome.status == "skipped"
    assert "oban_met is not loaded in this harness" in outcome.message
