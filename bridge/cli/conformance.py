"""``oban-bridge conformance``: the conformance suite (see conformance/README.md)."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.errors import ConfigError


def register(sub: Any) -> None:
    from conformance.cli import add_arguments

    parser: argparse.ArgumentParser = sub.add_parser(
        "conformance",
        help="prove compatibility against a live Elixir Oban, or replay recorded vectors",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import jsonschema  # type: ignore[import-untyped]  # noqa: F401 (validates rows, payloads)
    except ImportError:
        raise ConfigError(
            "the conformance suite needs jsonschema: pip install 'oban-bridge[conformance]'"
        ) from None
    from conformance.cli import run as run_suite

    return run_suite(args)
