"""Real Erlang output as the oracle, no ``erl`` needed.

``tests/fixtures/etf/vectors.json`` was written by ``tests/erlang/etfgen.erl``
on OTP 25 (see its header to regenerate). Each vector holds
``term_to_binary`` under several options; each is decoded to the Python value
below and, conversely, the Python value must encode to the very same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.wire.etf import (
    Atom,
    BitString,
    ErlList,
    Export,
    FrozenMap,
    Fun,
    ImproperList,
    Pid,
    Port,
    Ref,
    TermMap,
    decode,
    encode,
    term_key,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "etf" / "vectors.json"
VECTORS = {v["name"]: v for v in json.loads(FIXTURE.read_text("utf-8"))["vectors"]}
A = Atom


def _k(i: int) -> str:
    return f"k{i}"


EXPECTED: dict[str, Any] = {
    "atom_ok": A("ok"),
    "atom_true": True,
    "atom_false": False,
    "atom_nil": None,
    "atom_undefined": A("undefined"),
    "atom_error": A("error"),
    "atom_latin1": A("héllo"),
    "atom_utf8": A("日本"),
    "atom_long_utf8": A("日" * 100),
    "atom_255_latin1": A("a" * 255),
    "atom_elixir_module": A("Elixir.DateTime"),
    "atom_empty": A(""),
    "int_0": 0,
    "int_255": 255,
    "int_256": 256,
    "int_neg1": -1,
    "int_max32": 2**31 - 1,
    "int_min32": -(2**31),
    "int_2pow31": 2**31,
    "int_min32_minus1": -(2**31) - 1,
    "int_2pow64": 2**64,
    "int_2pow64_minus1": 2**64 - 1,
    "int_neg_2pow200": -(2**200),
    "int_2pow2040_minus1": 2**2040 - 1,
    "int_2pow2048": 2**2048,
    "float_1_5": 1.5,
    "float_neg_zero": -0.0,
    "float_0_1": 0.1,
    "float_big": 1.0e308,
    "float_tiny": 5.0e-324,
    "float_neg": -123.456,
    "bin_hello": "hello",
    "bin_empty": "",
    "bin_invalid_utf8": b"\xff\x00\xfe",
    "bin_utf8": "héllo 日本",
    "bin_emoji": "🎉",
    "bits_3": BitString(b"\x20", 3),
    "bits_9": BitString(b"\xff\x80", 1),
    "bits_7": BitString(b"\xfe", 7),
    "charlist_abc": [97, 98, 99],
    "nil": [],
    "list_mixed": [1, 2, 300],
    "list_bytes_0_255": list(range(256)),
    "list_of_bins": ["a", "b"],
    "charlist_unicode": [26085, 26412],
    "list_with_bool": [1, True],
    "list_nested": [[1], [[2]], []],
    "improper_1_2": ImproperList((1,), 2),
    "improper_atoms": ImproperList((A("a"), A("b")), "c"),
    "keyword": [(A("a"), 1), (A("b"), 2)],
    "tuple_empty": (),
    "tuple_ok": (A("ok"), 1),
    "tuple_ok_done": (A("ok"), "done"),
    "tuple_error": (A("error"), "boom"),
    "tuple_300": tuple(range(1, 301)),
    "tuple_255": (0,) * 255,
    "tuple_256": (0,) * 256,
    "map_empty": {},
    "map_str_keys": {"count": 42, "name": "oban"},
    "map_elixir_job": {"id": 1, "tags": ["a", "b"]},
    "map_atom_keys": {A("id"): 1, A("status"): A("ok")},
    "map_mixed_keys": {"a": 1, A("b"): 2},
    "map_atom_and_bin_a": {A("a"): 1, "a": 2},
    "map_nonstring_keys": {
        1: A("a"),
        (A("x"), A("y")): A("b"),
        FrozenMap([(A("k"), A("v"))]): A("c"),
        ErlList([1, 2]): A("d"),
        2.5: A("e"),
    },
    "map_int_float_true": TermMap([(1, A("a")), (1.0, A("b")), (True, A("c"))]),
    "map_int_before_float": {2: A("a"), 1.5: A("b")},
    "map_list_keys": {
        ErlList([]): A("a"),
        ErlList([1]): A("b"),
        ImproperList((1,), 2): A("c"),
        ErlList([97, 98]): A("d"),
    },
    "map_nil_key": {None: 1, "nil": 2},
    "map_nested": {"outer": {"inner": [1, 2.0, "x"]}},
    "map_unicode_keys": {"é": 1, "z": 2, "日": 3, "Z": 4},
    "map_32_keys": {_k(i): i for i in range(1, 33)},
    "map_33_keys": {_k(i): i for i in range(1, 34)},
    "map_40_keys": {_k(i): i for i in range(1, 41)},
    "datetime_struct": {
        A("__struct__"): A("Elixir.DateTime"),
        A("year"): 2024,
        A("month"): 1,
        A("day"): 2,
        A("hour"): 3,
        A("minute"): 4,
        A("second"): 5,
        A("microsecond"): (0, 0),
        A("time_zone"): "Etc/UTC",
        A("zone_abbr"): "UTC",
        A("utc_offset"): 0,
        A("std_offset"): 0,
        A("calendar"): A("Elixir.Calendar.ISO"),
    },
    "list_compressible": ["abcabcabc"] * 50,
    "string_10000_x": "x" * 10000,
}
OPAQUE = {
    "pid": Pid,
    "ref": Ref,
    "port": Port,
    "export_fun": Export,
    "local_fun": Fun,
    "closure_with_free_vars": Fun,
}
#: column → (minor_version, deterministic, compressed) that reproduces it
COLUMNS = {
    "v1": (1, True, False),
    "v2": (2, True, False),
    "d1": (1, True, False),
    "d2": (2, True, False),
    "z1": (1, True, True),
    "z2": (2, True, True),
    "z2_1": (2, True, 1),
}
#: maps of more than 32 keys are written in hash order unless deterministic
HASH_ORDERED = {"map_33_keys", "map_40_keys"}


def test_fixture_covers_every_expected_value() -> None:
    assert set(VECTORS) == set(EXPECTED) | set(OPAQUE)
    assert len(VECTORS) >= 80


def _same(a: Any, b: Any) -> bool:
    """Equal as Erlang terms *and* as Python types (1 vs 1.0 vs True, -0.0 vs 0.0)."""
    return bool(term_key(a) == term_key(b)) and type(a) is type(b)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_erlang_bytes_decode_to_the_python_value(name: str, column: str) -> None:
    value = decode(bytes.fromhex(VECTORS[name][column]))
    assert _same(value, EXPECTED[name])
    assert value == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_python_value_encodes_to_the_erlang_bytes(name: str, column: str) -> None:
    if name in HASH_ORDERED and column[0] in "vz":
        pytest.skip("OTP writes maps over 32 keys in internal hash order without deterministic")
    minor_version, deterministic, compressed = COLUMNS[column]
    out = encode(
        EXPECTED[name],
        minor_version=minor_version,
        deterministic=deterministic,
        compressed=compressed,
    )
    assert out.hex() == VECTORS[name][column]


@pytest.mark.parametrize("name", sorted(VECTORS))
@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_wire_order_round_trip_is_byte_identical(name: str, column: str) -> None:
    """decode → encode(deterministic=False) keeps the sender's order, hash order included."""
    minor_version, _, compressed = COLUMNS[column]
    raw = bytes.fromhex(VECTORS[name][column])
    value = decode(raw, allow_opaque=True)
    again = encode(value, minor_version=minor_version, deterministic=False, compressed=compressed)
    assert again == raw


