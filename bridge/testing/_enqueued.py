"""``all_enqueued`` / ``assert_enqueued`` / ``refute_enqueued`` (Oban.Testing's, over a client,
a DSN, or the caller's own psycopg connection — uncommitted rows of its transaction included).
"""

from __future__ import annotations

import contextlib
import pprint
import time
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from bridge.errors import ValidationError
from bridge.ops.testing import list_enqueued
from bridge.pg.client import Client
from bridge.runtime.worker import Worker
from bridge.testing._match import Match, describe, select
from bridge.wire.job import Job

Target = Client | psycopg.Connection[Any] | str

WAIT_INTERVAL = 0.010  # seconds, mirrors lib/oban/testing.ex @wait_interval 10 (ms)


@contextlib.contextmanager
def client_for(target: Target, prefix: str | None = None) -> Iterator[Client]:
    """A client over ``target``: the one given, or one joining the caller's connection."""
    if isinstance(target, Client):
        if prefix is not None and prefix != target.prefix:
            raise ValidationError("prefix", f"the client's prefix is {target.prefix!r}")
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


def _fields(fields: Mapping[str, Any], name: str) -> Match:
    if not fields:
        # mirrors lib/oban/testing.ex: assert_enqueued([_ | _] = opts) — no empty selection
        raise ValidationError("fields", f"{name} needs at least one field to match")
    return select(fields)


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError("timeout", f"must be a positive number of seconds, got {value!r}")
    return float(value)


def _shown(fields: Mapping[str, Any]) -> str:
    plain = {k: v.name if isinstance(v, Worker) else v for k, v in fields.items()}
    return pprint.pformat(plain, sort_dicts=False)


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
    match, limit = _fields(fields, "assert_enqueued"), _timeout(timeout)
    with client_for(target, prefix) as client:
        found = _wait_for(client, match, limit)
        if found:
            return found[0]
        if limit is not None:
            raise AssertionError(
                f"Expected a job matching:\n\n{_shown(fields)}\n\nto be enqueued within {limit:g}s"
            )
        # mirrors lib/oban/testing.ex assert_enqueued/1: "Instead found:" the enqueued jobs
        others = [describe(job, fields) for job in _find(client, select({}))]
        raise AssertionError(
            f"Expected a job matching:\n\n{_shown(fields)}\n\n"
            f"to be enqueued. Instead found:\n\n{pprint.pformat(others, sort_dicts=False)}"
        )


def refute_enqueued(
    target: Target, /, *, timeout: float | None = None, prefix: str | None = None, **fields: Any
) -> None:
    """Fail if a job matching ``fields`` is enqueued (or becomes so within ``timeout`` s)."""
    match, limit = _fields(fields, "refute_enqueued"), _timeout(timeout)
    with client_for(target, prefix) as client:
        found = _wait_for(client, match, limit)
    if found:
        within = f" within {limit:g}s" if limit is not None else ""
        raise AssertionError(
            f"Expected no jobs matching:\n\n{_shown(fields)}\n\nto be enqueued{within}. "
            f"Found:\n\n{pprint.pformat([describe(j, fields) for j in found], sort_dicts=False)}"
        )
