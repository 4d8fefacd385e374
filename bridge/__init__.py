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
    RecordedMissing,
    RecordTooLarge,
    SchemaError,
    SchemaManagedExternally,
    SchemaMissing,
    SchemaOutdated,
    ValidationError,
    WireError,
)
from bridge.wire.job import Job, NewJob
from bridge.wire.names import JobState
from bridge.wire.unique import Unique

if TYPE_CHECKING:
    from bridge.pg.client import Client
    from bridge.pg.client_async import AsyncClient

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Client":
        from bridge.pg.client import Client

        return Client
    if name == "AsyncClient":
        from bridge.pg.client_async import AsyncClient

        return AsyncClient
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")


__all__ = [
    "AsyncClient",
    "BridgeError",
    "Client",
    "ConfigError",
    "DatabaseError",
    "DecodeError",
    "EncodeError",
    "Job",
    "JobNotFound",
    "JobState",
    "NewJob",
    "NotifierError",
    "RecordTooLarge",
    "RecordedMissing",
    "SchemaError",
    "SchemaManagedExternally",
    "SchemaMissing",
    "SchemaOutdated",
    "Unique",
    "ValidationError",
    "WireError",
    "__version__",
]
