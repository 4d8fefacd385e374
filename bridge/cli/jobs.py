"""``oban-bridge jobs``: list jobs, or cancel / retry / delete one by id."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli import add_dsn
from bridge.cli._common import add_schema_version, client, job_json, job_table
from bridge.wire.names import JobState


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("jobs", help="list or manage jobs")
    parser.add_argument("--state", choices=[s.value for s in JobState])
    parser.add_argument("--queue")
    parser.add_argument("--worker")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="one JSON row per line")
    add_dsn(parser)
    add_schema_version(parser)
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    for name, func, text in (
        ("cancel", run_cancel, "cancel a job (an executing one is also killed via pkill)"),
        ("retry", run_retry, "make a job available again"),
        ("delete", run_delete, "delete a job that is not executing"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        add_dsn(action, nested=True)
        add_schema_version(action, nested=True)
        action.set_defaults(func=func)


def run_list(args: argparse.Namespace) -> int:
    with client(args) as c:
        jobs = c.list_jobs(state=args.state, queue=args.queue, worker=args.worker, limit=args.limit)
    if args.json:
        for job in jobs:
            print(job_json(job))
    elif jobs:
        print(job_table(jobs))
    else:
        print("no jobs")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    with client(args) as c:
        job = c.cancel_job(args.id)
    print(job_json(job) if args.json else f"job {job.id}: {job.state.value}")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    with client(args) as c:
        job = c.retry_job(args.id)
    print(job_json(job) if args.json else f"job {job.id}: {job.state.value}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    with client(args) as c:
        deleted = c.delete_job(args.id)
    if not deleted:
        print(f"job {args.id} is executing and was not deleted")
        return 1
    print(f"job {args.id}: deleted")
    return 0
