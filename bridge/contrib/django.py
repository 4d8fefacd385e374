"""Django: jobs in Django's own transaction, Oban's schema as a migration operation, and the
settings ``oban-bridge work --django-settings`` loads.

Django ≥ 4.2 talks to PostgreSQL through psycopg 3 when it is installed: its connection *is*
a ``psycopg.Connection``. A :class:`~bridge.Client` over it joins whatever
``transaction.atomic()`` has open (a savepoint inside it once it has run a statement), so
the job and its insert NOTIFY commit or roll back with the model, like any ORM write.
Under psycopg2 there is no such connection to share, and ``ConfigError`` says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import make_conninfo

from bridge.errors import ConfigError
from bridge.ops.schema import CURRENT_VERSION
from bridge.pg.client import Client
from bridge.pg.migrations import migrate
from bridge.wire.job import Job

try:
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections, router
    from django.db.migrations.operations.base import Operation
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"bridge.contrib.django needs Django: pip install 'oban-bridge[django]' ({exc})"
    ) from exc

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from bridge.wire.job import JobOptions


def psycopg_connection(wrapper: Any) -> psycopg.Connection[Any]:
    """The psycopg 3 connection under a Django ``DatabaseWrapper``, connecting if need be."""
    if wrapper.vendor != "postgresql":
        raise ConfigError(
            f"Django database {wrapper.alias!r} is {wrapper.vendor}; oban-bridge needs PostgreSQL"
        )
    wrapper.ensure_connection()
    raw = wrapper.connection
    if not isinstance(raw, psycopg.Connection):
        driver = type(raw).__module__.partition(".")[0]
        raise ConfigError(
            f"Django database {wrapper.alias!r} runs on {driver}, and oban-bridge needs psycopg 3 "
            "to share its transaction: pip install 'psycopg[binary]' (Django ≥ 4.2 then uses it)"
        )
    return raw


def get_client(
    using: str = "default",
    *,
    prefix: str = "public",
    schema_version: int = 14,
    check_schema: bool = True,
    compress_signals: bool = False,
) -> Client:
    """A :class:`~bridge.Client` on Django's connection ``using``, in its open transaction.

    Ask for it where you enqueue (it is cheap; Django may replace the connection between
    requests): inside ``transaction.atomic()`` the job commits or rolls back with the model,
    outside it the insert commits at once, as an ORM write does in autocommit mode.
    """
    return Client(
        psycopg_connection(connections[using]),
        prefix=prefix,
        schema_version=schema_version,
        check_schema=check_schema,
        compress_signals=compress_signals,
    )


def enqueue(
    worker: str,
    args: Mapping[str, Any] | None = None,
    *,
    using: str = "default",
    **options: Unpack[JobOptions],
) -> Job:
    """``get_client(using).enqueue(...)``: one job in Django's current transaction."""
    return get_client(using).enqueue(worker, args, **options)


class ObanMigration(Operation):  # type: ignore[misc]  # Django ships no type information
    """Oban's schema as one step of a Django migration.

    ``operations = [ObanMigration(version=14)]`` migrates ``prefix`` to V14 with
    ``bridge.migrate`` on the schema editor's connection, inside the migration's
    transaction. Going back migrates to ``previous``: 0 (no Oban tables) for the migration
    that created them, the older version for one that upgrades
    (``ObanMigration(version=14, previous=12)``) — Oban's ``up(version: 14)`` and
    ``down(version: previous + 1)``.
    """

    reversible = True
    reduces_to_sql = False  # the steps depend on the recorded version: sqlmigrate says so

    def __init__(
        self,
        version: int = CURRENT_VERSION,
        *,
        previous: int = 0,
        prefix: str = "public",
        unlogged: bool = True,
        hints: Mapping[str, Any] | None = None,
    ):
        if not 0 <= previous < version <= CURRENT_VERSION:
            raise ConfigError(
                f"ObanMigration: need 0 <= previous < version <= {CURRENT_VERSION}, "
                f"got version={version!r}, previous={previous!r}"
            )
        self.version = version
        self.previous = previous
        self.prefix = prefix
        self.unlogged = unlogged
        self.hints = dict(hints or {})

    def state_forwards(self, app_label: str, state: Any) -> None:
        """Oban's tables are no Django models: the project state does not change."""

    def database_forwards(self, app_label: str, schema_editor: Any, *_states: Any) -> None:
        self._migrate(app_label, schema_editor, self.version)

    def database_backwards(self, app_label: str, schema_editor: Any, *_states: Any) -> None:
        self._migrate(app_label, schema_editor, self.previous)

    def describe(self) -> str:
        return f"Oban schema {self.prefix!r} to V{self.version:02d} (back to V{self.previous:02d})"

    @property
    def migration_name_fragment(self) -> str:
        return f"oban_v{self.version}"

    def _migrate(self, app_label: str, schema_editor: Any, version: int) -> None:
        wrapper = schema_editor.connection
        if not router.allow_migrate(wrapper.alias, app_label, **self.hints):
            return
        migrate(
            psycopg_connection(wrapper),
            version=version,
            prefix=self.prefix,
            unlogged=self.unlogged,
        )


def setup(settings_module: str) -> None:
    """What ``manage.py`` does before any app code runs: point at the settings, ``setup()``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        django.setup()
    except (ImportError, ImproperlyConfigured) as exc:
        raise ConfigError(f"Django settings {settings_module!r}: {exc}") from None


def dsn(using: str = "default") -> str:
    """Django's ``DATABASES[using]`` as a libpq connection string (a ``Node`` needs one)."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql":
        raise ConfigError(
            f"Django database {using!r} is {wrapper.vendor}; oban-bridge needs PostgreSQL"
        )
    known = {option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults()}
    params = wrapper.get_connection_params()  # Django's own: NAME, USER, …, OPTIONS merged
    return make_conninfo(
        "", **{key: value for key, value in params.items() if key in known and value is not None}
    )
