"""``oban-bridge doctor``: check a live mixed cluster for interop hazards, each with its fix.

Exit 0: nothing wrong (information only); 1: warnings; 2: errors. The rules are
``bridge.wire.doctor``'s; this module gathers the facts and prints the findings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import Any

from bridge.cli import add_dsn, require_dsn
from bridge.cli._common import printable
from bridge.cli.status import WAIT
from bridge.pg.cluster import ClusterListener, gather_facts
from bridge.pg.source import Source
from bridge.wire.doctor import RESCUE_AFTER, Finding, diagnose, exit_code

MARK = {"error": "ERROR", "warning": "WARN ", "info": "ok   "}


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "doctor",
        help="check the cluster for Elixir/Python interop hazards, each with its fix",
        description="Check a live cluster for interop hazards (schema variants, leaders, the "
        "notifier, queues shared across languages, rows Elixir cannot run) and print each "
        "with its fix. Exit 0: all well; 1: warnings; 2: errors.",
    )
    add_dsn(parser)
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT,
        metavar="SECONDS",
        help=f"how long to listen to sonar and gossip (default: {WAIT:g}; Oban ≤ 2.20 nodes "
        "ping every 5 s, so a window over 5 s hears every one of them)",
    )
    parser.add_argument(
        "--rescue-after",
        type=float,
        default=RESCUE_AFTER,
        metavar="SECONDS",
        help="the cluster's Lifeline rescue_after: executing jobs older than this are "
        f"reported (default: {RESCUE_AFTER:g}, Lifeline's default)",
    )
    parser.add_argument(
        "--compress-signals",
        action="store_true",
        help="the Python senders run with compress_signals=True ('Z:' payloads over 512 "
        "bytes): an error when any Oban ≤ 2.20 node is heard",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dsn = require_dsn(args.dsn)
    with (
        Source(dsn, prefix=args.prefix, schema_version=None) as source,
        ClusterListener(dsn, source.prefix) as listener,
    ):
        facts = gather_facts(
            source,
            listener,
            window=max(args.wait, 0.0),
            rescue_after=args.rescue_after,
            compress_signals=args.compress_signals,
        )
    findings = diagnose(facts)
    code = exit_code(findings)
    if args.json:
        data = {"exit": code, "findings": [f.to_dict() for f in findings]}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        width = min(shutil.get_terminal_size((100, 24)).columns, 100)
        print("\n".join(report(findings, code, width)))
    sys.stdout.flush()
    return code


def report(findings: list[Finding], code: int, width: int = 100) -> list[str]:
    """One block per finding: ``ERROR code: why`` then ``fix: …``, wrapped to ``width``."""
    lines: list[str] = []
    wrap = textwrap.TextWrapper(
        width=max(width, 60),
        subsequent_indent=" " * 6,
        break_long_words=False,
        break_on_hyphens=False,
    )
    for f in findings:
        lines += wrap.wrap(f"{MARK[f.severity]} {f.code}: {printable(f.message)}")
        if f.fix:
            lines += wrap.wrap(f"      fix: {printable(f.fix)}")
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    verdict = {0: "all well", 1: "warnings", 2: "errors"}[code]
    lines.append(f"{errors} error(s), {warnings} warning(s): {verdict} (exit {code})")
    return lines
