"""ETF → Python, safe by default for bytes nobody vouches for.

Theory of operation
-------------------
``meta.return`` can be written by anything with access to ``oban_jobs``, so
every byte is hostile until proven otherwise (etf.md §4.3):

1. *Envelope.* Version byte 131, then either a term or tag 80 (compressed).
   A compressed body is inflated with ``max_length`` set to the declared size
   plus one, after the declared size has been checked against
   ``max_decompressed`` and against deflate's ~1032:1 ceiling, so a bomb is
   refused before it costs memory.
2. *Terms.* ``decode`` builds a set of closures over the input for each call
   (a handful of cell bindings, well under a microsecond) and walks the term
   recursively. Recursion is what makes the common case fast; it is safe
   because every container checks ``depth`` against ``max_depth`` before it
   descends, so a 10⁶-deep input fails after ``max_depth`` frames.
3. *Counts before allocation.* Every declared count or length is compared
   with the bytes left (an element needs at least one byte, a map pair two)
   before anything is allocated, and container sizes are charged to a term
   budget. Hence memory stays proportional to the input, never to a claim.
4. *Scalars.* Bignums are capped in bytes and read with ``int.from_bytes``
   (linear); floats must be finite; atoms must be valid Latin-1/UTF-8 of at
   most 255 characters and, with ``known_atoms``, on the allow-list.
5. *Opaque terms.* Pids, ports, refs, funs and exports are refused unless
   ``allow_opaque=True``, as ``Plug.Crypto.non_executable_binary_to_term``
   refuses funs.
6. *Errors.* Only ``DecodeError`` escapes, with the byte offset and tag; the
   catch-all in ``decode`` turns running off the end (IndexError,
   struct.error) into "truncated input".

Hot tags (binary, small int, map, list, tuple) come first in the chain, and
maps read binary keys inline, the shape of nearly every recorded value. The
module is larger than the house ~300 lines because splitting the closures
apart would cost the cell lookups that make them fast.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Collection
from typing import Any

from bridge.errors import DecodeError

from . import _tags as T
from ._opaque import Hooks, read_opaque
from .terms import Atom, BitString, ImproperList, TermMap, freeze

DEFAULT_MAX_DEPTH = 256  # etf.md §4.3 item 4
DEFAULT_MAX_SIZE = 64 * 1024 * 1024  # input bytes; oban-py's recorded limit is 64 MB
DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024  # etf.md §4.3 item 3
#: deflate cannot exceed ~1032:1 (zlib tech notes), so a larger claim is a lie
DEFAULT_MAX_RATIO = 1032
DEFAULT_MAX_BIGNUM_BYTES = 1024  # etf.md §4.3 item 5: 1 KiB magnitude
DEFAULT_MAX_TERMS = 10_000_000  # etf.md §4.3 item 4

_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_i32 = struct.Struct(">i").unpack_from
_f64 = struct.Struct(">d").unpack_from
# erl_ext_dist FLOAT_EXT: "%.20e" text, read back like sscanf "%lf" but strictly
_FLOAT_TEXT = re.compile(rb"[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
_SPECIAL_ATOMS: dict[str, Any] = {"true": True, "false": False, "nil": None}
_ATOM_CACHE: dict[bytes, Any] = {}
_ATOM_CACHE_SIZE = 4096
_OPAQUE = {
    T.NEW_PID_EXT: "pid",
    T.PID_EXT: "pid",
    T.NEW_PORT_EXT: "port",
    T.V4_PORT_EXT: "port",
    T.PORT_EXT: "port",
    T.NEWER_REFERENCE_EXT: "reference",
    T.NEW_REFERENCE_EXT: "reference",
    T.REFERENCE_EXT: "reference",
    T.NEW_FUN_EXT: "fun",
    T.EXPORT_EXT: "external fun",
}
_REFUSED = {
    T.DIST_HEADER: "distribution header",
    T.DIST_FRAG_HEADER: "distribution header",
    T.ATOM_CACHE_REF: "atom cache reference outside distribution",
    T.LOCAL_EXT: "node-local encoding (LOCAL_EXT)",
    T.FUN_EXT: "FUN_EXT, removed in OTP 23",
    T.COMPRESSED: "compressed marker inside a term",
}


def decode(
    data: bytes | bytearray | memoryview,
    *,
    binaries: str = "auto",
    allow_opaque: bool = False,
    known_atoms: Collection[str] | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_size: int = DEFAULT_MAX_SIZE,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    max_ratio: int = DEFAULT_MAX_RATIO,
    max_bignum_bytes: int = DEFAULT_MAX_BIGNUM_BYTES,
    max_terms: int = DEFAULT_MAX_TERMS,
) -> Any:
    """``binary_to_term(data, [safe])``, stricter: see the module docstring.

    ``binaries``: ``"auto"`` gives ``str`` for valid UTF-8 and ``bytes``
    otherwise (lossless, since both encode back to a binary); ``"bytes"``
    always bytes; ``"str"`` requires UTF-8. Raises only ``DecodeError``.
    """
    if binaries not in ("auto", "bytes", "str"):
        raise ValueError("binaries must be 'auto', 'bytes' or 'str'")
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) > max_size:
        raise DecodeError(f"input of {len(data)} bytes is over the {max_size}-byte limit", offset=0)
    if len(data) < 2:
        raise DecodeError("input too short for a term", offset=len(data))
    if data[0] != T.VERSION:  # erl_ext_dist Introduction: every term starts with 131
        raise DecodeError(f"not ETF: version byte is {data[0]}, not 131", offset=0)
    start = 1
    if data[1] == T.COMPRESSED:
        data = _inflate(data, max_decompressed, max_ratio)
        start = 0
    key = (binaries, allow_opaque, max_depth, max_bignum_bytes, max_terms)
    pool = _POOLS.get(key) if known_atoms is None else []
    if pool is None:
        pool = _POOLS.setdefault(key, []) if len(_POOLS) < 64 else []
    try:
        walker = pool.pop()
    except IndexError:
        walker = _Walk(binaries, allow_opaque, known_atoms, max_depth, max_bignum_bytes, max_terms)
    try:
        value, pos = walker.run(data, start)
    except (IndexError, struct.error):
        raise DecodeError("truncated input", offset=len(data)) from None
    except RecursionError:
        raise DecodeError("nested too deeply for the Python stack") from None
    except MemoryError:
        raise DecodeError("term too large for memory") from None
    finally:
        if len(pool) < 8:
            pool.append(walker)
    if pos != len(data):
        # stricter than binary_to_term/1, which ignores a suffix (etf.md §4.3 item 8)
        raise DecodeError(f"{len(data) - pos} trailing bytes after the term", offset=pos)
    return value


def _inflate(data: bytes, max_decompressed: int, max_ratio: int) -> bytes:
    """Tag 80 body → inflated term bytes, refusing bombs before they cost memory."""
    if len(data) < 7:
        raise DecodeError("truncated compressed header", offset=len(data), tag=T.COMPRESSED)
    (size,) = _u32(data, 2)  # erl_ext_dist Introduction: u32 UncompressedSize
    packed = memoryview(data)[6:]
    if size > max_decompressed:
        raise DecodeError(
            f"declared uncompressed size {size} is over the {max_decompressed}-byte limit",
            offset=2,
            tag=T.COMPRESSED,
        )
    if size > max_ratio * len(packed):
        raise DecodeError(
            f"declared size {size} is impossible for {len(packed)} compressed bytes",
            offset=2,
            tag=T.COMPRESSED,
        )
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(packed, size + 1)
    except zlib.error as exc:
        raise DecodeError(f"bad zlib stream: {exc}", offset=6, tag=T.COMPRESSED) from None
    # binary_to_term answers badarg unless the stream inflates to exactly `size` (etf.md §1.1)
    if len(body) != size or not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
        raise DecodeError(
            "compressed stream does not inflate to its declared size", offset=6, tag=T.COMPRESSED
        )
    if size == 0:
        raise DecodeError("empty compressed term", offset=6, tag=T.COMPRESSED)
    return body


class _Walk:
    """The decoding closures for one option set, reused across calls.

    Building a dozen closures costs microseconds, a fifth of decoding a 1 KB
    map, so walkers are pooled per option set. ``run`` points the closures at
    new input through ``nonlocal`` cells; a walker is popped from its pool
    for the duration of a call, so threads never share one.
    """

    __slots__ = ("run",)

    def __init__(
        self,
        binaries: str,
        allow_opaque: bool,
        known_atoms: Collection[str] | None,
        max_depth: int,
        max_bignum_bytes: int,
        max_terms: int,
    ) -> None:
        d = b""
        end = 0
        budget = max_terms
        auto = binaries == "auto"
        as_bytes = binaries == "bytes"
        u32, i32 = _u32, _i32
        acache: dict[bytes, Any] = _ATOM_CACHE
        fast_atoms = known_atoms is None
        f64 = _f64

        def fail(msg: str, pos: int, tag: int | None = None) -> DecodeError:
            return DecodeError(msg, offset=pos, tag=tag)

        def charge(n: int, per: int, pos: int, tag: int) -> None:
            nonlocal budget
            # every element needs `per` bytes at least: refuse claims before allocating
            if n * per > end - pos:
                raise fail(f"declared count {n} exceeds the remaining input", pos, tag)
            budget -= n
            if budget < 0:
                raise fail(f"more than {max_terms} terms", pos, tag)

        def binary(a: int, b: int) -> Any:
            raw = d[a:b]
            if as_bytes:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                if auto:
                    return raw
                raise fail("binary is not UTF-8 (binaries='str')", a - 5, T.BINARY_EXT) from None

        def atom_name(pos: int) -> tuple[str, int, int]:
            """(name, next position, tag) of the atom at ``pos``; any atom tag."""
            tag = d[pos]
            if tag == 119 or tag == 115:  # SMALL_ATOM_UTF8_EXT / SMALL_ATOM_EXT: u8 length
                a = pos + 2
                b = a + d[pos + 1]
            elif tag == 100 or tag == 118:  # ATOM_EXT / ATOM_UTF8_EXT: u16 length
                a = pos + 3
                b = a + _u16(d, pos + 1)[0]
            else:
                raise fail("expected an atom", pos, tag)
            if b > end:
                raise fail("atom runs past the end", pos, tag)
            raw = d[a:b]
            try:
                # erl_ext_dist: 118/119 are UTF-8, the deprecated 100/115 Latin-1
                name = raw.decode("utf-8") if tag >= 118 else raw.decode("latin-1")
            except UnicodeDecodeError:
                raise fail("atom is not valid UTF-8", pos, tag) from None
            if len(name) > 255:  # erl_ext_dist "Encoding atoms": at most 255 characters
                raise fail("atom longer than 255 characters", pos, tag)
            if known_atoms is not None and name not in known_atoms and name not in _SPECIAL_ATOMS:
                raise fail(f"unknown atom {name!r} (not in known_atoms)", pos, tag)
            return name, b, tag

        def atom(pos: int) -> tuple[Any, int]:
            name, b, _ = atom_name(pos)
            value = _SPECIAL_ATOMS[name] if name in _SPECIAL_ATOMS else Atom(name)
            if fast_atoms and len(acache) < _ATOM_CACHE_SIZE:
                # keyed by tag + length + name bytes: a truncated slice can never match
                acache[d[pos:b]] = value
            return value, b

        def term(pos: int, depth: int) -> tuple[Any, int]:
            tag = d[pos]
            if tag == 109:  # erl_ext_dist BINARY_EXT
                a = pos + 5
                b = a + u32(d, pos + 1)[0]
                if b > end:
                    raise fail("binary runs past the end", pos, tag)
                return binary(a, b), b
            if tag == 97:  # erl_ext_dist SMALL_INTEGER_EXT
                return d[pos + 1], pos + 2
            if tag == 116:  # erl_ext_dist MAP_EXT
                return mapping(pos, depth)
            if tag == 108:  # erl_ext_dist LIST_EXT
                return listing(pos, depth)
            if tag == 104 or tag == 105:  # erl_ext_dist SMALL_TUPLE_EXT / LARGE_TUPLE_EXT
                if depth >= max_depth:
                    raise fail(f"nested deeper than {max_depth}", pos, tag)
                if tag == 104:
                    n = d[pos + 1]
                    p = pos + 2
                else:
                    n = u32(d, pos + 1)[0]
                    p = pos + 5
                charge(n, 1, p, tag)
                items: list[Any] = []
                append = items.append
                depth += 1
                for _ in range(n):
                    v, p = term(p, depth)
                    append(v)
                return tuple(items), p
            if tag == 98:  # erl_ext_dist INTEGER_EXT
                return i32(d, pos + 1)[0], pos + 5
            if tag == 119 or tag == 100 or tag == 118 or tag == 115:
                if fast_atoms:
                    if tag == 119 or tag == 115:  # u8 length; 100/118 have u16
                        b = pos + 2 + d[pos + 1]
                    else:
                        b = pos + 3 + _u16(d, pos + 1)[0]
                    hit = acache.get(d[pos:b], acache)
                    if hit is not acache:
                        return hit, b
                return atom(pos)
            if tag == 70:  # erl_ext_dist NEW_FLOAT_EXT
                x = _f64(d, pos + 1)[0]
                if x - x != 0.0:  # NaN/Inf: binary_to_term answers badarg (etf.md §1.2)
                    raise fail("non-finite float", pos, tag)
                return x, pos + 9
            if tag == 106:  # erl_ext_dist NIL_EXT
                return [], pos + 1
            if tag == 107:  # erl_ext_dist STRING_EXT: a list of 0..255 ints, not text
                a = pos + 3
                n = _u16(d, pos + 1)[0]
                charge(n, 1, a, tag)
                return list(d[a : a + n]), a + n
            return rare(tag, pos, depth)

        def mapping(pos: int, depth: int) -> tuple[Any, int]:
            nonlocal budget
            if depth >= max_depth:
                raise fail(f"nested deeper than {max_depth}", pos, 116)
            n = u32(d, pos + 1)[0]
            p = pos + 5
            budget -= 2 * n  # charge(), inlined for the hot container
            if 2 * n > end - p or budget < 0:
                charge(2 * n, 1, p, 116)  # raises with the right message
            depth += 1
            m: dict[Any, Any] = {}
            k: Any
            v: Any
            # The common tags are decoded inline (the same code as in term()): a
            # call per key and value is most of the cost of an Elixir-style map.
            for _ in range(n):
                t = d[p]
                if t == 109:
                    a = p + 5
                    p = a + u32(d, p + 1)[0]
                    if p > end:
                        raise fail("binary runs past the end", a - 5, 109)
                    if auto:
                        try:
                            k = d[a:p].decode()
                        except UnicodeDecodeError:
                            k = d[a:p]
                    else:
                        k = binary(a, p)
                elif t == 119 and fast_atoms:
                    b = p + 2 + d[p + 1]
                    k = acache.get(d[p:b], acache)
                    if k is acache:
                        k, b = atom(p)
                    p = b
                else:
                    k, p = term(p, depth)
                t = d[p]
                if t == 109:
                    a = p + 5
                    p = a + u32(d, p + 1)[0]
                    if p > end:
                        raise fail("binary runs past the end", a - 5, 109)
                    if auto:
                        try:
                            v = d[a:p].decode()
                        except UnicodeDecodeError:
                            v = d[a:p]
                    else:
                        v = binary(a, p)
                elif t == 97:
                    v = d[p + 1]
                    p += 2
                elif t == 98:
                    v = i32(d, p + 1)[0]
                    p += 5
                elif t == 119 and fast_atoms:
                    b = p + 2 + d[p + 1]
                    v = acache.get(d[p:b], acache)
                    if v is acache:
                        v, b = atom(p)
                    p = b
                elif t == 70:
                    v = f64(d, p + 1)[0]
                    if v - v != 0.0:  # NaN/Inf: binary_to_term answers badarg
                        raise fail("non-finite float", p, 70)
                    p += 9
                elif t == 116:
                    v, p = mapping(p, depth)
                elif t == 108:
                    v, p = listing(p, depth)
                else:
                    v, p = term(p, depth)
                try:
                    m[k] = v
                except TypeError:  # list/map inside the key: freeze it, same term
                    m[freeze(k)] = v
            if len(m) != n:
                return collided(pos, depth, n), p
            return m, p

        def collided(pos: int, depth: int, n: int) -> TermMap:
            """Keys Python merged: decode again as pairs; exact duplicates are badarg."""
            p = pos + 5
            pairs = []
            for _ in range(n):
                k, p = term(p, depth)
                v, p = term(p, depth)
                pairs.append((freeze(k), v))
            try:
                return TermMap(pairs)
            except ValueError:
                # erl_ext_dist MAP_EXT: "Duplicate keys are not allowed"
                raise fail("duplicate map key", pos, 116) from None

        def listing(pos: int, depth: int) -> tuple[Any, int]:
            nonlocal budget
            if depth >= max_depth:
                raise fail(f"nested deeper than {max_depth}", pos, 108)
            n = u32(d, pos + 1)[0]
            p = pos + 5
            budget -= n + 1  # charge(), inlined for the hot container
            if n + 1 > end - p or budget < 0:
                charge(n + 1, 1, p, 108)  # raises with the right message
            depth += 1
            items: list[Any] = []
            append = items.append
            for _ in range(n):
                t = d[p]  # inline common tags, as in mapping()
                if t == 109:
                    a = p + 5
                    p = a + u32(d, p + 1)[0]
                    if p > end:
                        raise fail("binary runs past the end", a - 5, 109)
                    if auto:
                        try:
                            append(d[a:p].decode())
                        except UnicodeDecodeError:
                            append(d[a:p])
                    else:
                        append(binary(a, p))
                elif t == 97:
                    append(d[p + 1])
                    p += 2
                elif t == 116:
                    v, p = mapping(p, depth)
                    append(v)
                else:
                    v, p = term(p, depth)
                    append(v)
            if d[p] == 106:  # proper list: NIL_EXT tail
                return items, p + 1
            tail, p = term(p, depth)
            # erts re-encodes [1 | [2]] as [1, 2]; so do we, keeping terms canonical
            if tail.__class__ is list:
                return items + tail, p
            if tail.__class__ is ImproperList:
                return ImproperList(tuple(items) + tail.items, tail.tail), p
            if not items:
                return tail, p
            return ImproperList(tuple(items), tail), p

        def rare(tag: int, pos: int, depth: int) -> tuple[Any, int]:
            if tag == 110 or tag == 111:  # erl_ext_dist SMALL_BIG_EXT / LARGE_BIG_EXT
                if tag == 110:
                    n, sign, a = d[pos + 1], d[pos + 2], pos + 3
                else:
                    n, sign, a = u32(d, pos + 1)[0], d[pos + 5], pos + 6
                if n > max_bignum_bytes:
                    raise fail(f"bignum of {n} bytes is over {max_bignum_bytes}", pos, tag)
                if a + n > end:
                    raise fail("bignum runs past the end", pos, tag)
                if sign > 1:
                    raise fail(f"bignum sign byte {sign}", pos, tag)
                mag = int.from_bytes(d[a : a + n], "little")  # digits little-endian
                return (-mag if sign else mag), a + n
            if tag == 77:  # erl_ext_dist BIT_BINARY_EXT
                n, bits, a = u32(d, pos + 1)[0], d[pos + 5], pos + 6
                if n == 0 or not 1 <= bits <= 8:
                    raise fail(f"bitstring with {n} bytes and {bits} bits", pos, tag)
                if a + n > end:
                    raise fail("bitstring runs past the end", pos, tag)
                if bits == 8:  # a whole last byte: it is a binary
                    return binary(a, a + n), a + n
                raw = bytearray(d[a : a + n])
                raw[-1] &= (0xFF << (8 - bits)) & 0xFF  # unused bits are zero when erts writes
                return BitString(bytes(raw), bits), a + n
            if tag == 99:  # erl_ext_dist FLOAT_EXT: minor_version 0 text float
                text = d[pos + 1 : pos + 32]
                if len(text) != 31:
                    raise fail("FLOAT_EXT runs past the end", pos, tag)
                if not _FLOAT_TEXT.fullmatch(text.split(b"\0", 1)[0]):
                    raise fail("FLOAT_EXT text is not a number", pos, tag)
                x = float(text.split(b"\0", 1)[0])
                if x - x != 0.0:
                    raise fail("non-finite float", pos, tag)
                return x, pos + 32
            if tag in _OPAQUE:
                if not allow_opaque:
                    raise fail(f"{_OPAQUE[tag]} refused (pass allow_opaque=True)", pos, tag)
                return read_opaque(tag, d, pos, depth, hooks)
            if tag in _REFUSED:
                raise fail(f"{_REFUSED[tag]} refused", pos, tag)
            raise fail(f"unknown tag {tag}", pos, tag)

        hooks = Hooks(atom_name, term, charge, max_depth)

        def run(data: bytes, start: int) -> tuple[Any, int]:
            nonlocal d, end, budget
            d, end, budget = data, len(data), max_terms
            try:
                return term(start, 0)
            finally:
                d = b""  # do not keep the caller's input alive

        self.run: Callable[[bytes, int], tuple[Any, int]] = run


_POOLS: dict[tuple[Any, ...], list[_Walk]] = {}
