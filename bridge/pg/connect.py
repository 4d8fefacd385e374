"""Open a psycopg connection, turning "can't reach the database" into one clear ``BridgeError``.

psycopg's own message is multi-line and may echo the DSN; callers (the CLI above all) want
one line that names host, port, database and user — never the password.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bridge.errors import ConfigError, DatabaseError

CONNECT_TIMEOUT = 5  # seconds, unless the DSN sets connect_timeout itself


def _target(params: dict[str, Any]) -> str:
    host = params.get("host") or "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    where = f"{host}{port}/{params.get('dbname') or params.get('user') or ''}"
    return f"{where} as {params['user']}" if params.get("user") else where


def _options(dsn: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str]:
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid database DSN: {str(exc).strip().splitlines()[0]}") from None
    if "connect_timeout" not in params:
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return kwargs, _target({**params, **kwargs})


def _failed(target: str, exc: psycopg.Error) -> DatabaseError:
    reason = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return DatabaseError(
        f"cannot connect to PostgreSQL at {target}: {reason}",
        sqlstate=getattr(exc, "sqlstate", None),
    )


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """``psycopg.connect`` with a default ``connect_timeout`` and a one-line error."""
    kwargs, target = _options(dsn, kwargs)
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise _failed(target, exc) from None


async def aconnect(dsn: str, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
    """Async twin of :func:`connect`."""
    kwargs, target = _options(dsn, kwargs)
    try:
        return await psycopg.AsyncConnection.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise _failed(target, exc) from None


def pool_kwargs(dsn: str, size: int) -> dict[str, Any]:
    """Arguments for an owned ``ConnectionPool`` / ``AsyncConnectionPool`` of ``size``."""
    kwargs, _ = _options(dsn, {"autocommit": True})
    return {"min_size": size, "max_size": size, "kwargs": kwargs, "name": "oban-bridge"}
