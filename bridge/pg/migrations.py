"""The public migration API: ``migrate`` / ``check_schema`` and their async twins.

Python-first teams migrate from their own deploy code with the very steps
``oban-bridge migrate`` runs (and Elixir's ``Oban.Migration`` would): all of them in one
transaction, the version recorded as the table comment.
"""

from __future__ import annotations

from bridge.ops import schema
from bridge.ops.schema import CURRENT_VERSION, MigrateResult, SchemaReport
from bridge.pg.source import AsyncInput, AsyncSource, Source, SyncInput


def _source(source: SyncInput | Source, prefix: str) -> Source:
    if isinstance(source, Source):
        return source
    return Source(source, prefix=prefix, schema_version=None)


def _asource(source: AsyncInput | AsyncSource, prefix: str) -> AsyncSource:
    if isinstance(source, AsyncSource):
        return source
    return AsyncSource(source, prefix=prefix, schema_version=None)


def migrate(
    source: SyncInput | Source,
    *,
    version: int = CURRENT_VERSION,
    prefix: str = "public",
    unlogged: bool = True,
) -> MigrateResult:
    """Move ``prefix`` to ``version`` (up or down) in one transaction; a no-op when there."""
    runner = _source(source, prefix)
    try:
        return runner.run(schema.migrate(runner.prefix, version, unlogged=unlogged))
    finally:
        if runner is not source:
            runner.close()


def check_schema(
    source: SyncInput | Source, *, version: int = CURRENT_VERSION, prefix: str = "public"
) -> SchemaReport:
    """The recorded version and every known schema variant; changes nothing."""
    runner = _source(source, prefix)
    try:
        return runner.run(schema.check(runner.prefix, version))
    finally:
        if runner is not source:
            runner.close()


async def migrate_async(
    source: AsyncInput | AsyncSource,
    *,
    version: int = CURRENT_VERSION,
    prefix: str = "public",
    unlogged: bool = True,
) -> MigrateResult:
    """Async twin of :func:`migrate`."""
    runner = _asource(source, prefix)
    try:
        return await runner.run(schema.migrate(runner.prefix, version, unlogged=unlogged))
    finally:
        if runner is not source:
            await runner.close()


async def check_schema_async(
    source: AsyncInput | AsyncSource, *, version: int = CURRENT_VERSION, prefix: str = "public"
) -> SchemaReport:
    """Async twin of :func:`check_schema`."""
    runner = _asource(source, prefix)
    try:
        return await runner.run(schema.check(runner.prefix, version))
    finally:
        if runner is not source:
            await runner.close()
