"""Pids, ports, references and funs: read and written, never interpreted.

They only appear when a node serialises its own runtime state, are refused
by default on decode, and are off every hot path, so they live apart from
the tight loops in ``encode``/``decode``. Each is written back in the tag
erts itself uses today (the NEW_/NEWER_/V4_ forms), as ``term_to_binary``
re-encodes a legacy pid or ref read from an old node.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.errors import DecodeError, EncodeError

from .terms import Atom, Export, Fun, Pid, Port, Ref

_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_i32 = struct.Struct(">i").unpack_from
_u64 = struct.Struct(">Q").unpack_from


def write_opaque(
    v: Any,
    buf: bytearray,
    atom: Callable[[str], bytes],
    enc: Callable[[Any, bytearray, int], None],
    depth: int,
) -> bool:
    """Append ``v`` if it is an opaque term; False when it is not one."""
    cls = v.__class__
    if cls is Pid:
        # erl_ext_dist NEW_PID_EXT, as erts writes every pid since OTP 23
        buf += b"X" + atom(v.node.name) + struct.pack(">III", v.id, v.serial, v.creation)
    elif cls is Port:
        if v.id <= 0xFFFFFFFF:  # erl_ext_dist NEW_PORT_EXT
            buf += b"Y" + atom(v.node.name) + struct.pack(">II", v.id, v.creation)
        else:  # erl_ext_dist V4_PORT_EXT: 64-bit id
            buf += b"x" + atom(v.node.name) + struct.pack(">QI", v.id, v.creation)
    elif cls is Ref:
        # erl_ext_dist NEWER_REFERENCE_EXT
        buf += b"Z" + struct.pack(">H", len(v.ids)) + atom(v.node.name)
        buf += struct.pack(f">I{len(v.ids)}I", v.creation, *v.ids)
    elif cls is Export:
        # erl_ext_dist EXPORT_EXT: arity as SMALL_INTEGER_EXT
        buf += b"q" + atom(v.module.name) + atom(v.function.name) + bytes((97, v.arity))
    elif cls is Fun:
        if len(v.uniq) != 16:
            raise EncodeError("a fun's uniq is an MD5, 16 bytes")
        body = bytearray(struct.pack(">B16sII", v.arity, v.uniq, v.index, len(v.free_vars)))
        body += atom(v.module.name)
        enc(v.old_index, body, depth + 1)
        enc(v.old_uniq, body, depth + 1)
        enc(v.pid, body, depth + 1)
        for x in v.free_vars:
            enc(x, body, depth + 1)
        # erl_ext_dist NEW_FUN_EXT: Size counts itself but not the tag
        buf += struct.pack(">BI", 112, len(body) + 4) + body
    else:
        return False
    return True


@dataclass(frozen=True)
class Hooks:
    """What the reader borrows from the decoder that called it."""

    atom_name: Callable[[int], tuple[str, int, int]]
    term: Callable[[int, int], tuple[Any, int]]
    charge: Callable[[int, int, int, int], None]
    max_depth: int


def read_opaque(tag: int, d: bytes, pos: int, depth: int, h: Hooks) -> tuple[Any, int]:
    """Decode the opaque term with ``tag`` at ``pos``; bounds are checked by the caller's
    catch-all (IndexError/struct.error) except where a length is declared."""

    def node(p: int) -> tuple[Atom, int]:
        name, p, _ = h.atom_name(p)
        return Atom(name), p

    def fail(msg: str, p: int, t: int | None = tag) -> DecodeError:
        return DecodeError(msg, offset=p, tag=t)

    if tag == 88 or tag == 103:  # erl_ext_dist NEW_PID_EXT / PID_EXT (legacy, u8 creation)
        nd, p = node(pos + 1)
        pid_id, serial = _u32(d, p)[0], _u32(d, p + 4)[0]
        if tag == 88:
            return Pid(nd, pid_id, serial, _u32(d, p + 8)[0]), p + 12
        return Pid(nd, pid_id, serial, d[p + 8]), p + 9
    if tag == 89 or tag == 120 or tag == 102:  # NEW_PORT_EXT / V4_PORT_EXT / PORT_EXT
        nd, p = node(pos + 1)
        if tag == 89:
            return Port(nd, _u32(d, p)[0], _u32(d, p + 4)[0]), p + 8
        if tag == 120:
            return Port(nd, _u64(d, p)[0], _u32(d, p + 8)[0]), p + 12
        return Port(nd, _u32(d, p)[0], d[p + 4]), p + 5
    if tag == 90 or tag == 114:  # NEWER_REFERENCE_EXT / NEW_REFERENCE_EXT
        n = _u16(d, pos + 1)[0]
        if not 1 <= n <= 5:  # erl_ext_dist NEWER_REFERENCE_EXT: "Len ... not larger than 5"
            raise fail(f"reference with {n} id words", pos)
        nd, p = node(pos + 3)
        if tag == 90:
            creation, p = _u32(d, p)[0], p + 4
        else:
            creation, p = d[p], p + 1
        if p + 4 * n > len(d):
            raise fail("reference runs past the end", pos)
        return Ref(nd, creation, struct.unpack_from(f">{n}I", d, p)), p + 4 * n
    if tag == 101:  # erl_ext_dist REFERENCE_EXT (deprecated): one id word
        nd, p = node(pos + 1)
        return Ref(nd, d[p + 4], (_u32(d, p)[0],)), p + 5
    if tag == 113:  # erl_ext_dist EXPORT_EXT: arity is a SMALL_INTEGER_EXT
        module, p = node(pos + 1)
        function, p = node(p)
        if d[p] != 97:
            raise fail("export arity is not a small integer", p, d[p])
        return Export(module, function, d[p + 1]), p + 2
    return _read_fun(d, pos, depth, h, node, fail)


def _small_or_int(d: bytes, p: int) -> tuple[int, int] | None:
    if d[p] == 97:
        return d[p + 1], p + 2
    if d[p] == 98:
        return _i32(d, p + 1)[0], p + 5
    return None


def _read_fun(d: bytes, pos: int, depth: int, h: Hooks, node: Any, fail: Any) -> tuple[Any, int]:
    # erl_ext_dist NEW_FUN_EXT: Size counts itself, not the tag
    size = _u32(d, pos + 1)[0]
    stop = pos + 1 + size
    if stop > len(d) or size < 33:
        raise fail(f"fun of declared size {size} does not fit", pos)
    if depth >= h.max_depth:
        raise fail(f"nested deeper than {h.max_depth}", pos)
    arity, uniq = d[pos + 5], d[pos + 6 : pos + 22]
    index, numfree = _u32(d, pos + 22)[0], _u32(d, pos + 26)[0]
    h.charge(numfree, 1, pos + 30, 112)
    module, p = node(pos + 30)
    ints = []
    for _ in range(2):  # OldIndex, OldUniq: SMALL_INTEGER_EXT or INTEGER_EXT
        got = _small_or_int(d, p)
        if got is None:
            raise fail("expected SMALL_INTEGER_EXT or INTEGER_EXT", p, d[p])
        ints.append(got[0])
        p = got[1]
    if d[p] != 88 and d[p] != 103:
        raise fail("fun creator is not a pid", p, d[p])
    pid, p = read_opaque(d[p], d, p, depth, h)
    free = []
    for _ in range(numfree):
        v, p = h.term(p, depth + 1)
        free.append(v)
    if p != stop:
        raise fail(f"fun's declared size {size} does not match its content", pos)
    return Fun(arity, uniq, index, module, ints[0], ints[1], pid, tuple(free)), p
