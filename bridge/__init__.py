"""oban-bridge: share one PostgreSQL database with Elixir Oban nodes as an equal.

The public API is re-exported here once; everything else is internal.
"""

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
from bridge.pg.client import Client
from bridge.pg.client_async import AsyncClient
from bridge.wire.job import Job, JobState, NewJob
from bridge.wire.unique import Unique

__version__ = "0.1.0"

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
