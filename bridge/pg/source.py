"""``Source`` / ``AsyncSource``: the one way oban-bridge runs an operation on PostgreSQL.

A source owns four decisions, so no caller makes them again:

* **where connections come from** — a DSN (one owned autocommit connection, opened
  lazily; or an owned pool when ``pool_size`` is given), a psycopg pool, or the
  caller's own connection;
* **the transaction policy** — every ``run`` is one transaction. On the caller's
  connection it *joins* the caller's transaction instead: a savepoint inside an open
  one, the caller's own (uncommitted) transaction on an idle non-autocommit
  connection. The caller commits; a source never commits for them;
* **the schema check** — ``require_version`` once, before the first operation;
* **error translation** — psycopg errors become the project's typed errors here and
  in ``_drive`` only.

The sync and async shells share everything that is not I/O (``_Policy``); each is a
thin loop over its connection type, as psycopg 3 does.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import psycopg
from psycopg import pq
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from bridge.errors import ConfigError
from bridge.names import SCHEMA_VERSIONS
from bridge.ops import Op
from bridge.ops.schema import require_version, validate_prefix
from bridge.pg._drive import adrive, drive
from bridge.pg.connect import aconnect, connect, pool_kwargs

T = TypeVar("T")

SyncInput = str | psycopg.Connection[Any] | ConnectionPool
AsyncInput = str | psycopg.AsyncConnection[Any] | AsyncConnectionPool


class _Policy:
    """What both shells decide the same way: prefix, schema version, the one-time check."""

    def __init__(self, prefix: str, schema_version: int | None, check_schema: bool):
        if schema_version is not None and schema_version not in SCHEMA_VERSIONS:
            raise ConfigError(f"schema_version must be 12, 13 or 14, got {schema_version!r}")
        self.prefix = validate_prefix(prefix)
        self.schema_version = schema_version
        self._unchecked = check_schema and schema_version is not None

    def pending_check(self) -> Op[None] | None:
        """The schema check still to run (once), or None."""
        if not self._unchecked or self.schema_version is None:
            return None
        return require_version(self.prefix, self.schema_version)

    def checked(self) -> None:
        self._unchecked = False


def _joins_caller(conn: Any, caller: Any) -> bool:
    """On the caller's idle, non-autocommit connection, statements open *their* transaction."""
    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    return conn is caller and not conn.autocommit and idle


class Source:
    """Runs ops over a DSN, a ``ConnectionPool`` or the caller's ``Connection``.

    Example:
        >>> source = Source("postgresql://localhost/app", prefix="public")
        >>> source.run(some_op)
    """

    def __init__(
        self,
        source: SyncInput,
        *,
        prefix: str = "public",
        schema_version: int | None = 14,
        check_schema: bool = True,
        pool_size: int | None = None,
    ):
        if not isinstance(source, (str, psycopg.Connection, ConnectionPool)):
            raise ConfigError("a source is a DSN, a psycopg Connection or a ConnectionPool")
        self.policy = _Policy(prefix, schema_version, check_schema)
        self._input = source
        self._pool: ConnectionPool | None = source if isinstance(source, ConnectionPool) else None
        if isinstance(source, str) and pool_size:
            self._pool = ConnectionPool(source, open=True, **pool_kwargs(source, pool_size))
        self._owns_pool = isinstance(source, str) and self._pool is not None
        self._owned: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        return self.policy.prefix

    @property
    def is_callers_connection(self) -> bool:
        return isinstance(self._input, psycopg.Connection)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a connection (the pool's, the owned one, or the caller's)."""
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
        elif isinstance(self._input, psycopg.Connection):
            yield self._input
        else:
            assert isinstance(self._input, str)
            with self._lock:
                if self._owned is None or self._owned.closed:
                    self._owned = connect(self._input, autocommit=True)
                yield self._owned

    def run(self, op: Op[T], *, atomic: bool = True) -> T:
        """Run ``op`` as one transaction (or inside the caller's) and return its result.

        ``atomic=False`` runs each statement on its own (autocommit): for single-statement
        ops on a hot path, where BEGIN/COMMIT would triple the round trips.
        """
        with self.connection() as conn:
            check = self.policy.pending_check()
            if check is not None:
                drive(check, conn)
                self.policy.checked()
            if _joins_caller(conn, self._input) or (not atomic and conn.autocommit):
                return drive(op, conn)
            with conn.transaction():
                return drive(op, conn)

    def close(self) -> None:
        """Close what the source opened itself (never the caller's connection or pool)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None
        if self._owns_pool and self._pool is not None:
            self._pool.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSource:
    """The asyncio twin of :class:`Source`; a DSN with ``pool_size`` gets an owned pool."""

    def __init__(
        self,
        source: AsyncInput,
        *,
        prefix: str = "public",
        schema_version: int | None = 14,
        check_schema: bool = True,
        pool_size: int | None = None,
        configure: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]] | None = None,
    ):
        if not isinstance(source, (str, psycopg.AsyncConnection, AsyncConnectionPool)):
            raise ConfigError(
                "an async source is a DSN, a psycopg AsyncConnection or an AsyncConnectionPool"
            )
        self.policy = _Policy(prefix, schema_version, check_schema)
        self._input = source
        self._pool: AsyncConnectionPool | None = (
            source if isinstance(source, AsyncConnectionPool) else None
        )
        self._pool_size = pool_size if isinstance(source, str) else None
        self._configure = configure
        self._owned: psycopg.AsyncConnection[Any] | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def prefix(self) -> str:
        return self.policy.prefix

    @property
    def dsn(self) -> str | None:
        """The DSN, when the source was given one (the runtime opens its LISTEN connection)."""
        if isinstance(self._input, str):
            return self._input
        if isinstance(self._input, AsyncConnectionPool) and isinstance(self._input.conninfo, str):
            return self._input.conninfo
        return None

    @property
    def is_callers_connection(self) -> bool:
        return isinstance(self._input, psycopg.AsyncConnection)

    async def open(self) -> None:
        """Open the owned pool now (otherwise the first ``run`` does)."""
        if self._pool is None and self._pool_size and isinstance(self._input, str):
            kwargs = pool_kwargs(self._input, self._pool_size)
            pool = AsyncConnectionPool(self._input, open=False, configure=self._configure, **kwargs)
            await pool.open()
            self._pool = pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """Borrow a connection (the pool's, the owned one, or the caller's)."""
        if self._pool is None and self._pool_size:
            await self.open()
        if self._pool is not None:
            async with self._pool.connection() as conn:
                yield conn
        elif isinstance(self._input, psycopg.AsyncConnection):
            yield self._input
        else:
            assert isinstance(self._input, str)
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._owned is None or self._owned.closed:
                    self._owned = await aconnect(self._input, autocommit=True)
                yield self._owned

    async def run(self, op: Op[T], *, atomic: bool = True) -> T:
        """Run ``op`` as one transaction (or inside the caller's) and return its result.

        ``atomic=False``: each statement on its own (see :meth:`Source.run`).
        """
        async with self.connection() as conn:
            check = self.policy.pending_check()
            if check is not None:
                await adrive(check, conn)
                self.policy.checked()
            if _joins_caller(conn, self._input) or (not atomic and conn.autocommit):
                return await adrive(op, conn)
            async with conn.transaction():
                return await adrive(op, conn)

    async def close(self) -> None:
        """Close what the source opened itself (never the caller's connection or pool)."""
        if self._owned is not None:
            await self._owned.close()
            self._owned = None
        if self._pool_size and self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def __aenter__(self) -> AsyncSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
