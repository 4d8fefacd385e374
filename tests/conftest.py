"""Test tiers and shared fixtures.

Tiers: ``tests/unit`` (pure, always runs), ``tests/pg`` (real PostgreSQL at
``BRIDGE_TEST_DSN``, default ``postgresql://postgres@127.0.0.1:5432/postgres``),
``tests/erlang`` (real ``erl`` on PATH), ``tests/acceptance`` (the CLI as a
subprocess, needs PostgreSQL). A tier whose service is absent is skipped with
the reason printed, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

ADMIN_DSN = os.environ.get("BRIDGE_TEST_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _dsn_for(dbname: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(ADMIN_DSN, dbname=dbname)


def _admin() -> Any:
    import psycopg

    return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_available() -> None:
    try:
        with _admin():
            pass
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {ADMIN_DSN}: {exc}")


class DatabaseFactory:
    """Creates throw-away databases (optionally from a template) and drops them after."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"bridge_test_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with _admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return _dsn_for(name)

    def drop_all(self) -> None:
        with _admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture
def db_factory(pg_available: None) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory()
    yield factory
    factory.drop_all()


@pytest.fixture
def empty_dsn(db_factory: DatabaseFactory) -> str:
    """A fresh, empty database."""
    return db_factory.create()


@pytest.fixture(scope="session")
def migrated_template(pg_available: None) -> Iterator[str]:
    """A template database migrated to V14 by bridge, built once per session."""
    import psycopg

    from bridge.pg.migrations import migrate

    name = f"bridge_tpl_{uuid.uuid4().hex[:8]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(_dsn_for(name), autocommit=True) as conn:
            migrate(conn, prefix="public", version=14)
        yield name
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dsn(db_factory: DatabaseFactory, migrated_template: str) -> str:
    """A fresh database at V14 (public prefix), copied from the session template."""
    return db_factory.create(template=migrated_template)


@pytest.fixture(scope="session")
def erl() -> str:
    path = shutil.which("erl")
    if path is None:
        pytest.skip("erl not on PATH (install Debian's erlang-base)")
    return path


@pytest.fixture
def migrated(db_factory: DatabaseFactory) -> Any:
    """``migrated(12)``: a new database migrated by bridge to that version (public prefix).

    ``tests/pg`` overrides this with a richer version that walks several versions.
    """
    import psycopg

    from bridge.pg.migrations import migrate

    def make(*versions: int, prefix: str = "public") -> str:
        dsn = db_factory.create()
        with psycopg.connect(dsn, autocommit=True) as conn:
            for version in versions:
                migrate(conn, prefix=prefix, version=version)
        return dsn

    return make
