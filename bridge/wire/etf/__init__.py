"""The Erlang External Term Format, as Elixir Oban reads and writes it.

Pure and stdlib-only. ``encode`` mirrors ``term_to_binary/2``; ``decode``
mirrors ``binary_to_term(B, [safe])`` with the stricter limits of etf.md §4.3.
The Python ↔ Erlang mapping is the one in etf.md §4.1/§4.2: str ↔ binary,
None ↔ nil, bool ↔ true/false, dict ↔ map, list ↔ list, tuple ↔ tuple, and
the classes in ``terms`` for everything Python has no word for.
"""

from __future__ import annotations

from .decode import decode
from .encode import DEFAULT_MINOR_VERSION, encode
from .order import compare, sort_keys
from .terms import (
    Atom,
    BitString,
    Charlist,
    ErlList,
    Export,
    FrozenMap,
    Fun,
    ImproperList,
    Pid,
    Port,
    Ref,
    TermMap,
    as_text,
    freeze,
    term_key,
)

__all__ = [
    "DEFAULT_MINOR_VERSION",
    "Atom",
    "BitString",
    "Charlist",
    "ErlList",
    "Export",
    "FrozenMap",
    "Fun",
    "ImproperList",
    "Pid",
    "Port",
    "Ref",
    "TermMap",
    "as_text",
    "compare",
    "decode",
    "encode",
    "freeze",
    "sort_keys",
    "term_key",
]
