"""``oban-bridge enqueue WORKER``: insert one job, exactly as ``Oban.insert/2`` would."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli import add_dsn
from bridge.cli._common import add_schema_version, client, job_json, json_object
from bridge.errors import ConfigError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "enqueue",
        help="insert a job for a worker (Elixir module name or any worker string)",
        description="Insert one job exactly as Oban.insert/2 would, and wake the queue's "
        "producers. Prints the new job's id (or its row with --json).",
    )
    parser.add_argument("worker", help='worker string, e.g. "MyApp.Workers.Mailer"')
    parser.add_argument(
        "--args",
        default="{}",
        metavar="JSON|@FILE|-",
        help="job args: a JSON object, @FILE to read it from a file, - from stdin",
    )
    parser.add_argument("--queue", default="default", help="queue name (default: default)")
    parser.add_argument(
        "--priority", type=int, default=None, help="0 (runs first) to 9 (default: 0)"
    )
    parser.add_argument(
        "--max-attempts", type=int, default=20, help="attempts before discarding (default: 20)"
    )
    parser.add_argument("--tags", default="", help="comma-separated tags, e.g. a,b")
    parser.add_argument(
        "--meta",
        default="{}",
        metavar="JSON|@FILE|-",
        help="job meta: a JSON object, @FILE or - (stdin), like --args",
    )
    parser.add_argument(
        "--schedule-in",
        type=int,
        default=None,
        metavar="SECONDS",
        help="run no earlier than this many seconds from now",
    )
    parser.add_argument("--json", action="store_true", help="print the inserted row as JSON")
    add_dsn(parser)
    add_schema_version(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.args == args.meta == "-":
        raise ConfigError("--args and --meta cannot both read stdin; use @FILE for one of them")
    job_args = json_object(args.args, "--args")
    meta = json_object(args.meta, "--meta")
    tags = [t for t in args.tags.split(",")] if args.tags else []
    with client(args) as c:
        job = c.enqueue(
            args.worker,
            job_args,
            queue=args.queue,
            priority=args.priority,
            max_attempts=args.max_attempts,
            tags=tags,
            meta=meta,
            schedule_in=args.schedule_in,
        )
    print(job_json(job) if args.json else job.id)
    return 0
