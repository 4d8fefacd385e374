"""SQLAlchemy: jobs in a ``Session``'s (or ``Connection``'s) transaction, sync and async.

With the psycopg 3 driver (``postgresql+psycopg://``) the DBAPI connection under a session
*is* a ``psycopg.Connection`` (``AsyncConnection`` under an ``AsyncSession``). A client over
it joins the session's transaction, so the job and its insert NOTIFY commit or roll back
with the session's own writes. Other drivers hand out other connections: ``ConfigError``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg

from bridge.errors import ConfigError
from bridge.pg.client import Client
from bridge.pg.client_async import AsyncClient

try:
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
    from sqlalchemy.orm import Session
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"bridge.contrib.sqlalchemy needs SQLAlchemy: pip install 'oban-bridge[sqlalchemy]' ({exc})"
    ) from exc

C = TypeVar("C", psycopg.Connection[Any], psycopg.AsyncConnection[Any])


def _driver(raw: Any, kind: type[C], dialect: Dialect) -> C:
    """The psycopg connection under SQLAlchemy's, or a ``ConfigError`` naming the fix."""
    if dialect.name != "postgresql":
        raise ConfigError(f"SQLAlchemy engine is {dialect.name}; oban-bridge needs PostgreSQL")
    if not isinstance(raw, kind):
        raise ConfigError(
            f"SQLAlchemy engine uses the {dialect.driver} driver, and oban-bridge needs psycopg 3 "
            "to share its transaction: create the engine with a 'postgresql+psycopg://' URL"
        )
    return raw


def get_client(
    bind: Session | Connection,
    *,
    prefix: str = "public",
    schema_version: int = 14,
    check_schema: bool = True,
    compress_signals: bool = False,
) -> Client:
    """A :class:`~bridge.Client` in ``bind``'s transaction (begun if it has none yet).

    The session commits or rolls back the jobs with everything else it wrote.
    """
    conn = bind.connection() if isinstance(bind, Session) else bind
    raw = _driver(conn.connection.driver_connection, psycopg.Connection, conn.dialect)
    return Client(
        raw,
        prefix=prefix,
        schema_version=schema_version,
        check_schema=check_schema,
        compress_signals=compress_signals,
    )


async def get_async_client(
    bind: AsyncSession | AsyncConnection,
    *,
    prefix: str = "public",
    schema_version: int = 14,
    check_schema: bool = True,
    compress_signals: bool = False,
) -> AsyncClient:
    """Async twin of :func:`get_client`, for an ``AsyncSession`` or ``AsyncConnection``."""
    conn = await bind.connection() if isinstance(bind, AsyncSession) else bind
    pooled = await conn.get_raw_connection()
    raw = _driver(pooled.driver_connection, psycopg.AsyncConnection, conn.dialect)
    return AsyncClient(
        raw,
        prefix=prefix,
        schema_version=schema_version,
        check_schema=check_schema,
        compress_signals=compress_signals,
    )
