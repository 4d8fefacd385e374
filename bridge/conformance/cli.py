"""``oban-bridge conformance`` (also ``python -m conformance``): run, replay or record."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridge.conformance import report
from bridge.conformance.harness import Harness, HarnessError, compile_harness
from bridge.conformance.runner import (
    VECTORS,
    Database,
    Outcome,
    load_recording,
    run_scenario,
    skip_reason,
    write_recording,
)
from bridge.conformance.scenario import Scenario, load_all
from bridge.errors import BridgeError
from bridge.pg.connect import parse_dsn, redact

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "record"],
        default="run",
        help="run the suite (default) or record live vectors",
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL", DEFAULT_DSN),
        help="a PostgreSQL the suite may create throw-away databases on (default: "
        "$DATABASE_URL or postgres@127.0.0.1:5432)",
    )
    parser.add_argument(
        "--harness",
        type=Path,
        default=os.environ.get("OBAN_BRIDGE_HARNESS"),
        help="the Elixir harness (conformance/elixir) with Oban available "
        "(default: $OBAN_BRIDGE_HARNESS)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="replay the recorded vectors instead of running Elixir",
    )
    parser.add_argument(
        "--vectors", type=Path, default=VECTORS, help="recorded vectors (offline input)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="record: where to write the vectors (default: conformance/vectors/oban-<version>)",
    )
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "-k", dest="pattern", metavar="PATTERN", help="only scenarios whose id contains PATTERN"
    )
    parser.add_argument(
        "--allow-skips",
        action="store_true",
        help="exit 0 even when a live run skipped every scenario (no harness given)",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every scenario that ran passed; 1 on a failure, a harness that could not
    start, or a live run that skipped everything (a green build that tested nothing) unless
    ``--allow-skips``; 2 when no scenario matches ``-k``."""
    scenarios = load_all(pattern=args.pattern)
    if not scenarios:
        print(f"no scenario matches {args.pattern!r}", file=sys.stderr)
        return 2
    try:
        parse_dsn(args.dsn)  # a malformed DSN: one line, its password masked
    except BridgeError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return 1
    if args.offline:
        outcomes = _offline(scenarios, args)
    elif args.harness is None:
        reason = "no Elixir harness given (--harness DIR or $OBAN_BRIDGE_HARNESS)"
        print(f"live suite skipped: {reason}")
        outcomes = [Outcome(s.id, "-", "skipped", 0.0, reason) for s in scenarios]
    else:
        outcomes = _live(scenarios, args)
    _report(outcomes, args)
    if any(o.status in ("failed", "error") for o in outcomes):
        return 1
    if not args.offline and all(o.status == "skipped" for o in outcomes):
        if args.allow_skips:
            return 0
        print(
            "conformance: error: the live run skipped every scenario, so nothing was tested "
            "(pass --allow-skips to accept that, or --offline to replay recorded vectors)",
            file=sys.stderr,
        )
        return 1
    return 0


def _report(outcomes: Sequence[Outcome], args: argparse.Namespace) -> None:
    print()
    print(report.table(outcomes))
    text = report.details(outcomes)
    if text:
        print("\n" + text)
    print("\n" + report.summary(outcomes))
    if args.junit:
        report.write_junit(args.junit, outcomes)
    if args.json:
        report.write_json(args.json, outcomes)


def _progress(outcome: Outcome) -> None:
    mark = report.MARKS[outcome.status]
    print(
        f"{mark:5} {outcome.scenario}  (Oban {outcome.oban_version}, {outcome.mode}, "
        f"{outcome.seconds:.2f} s)",
        flush=True,
    )


def _offline(scenarios: Sequence[Scenario], args: argparse.Namespace) -> list[Outcome]:
    outcomes = []
    versions = sorted(p for p in args.vectors.glob("oban-*") if p.is_dir())
    if not versions:
        print(f"no recorded vectors under {args.vectors}", file=sys.stderr)
    for version_dir in versions:
        version = version_dir.name.removeprefix("oban-")
        print(f"offline replay of Oban {version} vectors ({version_dir})")
        for scenario in scenarios:
            recording = load_recording(version_dir, scenario.id)
            reason = skip_reason(scenario, version)
            if reason is not None:
                outcome = Outcome(scenario.id, version, "skipped", 0.0, reason, mode="offline")
            elif recording is None:
                outcome = Outcome(
                    scenario.id,
                    version,
                    "skipped",
                    0.0,
                    "no recording for this scenario and version",
                    mode="offline",
                )
            else:
                outcome = run_scenario(
                    scenario, admin_dsn=args.dsn, oban_version=version, recording=recording
                )
            _progress(outcome)
            outcomes.append(outcome)
    return outcomes


def _live(scenarios: Sequence[Scenario], args: argparse.Namespace) -> list[Outcome]:
    directory: Path = args.harness.resolve()
    try:
        compile_harness(directory)
        versions = _probe(directory, args.dsn)
    except (HarnessError, OSError) as exc:
        # an error, never a skip: CI must not go green on a harness that did not build
        text = redact(str(exc), args.dsn)
        if isinstance(exc, OSError):
            text = f"cannot run mix in {directory}: {exc.strerror or exc} (is Elixir on PATH?)"
        print(f"conformance: error: the harness could not start: {text}", file=sys.stderr)
        message = f"the harness could not start: {text.splitlines()[0]}"
        return [Outcome(s.id, "-", "error", 0.0, message) for s in scenarios]
    version = versions["oban_version"]
    print(f"live against Oban {version} (Elixir {versions['elixir']}, OTP {versions['otp']})")

    def factory(dsn: str) -> Harness:
        return Harness(directory, dsn)

    outcomes = []
    for scenario in scenarios:
        outcome = run_scenario(
            scenario, admin_dsn=args.dsn, oban_version=version, harness_factory=factory
        )
        _progress(outcome)
        outcomes.append(outcome)
        if args.action == "record" and outcome.status == "passed":
            write_recording(args.out or VECTORS / f"oban-{version}", outcome, versions)
    return outcomes


def _probe(directory: Path, admin_dsn: str) -> dict[str, Any]:
    """Start the harness once on a scratch database to learn its Oban version."""
    db = Database(admin_dsn)
    try:
        with Harness(directory, db.dsn) as harness:
            return {
                "oban_version": harness.oban_version,
                "elixir": harness.elixir_version,
                "otp": harness.otp_version,
            }
    finally:
        db.drop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
