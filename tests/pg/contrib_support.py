"""Shared by the framework tests: a LISTEN session and a look from outside the transaction."""

from __future__ import annotations

from typing import Any

import psycopg

INSERTED = "public.oban_insert"


class Listener:
    """A separate session LISTENing on the insert channel, like an Elixir producer."""

    def __init__(self, dsn: str):
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f'LISTEN "{INSERTED}"')

    def drain(self, timeout: float = 0.3) -> list[tuple[str, str]]:
        return [(n.channel, n.payload) for n in self.conn.notifies(timeout=timeout, stop_after=20)]

    def close(self) -> None:
        self.conn.close()


def seen(dsn: str) -> dict[str, Any]:
    """What another session sees committed: order numbers and (worker, queue, args) of jobs."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        orders = [n for (n,) in conn.execute("SELECT number FROM orders ORDER BY number")]
        jobs = conn.execute("SELECT worker, queue, args FROM oban_jobs ORDER BY id").fetchall()
    return {"orders": orders, "jobs": jobs}
