"""The ETF codec's Python ↔ Erlang mapping and options (etf.md §4.1, §4.2)."""

from __future__ import annotations

import enum
import math
import pickle
import struct
import zlib
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import DecodeError, EncodeError
from bridge.wire.etf import (
    DEFAULT_MINOR_VERSION,
    Atom,
    BitString,
    Charlist,
    ErlList,
    FrozenMap,
    Fun,
    ImproperList,
    Pid,
    Port,
    Ref,
    TermMap,
    as_text,
    compare,
    decode,
    encode,
    freeze,
    sort_keys,
    term_key,
)


def h(value: Any, **opts: Any) -> str:
    return encode(value, **opts).hex()


# --- atoms -----------------------------------------------------------------


def test_atom_is_never_equal_to_its_name() -> None:
    assert Atom("ok") != "ok"
    assert "ok" != Atom("ok")  # noqa: SIM300 - the reflected comparison is the point
    assert not isinstance(Atom("ok"), str)
    assert len({Atom("a"): 1, "a": 2}) == 2


def test_atom_is_interned_hashable_immutable_and_picklable() -> None:
    assert Atom("ok") is Atom("ok")
    assert hash(Atom("ok")) == hash(Atom("ok"))
    with pytest.raises(AttributeError):
        Atom("ok").name = "error"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(Atom("ok"))) == Atom("ok")


def test_atom_cache_is_bounded_and_equality_does_not_depend_on_it() -> None:
    from bridge.wire.etf import terms

    for i in range(terms.ATOM_CACHE_SIZE + 10):
        Atom(f"bounded_{i}")
    assert len(terms._ATOM_CACHE) <= terms.ATOM_CACHE_SIZE
    late = f"bounded_{terms.ATOM_CACHE_SIZE + 5}"
    assert Atom(late) == Atom(late) and Atom(late) is not Atom(late)


def test_special_atoms_map_to_python_constants() -> None:
    assert decode(encode(None)) is None
    assert decode(encode(True)) is True
    assert decode(encode(False)) is False
    assert decode(encode(Atom("undefined"))) == Atom("undefined")
    assert decode(encode(Atom("nil"))) is None  # the same Erlang term as None


@pytest.mark.parametrize(
    "encoded", [b"s\x04true", b"d\x00\x04true", b"w\x04true", b"v\x00\x04true", b"s\x02zq"]
)
def test_every_atom_tag_decodes_the_same_when_cached(encoded: bytes) -> None:
    """Regression: the atom cache must compute each tag's length field right, also
    when the atom is the last byte of the input (the second decode hits the cache)."""
    for raw in (
        b"\x83" + encoded,
        b"\x83h\x02a\x01" + encoded,
        b"\x83l\x00\x00\x00\x01" + encoded + b"j",
    ):
        first, second = decode(raw), decode(raw)
        assert first == second
        assert first in (True, Atom("zq"), (1, True), (1, Atom("zq")), [True], [Atom("zq")])


def test_minor_version_2_is_default_and_writes_utf8_atoms() -> None:
    assert DEFAULT_MINOR_VERSION == 2
    assert h(Atom("ok")) == "8377026f6b"  # SMALL_ATOM_UTF8_EXT, as OTP 26+
    assert h(Atom("ok"), minor_version=1) == "836400026f6b"  # ATOM_EXT, as OTP 25
    assert h(Atom("héllo"), minor_version=1) == "8364000568e96c6c6f"  # Latin-1 bytes
    assert h(Atom("日本"), minor_version=1) == "837706e697a5e69cac"
    long = Atom("日" * 100)
    assert h(long).startswith("8376012c")  # ATOM_UTF8_EXT over 255 bytes
    with pytest.raises(EncodeError):
        encode(Atom("a" * 256))
    with pytest.raises(EncodeError):
        encode(1, minor_version=0)


