"""``oban-bridge work``: run a node that executes jobs for the imported workers."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from typing import Any

from bridge.cli import add_dsn, mask_logs, require_dsn
from bridge.errors import ConfigError
from bridge.names import SCHEMA_VERSIONS


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "work",
        help="run Python workers for jobs in the given queues (Elixir-enqueued or not)",
        description="Run a node: fetch jobs of the given queues for the workers registered "
        "by the imported modules, run them, and write the rows an Elixir node would.",
    )
    parser.add_argument(
        "--queues",
        required=True,
        metavar="Q=N,…",
        help="queues and their concurrency limits, e.g. badges=10,printing=5",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="module that defines @worker functions (repeatable)",
    )
    parser.add_argument("--node", help="node name (default: hostname.pid); no whitespace")
    parser.add_argument(
        "--peer-name",
        default="Bridge",
        help="leader election name (default: Bridge). 'Oban' joins the Elixir nodes' election: "
        "a Python leader then stages jobs for everyone and Elixir's leader-only plugins "
        "(cron, pruner) pause while it leads",
    )
    parser.add_argument(
        "--snooze",
        choices=("max_attempts", "attempt"),
        default="max_attempts",
        help="snooze bookkeeping: max_attempts+1 (Oban 2.18–2.23, default) or attempt-1 with "
        "meta.snoozed (Oban main)",
    )
    parser.add_argument("--grace", type=float, default=15.0, help="shutdown grace period, s")
    parser.add_argument("--prune", action="store_true", help="prune final jobs (leader only)")
    parser.add_argument(
        "--prune-max-age",
        type=int,
        default=60,
        metavar="SECONDS",
        help="with --prune: delete completed, cancelled and discarded jobs older than this",
    )
    parser.add_argument("--no-stage", action="store_true", help="do not stage scheduled jobs")
    parser.add_argument(
        "--durable-claims",
        action="store_true",
        help="make each claim wait for its WAL flush, as Elixir's do (slower pickup; "
        "only matters if PostgreSQL itself crashes)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="one line per job event: readable text (default) or one JSON object",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="info logs every job; warning logs only failures and problems",
    )
    parser.add_argument(
        "--schema-version",
        type=int,
        choices=SCHEMA_VERSIONS,
        default=14,
        help="the migration version the cluster runs at (12 for Oban ≤ 2.19; default 14)",
    )
    parser.add_argument(
        "--django-settings",
        default=os.environ.get("DJANGO_SETTINGS_MODULE"),
        metavar="MODULE",
        help="set Django up with these settings before importing the workers, and use its "
        "default database unless --dsn or $DATABASE_URL is given (default: "
        "$DJANGO_SETTINGS_MODULE)",
    )
    parser.add_argument(
        "--cron",
        action="append",
        default=[],
        metavar="'EXPR WORKER [OPTIONS_JSON]'",
        help="a crontab entry the leader inserts (repeatable): five fields or a nickname "
        "such as @daily, the worker name, and optionally a JSON object of job options "
        "(args, queue, priority, max_attempts, tags, meta, unique) and timezone",
    )
    parser.add_argument(
        "--cron-timezone",
        default="Etc/UTC",
        metavar="TZ",
        help="the timezone cron entries are evaluated in (default: Etc/UTC)",
    )
    add_dsn(parser)
    parser.set_defaults(func=run)


def parse_queues(text: str) -> dict[str, int]:
    queues: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, limit = part.partition("=")
        if not sep or not name or not limit.isdigit() or int(limit) < 1:
            raise ConfigError(f"--queues: expected NAME=LIMIT (LIMIT >= 1), got {part!r}")
        queues[name] = int(limit)
    if not queues:
        raise ConfigError("--queues: give at least one queue, e.g. --queues default=10")
    return queues


def parse_cron(text: str) -> tuple[str, str, dict[str, Any]]:
    """``"*/5 * * * * MyApp.Report {...}"`` → (expr, worker, options); a nickname is one word."""
    words = text.split()
    size = 1 if words and words[0].startswith("@") else 5
    if len(words) < size + 1:
        raise ConfigError(f"--cron: expected 'EXPR WORKER [OPTIONS_JSON]', got {text!r}")
    rest = text.strip()
    for _ in range(size + 1):
        rest = rest[len(rest.split(None, 1)[0]) :].lstrip()
    try:
        options = json.loads(rest) if rest else {}
    except ValueError as exc:
        raise ConfigError(f"--cron {text!r}: the options are not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise ConfigError(f"--cron {text!r}: the options must be a JSON object")
    return " ".join(words[:size]), words[size], options


def run(args: argparse.Namespace) -> int:
    from bridge.runtime.node import Node

    queues = parse_queues(args.queues)
    crontab = [parse_cron(text) for text in args.cron]
    sys.path.insert(0, "")
    dsn = args.dsn
    if args.django_settings:
        dsn = _django(args.django_settings, dsn)
    for module in args.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"--import {module}: {exc}") from None
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(message)s"
        if args.log_format == "json"
        else "%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    node = Node(
        require_dsn(dsn),
        queues=queues,
        node=args.node,
        prefix=args.prefix,
        schema_version=args.schema_version,
        peer_name=args.peer_name,
        snooze=args.snooze,
        grace_period=args.grace,
        stage=not args.no_stage,
        durable_claims=args.durable_claims,
        prune=args.prune,
        prune_max_age=args.prune_max_age,
        log_format=args.log_format,
        crontab=crontab,
        cron_timezone=args.cron_timezone,
    )
    node.run()
    return 0


def _django(settings: str, dsn: str | None) -> str:
    """``django.setup()`` before any worker module is imported, as manage.py would; the DSN."""
    try:
        from bridge.contrib import django
    except ImportError as exc:
        raise ConfigError(f"--django-settings {settings}: {exc}") from None
    django.setup(settings)
    if dsn:
        return dsn
    dsn = django.dsn()
    mask_logs(dsn)
    return dsn
