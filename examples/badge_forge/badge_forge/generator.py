"""The Python worker Elixir enqueues for: ``badge_forge.generator.GenerateBadge``.

Elixir inserts ``Oban.Job.new(%{badge_id: 7, name: "…", role: "…"},
worker: "badge_forge.generator.GenerateBadge", queue: :badges)``. A Python node serving the
``badges`` queue runs :class:`GenerateBadge`: it renders the badge as an SVG file (stdlib
only, byte-for-byte deterministic for the same args), enqueues ``BadgeForge.PrintWorker`` —
an Elixir worker — with the file's path, content and SHA-256, and completes with
``Record({...})``, so that Elixir (and ``client.wait``) can read the print job's id back.

Where the files go and which database to enqueue into: :func:`configure`, or the
environment (``BADGE_FORGE_OUT``, ``DATABASE_URL``) when the module is imported by
``oban-bridge work --queues badges=2 --import badge_forge.generator``.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bridge import Client, Job, Record, worker

PRINT_WORKER = "BadgeForge.PrintWorker"
PRINT_QUEUE = "print"

_settings: dict[str, Any] = {}


def configure(out_dir: str | os.PathLike[str], client: Client) -> None:
    """Render badges into ``out_dir`` and enqueue print jobs with ``client``."""
    _settings["out_dir"] = Path(out_dir)
    _settings["client"] = client


def _out_dir() -> Path:
    if "out_dir" not in _settings:
        _settings["out_dir"] = Path(os.environ.get("BADGE_FORGE_OUT", "badges"))
    path: Path = _settings["out_dir"]
    path.mkdir(parents=True, exist_ok=True)
    return path


def _client() -> Client:
    if "client" not in _settings:
        dsn = os.environ.get("DATABASE_URL")
        if not dsn:
            raise RuntimeError("badge_forge.generator: call configure(...) or set DATABASE_URL")
        _settings["client"] = Client(dsn)
    client: Client = _settings["client"]
    return client


def render_svg(badge_id: int, name: str, role: str) -> bytes:
    """The badge: a card with the name, the role and the badge number. Same args, same bytes."""
    hue = (badge_id * 47) % 360
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="340" height="200" viewBox="0 0 340 200">\n'
        f'  <rect x="4" y="4" width="332" height="192" rx="16" fill="hsl({hue}, 60%, 92%)"'
        f' stroke="hsl({hue}, 60%, 35%)" stroke-width="4"/>\n'
        f'  <text x="24" y="48" font-family="sans-serif" font-size="14"'
        f' fill="hsl({hue}, 60%, 35%)">BADGE FORGE · #{badge_id:04d}</text>\n'
        f'  <text x="24" y="112" font-family="sans-serif" font-size="28"'
        f' font-weight="bold">{escape(name)}</text>\n'
        f'  <text x="24" y="148" font-family="sans-serif" font-size="18">{escape(role)}</text>\n'
        "</svg>\n"
    ).encode()


def _file_name(badge_id: int, name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "badge"
    return f"badge-{badge_id:04d}-{slug}.svg"


@worker("badge_forge.generator.GenerateBadge", queue="badges", max_attempts=5, timeout=30)
class GenerateBadge:
    """Render one badge and hand it to Elixir for printing."""

    def process(self, job: Job) -> Record:
        badge_id = int(job.args["badge_id"])
        name = str(job.args["name"])
        role = str(job.args.get("role", ""))
        svg = render_svg(badge_id, name, role)
        path = _out_dir() / _file_name(badge_id, name)
        path.write_bytes(svg)
        sha256 = hashlib.sha256(svg).hexdigest()
        # Unique on the badge and its content: a retried attempt finds the print job it
        # already enqueued instead of printing the badge twice.
        print_job = _client().enqueue(
            PRINT_WORKER,
            {
                "badge_id": badge_id,
                "name": name,
                "path": str(path.resolve()),
                "svg": svg.decode(),
                "sha256": sha256,
            },
            queue=PRINT_QUEUE,
            unique={"period": "infinity", "keys": ["badge_id", "sha256"]},
        )
        # Recorded as ETF in meta.return: Elixir reads it with binary_to_term(…, [:safe]).
        return Record(
            {
                "badge_id": badge_id,
                "path": str(path.resolve()),
                "bytes": len(svg),
                "sha256": sha256,
                "print_job_id": print_job.id,
            }
        )
