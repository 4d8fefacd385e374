"""Erlang's map-key order, so encoded maps can match ``term_to_binary`` byte for byte.

OTP writes a flatmap (≤ 32 keys) in this order by default and every map in
this order with ``[deterministic]``. It is the standard term order
(number < atom < reference < fun < port < pid < tuple < map < [] < list <
bitstring) with one twist: every integer sorts before every float, at any
depth. That twist was checked on OTP 25 (``#{2 => a, 1.5 => b}`` and
``#{{2} => a, {1.5} => b}`` are both written with the integer first); it is
what keeps ``1`` and ``1.0`` distinct keys. Pids, ports, refs and funs as map
keys are ordered by their fields, a best effort not checked against erts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from .terms import (
    Atom,
    BitString,
    Charlist,
    ErlList,
    Export,
    Fun,
    ImproperList,
    Pid,
    Port,
    Ref,
    TermMap,
)

_OPAQUE_RANK = {Ref: 2, Fun: 3, Export: 3, Port: 4, Pid: 5}


def _rank(v: Any) -> int:
    """Position of ``v``'s type in Erlang term order (Reference Manual, "Term Comparisons")."""
    cls = v.__class__
    if cls is bool or v is None or cls is Atom:
        return 1
    if isinstance(v, (int, float)):
        return 0
    if isinstance(v, (str, bytes, bytearray, memoryview)) or cls is BitString:
        return 10
    if isinstance(v, (list, ErlList)):
        return 9 if v else 8
    if cls is Charlist:
        return 9 if v.text else 8
    if cls is ImproperList:
        return 9
    if isinstance(v, tuple):
        return 6
    if isinstance(v, Mapping):
        return 7
    return _OPAQUE_RANK.get(cls, 11)


def _atom_name(v: Any) -> str:
    if v is None:
        return "nil"
    if v is True or v is False:
        return "true" if v else "false"
    return str(v.name)


def _bits(v: Any) -> tuple[bytes, int]:
    """(bytes, bit length) of a binary or bitstring."""
    if v.__class__ is str:
        data = v.encode("utf-8")
        return data, 8 * len(data)
    if v.__class__ is BitString:
        return v.data, v.bit_length
    data = bytes(v)
    return data, 8 * len(data)


def _cmp_bits(a: Any, b: Any) -> int:
    (da, na), (db, nb) = _bits(a), _bits(b)
    if na % 8 == 0 and nb % 8 == 0:
        return (da > db) - (da < db)
    sa = "".join(f"{x:08b}" for x in da)[:na]
    sb = "".join(f"{x:08b}" for x in db)[:nb]
    return (sa > sb) - (sa < sb)


def _cons(v: Any) -> tuple[tuple[Any, ...], Any]:
    """A list as (items, tail), ``[]`` standing for a proper list's tail."""
    if v.__class__ is ImproperList:
        return v.items, v.tail
    if v.__class__ is Charlist:
        return tuple(map(ord, v.text)), []
    return tuple(v), []


def _pairs(m: Any) -> list[tuple[Any, Any]]:
    pairs = m.pairs() if isinstance(m, TermMap) else m.items()
    return sorted(pairs, key=lambda kv: _KEY(kv[0]))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as ``a`` sorts before, with, or after ``b`` in map-key order."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 0:
        ka, kb = (isinstance(a, float), a), (isinstance(b, float), b)
        return (ka > kb) - (ka < kb)
    if ra == 1:
        na, nb = _atom_name(a), _atom_name(b)
        return (na > nb) - (na < nb)
    if ra == 10:
        return _cmp_bits(a, b)
    if ra == 6:
        if len(a) != len(b):
            return -1 if len(a) < len(b) else 1
        return _cmp_seq(a, b)
    if ra == 7:
        if len(a) != len(b):
            return -1 if len(a) < len(b) else 1
        pa, pb = _pairs(a), _pairs(b)
        return _cmp_seq([k for k, _ in pa], [k for k, _ in pb]) or _cmp_seq(
            [v for _, v in pa], [v for _, v in pb]
        )
    if ra == 9:
        (ia, ta), (ib, tb) = _cons(a), _cons(b)
        n = min(len(ia), len(ib))
        c = _cmp_seq(ia[:n], ib[:n])
        if c:
            return c
        rest_a = ImproperList(ia[n:], ta) if len(ia) > n and ta != [] else list(ia[n:]) or ta
        rest_b = ImproperList(ib[n:], tb) if len(ib) > n and tb != [] else list(ib[n:]) or tb
        return compare(rest_a, rest_b)
    if ra == 8:
        return 0
    fa, fb = _fields(a), _fields(b)
    return _cmp_seq(fa, fb)


def _fields(v: Any) -> list[Any]:
    slots = getattr(v, "__slots__", ())
    return [getattr(v, s) for s in slots]


def _cmp_seq(a: Any, b: Any) -> int:
    for x, y in zip(a, b, strict=False):
        c = compare(x, y)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))


_KEY = functools.cmp_to_key(compare)


def sort_keys(keys: list[Any]) -> list[Any]:
    """Keys in the order ``term_to_binary(Map, [deterministic])`` writes them."""
    if all(k.__class__ is str for k in keys):
        # UTF-8 byte order equals code point order, so plain str sorting agrees.
        return sorted(keys)
    return sorted(keys, key=_KEY)
