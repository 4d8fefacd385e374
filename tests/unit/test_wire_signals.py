"""Signals as a node receives them (``bridge.wire.signals``): every signal Elixir was recorded
sending decodes to what its producer would do; values Elixir would choke on are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import DecodeError
from bridge.wire import notify
from bridge.wire.notify import decode_payload
from bridge.wire.signals import Signal, decode_signal

VERSIONS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "signals.json").read_text()
)["versions"]

#: step → what Elixir's producer (or midwife) does with it
EXPECTED = {
    "pause_queue": Signal("pause", "alpha"),
    "resume_queue": Signal("resume", "alpha"),
    "pause_all_queues": Signal("pause", "*"),
    "resume_all_queues": Signal("resume", "*"),
    "scale_queue": Signal("scale", "alpha", limit=5),
    "scale_queue_node": Signal("scale", "alpha", limit=3),
    "pause_queue_node": Signal("pause", "alpha"),
    "start_queue": Signal("start", "beta", limit=1),
    "stop_queue": Signal("stop", "beta"),
    "cancel_job_executing:now": Signal("pkill", job_id=6),
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("step", sorted(EXPECTED))
def test_elixirs_recorded_signals_decode(version: str, step: str) -> None:
    if not VERSIONS[version][step]["wire"]:
        pytest.skip(f"Oban {version} sent nothing: {VERSIONS[version][step]['elixir_result']}")
    (wire,) = VERSIONS[version][step]["wire"]
    signal = decode_signal(decode_payload(wire["payload"]))
    expected = EXPECTED[step]
    if expected.action == "pkill":
        assert signal.action == "pkill" and isinstance(signal.job_id, int)
    else:
        assert signal == expected


def test_what_our_sender_writes_decodes_to_the_same_signal() -> None:
    sent = {
        notify.pause_message("a"): Signal("pause", "a"),
        notify.resume_message("*", node="n"): Signal("resume", "*"),
        notify.scale_message("a", 7): Signal("scale", "a", limit=7),
        notify.start_message("b", 2, paused=True): Signal("start", "b", limit=2, paused=True),
        notify.stop_message("b"): Signal("stop", "b"),
        notify.pkill_message(9): Signal("pkill", job_id=9),
    }
    for payload, signal in sent.items():
        assert decode_signal(decode_payload(payload)) == signal


def test_star_reaches_every_queue_only_for_pause_and_resume() -> None:
    assert Signal("pause", "*").targets("alpha")
    assert Signal("resume", "*").targets("beta")
    assert not Signal("scale", "*", limit=2).targets("alpha")
    assert Signal("scale", "alpha", limit=2).targets("alpha")
    assert not Signal("pause", "alpha").targets("beta")


def test_scale_keeps_paused_and_ignores_keys_a_python_producer_has_no_use_for() -> None:
    message = {"action": "scale", "queue": "a", "paused": True, "local_only": True, "node": "x"}
    assert decode_signal(message) == Signal("scale", "a", paused=True)
    pro = {"action": "scale", "queue": "a", "limit": 3, "global_limit": {"allowed": 9}}
    assert decode_signal(pro) == Signal("scale", "a", limit=3)


BAD: list[dict[str, Any]] = [
    {},
    {"action": "explode", "queue": "a"},
    {"action": 5, "queue": "a"},
    {"action": ["pause"], "queue": "a"},
    {"action": "pause"},
    {"action": "pause", "queue": ""},
    {"action": "pause", "queue": 5},
    {"action": "resume", "queue": None},
    {"action": "scale", "queue": "a", "limit": "ten"},
    {"action": "scale", "queue": "a", "limit": -1},
    {"action": "scale", "queue": "a", "limit": 0},
    {"action": "scale", "queue": "a", "limit": 2.5},
    {"action": "scale", "queue": "a", "limit": True},
    {"action": "scale", "queue": "a", "limit": 2**63},
    {"action": "scale", "queue": "a"},
    {"action": "scale", "queue": "a", "paused": "yes"},
    {"action": "scale", "limit": 5},
    {"action": "start", "queue": "a"},
    {"action": "start", "queue": "a", "limit": None},
    {"action": "start", "queue": "q" * 128, "limit": 1},
    {"action": "start", "queue": "a", "limit": 1, "paused": 1},
    {"action": "stop", "queue": {"a": 1}},
    {"action": "pkill"},
    {"action": "pkill", "job_id": "7"},
    {"action": "pkill", "job_id": 7.0},
    {"action": "pkill", "job_id": False},
    {"action": "pkill", "job_id": -3},
]


@pytest.mark.parametrize("message", BAD, ids=[json.dumps(m)[:50] for m in BAD])
def test_values_elixir_would_choke_on_are_refused(message: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        decode_signal(message)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "action": st.sampled_from(["pause", "resume", "scale", "start", "stop", "pkill"])
            | json_values,
            "queue": st.sampled_from(["a", "*"]) | json_values,
            "limit": st.integers(-2, 5) | json_values,
            "paused": json_values,
            "job_id": json_values,
        },
    )
)
def test_any_message_decodes_or_raises_decode_error(message: dict[str, Any]) -> None:
    try:
        signal = decode_signal(message)
    except DecodeError:
        return
    assert signal.action in ("pause", "resume", "scale", "start", "stop", "pkill")
    assert signal.limit is None or (isinstance(signal.limit, int) and signal.limit >= 1)
