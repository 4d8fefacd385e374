"""Helpers shared by the sub-commands: JSON arguments, job rendering, the client."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bridge.cli import require_dsn
from bridge.errors import ConfigError, RecordedMissing, WireError
from bridge.names import SCHEMA_VERSIONS
from bridge.pg.client import Client
from bridge.wire.elixir import inspect
from bridge.wire.job import Job, utc_naive
from bridge.wire.recorded import fetch_recorded


def read_text(value: str, option: str) -> str:
    """An option's value as given, ``@FILE``'s contents, or stdin's for ``-``."""
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ConfigError(f"{option}: cannot read {str(path)!r}: {reason}") from None
    return value


def json_object(text: str, option: str) -> dict[str, Any]:
    """Parse a ``--args`` / ``--meta`` value (JSON, ``@FILE`` or ``-``); only an object is
    accepted."""
    try:
        value = json.loads(read_text(text, option))
    except ValueError as exc:
        raise ConfigError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option} must be a JSON object, got {type(value).__name__}")
    return value


def add_schema_version(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    parser.add_argument(
        "--schema-version",
        type=int,
        choices=SCHEMA_VERSIONS,
        default=argparse.SUPPRESS if nested else 14,
        help="the migration version the cluster runs at: 12 while any Elixir node runs "
        "Oban ≤ 2.19 (default: 14)",
    )


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do it without asking (needed when there is no terminal to ask on)",
    )


def client(args: argparse.Namespace) -> Client:
    version = getattr(args, "schema_version", 14)
    return Client(require_dsn(args.dsn), prefix=args.prefix, schema_version=version)


# -- output -------------------------------------------------------------------------------

_BEYOND_ASCII = re.compile(r"[^ -~]")  # plain printable ASCII needs no closer look


def _escaped(ch: str) -> str:
    return ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters, ANSI escapes and invisible format
    characters (in a worker or queue name, say) shown as ``\\n``, ``\\x1b``, ``\\u202e``."""
    if not _BEYOND_ASCII.search(text):
        return text
    return "".join(map(_escaped, text))


def _json_escaped(match: re.Match[str]) -> str:
    ch = match.group(0)
    return ch if ch.isprintable() else json.dumps(ch)[1:-1]  # \uXXXX (a pair past the BMP)


def job_json(job: Job) -> str:
    """One JSON line; whatever a terminal could act on is \\u-escaped (the same JSON value)."""
    data = job.to_dict()
    data["conflict?"] = job.conflict
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return _BEYOND_ASCII.sub(_json_escaped, text)


def utc_text(value: datetime | None, timespec: str = "seconds") -> str:
    return "" if value is None else utc_naive(value).isoformat(sep=" ", timespec=timespec)


def _cell(value: Any, width: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = printable(text)
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
            utc_text(job.scheduled_at),
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


_TIMES = ("inserted_at", "scheduled_at", "attempted_at", "completed_at", "discarded_at")


def job_detail(job: Job) -> str:
    """Every column of one job, its errors as Elixir wrote them, its recorded output decoded."""
    lines = [f"{'id':<13} {job.id}", f"{'state':<13} {job.state.value}"]
    for name in ("queue", "worker"):
        lines.append(f"{name:<13} {printable(getattr(job, name))}")
    lines.append(f"{'attempt':<13} {job.attempt} of {job.max_attempts}")
    lines.append(f"{'priority':<13} {job.priority}")
    for name in (*_TIMES, "cancelled_at"):
        value = getattr(job, name)
        if value is not None:
            lines.append(f"{name:<13} {utc_text(value, 'microseconds')} UTC")
    if job.attempted_by:
        lines.append(f"{'attempted_by':<13} {printable(', '.join(job.attempted_by))}")
    lines.append(f"{'tags':<13} {printable(', '.join(job.tags)) or 'none'}")
    lines.append(f"{'args':<13} {printable(json.dumps(job.args, ensure_ascii=False))}")
    meta = {k: v for k, v in job.meta.items() if k != "return"}
    lines.append(f"{'meta':<13} {printable(json.dumps(meta, ensure_ascii=False))}")
    lines.extend(_recorded(job))
    lines.extend(_errors(job))
    return "\n".join(lines)


def _recorded(job: Job) -> list[str]:
    try:
        value = fetch_recorded(job)
    except RecordedMissing:
        return []
    except WireError as exc:
        return [f"{'recorded':<13} (cannot be decoded: {printable(str(exc))})"]
    return [f"{'recorded':<13} {printable(inspect(value))}"]


def _errors(job: Job) -> list[str]:
    if not job.errors:
        return [f"{'errors':<13} none"]
    lines = [f"errors ({len(job.errors)}):"]
    for error in job.errors:
        lines.append(f"  attempt {error.get('attempt')} at {printable(str(error.get('at')))}:")
        text = str(error.get("error", "")).rstrip("\n")
        lines.extend(f"    {printable(line)}" for line in text.split("\n"))
    return lines
