"""Sonar pings and gossip check-ins (``bridge.wire.gossip``): Elixir's recorded payloads are the
oracle for the shapes, and every payload stays under PostgreSQL's cap however many checks."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import DecodeError
from bridge.wire.cluster import Heard
from bridge.wire.gossip import (
    ProducerCheck,
    decode_sonar,
    encode_check,
    encode_gossip,
    encode_sonar,
)
from bridge.wire.notify import MAX_PAYLOAD_BYTES, decode_payload, encode_legacy, encode_payload

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "sonar_gossip.json").read_text()
)["versions"]
VERSIONS = sorted(VECTORS)
#: Jason's DateTime: ISO-8601, microseconds, Z (the recorded checks' started_at/updated_at)
ELIXIR_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
T0 = datetime(2026, 1, 1, 0, 0, 0)
UUID = "0000002a-1234-8567-89ab-627269646765"


def check(queue: str = "alpha", **changes: Any) -> ProducerCheck:
    fields: dict[str, Any] = {
        "node": "py-1",
        "name": "Oban",
        "queue": queue,
        "limit": 10,
        "paused": False,
        "uuid": UUID,
        "started_at": T0,
        "updated_at": T0 + timedelta(seconds=1),
        "refresh_interval": 60_000,
        "running": (101, 202),
        "workers": ("MyApp.B", "MyApp.A"),
    }
    fields.update(changes)
    return ProducerCheck(**fields)


def checks_of(payload: str) -> list[dict[str, Any]]:
    message = decode_payload(payload)
    assert list(message) == ["checks"]
    found: list[dict[str, Any]] = message["checks"]
    return found


# --- sonar ----------------------------------------------------------------------------------------


def test_sonar_ping_is_byte_identical_to_oban_2_23_1() -> None:
    recorded = VECTORS["2.23.1"]["sonar"]
    assert recorded["encoding"] == "plain json"
    assert encode_sonar("vec-elixir-1") == recorded["payload"]


def test_sonar_ping_decodes_as_2_18_3_sent_it_and_gzips_to_its_bytes() -> None:
    recorded = VECTORS["2.18.3"]["sonar"]
    assert decode_payload(encode_sonar("vec-elixir-1")) == recorded["decoded"]
    assert encode_legacy(decode_payload(encode_sonar("vec-elixir-1"))) == recorded["payload"]


def test_sonar_ping_never_carries_time() -> None:
    assert "time" not in decode_payload(encode_sonar("py-1"))


@pytest.mark.parametrize("version", VERSIONS)
def test_decode_sonar_reads_elixirs_pings(version: str) -> None:
    assert decode_sonar(decode_payload(VECTORS[version]["sonar"]["payload"])) == "vec-elixir-1"


def test_decode_sonar_ignores_a_time_key() -> None:
    assert decode_sonar({"node": "n", "ping": True, "time": -576460751}) == "n"


@pytest.mark.parametrize("message", [{}, {"node": 5}, {"node": ""}, {"node": ["a"]}, {"ping": 1}])
def test_decode_sonar_refuses_a_message_without_a_node_name(message: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        decode_sonar(message)


# --- one check ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_a_check_has_every_key_of_elixirs_and_the_same_types(version: str) -> None:
    (elixir, *_) = VECTORS[version]["gossip"]["decoded"]["checks"]
    ours = encode_check(check())
    assert set(elixir) <= set(ours)
    for key, value in elixir.items():
        assert type(ours[key]) is type(value), key
    assert ELIXIR_TIME.match(ours["started_at"]) and ELIXIR_TIME.match(ours["updated_at"])


def test_a_check_has_the_keys_of_basic_engine_meta_and_workers() -> None:
    # lib/oban/engines/basic.ex init/2 + check_meta/3 (v2.23.1), and our "workers"
    assert sorted(encode_check(check())) == [
        "limit",
        "name",
        "node",
        "paused",
        "queue",
        "refresh_interval",
        "running",
        "shutdown_started_at",
        "started_at",
        "updated_at",
        "uuid",
        "workers",
    ]


def test_the_recorded_checks_re_encode_to_elixirs_values() -> None:
    recorded = VECTORS["2.23.1"]["gossip"]["decoded"]["checks"]
    ours = [
        encode_check(
            ProducerCheck(
                node=c["node"],
                name=c["name"],
                queue=c["queue"],
                limit=c["limit"],
                paused=c["paused"],
                uuid=c["uuid"],
                started_at=datetime.fromisoformat(c["started_at"].replace("Z", "+00:00")),
                updated_at=datetime.fromisoformat(c["updated_at"].replace("Z", "+00:00")),
                refresh_interval=60_000,
                running=tuple(c["running"]),
            )
        )
        for c in recorded
    ]
    assert [{k: v for k, v in c.items() if k in recorded[0]} for c in ours] == recorded


def test_check_times_are_utc_with_microseconds() -> None:
    aware = datetime(2026, 1, 1, 1, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    encoded = encode_check(check(started_at=aware, shutdown_started_at=T0))
    assert encoded["started_at"] == "2026-01-01T00:00:00.000005Z"
    assert encoded["shutdown_started_at"] == "2026-01-01T00:00:00.000000Z"
    assert encode_check(check())["shutdown_started_at"] is None


def test_workers_are_sorted() -> None:
    assert encode_check(check())["workers"] == ["MyApp.A", "MyApp.B"]


# --- payloads -------------------------------------------------------------------------------------


def test_one_payload_is_the_generic_encoders_bytes() -> None:
    both = [check("alpha"), check("beta")]
    encoded = encode_gossip(both)
    assert encoded.payloads == [encode_payload({"checks": [encode_check(c) for c in both]})]
    assert encoded.trimmed == encoded.dropped == []


def test_no_checks_no_payload() -> None:
    assert encode_gossip([]).payloads == []


def test_many_checks_are_split_under_the_cap_in_order() -> None:
    many = [check(f"queue_{i:03}", running=tuple(range(i, i + 20))) for i in range(200)]
    encoded = encode_gossip(many)
    assert len(encoded.payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in encoded.payloads)
    assert all(p.startswith('{"checks":[') for p in encoded.payloads)  # plain JSON, no Z:
    sent = [c for p in encoded.payloads for c in checks_of(p)]
    assert sent == [encode_check(c) for c in many]


def test_a_check_too_big_for_plain_json_goes_gzipped_in_the_legacy_form() -> None:
    busy = check(running=tuple(range(1_000_000, 1_001_500)))
    assert len(json.dumps(encode_check(busy))) > MAX_PAYLOAD_BYTES
    encoded = encode_gossip([check("small"), busy])
    assert len(encoded.payloads) == 2
    assert encoded.payloads[1].startswith("H4sI")  # read by every Oban version, unlike Z:
    assert checks_of(encoded.payloads[1]) == [encode_check(busy)]
    assert encoded.trimmed == [] and encoded.dropped == []


def test_a_check_too_big_even_gzipped_has_its_running_list_cut() -> None:
    rng = random.Random(7)
    busy = check(running=tuple(rng.randrange(1, 2**40) for _ in range(20_000)))
    encoded = encode_gossip([busy])
    (payload,) = encoded.payloads
    assert len(payload) <= MAX_PAYLOAD_BYTES
    (sent,) = checks_of(payload)
    assert 0 < len(sent["running"]) < 20_000
    assert sent["running"] == list(busy.running[: len(sent["running"])])
    assert encoded.trimmed == ["alpha"]


def test_a_check_that_cannot_fit_at_all_is_dropped_and_the_rest_sent() -> None:
    huge = check(workers=tuple(f"W{i:05}" + "x" * 200 for i in range(2_000)))
    encoded = encode_gossip([check("before"), huge, check("after")])
    assert encoded.dropped == ["alpha"]
    assert [c["queue"] for p in encoded.payloads for c in checks_of(p)] == ["before", "after"]


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            check,
            queue=names.filter(bool),
            running=st.lists(st.integers(1, 2**63 - 1), max_size=400).map(tuple),
            workers=st.lists(names, max_size=30).map(tuple),
        ),
        max_size=40,
    )
)
def test_every_check_arrives_once_under_the_cap(many: list[ProducerCheck]) -> None:
    encoded = encode_gossip(many)
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in encoded.payloads)
    sent = [c for p in encoded.payloads for c in checks_of(p)]
    assert [c["queue"] for c in sent] == [c.queue for c in many]
    assert encoded.dropped == [] and encoded.trimmed == []


# --- the contract with status and doctor ----------------------------------------------------------


def test_status_and_doctor_read_our_checks_as_python_with_their_workers() -> None:
    heard = Heard()
    for payload in encode_gossip([check("alpha"), check("beta", paused=True)]).payloads:
        heard.hear("gossip", payload, at=1.0)
    alpha, beta_check = heard.live_checks()
    assert heard.rejected == 0
    assert (alpha.queue, alpha.limit, alpha.paused, alpha.running) == ("alpha", 10, False, 2)
    assert alpha.workers == ("MyApp.A", "MyApp.B") and alpha.language == "python"
    assert beta_check.paused
    heard.hear("sonar", encode_sonar("py-1"), at=2.0)
    assert heard.nodes["py-1"].channels == {"gossip", "sonar"}
