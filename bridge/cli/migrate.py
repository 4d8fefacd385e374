"""``oban-bridge migrate``: move an Oban schema to a migration version, or ``--check`` it.

Runs the same V01–V14 steps as Elixir's ``Oban.Migration`` in one transaction and records
the version as the table comment, so Elixir nodes adopt the result as their own.
"""

from __future__ import annotations

import argparse
from typing import Any

from bridge.cli import add_dsn, require_dsn
from bridge.ops.schema import CURRENT_VERSION, validate_prefix
from bridge.pg.connect import connect
from bridge.pg.migrations import check_schema, migrate


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
        "lower than the current one migrates down, 0 drops the Oban tables",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only report the current version and known schema variants; "
        "exit 0 only when the schema is at --version",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prefix = validate_prefix(args.prefix)
    dsn = require_dsn(args.dsn)
    with connect(dsn, autocommit=True) as conn:
        if args.check:
            report = check_schema(conn, version=args.version, prefix=prefix)
            print("\n".join(report.describe()))
            return 0 if report.ok else 1
        # all steps or none, as Oban's Ecto migration
        result = migrate(conn, version=args.version, prefix=prefix)
    print(result.describe())
    return 0
