"""What may differ between two correct runs: clocks, producer uuids, stack frames.

Comparisons go through ``normalize`` so that a diff shows only behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TIME = "<time>"
UUID = "<uuid>"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_VOLATILE_KEYS = {"t", "t_ms", "startup_ms", "sender_backend_pid"}


def normalize(value: Any, ignore: Iterable[str] = ()) -> Any:
    """Replace volatile parts (timestamps, uuids, error frames); drop ``ignore`` keys."""
    return _walk(value, frozenset(ignore))


def _walk(value: Any, ignore: frozenset[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in ignore or key in _VOLATILE_KEYS:
                continue
            if (key.endswith("_at") or key == "at") and isinstance(item, str):
                out[key] = TIME
            elif key == "error" and isinstance(item, str):
                out[key] = item.splitlines()[0] if item else item  # frames are per-machine
            elif key == "uuid" and isinstance(item, str) and _UUID.match(item):
                out[key] = UUID  # a producer's (gossip checks)
            elif key == "attempted_by" and isinstance(item, list):
                out[key] = [UUID if isinstance(i, str) and _UUID.match(i) else i for i in item]
            else:
                out[key] = _walk(item, ignore)
        return out
    if isinstance(value, list):
        return [_walk(item, ignore) for item in value]
    return value
