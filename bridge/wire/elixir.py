"""``inspect/1`` of Python values as Elixir prints the terms they stand for.

Used for error texts that quote a returned value (``{:cancel, "nope"}``), so Oban Web and
Elixir operators read Python failures in the words they know. JSON-ish values map as
everywhere in oban-bridge: ``str`` → binary, ``None``/``True``/``False`` → ``nil``/``true``/
``false``, ``dict`` → map, ``list`` → list, ``tuple`` → tuple, ``etf.Atom`` → atom.
"""

from __future__ import annotations

import re
from typing import Any

from bridge.wire.etf import Atom

# mirrors lib/elixir/lib/inspect.ex (Inspect.BitString): the escapes Elixir prints
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x7f": "\\d",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
    "\0": "\\0",
}
_ALIAS = re.compile(r"[A-Z][a-zA-Z0-9_]*(\.[A-Z][a-zA-Z0-9_]*)*")
# mirrors lib/elixir/lib/code/identifier.ex: operators print bare after the colon
_OPERATORS = frozenset(
    [
        "@",
        ".",
        "+",
        "-",
        "!",
        "^",
        "~~~",
        "*",
        "/",
        "++",
        "--",
        "+++",
        "---",
        "..",
        "<>",
        "in",
        "|>",
        "<<<",
        ">>>",
        "<<~",
        "~>>",
        "<~",
        "~>",
        "<~>",
        "<",
        ">",
        "<=",
        ">=",
        "==",
        "!=",
        "=~",
        "===",
        "!==",
        "&&",
        "&&&",
        "and",
        "||",
        "|||",
        "or",
        "=",
        "=>",
        "|",
        "::",
        "<-",
        "\\\\",
        "^^^",
        "//",
        "not",
    ]
)


def _identifier(name: str) -> bool:
    """Elixir's atom identifier: a letter or ``_``, word characters, then ``?``/``!``."""
    body = name[:-1] if name[-1:] in ("?", "!") else name
    if not body or not (body[0] == "_" or body[0].isalpha()):
        return False
    return all(ch == "_" or ch == "@" or ch.isalnum() for ch in body)


def _printable_char(ch: str) -> bool:
    # mirrors String.printable?/1: these ranges plus the escapable control characters
    code = ord(ch)
    return (
        0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
        or ch in "\n\r\t\v\b\f\x1b\x7f\a"
    )


def _printable(text: str) -> bool:
    return all(_printable_char(ch) for ch in text)


def _string(text: str) -> str:
    if not _printable(text):
        # mirrors Inspect.BitString: a binary that is not printable shows as its bytes
        return "<<" + ", ".join(str(b) for b in text.encode("utf-8", "surrogatepass")) + ">>"
    out = [
        "\\#" if ch == "#" and text[i + 1 : i + 2] == "{" else _ESCAPES.get(ch, ch)
        for i, ch in enumerate(text)
    ]
    return '"' + "".join(out) + '"'


def _atom(name: str) -> str:
    if name in ("nil", "true", "false", "Elixir"):
        return name
    if name.startswith("Elixir.") and _ALIAS.fullmatch(name[7:]):
        return name if name[7:].startswith("Elixir.") else name[7:]
    if name in _OPERATORS or _identifier(name):
        return ":" + name
    return ":" + _string(name)


def _float(value: float) -> str:
    # mirrors :io_lib_format / Float.to_string shortest form: the shorter of the plain and
    # the scientific notation of the shortest round-trip digits, plain on a tie
    text = repr(value)
    if text in ("inf", "-inf", "nan"):
        return text
    sign = "-" if text.startswith("-") else ""
    digits, exponent = _decompose(text.lstrip("-"))
    plain = _plain(digits, exponent)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    scientific = f"{mantissa}e{exponent}"
    return sign + (plain if len(plain) <= len(scientific) else scientific)


def _decompose(text: str) -> tuple[str, int]:
    """Significant digits and the decimal exponent of the first one."""
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = (
        int(exp or 0) + len(whole) - 1 - (len(whole + frac) - len((whole + frac).lstrip("0")))
    )
    digits = digits.rstrip("0") or "0"
    if digits == "0":
        return "0", 0
    return digits, exponent


def _plain(digits: str, exponent: int) -> str:
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    return whole + "." + (digits[exponent + 1 :] or "0")


_RANK = {bool: 1, int: 0, float: 0, type(None): 1, Atom: 1, tuple: 6, dict: 7, list: 9, str: 10}


def _term_key(value: Any) -> tuple[int, Any]:
    # Erlang term order: number < atom < tuple < map < list < bitstring
    rank = _RANK.get(type(value), 11)
    if rank == 0:
        return (0, value)
    if rank == 1:
        name = (
            value.name if isinstance(value, Atom) else {None: "nil"}.get(value, str(value).lower())
        )
        return (1, name)
    return (rank, str(value))


def _keyword_key(key: Any) -> str | None:
    if isinstance(key, Atom) and (_identifier(key.name) or key.name in ("nil", "true", "false")):
        return key.name
    return None


def inspect(value: Any) -> str:
    """Elixir's ``inspect/1`` text of the term ``value`` stands for."""
    if value is None:
        return "nil"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Atom):
        return _atom(value.name)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, list):
        pairs = [v for v in value if isinstance(v, tuple) and len(v) == 2]
        if value and len(pairs) == len(value) and all(_keyword_key(k) for k, _ in pairs):
            return "[" + ", ".join(f"{_keyword_key(k)}: {inspect(v)}" for k, v in pairs) + "]"
        return "[" + ", ".join(inspect(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "{" + ", ".join(inspect(item) for item in value) + "}"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _term_key(kv[0]))
        if items and all(_keyword_key(k) for k, _ in items):
            return "%{" + ", ".join(f"{_keyword_key(k)}: {inspect(v)}" for k, v in items) + "}"
        return "%{" + ", ".join(f"{inspect(k)} => {inspect(v)}" for k, v in items) + "}"
    return _string(repr(value))
