"""Recorded job output in ``meta`` (etf.md §2)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from bridge.errors import DecodeError, RecordedMissing, RecordTooLarge
from bridge.wire.etf import Atom, decode, encode
from bridge.wire.recorded import (
    RECORDED_LIMIT,
    decode_recorded,
    encode_recorded,
    fetch_recorded,
    record_meta,
)

# etf.md §5.1: strings written by Elixir 1.14 / OTP 25 with Base.encode64(padding: false)
ELIXIR = [
    ("g3QAAAACbQAAAAJpZGEBbQAAAAR0YWdzbAAAAAJtAAAAAWFtAAAAAWJq", {"id": 1, "tags": ["a", "b"]}),
    ("g1AAAAApeJwrYWBgYMoFEZkpiYwgBktJYnpxDkyYMRFMJmUBAIj6Bqw", {"id": 1, "tags": ["a", "b"]}),
    ("g3QAAAACZAACaWRhAWQABnN0YXR1c2QAAm9r", {Atom("id"): 1, Atom("status"): Atom("ok")}),
    ("g2gCZAACb2ttAAAABGRvbmU", (Atom("ok"), "done")),
    ("g2gCbQAAAAF4bQAAAAH/", ("x", b"\xff")),
    ("g2QAA25pbA", None),
    ("g1AAACcVeJztwTERAAAIBKCPYAvTuRvfHh4wSdcCAAAAAAAAAADAAwcLPFEz", "x" * 10_000),
    ("g3QAAAABdwRuYW1lbQAAAARvYmFu", {Atom("name"): "oban"}),  # OTP 26+ (Oban Web docs)
    (  # oban-py 0.7.0 (erlpack, SMALL_ATOM_EXT)
        "g3QAAAAGbQAAAAVjb3VudGEqbQAAAAJva3MEdHJ1ZW0AAAADZXJycwNuaWxtAAAABXJhdGlvRj/gAAAAAAAAbQ"
        "AAAAR0YWdzbAAAAAJtAAAAAWFtAAAAAWJqbQAAAAZuZXN0ZWR0AAAAAW0AAAABa2wAAAADYQFhAmEDag",
        {
            "count": 42,
            "ok": True,
            "err": None,
            "ratio": 0.5,
            "tags": ["a", "b"],
            "nested": {"k": [1, 2, 3]},
        },
    ),
]


@pytest.mark.parametrize(("text", "value"), ELIXIR)
def test_elixir_recorded_strings_decode(text: str, value: Any) -> None:
    assert decode_recorded(text) == value
    assert decode_recorded(text + "=" * (-len(text) % 4)) == value


def test_encoded_text_is_unpadded_standard_base64_of_term_to_binary() -> None:
    value = {"id": 1, "tags": ["a", "b"]}
    text = encode_recorded(value, compressed=False)
    assert text == ELIXIR[0][0]
    assert not text.endswith("=")
    assert base64.b64decode(text + "==") == encode(value)


def test_compression_is_the_default_and_only_used_when_not_larger() -> None:
    assert encode_recorded({"id": 1, "tags": ["a", "b"]}).startswith("g1A")
    assert encode_recorded("x" * 10_000) == ELIXIR[6][0]  # byte-identical to Elixir's
    assert encode_recorded(None) == "g3cDbmls"  # too small to gain: plain, minor_version 2
    assert encode_recorded(None, minor_version=1) == "g2QAA25pbA"
    assert encode_recorded({"id": 1}, compressed=9) == encode_recorded({"id": 1}, compressed=False)


def test_limit_is_measured_on_the_text() -> None:
    assert RECORDED_LIMIT == 32_000
    big = [f"row {i}" for i in range(8000)]
    with pytest.raises(RecordTooLarge) as info:
        encode_recorded(big, compressed=False)
    assert info.value.limit == 32_000 and info.value.size > 32_000
    text = encode_recorded(big)  # compressed fits
    assert len(text) <= 32_000
    assert decode_recorded(text) == big
    assert decode_recorded(encode_recorded(big, compressed=False, limit=None)) == big
    with pytest.raises(RecordTooLarge):
        encode_recorded("abc", limit=4)


@pytest.mark.parametrize(
    "text",
    [
        "g2QAA25pbA-_",  # URL-safe alphabet
        "g2QAA 25pbA",  # whitespace
        "g2QAA25pbA===",  # too much padding
        "g2QAA25pb=A",  # padding in the middle
        "g2QAA25pbAx",  # impossible length (4n + 1 after the padding is gone)
        "",
    ],
)
def test_text_is_decoded_strictly(text: str) -> None:
    with pytest.raises(DecodeError):
        decode_recorded(text)


def test_text_length_and_type_are_capped() -> None:
    with pytest.raises(DecodeError, match="over"):
        decode_recorded("g2QAA25pbA", max_length=8)
    with pytest.raises(DecodeError):
        decode_recorded(b"g2QAA25pbA")  # type: ignore[arg-type]


def test_decode_options_pass_through() -> None:
    assert decode_recorded(ELIXIR[0][0], binaries="bytes") == {b"id": 1, b"tags": [b"a", b"b"]}
    with pytest.raises(DecodeError):
        decode_recorded(ELIXIR[2][0], known_atoms={"id"})


def test_record_meta_merges_without_mutating() -> None:
    meta = {"keep": "me", "recorded": False}
    merged = record_meta(meta, {"ok": 1})
    assert meta == {"keep": "me", "recorded": False}
    assert merged["keep"] == "me" and merged["recorded"] is True
    assert decode_recorded(merged["return"]) == {"ok": 1}
    assert record_meta(None, 1, compressed=False) == {"recorded": True, "return": "g2EB"}
    with pytest.raises(RecordTooLarge):
        record_meta({}, "x" * 100, compressed=False, limit=10)


@dataclass
class FakeJob:
    meta: dict[str, Any] = field(default_factory=dict)


def test_fetch_recorded_accepts_job_objects_job_rows_and_meta() -> None:
    meta = record_meta({"other": 1}, (Atom("ok"), [1.5]))
    expected = (Atom("ok"), [1.5])
    assert fetch_recorded(FakeJob(meta)) == expected
    assert fetch_recorded({"id": 7, "meta": meta}) == expected
    assert fetch_recorded(meta) == expected
    assert fetch_recorded(meta, binaries="bytes") == expected


@pytest.mark.parametrize(
    "source",
    [
        FakeJob({}),
        FakeJob({"recorded": "true", "return": "g2EB"}),  # the JSON boolean is required
        {"id": 1, "meta": {}},
        {},
        None,
        FakeJob({"recorded": True}),  # Oban Web: "No Recording Yet"
    ],
)
def test_fetch_recorded_missing(source: Any) -> None:
    with pytest.raises(RecordedMissing):
        fetch_recorded(source)


def test_fetch_recorded_refuses_corrupt_text() -> None:
    with pytest.raises(DecodeError):
        fetch_recorded({"recorded": True, "return": "g2EBAA"})  # trailing byte
    with pytest.raises(DecodeError):
        fetch_recorded({"recorded": True, "return": 42})


def test_recorded_values_round_trip_through_decode() -> None:
    value = {"rows": [{"id": i, "ok": i % 2 == 0, "score": i / 3} for i in range(50)]}
    assert decode(base64.b64decode(encode_recorded(value) + "==")) == value
