"""The ``oban-bridge`` command line: parse, call the public API, return an exit code.

Each sub-command lives in its own module exposing ``register(subparsers)``; the
parser it adds sets ``func=run`` where ``run(args) -> int``. A ``BridgeError``
(or a usage error) becomes one line on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from bridge.errors import BridgeError

#: sub-command modules, in help order
COMMANDS = ("migrate", "enqueue", "jobs", "work", "etf", "demo", "conformance")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"oban-bridge: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="oban-bridge", description=__doc__.splitlines()[0] if __doc__ else None)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BridgeError as exc:
        print(f"oban-bridge: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
