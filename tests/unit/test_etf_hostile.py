"""Hostile input: only DecodeError may come out, quickly and in bounded memory.

The big randomised run lives in ``benchmarks/fuzz_etf.py`` (≥ 100,000 inputs);
this file keeps the named attacks of etf.md §3.4 plus a small random sample
so the default test run stays fast.
"""

from __future__ import annotations

import contextlib
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from bridge.errors import DecodeError
from bridge.wire.etf import Atom, BitString, ImproperList, Pid, decode, encode, term_key


def rejected(raw: bytes, **opts: Any) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(raw, **opts)
    return info.value


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _compressed_zeros(size: int) -> bytes:
    """A deflate stream of ``size`` zero bytes, built without holding them all."""
    z = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = [z.compress(chunk) for _ in range(size >> 20)]
    out.append(z.compress(bytes(size & ((1 << 20) - 1))))
    out.append(z.flush())
    return b"".join(out)


def test_decompression_bomb_with_honest_size_is_refused_before_inflating() -> None:
    size = 80 * 1024 * 1024  # over the 64 MiB default
    bomb = b"\x83P" + struct.pack(">I", size) + _compressed_zeros(size)
    assert len(bomb) < 100_000
    tracemalloc.start()
    err = rejected(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "over the" in err.reason and err.tag == 80
    assert peak < 2 * len(bomb) + 1_000_000


def test_decompression_bomb_with_lying_size_stops_at_the_claim() -> None:
    body = _compressed_zeros(32 * 1024 * 1024)
    bomb = b"\x83P" + struct.pack(">I", 1000) + body
    tracemalloc.start()
    elapsed = timed(lambda: rejected(bomb))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 1_000_000


def test_impossible_compression_ratio_is_refused_up_front() -> None:
    err = rejected(b"\x83P" + struct.pack(">I", 50_000_000) + zlib.compress(b"ja"))
    assert "impossible" in err.reason


@pytest.mark.parametrize(
    "raw",
    [
        b"\x83P\x00\x00\x00\x02" + zlib.compress(b"a\x01")[:-1],  # truncated stream
        b"\x83P\x00\x00\x00\x03" + zlib.compress(b"a\x01"),  # size mismatch
        b"\x83P\x00\x00\x00\x02" + zlib.compress(b"a\x01") + b"xx",  # data after stream
        b"\x83P\x00\x00\x00\x02" + b"not zlib at all",
        b"\x83P\x00\x00\x00\x00" + zlib.compress(b""),
        b"\x83P\x00\x00",
    ],
)
def test_malformed_compressed_envelopes(raw: bytes) -> None:
    rejected(raw)


@pytest.mark.parametrize(
    ("unit", "close"),
    [
        (b"l\x00\x00\x00\x01", b"j"),  # list of list of ...
        (b"h\x01", b""),  # tuple of tuple of ...
        (b"t\x00\x00\x00\x01a\x01", b""),  # map whose value is a map ...
        (b"l\x00\x00\x00\x01a\x01", b""),  # improper-list tails
    ],
)
def test_million_deep_nesting_is_refused_fast(unit: bytes, close: bytes) -> None:
    depth = 1_000_000
    raw = b"\x83" + unit * depth + b"j" + close * depth
    elapsed = timed(lambda: rejected(raw))
    assert elapsed < 0.5


def test_ten_megabyte_bignum_is_refused_without_reading_it() -> None:
    n = 10 * 1024 * 1024
    raw = b"\x83o" + struct.pack(">I", n) + b"\x00" + b"\x01" * n
    elapsed = timed(lambda: rejected(raw))
    assert elapsed < 0.1
    assert decode(b"\x83o" + struct.pack(">I", 300) + b"\x00" + b"\x01" * 300) > 0
    rejected(b"\x83n\x02\x00\x01\x01", max_bignum_bytes=1)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x83l\xff\xff\xff\xffa\x01",  # list claims 4 billion elements
        b"\x83t\x7f\xff\xff\xffa\x01",  # map
        b"\x83i\xff\xff\xff\xff",  # large tuple
        b"\x83h\x05a\x01",  # small tuple
        b"\x83m\xff\xff\xff\xffabc",  # binary
        b"\x83k\xff\xffab",  # string
        b"\x83d\x00\xffab",  # atom
        b"\x83w\x05ab",  # small utf8 atom
        b"\x83M\x00\x00\x00\x05\x03ab",  # bitstring
        b"\x83n\x08\x00\x01",  # small big
        b"\x83F\x3f\xf0",  # float
        b"\x83b\x00\x00",  # integer
        b"\x83a",  # small integer
        b"\x83c1.5",  # FLOAT_EXT
        b"\x83",
        b"",
    ],
)
def test_declared_lengths_past_the_end(raw: bytes) -> None:
    rejected(raw)


