"""``all_enqueued`` / ``assert_enqueued`` / ``refute_enqueued`` (Oban.Testing's, over a client,
a DSN, or the caller's own psycopg connection — uncommitted rows of its transaction included),
and their asyncio twins over an ``AsyncClient`` or ``AsyncConnection``.
"""

from __future__ import annotations

import asyncio
import contextlib
import pprint
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import psycopg

from bridge.errors import ValidationError
from bridge.ops.testing import list_enqueued
from bridge.pg.client import Client
from bridge.pg.client_async import AsyncClient
from bridge.runtime.worker import Worker
from bridge.testing._match import Match, describe, select
from bridge.wire.job import Job
from bridge.wire.wait import check_timeout

Target = Client | psycopg.Connection[Any] | str
AsyncTarget = AsyncClient | psycopg.AsyncConnection[Any] | str

WAIT_INTERVAL = 0.010  # seconds, mirrors lib/oban/testing.ex @wait_interval 10 (ms)


def _fields(fields: Mapping[str, Any], name: str) -> Match:
    if not fields:
        # mirrors lib/oban/testing.ex: assert_enqueued([_ | _] = opts) — no empty selection
        raise ValidationError("fields", f"{name} needs at least one field to match")
    return select(fields)


def _prefix(client: Client | AsyncClient, prefix: str | None) -> None:
    if prefix is not None and prefix != client.prefix:
        raise ValidationError("prefix", f"the client's prefix is {client.prefix!r}")


def _shown(fields: Mapping[str, Any]) -> str:
    plain = {k: v.name if isinstance(v, Worker) else v for k, v in fields.items()}
    return pprint.pformat(plain, sort_dicts=False)


def _jobs(jobs: list[Job], fields: Mapping[str, Any]) -> str:
    return pprint.pformat([describe(job, fields) for job in jobs], sort_dicts=False)


def _missing(fields: Mapping[str, Any], limit: float | None, others: list[Job]) -> AssertionError:
    head = f"Expected a job matching:\n\n{_shown(fields)}\n\nto be enqueued"
    if limit is not None:
        return AssertionError(f"{head} within {limit:g}s")
    # mirrors lib/oban/testing.ex assert_enqueued/1: "Instead found:" the enqueued jobs
    return AssertionError(f"{head}. Instead found:\n\n{_jobs(others, fields)}")


def _present(fields: Mapping[str, Any], limit: float | None, found: list[Job]) -> AssertionError:
    within = f" within {limit:g}s" if limit is not None else ""
    return AssertionError(
        f"Expected no jobs matching:\n\n{_shown(fields)}\n\nto be enqueued{within}. "
        f"Found:\n\n{_jobs(found, fields)}"
    )


# -- sync -------------------------------------------------------------------------------------


@contextlib.contextmanager
def client_for(target: Target, prefix: str | None = None) -> Iterator[Client]:
    """A client over ``target``: the one given, or one joining the caller's connection."""
    if isinstance(target, Client):
        _prefix(target, prefix)
        yield target
        return
    if not isinstance(target, (str, psycopg.Connection)):
        raise ValidationError("target", f"a Client, a psycopg Connection or a DSN, got {target!r}")
    client = Client(target, prefix=prefix or "public", check_schema=False)
    try:
        yield client
    finally:
        client.close()


def _find(client: Client, match: Match) -> list[Job]:
    jobs = client.source.run(list_enqueued(client.prefix, match.conditions))
    return [job for job in jobs if match.matches(job)]


def _wait_for(client: Client, match: Match, timeout: float | None) -> list[Job]:
    # mirrors lib/oban/testing.ex wait_for_job/3: look, sleep 10 ms, until the timeout
    deadline = time.monotonic() + (timeout or 0)
    while True:
        found = _find(client, match)
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(WAIT_INTERVAL)


def all_enqueued(target: Target, /, *, prefix: str | None = None, **fields: Any) -> list[Job]:
    """Every enqueued job (available, scheduled, suspended) matching ``fields``, newest first.

    ``all_enqueued(client)`` lists them all; ``args``/``meta`` match as subsets.
    """
    match = select(fields)
    with client_for(target, prefix) as client:
        return _find(client, match)