# --- scalars ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hexed"),
    [
        (0, "836100"),
        (255, "8361ff"),
        (256, "836200000100"),
        (-1, "8362ffffffff"),
        (2**31, "836e040000000080"),
        (-(2**31) - 1, "836e040101000080"),
        (2**64, "836e0900000000000000000001"),
        (1.5, "83463ff8000000000000"),
        (-0.0, "83468000000000000000"),
        ("hello", "836d0000000568656c6c6f"),
        (b"\xff\x00\xfe", "836d00000003ff00fe"),
        (bytearray(b"ab"), "836d000000026162"),
        (memoryview(b"ab"), "836d000000026162"),
        ([], "836a"),
        ([1, 2, 3], "836b0003010203"),
        ([1, 2, 300], "836c0000000361016102620000012c6a"),
        ((), "836800"),
        ({}, "837400000000"),
        (BitString(b"\x20", 3), "834d000000010320"),
        (ImproperList((1,), 2), "836c0000000161016102"),
        (Charlist("abc"), "836b0003616263"),
    ],
)
def test_known_encodings(value: Any, hexed: str) -> None:
    assert h(value) == hexed


def test_large_bignum_uses_large_big_ext() -> None:
    out = encode(2**2048)
    assert out[1] == 111 and struct.unpack(">I", out[2:6])[0] == 257
    assert decode(out) == 2**2048


def test_string_ext_boundaries() -> None:
    assert encode([7] * 65535)[1] == 107
    assert encode([7] * 65536)[1] == 108
    assert encode([True, 1])[1] == 108  # a bool is the atom true, not the byte 1
    assert encode([1, 256])[1] == 108
    assert decode(encode([7] * 65536)) == [7] * 65536


def test_tuple_arity_boundaries() -> None:
    assert encode((0,) * 255)[1] == 104
    assert encode((0,) * 256)[1] == 105
    assert decode(encode((0,) * 300)) == (0,) * 300


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(bad: float) -> None:
    with pytest.raises(EncodeError):
        encode({"x": [bad]})


def test_unrepresentable_values_raise_encode_error() -> None:
    class Color(enum.Enum):
        RED = 1

    for value in (datetime(2024, 1, 1), {1, 2}, object(), Color.RED, "\ud800"):
        with pytest.raises(EncodeError):
            encode(value)


def test_default_hook_converts_unknown_values() -> None:
    out = encode({"at": datetime(2024, 1, 2)}, default=lambda v: v.isoformat())
    assert decode(out) == {"at": "2024-01-02T00:00:00"}


def test_subclasses_encode_as_their_base_type() -> None:
    class S(str):
        pass

    class D(dict):  # type: ignore[type-arg]
        pass

    assert encode(S("a")) == encode("a")
    assert encode(D(a=1)) == encode({"a": 1})


# --- depth -----------------------------------------------------------------


