"""The ``oban-bridge`` command line: parse, call the public API, return an exit code.

Each sub-command lives in its own module exposing ``register(subparsers)``; the
parser it adds sets ``func=run`` where ``run(args) -> int``. A ``BridgeError``
(or a usage error) becomes one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from bridge.errors import BridgeError, ConfigError
from bridge.pg.connect import redact, secrets_of

#: sub-command modules, in help order
COMMANDS = (
    "migrate",
    "enqueue",
    "jobs",
    "signals",
    "status",
    "doctor",
    "work",
    "etf",
    "demo",
    "conformance",
)

DESCRIPTION = (
    "Share one PostgreSQL database with Elixir Oban: create its tables, enqueue jobs for "
    "Elixir or Python workers, inspect and manage jobs, run Python workers."
)
EPILOG = (
    "The database comes from --dsn or $DATABASE_URL. "
    "Run oban-bridge COMMAND -h for a command's options."
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"oban-bridge: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from bridge import __version__

    parser = _Parser(prog="oban-bridge", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument(
        "--version", action="version", version=f"oban-bridge {__version__}", help="show the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bridge.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bridge.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def add_dsn(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """Add the common --dsn / --prefix options.

    ``nested`` parsers (``jobs cancel``) suppress their defaults so that values
    given before the nested command are not overwritten by them.
    """
    dsn_default = argparse.SUPPRESS if nested else os.environ.get("DATABASE_URL")
    prefix_default = argparse.SUPPRESS if nested else "public"
    parser.add_argument(
        "--dsn", default=dsn_default, help="PostgreSQL connection string (default: $DATABASE_URL)"
    )
    parser.add_argument(
        "--prefix", default=prefix_default, help="Oban schema prefix (default: public)"
    )


def require_dsn(dsn: str | None) -> str:
    if not dsn:
        raise BridgeError("no database given: pass --dsn or set DATABASE_URL")
    return dsn


def confirm(question: str, *, yes: bool) -> bool:
    """``--yes``, or the user's answer on a terminal; without either, refuse (exit 1)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError(f"{question} Not done: pass --yes to confirm (no terminal to ask on)")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer in ("y", "yes"):
        return True
    print("nothing done", file=sys.stderr)
    return False


def mask_logs(*dsns: str | None) -> None:
    """Mask the passwords of ``dsns`` in every log record this process makes from now on."""
    if not any(secrets_of(dsn) for dsn in dsns):
        return
    make = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        text = record.getMessage()
        safe = redact(text, *dsns)
        if safe != text:
            record.msg, record.args = safe, None
        return record

    logging.setLogRecordFactory(masked)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    dsns = (getattr(args, "dsn", None), os.environ.get("DATABASE_URL"))
    mask_logs(*dsns)
    try:
        return int(args.func(args))
    except BridgeError as exc:
        # the last guard: no password reaches the terminal, whatever the message
        print(f"oban-bridge: error: {redact(str(exc), *dsns)}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
