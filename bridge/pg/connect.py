"""Open a psycopg connection, turning "can't reach the database" into one clear ``BridgeError``.

psycopg's own message is multi-line and may echo the DSN; callers (the CLI above all) want
one line that names host, port, database and user — never the password: ``redact`` masks it
(even in a DSN too malformed to parse) wherever an error or log line could carry it.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bridge.errors import ConfigError, DatabaseError

CONNECT_TIMEOUT = 5  # seconds, unless the DSN sets connect_timeout itself


_URL_SECRET = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*:(?P<secret>.*)@")
# a keyword value runs to the next "key=" (an unquoted space is a typo, not the end of it)
_KEYWORD_SECRET = re.compile(
    r"password\s*=\s*(?P<secret>'(?:[^'\\]|\\.)*'?|.*?)(?=\s+\w+\s*=|\s*$)", re.I
)
_QUOTED = re.compile(r'"([^"]*)"')
MASK = "***"


def secrets_of(dsn: str | None) -> list[str]:
    """The password in a DSN, parseable or not (raw, unquoted and percent-decoded forms)."""
    if not dsn:
        return []
    found: set[str] = set()
    for pattern in (_URL_SECRET, _KEYWORD_SECRET):
        for match in pattern.finditer(dsn):
            secret = match.group("secret")
            found.update((secret, secret.strip("'"), unquote(secret)))
    with contextlib.suppress(psycopg.Error):
        found.add(str(conninfo_to_dict(dsn).get("password") or ""))
    return sorted(filter(None, found), key=len, reverse=True)


def redact(text: str, *dsns: str | None) -> str:
    """``text`` with the passwords of ``dsns`` masked, for errors and log lines.

    A quoted fragment (libpq quotes what it could not parse) that is part of a password is
    masked too: ``missing "=" after "PW"`` must not show the half after a stray space.
    """
    secrets = [s for dsn in dsns for s in secrets_of(dsn)]
    if not secrets:
        return text

    def quoted(match: re.Match[str]) -> str:
        inner = match.group(1)
        leaks = inner and any(inner in s or s in inner for s in secrets)
        return f'"{MASK}"' if leaks else match.group(0)

    text = _QUOTED.sub(quoted, text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _target(params: dict[str, Any]) -> str:
    host = params.get("host") or "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    where = f"{host}{port}/{params.get('dbname') or params.get('user') or ''}"
    return f"{where} as {params['user']}" if params.get("user") else where


def parse_dsn(dsn: str) -> dict[str, Any]:
    """The DSN's parameters; ``ConfigError`` (one line, password masked) when malformed."""
    try:
        return conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        reason = redact(str(exc).strip().splitlines()[0], dsn)
        raise ConfigError(f"invalid database DSN: {reason}") from None


def describe_dsn(dsn: str) -> str:
    """Where a DSN points, for people: ``host:port/dbname as user`` (never the password)."""
    return _target(parse_dsn(dsn))


def _options(dsn: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], str]:
    params = parse_dsn(dsn)
    if "connect_timeout" not in params:
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return kwargs, _target({**params, **kwargs})


def _failed(dsn: str, target: str, exc: psycopg.Error) -> DatabaseError:
    reason = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return DatabaseError(
        redact(f"cannot connect to PostgreSQL at {target}: {reason}", dsn),
        sqlstate=getattr(exc, "sqlstate", None),
    )


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """``psycopg.connect`` with a default ``connect_timeout`` and a one-line error."""
    kwargs, target = _options(dsn, kwargs)
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise _failed(dsn, target, exc) from None


async def aconnect(dsn: str, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
    """Async twin of :func:`connect`."""
    kwargs, target = _options(dsn, kwargs)
    try:
        return await psycopg.AsyncConnection.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        raise _failed(dsn, target, exc) from None


def pool_kwargs(dsn: str, size: int) -> dict[str, Any]:
    """Arguments for an owned ``ConnectionPool`` / ``AsyncConnectionPool`` of ``size``."""
    kwargs, _ = _options(dsn, {"autocommit": True})
    # a node keeps two connections; busy, it grows to ``size`` (idle ones close after 10 min)
    return {"min_size": min(2, size), "max_size": size, "kwargs": kwargs, "name": "oban-bridge"}
