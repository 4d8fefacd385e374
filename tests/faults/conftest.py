"""The fault tier: real node subprocesses killed, signalled and cut off from PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fault_support import MONITOR_APP, RUNS_DDL
from psycopg.conninfo import make_conninfo

from bridge import Client


@pytest.fixture
def fault_dsn(dsn: str) -> str:
    """A fresh V14 database with the ``fault_runs`` side table."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(RUNS_DDL)
    return dsn


@pytest.fixture
def conn(fault_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """The test's own connection (never terminated by the tests that cut connections)."""
    with psycopg.connect(fault_dsn, autocommit=True, application_name=MONITOR_APP) as monitor:
        yield monitor


@pytest.fixture
def client(fault_dsn: str) -> Iterator[Client]:
    with Client(make_conninfo(fault_dsn, application_name=MONITOR_APP)) as owned:
        yield owned
