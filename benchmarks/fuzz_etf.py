"""Fuzz bridge.wire.etf.decode: only DecodeError may ever come out.

Usage: .venv/bin/python benchmarks/fuzz_etf.py [--random 100000] [--mutations 10000] [--seed N]

Three populations: random byte strings after the version byte (most die on
the first tag), random *structured* prefixes (a plausible tag with random
lengths, which reach the count and size checks), and mutations of valid
terms (bit flips, inserted/deleted/duplicated/truncated spans, inside and
outside compressed envelopes). Inputs that do decode must decode identically
a second time and survive encode → decode. For each input it records the time taken;
peak memory is traced with tracemalloc. The run fails (exit 1) on any other
exception, on a worst case over 100 ms, or on a peak over 64 MiB.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge.errors import DecodeError
from bridge.wire.etf import (
    Atom,
    BitString,
    Export,
    ImproperList,
    Pid,
    Port,
    Ref,
    TermMap,
    decode,
    encode,
    term_key,
)

WORST_LIMIT = 0.100
PEAK_LIMIT = 64 * 1024 * 1024
TAGS = [
    70,
    77,
    88,
    89,
    90,
    97,
    98,
    99,
    100,
    101,
    102,
    103,
    104,
    105,
    106,
    107,
    108,
    109,
    110,
    111,
    112,
    113,
    114,
    115,
    116,
    118,
    119,
    120,
    80,
]


def seeds() -> list[bytes]:
    values: list[Any] = [
        {"id": 1, "tags": ["a", "b"], "nested": {"k": [1, 2.5, None, True]}},
        [ImproperList((1, Atom("a")), "t"), BitString(b"\x80", 1), 2**100, -(2**40)],
        (Atom("ok"), "done", b"\xff", [300, 70000], {(1, 2): [], Atom("x"): {}}),
        TermMap([(1, "a"), (1.0, "b"), (True, "c")]),
        [Pid(Atom("n@h"), 1, 2, 3), Ref(Atom("n@h"), 1, (1, 2, 3)), Port(Atom("n@h"), 5, 1)],
        Export(Atom("erlang"), Atom("abs"), 1),
        {"rows": [{"id": i, "name": f"r{i}", "score": i / 3} for i in range(20)]},
        list(range(300)),
        "x" * 500,
    ]
    out = []
    for v in values:
        out.append(encode(v))
        out.append(encode(v, compressed=True, minor_version=1))
    out.append(
        bytes.fromhex(  # a closure from OTP 25 (tests/fixtures/etf/vectors.json)
            "83700000004a01120125eb85910e9682145b23aad5e3ef000000000000000064000665746667656e6100"
            "620090092f5864000d6e6f6e6f6465406e6f686f7374000000090000000000000000"
        )
    )
    return out


def structured(rng: random.Random) -> bytes:
    """A plausible tag followed by random (often huge) lengths and a short body."""
    tag = rng.choice(TAGS)
    head = bytes([131, tag])
    size = rng.choice([0, 1, 2, 255, 256, 65535, 2**31 - 1, 2**32 - 1, rng.randrange(2**32)])
    field = struct.pack(">I", size)[rng.choice([0, 2, 3]) :]
    return head + field + rng.randbytes(rng.randrange(24))


def mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and pos < len(data):
            data[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and pos < len(data):
            data[pos] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        elif op == 2:
            data[pos:pos] = rng.randbytes(rng.randrange(1, 5))
        elif op == 3:
            del data[pos : pos + rng.randrange(1, 5)]
        elif op == 4:
            span = data[pos : pos + rng.randrange(1, 16)]
            data[pos:pos] = span * rng.randrange(1, 4)
        else:
            del data[pos:]
    if rng.random() < 0.1:  # mutate inside a compressed envelope too
        body = bytes(data[1:]) or b"j"
        data = bytearray(b"\x83P" + struct.pack(">I", len(body)) + zlib.compress(body))
    return bytes(data)


def run(count: int, make: Any, stats: dict[str, Any]) -> None:
    for _ in range(count):
        raw = make()
        opaque = stats["n"] % 2 == 0
        start = time.perf_counter()
        try:
            value = decode(raw, allow_opaque=opaque)
            stats["ok"] += 1
            # a decoded input must decode the same again (warm caches) and survive
            # encode → decode unchanged; a mismatch is recorded as a crash
            if term_key(decode(raw, allow_opaque=opaque)) != term_key(value) or term_key(
                decode(encode(value, deterministic=False), allow_opaque=True)
            ) != term_key(value):
                stats["crashes"].append((raw.hex(), "decode is not stable"))
        except DecodeError:
            stats["rejected"] += 1
        except Exception as exc:  # the one thing this script exists to find
            stats["crashes"].append((raw.hex(), repr(exc)))
        elapsed = time.perf_counter() - start
        if elapsed > stats["worst"]:
            stats["worst"], stats["worst_input"] = elapsed, raw[:64].hex()
        stats["n"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--random", type=int, default=100_000)
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpus = seeds()
    tracemalloc.start()
    report = []
    totals = {"n": 0, "ok": 0, "rejected": 0, "crashes": [], "worst": 0.0, "worst_input": ""}
    plans = [
        ("random bytes", args.random, lambda: b"\x83" + rng.randbytes(rng.randrange(64))),
        ("structured prefixes", args.random // 4, lambda: structured(rng)),
        ("mutated terms", args.mutations, lambda: mutate(rng, rng.choice(corpus))),
    ]
    started = time.perf_counter()
    for name, count, make in plans:
        stats = {"n": 0, "ok": 0, "rejected": 0, "crashes": [], "worst": 0.0, "worst_input": ""}
        run(count, make, stats)
        report.append((name, stats))
        for key in ("n", "ok", "rejected"):
            totals[key] += stats[key]
        totals["crashes"] += stats["crashes"]
        if stats["worst"] > totals["worst"]:
            totals["worst"], totals["worst_input"] = stats["worst"], stats["worst_input"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"python {sys.version.split()[0]}, seed {args.seed}, {time.perf_counter() - started:.1f}s"
    )
    for name, stats in report:
        print(
            f"{name:<20} {stats['n']:>8,} inputs  {stats['ok']:>7,} decoded  "
            f"{stats['rejected']:>8,} DecodeError  {len(stats['crashes'])} other  "
            f"worst {stats['worst'] * 1000:.2f} ms"
        )
    print(
        f"{'total':<20} {totals['n']:>8,} inputs; worst case {totals['worst'] * 1000:.2f} ms "
        f"(input starts {totals['worst_input'][:40]}…); peak traced memory {peak / 1e6:.1f} MB"
    )
    for raw, err in totals["crashes"][:10]:
        print(f"CRASH {err} on {raw[:120]}")
    failed = bool(totals["crashes"]) or totals["worst"] > WORST_LIMIT or peak > PEAK_LIMIT
    print("FAIL" if failed else "PASS: only DecodeError, within time and memory limits")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
