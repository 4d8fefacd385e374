"""Helpers shared by the sub-commands: JSON arguments, job rendering, the client."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from bridge.cli import require_dsn
from bridge.errors import ConfigError
from bridge.pg.client import Client
from bridge.wire.job import Job


def json_object(text: str, option: str) -> dict[str, Any]:
    """Parse a ``--args`` / ``--meta`` value; anything but a JSON object is a usage error."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object, got {type(value).__name__}")
    return value


def add_schema_version(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    parser.add_argument(
        "--schema-version",
        type=int,
        choices=(12, 13, 14),
        default=argparse.SUPPRESS if nested else 14,
        help="the migration version the cluster runs at (12 for Oban ≤ 2.19; default 14)",
    )


def client(args: argparse.Namespace) -> Client:
    version = getattr(args, "schema_version", 14)
    return Client(require_dsn(args.dsn), prefix=args.prefix, schema_version=version)


def job_json(job: Job) -> str:
    data = job.to_dict()
    data["conflict?"] = job.conflict
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _cell(value: Any, width: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def job_table(jobs: Sequence[Job]) -> str:
    """A readable fixed-width table, one job per line."""
    header = ("ID", "STATE", "QUEUE", "WORKER", "ATTEMPT", "SCHEDULED_AT (UTC)", "ARGS")
    rows = [
        (
            str(job.id),
            job.state.value,
            _cell(job.queue, 20),
            _cell(job.worker, 36),
            f"{job.attempt}/{job.max_attempts}",
            job.scheduled_at.isoformat(sep=" ", timespec="seconds") if job.scheduled_at else "",
            _cell(job.args, 40),
        )
        for job in jobs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)
