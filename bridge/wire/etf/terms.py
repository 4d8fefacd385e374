"""Python values for the Erlang terms that have no natural Python counterpart.

Why these exist: the plain mapping (str ↔ binary, list ↔ list, dict ↔ map…)
loses information for a handful of Erlang terms, and the libraries evaluated
in etf.md §3 lose it silently. Each class here keeps exactly what is needed to
re-encode the term byte for byte, and none of them compares equal to a plain
Python value that would encode differently (``Atom("ok") != "ok"``,
``ErlList((1, 2)) != (1, 2)``), so dict keys never merge by accident.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

_ATOM_CACHE: dict[str, Atom] = {}
#: atom names kept interned; beyond this, atoms are still correct, just not shared
ATOM_CACHE_SIZE = 4096


class Atom:
    """An Erlang atom: a name that is never equal to the ``str`` of the same text.

    Interned through a bounded cache so repeated atoms (``:ok``, struct keys)
    cost one dict lookup on decode; equality does not rely on the interning.
    """

    __slots__ = ("_hash", "name")
    name: str
    _hash: int

    def __new__(cls, name: str) -> Atom:
        atom = _ATOM_CACHE.get(name)
        if atom is not None:
            return atom
        if not isinstance(name, str):
            raise TypeError(f"atom name must be str, not {type(name).__name__}")
        atom = object.__new__(cls)
        object.__setattr__(atom, "name", str(name))
        object.__setattr__(atom, "_hash", hash(("erlang.atom", name)))
        if len(_ATOM_CACHE) < ATOM_CACHE_SIZE:
            _ATOM_CACHE[atom.name] = atom
        return atom

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Atom is immutable")

    def __eq__(self, other: object) -> bool:
        return self is other or (other.__class__ is Atom and other.name == self.name)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Atom({self.name!r})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Atom, (self.name,))


@dataclass(frozen=True, slots=True)
class Pid:
    """A process identifier; opaque, only ever echoed back (erl_ext_dist NEW_PID_EXT)."""

    node: Atom
    id: int
    serial: int
    creation: int


@dataclass(frozen=True, slots=True)
class Port:
    """A port identifier; opaque (erl_ext_dist NEW_PORT_EXT / V4_PORT_EXT)."""

    node: Atom
    id: int
    creation: int


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference; ``ids`` are uninterpreted words (erl_ext_dist NEWER_REFERENCE_EXT)."""

    node: Atom
    creation: int
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Export:
    """``fun M:F/A``: a name, never callable from Python (erl_ext_dist EXPORT_EXT)."""

    module: Atom
    function: Atom
    arity: int


@dataclass(frozen=True, slots=True)
class Fun:
    """A closure, kept field by field so it re-encodes exactly (erl_ext_dist NEW_FUN_EXT)."""

    arity: int
    uniq: bytes
    index: int
    module: Atom
    old_index: int
    old_uniq: int
    pid: Pid
    free_vars: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class BitString:
    """A bitstring whose length is not a whole number of bytes.

    ``bits`` (1..7) counts the valid high-order bits of the last byte; the
    unused low bits are always zero, which is how Erlang writes them.
    """

    data: bytes
    bits: int

    def __post_init__(self) -> None:
        if not self.data or not 1 <= self.bits <= 7:
            raise ValueError("BitString needs data and 1..7 bits in its last byte")
        mask = (0xFF << (8 - self.bits)) & 0xFF
        if self.data[-1] & ~mask:
            raise ValueError("BitString's unused low bits must be zero")

    @property
    def bit_length(self) -> int:
        return 8 * (len(self.data) - 1) + self.bits


@dataclass(frozen=True, slots=True)
class ImproperList:
    """``[a, b | tail]``: a list whose last tail is not ``[]``."""

    items: tuple[Any, ...]
    tail: Any

    def __post_init__(self) -> None:
        if not self.items or isinstance(self.tail, (list, ErlList, ImproperList)):
            raise ValueError("ImproperList needs items and a tail that is not a list")


