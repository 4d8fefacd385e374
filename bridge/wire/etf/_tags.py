"""Tag bytes of the Erlang External Term Format.

Comments name the heading in ``erts/doc/guides/erl_ext_dist.md`` in erlang/otp
(https://www.erlang.org/doc/apps/erts/erl_ext_dist.html); values cross-checked
against erl_interface's ``ei.h``. Kept in one place so every other module can
cite a name rather than a magic number.
"""

from __future__ import annotations

VERSION = 131  # erl_ext_dist Introduction: version magic leading every term
COMPRESSED = (
    80  # erl_ext_dist Introduction (compressed format): 'P', u32 uncompressed size, zlib stream
)

NEW_FLOAT_EXT = 70  # erl_ext_dist NEW_FLOAT_EXT: 8-byte IEEE-754, big-endian
BIT_BINARY_EXT = 77  # erl_ext_dist BIT_BINARY_EXT: u32 len, u8 bits, data
NEW_PID_EXT = 88  # erl_ext_dist NEW_PID_EXT: node, u32 id, u32 serial, u32 creation
NEW_PORT_EXT = 89  # erl_ext_dist NEW_PORT_EXT: node, u32 id, u32 creation
NEWER_REFERENCE_EXT = 90  # erl_ext_dist NEWER_REFERENCE_EXT: u16 n, node, u32, n×u32
SMALL_INTEGER_EXT = 97  # erl_ext_dist SMALL_INTEGER_EXT: u8
INTEGER_EXT = 98  # erl_ext_dist INTEGER_EXT: i32
FLOAT_EXT = 99  # erl_ext_dist FLOAT_EXT: 31 bytes of "%.20e" text (minor_version 0)
ATOM_EXT = 100  # erl_ext_dist ATOM_EXT (deprecated): u16 len, Latin-1
REFERENCE_EXT = 101  # erl_ext_dist REFERENCE_EXT (legacy): node, u32 id, u8 creation
PORT_EXT = 102  # erl_ext_dist PORT_EXT (legacy): node, u32 id, u8 creation
PID_EXT = 103  # erl_ext_dist PID_EXT (legacy): node, u32 id, u32 serial, u8 creation
SMALL_TUPLE_EXT = 104  # erl_ext_dist SMALL_TUPLE_EXT: u8 arity
LARGE_TUPLE_EXT = 105  # erl_ext_dist LARGE_TUPLE_EXT: u32 arity
NIL_EXT = 106  # erl_ext_dist NIL_EXT: the empty list
STRING_EXT = 107  # erl_ext_dist STRING_EXT: u16 len, bytes (a list of 0..255 ints)
LIST_EXT = 108  # erl_ext_dist LIST_EXT: u32 n, n elements, tail
BINARY_EXT = 109  # erl_ext_dist BINARY_EXT: u32 len, bytes
SMALL_BIG_EXT = 110  # erl_ext_dist SMALL_BIG_EXT: u8 n, u8 sign, n bytes little-endian
LARGE_BIG_EXT = 111  # erl_ext_dist LARGE_BIG_EXT: u32 n, u8 sign, n bytes little-endian
NEW_FUN_EXT = 112  # erl_ext_dist NEW_FUN_EXT: u32 size (counts itself), ...
EXPORT_EXT = 113  # erl_ext_dist EXPORT_EXT: module atom, function atom, arity
NEW_REFERENCE_EXT = 114  # erl_ext_dist NEW_REFERENCE_EXT (legacy): u8 creation
SMALL_ATOM_EXT = 115  # erl_ext_dist SMALL_ATOM_EXT (deprecated): u8 len, Latin-1
MAP_EXT = 116  # erl_ext_dist MAP_EXT: u32 arity, K1 V1 ... Kn Vn
FUN_EXT = 117  # erl_ext_dist FUN_EXT: removed in OTP 23, refused
ATOM_UTF8_EXT = 118  # erl_ext_dist ATOM_UTF8_EXT: u16 len, UTF-8
SMALL_ATOM_UTF8_EXT = 119  # erl_ext_dist SMALL_ATOM_UTF8_EXT: u8 len, UTF-8
V4_PORT_EXT = 120  # erl_ext_dist V4_PORT_EXT: node, u64 id, u32 creation
LOCAL_EXT = 121  # erl_ext_dist LOCAL_EXT (OTP 26+): node-local, refused

# Only meaningful after a distribution header; term_to_binary never emits them.
DIST_HEADER = 68  # erl_ext_dist Distribution Header, refused
DIST_FRAG_HEADER = 69  # erl_ext_dist DIST_FRAG_HEADER, refused
DIST_FRAG_CONT = 70  # erl_ext_dist DIST_FRAG_CONT (same byte as NEW_FLOAT_EXT)
ATOM_CACHE_REF = 82  # erl_ext_dist ATOM_CACHE_REF, refused outside distribution

NAMES = {
    value: name
    for name, value in globals().items()
    if name.isupper() and isinstance(value, int) and name not in {"DIST_FRAG_CONT"}
}
