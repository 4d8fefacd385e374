"""The statement type operations yield, and the generator protocol around it."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

Row = dict[str, Any]
Rows = list[Row]


@dataclass(frozen=True)
class Statement:
    """One SQL statement for the driver to run.

    ``sql`` is a template in ``psycopg.sql.SQL.format`` syntax: ``{prefix}`` is
    replaced by the quoted schema identifier (never by string pasting, so a
    prefix cannot inject SQL) and literal braces are doubled. ``params`` are
    bound server-side with ``%s`` / ``%(name)s`` placeholders. ``fetch`` tells
    the driver whether to return rows (a statement without RETURNING yields ``[]``).
    ``copy`` makes it a ``COPY … FROM STDIN`` fed with those chunks of COPY
    text-format data (the fast path for bulk inserts); it returns ``[]``. ``tuples``
    returns rows as tuples instead of dicts.
    """

    sql: str
    params: Sequence[Any] | Mapping[str, Any] | None = None
    prefix: str | None = None
    fetch: bool = True
    copy: Iterable[str] | None = None
    #: rows as tuples in the RETURNING order (the runtime's fetch: no dict per row)
    tuples: bool = False


Op = Generator[Statement, Rows, T]
