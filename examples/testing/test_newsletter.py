"""The app's tests, written with bridge.testing and its pytest fixtures (no node, no Elixir).

``oban_bridge_dsn`` is a fresh database at the latest Oban schema for each test;
``oban_bridge_client`` a Client on it.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from newsletter import SCHEMA, digest, send_welcome, subscribe

from bridge import Client, set_default_client
from bridge.testing import ANY, assert_enqueued, drain_queue, perform_job, refute_enqueued


@pytest.fixture
def app_dsn(oban_bridge_dsn: str) -> str:
    with psycopg.connect(oban_bridge_dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)
    return oban_bridge_dsn


@pytest.fixture
def client(app_dsn: str) -> Iterator[Client]:
    with Client(app_dsn) as client:
        set_default_client(client)
        yield client


def test_subscribe_enqueues_inside_the_callers_transaction(app_dsn: str) -> None:
    with psycopg.connect(app_dsn) as conn:
        subscribe(conn, "ada@example.com")
        # the same connection sees its own uncommitted jobs; nobody else does yet
        assert_enqueued(conn, worker=send_welcome, args={"email": "ada@example.com"})
        assert_enqueued(conn, worker="MyApp.Workers.CrmSync", queue="crm", args={"email": ANY})
        refute_enqueued(app_dsn, worker=send_welcome)
        conn.rollback()
        refute_enqueued(conn, worker=send_welcome)


def test_welcome_outcomes() -> None:
    sent = perform_job(send_welcome, {"email": "ada@example.com"})
    assert sent.state == "completed" and sent.recorded == {"sent_to": "ada@example.com"}
    assert perform_job(send_welcome, {"email": "nope"}).state == "cancelled"
    assert perform_job(send_welcome, {"email": "x@greylisted.example"}).status == "snoozed"
    with pytest.raises(ConnectionError):
        perform_job(send_welcome, {"email": "x@down.example"})
    failed = perform_job(send_welcome, {"email": "x@down.example"}, with_safety=True)
    assert failed.state == "retryable" and "(ConnectionError) SMTP server down" in failed.error
    last = perform_job(send_welcome, {"email": "x@down.example"}, attempt=3, with_safety=True)
    assert last.state == "discarded"


def test_drain_runs_python_jobs_and_leaves_elixir_ones(client: Client, app_dsn: str) -> None:
    with psycopg.connect(app_dsn) as conn:
        subscribe(conn, "ada@example.com")
        subscribe(conn, "bob@down.example")
    counts = drain_queue(client, "newsletter_mail")
    assert counts == {"cancelled": 0, "discard": 0, "failure": 1, "snoozed": 0, "success": 1}
    assert client.count_jobs(worker=send_welcome.name, state="completed") == 1
    assert client.count_jobs(worker=send_welcome.name, state="retryable") == 1  # backing off
    assert_enqueued(client, worker="MyApp.Workers.CrmSync", queue="crm")


def test_drain_with_recursion_runs_what_jobs_enqueue(client: Client) -> None:
    digest.enqueue({"emails": ["a@example.com", "b@example.com"]}, client=client)
    counts = drain_queue(client, "newsletter_mail", with_recursion=True)
    assert counts["success"] == 3
    refute_enqueued(client, queue="newsletter_mail")
