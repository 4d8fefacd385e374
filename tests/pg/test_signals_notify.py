"""Signals sent by Client and AsyncClient: a LISTENing session (like an Elixir node) receives
exactly Oban's payloads, at commit, and nothing for a refused signal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bridge import AsyncClient, Client, PayloadTooLarge, ValidationError
from bridge.wire import notify

pytestmark = pytest.mark.pg

STEPS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "signals.json").read_text()
)["versions"]["2.23.1"]


def _elixir(step: str) -> str:
    (wire,) = STEPS[step]["wire"]
    payload: str = wire["payload"]
    return payload


#: (method, args, kwargs, payload): Elixir 2.23.1's bytes for the calls it was recorded making
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("pause_queue", ("alpha",), {}, _elixir("pause_queue")),
    ("resume_queue", ("alpha",), {}, _elixir("resume_queue")),
    ("pause_all_queues", (), {}, _elixir("pause_all_queues")),
    ("resume_all_queues", (), {}, _elixir("resume_all_queues")),
    ("scale_queue", ("alpha", 5), {}, _elixir("scale_queue")),
    ("pause_queue", ("alpha",), {"node": "other-node"}, _elixir("pause_queue_node")),
    ("start_queue", ("beta", 1), {}, _elixir("start_queue")),
    ("stop_queue", ("beta",), {}, _elixir("stop_queue")),
    (
        "start_queue",
        ("beta", 2),
        {"paused": True, "node": "py-1", "instance": "MyApp.Oban"},
        '{"action":"start","ident":"MyApp.Oban.py-1","limit":2,"paused":true,"queue":"beta"}',
    ),
    (
        "resume_all_queues",
        (),
        {"node": "py-1"},
        '{"action":"resume","ident":"Oban.py-1","queue":"*"}',
    ),
]


class Listener:
    """A separate session LISTENing on the signal channel, as every Oban node does."""

    def __init__(self, dsn: str, channel: str = "public.oban_signal"):
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f'LISTEN "{channel}"')

    def drain(self, timeout: float = 0.3) -> list[tuple[str, str]]:
        return [(n.channel, n.payload) for n in self.conn.notifies(timeout=timeout, stop_after=50)]


@pytest.fixture
def listener(dsn: str) -> Iterator[Listener]:
    lst = Listener(dsn)
    yield lst
    lst.conn.close()


def test_client_sends_elixirs_payloads(dsn: str, listener: Listener) -> None:
    with Client(dsn) as client:
        for method, args, kwargs, expected in CALLS:
            assert getattr(client, method)(*args, **kwargs) is None
            assert listener.drain() == [("public.oban_signal", expected)], method


def test_async_client_sends_elixirs_payloads(dsn: str, listener: Listener) -> None:
    async def send_all() -> list[list[tuple[str, str]]]:
        got = []
        async with AsyncClient(dsn) as client:
            for method, args, kwargs, _ in CALLS:
                await getattr(client, method)(*args, **kwargs)
                got.append(listener.drain())
        return got

    received = asyncio.run(send_all())
    assert received == [[("public.oban_signal", expected)] for *_, expected in CALLS]


def test_compressed_only_when_configured(dsn: str, listener: Listener) -> None:
    node = "n" * 600  # a JSON of more than 512 bytes
    with Client(dsn, compress_signals=True) as client:
        client.pause_queue("alpha")  # small: plain even when configured
        client.pause_queue("alpha", node=node)
    with Client(dsn) as client:
        client.pause_queue("alpha", node=node)
    small, big, plain = (payload for _, payload in listener.drain())
    assert small == _elixir("pause_queue")
    assert big.startswith("Z:") and notify.decode_payload(big) == json.loads(plain)
    assert plain == notify.pause_message("alpha", node=node)


def test_refused_signals_never_reach_the_database() -> None:
    # a DSN nobody listens on: validation and the size check come before any connection
    client = Client("postgresql://nobody@127.0.0.1:1/none", check_schema=False)
    bad: list[Callable[[], Any]] = [
        lambda: client.scale_queue("alpha", 0),
        lambda: client.pause_queue(""),
        lambda: client.stop_queue("*"),
        lambda: client.start_queue("beta", 1, paused="no"),  # type: ignore[arg-type]
        lambda: client.pause_queue("alpha", node=""),
    ]
    for call in bad:
        with pytest.raises(ValidationError):
            call()
    with pytest.raises(PayloadTooLarge):
        client.pause_queue("alpha", node="n" * 8000)
    client.close()


def test_delivered_at_the_callers_commit_only(dsn: str, listener: Listener) -> None:
    with psycopg.connect(dsn) as conn:  # the caller's transaction
        Client(conn).pause_queue("alpha")
        assert listener.drain() == []
        conn.rollback()
        assert listener.drain() == []  # rolled back: no node ever hears it
        Client(conn).resume_queue("alpha")
        conn.commit()
        assert listener.drain() == [("public.oban_signal", notify.resume_message("alpha"))]


def test_sent_under_the_clients_prefix(migrated: Callable[..., str]) -> None:
    dsn = migrated(14, prefix="tenant_a")
    public, tenant = Listener(dsn), Listener(dsn, "tenant_a.oban_signal")
    with Client(dsn, prefix="tenant_a") as client:
        client.scale_queue("alpha", 3, node="py-1")
    expected = '{"action":"scale","ident":"Oban.py-1","limit":3,"queue":"alpha"}'
    assert tenant.drain() == [("tenant_a.oban_signal", expected)]
    assert public.drain(timeout=0.1) == []
    public.conn.close()
    tenant.conn.close()
