"""``oban-bridge work`` for a Django project, without manage.py: Django is set up from
``$DJANGO_SETTINGS_MODULE`` (or ``--django-settings``) before the worker modules are
imported, and the node runs on Django's default database when no DSN is given."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from bridge import Client

pytestmark = pytest.mark.pg

pytest.importorskip("django", reason="Django is not installed (pip install -e '.[dev]')")

WORKERS = """
from django.conf import settings
from django.db import connection

from bridge import Record, worker

GREETING = settings.GREETING  # ImproperlyConfigured unless Django was set up first


@worker("myworkers.greet", queue="django")
def greet(job):
    with connection.cursor() as cursor:  # the ORM's connection, in the worker's thread
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
    return Record({"greeting": GREETING, "database": database})
"""


def _project(tmp_path: Path, dsn: str) -> None:
    params = conninfo_to_dict(dsn)
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": params["dbname"],
        "USER": params.get("user", ""),
        "PASSWORD": params.get("password", ""),
        "HOST": params.get("host", ""),
        "PORT": params.get("port", ""),
    }
    settings = f"""
        DATABASES = {{"default": {database!r}}}
        INSTALLED_APPS = []
        USE_TZ = True
        GREETING = "hello from settings"
    """
    (tmp_path / "mysite_settings.py").write_text(textwrap.dedent(settings))
    (tmp_path / "myworkers.py").write_text(WORKERS)


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    return {**env, **extra}


def test_work_sets_django_up_and_runs_on_its_database(tmp_path: Path, dsn: str) -> None:
    _project(tmp_path, dsn)
    argv = ["work", "--queues", "django=2", "--import", "myworkers", "--node", "dj-1"]
    node = subprocess.Popen(
        [sys.executable, "-m", "bridge", *argv],
        cwd=tmp_path,
        env=_env(DJANGO_SETTINGS_MODULE="mysite_settings"),  # no --dsn, no DATABASE_URL
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with Client(dsn) as client:
            job = client.enqueue("myworkers.greet", {}, queue="django")
            done = client.wait(job, timeout=30)
    finally:
        node.send_signal(signal.SIGTERM)
        _, stderr = node.communicate(timeout=30)
    assert node.returncode == 0, stderr
    assert done.state == "completed"
    assert done.value == {
        "greeting": "hello from settings",
        "database": conninfo_to_dict(dsn)["dbname"],
    }


def test_unknown_settings_module_is_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bridge", "work", "--queues", "q=1", "--django-settings", "nope"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr == "oban-bridge: error: Django settings 'nope': No module named 'nope'\n"