@pytest.mark.parametrize("name", sorted(OPAQUE))
def test_opaque_terms_are_refused_by_default_and_typed_when_allowed(name: str) -> None:
    from bridge.errors import DecodeError

    raw = bytes.fromhex(VECTORS[name]["v2"])
    with pytest.raises(DecodeError) as info:
        decode(raw)
    assert info.value.offset == 1
    assert isinstance(decode(raw, allow_opaque=True), OPAQUE[name])


def test_otp26_atoms_and_otp25_atoms_decode_to_the_same_atom() -> None:
    for name in ("atom_ok", "atom_latin1", "map_atom_keys", "datetime_struct"):
        v1 = decode(bytes.fromhex(VECTORS[name]["v1"]))
        v2 = decode(bytes.fromhex(VECTORS[name]["v2"]))
        assert v1 == v2


def test_closure_free_variables_survive() -> None:
    fun = decode(bytes.fromhex(VECTORS["closure_with_free_vars"]["v2"]), allow_opaque=True)
    assert fun.free_vars == (7,)
    assert fun.module == Atom("etfgen")
    assert fun.arity == 1


# etf.md §5, copied verbatim from the research notes (OTP 25.2.3): an oracle
# independent of the regenerated fixture above. (value, OTP 25 hex, OTP 26+ hex)
RESEARCH_VECTORS: list[tuple[Any, str, str | None]] = [
    (A("ok"), "836400026f6b", "8377026f6b"),
    (True, "8364000474727565", "83770474727565"),
    (None, "836400036e696c", "8377036e696c"),
    (A("héllo"), "8364000568e96c6c6f", "83770668c3a96c6c6f"),
    (A("日本"), "837706e697a5e69cac", None),
    (2**31, "836e040000000080", None),
    (-(2**31) - 1, "836e040101000080", None),
    (2**64, "836e0900000000000000000001", None),
    (-(2**200), "836e1a01" + "00" * 25 + "01", None),
    (-0.0, "83468000000000000000", None),
    (0.1, "83463fb999999999999a", None),
    ("héllo", "836d0000000668c3a96c6c6f", None),
    (BitString(b"\x20", 3), "834d000000010320", None),
    (BitString(b"\xff\x80", 1), "834d0000000201ff80", None),
    ([1, 2, 3], None, None),
    ([26085, 26412], "836c0000000262000065e5620000672c6a", None),
    (
        ImproperList((A("a"), A("b")), "c"),
        "836c000000026400016164000162" + "6d0000000163",
        "836c000000027701617701626d0000000163",
    ),
    ((A("ok"), 1), "8368026400026f6b6101", "83680277026f6b6101"),
    (
        {"count": 42, "name": "oban"},
        "8374000000026d00000005636f756e74612a6d000000046e616d656d000000046f62616e",
        None,
    ),
    (
        {"a": 1, A("b"): 2},
        "8374000000026400016261026d00000001616101",
        "83740000000277016261026d00000001616101",
    ),
    (
        {
            1: A("a"),
            (A("x"), A("y")): A("b"),
            FrozenMap([(A("k"), A("v"))]): A("c"),
            ErlList([1, 2]): A("d"),
            2.5: A("e"),
        },
        "83740000000561016400016146400400000000000064000165680264000178640001796400016274000000"
        "016400016b64000176640001636b0002010264000164",
        "83740000000561017701614640040000000000007701656802770178770179770162740000000177016b77"
        "01767701636b00020102770164",
    ),
    (["abcabcabc"] * 50, None, None),
]


@pytest.mark.parametrize(("value", "otp25", "otp26"), RESEARCH_VECTORS)
def test_research_vectors(value: Any, otp25: str | None, otp26: str | None) -> None:
    if otp25 is not None:
        assert encode(value, minor_version=1).hex() == otp25
        assert decode(bytes.fromhex(otp25)) == value
    want26 = otp26 if otp26 is not None else otp25
    if want26 is not None:
        assert encode(value, minor_version=2).hex() == want26
        assert decode(bytes.fromhex(want26)) == value
    assert decode(encode(value)) == value


def test_research_compressed_vector_and_float_ext() -> None:
    raw = bytes.fromhex("8350000002c2789ccb61606030ca05129c8949c91034ca1be50d1d5e1600d11cc459")
    assert decode(raw) == ["abcabcabc"] * 50
    assert encode(["abcabcabc"] * 50, compressed=True) == raw
    text = "8363312e3530303030303030303030303030303030303030652b30300000000000"
    assert decode(bytes.fromhex(text)) == 1.5
    three = "837400000003610164000161463ff0000000000000640001626400047472756564000163"
    assert list(decode(bytes.fromhex(three)).pairs()) == [
        (1, A("a")),
        (1.0, A("b")),
        (True, A("c")),
    ]
