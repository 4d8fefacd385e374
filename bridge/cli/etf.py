"""``oban-bridge etf``: look inside recorded output, or make some.

``etf decode`` prints what a ``meta.return`` text (or hex ETF) holds, as a
Python repr or in Elixir-like syntax; it is a debugging tool, so it allows
pids, refs, ports and funs (shown as placeholders, never executed) but keeps
every other safe-decoding limit. ``etf encode`` turns JSON into the text a
Python worker would record.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from bridge.errors import ConfigError, DecodeError
from bridge.wire.etf import (
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
    decode,
    encode,
)
from bridge.wire.recorded import decode_recorded, encode_recorded


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "etf",
        help="decode or encode Erlang terms (recorded job output)",
        description="Look inside recorded job output, or make some. decode prints what a "
        "meta.return text (or hex ETF) holds, as a Python value or in Elixir syntax; pids, "
        "refs, ports and funs are shown as placeholders, never run. encode turns JSON into "
        "the text a Python worker would record.",
    )
    actions = parser.add_subparsers(dest="etf_action", metavar="ACTION")
    actions.required = True
    dec = actions.add_parser(
        "decode",
        help="print the term in a base64 or hex ETF value",
        description="Print the Erlang term a meta.return text (base64) or hex ETF holds.",
    )
    form = dec.add_mutually_exclusive_group()
    form.add_argument(
        "--base64",
        dest="form",
        action="store_const",
        const="base64",
        help="VALUE is base64, as in meta.return (default: guessed)",
    )
    form.add_argument(
        "--hex", dest="form", action="store_const", const="hex", help="VALUE is hex ETF"
    )
    dec.add_argument("--elixir", action="store_true", help="print in Elixir syntax")
    dec.add_argument("value", metavar="VALUE", help="the encoded term, or - to read stdin")
    enc = actions.add_parser(
        "encode",
        help="print the recorded-output text for a JSON value",
        description="Print the meta.return text a Python worker would record for a JSON value.",
    )
    enc.add_argument("--compressed", action="store_true", help="compress like [:compressed]")
    enc.add_argument("--hex", action="store_true", help="print hex ETF instead of base64")
    enc.add_argument("json", metavar="JSON", help="a JSON value, or - to read stdin")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = args.value if args.etf_action == "decode" else args.json
    if source == "-":
        source = sys.stdin.read()
    if args.etf_action == "decode":
        value = _read_term(source, args.form)
        print(to_elixir(value) if args.elixir else repr(value))
        return 0
    try:
        value = json.loads(source)
    except ValueError as exc:
        raise ConfigError(f"JSON argument is not valid JSON: {exc}") from None
    if args.hex:
        print(encode(value, compressed=args.compressed).hex())
    else:
        print(encode_recorded(value, compressed=args.compressed, limit=None))
    return 0


_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]{2})+")


def _read_term(raw: str, form: str | None) -> Any:
    text = "".join(raw.split())
    if form is None:
        # every ETF starts with byte 131: "83…" in hex, "g…" in base64
        form = "hex" if text.startswith(("83", "0x83")) and _HEX.fullmatch(text) else "base64"
    if form == "hex":
        if not _HEX.fullmatch(text):
            raise DecodeError("value is not hex")
        return decode(bytes.fromhex(text.removeprefix("0x")), allow_opaque=True)
    return decode_recorded(text, allow_opaque=True)


_PLAIN_ATOM = re.compile(r"[a-z_][A-Za-z0-9_@]*[?!]?")
_ALIAS = re.compile(r"Elixir\.([A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)*)")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _atom(a: Atom) -> str:
    alias = _ALIAS.fullmatch(a.name)
    if alias:
        return alias.group(1)
    if _PLAIN_ATOM.fullmatch(a.name):
        return ":" + a.name
    return ":" + _string(a.name)


def _string(s: str) -> str:
    out = []
    for c in s:
        escaped = _ESCAPES.get(c)
        if escaped is not None:
            out.append(escaped)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    return '"' + "".join(out).replace("#{", "\\#{") + '"'


def _float(x: float) -> str:
    r = repr(x)
    if "e" not in r:
        return r
    mantissa, exp = r.split("e")
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}e{int(exp)}"


def _key(k: Any) -> str:
    """``name: `` when an atom key can be written keyword-style."""
    name = k.name if isinstance(k, Atom) else _atom_name(k)
    return f"{name}: " if _PLAIN_ATOM.fullmatch(name) else f"{_string(name)}: "


def _atom_name(k: Any) -> str:
    return "nil" if k is None else ("true" if k else "false")


def to_elixir(v: Any) -> str:
    """Elixir-like text for a decoded term (what ``IO.inspect`` would roughly show)."""
    if v is None or v is True or v is False:
        return _atom_name(v)
    if isinstance(v, Atom):
        return _atom(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (bytes, bytearray)):
        return "<<" + ", ".join(map(str, v)) + ">>"
    if isinstance(v, BitString):
        parts = [str(b) for b in v.data[:-1]]
        parts.append(f"{v.data[-1] >> (8 - v.bits)}::size({v.bits})")
        return "<<" + ", ".join(parts) + ">>"
    if isinstance(v, (list, ErlList)):
        return "[" + ", ".join(map(to_elixir, v)) + "]"
    if isinstance(v, Charlist):
        return to_elixir([ord(c) for c in v.text])
    if isinstance(v, ImproperList):
        return "[" + ", ".join(map(to_elixir, v.items)) + " | " + to_elixir(v.tail) + "]"
    if isinstance(v, tuple):
        return "{" + ", ".join(map(to_elixir, v)) + "}"
    if isinstance(v, Mapping):
        return _map(v)
    return _opaque(v)


def _map(m: Mapping[Any, Any]) -> str:
    pairs = list(m.pairs() if isinstance(m, TermMap) else m.items())
    struct = next((v for k, v in pairs if k == Atom("__struct__")), None)
    rest = [(k, v) for k, v in pairs if k != Atom("__struct__")]
    keyword = all(isinstance(k, (Atom, bool)) or k is None for k, _ in rest)
    if keyword:
        body = ", ".join(_key(k) + to_elixir(v) for k, v in rest)
    else:
        body = ", ".join(f"{to_elixir(k)} => {to_elixir(v)}" for k, v in rest)
    if isinstance(struct, Atom) and _ALIAS.fullmatch(struct.name) and keyword:
        return f"%{_atom(struct)}{{{body}}}"
    if struct is not None:
        body = ", ".join(f"{to_elixir(k)} => {to_elixir(v)}" for k, v in pairs)
    return "%{" + body + "}"


def _opaque(v: Any) -> str:
    if isinstance(v, Pid):
        return f"#PID<0.{v.id}.{v.serial}>"
    if isinstance(v, Port):
        return f"#Port<0.{v.id}>"
    if isinstance(v, Ref):
        return "#Reference<0." + ".".join(map(str, reversed(v.ids))) + ">"
    if isinstance(v, Export):
        return f"&{_atom(v.module)}.{v.function.name}/{v.arity}"
    if isinstance(v, Fun):
        return f"#Function<{v.index}.{v.old_uniq}/{v.arity} in {_atom(v.module)}>"
    return repr(v)
