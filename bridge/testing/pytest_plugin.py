"""pytest plugin (entry point ``pytest11``): a fresh migrated database per test, and a client.

Fixtures (prefixed, so they never clash with a project's own):

* ``oban_bridge_dsn`` — the DSN of a new database at the latest schema (or
  ``oban_bridge_schema_version``), copied from a template migrated once per session (a copy
  takes milliseconds; migrating takes far longer) and dropped after the test;
* ``oban_bridge_client`` — a :class:`bridge.Client` on it, closed after the test.

The admin DSN (a server the tests may create databases on) is ``$BRIDGE_TEST_DSN``, else the
ini option ``oban_bridge_admin_dsn``, else ``postgresql://postgres@127.0.0.1:5432/postgres``.
When the server cannot be reached, tests using the fixtures are skipped with the reason.
Nothing happens — no import of psycopg, no connection — until a test uses a fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bridge.pg.client import Client

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV_VAR = "BRIDGE_TEST_DSN"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "oban_bridge_admin_dsn",
        f"PostgreSQL the oban_bridge_* fixtures create test databases on (${ENV_VAR} wins)",
        default=DEFAULT_ADMIN_DSN,
    )
    parser.addini(
        "oban_bridge_schema_version",
        "Oban schema version the test databases are migrated to (12, 13 or 14)",
        default="14",
    )


class _Databases:
    """Creates databases from one migrated template and drops them again."""

    def __init__(self, admin_dsn: str, version: int):
        self.admin_dsn = admin_dsn
        self.version = version
        self.template: str | None = None

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=3)

    def dsn(self, name: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.admin_dsn, dbname=name)

    def ensure_template(self) -> str:
        if self.template is None:
            import psycopg

            from bridge.pg.migrations import migrate

            name = f"oban_bridge_tpl_{uuid.uuid4().hex[:8]}"
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.template = name
            with psycopg.connect(self.dsn(name), autocommit=True) as conn:
                migrate(conn, prefix="public", version=self.version)
        return self.template

    def create(self) -> str:
        name = f"oban_bridge_test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.ensure_template()}"')
        return name

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _oban_bridge_databases(pytestconfig: pytest.Config) -> Iterator[_Databases]:
    admin = os.environ.get(ENV_VAR) or str(pytestconfig.getini("oban_bridge_admin_dsn"))
    version = int(str(pytestconfig.getini("oban_bridge_schema_version")))
    databases = _Databases(admin, version)
    try:
        with databases._admin():
            pass
    except Exception as exc:
        pytest.skip(f"oban_bridge fixtures: PostgreSQL not reachable at {admin}: {exc}")
    yield databases
    if databases.template is not None:
        databases.drop(databases.template)


@pytest.fixture
def oban_bridge_dsn(_oban_bridge_databases: _Databases) -> Iterator[str]:
    """A fresh database migrated to the latest Oban schema, dropped after the test."""
    name = _oban_bridge_databases.create()
    yield _oban_bridge_databases.dsn(name)
    _oban_bridge_databases.drop(name)


@pytest.fixture
def oban_bridge_client(oban_bridge_dsn: str, pytestconfig: pytest.Config) -> Iterator[Client]:
    """A ``bridge.Client`` on ``oban_bridge_dsn`` (closed after the test)."""
    from bridge.pg.client import Client

    version = int(str(pytestconfig.getini("oban_bridge_schema_version")))
    with Client(oban_bridge_dsn, schema_version=version) as client:
        yield client