def _nest(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_limit_is_symmetric() -> None:
    ok = encode(_nest(256))
    assert decode(ok) == _nest(256)
    with pytest.raises(EncodeError):
        encode(_nest(258))
    with pytest.raises(DecodeError):
        decode(b"\x83" + b"l\x00\x00\x00\x01" * 257 + b"j" * 258)


def test_self_referencing_list_is_an_encode_error() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(EncodeError):
        encode(loop)


# --- maps ------------------------------------------------------------------


def test_python_keys_that_are_one_erlang_key_are_refused() -> None:
    for keys in (("a", b"a"), (None, Atom("nil")), (True, Atom("true"))):
        with pytest.raises(EncodeError, match="same Erlang term"):
            encode({keys[0]: 1, keys[1]: 2})
    with pytest.raises(EncodeError):
        encode({("a",): 1, (b"a",): 2})


def test_deterministic_sorts_in_map_key_order() -> None:
    value = {"b": 1, Atom("z"): 2, 1.5: 3, 2: 4, (1,): 5, "a": 6}
    keys = [k for k in decode(encode(value))]
    assert keys == [2, 1.5, Atom("z"), (1,), "a", "b"]
    assert [k for k in decode(encode(value, deterministic=False))] == list(value)


def test_sort_keys_follows_erlang_term_order() -> None:
    keys: list[Any] = [
        BitString(b"\x20", 3),
        "a",
        ErlList([1]),
        ErlList([]),
        FrozenMap([(1, 2)]),
        (1, 2),
        (9,),
        Atom("a"),
        None,
        2.0,
        3,
        ImproperList((1,), 2),
    ]
    assert sort_keys(keys) == [
        3,
        2.0,
        Atom("a"),
        None,
        (9,),
        (1, 2),
        FrozenMap([(1, 2)]),
        ErlList([]),
        ImproperList((1,), 2),
        ErlList([1]),
        BitString(b"\x20", 3),  # bits 001 sort before "a" = 01100001
        "a",
    ]
    assert compare(1, 1.0) == -1 and compare(2, 1.5) == -1 and compare("a", "a") == 0


def test_colliding_keys_decode_to_a_term_map() -> None:
    raw = bytes.fromhex("837400000003610164000161463ff0000000000000640001626400047472756564000163")
    m = decode(raw)
    assert isinstance(m, TermMap)
    assert (m[1], m[1.0], m[True]) == (Atom("a"), Atom("b"), Atom("c"))
    assert len(m) == 3 and list(m) == [1, 1.0, True]
    assert 1.0 in m and 2 not in m
    assert encode(m, minor_version=1, deterministic=False) == raw
    with pytest.raises(TypeError):
        m[2] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(m)


def test_exact_duplicate_keys_are_a_decode_error() -> None:
    raw = b"\x83t\x00\x00\x00\x02" + b"a\x01a\x01" + b"a\x01a\x02"
    with pytest.raises(DecodeError, match="duplicate"):
        decode(raw)


def test_unhashable_keys_are_frozen_and_re_encode_unchanged() -> None:
    raw = encode(TermMap([([1, 2], "list"), ({"k": 1}, "map"), (([3],), "tuple")]))
    m = decode(raw)
    assert m[ErlList([1, 2])] == "list"
    assert m[FrozenMap([("k", 1)])] == "map"
    assert m[(ErlList([3]),)] == "tuple"
    assert ErlList([1, 2]) != (1, 2) and hash(ErlList([1, 2])) != hash((1, 2))
    assert encode(m, deterministic=False) == raw


def test_term_map_equality_is_exact() -> None:
    assert TermMap([(1, "a")]) == {1: "a"}
    assert TermMap([(1, "a")]) != {1.0: "a"}
    with pytest.raises(ValueError):
        TermMap([(1, "a"), (1, "b")])


# --- lists, binaries, decoding options --------------------------------------


def test_list_tails_are_canonicalised_like_erts() -> None:
    nested_tail = b"\x83l\x00\x00\x00\x01a\x01l\x00\x00\x00\x01a\x02j"
    assert decode(nested_tail) == [1, 2]
    improper_tail = b"\x83l\x00\x00\x00\x01a\x01l\x00\x00\x00\x01a\x02a\x03"
    assert decode(improper_tail) == ImproperList((1, 2), 3)
    with pytest.raises(ValueError):
        ImproperList((1,), [2])


def test_binaries_option() -> None:
    raw = encode({"k": [b"\xff", "é"]})
    assert decode(raw) == {"k": [b"\xff", "é"]}
    assert decode(raw, binaries="bytes") == {b"k": [b"\xff", "é".encode()]}
    with pytest.raises(DecodeError, match="UTF-8"):
        decode(raw, binaries="str")
    assert decode(encode({"k": "é"}), binaries="str") == {"k": "é"}
    with pytest.raises(ValueError):
        decode(raw, binaries="text")


def test_known_atoms_is_an_allow_list() -> None:
    raw = encode({Atom("status"): Atom("ok"), "x": None})
    assert decode(raw, known_atoms={"status", "ok"})
    with pytest.raises(DecodeError, match="unknown atom 'ok'"):
        decode(raw, known_atoms={"status"})


def test_bitstrings_validate_and_mask_unused_bits() -> None:
    with pytest.raises(ValueError):
        BitString(b"\x21", 3)
    with pytest.raises(ValueError):
        BitString(b"", 1)
    assert decode(b"\x83M\x00\x00\x00\x01\x03\x3f") == BitString(b"\x20", 3)
    assert decode(b"\x83M\x00\x00\x00\x01\x08\x41") == "A"  # 8 bits: a whole binary
    assert BitString(b"\xff\x80", 1).bit_length == 9


def test_float_ext_decodes() -> None:
    raw = bytes.fromhex("8363312e3530303030303030303030303030303030303030652b30300000000000")
    assert decode(raw) == 1.5


def test_as_text_reads_a_charlist() -> None:
    assert as_text(decode(encode(Charlist("日本")))) == "日本"


def test_legacy_and_v4_opaque_tags_decode_and_re_encode_in_current_tags() -> None:
    node = b"w\x03n@h"
    cases = [
        (b"g" + node + b"\x00\x00\x00\x05\x00\x00\x00\x06\x02", Pid(Atom("n@h"), 5, 6, 2), 88),
        (b"f" + node + b"\x00\x00\x00\x07\x01", Port(Atom("n@h"), 7, 1), 89),
        (
            b"x" + node + (2**40).to_bytes(8, "big") + b"\x00\x00\x00\x03",
            Port(Atom("n@h"), 2**40, 3),
            120,
        ),
        (b"e" + node + b"\x00\x00\x00\x09\x01", Ref(Atom("n@h"), 1, (9,)), 90),
        (
            b"r\x00\x02" + node + b"\x01\x00\x00\x00\x01\x00\x00\x00\x02",
            Ref(Atom("n@h"), 1, (1, 2)),
            90,
        ),
    ]
    for raw, value, new_tag in cases:
        assert decode(b"\x83" + raw, allow_opaque=True) == value
        assert encode(value)[1] == new_tag
        assert decode(encode(value), allow_opaque=True) == value


def test_fun_with_unhashable_free_variables_as_a_map_key() -> None:
    fun = Fun(1, bytes(16), 0, Atom("m"), 0, 0, Pid(Atom("n@h"), 1, 0, 1), ([1], {"k": 2}))
    raw = encode(TermMap([(fun, "v"), (1, "w")]))
    back = decode(raw, allow_opaque=True)
    assert back[freeze(fun)] == "v" and back[1] == "w"
    assert encode(back, deterministic=False) == raw


def test_opaque_terms_re_encode_exactly() -> None:
    pid = Pid(Atom("a@b"), 1, 2, 3)
    raw = encode([pid])
    assert decode(raw, allow_opaque=True) == [pid]
    with pytest.raises(DecodeError, match="pid refused"):
        decode(raw)


# --- compression -----------------------------------------------------------


def test_compression_levels_and_fallback() -> None:
    value = ["abcabcabc"] * 50
    plain = encode(value)
    six = encode(value, compressed=True)
    assert six[:2] == b"\x83P" and six == encode(value, compressed=6)
    assert six[6:] == zlib.compress(plain[1:], 6)
    assert encode(value, compressed=1)[6:] == zlib.compress(plain[1:], 1)
    assert encode(value, compressed=0) == plain
    assert encode(Atom("hello"), compressed=True) == encode(Atom("hello"))  # would grow
    assert decode(six) == value
    for bad in (10, -1):
        with pytest.raises(EncodeError):
            encode(value, compressed=bad)


# --- property tests --------------------------------------------------------

# Atom("nil"/"true"/"false") *are* None/True/False on the wire, so they come back as those
_atom_names = st.text(max_size=20).filter(lambda t: t not in ("nil", "true", "false"))
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**4000), max_value=2**4000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.builds(Atom, _atom_names)
)
_keys = st.recursive(
    st.none() | st.integers() | st.text(max_size=8) | st.builds(Atom, _atom_names),
    lambda inner: st.tuples(inner, inner),
    max_leaves=4,
)
plain_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.lists(inner, max_size=6).map(tuple)
        | st.dictionaries(_keys, inner, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(plain_values, st.sampled_from([1, 2]), st.sampled_from([False, True, 1, 9]))
def test_round_trip_plain_values(value: Any, minor_version: int, compressed: Any) -> None:
    try:
        raw = encode(value, minor_version=minor_version, compressed=compressed)
    except EncodeError:
        # Atom("nil") next to None (or Atom("true") next to True) as keys of one map
        # are one Erlang key; refusing is the right answer. Nothing else may fail.
        assert "same Erlang term" in _why(value, minor_version)
        return
    back = decode(raw, max_bignum_bytes=1024)
    assert back == value
    assert term_key(back) == term_key(value)


def _why(value: Any, minor_version: int) -> str:
    try:
        encode(value, minor_version=minor_version)
    except EncodeError as exc:
        return str(exc)
    return ""


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.binary(), lambda inner: st.lists(inner, max_size=4), max_leaves=10))
def test_round_trip_bytes_with_binaries_bytes(value: Any) -> None:
    assert decode(encode(value), binaries="bytes") == value
