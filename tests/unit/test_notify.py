"""Oban's NOTIFY payloads: what we send must be what Elixir sends; we read all three forms."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from bridge.errors import DecodeError, NotifierError
from bridge.wire import notify

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notify"


def _fixture(version: str) -> dict:
    return json.loads((FIXTURES / f"oban-{version}.json").read_text())


def test_insert_payloads_are_byte_identical_to_oban_2_23_1() -> None:
    steps = _fixture("2.23.1")["steps"]
    wire = [w["payload"] for w in steps["insert_all"]["wire"]]
    assert notify.insert_messages(["alpha", "alpha", "omega"]) == wire
    assert notify.pkill_message(6) == steps["pkill"]["wire"][0]["payload"]


@pytest.mark.parametrize("version", ["2.18.3", "2.23.1"])
def test_every_recorded_payload_decodes(version: str) -> None:
    for step in _fixture(version)["steps"].values():
        for wire in step["wire"]:
            assert notify.decode_payload(wire["payload"]) == wire["decoded"]


def test_legacy_encoding_matches_oban_2_18_3_bytes() -> None:
    wire = _fixture("2.18.3")["steps"]["insert_single"]["wire"][0]
    assert notify.encode_legacy({"queue": "alpha"}) == wire["payload"]


#: live Oban 2.23.1's own ``Z:`` payload (``Oban.Notifier.notify/3`` of a 939-byte gossip map),
#: captured from the wire, not made by Python's gzip
_LIVE_Z = json.loads((FIXTURES / "signals.json").read_text())["versions"]["2.23.1"]["big_gossip"]


def test_z_payload_from_live_oban_2_23_1_decodes() -> None:
    (wire,) = _LIVE_Z["wire"]
    assert wire["payload"].startswith("Z:H4sI")
    assert notify.decode_payload(wire["payload"]) == wire["decoded"]


def test_z_payload_we_send_is_oban_2_23_1_bytes() -> None:
    (wire,) = _LIVE_Z["wire"]
    assert notify.encode_payload(wire["decoded"], compress=True) == wire["payload"]


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[1,2]",
        "Z:!!!",
        "Z:" + base64.b64encode(b"plain").decode(),
        "H4sI====",
        "Z:" + base64.b64encode(gzip.compress(b"[1]")).decode(),
        "Z:" + base64.b64encode(gzip.compress(b'{"a":1}')[:-6]).decode(),
    ],
)
def test_malformed_payloads_raise_decode_error(payload: str) -> None:
    with pytest.raises(DecodeError):
        notify.decode_payload(payload)


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b'{"a":"' + b"x" * (4 << 20) + b'"}')
    with pytest.raises(DecodeError):
        notify.decode_payload("Z:" + base64.b64encode(bomb).decode())


def test_channel_names_and_limits() -> None:
    assert notify.channel_name("public", "insert") == "public.oban_insert"
    with pytest.raises(NotifierError):
        notify.channel_name("p" * 60, "insert")
    with pytest.raises(NotifierError):
        notify.encode_payload({"queue": "x" * 8000})
