"""``oban-bridge conformance``: the conformance suite (see conformance/README.md)."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.errors import ConfigError


def register(sub: Any) -> None:
    from bridge.conformance.cli import add_arguments

    parser: argparse.ArgumentParser = sub.add_parser(
        "conformance",
        help="prove compatibility against a live Elixir Oban, or replay recorded vectors",
        description="Run the conformance scenarios against a live Elixir Oban (the harness in "
        "conformance/elixir), or replay the vectors recorded from one (--offline). Exits "
        "non-zero when a scenario fails, the harness cannot start, or a live run ran nothing.",
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
    from bridge.conformance.cli import run as run_suite

    return run_suite(args)