def test_count_is_checked_before_allocation() -> None:
    tracemalloc.start()
    rejected(b"\x83l\x0f\xff\xff\xff" + b"j" * 1000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000


def test_term_budget() -> None:
    rejected(encode([1] * 100 + [300]), max_terms=50)
    assert decode(encode([[1]] * 10), max_terms=50)


def test_trailing_bytes_are_refused() -> None:
    err = rejected(b"\x83a\x01\x00")
    assert err.offset == 3


@pytest.mark.parametrize(
    "raw",
    [
        b"\x83F" + struct.pack(">d", float("nan")),
        b"\x83F" + struct.pack(">d", float("inf")),
        b"\x83F" + struct.pack(">d", float("-inf")),
        b"\x83c" + b"nan".ljust(31, b"\0"),
        b"\x83c" + b"inf".ljust(31, b"\0"),
        b"\x83c" + b"1e999".ljust(31, b"\0"),
        b"\x83c" + b"1_0".ljust(31, b"\0"),
    ],
)
def test_non_finite_or_malformed_floats(raw: bytes) -> None:
    rejected(raw)


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        (b"\x82a\x01", None),  # wrong version byte
        (b"\x83D\x00", 68),  # distribution header
        (b"\x83R\x00", 82),  # atom cache ref
        (b"\x83y\x00", 121),  # LOCAL_EXT
        (b"\x83u\x00\x00\x00\x00", 117),  # FUN_EXT
        (b"\x83\x00", 0),  # unknown tag
        (b"\x83ha\x02P\x00", None),  # tag 80 inside a term
        (b"\x83w\x02\xff\xfe", 119),  # invalid UTF-8 atom
        (b"\x83v\x02\x00" + "é".encode() * 256, 118),  # atom over 255 characters
        (b"\x83M\x00\x00\x00\x01\x00\x00", 77),  # bitstring with 0 bits
        (b"\x83M\x00\x00\x00\x00\x03", 77),  # bitstring with no bytes
        (b"\x83n\x01\x02\x01", 110),  # bignum sign byte 2
    ],
)
def test_refused_tags_report_offset_and_tag(raw: bytes, tag: int | None) -> None:
    err = rejected(raw)
    assert err.offset is not None
    if tag is not None:
        assert err.tag == tag


def test_opaque_structures_are_validated_even_when_allowed() -> None:
    pid = encode(Pid(Atom("n@h"), 1, 0, 1))
    rejected(pid[:-1], allow_opaque=True)
    rejected(b"\x83Z\x00\x06w\x01n" + b"\x00" * 28, allow_opaque=True)  # 6 ref words
    rejected(b"\x83qw\x01mw\x01fb\x00\x00\x00\x01", allow_opaque=True)  # arity not small
    fun_hdr = b"\x83p" + struct.pack(">I", 5000)
    rejected(fun_hdr + b"\x00" * 40, allow_opaque=True)  # size beyond input


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and pos < len(data):
            data[pos] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and pos < len(data):
            del data[pos]
        else:
            data[pos:] = data[pos : pos + rng.randrange(8)]
    return bytes(data)


SEEDS = [
    encode(v)
    for v in (
        {"id": 1, "tags": ["a", "b"], "nested": {"k": [1, 2.5, None, True]}},
        [ImproperList((1, Atom("a")), "t"), BitString(b"\x80", 1), 2**100, -(2**40)],
        (Atom("ok"), "done", b"\xff", [300, 70000], {(1, 2): [], Atom("x"): {}}),
        encode({"x": "y" * 40}, compressed=True),
    )
] + [encode(["abc"] * 20, compressed=True)]


def test_random_bytes_and_mutations_raise_only_decode_error() -> None:
    rng = random.Random(20261122)
    worst = 0.0
    for i in range(4000):
        if i % 2:
            raw = b"\x83" + rng.randbytes(rng.randrange(40))
        else:
            raw = _mutate(rng, rng.choice(SEEDS))
        start = time.perf_counter()
        with contextlib.suppress(DecodeError):
            value = decode(raw, allow_opaque=bool(i % 3))
            # whatever decodes must decode the same again, once the caches are warm
            assert term_key(decode(raw, allow_opaque=True)) == term_key(value)
        worst = max(worst, time.perf_counter() - start)
    assert worst < 0.1
