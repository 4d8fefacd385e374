"""``oban-bridge enqueue WORKER``: insert one job, exactly as ``Oban.insert/2`` would."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bridge.cli import add_dsn
from bridge.cli._common import add_schema_version, client, job_json, json_object
from bridge.errors import ConfigError
from bridge.names import STATES
from bridge.wire.unique import REPLACE_FIELDS, ReplaceOption


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
    parser.add_argument(
        "--unique",
        nargs="?",
        const="true",
        default=None,
        metavar="JSON|@FILE",
        help="insert only if no matching job exists, else return that job: alone, any time "
        "(Oban's unique: true); or options as a JSON object, e.g. "
        '\'{"period": 300, "keys": ["email"], "states": "incomplete"}\'',
    )
    parser.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="[STATE=]FIELD[,FIELD]",
        help="on a unique conflict, overwrite these fields of the existing job with this "
        "job's: FIELD,... in every state, or STATE=FIELD,... for jobs in that state "
        "(repeat for several states), e.g. --replace scheduled=scheduled_at,args. "
        f"Fields: {', '.join(REPLACE_FIELDS)}; states: {', '.join(STATES)}",
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
    unique = _unique(args.unique)
    replace = _replace(args.replace)
    if replace is not None and unique is None:
        raise ConfigError("--replace acts only on a unique conflict: add --unique")
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
            unique=unique,
            replace=replace,
        )
    if job.conflict:
        print(f"unique conflict: job {job.id} ({job.state}) already existed", file=sys.stderr)
    print(job_json(job) if args.json else job.id)
    return 0


def _unique(value: str | None) -> bool | dict[str, Any] | None:
    if value is None:
        return None
    return True if value == "true" else json_object(value, "--unique")


def _replace(values: list[str]) -> ReplaceOption:
    """``FIELD,…`` (every state) or repeated ``STATE=FIELD,…``, as Job.new's replace option."""
    if not values:
        return None
    per_state = [v for v in values if "=" in v]
    if per_state and len(per_state) != len(values):
        raise ConfigError("--replace: give FIELD,... (every state) or STATE=FIELD,..., not both")
    if not per_state:
        return [f for v in values for f in _fields(v)]
    replace: dict[str, list[str]] = {}
    for value in per_state:
        state, _, fields = value.partition("=")
        replace.setdefault(state.strip(), []).extend(_fields(fields))
    return replace


def _fields(text: str) -> list[str]:
    return [f.strip() for f in text.split(",") if f.strip()]
