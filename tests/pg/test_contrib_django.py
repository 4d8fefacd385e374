"""Django: the job commits or rolls back with the model inside ``transaction.atomic()``, and
``ObanMigration`` creates and drops Oban's schema as a step of a real Django migration.

Django's settings can be configured once per process, so this module configures them once
(``LOGGING_CONFIG=None``: logging is left alone) and points the ``default`` connection at
each test's fresh, empty database, as Django's own test runner does; the app's migration
(``django_orders``) then creates the ``orders`` table and Oban's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from contrib_support import Listener, seen
from psycopg.conninfo import conninfo_to_dict

import bridge
from bridge.errors import ConfigError

pytestmark = pytest.mark.pg

MAILERS = ("public.oban_insert", '{"queue":"mailers"}')


class Rollback(Exception):
    """Raised inside ``atomic()`` to roll it back."""


@pytest.fixture(scope="module")
def django_settings() -> Iterator[Any]:
    pytest.importorskip("django", reason="Django is not installed (pip install -e '.[dev]')")
    import django
    from django.conf import settings
    from django.db import connections

    if not settings.configured:
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": "postgres"}
        settings.configure(
            DATABASES={"default": database},
            INSTALLED_APPS=["django_orders"],
            USE_TZ=True,
            LOGGING_CONFIG=None,
        )
        django.setup()
    elif "django_orders" not in settings.INSTALLED_APPS:
        pytest.skip("Django was configured by another module of this process")
    yield settings
    connections.close_all()


def _point_django_at(dsn: str) -> None:
    """Django's ``default`` on ``dsn``, migrated by the app's own migration."""
    from django.core.management import call_command
    from django.db import connection

    params = conninfo_to_dict(dsn)
    connection.close()
    connection.settings_dict.update(
        NAME=params["dbname"],
        USER=params.get("user", ""),
        PASSWORD=params.get("password", ""),
        HOST=params.get("host", ""),
        PORT=params.get("port", ""),
    )
    call_command("migrate", "django_orders", verbosity=0)


@pytest.fixture
def django_dsn(django_settings: Any, dsn: str) -> Iterator[str]:
    """A fresh database at V14 (ObanMigration finds it there) plus the app's table."""
    from django.db import connection

    _point_django_at(dsn)
    yield dsn
    connection.close()


@pytest.fixture
def django_empty_dsn(django_settings: Any, empty_dsn: str) -> Iterator[str]:
    """A fresh empty database, where the app's migration creates Oban's schema."""
    from django.db import connection

    _point_django_at(empty_dsn)
    yield empty_dsn
    connection.close()


@pytest.fixture
def listener(django_dsn: str) -> Iterator[Listener]:
    lst = Listener(django_dsn)
    yield lst
    lst.close()


def test_atomic_commit_writes_the_model_and_the_job_and_notifies(
    django_dsn: str, listener: Listener
) -> None:
    from django.db import transaction
    from django_orders.models import Order

    from bridge.contrib.django import enqueue, get_client

    with transaction.atomic():
        order = Order.objects.create(number=1)
        job = enqueue("MyApp.Mailer", {"order": order.pk}, queue="mailers")
        get_client().enqueue("MyApp.Mailer", {"order": order.pk, "copy": True}, queue="mailers")
        assert seen(django_dsn) == {"orders": [], "jobs": []}  # nothing before commit
        assert listener.drain() == []
    assert job.id is not None and job.queue == "mailers"
    assert seen(django_dsn) == {
        "orders": [1],
        "jobs": [
            ("MyApp.Mailer", "mailers", {"order": order.pk}),
            ("MyApp.Mailer", "mailers", {"order": order.pk, "copy": True}),
        ],
    }
    assert listener.drain() == [MAILERS]  # PostgreSQL folds a transaction's equal NOTIFYs


def test_atomic_rollback_leaves_nothing(django_dsn: str, listener: Listener) -> None:
    from django.db import transaction
    from django_orders.models import Order

    from bridge.contrib.django import enqueue

    with pytest.raises(Rollback), transaction.atomic():
        Order.objects.create(number=1)
        enqueue("MyApp.Mailer", {"order": 1}, queue="mailers")
        raise Rollback
    assert seen(django_dsn) == {"orders": [], "jobs": []}
    assert listener.drain(timeout=0.5) == []


