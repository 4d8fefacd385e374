"""``oban-bridge jobs``: list jobs, show one, or cancel / retry / delete one or many.

Exit codes follow one rule: 0 when the command did what it says; 1 when it could not — an
error, or a no-op (cancelling a completed job, retrying an executing one, a selection that
matches nothing), each with one line saying why. ``--if-possible`` turns a no-op into 0.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bridge.cli import add_dsn, confirm
from bridge.cli._common import (
    add_schema_version,
    add_yes,
    client,
    job_detail,
    job_json,
    job_table,
    printable,
)
from bridge.errors import ConfigError
from bridge.names import STATES
from bridge.pg.client import Client
from bridge.wire.query import UNTOUCHED

#: action → (past tense, why a job in an untouched state is left alone)
ACTIONS = {
    "cancel": ("cancelled", "only jobs that are not completed, cancelled or discarded can be"),
    "retry": ("retried", "available and executing jobs are not retried"),
    "delete": ("deleted", "an executing job is never deleted"),
}
HELP = {
    "cancel": "cancel jobs that are not final (an executing job is also killed, as by Oban)",
    "retry": "make jobs available again (not available or executing ones), keeping their errors",
    "delete": "delete jobs that are not executing",
}


def _add_filters(parser: argparse.ArgumentParser, *, nested: bool) -> None:
    default = argparse.SUPPRESS if nested else None
    parser.add_argument(
        "--state",
        action="append",
        choices=STATES,
        default=default,
        metavar="STATE",
        help=f"only jobs in this state; repeat for several ({', '.join(STATES)})",
    )
    parser.add_argument("--queue", default=default, help="only jobs of this queue")
    parser.add_argument("--worker", default=default, help="only jobs of this worker")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "jobs",
        help="list, show or manage jobs",
        description="List the newest jobs (optionally filtered), show one, or cancel, retry "
        "or delete one job or every job a filter selects.",
    )
    _add_filters(parser, nested=False)
    parser.add_argument(
        "--limit", type=int, default=50, help="list at most this many jobs (default: 50)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON row per line")
    add_dsn(parser)
    add_schema_version(parser)
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    show = actions.add_parser(
        "show",
        help="every column of one job, its errors and its recorded output decoded",
        description="Show every column of one job, its errors as Elixir wrote them, and its "
        "recorded output decoded (in Elixir syntax).",
    )
    show.add_argument("id", type=int, help="the job id")
    _add_common(show)
    show.set_defaults(func=run_show)
    for name, text in HELP.items():
        action = actions.add_parser(
            name,
            help=text,
            description=f"{text[0].upper()}{text[1:]}: one job by id, or every job selected by "
            "--queue, --worker and --state (counted and confirmed first).",
        )
        action.add_argument("id", type=int, nargs="?", help="the job id (or use the filters)")
        _add_filters(action, nested=True)
        add_yes(action)
        action.add_argument(
            "--if-possible",
            action="store_true",
            help="exit 0 when there is nothing to do (by default a no-op exits 1)",
        )
        _add_common(action)
        action.set_defaults(func=run_action)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the row as JSON"
    )
    add_dsn(parser, nested=True)
    add_schema_version(parser, nested=True)


def _criteria(args: argparse.Namespace) -> dict[str, Any]:
    names = ("state", "queue", "worker")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _plural(count: int) -> str:
    return f"{count:,} job" if count == 1 else f"{count:,} jobs"


def run_list(args: argparse.Namespace) -> int:
    criteria = _criteria(args)
    with client(args) as c:
        jobs = c.list_jobs(limit=args.limit, **criteria)
        total = c.count_jobs(**criteria) if len(jobs) == args.limit else len(jobs)
    if args.json:
        for job in jobs:
            print(job_json(job))
    elif jobs:
        print(job_table(jobs))
    else:
        print("no jobs")
    if total > len(jobs):
        note = f"… {len(jobs):,} of {total:,} shown (--limit N shows more)"
        print(note, file=sys.stderr if args.json else sys.stdout)
    return 0


def run_show(args: argparse.Namespace) -> int:
    with client(args) as c:
        job = c.get_job(args.id)
    print(job_json(job) if getattr(args, "json", False) else job_detail(job))
    return 0


def _no_op(reason: str, args: argparse.Namespace) -> int:
    print(f"oban-bridge: {reason}", file=sys.stderr)
    return 0 if args.if_possible else 1


def run_action(args: argparse.Namespace) -> int:
    criteria = _criteria(args)
    if args.id is not None and criteria:
        raise ConfigError(f"jobs {args.action}: give a job id or filters, not both")
    if args.id is None and not criteria:
        raise ConfigError(
            f"jobs {args.action}: give a job id, or select jobs with --queue, --worker or --state"
        )
    with client(args) as c:
        if args.id is not None:
            return _one(c, args)
        return _many(c, args, criteria)


def _one(c: Client, args: argparse.Namespace) -> int:
    done, why = ACTIONS[args.action]
    changed = getattr(c, f"{args.action}_all_jobs")(ids=[args.id])
    if changed and args.action == "delete":
        print(f"job {args.id}: deleted")
        return 0
    job = c.get_job(args.id)  # JobNotFound (exit 1) when there is no such job
    if changed or getattr(args, "json", False):
        print(job_json(job) if getattr(args, "json", False) else f"job {job.id}: {job.state.value}")
    if changed:
        return 0
    return _no_op(f"job {job.id} is {job.state.value}: not {done} ({why})", args)


def _selection(criteria: dict[str, Any]) -> str:
    parts = [f"{name} {printable(value)}" for name, value in criteria.items() if name != "state"]
    if criteria.get("state"):
        parts.append("state " + " or ".join(criteria["state"]))
    return ", ".join(parts)


def _many(c: Client, args: argparse.Namespace, criteria: dict[str, Any]) -> int:
    done, why = ACTIONS[args.action]
    wanted = criteria.get("state") or STATES
    reachable = [s for s in wanted if s not in UNTOUCHED[args.action]]
    count = c.count_jobs(**{**criteria, "state": reachable}) if reachable else 0
    what = _selection(criteria)
    if not count:
        return _no_op(f"no job ({what}) can be {done} ({why})", args)
    if not confirm(f"{args.action.capitalize()} {_plural(count)} ({what})?", yes=args.yes):
        return 1
    changed = getattr(c, f"{args.action}_all_jobs")(**criteria)
    print(f"{done} {_plural(changed)}")
    return 0
