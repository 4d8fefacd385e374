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
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
    "\0": "\\0",
}
_BARE_ATOM = re.compile(r"[a-z_][a-zA-Z0-9_@]*[?!]?|[A-Z][a-zA-Z0-9_]*(\.[A-Z][a-zA-Z0-9_]*)*")


def _string(text: str) -> str:
    out = []
    for ch in text.replace("#{", "\0#{"):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02X}" if ord(ch) < 0x100 else f"\\u{{{ord(ch):X}}}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("\\0#{", "\\#{") + '"'


def _atom(name: str) -> str:
    if name in ("nil", "true", "false"):
        return name
    if name.startswith("Elixir.") and _BARE_ATOM.fullmatch(name[7:]):
        return name[7:]  # module atoms print without their Elixir. prefix
    if _BARE_ATOM.fullmatch(name):
        return name if name[0].isupper() else ":" + name
    return ":" + _string(name)


def _float(value: float) -> str:
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{int(exponent)}"
    return text


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
    if isinstance(value, (list, tuple)):
        inner = ", ".join(inspect(item) for item in value)
        return f"[{inner}]" if isinstance(value, list) else "{" + inner + "}"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: (type(kv[0]).__name__, str(kv[0])))
        return "%{" + ", ".join(f"{inspect(k)} => {inspect(v)}" for k, v in items) + "}"
    return _string(repr(value))
