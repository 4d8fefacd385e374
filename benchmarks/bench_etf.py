"""Encode/decode speed of bridge.wire.etf next to erlpack, in one run.

Usage: .venv/bin/python benchmarks/bench_etf.py [--repeat 7] [--seconds 0.25]

The payload is the "typical recorded result" of etf.md §3.5: a dict with str
keys holding a list of n small records (str, int, float, bool, nested dict);
n = 6 is ~1 KB of ETF, n = 60 ~10 KB. Figures are best-of-N operations per
second, so a busy machine lowers both columns alike; the load average is
printed so a reader can judge. Targets: decode ≥ 1.0× erlpack, encode ≥ 0.4×.
erlpack is optional (``pip install erlpack==1.0.1``, the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridge.wire.etf import decode, encode

try:
    import erlpack  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - optional
    erlpack = None

TARGETS = {"encode": 0.4, "decode": 1.0}


def payload(n: int) -> dict[str, Any]:
    return {
        "status": "complete",
        "rows": [
            {
                "id": 1000 + i,
                "name": f"customer-{i:04d}",
                "score": i * 1.25 + 0.5,
                "active": i % 2 == 0,
                "tags": ["alpha", "beta"],
                "meta": {"source": "import", "attempt": i % 5},
            }
            for i in range(n)
        ],
    }


def best_rate(fn: Callable[[], Any], repeat: int, seconds: float) -> float:
    best = 0.0
    for _ in range(repeat):
        count, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(20):
                fn()
            count += 20
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, count / (now - start))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.25)
    args = parser.parse_args()
    print(f"python {platform.python_version()} ({platform.python_implementation()})")
    print("load average (1/5/15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"cpus: {os.cpu_count()}; best of {args.repeat} x {args.seconds}s")
    if erlpack is None:
        print("erlpack: not importable (pip install erlpack==1.0.1); bridge figures only")
    header = f"{'case':<16}{'bytes':>7}{'bridge ops/s':>14}{'erlpack ops/s':>15}{'ratio':>8}"
    print(header + f"{'target':>8}  verdict")
    ok = True
    for label, n in (("1 KB", 6), ("10 KB", 60)):
        value = payload(n)
        raw = encode(value)
        assert decode(raw) == value
        packed = erlpack.pack(value) if erlpack is not None else b""
        cases = {
            "encode": (lambda v=value: encode(v), lambda v=value: erlpack.pack(v)),
            "decode": (lambda r=raw: decode(r), lambda r=packed: erlpack.unpack(r)),
        }
        for op, (ours, theirs) in cases.items():
            mine = best_rate(ours, args.repeat, args.seconds)
            line = f"{op + ' ' + label:<16}{len(raw):>7}{mine:>14,.0f}"
            if erlpack is not None:
                other = best_rate(theirs, args.repeat, args.seconds)
                ratio = mine / other
                passed = ratio >= TARGETS[op]
                ok &= passed
                line += f"{other:>15,.0f}{ratio:>7.2f}x{TARGETS[op]:>7.1f}x  "
                line += "ok" if passed else "BELOW TARGET"
            print(line)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
