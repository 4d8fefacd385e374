"""Described terms: the JSON language both sides use to talk about Erlang terms.

It is the harness's (``conformance/elixir/README.md``, "Described terms"): a
JSON string is a binary, an object with binary keys a map, and tagged objects
(``{"$atom": "ok"}``, ``{"$tuple": [...]}``, ``{"$int": "…"}`` …) the rest.
``build`` turns a description into the Python value bridge encodes;
``describe`` turns a value bridge decoded into the description Elixir's
``decode_recorded`` returns for the same term, so the two can be compared.
"""

from __future__ import annotations

import base64
from typing import Any

from bridge.wire.etf import Atom, BitString, ErlList, FrozenMap, ImproperList, TermMap, freeze
from bridge.wire.etf import compare as term_compare

INT64 = (-(2**63), 2**63 - 1)


def build(desc: Any) -> Any:
    """Description → Python value (the encode direction)."""
    if isinstance(desc, list):
        return [build(d) for d in desc]
    if not isinstance(desc, dict):
        return desc
    if len(desc) == 1:
        ((tag, body),) = desc.items()
        if tag == "$atom":
            return Atom(body)
        if tag == "$tuple":
            return tuple(build(d) for d in body)
        if tag == "$int":
            return int(body)
        if tag == "$float":
            return float(body)
        if tag == "$bytes":
            return base64.b64decode(body)
        if tag == "$bits":
            return BitString(base64.b64decode(body["bytes"]), body["bits"])
        if tag == "$charlist":
            return list(body)
        if tag == "$map":
            return _map([(build(k), build(v)) for k, v in body])
        if tag == "$improper":
            return ImproperList(tuple(build(d) for d in body["items"]), build(body["tail"]))
    return {k: build(v) for k, v in desc.items()}


def _map(pairs: list[tuple[Any, Any]]) -> Any:
    keys = [freeze(k) for k, _ in pairs]
    if len(set(keys)) == len(keys) and all(_plain_key(k) for k in keys):
        return dict(zip(keys, (v for _, v in pairs), strict=True))
    return TermMap(pairs)


def _plain_key(key: Any) -> bool:
    # 1, 1.0 and True are one Python key but three Erlang keys: those need a TermMap
    return not isinstance(key, (bool, float))


def describe(value: Any) -> Any:
    """Python value → description, as the harness describes the same Erlang term."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if INT64[0] <= value <= INT64[1] else {"$int": str(value)}
    if isinstance(value, float):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Atom):
        return {"$atom": value.name}
    if isinstance(value, BitString):
        return {"$bits": {"bytes": base64.b64encode(value.data).decode(), "bits": value.bits}}
    if isinstance(value, ImproperList):
        return {
            "$improper": {"items": [describe(v) for v in value.items], "tail": describe(value.tail)}
        }
    if isinstance(value, (list, ErlList)):
        items = list(value)
        if items and all(type(i) is int and 0 <= i <= 255 for i in items) and len(items) < 65536:
            return {"$charlist": items}  # what term_to_binary writes as STRING_EXT
        return [describe(v) for v in items]
    if isinstance(value, tuple) and not isinstance(value, FrozenMap):
        return {"$tuple": [describe(v) for v in value]}
    if isinstance(value, (dict, TermMap)):
        return _describe_map(list(value.items()))
    return {"$opaque": repr(value)}


def _describe_map(pairs: list[tuple[Any, Any]]) -> Any:
    keys = [k for k, _ in pairs]
    tagged = len(pairs) == 1 and isinstance(keys[0], str) and keys[0].startswith("$")
    if all(isinstance(k, str) for k in keys) and not tagged and "$struct" not in keys:
        return {k: describe(v) for k, v in pairs}
    ordered = sorted(pairs, key=_SortKey)
    return {"$map": [[describe(k), describe(v)] for k, v in ordered]}


class _SortKey:
    """Erlang term order for map keys (the harness sorts ``$map`` pairs the same way)."""

    def __init__(self, pair: tuple[Any, Any]):
        self.key = pair[0]

    def __lt__(self, other: _SortKey) -> bool:
        return term_compare(self.key, other.key) < 0
