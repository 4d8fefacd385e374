"""Fixtures for the schema tests (helpers live in ``catalog.py`` beside this file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from catalog import run_migrations


@pytest.fixture
def migrated(db_factory: Any) -> Callable[..., str]:
    """``migrated(14)`` / ``migrated(12, 14, prefix=…)``: a new database taken through versions."""

    def make(*versions: int, prefix: str = "public", **kw: Any) -> str:
        dsn: str = db_factory.create()
        run_migrations(dsn, versions, prefix, **kw)
        return dsn

    return make
