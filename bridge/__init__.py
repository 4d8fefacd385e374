"""oban-bridge: share one PostgreSQL database with Elixir Oban nodes as an equal.

The public API is re-exported here once; everything else is internal. The
clients are loaded lazily, so importing the pure core (``bridge.wire``,
``bridge.ops``) never pulls in psycopg.
"""

from typing import TYPE_CHECKING, Any

from bridge.errors import (
    BridgeError,
    ConfigError,
    DatabaseError,
    DecodeError,
    EncodeError,
    JobNotFound,
    NotifierError,
    PayloadTooLarge,
    RecordedMissing,
    RecordTooLarge,
    SchemaError,
    SchemaManagedExternally,
    SchemaMissing,
    SchemaOutdated,
    ValidationError,
    WaitTimeout,
    WireError,
)
from bridge.names import JobState
from bridge.runtime.worker import Worker, set_default_client, worker
from bridge.wire.job import Job, NewJob
from bridge.wire.outcome import Cancel, Discard, Record, Snooze
from bridge.wire.unique import Unique
from bridge.wire.wait import Finished

if TYPE_CHECKING:
    from bridge.pg.client import Client
    from bridge.pg.client_async import AsyncClient
    from bridge.pg.migrations import check_schema, check_schema_async, migrate, migrate_async
    from bridge.pg.source import AsyncSource, Source
    from bridge.runtime.node import Node

__version__ = "0.1.0"


#: names loaded on first use, so ``import bridge`` (and the pure core) never pulls in psycopg
_LAZY = {
    "Client": "bridge.pg.client",
    "AsyncClient": "bridge.pg.client_async",
    "Source": "bridge.pg.source",
    "AsyncSource": "bridge.pg.source",
    "migrate": "bridge.pg.migrations",
    "migrate_async": "bridge.pg.migrations",
    "check_schema": "bridge.pg.migrations",
    "check_schema_async": "bridge.pg.migrations",
    "Node": "bridge.runtime.node",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AsyncClient",
    "AsyncSource",
    "BridgeError",
    "Cancel",
    "Client",
    "ConfigError",
    "DatabaseError",
    "DecodeError",
    "Discard",
    "EncodeError",
    "Finished",
    "Job",
    "JobNotFound",
    "JobState",
    "NewJob",
    "Node",
    "NotifierError",
    "PayloadTooLarge",
    "Record",
    "RecordTooLarge",
    "RecordedMissing",
    "SchemaError",
    "SchemaManagedExternally",
    "SchemaMissing",
    "SchemaOutdated",
    "Snooze",
    "Source",
    "Unique",
    "ValidationError",
    "WaitTimeout",
    "WireError",
    "Worker",
    "__version__",
    "check_schema",
    "check_schema_async",
    "migrate",
    "migrate_async",
    "set_default_client",
    "worker",
]
