"""Python → ETF, byte-identical to ``term_to_binary`` for the same term.

Theory of operation: one recursive closure per option set (built once and
cached) walks the value and appends to a ``bytearray``. Options are closure
cells rather than attributes because a cell read is the cheapest lookup
CPython has. The hot shapes are special-cased, because a Python call per
element is most of the cost:

* str values up to 64 characters keep their encoded bytes in a bounded
  cache (map keys and enum-like values repeat);
* an all-str-keyed dict is written from a cached *layout*: its keys in wire
  order with their encoded bytes, the map header riding on the first one;
* dict and list loops encode str/int/float/bool/dict/list elements inline
  (the same code as ``enc``, duplicated on purpose).

Encoding a value the caller built cannot be attacked, so recursion is fine;
it is bounded by ``max_depth`` so a self-referencing list fails with
``EncodeError`` instead of RecursionError. The module is a little over the
house ~300 lines for the same reason decode.py is: the inlining.
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from bridge.errors import EncodeError

from . import _tags as T
from ._opaque import write_opaque
from .order import sort_keys
from .terms import (
    Atom,
    BitString,
    Charlist,
    ErlList,
    ImproperList,
    TermMap,
)

#: OTP 26+ writes every atom as UTF-8 (erlang.erl term_to_binary/2 docs, "minor_version")
DEFAULT_MINOR_VERSION = 2
#: same limit as erlpack and etf.md §4.3 item 10
DEFAULT_MAX_DEPTH = 256

_pack_tag_u32 = struct.Struct(">BI").pack
_pack_tag_i32 = struct.Struct(">Bi").pack
_pack_float = struct.Struct(">Bd").pack
_pack_u32 = struct.Struct(">I").pack
_pack_u16 = struct.Struct(">H").pack
# erl_ext_dist SMALL_INTEGER_EXT: 0..255 in two bytes, precomputed
_SMALL_INTS = [bytes((T.SMALL_INTEGER_EXT, i)) for i in range(256)]
# erl_ext_dist LIST_EXT / MAP_EXT headers for small counts, precomputed
_LIST_HEADERS = [_pack_tag_u32(T.LIST_EXT, n) for n in range(256)]
_MAP_HEADERS = [_pack_tag_u32(T.MAP_EXT, n) for n in range(64)]
_STR_CACHE: dict[str, bytes] = {}
_STR_CACHE_SIZE = 2048
_STR_CACHE_LEN = 64
_LAYOUT_CACHE_SIZE = 512


def _atom_bytes(name: str, minor_version: int) -> bytes:
    """Atom encoding per ``minor_version``, mirroring erts external.c ``enc_atom``."""
    if len(name) > 255:
        raise EncodeError(f"atom of {len(name)} characters; Erlang allows at most 255")
    if minor_version == 1:
        try:
            raw = name.encode("latin-1")
        except UnicodeEncodeError:
            pass
        else:
            # erl_ext_dist ATOM_EXT: OTP ≤ 25 default for Latin-1-representable atoms
            return bytes((T.ATOM_EXT,)) + _pack_u16(len(raw)) + raw
    raw = name.encode("utf-8")
    if len(raw) <= 255:
        return bytes((T.SMALL_ATOM_UTF8_EXT, len(raw))) + raw  # erl_ext_dist SMALL_ATOM_UTF8_EXT
    return bytes((T.ATOM_UTF8_EXT,)) + _pack_u16(len(raw)) + raw  # erl_ext_dist ATOM_UTF8_EXT


def _big(v: int) -> bytes:
    sign = 1 if v < 0 else 0
    mag = abs(v)
    n = (mag.bit_length() + 7) // 8
    digits = mag.to_bytes(n, "little")  # erl_ext_dist SMALL_BIG_EXT: digits little-endian
    if n <= 255:
        return bytes((T.SMALL_BIG_EXT, n, sign)) + digits
    return _pack_tag_u32(T.LARGE_BIG_EXT, n) + bytes((sign,)) + digits  # erl_ext_dist LARGE_BIG_EXT


def _make_encoder(
    minor_version: int, deterministic: bool, max_depth: int, default: Callable[[Any], Any] | None
) -> Callable[[Any, bytearray, int], None]:
    atoms: dict[str, bytes] = {}

    def atom(name: str) -> bytes:
        b = atoms.get(name)
        if b is None:
            b = _atom_bytes(name, minor_version)
            if len(atoms) < 1024:
                atoms[name] = b
        return b

    NIL, TRUE, FALSE = atom("nil"), atom("true"), atom("false")
    str_cache, pack_tag_u32, small_ints = _STR_CACHE, _pack_tag_u32, _SMALL_INTS
    pack_float, pack_i32 = _pack_float, _pack_tag_i32
    layouts: dict[tuple[Any, ...], tuple[tuple[Any, bytes], ...]] = {}

    def enc(v: Any, buf: bytearray, depth: int) -> None:
        cls = v.__class__
        if cls is str:
            b = str_cache.get(v)
            if b is None:
                raw = v.encode("utf-8")
                b = pack_tag_u32(109, len(raw)) + raw  # erl_ext_dist BINARY_EXT
                if len(v) <= _STR_CACHE_LEN and len(str_cache) < _STR_CACHE_SIZE:
                    str_cache[v] = b
            buf += b
        elif cls is int:
            if 0 <= v <= 255:
                buf += small_ints[v]
            elif -2147483648 <= v <= 2147483647:
                buf += _pack_tag_i32(98, v)  # erl_ext_dist INTEGER_EXT
            else:
                buf += _big(v)
        elif cls is dict:
            enc_map(v, v, buf, depth)
        elif cls is bool:
            buf += TRUE if v else FALSE
        elif v is None:
            buf += NIL  # Elixir's nil, etf.md §4.2
        elif cls is float:
            if v - v != 0.0:  # NaN and ±Inf: binary_to_term answers badarg (etf.md §1.2)
                raise EncodeError(f"non-finite float {v!r} has no Erlang representation")
            buf += _pack_float(70, v)  # erl_ext_dist NEW_FLOAT_EXT
        elif cls is list or cls is ErlList:
            enc_list(v, buf, depth)
        elif cls is tuple:
            if depth >= max_depth:
                raise EncodeError(f"value nested deeper than {max_depth}")
            n = len(v)
            if n <= 255:
                buf += bytes((104, n))  # erl_ext_dist SMALL_TUPLE_EXT
            else:
                buf += pack_tag_u32(105, n)  # erl_ext_dist LARGE_TUPLE_EXT
            for x in v:
                enc(x, buf, depth + 1)
        elif cls is Atom:
            buf += atom(v.name)
        else:
            enc_other(v, buf, depth)

    def enc_list(v: Any, buf: bytearray, depth: int) -> None:
        n = len(v)
        if n == 0:
            buf += b"j"  # erl_ext_dist NIL_EXT
            return
        if depth >= max_depth:
            raise EncodeError(f"value nested deeper than {max_depth}")
        if n <= 65535 and v[0].__class__ is int:
            # erl_ext_dist STRING_EXT: erts writes any proper list of 0..255 ints this way
            try:
                raw = bytes(v)
            except (ValueError, TypeError):
                raw = None
            if raw is not None and all(x.__class__ is int for x in v):
                buf += bytes((107,)) + _pack_u16(n) + raw
                return
        buf += _LIST_HEADERS[n] if n < 256 else pack_tag_u32(108, n)  # erl_ext_dist LIST_EXT
        depth += 1
        for x in v:
            # inline copy of enc()'s scalar cases: a call per element is the cost here
            cls = x.__class__
            if cls is str:
                b = str_cache.get(x)
                if b is None:
                    enc(x, buf, depth)
                else:
                    buf += b
            elif cls is dict:
                enc_map(x, x, buf, depth)
            elif cls is int and 0 <= x <= 255:
                buf += small_ints[x]
            else:
                enc(x, buf, depth)
        buf += b"j"

    def layout(keys: tuple[Any, ...]) -> tuple[tuple[Any, bytes], ...] | None:
        """(key, bytes to write before its value) for an all-str-keyed map, else None.

        The map header rides with the first key, so a cached layout writes a
        whole map with one ``+=`` per key and value.
        """
        for k in keys:
            if k.__class__ is not str:
                return None
        out = []
        # erl_ext_dist MAP_EXT header, then keys as BINARY_EXT in wire order
        prefix = _MAP_HEADERS[len(keys)] if len(keys) < 64 else pack_tag_u32(116, len(keys))
        for k in sorted(keys) if deterministic else keys:
            raw = k.encode("utf-8")
            out.append((k, prefix + pack_tag_u32(109, len(raw)) + raw))
            prefix = b""
        lay = tuple(out)
        if len(layouts) < _LAYOUT_CACHE_SIZE and len(keys) <= 32:
            layouts[keys] = lay
        return lay

    def enc_map(m: Any, items: Any, buf: bytearray, depth: int) -> None:
        if depth >= max_depth:
            raise EncodeError(f"value nested deeper than {max_depth}")
        depth += 1
        if items is not None:
            keys = tuple(m)
            lay = layouts.get(keys)
            if lay is None:
                lay = layout(keys)
            if lay:
                # distinct str keys are distinct binaries: no duplicate check needed
                for k, kb in lay:
                    buf += kb
                    x = m[k]
                    cls = x.__class__  # inline scalars, as in enc_list
                    if cls is str:
                        b = str_cache.get(x)
                        if b is None:
                            enc(x, buf, depth)
                        else:
                            buf += b
                    elif cls is int:
                        if 0 <= x <= 255:
                            buf += small_ints[x]
                        elif -2147483648 <= x <= 2147483647:
                            buf += pack_i32(98, x)  # erl_ext_dist INTEGER_EXT
                        else:
                            buf += _big(x)
                    elif cls is bool:
                        buf += TRUE if x else FALSE
                    elif cls is float and x - x == 0.0:
                        buf += pack_float(70, x)  # erl_ext_dist NEW_FLOAT_EXT
                    elif cls is dict:
                        enc_map(x, x, buf, depth)
                    elif cls is list:
                        enc_list(x, buf, depth)
                    else:
                        enc(x, buf, depth)
                return
        n = len(m)
        buf += _MAP_HEADERS[n] if n < 64 else pack_tag_u32(116, n)  # erl_ext_dist MAP_EXT
        if n == 0:
            return
        pairs = list(m.pairs() if isinstance(m, TermMap) else m.items())
        if deterministic:
            order = {id(k): i for i, (k, _) in enumerate(pairs)}
            pairs = [pairs[order[id(k)]] for k in sort_keys([k for k, _ in pairs])]
        seen: set[bytes] = set()
        for k, x in pairs:
            start = len(buf)
            enc(k, buf, depth)
            seen.add(bytes(buf[start:]))
            enc(x, buf, depth)
        if len(seen) != n:
            # erl_ext_dist MAP_EXT: "Duplicate keys are not allowed"; binary_to_term badarg
            raise EncodeError("two keys of this map encode to the same Erlang term")

    def enc_other(v: Any, buf: bytearray, depth: int) -> None:
        cls = v.__class__
        if cls is bytes or cls is bytearray or cls is memoryview:
            raw = bytes(v)
            buf += pack_tag_u32(109, len(raw)) + raw  # erl_ext_dist BINARY_EXT
        elif isinstance(v, TermMap):
            enc_map(v, None, buf, depth)
        elif cls is ImproperList:
            if depth >= max_depth:
                raise EncodeError(f"value nested deeper than {max_depth}")
            buf += pack_tag_u32(108, len(v.items))  # erl_ext_dist LIST_EXT, non-nil tail
            for x in v.items:
                enc(x, buf, depth + 1)
            enc(v.tail, buf, depth + 1)
        elif cls is BitString:
            # erl_ext_dist BIT_BINARY_EXT
            buf += pack_tag_u32(77, len(v.data)) + bytes((v.bits,)) + v.data
        elif cls is Charlist:
            enc_list([ord(c) for c in v.text], buf, depth)
        elif write_opaque(v, buf, atom, enc, depth):
            pass
        elif isinstance(v, enum.Enum):
            raise EncodeError(f"refusing to guess an Erlang term for enum {v!r}")
        elif isinstance(v, str):
            enc(str(v), buf, depth)
        elif isinstance(v, int) and not isinstance(v, bool):
            enc(int(v), buf, depth)
        elif isinstance(v, float):
            enc(float(v), buf, depth)
        elif isinstance(v, (bytes, bytearray)):
            enc(bytes(v), buf, depth)
        elif isinstance(v, Mapping):
            enc_map(v, v.items(), buf, depth)
        elif isinstance(v, list):
            enc_list(v, buf, depth)
        elif isinstance(v, tuple):
            enc(tuple(v), buf, depth)
        elif default is not None and depth < max_depth:
            enc(default(v), buf, depth + 1)
        else:
            raise EncodeError(f"cannot encode {cls.__name__} value to ETF")

    return enc


_ENCODERS: dict[tuple[int, bool, int], Callable[[Any, bytearray, int], None]] = {}


def encode(
    value: Any,
    *,
    compressed: bool | int = False,
    minor_version: int = DEFAULT_MINOR_VERSION,
    deterministic: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    default: Callable[[Any], Any] | None = None,
) -> bytes:
    """``term_to_binary(value, Options)`` for a Python value.

    ``minor_version`` and ``compressed`` mean what they mean to Erlang;
    ``deterministic=True`` sorts map keys as ``[deterministic]`` does (and as
    OTP does anyway for maps of ≤ 32 keys). ``default`` may turn an otherwise
    unsupported value into one that is supported. Raises ``EncodeError``.
    """
    if compressed is False:
        level = 0
    else:
        level = 6 if compressed is True else int(compressed)  # erlang.erl: compressed = level 6
        if not 0 <= level <= 9:
            raise EncodeError(f"compression level must be 0..9, not {compressed!r}")
    enc = _ENCODERS.get((minor_version, deterministic, max_depth)) if default is None else None
    if enc is None:
        if minor_version not in (1, 2):
            raise EncodeError(f"minor_version must be 1 or 2, not {minor_version!r}")
        enc = _make_encoder(minor_version, deterministic, max_depth, default)
        if default is None:
            _ENCODERS[(minor_version, deterministic, max_depth)] = enc
    buf = bytearray(b"\x83")  # erl_ext_dist Introduction: version 131
    try:
        enc(value, buf, 0)
    except UnicodeEncodeError as exc:
        raise EncodeError(f"text is not encodable as UTF-8: {exc.reason}") from None
    except (struct.error, OverflowError, IndexError) as exc:
        raise EncodeError(f"field out of range for ETF: {exc}") from None
    except RecursionError:
        raise EncodeError("value nested too deeply to encode") from None
    if level:
        body = memoryview(buf)[1:]
        packed = zlib.compress(body, level)
        # mirrors erts external.c erts_term_to_binary_int: zlib gets an out buffer of
        # (body size - 5) bytes, so tag 80 is used unless it would be *larger*; a tie
        # compresses (checked on OTP 25 over 3,000 random terms, levels 1-9)
        if 6 + len(packed) <= len(buf):
            return b"\x83P" + _pack_u32(len(body)) + packed
    return bytes(buf)
