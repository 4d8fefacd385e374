"""Insert notifications: Elixir's exact payloads, delivered only at commit, never for
scheduled jobs or rolled-back transactions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge import Client, Job

pytestmark = pytest.mark.pg

FIXTURE = Path(__file__).parents[1] / "fixtures" / "notify" / "oban-2.23.1.json"


class Listener:
    """A separate session LISTENing on the insert channel, like an Elixir producer."""

    def __init__(self, dsn: str, channel: str = "public.oban_insert"):
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f'LISTEN "{channel}"')

    def drain(self, timeout: float = 0.3) -> list[tuple[str, str]]:
        got = [(n.channel, n.payload) for n in self.conn.notifies(timeout=timeout, stop_after=50)]
        return got

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def listener(dsn: str) -> Any:
    lst = Listener(dsn)
    yield lst
    lst.close()


def test_payloads_are_exactly_elixirs(dsn: str, listener: Listener) -> None:
    steps = json.loads(FIXTURE.read_text())["steps"]
    with Client(dsn) as client:
        client.enqueue("MyApp.W", {"n": 1}, queue="alpha")
        single = listener.drain()
        client.insert_all(
            [
                Job.new("MyApp.W", {"n": 2}, queue="alpha"),
                Job.new("MyApp.W", {"n": 3}, queue="alpha"),
                Job.new("MyApp.W", {"n": 4}, queue="omega"),
            ]
        )
        many = listener.drain()
    expected = {
        name: [(w["channel"], w["payload"]) for w in steps[name]["wire"]]
        for name in ("insert_single", "insert_all")
    }
    assert single == expected["insert_single"]
    assert many == expected["insert_all"]


def test_delivered_only_after_commit(dsn: str, listener: Listener) -> None:
    with psycopg.connect(dsn) as conn:  # the caller's connection, not autocommit
        client = Client(conn)
        job = client.enqueue("MyApp.W", {}, queue="alpha")
        assert listener.drain() == []  # nothing before commit
        other = psycopg.connect(dsn, autocommit=True)
        seen = other.execute("SELECT count(*) FROM oban_jobs WHERE id = %s", (job.id,))
        assert seen.fetchone() == (0,)  # nor is the row visible
        conn.commit()
        assert listener.drain() == [("public.oban_insert", '{"queue":"alpha"}')]
        other.close()


def test_scheduled_jobs_send_nothing(dsn: str, listener: Listener) -> None:
    with Client(dsn) as client:
        client.enqueue("MyApp.W", {}, queue="alpha", schedule_in=60)
        client.insert_all([Job.new("MyApp.W", {}, queue="beta", schedule_in=5)])
    assert listener.drain() == []


def test_rollback_sends_nothing_and_writes_nothing(dsn: str, listener: Listener) -> None:
    with psycopg.connect(dsn) as conn:
        with conn.transaction(force_rollback=True):
            client = Client(conn)
            client.enqueue("MyApp.W", {}, queue="alpha")
            client.insert_all([Job.new("MyApp.W", {}, queue="beta")])
        conn.commit()
        assert conn.execute("SELECT count(*) FROM oban_jobs").fetchone() == (0,)
    assert listener.drain() == []