def test_a_rolled_back_savepoint_takes_only_its_own_job(
    django_dsn: str, listener: Listener
) -> None:
    from django.db import transaction
    from django_orders.models import Order

    from bridge.contrib.django import enqueue

    with transaction.atomic():
        Order.objects.create(number=1)
        enqueue("MyApp.Mailer", {"order": 1}, queue="mailers")
        with pytest.raises(Rollback), transaction.atomic():  # a Django savepoint
            Order.objects.create(number=2)
            enqueue("MyApp.Mailer", {"order": 2}, queue="audit")
            raise Rollback
    assert seen(django_dsn) == {"orders": [1], "jobs": [("MyApp.Mailer", "mailers", {"order": 1})]}
    assert listener.drain() == [MAILERS]  # none for the 'audit' insert rolled back


def test_outside_atomic_the_job_commits_at_once(django_dsn: str, listener: Listener) -> None:
    from bridge.contrib.django import enqueue

    enqueue("MyApp.Mailer", {}, queue="mailers")  # Django's autocommit mode, like an ORM write
    assert seen(django_dsn)["jobs"] == [("MyApp.Mailer", "mailers", {})]
    assert listener.drain() == [MAILERS]


def test_oban_migration_up_down_and_sqlmigrate(django_empty_dsn: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    from bridge.contrib.django import ObanMigration

    assert bridge.check_schema(django_empty_dsn).version == 14  # made by the app's 0001 migration
    call_command("migrate", "django_orders", "zero", verbosity=0)
    assert bridge.check_schema(django_empty_dsn).version == 0
    with psycopg.connect(django_empty_dsn) as conn:
        assert conn.execute("SELECT to_regclass('orders')").fetchone() == (None,)

    bridge.migrate(django_empty_dsn, version=12)  # a cluster at V12, upgraded by a later migration
    upgrade = ObanMigration(version=14, previous=12)
    with connection.schema_editor() as editor:
        upgrade.database_forwards("django_orders", editor, None, None)
    assert bridge.check_schema(django_empty_dsn).version == 14
    with connection.schema_editor() as editor:
        upgrade.database_backwards("django_orders", editor, None, None)
    assert bridge.check_schema(django_empty_dsn).version == 12
    assert upgrade.describe() == "Oban schema 'public' to V14 (back to V12)"
    assert upgrade.deconstruct() == ("ObanMigration", (), {"version": 14, "previous": 12})

    out = StringIO()
    call_command("sqlmigrate", "django_orders", "0001", stdout=out)
    assert "-- Oban schema 'public' to V14 (back to V00)" in out.getvalue()
    assert bridge.check_schema(django_empty_dsn).version == 12  # sqlmigrate only prints


def test_dsn_is_djangos_default_database(django_dsn: str) -> None:
    from bridge.contrib.django import dsn

    with psycopg.connect(dsn()) as conn:
        assert conn.info.dbname == conninfo_to_dict(django_dsn)["dbname"]


def test_migration_versions_are_checked(django_settings: Any) -> None:
    from bridge.contrib.django import ObanMigration

    for version, previous in ((14, 14), (15, 0), (12, -1)):
        with pytest.raises(ConfigError, match="previous < version"):
            ObanMigration(version=version, previous=previous)


def test_other_databases_and_psycopg2_are_config_errors(django_settings: Any) -> None:
    from bridge.contrib.django import psycopg_connection

    sqlite = SimpleNamespace(vendor="sqlite", alias="default")
    with pytest.raises(ConfigError, match="is sqlite; oban-bridge needs PostgreSQL"):
        psycopg_connection(sqlite)
    psycopg2_conn = type("connection", (), {"__module__": "psycopg2.extensions"})()
    psycopg2 = SimpleNamespace(
        vendor="postgresql",
        alias="default",
        ensure_connection=lambda: None,
        connection=psycopg2_conn,
    )
    with pytest.raises(ConfigError, match="runs on psycopg2, and oban-bridge needs psycopg 3"):
        psycopg_connection(psycopg2)
