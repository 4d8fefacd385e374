"""The fault tier: real node subprocesses killed, signalled and cut off from PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from fault_support import RUNS_DDL


@pytest.fixture
def fault_dsn(dsn: str) -> str:
    """A fresh V14 database with the ``fault_runs`` side table."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(RUNS_DDL)
    return dsn
