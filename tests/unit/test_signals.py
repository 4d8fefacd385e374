"""Signals we send (pause, resume, scale, start, stop, pkill): Elixir's bytes are the oracle.

The fixture holds the payloads live Oban 2.18.3 and 2.23.1 sent for the same calls; 2.18.3
gzips every payload, so its JSON is compared after gunzip.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import EncodeError, NotifierError, PayloadTooLarge, ValidationError
from bridge.wire import notify
from bridge.wire.notify import ALL_QUEUES

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "signals.json").read_text()
)
VERSIONS = ("2.18.3", "2.23.1")
LONG_QUEUE = "q" + "x" * 126

#: fixture step → the same call made with our encoders
CALLS: dict[str, Callable[[], str]] = {
    "pause_queue": lambda: notify.pause_message("alpha"),
    "resume_queue": lambda: notify.resume_message("alpha"),
    "pause_all_queues": lambda: notify.pause_message(ALL_QUEUES),
    "resume_all_queues": lambda: notify.resume_message(ALL_QUEUES),
    "scale_queue": lambda: notify.scale_message("alpha", 5),
    "pause_queue_node": lambda: notify.pause_message("alpha", node="other-node"),
    "start_queue": lambda: notify.start_message("beta", 1),
    "stop_queue": lambda: notify.stop_message("beta"),
    "cancel_job_executing:now": lambda: notify.pkill_message(6),
    "long_queue_name": lambda: notify.scale_message(LONG_QUEUE, 2),
}


def _elixir_json(version: str, step: str) -> str:
    """The JSON text Elixir sent (inside 2.18.3's gzip)."""
    (wire,) = FIXTURE["versions"][version][step]["wire"]
    assert wire["channel"] == "public.oban_signal"
    payload: str = wire["payload"]
    if version == "2.18.3":
        assert payload.startswith("H4sI")
        return gzip.decompress(base64.b64decode(payload)).decode()
    return payload


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("step", sorted(CALLS))
def test_signal_bytes_equal_elixirs(version: str, step: str) -> None:
    assert CALLS[step]() == _elixir_json(version, step)


def test_2_23_1_payloads_are_sent_as_is() -> None:
    # plain JSON below 512 bytes: the raw NOTIFY text itself, not only its JSON
    for step, call in CALLS.items():
        (wire,) = FIXTURE["versions"]["2.23.1"][step]["wire"]
        assert wire["encoding"] == "plain json" and call() == wire["payload"]


def test_scale_with_node_leaves_out_the_node_key() -> None:
    # 2.23.1 adds "node" and its producer drops it again; 2.18.3 refuses the option when
    # sending and, receiving, would put "node" into the producer's meta: we send neither
    steps = FIXTURE["versions"]
    assert (
        "unexpected option {:node" in steps["2.18.3"]["scale_queue_node"]["elixir_result"]["raised"]
    )
    (wire,) = steps["2.23.1"]["scale_queue_node"]["wire"]
    ours = json.loads(notify.scale_message("alpha", 3, node="other-node"))
    assert ours == {k: v for k, v in wire["decoded"].items() if k != "node"}
    assert "node" not in ours


def test_start_queue_with_options() -> None:
    # lib/oban.ex start_queue/2 (v2.23.1) drops :node but scopes the ident with it
    assert notify.start_message("beta", 3, paused=True, node="w-1") == (
        '{"action":"start","ident":"Oban.w-1","limit":3,"paused":true,"queue":"beta"}'
    )
    assert "paused" not in notify.start_message("beta", 3, paused=False)


def test_idents() -> None:
    assert notify.signal_ident() == "any"
    assert notify.signal_ident("web-1") == "Oban.web-1"
    assert notify.signal_ident("web-1", "MyApp.Oban") == "MyApp.Oban.web-1"
    assert notify.resume_message("a", node="n", instance=":foo") == (
        '{"action":"resume","ident":":foo.n","queue":"a"}'
    )


# -- compression ---------------------------------------------------------------------------


def test_z_form_is_byte_identical_to_oban_2_23_1() -> None:
    (wire,) = FIXTURE["versions"]["2.23.1"]["big_gossip"]["wire"]
    assert wire["payload"].startswith("Z:")
    assert notify.encode_payload(wire["decoded"], compress=True) == wire["payload"]
    plain = notify.encode_payload(wire["decoded"])  # the default: every version reads it
    (legacy,) = FIXTURE["versions"]["2.18.3"]["big_gossip"]["wire"]
    assert plain == gzip.decompress(base64.b64decode(legacy["payload"])).decode()


def _node_for_json_bytes(size: int) -> str:
    overhead = len(notify.pause_message("alpha", node="n").encode()) - 1
    return "n" * (size - overhead)


def test_z_only_when_configured_and_over_512_bytes() -> None:
    at = _node_for_json_bytes(notify.COMPRESS_THRESHOLD)
    over = _node_for_json_bytes(notify.COMPRESS_THRESHOLD + 1)
    assert len(notify.pause_message("alpha", node=at).encode()) == 512
    assert notify.pause_message("alpha", node=at, compress=True).startswith("{")
    big = notify.pause_message("alpha", node=over, compress=True)
    assert big.startswith("Z:")
    assert notify.decode_payload(big) == json.loads(notify.pause_message("alpha", node=over))
    assert notify.pause_message("alpha", node=over).startswith("{")  # not configured


# -- size ----------------------------------------------------------------------------------


def test_payloads_of_8000_bytes_are_refused_before_io() -> None:
    fits = _node_for_json_bytes(notify.MAX_PAYLOAD_BYTES)
    assert len(notify.pause_message("alpha", node=fits).encode()) == 7999
    with pytest.raises(PayloadTooLarge) as info:
        notify.pause_message("alpha", node=fits + "n")
    assert info.value.size == 8000 and info.value.limit == 7999
    assert isinstance(info.value, EncodeError) and isinstance(info.value, NotifierError)
    # the limit holds for what is sent: compressed, the same node fits
    assert notify.pause_message("alpha", node=fits + "n", compress=True).startswith("Z:")
    noise = "".join(hashlib.sha512(bytes([i])).hexdigest() for i in range(120))
    with pytest.raises(PayloadTooLarge):
        notify.pause_message("alpha", node=noise, compress=True)


def test_non_json_values_are_encode_errors() -> None:
    for message in ({"x": float("nan")}, {"x": object()}, {"x": "\ud800"}):
        with pytest.raises(EncodeError):
            notify.encode_payload(message)


# -- validation ----------------------------------------------------------------------------

BAD: list[tuple[Callable[[], Any], str]] = [
    (lambda: notify.pause_message(None), "queue"),  # type: ignore[arg-type]
    (lambda: notify.pause_message(""), "queue"),
    (lambda: notify.pause_message("a\x00b"), "queue"),
    (lambda: notify.pause_message("\udcff"), "queue"),
    (lambda: notify.pause_message("q" * 128), "queue"),
    (lambda: notify.scale_message(ALL_QUEUES, 5), "queue"),
    (lambda: notify.start_message(ALL_QUEUES, 5), "queue"),
    (lambda: notify.stop_message(ALL_QUEUES), "queue"),
    (lambda: notify.scale_message("a", 0), "limit"),
    (lambda: notify.scale_message("a", -1), "limit"),
    (lambda: notify.scale_message("a", True), "limit"),
    (lambda: notify.scale_message("a", "5"), "limit"),  # type: ignore[arg-type]
    (lambda: notify.scale_message("a", 1.5), "limit"),  # type: ignore[arg-type]
    (lambda: notify.scale_message("a", 2**63), "limit"),
    (lambda: notify.start_message("a", None), "limit"),  # type: ignore[arg-type]
    (lambda: notify.start_message("a", 1, paused="yes"), "paused"),  # type: ignore[arg-type]
    (lambda: notify.stop_message("a", node=""), "node"),
    (lambda: notify.stop_message("a", node=7), "node"),  # type: ignore[arg-type]
    (lambda: notify.resume_message("a", instance=""), "instance"),
    (lambda: notify.resume_message("a", node="n", instance="Elixir.MyApp.Oban"), "instance"),
]


@pytest.mark.parametrize(("call", "field"), BAD)
def test_invalid_signals_name_the_field(call: Callable[[], Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field


#: what Elixir's receivers turn into atoms: producer.ex scale (after dropping action, ident,
#: queue) and midwife.ex start (after dropping action, ident, local_only)
ATOMS = {"scale": {"limit"}, "start": {"queue", "limit", "paused"}}
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
queues = st.text(_CHARS, min_size=1, max_size=127).filter(lambda q: q != ALL_QUEUES)
nodes = st.none() | st.text(_CHARS, min_size=1, max_size=300)


@given(queues, st.integers(1, 2**63 - 1), nodes, st.booleans())
def test_only_keys_elixir_knows_and_always_decodable(
    queue: str, limit: int, node: str | None, compress: bool
) -> None:
    sent = {
        "scale": notify.scale_message(queue, limit, node=node, compress=compress),
        "start": notify.start_message(queue, limit, paused=True, node=node, compress=compress),
        "pause": notify.pause_message(queue, node=node, compress=compress),
    }
    for action, payload in sent.items():
        assert len(payload.encode()) <= notify.MAX_PAYLOAD_BYTES
        message = notify.decode_payload(payload)
        assert message["action"] == action and message["queue"] == queue
        assert message["ident"] == ("any" if node is None else f"Oban.{node}")
        dropped = {"scale": {"action", "ident", "queue"}, "start": {"action", "ident"}}
        if action in ATOMS:
            assert set(message) - dropped[action] <= ATOMS[action]
