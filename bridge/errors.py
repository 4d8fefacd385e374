"""The one exception tree of oban-bridge.

Every error the library raises on purpose is a ``BridgeError``. The pure core
(``bridge.wire``) raises only ``WireError`` subclasses: ``EncodeError`` when the
caller's own value cannot be represented, ``DecodeError`` when bytes that came
from the other side are malformed. Anything else escaping ``bridge.wire`` is a
bug.
"""

from __future__ import annotations

from bridge.names import SCHEMA_VERSIONS


class BridgeError(Exception):
    """Something oban-bridge refused to do."""


class ConfigError(BridgeError):
    """The library was given an unusable setting (DSN, prefix, option)."""


class WireError(BridgeError):
    """A wire value could not be encoded or decoded."""


class EncodeError(WireError):
    """The caller's value cannot be represented on the wire."""


class DecodeError(WireError):
    """Bytes from the peer are malformed.

    ``offset`` is the byte position where decoding stopped and ``tag`` the tag
    being decoded there (both ``None`` when they do not apply).
    """

    def __init__(self, message: str, *, offset: int | None = None, tag: int | None = None):
        where = []
        if offset is not None:
            where.append(f"offset {offset}")
        if tag is not None:
            where.append(f"tag {tag}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.reason = message
        self.offset = offset
        self.tag = tag


class ValidationError(EncodeError):
    """A job fails Oban's changeset rules; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RecordedMissing(BridgeError):
    """The job carries no recorded return value."""


class RecordTooLarge(EncodeError):
    """A recorded value's encoded text exceeds the configured limit."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"recorded value is {size} characters encoded, over the limit of {limit}")
        self.size = size
        self.limit = limit


class SchemaError(BridgeError):
    """The database schema is not what the operation needs."""


class SchemaMissing(SchemaError):
    """The Oban tables do not exist under the prefix (run ``oban-bridge migrate``)."""


class SchemaOutdated(SchemaError):
    """The schema is migrated, but to another version than the one required."""

    def __init__(self, found: int, required: int, prefix: str = "public"):
        super().__init__(
            f"oban_jobs in schema {prefix!r} is at migration version {found}, "
            f"version {required} is required. {_outdated_advice(found, required, prefix)}"
        )
        self.found = found
        self.required = required


def _outdated_advice(found: int, required: int, prefix: str) -> str:
    """Both ways out: never only "migrate", which would upgrade a cluster that must stay."""
    where = "" if prefix == "public" else f" --prefix {prefix}"
    migrate = f"`oban-bridge migrate --version {required}{where}`"
    if found in SCHEMA_VERSIONS:
        stay = " (Elixir nodes on Oban ≤ 2.19 need V12)" if found == 12 else ""
        return (
            f"To use it as it is{stay}, pass --schema-version {found} "
            f"(schema_version={found} in Python); once every Elixir node runs Oban ≥ 2.20, "
            f"you may instead migrate: {migrate}"
        )
    return (
        f"Migrate it: to V12 (`oban-bridge migrate --version 12{where}`) while any Elixir node "
        f"runs Oban ≤ 2.19, else {migrate}"
    )


class SchemaManagedExternally(SchemaError):
    """The table comment is '∞': another tool (Oban Pro's partitioner) owns migrations."""


class DatabaseError(BridgeError):
    """PostgreSQL refused a statement; ``sqlstate`` carries its error code."""

    def __init__(self, message: str, *, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


class JobNotFound(BridgeError):
    """No job has that id."""


class NotifierError(BridgeError):
    """A notification could not be sent (e.g. over PostgreSQL's 8000-byte cap)."""


class PayloadTooLarge(EncodeError, NotifierError):
    """A NOTIFY payload would reach PostgreSQL's 8000-byte cap; raised before any I/O.

    Both an ``EncodeError`` (the pure core refuses the value) and a ``NotifierError``
    (what callers catching a failed notification already expect).
    """

    def __init__(self, size: int, limit: int):
        super().__init__(f"notification payload is {size} bytes, over the limit of {limit}")
        self.size = size
        self.limit = limit


class SchemaViolation(DecodeError):
    """A wire value does not match its JSON Schema (``schema/messages/<schema>.json``).

    ``errors`` holds ``(path, message)`` pairs, ``path`` a JSON path such as
    ``$.errors[0].at``; the message lists every one of them.
    """

    def __init__(self, schema: str, errors: list[tuple[str, str]] | tuple[tuple[str, str], ...]):
        self.schema = schema
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)
        count = len(self.errors)
        lines = "; ".join(f"{path}: {message}" for path, message in self.errors)
        noun = "violation" if count == 1 else "violations"
        super().__init__(f"{schema}: {count} schema {noun}: {lines}" if count else schema)


class WaitTimeout(BridgeError, TimeoutError):
    """``wait`` gave up before the job reached a final state; names the job and its last state.

    Also a ``TimeoutError``, so ``except TimeoutError`` catches it.
    """

    def __init__(self, job_id: int, state: str, timeout: float):
        super().__init__(f"job {job_id} did not finish within {timeout:g}s (last state: {state})")
        self.job_id = job_id
        self.state = state
        self.timeout = timeout