def assert_enqueued(
    target: Target, /, *, timeout: float | None = None, prefix: str | None = None, **fields: Any
) -> Job:
    """Fail unless a job matching ``fields`` is enqueued (or is within ``timeout`` seconds;
    Oban's timeout is in ms). Returns the newest matching job.

    Fields: ``worker`` (a name or a ``@worker``), ``queue``, ``state``, ``priority``,
    ``attempt``, ``max_attempts``, ``tags``, ``id``, ``attempted_by``, ``errors``, ``args`` and
    ``meta`` (subsets; ``ANY`` for a key with any value), and the ``*_at`` timestamps (within
    1 s, or ``(time, delta_seconds)``).
    """
    match, limit = _fields(fields, "assert_enqueued"), check_timeout(timeout)
    with client_for(target, prefix) as client:
        found = _wait_for(client, match, limit)
        if found:
            return found[0]
        raise _missing(fields, limit, [] if limit is not None else _find(client, select({})))


def refute_enqueued(
    target: Target, /, *, timeout: float | None = None, prefix: str | None = None, **fields: Any
) -> None:
    """Fail if a job matching ``fields`` is enqueued (or becomes so within ``timeout`` s)."""
    match, limit = _fields(fields, "refute_enqueued"), check_timeout(timeout)
    with client_for(target, prefix) as client:
        found = _wait_for(client, match, limit)
    if found:
        raise _present(fields, limit, found)


# -- asyncio ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def aclient_for(target: AsyncTarget, prefix: str | None = None) -> AsyncIterator[AsyncClient]:
    """The async twin of :func:`client_for`."""
    if isinstance(target, AsyncClient):
        _prefix(target, prefix)
        yield target
        return
    if not isinstance(target, (str, psycopg.AsyncConnection)):
        raise ValidationError(
            "target", f"an AsyncClient, a psycopg AsyncConnection or a DSN, got {target!r}"
        )
    client = AsyncClient(target, prefix=prefix or "public", check_schema=False)
    try:
        yield client
    finally:
        await client.close()


async def _afind(client: AsyncClient, match: Match) -> list[Job]:
    jobs = await client.source.run(list_enqueued(client.prefix, match.conditions))
    return [job for job in jobs if match.matches(job)]


async def _await_for(client: AsyncClient, match: Match, timeout: float | None) -> list[Job]:
    deadline = time.monotonic() + (timeout or 0)
    while True:
        found = await _afind(client, match)
        if found or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(WAIT_INTERVAL)


async def all_enqueued_async(
    target: AsyncTarget, /, *, prefix: str | None = None, **fields: Any
) -> list[Job]:
    """:func:`all_enqueued` for asyncio code."""
    match = select(fields)
    async with aclient_for(target, prefix) as client:
        return await _afind(client, match)


async def assert_enqueued_async(
    target: AsyncTarget,
    /,
    *,
    timeout: float | None = None,
    prefix: str | None = None,
    **fields: Any,
) -> Job:
    """:func:`assert_enqueued` for asyncio code (an ``AsyncConnection`` sees its transaction)."""
    match, limit = _fields(fields, "assert_enqueued"), check_timeout(timeout)
    async with aclient_for(target, prefix) as client:
        found = await _await_for(client, match, limit)
        if found:
            return found[0]
        others = [] if limit is not None else await _afind(client, select({}))
        raise _missing(fields, limit, others)


async def refute_enqueued_async(
    target: AsyncTarget,
    /,
    *,
    timeout: float | None = None,
    prefix: str | None = None,
    **fields: Any,
) -> None:
    """:func:`refute_enqueued` for asyncio code."""
    match, limit = _fields(fields, "refute_enqueued"), check_timeout(timeout)
    async with aclient_for(target, prefix) as client:
        found = await _await_for(client, match, limit)
    if found:
        raise _present(fields, limit, found)
