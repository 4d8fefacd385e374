"""``oban-bridge migrate``: move an Oban schema to a migration version, or ``--check`` it.

Runs the same V01–V14 steps as Elixir's ``Oban.Migration`` in one transaction and records
the version as the table comment, so Elixir nodes adopt the result as their own.
"""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from bridge.cli import add_dsn, confirm, require_dsn
from bridge.cli._common import add_yes
from bridge.ops.jobs import count_jobs
from bridge.ops.schema import CURRENT_VERSION, check_target, migrated_version, validate_prefix
from bridge.pg.connect import connect
from bridge.pg.migrations import check_schema, migrate
from bridge.pg.source import Source
from bridge.wire.query import JobFilter


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="create or upgrade the Oban tables (V01–V14), or check their version",
        description="Move an Oban schema to a migration version (V01–V14), or check it.",
    )
    add_dsn(parser)
    parser.add_argument(
        "--version",
        type=int,
        default=CURRENT_VERSION,
        metavar="N",
        help=f"migration version to end at, 0–{CURRENT_VERSION} (default: {CURRENT_VERSION}); "
        "lower than the current one migrates down (asks first, or --yes), 0 drops the Oban "
        "tables and their jobs",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only report the current version and known schema variants; "
        "exit 0 only when the schema is at --version",
    )
    add_yes(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prefix = validate_prefix(args.prefix)
    dsn = require_dsn(args.dsn)
    with connect(dsn, autocommit=True) as conn:
        if args.check:
            report = check_schema(conn, version=args.version, prefix=prefix)
            print("\n".join(report.describe()))
            return 0 if report.ok else 1
        target = check_target(args.version)
        # going down loses data (every job, at 0): never without the user's yes
        question = _down_question(conn, prefix, target)
        if question is not None and not confirm(question, yes=args.yes):
            return 1
        # all steps or none, as Oban's Ecto migration
        result = migrate(conn, version=target, prefix=prefix)
    print(result.describe())
    return 0


def _down_question(conn: psycopg.Connection[Any], prefix: str, target: int) -> str | None:
    source = Source(conn, prefix=prefix, schema_version=None)
    current = source.run(migrated_version(prefix))
    if current is None or target >= current:
        return None
    jobs = source.run(count_jobs(prefix, JobFilter()))
    held = f"{jobs:,} job" if jobs == 1 else f"{jobs:,} jobs"
    if target == 0:
        return f"Migrate {prefix} down from {current} to 0, dropping oban_jobs and its {held}?"
    return (
        f"Migrate {prefix} down from {current} to {target}, undoing V{target + 1:02d}–"
        f"V{current:02d} on an oban_jobs holding {held}?"
    )