class ErlList(tuple):  # type: ignore[type-arg]
    """A list frozen so it can be a map key; re-encodes as a list, not a tuple."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other.__class__ is ErlList and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("erlang.list", tuple(self)))

    def __repr__(self) -> str:
        return f"ErlList({list(self)!r})"


class Charlist:
    """Text to be written as an Erlang charlist (a list of code points), on request only."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Charlist and other.text == self.text

    def __hash__(self) -> int:
        return hash(("erlang.charlist", self.text))

    def __repr__(self) -> str:
        return f"Charlist({self.text!r})"


def as_text(codes: Iterable[int]) -> str:
    """Read a decoded charlist (``list[int]``) as text, when the caller knows it is one."""
    return "".join(map(chr, codes))


def term_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when they are the same Erlang term.

    Python's ``1 == 1.0 == True`` and ``"a"`` vs ``b"a"`` disagree with Erlang's
    ``=:=``; this is the arbiter for duplicate map keys in both directions.
    """
    cls = value.__class__
    if cls is str:
        return ("b", value.encode("utf-8", "surrogatepass"))
    if cls is bool or value is None:
        return ("a", "nil" if value is None else ("true" if value else "false"))
    if cls is Atom:
        return ("a", value.name)
    if isinstance(value, int):
        return ("i", int(value))
    if isinstance(value, float):
        return ("f", struct.pack(">d", value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("b", bytes(value))
    if cls is BitString:
        return ("B", value.data, value.bits)
    if isinstance(value, (list, ErlList)):
        return ("l", tuple(map(term_key, value)))
    if cls is Charlist:
        return ("l", tuple(("i", ord(c)) for c in value.text))
    if isinstance(value, tuple):
        return ("t", tuple(map(term_key, value)))
    if cls is ImproperList:
        return ("L", tuple(map(term_key, value.items)), term_key(value.tail))
    if isinstance(value, Mapping):
        pairs = value.pairs() if isinstance(value, TermMap) else value.items()
        return ("m", frozenset((term_key(k), term_key(v)) for k, v in pairs))
    if cls is Fun:  # free variables may hold lists and maps
        return (
            "F",
            value.arity,
            value.uniq,
            value.index,
            value.module,
            value.old_index,
            value.old_uniq,
            value.pid,
            tuple(map(term_key, value.free_vars)),
        )
    return ("o", value)


class TermMap(Mapping[Any, Any]):
    """A read-only map whose keys Python would merge (``1``, ``1.0``, ``true``).

    Lookup is by exact Erlang identity (``term_key``), iteration is in wire
    order, and it re-encodes to the same map. Decoding returns one only when
    a plain dict would drop entries.
    """

    __slots__ = ("_index", "_pairs")

    def __init__(self, pairs: Iterable[tuple[Any, Any]] = ()):
        self._pairs = tuple(pairs)
        self._index = {term_key(k): v for k, v in self._pairs}
        if len(self._index) != len(self._pairs):
            raise ValueError("duplicate key in map")

    def pairs(self) -> tuple[tuple[Any, Any], ...]:
        return self._pairs

    def __getitem__(self, key: Any) -> Any:
        return self._index[term_key(key)]

    def __contains__(self, key: object) -> bool:
        return term_key(key) in self._index

    def __iter__(self) -> Iterator[Any]:
        return (k for k, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return bool(term_key(self) == term_key(other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._pairs)!r})"


class FrozenMap(TermMap):
    """A map frozen so it can be a map key itself."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(term_key(self))


def freeze(value: Any) -> Any:
    """Make a decoded value hashable without changing the term it encodes to."""
    cls = value.__class__
    if cls is list:
        return ErlList(map(freeze, value))
    if cls is dict or isinstance(value, TermMap):
        pairs = value.pairs() if isinstance(value, TermMap) else value.items()
        return FrozenMap((freeze(k), freeze(v)) for k, v in pairs)
    if cls is tuple:
        return tuple(map(freeze, value))
    if cls is ImproperList:
        return ImproperList(tuple(map(freeze, value.items)), freeze(value.tail))
    if cls is Fun:
        return replace(value, free_vars=tuple(map(freeze, value.free_vars)))
    return value
