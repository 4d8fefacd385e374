"""Run a pure operation (``bridge.ops``) over a psycopg connection, sync or async.

Theory of operation: an op is a generator of :class:`~bridge.ops.Statement`.
``drive`` renders each statement (schema identifiers through
``psycopg.sql.Identifier``), executes it, sends the rows back in and returns the
generator's result. PostgreSQL errors are translated into ``DatabaseError`` /
``SchemaMissing`` here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row

from bridge.errors import DatabaseError, SchemaMissing
from bridge.ops import Op, Rows, Statement
from bridge.wire.job import utc_naive

T = TypeVar("T")


_RENDERED: dict[tuple[str, str], bytes] = {}
_RENDERED_MAX = 512


def render(stmt: Statement, conn: Any = None) -> sql.SQL | sql.Composed | bytes:
    """Compose the statement text with its prefix quoted as an identifier.

    With a connection, the composed bytes are cached per (template, prefix): the hot
    statements of the runtime are then sent as the very same bytes every time, which is
    also what lets psycopg prepare them server-side.
    """
    text = sql.SQL(stmt.sql)  # our own templates (bridge/ops), never user input
    if stmt.prefix is None:
        return text
    if conn is None:
        return text.format(prefix=sql.Identifier(stmt.prefix))
    key = (stmt.sql, stmt.prefix)
    cached = _RENDERED.get(key)
    if cached is None:
        cached = text.format(prefix=sql.Identifier(stmt.prefix)).as_bytes(conn)
        if len(_RENDERED) < _RENDERED_MAX:
            _RENDERED[key] = cached
    return cached


def translate(exc: psycopg.Error) -> Exception:
    """Turn a psycopg error into the library's typed error."""
    state = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None else None) or str(exc).strip()
    if state in ("42P01", "42704", "3F000"):  # undefined_table / undefined_object / schema
        return SchemaMissing(
            f"{text} — the Oban schema is missing; run `oban-bridge migrate` first"
        )
    if diag is not None and diag.constraint_name:
        text = f"{text} (constraint {diag.constraint_name})"
    return DatabaseError(text, sqlstate=state)


def _execute(conn: psycopg.Connection[Any], stmt: Statement) -> Rows:
    factory: Any = tuple_row if stmt.tuples else dict_row  # tuples: the runtime's fetch
    with conn.cursor(row_factory=factory) as cur:
        if stmt.copy is not None:
            with cur.copy(render(stmt)) as copy:
                for chunk in stmt.copy:
                    copy.write(chunk)
            return []
        cur.execute(render(stmt, conn), stmt.params)
        if stmt.fetch and cur.description is not None:
            rows: Rows = cur.fetchall()
            return rows
        return []


async def _aexecute(conn: psycopg.AsyncConnection[Any], stmt: Statement) -> Rows:
    factory: Any = tuple_row if stmt.tuples else dict_row
    async with conn.cursor(row_factory=factory) as cur:
        if stmt.copy is not None:
            async with cur.copy(render(stmt)) as copy:
                for chunk in stmt.copy:
                    await copy.write(chunk)
            return []
        await cur.execute(render(stmt, conn), stmt.params)
        if stmt.fetch and cur.description is not None:
            arows: Rows = await cur.fetchall()
            return arows
        return []


def _holds_aware(value: Any) -> bool:
    if isinstance(value, datetime):
        return value.tzinfo is not None
    if isinstance(value, list):  # a column array: look inside only when it holds datetimes
        first = next((item for item in value if item is not None), None)
        return isinstance(first, datetime) and any(map(_holds_aware, value))
    return False


def _naive(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_naive(value)
    if isinstance(value, list):
        return [utc_naive(v) if isinstance(v, datetime) else v for v in value]
    return value


def utc_params(stmt: Statement) -> Statement:
    """The statement with aware datetimes bound as naive UTC, the way Oban stores time.

    Oban's columns are ``timestamp`` (no zone) holding UTC. psycopg sends an aware datetime
    as ``timestamptz``, which PostgreSQL converts to ``timestamp`` in the *session's*
    TimeZone — a shifted value unless that happens to be UTC. A ``Job`` read back is
    aware, so writing one of its times back (an ack's ``attempted_at`` guard) needs this.
    """
    params = stmt.params
    if not params:
        return stmt
    if isinstance(params, Mapping):
        if any(map(_holds_aware, params.values())):
            return replace(stmt, params={k: _naive(v) for k, v in params.items()})
    elif any(map(_holds_aware, params)):
        return replace(stmt, params=[_naive(v) for v in params])
    return stmt


def drive(op: Op[T], conn: psycopg.Connection[Any]) -> T:
    """Run ``op`` to completion on ``conn`` and return its result."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(_execute(conn, utc_params(stmt)))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except psycopg.Error as exc:
        raise translate(exc) from exc
    finally:
        op.close()


async def adrive(op: Op[T], conn: psycopg.AsyncConnection[Any]) -> T:
    """Async twin of :func:`drive`."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(await _aexecute(conn, utc_params(stmt)))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except psycopg.Error as exc:
        raise translate(exc) from exc
    finally:
        op.close()
